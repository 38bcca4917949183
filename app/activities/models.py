import uuid

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, TimestampMixin, new_id


class Activity(TimestampMixin, Base):
    """A learning activity: an LTI resource link or a district system's activity.

    `source` is the platform issuer for an LTI resource link (with `external_id`
    its resource link id) or the name of the district system that sends it.
    """

    __tablename__ = "activities"
    __table_args__ = (UniqueConstraint("organization_id", "source", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    context_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contexts.id", ondelete="SET NULL"), index=True
    )
    platform_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("platforms.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(32), default="external")
    source: Mapped[str] = mapped_column(String(512))
    external_id: Mapped[str] = mapped_column(String(512))
    title: Mapped[str | None] = mapped_column(String(1024))
    description: Mapped[str | None] = mapped_column(Text)


class Alignment(TimestampMixin, Base):
    """A statement that completing an activity is evidence of a competency."""

    __tablename__ = "alignments"
    __table_args__ = (UniqueConstraint("activity_id", "competency_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    competency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("competencies.id", ondelete="CASCADE"), index=True
    )
    created_by_person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
