"""Who needs what, and which activities help: gap and impact reports.

Scope. A report covers the people of one context (course or section) or of
one organization together with every organization below it (`parent_id`).
The people of a context are its active learners on the LMS roster (kept
from launches and NRPS syncs; members whose roles are all non-learner, such
as instructors, are left out) together with anyone with live evidence on its
activities; a learner who never submitted anything shows as no_evidence.

Personal data. A state-wide scope gets aggregates only (counts per
competency and organization); rows naming people are given for district,
school and context scopes.

Recommendations. For a competency, the activities aligned to it or to a
competency below it (isChildOf), ranked by how many people they moved to
mastery: people who completed the activity (live evidence on it), are
mastered on the competency now, and were not before they first completed
it. "Before" replays the most recent score: for each aligned competency at
or below it (its components, as for rollup), the latest earlier evidence
must meet the person's stored threshold; a component without earlier
evidence was not mastered. The counts take in everyone who completed the
activity, inside the scope or not: they are counts, and a school's few
learners would say little on their own.

Impact. For an activity and each competency it is aligned to, the change in
level from a person's first to their latest evidence on the competency,
averaged over those who completed the activity and over those who did not,
both measured over the same window. Someone with a single piece of evidence
in the window has no change to measure and is counted, not averaged. A
group with fewer than `SMALL_SAMPLE_THRESHOLD` measured people is flagged.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import structlog
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.activities.models import Activity, Alignment
from app.contexts.models import Context
from app.evidence.models import Evidence
from app.frameworks.models import Association, Competency, Framework
from app.lms_services.models import ContextMembership
from app.lms_services.service import ACTIVE
from app.mastery.models import Mastery
from app.mastery.service import FRAMEWORK_ORDER, IN_PROGRESS, MASTERED, NO_EVIDENCE
from app.organizations.models import Organization
from app.people.models import Person
from app.problems import Problem

SMALL_SAMPLE_THRESHOLD = 10
STATE = "state"
IS_CHILD_OF = "isChildOf"
LEARNER = "Learner"
LEVEL_PLACES = Decimal("0.01")

log = structlog.get_logger()


@dataclass(frozen=True)
class Scope:
    kind: str  # "context" or "organization"
    id: uuid.UUID
    name: str | None
    organization_kind: str | None
    organization_ids: list[uuid.UUID]
    people: Select[uuid.UUID]

    @property
    def personal(self) -> bool:
        return self.organization_kind != STATE


@dataclass(frozen=True)
class Cell:
    person_id: uuid.UUID
    competency_id: uuid.UUID
    status: str
    level: Decimal | None


@dataclass(frozen=True)
class Recommendation:
    activity: Activity
    completed: int
    moved_to_mastery: int


@dataclass(frozen=True)
class OrganizationCounts:
    organization_id: uuid.UUID
    competency_id: uuid.UUID
    people: int
    mastered: int
    in_progress: int

    @property
    def no_evidence(self) -> int:
        return self.people - self.mastered - self.in_progress


@dataclass
class GapReport:
    scope: Scope
    competencies: list[Competency]
    total_competencies: int
    total_people: int
    people: list[Person] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    counts: list[OrganizationCounts] = field(default_factory=list)
    recommendations: dict[uuid.UUID, list[Recommendation]] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupChange:
    people: int
    measured: int
    mean_change: Decimal | None


@dataclass(frozen=True)
class CompetencyImpact:
    activity: Activity
    competency: Competency
    completed: GroupChange
    not_completed: GroupChange

    @property
    def difference(self) -> Decimal | None:
        if self.completed.mean_change is None:
            return None
        if self.not_completed.mean_change is None:
            return None
        return self.completed.mean_change - self.not_completed.mean_change

    @property
    def small_sample(self) -> bool:
        smallest = min(self.completed.measured, self.not_completed.measured)
        return smallest < SMALL_SAMPLE_THRESHOLD


def evidence_level(evidence: Evidence) -> Decimal:
    """score / max_score, capped at 1, two decimals half-up (7/8 is 0.88)."""
    share = min(evidence.score / evidence.max_score, Decimal(1))
    return share.quantize(LEVEL_PLACES, rounding=ROUND_HALF_UP)


def _recency(evidence: Evidence) -> tuple[datetime, datetime, str]:
    return (evidence.occurred_at, evidence.received_at, str(evidence.id))


# Scope ---------------------------------------------------------------------


def resolve_scope(
    session: Session,
    *,
    context_id: uuid.UUID | None,
    organization_id: uuid.UUID | None,
) -> Scope:
    """The people a report covers: one context, or an organization subtree."""
    # TODO: confine callers to their own organization's subtree once API
    # clients act for organizations other than the default one.
    if (context_id is None) == (organization_id is None):
        raise Problem(
            422,
            "scope-required",
            "Name exactly one scope: context_id or organization_id.",
            field="context_id" if context_id is not None else "organization_id",
        )
    if context_id is not None:
        return _context_scope(session, context_id=context_id)
    assert organization_id is not None
    return _organization_scope(session, organization_id=organization_id)


def _context_scope(session: Session, *, context_id: uuid.UUID) -> Scope:
    context = session.get(Context, context_id)
    if context is None:
        raise Problem(
            404,
            "context-not-found",
            f"No context has the id {context_id}.",
            field="context_id",
        )
    with_evidence = set(
        session.execute(
            select(Evidence.person_id)
            .join(Activity, Activity.id == Evidence.activity_id)
            .where(Activity.context_id == context.id)
            .where(Evidence.voided_at.is_(None))
        ).scalars()
    )
    members = session.execute(
        select(ContextMembership.person_id, ContextMembership.roles)
        .where(ContextMembership.context_id == context.id)
        .where(ContextMembership.status == ACTIVE)
    ).all()
    learners = {person_id for person_id, roles in members if is_learner(roles)}
    people = select(Person.id).where(Person.id.in_(with_evidence | learners))
    return Scope(
        kind="context",
        id=context.id,
        name=context.title or context.label,
        organization_kind=None,
        organization_ids=[context.organization_id],
        people=people,
    )


def is_learner(roles: Sequence[str]) -> bool:
    """Whether LIS roles (full URIs or short names) make a member a learner.

    A member with no roles given is counted: leaving out a learner hides a
    gap, while listing someone extra only adds a row.
    """
    if not roles:
        return True
    return any(role.rsplit("#", 1)[-1].rsplit("/", 1)[-1] == LEARNER for role in roles)


def _organization_scope(session: Session, *, organization_id: uuid.UUID) -> Scope:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise Problem(
            404,
            "organization-not-found",
            f"No organization has the id {organization_id}.",
            field="organization_id",
        )
    subtree = organization_subtree(session, organization_id=organization.id)
    people = select(Person.id).where(Person.organization_id.in_(subtree))
    return Scope(
        kind="organization",
        id=organization.id,
        name=organization.name,
        organization_kind=organization.kind,
        organization_ids=subtree,
        people=people,
    )


def organization_subtree(
    session: Session, *, organization_id: uuid.UUID
) -> list[uuid.UUID]:
    """The organization and every organization below it, each once."""
    seen = {organization_id}
    frontier = {organization_id}
    while frontier:
        statement = select(Organization.id).where(Organization.parent_id.in_(frontier))
        found = set(session.execute(statement).scalars()) - seen
        seen |= found
        frontier = found
    return sorted(seen, key=str)


# Competencies ----------------------------------------------------------------


def resolve_competencies(
    session: Session,
    *,
    framework_id: uuid.UUID | None,
    competency_ids: Sequence[uuid.UUID],
) -> list[Competency]:
    """The framework's current competencies, or the listed ones, in outline order."""
    if framework_id is None and not competency_ids:
        raise Problem(
            422,
            "competencies-required",
            "Name a framework_id or one or more competency_id.",
            field="framework_id",
        )
    statement = select(Competency).order_by(*FRAMEWORK_ORDER)
    if framework_id is not None:
        if session.get(Framework, framework_id) is None:
            raise Problem(
                404,
                "framework-not-found",
                f"No framework has the id {framework_id}.",
                field="framework_id",
            )
        statement = statement.where(Competency.framework_id == framework_id)
        if not competency_ids:
            statement = statement.where(Competency.retired_at.is_(None))
    if competency_ids:
        statement = statement.where(Competency.id.in_(set(competency_ids)))
    competencies = list(session.execute(statement).scalars())

    missing = set(competency_ids) - {competency.id for competency in competencies}
    if missing:
        first = sorted(missing, key=str)[0]
        raise Problem(
            404,
            "competency-not-found",
            f"No competency has the id {first}"
            + (" in that framework." if framework_id else "."),
            field="competency_id",
        )
    return competencies


def descendants(
    session: Session, competency_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Competencies below these along isChildOf; a cycle ends the walk."""
    seen = set(competency_ids)
    frontier = set(seen)
    reached: set[uuid.UUID] = set()
    while frontier:
        statement = (
            select(Association.origin_competency_id)
            .where(Association.association_type == IS_CHILD_OF)
            .where(Association.destination_competency_id.in_(frontier))
            .where(Association.origin_competency_id.is_not(None))
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


# Gap report -------------------------------------------------------------------


def gap_report(
    session: Session,
    *,
    scope: Scope,
    competencies: list[Competency],
    page_by: str = "person",
    limit: int = 100,
    offset: int = 0,
    recommendations: int = 5,
) -> GapReport:
    """The competency-by-person matrix (or, state-wide, counts) and what to do next.

    `page_by` chooses which axis `limit` and `offset` slice: people (every
    competency for a page of people) or competencies (every person for a
    page of competencies).
    """
    total_people = _count(session, scope.people)
    if page_by == "competency":
        page_competencies = competencies[offset : offset + limit]
    else:
        page_competencies = competencies
    report = GapReport(
        scope=scope,
        competencies=page_competencies,
        total_competencies=len(competencies),
        total_people=total_people,
    )
    competency_ids = [competency.id for competency in page_competencies]

    if scope.personal:
        paged = page_by != "competency"
        report.people = _people(
            session,
            scope=scope,
            limit=limit if paged else None,
            offset=offset if paged else None,
        )
        report.cells = _cells(
            session,
            person_ids=[person.id for person in report.people],
            competency_ids=competency_ids,
        )
    else:
        report.counts = organization_counts(
            session, scope=scope, competency_ids=competency_ids
        )

    if recommendations > 0:
        report.recommendations = {
            competency.id: recommended_activities(
                session, competency_id=competency.id, limit=recommendations
            )
            for competency in page_competencies
        }
    log.info(
        "report.gaps",
        scope_kind=scope.kind,
        scope_id=str(scope.id),
        personal_data=scope.personal,
        people=total_people,
        competencies=len(page_competencies),
    )
    return report


def _count(session: Session, people: Select[uuid.UUID]) -> int:
    statement = select(func.count()).select_from(people.subquery())
    return int(session.execute(statement).scalar_one())


def _people(
    session: Session, *, scope: Scope, limit: int | None, offset: int | None
) -> list[Person]:
    ids = scope.people.subquery()
    statement = (
        select(Person)
        .where(Person.id.in_(select(ids.c[0])))
        .order_by(Person.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.execute(statement).scalars())


def _cells(
    session: Session,
    *,
    person_ids: list[uuid.UUID],
    competency_ids: list[uuid.UUID],
) -> list[Cell]:
    """One cell per person and competency; no mastery row means no evidence."""
    rows: dict[tuple[uuid.UUID, uuid.UUID], Mastery] = {}
    if person_ids and competency_ids:
        statement = (
            select(Mastery)
            .where(Mastery.person_id.in_(person_ids))
            .where(Mastery.competency_id.in_(competency_ids))
        )
        for stored in session.execute(statement).scalars():
            rows[(stored.person_id, stored.competency_id)] = stored

    cells = []
    for person_id in person_ids:
        for competency_id in competency_ids:
            row = rows.get((person_id, competency_id))
            cells.append(
                Cell(
                    person_id=person_id,
                    competency_id=competency_id,
                    status=cell_status(row),
                    level=row.level if row is not None else None,
                )
            )
    return cells


def cell_status(row: Mastery | None) -> str:
    """mastered, in_progress or no_evidence, whatever method judged the row."""
    if row is None:
        return NO_EVIDENCE
    if row.mastered:
        return MASTERED
    return NO_EVIDENCE if row.status == NO_EVIDENCE else IN_PROGRESS


def organization_counts(
    session: Session, *, scope: Scope, competency_ids: list[uuid.UUID]
) -> list[OrganizationCounts]:
    people_per_organization = dict(
        session.execute(
            select(Person.organization_id, func.count())
            .where(Person.organization_id.in_(scope.organization_ids))
            .group_by(Person.organization_id)
        ).all()
    )
    judged: dict[tuple[uuid.UUID, uuid.UUID], dict[str, int]] = defaultdict(
        lambda: {MASTERED: 0, IN_PROGRESS: 0}
    )
    if competency_ids:
        statement = (
            select(
                Person.organization_id,
                Mastery.competency_id,
                Mastery.mastered,
                Mastery.status,
                func.count(),
            )
            .join(Person, Person.id == Mastery.person_id)
            .where(Person.organization_id.in_(scope.organization_ids))
            .where(Mastery.competency_id.in_(competency_ids))
            .group_by(
                Person.organization_id,
                Mastery.competency_id,
                Mastery.mastered,
                Mastery.status,
            )
        )
        for organization_id, competency_id, mastered, status, count in session.execute(
            statement
        ):
            if mastered:
                judged[(organization_id, competency_id)][MASTERED] += count
            elif status != NO_EVIDENCE:
                judged[(organization_id, competency_id)][IN_PROGRESS] += count

    return [
        OrganizationCounts(
            organization_id=organization_id,
            competency_id=competency_id,
            people=people,
            mastered=judged[(organization_id, competency_id)][MASTERED],
            in_progress=judged[(organization_id, competency_id)][IN_PROGRESS],
        )
        for organization_id, people in sorted(
            people_per_organization.items(), key=lambda item: str(item[0])
        )
        for competency_id in competency_ids
    ]


# Recommendations ---------------------------------------------------------------


def _live_evidence(
    session: Session,
    *,
    activity_ids: Iterable[uuid.UUID],
    occurred_from: datetime | None = None,
    occurred_to: datetime | None = None,
) -> list[Evidence]:
    ids = set(activity_ids)
    if not ids:
        return []
    statement = (
        select(Evidence)
        .where(Evidence.activity_id.in_(ids))
        .where(Evidence.voided_at.is_(None))
    )
    if occurred_from is not None:
        statement = statement.where(Evidence.occurred_at >= occurred_from)
    if occurred_to is not None:
        statement = statement.where(Evidence.occurred_at <= occurred_to)
    return sorted(session.execute(statement).scalars(), key=_recency)


@dataclass(frozen=True)
class Components:
    """What speaks for a competency: the aligned ones at or below it.

    `by_activity` maps each activity aligned there to the components it is
    aligned to.
    """

    ids: set[uuid.UUID]
    by_activity: dict[uuid.UUID, set[uuid.UUID]]


def components_of(session: Session, competency_id: uuid.UUID) -> Components:
    subtree = {competency_id} | descendants(session, [competency_id])
    statement = select(Alignment.activity_id, Alignment.competency_id).where(
        Alignment.competency_id.in_(subtree)
    )
    by_activity: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for activity_id, aligned_id in session.execute(statement):
        by_activity[activity_id].add(aligned_id)
    ids = set().union(*by_activity.values()) if by_activity else {competency_id}
    return Components(ids=ids, by_activity=dict(by_activity))


def recommended_activities(
    session: Session, *, competency_id: uuid.UUID, limit: int = 5
) -> list[Recommendation]:
    """Activities aligned to the competency or below it, best movers first."""
    components = components_of(session, competency_id)
    if not components.by_activity:
        return []
    evidence = _live_evidence(session, activity_ids=components.by_activity)
    thresholds = dict(
        session.execute(
            select(Mastery.person_id, Mastery.threshold)
            .where(Mastery.competency_id == competency_id)
            .where(Mastery.mastered.is_(True))
        ).all()
    )

    by_person: dict[uuid.UUID, list[Evidence]] = defaultdict(list)
    for item in evidence:
        by_person[item.person_id].append(item)

    completed: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    moved: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for person_id, history in by_person.items():
        first_on: dict[uuid.UUID, Evidence] = {}
        for item in history:
            first_on.setdefault(item.activity_id, item)
        for activity_id, first in first_on.items():
            completed[activity_id].add(person_id)
            if person_id in thresholds and not _mastered_before(
                history, first, components=components, threshold=thresholds[person_id]
            ):
                moved[activity_id].add(person_id)

    activities = session.execute(
        select(Activity).where(Activity.id.in_(components.by_activity))
    ).scalars()
    ranked = sorted(
        (
            Recommendation(
                activity=activity,
                completed=len(completed[activity.id]),
                moved_to_mastery=len(moved[activity.id]),
            )
            for activity in activities
        ),
        key=lambda r: (
            -r.moved_to_mastery,
            -r.completed,
            r.activity.title or "",
            str(r.activity.id),
        ),
    )
    return ranked[:limit]


def _mastered_before(
    history: list[Evidence],
    first: Evidence,
    *,
    components: Components,
    threshold: Decimal,
) -> bool:
    """Whether every component's most recent earlier score met the threshold."""
    latest: dict[uuid.UUID, Evidence] = {}
    for item in history:
        if _recency(item) >= _recency(first):
            break
        for component in components.by_activity.get(item.activity_id, ()):
            latest[component] = item
    return all(
        component in latest and evidence_level(latest[component]) >= threshold
        for component in components.ids
    )


# Impact ------------------------------------------------------------------------


def impact_report(
    session: Session,
    *,
    activity_id: uuid.UUID | None,
    framework_id: uuid.UUID | None,
    occurred_from: datetime | None = None,
    occurred_to: datetime | None = None,
) -> list[CompetencyImpact]:
    """Each activity's effect on the competencies it is aligned to."""
    pairs = _activity_competency_pairs(
        session, activity_id=activity_id, framework_id=framework_id
    )
    return [
        _impact(
            session,
            activity=activity,
            competency=competency,
            occurred_from=occurred_from,
            occurred_to=occurred_to,
        )
        for activity, competency in pairs
    ]


def _activity_competency_pairs(
    session: Session,
    *,
    activity_id: uuid.UUID | None,
    framework_id: uuid.UUID | None,
) -> list[tuple[Activity, Competency]]:
    if (activity_id is None) == (framework_id is None):
        raise Problem(
            422,
            "impact-subject-required",
            "Name exactly one of activity_id or framework_id.",
            field="activity_id" if activity_id is not None else "framework_id",
        )
    statement = (
        select(Activity, Competency)
        .join(Alignment, Alignment.activity_id == Activity.id)
        .join(Competency, Competency.id == Alignment.competency_id)
    )
    if activity_id is not None:
        if session.get(Activity, activity_id) is None:
            raise Problem(
                404,
                "activity-not-found",
                f"No activity has the id {activity_id}.",
                field="activity_id",
            )
        statement = statement.where(Activity.id == activity_id)
    else:
        if session.get(Framework, framework_id) is None:
            raise Problem(
                404,
                "framework-not-found",
                f"No framework has the id {framework_id}.",
                field="framework_id",
            )
        statement = statement.where(Competency.framework_id == framework_id)
    statement = statement.order_by(Activity.title, Activity.id, *FRAMEWORK_ORDER)
    return [
        (activity, competency) for activity, competency in session.execute(statement)
    ]


def _impact(
    session: Session,
    *,
    activity: Activity,
    competency: Competency,
    occurred_from: datetime | None,
    occurred_to: datetime | None,
) -> CompetencyImpact:
    evidence = _live_evidence(
        session,
        activity_ids=components_of(session, competency.id).by_activity,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    by_person: dict[uuid.UUID, list[Evidence]] = defaultdict(list)
    for item in evidence:
        by_person[item.person_id].append(item)

    completers = {
        person_id
        for person_id, history in by_person.items()
        if any(item.activity_id == activity.id for item in history)
    }
    changes: dict[bool, list[Decimal]] = {True: [], False: []}
    for person_id, history in by_person.items():
        if len(history) < 2:
            continue
        change = evidence_level(history[-1]) - evidence_level(history[0])
        changes[person_id in completers].append(change)

    return CompetencyImpact(
        activity=activity,
        competency=competency,
        completed=GroupChange(
            people=len(completers),
            measured=len(changes[True]),
            mean_change=_mean(changes[True]),
        ),
        not_completed=GroupChange(
            people=len(by_person) - len(completers),
            measured=len(changes[False]),
            mean_change=_mean(changes[False]),
        ),
    )


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    mean = sum(values, Decimal(0)) / Decimal(len(values))
    return mean.quantize(LEVEL_PLACES, rounding=ROUND_HALF_UP)
