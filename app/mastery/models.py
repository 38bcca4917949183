import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, utcnow


class Mastery(Base):
    """A person's current standing on one competency.

    `level` is the share of the maximum score (0-1, two decimals, rounded
    half-up). A row with `rolled_up` set was derived from the competency's
    aligned descendants rather than from evidence on the competency itself.
    """

    __tablename__ = "mastery"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    competency_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("competencies.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    level: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    mastered: Mapped[bool] = mapped_column(default=False)
    method: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    evidence_count: Mapped[int] = mapped_column(Integer, default=0)
    rolled_up: Mapped[bool] = mapped_column(default=False)
    latest_evidence_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="SET NULL")
    )
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
