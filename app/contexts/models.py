import uuid

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, TimestampMixin, new_id


class Context(TimestampMixin, Base):
    """A course or section, identified by its source and the source's id for it.

    For an LMS the source is the platform issuer and the id the LTI context id.
    """

    __tablename__ = "contexts"
    __table_args__ = (UniqueConstraint("organization_id", "source", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    platform_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("platforms.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[str] = mapped_column(String(512))
    external_id: Mapped[str] = mapped_column(String(512))
    label: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(1024))
