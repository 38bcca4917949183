"""What launches told us about an LMS's Advantage services, and what we did with them.

A launch carries the NRPS claim of its context and the AGS claim of its
resource link; the URLs and granted scopes are kept here so that roster and
grade syncs can run later without a launch in hand.
"""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, TimestampMixin, new_id


class MembershipService(TimestampMixin, Base):
    """A context's NRPS endpoint; the claim's presence is the grant to read it."""

    __tablename__ = "lms_membership_services"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    context_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contexts.id", ondelete="CASCADE"), unique=True
    )
    platform_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("platforms.id", ondelete="CASCADE"), index=True
    )
    context_memberships_url: Mapped[str] = mapped_column(String(1024))
    last_synced_at: Mapped[datetime | None]


class LineItemLink(TimestampMixin, Base):
    """An activity's AGS endpoint: its gradebook column and the scopes granted.

    `gone_at` is set when the LMS answered 404 for the line item (someone
    deleted the column); nothing is posted to it or read from it after that.
    """

    __tablename__ = "lms_line_items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), unique=True
    )
    platform_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("platforms.id", ondelete="CASCADE"), index=True
    )
    line_item_url: Mapped[str | None] = mapped_column(String(1024))
    line_items_url: Mapped[str | None] = mapped_column(String(1024))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    gone_at: Mapped[datetime | None]
    last_synced_at: Mapped[datetime | None]


class ContextMembership(TimestampMixin, Base):
    """A person's place in a context: roles as full LIS URIs, active or not.

    Members the LMS stops listing are marked inactive, never deleted, so their
    evidence keeps its context.
    """

    __tablename__ = "lms_memberships"
    __table_args__ = (UniqueConstraint("context_id", "person_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    context_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contexts.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="active")
    last_seen_at: Mapped[datetime]


class ScorePassback(TimestampMixin, Base):
    """One piece of evidence sent (or to be sent) to an LMS gradebook column.

    `status` is `pending`, `posted`, `already_stored` (the LMS holds this
    score or a later one), `line_item_gone` or `failed`; failed rows are
    tried again by `retry_failed_passbacks`.
    """

    __tablename__ = "lms_score_passbacks"
    __table_args__ = (UniqueConstraint("evidence_id", "line_item_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    evidence_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    line_item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("lms_line_items.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None]
