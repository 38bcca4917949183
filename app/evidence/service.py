"""Recording evidence and triggering mastery recomputation."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from app.evidence.models import Evidence


@dataclass(frozen=True)
class RecordedEvidence:
    evidence: Evidence
    created: bool


def record_evidence(
    session: Session,
    *,
    organization_id: uuid.UUID,
    person_id: uuid.UUID,
    activity_id: uuid.UUID,
    score: Decimal,
    max_score: Decimal,
    occurred_at: datetime,
    source: str,
    idempotency_key: str | None = None,
) -> RecordedEvidence:
    """Store one piece of evidence once and recompute the person's mastery.

    `created` is False when the same idempotency key was already stored; the
    stored row is returned unchanged. Commits are left to the caller.
    """
    raise NotImplementedError
