"""Mastery: evidence judged by each framework's policy, rolled up along isChildOf.

A person's evidence on a competency is their non-voided evidence on the
activities aligned to it, plus evidence derived one hop away: from a
competency it is an `exactMatchOf` (either direction), or from one it replaced
(`replacedBy`: origin replaced by destination). Derived evidence is never
stored again; it is found each time and shown with its origin.

Evidence is ordered by when the learning happened (`occurred_at`, ties by the
later `received_at`), each score becomes points on the policy's scale
(score / max_score × the scale's top, a score above its maximum counting as
full), and the policy's method (see app/mastery/calculator.py) turns them into
one result, rounded half-up to two decimals and judged against the scale's
mastery points.

Rollup: a competency with assessed descendants (following isChildOf down,
transitively, each competency once however often an edge is given, a cycle
ending the walk) is judged on its components: those descendants, plus itself
when assessed too. Rule `all`: mastered when every component is; `share`: when
at least the policy's share of them is; both show the share mastered on the
scale (2 of 3 on a 0-4 scale is 2.67). Rule `points`: the mean of the
components' points (those with a result), mastered at the mastery points.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities.models import Alignment
from app.database import insert_or_find, utcnow
from app.evidence.models import Evidence
from app.frameworks.models import Competency
from app.mastery.calculator import calculate_mastery
from app.mastery.graph import CompetencyGraph, frameworks_around, load_graph
from app.mastery.models import Mastery
from app.mastery.policies import (
    ROLLUP_POINTS,
    ROLLUP_SHARE,
    Policy,
    policies_for_frameworks,
)
from app.people.models import Person
from app.problems import Problem

METHOD_LATEST = "latest"
MASTERED = "mastered"
IN_PROGRESS = "in_progress"
NO_EVIDENCE = "no_evidence"
LEVEL_PLACES = Decimal("0.01")
RECOMPUTE_BATCH_SIZE = 500
# How many changed rows a preview lists; the counts always cover all of them.
PREVIEW_LISTED = 1000
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
    calculation_int: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    formula_version: str | None = None


@dataclass(frozen=True)
class UsedEvidence:
    """One piece of evidence as a calculation used it.

    `origin_competency_id` and `derivation` are None for direct evidence.
    """

    evidence: Evidence
    points: Decimal
    origin_competency_id: uuid.UUID | None = None
    derivation: str | None = None


@dataclass(frozen=True)
class Component:
    competency_id: uuid.UUID
    level: Decimal | None
    mastered: bool
    evidence_count: int


@dataclass(frozen=True)
class Standing:
    """The judgement on one competency before it is stored."""

    competency_id: uuid.UUID
    policy: Policy
    status: str
    level: Decimal | None
    mastered: bool
    rolled_up: bool
    evidence: list[UsedEvidence]
    steps: tuple[str, ...] = ()
    components: tuple[Component, ...] = ()

    @property
    def latest_evidence(self) -> Evidence | None:
        return self.evidence[-1].evidence if self.evidence else None


def level_of(*, score: Decimal, max_score: Decimal) -> Decimal:
    """score / max_score in [0, 1], two decimals rounded half-up (7/8 is 0.88).

    A score above its maximum is accepted as sent and counts as a full level.
    """
    share = min(score / max_score, Decimal(1))
    return _rounded(share)


def _rounded(value: Decimal) -> Decimal:
    return value.quantize(LEVEL_PLACES, rounding=ROUND_HALF_UP)


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _recency(evidence: Evidence) -> tuple[datetime, datetime, str]:
    return (evidence.occurred_at, evidence.received_at, str(evidence.id))


def _in_time_order(evidence: Iterable[Evidence]) -> list[Evidence]:
    distinct = {item.id: item for item in evidence}
    return sorted(distinct.values(), key=_recency)


class PersonJudge:
    """Judges one person's competencies from evidence already loaded.

    Each component is judged once, however many ancestors it rolls up into.
    """

    def __init__(
        self,
        *,
        graph: CompetencyGraph,
        policies: dict[uuid.UUID, Policy],
        evidence: Iterable[Evidence],
    ) -> None:
        self.graph = graph
        self.policies = policies
        self.by_activity: dict[uuid.UUID, list[Evidence]] = defaultdict(list)
        for item in evidence:
            if item.voided_at is None:
                self.by_activity[item.activity_id].append(item)
        self.reached = graph.reached_by(self.by_activity)
        self._own: dict[uuid.UUID, Standing] = {}

    def judged(self, targets: set[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `targets` this person's evidence can give a result.

        Everything else has no evidence, so a batch need not judge it.
        """
        reached = self.reached.union(
            *(self.graph.ancestors(member) for member in self.reached)
        )
        return reached & targets

    def standing(self, competency_id: uuid.UUID) -> Standing:
        components = self.graph.components(competency_id)
        if components == (competency_id,):
            return self.own_standing(competency_id)
        return self._rolled_up(competency_id, components)

    def used_evidence(self, competency_id: uuid.UUID) -> list[UsedEvidence]:
        """Direct evidence first claims an item; derived fills in the rest."""
        policy = self.policies[self.graph.framework_of[competency_id]]
        found: dict[uuid.UUID, UsedEvidence] = {}
        origins = [(competency_id, None)] + sorted(
            self.graph.sources.get(competency_id, ()), key=lambda pair: str(pair)
        )
        for origin, derivation in origins:
            for activity_id in self.graph.activities_of.get(origin, ()):
                for item in self.by_activity.get(activity_id, ()):
                    if item.id in found:
                        continue
                    found[item.id] = UsedEvidence(
                        evidence=item,
                        points=policy.points_of(
                            score=item.score, max_score=item.max_score
                        ),
                        origin_competency_id=None if derivation is None else origin,
                        derivation=derivation,
                    )
        return sorted(found.values(), key=lambda used: _recency(used.evidence))

    def own_standing(self, competency_id: uuid.UUID) -> Standing:
        if competency_id in self._own:
            return self._own[competency_id]
        policy = self.policies[self.graph.framework_of[competency_id]]
        used = (
            self.used_evidence(competency_id) if competency_id in self.reached else []
        )
        if not used:
            standing = Standing(
                competency_id, policy, NO_EVIDENCE, None, False, False, []
            )
        else:
            calculation = calculate_mastery(
                method=policy.method,
                scores=[item.points for item in used],
                mastery_points=policy.mastery_points,
                calculation_int=policy.calculation_int,
            )
            standing = Standing(
                competency_id=competency_id,
                policy=policy,
                status=MASTERED if calculation.mastered else IN_PROGRESS,
                level=calculation.score,
                mastered=calculation.mastered,
                rolled_up=False,
                evidence=used,
                steps=calculation.steps,
            )
        self._own[competency_id] = standing
        return standing

    def _rolled_up(
        self, competency_id: uuid.UUID, components: tuple[uuid.UUID, ...]
    ) -> Standing:
        """Only components with evidence are judged: the rest count as not
        mastered and without points, and are left out of `components`."""
        policy = self.policies[self.graph.framework_of[competency_id]]
        # Far fewer competencies carry a person's evidence than sit under a
        # grade, so walk those rather than every component.
        members = self.graph.component_set(competency_id)
        standings = [
            self.own_standing(component) for component in sorted(self.reached & members)
        ]
        evidence = {used.evidence.id: used for s in standings for used in s.evidence}
        used = sorted(evidence.values(), key=lambda item: _recency(item.evidence))
        summary = tuple(
            Component(s.competency_id, s.level, s.mastered, len(s.evidence))
            for s in standings
        )
        if not used:
            return Standing(
                competency_id,
                policy,
                NO_EVIDENCE,
                None,
                False,
                True,
                [],
                components=summary,
            )
        if policy.rollup_rule == ROLLUP_POINTS:
            level, mastered, steps = _points_rollup(
                policy, standings, total=len(components)
            )
        else:
            level, mastered, steps = _share_rollup(
                policy, standings, total=len(components)
            )
        return Standing(
            competency_id=competency_id,
            policy=policy,
            status=MASTERED if mastered else IN_PROGRESS,
            level=level,
            mastered=mastered,
            rolled_up=True,
            evidence=used,
            steps=tuple(steps),
            components=summary,
        )


def _share_rollup(
    policy: Policy, standings: list[Standing], *, total: int
) -> tuple[Decimal, bool, list[str]]:
    count = sum(1 for standing in standings if standing.mastered)
    share = Decimal(count) / Decimal(total)
    level = _rounded(share * policy.points_possible)
    steps = [
        f"components mastered: {count} of {total}",
        f"{count} / {total} × {_plain(policy.points_possible)} points "
        f"→ {level} (rounded half-up to 0.01)",
    ]
    if policy.rollup_rule == ROLLUP_SHARE and policy.rollup_share is not None:
        mastered = share >= policy.rollup_share
        relation = "≥" if mastered else "<"
        steps.append(
            f"share {count}/{total} {relation} required share "
            f"{_plain(policy.rollup_share)}, so "
            f"{'mastered' if mastered else 'not mastered'}"
        )
    else:
        mastered = count == total
        steps.append(
            "every component mastered, so mastered"
            if mastered
            else "not every component mastered, so not mastered"
        )
    return level, mastered, steps


def _points_rollup(
    policy: Policy, standings: list[Standing], *, total: int
) -> tuple[Decimal | None, bool, list[str]]:
    # A component judged on another scale is brought onto this one by its share.
    scored = [
        standing.level / standing.policy.points_possible * policy.points_possible
        for standing in standings
        if standing.level is not None
    ]
    if not scored:
        return None, False, ["no component has a result yet, so not mastered"]
    mean = sum(scored, Decimal(0)) / len(scored)
    level = _rounded(mean)
    mastered = level >= policy.mastery_points
    added = " + ".join(_plain(points) for points in scored)
    return (
        level,
        mastered,
        [
            f"components with a result: {len(scored)} of {total}",
            f"mean points = ({added}) / {len(scored)} → {level} "
            "(rounded half-up to 0.01)",
            f"{level} {'≥' if mastered else '<'} mastery_points "
            f"{_plain(policy.mastery_points)}, so "
            f"{'mastered' if mastered else 'not mastered'}",
        ],
    )


def _row_values(organization_id: uuid.UUID, standing: Standing) -> dict[str, Any]:
    policy = standing.policy
    latest = standing.latest_evidence
    return {
        "organization_id": organization_id,
        "status": standing.status,
        "level": standing.level,
        "mastered": standing.mastered,
        "method": policy.method,
        "calculation_int": policy.calculation_int,
        "parameters": policy.parameters(),
        "formula_version": policy.formula_version,
        "threshold": policy.mastery_points,
        "evidence_count": len(standing.evidence),
        "rolled_up": standing.rolled_up,
        "latest_evidence_id": latest.id if latest else None,
        "computed_at": utcnow(),
    }


def _store(session: Session, *, person: Person, standing: Standing) -> None:
    key = (person.id, standing.competency_id)
    row = session.get(Mastery, key)
    if standing.status == NO_EVIDENCE:
        if row is not None:
            session.delete(row)
        return

    values = _row_values(person.organization_id, standing)
    if row is None:
        row, created = insert_or_find(
            session,
            Mastery(
                person_id=person.id, competency_id=standing.competency_id, **values
            ),
            find=lambda: session.get(Mastery, key),
        )
        if created:
            return
    for name, value in values.items():
        setattr(row, name, value)


def _require_person(session: Session, person_id: uuid.UUID) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise Problem(
            404,
            "person-not-found",
            f"No person has the id {person_id}.",
            field="person",
        )
    return person


def _live_evidence(
    session: Session, *, person_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Evidence]]:
    statement = (
        select(Evidence)
        .where(Evidence.person_id.in_(person_ids))
        .where(Evidence.voided_at.is_(None))
    )
    found: dict[uuid.UUID, list[Evidence]] = defaultdict(list)
    for item in session.execute(statement).scalars():
        found[item.person_id].append(item)
    return found


def judge_around(
    session: Session,
    *,
    person_id: uuid.UUID,
    competency_ids: set[uuid.UUID],
    threshold: Decimal | None = None,
) -> tuple[PersonJudge, CompetencyGraph]:
    """A judge for one person over the frameworks these competencies touch."""
    graph = load_graph(
        session, framework_ids=frameworks_around(session, competency_ids=competency_ids)
    )
    policies = policies_for_frameworks(
        session, framework_ids=set(graph.framework_of.values()), threshold=threshold
    )
    evidence = _live_evidence(session, person_ids=[person_id])[person_id]
    return PersonJudge(graph=graph, policies=policies, evidence=evidence), graph


def recompute_mastery(
    session: Session,
    *,
    person_id: uuid.UUID,
    competency_ids: list[uuid.UUID],
    threshold: Decimal | None = None,
) -> None:
    """Recompute the person's mastery after evidence on these competencies.

    Covers the competencies, those they lend evidence to (exactMatchOf,
    replacedBy) and the ancestors of all of them. `threshold` replaces the
    configured `mastery_threshold` where the default policy applies.
    """
    person = _require_person(session, person_id)
    if not competency_ids:
        return
    judge, graph = judge_around(
        session,
        person_id=person_id,
        competency_ids=set(competency_ids),
        threshold=threshold,
    )
    targets = graph.affected_by(set(competency_ids))
    # A fixed order keeps two concurrent recomputations from locking rows in
    # opposite orders.
    for competency_id in sorted(targets):
        _store(session, person=person, standing=judge.standing(competency_id))
    session.flush()
    log.info("mastery.recomputed", person_id=str(person_id), competencies=len(targets))


@dataclass
class RecomputePlan:
    """Who and what a full recompute or a preview covers, loaded once."""

    framework_id: uuid.UUID | None
    graph: CompetencyGraph
    targets: set[uuid.UUID]
    policies: dict[uuid.UUID, Policy]
    people: list[uuid.UUID]


@dataclass
class BatchResult:
    """One batch of people: their stored rows and what they are judged now."""

    people: list[uuid.UUID]
    before: dict[tuple[uuid.UUID, uuid.UUID], Mastery]
    after: dict[tuple[uuid.UUID, uuid.UUID], Standing]


def plan_recompute(
    session: Session,
    *,
    framework_id: uuid.UUID | None = None,
    candidate: Policy | None = None,
    threshold: Decimal | None = None,
) -> RecomputePlan:
    """The graph, policies and people for judging a framework (or every one).

    `candidate` stands in for the framework's policy without being stored.
    """
    if framework_id is None:
        graph = load_graph(session, framework_ids=None)
    else:
        own = set(
            session.execute(
                select(Competency.id).where(Competency.framework_id == framework_id)
            ).scalars()
        )
        around = frameworks_around(session, competency_ids=own) | {framework_id}
        graph = load_graph(session, framework_ids=around)
    targets = {
        competency_id
        for competency_id, owner in graph.framework_of.items()
        if framework_id is None or owner == framework_id
    }
    overrides = (
        {framework_id: candidate}
        if framework_id is not None and candidate is not None
        else None
    )
    policies = policies_for_frameworks(
        session,
        framework_ids=set(graph.framework_of.values()),
        threshold=threshold,
        overrides=overrides,
    )
    return RecomputePlan(
        framework_id=framework_id,
        graph=graph,
        targets=targets,
        policies=policies,
        people=_people_in_scope(session, graph=graph, targets=targets),
    )


def _people_in_scope(
    session: Session, *, graph: CompetencyGraph, targets: set[uuid.UUID]
) -> list[uuid.UUID]:
    """People with evidence the scope can use, or with rows in it to revise."""
    people: set[uuid.UUID] = set()
    activity_ids = list(graph.activity_ids)
    if activity_ids:
        with_evidence = (
            select(Evidence.person_id)
            .where(Evidence.activity_id.in_(activity_ids))
            .where(Evidence.voided_at.is_(None))
            .distinct()
        )
        people |= set(session.execute(with_evidence).scalars())
    if targets:
        with_rows = (
            select(Mastery.person_id)
            .where(Mastery.competency_id.in_(list(targets)))
            .distinct()
        )
        people |= set(session.execute(with_rows).scalars())
    return sorted(people)


def judge_in_batches(
    session: Session, *, plan: RecomputePlan, batch_size: int = RECOMPUTE_BATCH_SIZE
) -> Iterator[BatchResult]:
    """Judge the plan's people a batch at a time, storing nothing.

    Each batch costs two queries (its people's evidence and their stored
    rows), so memory stays bounded by the batch, not by the store.
    """
    targets = list(plan.targets)
    for start in range(0, len(plan.people), batch_size):
        batch = plan.people[start : start + batch_size]
        evidence = _live_evidence(session, person_ids=batch)
        stored = session.execute(
            select(Mastery)
            .where(Mastery.person_id.in_(batch))
            .where(Mastery.competency_id.in_(targets))
        ).scalars()
        result = BatchResult(
            people=batch,
            before={(row.person_id, row.competency_id): row for row in stored},
            after={},
        )
        for person_id in batch:
            judge = PersonJudge(
                graph=plan.graph,
                policies=plan.policies,
                evidence=evidence.get(person_id, []),
            )
            for competency_id in sorted(judge.judged(plan.targets)):
                standing = judge.standing(competency_id)
                if standing.status != NO_EVIDENCE:
                    result.after[(person_id, competency_id)] = standing
        yield result


def recompute_in_batches(
    session: Session, *, plan: RecomputePlan, batch_size: int = RECOMPUTE_BATCH_SIZE
) -> Iterator[int]:
    """Rewrite the stored mastery the plan covers, yielding after each batch.

    Yields how many people the batch covered, once flushed, so a caller can
    commit between batches. Commits are left to the caller.
    """
    for result in judge_in_batches(session, plan=plan, batch_size=batch_size):
        organizations = dict(
            session.execute(
                select(Person.id, Person.organization_id).where(
                    Person.id.in_(result.people)
                )
            ).all()
        )
        for key, stale in result.before.items():
            if key not in result.after:
                session.delete(stale)
        for (person_id, competency_id), standing in result.after.items():
            values = _row_values(organizations[person_id], standing)
            row = result.before.get((person_id, competency_id))
            if row is None:
                session.add(
                    Mastery(person_id=person_id, competency_id=competency_id, **values)
                )
            elif _differs(row, values):
                for name, value in values.items():
                    setattr(row, name, value)
        session.flush()
        log.info(
            "mastery.batch_recomputed",
            framework_id=None if plan.framework_id is None else str(plan.framework_id),
            people=len(result.people),
            rows=len(result.after),
        )
        yield len(result.people)


def _differs(row: Mastery, values: dict[str, Any]) -> bool:
    """Whether a stored row says anything else; an unchanged one is not rewritten,
    so `computed_at` on a full recompute marks when the result last changed."""
    return any(
        getattr(row, name) != value
        for name, value in values.items()
        if name != "computed_at"
    )


def recompute_framework(
    session: Session,
    *,
    framework_id: uuid.UUID | None = None,
    threshold: Decimal | None = None,
) -> int:
    """Recompute a framework's (or every) stored mastery; the people covered."""
    plan = plan_recompute(session, framework_id=framework_id, threshold=threshold)
    return sum(recompute_in_batches(session, plan=plan))


@dataclass(frozen=True)
class Change:
    person_id: uuid.UUID
    competency_id: uuid.UUID
    before_level: Decimal | None
    before_mastered: bool | None
    after_level: Decimal | None
    after_mastered: bool | None


@dataclass
class Preview:
    people: int = 0
    rows_before: int = 0
    rows_after: int = 0
    changed: int = 0
    unchanged: int = 0
    newly_mastered: int = 0
    no_longer_mastered: int = 0
    changes: list[Change] = field(default_factory=list)

    @property
    def listed_all(self) -> bool:
        return len(self.changes) == self.changed


def preview_policy(
    session: Session,
    *,
    framework_id: uuid.UUID,
    candidate: Policy,
    threshold: Decimal | None = None,
) -> Preview:
    """What `candidate` would make of the framework's mastery; stores nothing."""
    plan = plan_recompute(
        session, framework_id=framework_id, candidate=candidate, threshold=threshold
    )
    preview = Preview(people=len(plan.people))
    for result in judge_in_batches(session, plan=plan):
        preview.rows_before += len(result.before)
        preview.rows_after += len(result.after)
        for key in sorted(set(result.before) | set(result.after)):
            row = result.before.get(key)
            standing = result.after.get(key)
            change = Change(
                person_id=key[0],
                competency_id=key[1],
                before_level=None if row is None else row.level,
                before_mastered=None if row is None else row.mastered,
                after_level=None if standing is None else standing.level,
                after_mastered=None if standing is None else standing.mastered,
            )
            _tally(preview, change)
    return preview


def _tally(preview: Preview, change: Change) -> None:
    same = (change.before_level, change.before_mastered) == (
        change.after_level,
        change.after_mastered,
    )
    if same:
        preview.unchanged += 1
        return
    preview.changed += 1
    if change.after_mastered and not change.before_mastered:
        preview.newly_mastered += 1
    if change.before_mastered and not change.after_mastered:
        preview.no_longer_mastered += 1
    if len(preview.changes) < PREVIEW_LISTED:
        preview.changes.append(change)


def explain_mastery(
    session: Session,
    *,
    person_id: uuid.UUID,
    competency_id: uuid.UUID,
    threshold: Decimal | None = None,
) -> Standing:
    """The person's standing on the competency, worked out as stored rows are."""
    _require_person(session, person_id)
    if session.get(Competency, competency_id) is None:
        raise Problem(
            404,
            "competency-not-found",
            f"No competency has the id {competency_id}.",
            field="competency_id",
        )
    judge, _graph = judge_around(
        session,
        person_id=person_id,
        competency_ids={competency_id},
        threshold=threshold,
    )
    return judge.standing(competency_id)


def _with_evidence(
    session: Session,
    *,
    person_id: uuid.UUID,
    standings: list[tuple[Competency, Mastery | None]],
) -> list[CompetencyMastery]:
    if not standings:
        return []
    judge, _graph = judge_around(
        session,
        person_id=person_id,
        competency_ids={competency.id for competency, _row in standings},
    )
    result = []
    for competency, row in standings:
        current = judge.standing(competency.id)
        behind = [used.evidence for used in current.evidence]
        if row is None:
            result.append(
                CompetencyMastery(
                    competency=competency,
                    status=NO_EVIDENCE,
                    level=None,
                    mastered=False,
                    rolled_up=current.rolled_up,
                    evidence=behind,
                    method=current.policy.method,
                    threshold=current.policy.mastery_points,
                    calculation_int=current.policy.calculation_int,
                    parameters=current.policy.parameters(),
                    formula_version=current.policy.formula_version,
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
                calculation_int=row.calculation_int,
                parameters=row.parameters,
                formula_version=row.formula_version,
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
