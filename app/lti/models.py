import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, new_id, utcnow


class UsedNonce(Base):
    """An id_token nonce already accepted; a second launch with it is a replay."""

    __tablename__ = "lti_used_nonces"
    __table_args__ = (UniqueConstraint("issuer", "nonce"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    issuer: Mapped[str] = mapped_column(String(512))
    nonce: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LaunchStateEntry(Base):
    """Server-side key/value storage for OIDC state, nonces and launch data."""

    __tablename__ = "lti_state_entries"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LaunchSession(Base):
    """What a completed launch established: who, in which course, on what activity.

    The pages shown inside the LMS carry the session id in their forms rather
    than relying on a third-party cookie.
    """

    __tablename__ = "lti_launch_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("platforms.id", ondelete="CASCADE")
    )
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE")
    )
    context_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contexts.id", ondelete="SET NULL")
    )
    activity_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE")
    )
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    message_type: Mapped[str] = mapped_column(String(64))
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
