import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import Base, TimestampMixin, new_id


class Framework(TimestampMixin, Base):
    """A CASE CFDocument and the package it came in.

    `identifier` keeps the provider's spelling; `identifier_key` is its
    case-folded form, used for every comparison.
    """

    __tablename__ = "frameworks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    identifier: Mapped[str] = mapped_column(String(512))
    identifier_key: Mapped[str] = mapped_column(String(512), index=True)
    uri: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text)
    creator: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(String(255))
    adoption_status: Mapped[str | None] = mapped_column(String(64))
    case_version: Mapped[str | None] = mapped_column(String(16))
    last_change_at: Mapped[datetime | None]
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    definitions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # `public` frameworks are served over CASE without a token; `private` ones
    # only to callers holding frameworks:read.
    visibility: Mapped[str] = mapped_column(String(16), default="public")

    competencies: Mapped[list["Competency"]] = relationship(
        back_populates="framework", cascade="all, delete-orphan"
    )


class Competency(TimestampMixin, Base):
    """A CASE CFItem: one standard, skill or other statement of a framework."""

    __tablename__ = "competencies"
    __table_args__ = (UniqueConstraint("framework_id", "identifier_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    framework_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE"), index=True
    )
    identifier: Mapped[str] = mapped_column(String(512))
    identifier_key: Mapped[str] = mapped_column(String(512), index=True)
    # uuid5(NAMESPACE_URL, identifier) for identifiers that are not UUIDs: the
    # name OpenSALT gives imported ASN standards, which crosswalks point at.
    alias_key: Mapped[str | None] = mapped_column(String(64), index=True)
    uri: Mapped[str | None] = mapped_column(String(2048))
    human_coding_scheme: Mapped[str | None] = mapped_column(String(255), index=True)
    full_statement: Mapped[str] = mapped_column(Text)
    abbreviated_statement: Mapped[str | None] = mapped_column(Text)
    item_type: Mapped[str | None] = mapped_column(String(255))
    education_levels: Mapped[list[str]] = mapped_column(JSON, default=list)
    list_position: Mapped[int] = mapped_column(Integer, default=0)
    last_change_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    item: Mapped[dict[str, Any]] = mapped_column(JSON)

    framework: Mapped[Framework] = relationship(back_populates="competencies")


class Association(TimestampMixin, Base):
    """A CASE CFAssociation, kept with both endpoints as given and as resolved.

    An endpoint resolves to a competency we hold, to the framework itself
    (an `isChildOf` whose destination is the CFDocument), or to nothing we
    hold (a crosswalk into a framework not imported yet).
    """

    __tablename__ = "associations"
    __table_args__ = (
        UniqueConstraint("framework_id", "identifier_key"),
        Index(
            "ix_associations_origin_type", "origin_competency_id", "association_type"
        ),
        Index(
            "ix_associations_destination_type",
            "destination_competency_id",
            "association_type",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    framework_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE"), index=True
    )
    identifier: Mapped[str] = mapped_column(String(512))
    identifier_key: Mapped[str] = mapped_column(String(512))
    association_type: Mapped[str] = mapped_column(String(64), index=True)
    sequence_number: Mapped[int | None]
    origin_identifier: Mapped[str] = mapped_column(String(512))
    origin_uri: Mapped[str | None] = mapped_column(String(2048))
    origin_competency_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("competencies.id", ondelete="SET NULL")
    )
    destination_identifier: Mapped[str] = mapped_column(String(512))
    destination_uri: Mapped[str | None] = mapped_column(String(2048))
    destination_competency_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("competencies.id", ondelete="SET NULL")
    )
    destination_is_document: Mapped[bool] = mapped_column(default=False)
    association: Mapped[dict[str, Any]] = mapped_column(JSON)
