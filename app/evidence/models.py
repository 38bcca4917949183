import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, new_id, utcnow


class Evidence(Base):
    """One completed attempt at an activity: who, what score of what maximum, when.

    The database enforces one row per `(organization_id, idempotency_key)`, so
    a repeated submission is stored once however it arrives. Evidence that
    came as an xAPI statement also keeps the statement id (unique per
    organization) and a hash of the statement, to tell a statement sent again
    from a different one reusing its id.
    """

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("organization_id", "idempotency_key"),
        UniqueConstraint("organization_id", "statement_id"),
        Index("ix_evidence_person_occurred", "person_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE")
    )
    activity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    max_score: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)
    statement_id: Mapped[uuid.UUID | None]
    content_hash: Mapped[str | None] = mapped_column(String(64))


class EvidenceEvent(Base):
    """Something that happened to stored evidence after it arrived, and who did it.

    Voiding changes what mastery counts, so it is kept as an event rather
    than left to be inferred from `voided_at`.
    """

    __tablename__ = "evidence_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    evidence_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
