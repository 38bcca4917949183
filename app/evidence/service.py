"""Recording evidence and triggering mastery recomputation."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.activities.models import Activity, Alignment
from app.database import insert_or_find, utcnow
from app.evidence.models import Evidence, EvidenceEvent
from app.mastery.service import recompute_mastery
from app.people.models import Person
from app.problems import Problem

# The evidence.score and max_score columns: 14 digits, 4 after the point.
SCORE_PLACES = Decimal("0.0001")
SCORE_LIMIT = Decimal(10) ** 10
SOURCE_MAX_LENGTH = 32
IDEMPOTENCY_KEY_MAX_LENGTH = 255
VOIDED_EVENT = "voided"

log = structlog.get_logger()


@dataclass(frozen=True)
class RecordedEvidence:
    evidence: Evidence
    created: bool


def _stored_score(value: Decimal, *, field: str) -> Decimal:
    """`value` as the column keeps it, or a 422 problem for one it cannot keep.

    LMSs send scores such as 2/3 as long binary fractions; four decimals are
    kept, rounded half-up, so both stores hold the same number.
    """
    if not value.is_finite():
        raise Problem(
            422, f"invalid-{_code(field)}", f"{field} must be a number.", field=field
        )
    if abs(value) >= SCORE_LIMIT:
        raise Problem(
            422,
            f"invalid-{_code(field)}",
            f"{field} must be below {SCORE_LIMIT:,}.",
            field=field,
        )
    return value.quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


def _code(field: str) -> str:
    return field.replace("_", "-")


def checked_scores(score: Decimal, max_score: Decimal) -> tuple[Decimal, Decimal]:
    score = _stored_score(score, field="score")
    max_score = _stored_score(max_score, field="max_score")
    if score < 0:
        raise Problem(
            422,
            "invalid-score",
            f"score must not be negative (got {score}).",
            field="score",
        )
    if max_score <= 0:
        raise Problem(
            422,
            "invalid-max-score",
            f"max_score must be greater than 0 (got {max_score}).",
            field="max_score",
        )
    return score, max_score


def _checked_moment(occurred_at: datetime) -> datetime:
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise Problem(
            422,
            "occurred-at-without-offset",
            "occurred_at must carry a UTC offset (for example 2024-05-01T10:00:00Z).",
            field="occurred_at",
        )
    return occurred_at.astimezone(UTC)


def _checked_text(value: str, *, field: str, max_length: int) -> str:
    if not value or len(value) > max_length:
        raise Problem(
            422,
            f"invalid-{_code(field)}",
            f"{field} must be 1 to {max_length} characters long.",
            field=field,
        )
    return value


def _require_records(
    session: Session,
    *,
    organization_id: uuid.UUID,
    person_id: uuid.UUID,
    activity_id: uuid.UUID,
) -> None:
    person = session.get(Person, person_id)
    if person is None or person.organization_id != organization_id:
        raise Problem(
            404,
            "person-not-found",
            f"No person has the id {person_id}.",
            field="person",
        )
    activity = session.get(Activity, activity_id)
    if activity is None or activity.organization_id != organization_id:
        raise Problem(
            404,
            "activity-not-found",
            f"No activity has the id {activity_id}.",
            field="activity",
        )


def derived_idempotency_key(
    *,
    source: str,
    person_id: uuid.UUID,
    activity_id: uuid.UUID,
    occurred_at: datetime,
    score: Decimal,
    max_score: Decimal,
) -> str:
    """A key that is the same whenever the same result is sent again.

    Scores are written without trailing zeros and times in UTC, so 7 and
    7.00, or 12:00+02:00 and 10:00Z, make one key.
    """
    parts = [
        source,
        str(person_id),
        str(activity_id),
        occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        f"{score.normalize():f}",
        f"{max_score.normalize():f}",
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _find_by_key(
    session: Session, *, organization_id: uuid.UUID, idempotency_key: str
) -> Evidence | None:
    statement = (
        select(Evidence)
        .where(Evidence.organization_id == organization_id)
        .where(Evidence.idempotency_key == idempotency_key)
    )
    return session.execute(statement).scalar_one_or_none()


def _same_result(stored: Evidence, sent: Evidence) -> bool:
    return (
        stored.person_id == sent.person_id
        and stored.activity_id == sent.activity_id
        and stored.score == sent.score
        and stored.max_score == sent.max_score
        and stored.occurred_at == sent.occurred_at
    )


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
    threshold: Decimal | None = None,
) -> RecordedEvidence:
    """Store one piece of evidence once and recompute the person's mastery.

    `created` is False when the same idempotency key was already stored; the
    stored row is returned unchanged. A key already used for a different
    result (another person, activity, score or time) is a 409 problem rather
    than a silent drop. Without a key, one is derived from the result itself.
    A score above `max_score` is kept as sent; mastery counts it as a full
    level. Commits are left to the caller.
    """
    score, max_score = checked_scores(score, max_score)
    occurred_at = _checked_moment(occurred_at)
    source = _checked_text(source, field="source", max_length=SOURCE_MAX_LENGTH)
    if idempotency_key is None:
        idempotency_key = derived_idempotency_key(
            source=source,
            person_id=person_id,
            activity_id=activity_id,
            occurred_at=occurred_at,
            score=score,
            max_score=max_score,
        )
    idempotency_key = _checked_text(
        idempotency_key, field="idempotency_key", max_length=IDEMPOTENCY_KEY_MAX_LENGTH
    )
    _require_records(
        session,
        organization_id=organization_id,
        person_id=person_id,
        activity_id=activity_id,
    )

    evidence = Evidence(
        organization_id=organization_id,
        person_id=person_id,
        activity_id=activity_id,
        score=score,
        max_score=max_score,
        occurred_at=occurred_at,
        source=source,
        idempotency_key=idempotency_key,
    )
    # The unique constraint decides, not a prior look-up, so two submissions
    # racing each other still store one row.
    stored, created = insert_or_find(
        session,
        evidence,
        find=partial(
            _find_by_key,
            session,
            organization_id=organization_id,
            idempotency_key=idempotency_key,
        ),
    )
    if not created:
        return _duplicate(stored, sent=evidence)

    log.info(
        "evidence.recorded",
        evidence_id=str(evidence.id),
        person_id=str(person_id),
        activity_id=str(activity_id),
    )
    recompute_mastery(
        session,
        person_id=person_id,
        competency_ids=_aligned_to(session, activity_id),
        threshold=threshold,
    )
    return RecordedEvidence(evidence=evidence, created=True)


def _duplicate(stored: Evidence, *, sent: Evidence) -> RecordedEvidence:
    if not _same_result(stored, sent):
        raise Problem(
            409,
            "idempotency-key-reused",
            "This idempotency key was already used for a different result "
            f"(evidence {stored.id}); send a new key for a new result.",
            field="idempotency_key",
        )
    log.info("evidence.duplicate", evidence_id=str(stored.id))
    return RecordedEvidence(evidence=stored, created=False)


def _aligned_to(session: Session, activity_id: uuid.UUID) -> list[uuid.UUID]:
    statement = select(Alignment.competency_id).where(
        Alignment.activity_id == activity_id
    )
    return list(session.execute(statement).scalars())


def aligned_competencies(
    session: Session, *, activity_id: uuid.UUID
) -> list[uuid.UUID]:
    return _aligned_to(session, activity_id)


def get_evidence(
    session: Session, *, organization_id: uuid.UUID, evidence_id: uuid.UUID
) -> Evidence:
    """The evidence with this id in the organization, or a 404 problem."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or evidence.organization_id != organization_id:
        raise Problem(
            404,
            "evidence-not-found",
            f"No evidence has the id {evidence_id}.",
            field="evidence_id",
        )
    return evidence


def evidence_events(session: Session, *, evidence_id: uuid.UUID) -> list[EvidenceEvent]:
    statement = (
        select(EvidenceEvent)
        .where(EvidenceEvent.evidence_id == evidence_id)
        .order_by(EvidenceEvent.occurred_at, EvidenceEvent.id)
    )
    return list(session.scalars(statement))


def void_evidence(
    session: Session,
    *,
    organization_id: uuid.UUID,
    evidence_id: uuid.UUID,
    reason: str,
    actor: str,
    threshold: Decimal | None = None,
) -> Evidence:
    """Void the evidence: mastery stops counting it, and an event says who and why.

    The row is kept (what was once reported stays auditable); `voided_at`
    takes it out of every mastery calculation, which is recomputed here.
    Voiding twice is a 409 problem, so the first reason and actor stand.
    Commits are left to the caller.
    """
    evidence = _locked_evidence(
        session, organization_id=organization_id, evidence_id=evidence_id
    )
    if evidence.voided_at is not None:
        raise Problem(
            409,
            "evidence-already-voided",
            f"Evidence {evidence_id} was already voided at "
            f"{evidence.voided_at.isoformat()}.",
            field="evidence_id",
        )

    evidence.voided_at = utcnow()
    evidence.void_reason = reason
    session.add(
        EvidenceEvent(
            evidence_id=evidence.id,
            event_type=VOIDED_EVENT,
            reason=reason,
            actor=actor,
            occurred_at=evidence.voided_at,
        )
    )
    session.flush()
    log.info("evidence.voided", evidence_id=str(evidence.id), actor=actor)
    recompute_mastery(
        session,
        person_id=evidence.person_id,
        competency_ids=_aligned_to(session, evidence.activity_id),
        threshold=threshold,
    )
    return evidence


def _locked_evidence(
    session: Session, *, organization_id: uuid.UUID, evidence_id: uuid.UUID
) -> Evidence:
    # The row lock makes two concurrent voids queue, so the second sees the
    # first one's voided_at (SQLite serialises writers anyway).
    statement = (
        select(Evidence)
        .where(Evidence.id == evidence_id)
        .where(Evidence.organization_id == organization_id)
        .with_for_update()
    )
    evidence = session.execute(statement).scalar_one_or_none()
    if evidence is None:
        raise Problem(
            404,
            "evidence-not-found",
            f"No evidence has the id {evidence_id}.",
            field="evidence_id",
        )
    return evidence


def insert_ignoring_conflicts(session: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT evidence rows, skipping any a unique constraint says already exist.

    One statement rather than a savepoint per row: it is what makes a chunk
    of a thousand rows cheap, and it opens the transaction itself, where a
    savepoint on SQLite's driver may commit on release when none is open.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(Evidence).on_conflict_do_nothing(), rows)
