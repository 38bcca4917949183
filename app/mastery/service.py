"""Mastery: most recent score against the threshold, rolled up along isChildOf.

Method `latest`: a person's standing on a competency is their most recent
non-voided evidence (by `occurred_at`, ties broken by the later `received_at`)
on any activity aligned to it. The level is score / max_score, capped at 1
when a score exceeds its maximum, rounded half-up to two decimals; the
threshold is compared with that rounded level, so what is shown is what was
judged.

Rollup: a competency with aligned descendants (following isChildOf down,
transitively) is judged on its components, those descendants plus itself
when it is aligned too. It is mastered when every component is, in progress
when some component has evidence, and has no evidence otherwise. Its level
is the share of components mastered (two decimals, half-up): 2 of 3 is 0.67.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities.models import Alignment
from app.database import insert_or_find, utcnow
from app.evidence.models import Evidence
from app.frameworks.models import Association, Competency
from app.mastery.models import Mastery
from app.people.models import Person
from app.problems import Problem
from app.settings import get_settings

METHOD_LATEST = "latest"
MASTERED = "mastered"
IN_PROGRESS = "in_progress"
NO_EVIDENCE = "no_evidence"
IS_CHILD_OF = "isChildOf"
LEVEL_PLACES = Decimal("0.01")
# The order a framework's own outline lists its competencies in.
FRAMEWORK_ORDER = (
    Competency.framework_id,
    Competency.list_position,
    Competency.human_coding_scheme,
    Competency.identifier,
)

log = structlog.get_logger()


@dataclass
class CompetencyMastery:
    competency: Competency
    status: str  # "mastered", "in_progress" or "no_evidence"
    level: Decimal | None
    mastered: bool
    rolled_up: bool
    evidence: list[Evidence] = field(default_factory=list)
    method: str = METHOD_LATEST
    threshold: Decimal | None = None


@dataclass(frozen=True)
class Standing:
    """The judgement on one competency before it is stored."""

    status: str
    level: Decimal | None
    mastered: bool
    rolled_up: bool
    evidence: list[Evidence]

    @property
    def latest_evidence(self) -> Evidence | None:
        return max(self.evidence, key=_recency) if self.evidence else None


def level_of(*, score: Decimal, max_score: Decimal) -> Decimal:
    """score / max_score in [0, 1], two decimals rounded half-up (7/8 is 0.88).

    A score above its maximum is accepted as sent and counts as a full level.
    """
    share = min(score / max_score, Decimal(1))
    return share.quantize(LEVEL_PLACES, rounding=ROUND_HALF_UP)


def _recency(evidence: Evidence) -> tuple[datetime, datetime, str]:
    return (evidence.occurred_at, evidence.received_at, str(evidence.id))


def _in_time_order(evidence: Iterable[Evidence]) -> list[Evidence]:
    distinct = {item.id: item for item in evidence}
    return sorted(distinct.values(), key=_recency)


def latest_standing(evidence: list[Evidence], *, threshold: Decimal) -> Standing:
    """The standing the most recent of `evidence` gives (all on one competency)."""
    live = _in_time_order(item for item in evidence if item.voided_at is None)
    if not live:
        return Standing(NO_EVIDENCE, None, False, False, [])

    latest = live[-1]
    level = level_of(score=latest.score, max_score=latest.max_score)
    mastered = level >= threshold
    status = MASTERED if mastered else IN_PROGRESS
    return Standing(status, level, mastered, False, live)


def rolled_up_standing(
    components: list[list[Evidence]], *, threshold: Decimal
) -> Standing:
    """The standing of a competency judged on its components' evidence."""
    standings = [
        latest_standing(evidence, threshold=threshold) for evidence in components
    ]
    evidence = _in_time_order(item for s in standings for item in s.evidence)
    if not evidence:
        return Standing(NO_EVIDENCE, None, False, True, [])

    mastered_count = sum(1 for standing in standings if standing.mastered)
    mastered = mastered_count == len(standings)
    share = Decimal(mastered_count) / Decimal(len(standings))
    level = share.quantize(LEVEL_PLACES, rounding=ROUND_HALF_UP)
    status = MASTERED if mastered else IN_PROGRESS
    return Standing(status, level, mastered, True, evidence)


def _related(
    session: Session, start: Iterable[uuid.UUID], *, upward: bool
) -> set[uuid.UUID]:
    """Competencies reachable from `start` along isChildOf, up or down.

    The walk remembers where it has been, so a cycle in a provider's data
    ends it and an edge given twice is followed once.
    """
    child = Association.origin_competency_id
    parent = Association.destination_competency_id
    source, target = (child, parent) if upward else (parent, child)

    seen = set(start)
    frontier = set(start)
    reached: set[uuid.UUID] = set()
    while frontier:
        statement = (
            select(target)
            .where(Association.association_type == IS_CHILD_OF)
            .where(source.in_(frontier))
            .where(target.is_not(None))
            .distinct()
        )
        found = {
            competency_id
            for competency_id in session.execute(statement).scalars()
            if competency_id is not None and competency_id not in seen
        }
        seen |= found
        reached |= found
        frontier = found
    return reached


def _aligned(session: Session, competency_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not competency_ids:
        return set()
    statement = (
        select(Alignment.competency_id)
        .where(Alignment.competency_id.in_(competency_ids))
        .distinct()
    )
    return set(session.execute(statement).scalars())


def _evidence_by_competency(
    session: Session, *, person_id: uuid.UUID, competency_ids: set[uuid.UUID]
) -> dict[uuid.UUID, list[Evidence]]:
    """The person's live evidence on activities aligned to each competency."""
    found: dict[uuid.UUID, list[Evidence]] = defaultdict(list)
    if not competency_ids:
        return found
    statement = (
        select(Alignment.competency_id, Evidence)
        .join(Alignment, Alignment.activity_id == Evidence.activity_id)
        .where(Evidence.person_id == person_id)
        .where(Evidence.voided_at.is_(None))
        .where(Alignment.competency_id.in_(competency_ids))
    )
    for competency_id, evidence in session.execute(statement):
        found[competency_id].append(evidence)
    return found


def _components(session: Session, competency_id: uuid.UUID) -> set[uuid.UUID]:
    """The aligned competencies whose evidence speaks for `competency_id`."""
    subtree = {competency_id} | _related(session, [competency_id], upward=False)
    return _aligned(session, subtree) or {competency_id}


def _standing(
    session: Session,
    *,
    person_id: uuid.UUID,
    competency_id: uuid.UUID,
    threshold: Decimal,
) -> Standing:
    components = _components(session, competency_id)
    evidence = _evidence_by_competency(
        session, person_id=person_id, competency_ids=components
    )
    if components == {competency_id}:
        return latest_standing(evidence[competency_id], threshold=threshold)
    return rolled_up_standing(
        [evidence[component] for component in sorted(components)],
        threshold=threshold,
    )


def _store(
    session: Session,
    *,
    person: Person,
    competency_id: uuid.UUID,
    standing: Standing,
    threshold: Decimal,
) -> None:
    key = (person.id, competency_id)
    row = session.get(Mastery, key)
    if standing.status == NO_EVIDENCE:
        if row is not None:
            session.delete(row)
        return

    latest = standing.latest_evidence
    values = {
        "organization_id": person.organization_id,
        "status": standing.status,
        "level": standing.level,
        "mastered": standing.mastered,
        "method": METHOD_LATEST,
        "threshold": threshold,
        "evidence_count": len(standing.evidence),
        "rolled_up": standing.rolled_up,
        "latest_evidence_id": latest.id if latest else None,
        "computed_at": utcnow(),
    }
    if row is None:
        row, created = insert_or_find(
            session,
            Mastery(person_id=person.id, competency_id=competency_id, **values),
            find=lambda: session.get(Mastery, key),
        )
        if created:
            return
    for name, value in values.items():
        setattr(row, name, value)


def _resolved_threshold(threshold: Decimal | None) -> Decimal:
    return get_settings().mastery_threshold if threshold is None else threshold


def recompute_mastery(
    session: Session,
    *,
    person_id: uuid.UUID,
    competency_ids: list[uuid.UUID],
    threshold: Decimal | None = None,
) -> None:
    """Recompute the person's mastery of these competencies and their ancestors.

    `threshold` defaults to the configured `mastery_threshold`.
    """
    person = session.get(Person, person_id)
    if person is None:
        raise Problem(
            404,
            "person-not-found",
            f"No person has the id {person_id}.",
            field="person",
        )
    threshold = _resolved_threshold(threshold)

    targets = set(competency_ids) | _related(session, competency_ids, upward=True)
    # A fixed order keeps two concurrent recomputations from locking rows in
    # opposite orders.
    for competency_id in sorted(targets):
        standing = _standing(
            session,
            person_id=person_id,
            competency_id=competency_id,
            threshold=threshold,
        )
        _store(
            session,
            person=person,
            competency_id=competency_id,
            standing=standing,
            threshold=threshold,
        )
    session.flush()
    log.info("mastery.recomputed", person_id=str(person_id), competencies=len(targets))


def _with_evidence(
    session: Session,
    *,
    person_id: uuid.UUID,
    standings: list[tuple[Competency, Mastery | None]],
) -> list[CompetencyMastery]:
    components = {
        competency.id: _components(session, competency.id)
        for competency, _row in standings
    }
    evidence = _evidence_by_competency(
        session,
        person_id=person_id,
        competency_ids=set().union(*components.values()),
    )

    result = []
    for competency, row in standings:
        behind = _in_time_order(
            item
            for component in components[competency.id]
            for item in evidence[component]
        )
        if row is None:
            result.append(
                CompetencyMastery(
                    competency=competency,
                    status=NO_EVIDENCE,
                    level=None,
                    mastered=False,
                    rolled_up=components[competency.id] != {competency.id},
                    evidence=behind,
                )
            )
            continue
        result.append(
            CompetencyMastery(
                competency=competency,
                status=row.status,
                level=row.level,
                mastered=row.mastered,
                rolled_up=row.rolled_up,
                evidence=behind,
                method=row.method,
                threshold=row.threshold,
            )
        )
    return result


def mastery_for_activity(
    session: Session, *, person_id: uuid.UUID, activity_id: uuid.UUID
) -> list[CompetencyMastery]:
    """The person's mastery of each competency the activity is aligned to."""
    statement = (
        select(Competency, Mastery)
        .join(Alignment, Alignment.competency_id == Competency.id)
        .outerjoin(
            Mastery,
            (Mastery.competency_id == Competency.id) & (Mastery.person_id == person_id),
        )
        .where(Alignment.activity_id == activity_id)
        .order_by(*FRAMEWORK_ORDER)
    )
    standings: list[tuple[Competency, Mastery | None]] = [
        (competency, row) for competency, row in session.execute(statement)
    ]
    return _with_evidence(session, person_id=person_id, standings=standings)


def mastery_for_person(
    session: Session, *, person_id: uuid.UUID
) -> list[CompetencyMastery]:
    """Every competency the person has mastery on, with the evidence behind it."""
    statement = (
        select(Competency, Mastery)
        .join(Mastery, Mastery.competency_id == Competency.id)
        .where(Mastery.person_id == person_id)
        .order_by(*FRAMEWORK_ORDER)
    )
    standings: list[tuple[Competency, Mastery | None]] = [
        (competency, row) for competency, row in session.execute(statement)
    ]
    return _with_evidence(session, person_id=person_id, standings=standings)
