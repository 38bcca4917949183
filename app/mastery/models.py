import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, TimestampMixin, new_id, utcnow


class Mastery(Base):
    """A person's current standing on one competency.

    `level` is in points on the scale of the policy that judged it (two
    decimals, rounded half-up); `threshold` is that scale's mastery points.
    `method`, `calculation_int`, `parameters` and `formula_version` record how
    it was computed, so a stored result can be traced without the policy as it
    is today. A row with `rolled_up` set was derived from the competency's
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
    calculation_int: Mapped[int | None] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    formula_version: Mapped[str] = mapped_column(String(64), default="")
    threshold: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    evidence_count: Mapped[int] = mapped_column(Integer, default=0)
    rolled_up: Mapped[bool] = mapped_column(default=False)
    latest_evidence_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="SET NULL")
    )
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class MasteryPolicy(TimestampMixin, Base):
    """How evidence becomes mastery for one framework or one organization.

    Exactly one of `framework_id` and `organization_id` is set. A framework's
    own policy wins over its organization's; with neither, the default applies
    (latest score on a 0-1 share scale, mastery at `mastery_threshold`).
    `scale` is `{"levels": [{"name", "points", "mastery"}...]}`.
    """

    __tablename__ = "mastery_policies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    framework_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("frameworks.id", ondelete="CASCADE"), unique=True
    )
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), unique=True
    )
    method: Mapped[str] = mapped_column(String(32))
    calculation_int: Mapped[int | None] = mapped_column(Integer)
    scale: Mapped[dict[str, Any]] = mapped_column(JSON)
    rollup_rule: Mapped[str] = mapped_column(String(16))
    rollup_share: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    formula_version: Mapped[str] = mapped_column(String(64))
