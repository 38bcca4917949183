"""Mastery: most recent score against the threshold, rolled up along isChildOf."""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from app.evidence.models import Evidence
from app.frameworks.models import Competency


@dataclass
class CompetencyMastery:
    competency: Competency
    status: str  # "mastered", "in_progress" or "no_evidence"
    level: Decimal | None
    mastered: bool
    rolled_up: bool
    evidence: list[Evidence] = field(default_factory=list)


def recompute_mastery(
    session: Session, *, person_id: uuid.UUID, competency_ids: list[uuid.UUID]
) -> None:
    """Recompute the person's mastery of these competencies and their ancestors."""
    raise NotImplementedError


def mastery_for_activity(
    session: Session, *, person_id: uuid.UUID, activity_id: uuid.UUID
) -> list[CompetencyMastery]:
    """The person's mastery of each competency the activity is aligned to."""
    raise NotImplementedError


def mastery_for_person(
    session: Session, *, person_id: uuid.UUID
) -> list[CompetencyMastery]:
    """Every competency the person has mastery on, with the evidence behind it."""
    raise NotImplementedError
