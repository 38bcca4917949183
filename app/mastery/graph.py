"""The competency graph mastery is computed over, loaded once per recompute.

Holding isChildOf edges, crosswalks and alignments in memory lets a recompute
judge thousands of people against one framework with a handful of queries.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.activities.models import Alignment
from app.frameworks.models import Association, Competency

IS_CHILD_OF = "isChildOf"
EXACT_MATCH_OF = "exactMatchOf"
REPLACED_BY = "replacedBy"


@dataclass
class CompetencyGraph:
    """Competencies of some frameworks, and what links them.

    `sources[c]` lists where evidence on `c` may come from besides `c`
    itself: (origin competency, association type) one hop away.
    """

    framework_of: dict[uuid.UUID, uuid.UUID]
    children: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    parents: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    sources: dict[uuid.UUID, set[tuple[uuid.UUID, str]]] = field(default_factory=dict)
    activities_of: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    _components: dict[uuid.UUID, tuple[uuid.UUID, ...]] = field(default_factory=dict)
    _component_sets: dict[uuid.UUID, frozenset[uuid.UUID]] = field(default_factory=dict)
    _ancestors: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    _competencies_of: dict[uuid.UUID, set[uuid.UUID]] | None = None

    @property
    def activity_ids(self) -> set[uuid.UUID]:
        return set().union(*self.activities_of.values())

    def descendants(self, competency_id: uuid.UUID) -> set[uuid.UUID]:
        return _walk(self.children, competency_id)

    def ancestors(self, competency_id: uuid.UUID) -> set[uuid.UUID]:
        if competency_id not in self._ancestors:
            self._ancestors[competency_id] = _walk(self.parents, competency_id)
        return self._ancestors[competency_id]

    def reached_by(self, activity_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Competencies that evidence on these activities counts for."""
        if self._competencies_of is None:
            self._competencies_of = {}
            for receiver in set(self.activities_of) | set(self.sources):
                origins = {receiver} | {
                    origin for origin, _type in self.sources.get(receiver, ())
                }
                for origin in origins:
                    for activity_id in self.activities_of.get(origin, ()):
                        self._competencies_of.setdefault(activity_id, set()).add(
                            receiver
                        )
        reached: set[uuid.UUID] = set()
        for activity_id in activity_ids:
            reached |= self._competencies_of.get(activity_id, set())
        return reached

    def is_assessed(self, competency_id: uuid.UUID) -> bool:
        """Whether any activity speaks for the competency, directly or derived."""
        origins = {competency_id} | {
            origin for origin, _type in self.sources.get(competency_id, ())
        }
        return any(self.activities_of.get(origin) for origin in origins)

    def components(self, competency_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
        """The assessed competencies whose evidence speaks for `competency_id`.

        A competency with assessed descendants is judged on them (and on
        itself when assessed too); otherwise on its own evidence alone. In a
        fixed order, so arithmetic steps read the same every time.
        """
        if competency_id not in self._components:
            subtree = {competency_id} | self.descendants(competency_id)
            assessed = {member for member in subtree if self.is_assessed(member)}
            self._components[competency_id] = tuple(sorted(assessed)) or (
                competency_id,
            )
        return self._components[competency_id]

    def component_set(self, competency_id: uuid.UUID) -> frozenset[uuid.UUID]:
        if competency_id not in self._component_sets:
            self._component_sets[competency_id] = frozenset(
                self.components(competency_id)
            )
        return self._component_sets[competency_id]

    def affected_by(self, competency_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        """What new evidence on `competency_ids` can change: themselves, the
        competencies they lend evidence to, and the ancestors of all of those."""
        receivers = {
            receiver
            for receiver, origins in self.sources.items()
            if any(origin in competency_ids for origin, _type in origins)
        }
        touched = (set(competency_ids) | receivers) & set(self.framework_of)
        return touched.union(*(self.ancestors(member) for member in touched))


def _walk(edges: dict[uuid.UUID, set[uuid.UUID]], start: uuid.UUID) -> set[uuid.UUID]:
    """Everything reachable from `start`; remembering the way ends a cycle."""
    seen = {start}
    frontier = [start]
    while frontier:
        for neighbour in edges.get(frontier.pop(), ()):
            if neighbour not in seen:
                seen.add(neighbour)
                frontier.append(neighbour)
    return seen - {start}


def _pairs(
    session: Session,
    *,
    competency_ids: set[uuid.UUID] | None,
    association_type: str,
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Resolved (origin, destination) pairs of one type, touching the ids."""
    origin = Association.origin_competency_id
    destination = Association.destination_competency_id
    statement = (
        select(origin, destination)
        .where(Association.association_type == association_type)
        .where(origin.is_not(None))
        .where(destination.is_not(None))
        .where(origin != destination)
    )
    if competency_ids is not None:
        ids = list(competency_ids)
        statement = statement.where(or_(origin.in_(ids), destination.in_(ids)))
    return [
        (first, second)
        for first, second in session.execute(statement.distinct())
        if first is not None and second is not None
    ]


def frameworks_around(
    session: Session, *, competency_ids: set[uuid.UUID]
) -> set[uuid.UUID]:
    """The frameworks of the competencies and of their crosswalk partners."""
    partners = set(competency_ids)
    for association_type in (EXACT_MATCH_OF, REPLACED_BY):
        for origin, destination in _pairs(
            session, competency_ids=competency_ids, association_type=association_type
        ):
            partners |= {origin, destination}
    statement = select(Competency.framework_id).where(Competency.id.in_(partners))
    return set(session.execute(statement.distinct()).scalars())


def load_graph(
    session: Session, *, framework_ids: set[uuid.UUID] | None
) -> CompetencyGraph:
    """The graph of these frameworks (every framework when None)."""
    competencies = select(Competency.id, Competency.framework_id)
    if framework_ids is not None:
        competencies = competencies.where(Competency.framework_id.in_(framework_ids))
    graph = CompetencyGraph(framework_of=dict(session.execute(competencies).all()))
    own = set(graph.framework_of)
    scope = None if framework_ids is None else own

    for child, parent in _pairs(
        session, competency_ids=scope, association_type=IS_CHILD_OF
    ):
        if child in own and parent in own:
            graph.children.setdefault(parent, set()).add(child)
            graph.parents.setdefault(child, set()).add(parent)

    partners: set[uuid.UUID] = set()
    for origin, destination in _pairs(
        session, competency_ids=scope, association_type=EXACT_MATCH_OF
    ):
        graph.sources.setdefault(destination, set()).add((origin, EXACT_MATCH_OF))
        graph.sources.setdefault(origin, set()).add((destination, EXACT_MATCH_OF))
        partners |= {origin, destination}
    for old, new in _pairs(session, competency_ids=scope, association_type=REPLACED_BY):
        graph.sources.setdefault(new, set()).add((old, REPLACED_BY))
        partners |= {old, new}

    alignments = select(Alignment.competency_id, Alignment.activity_id)
    if framework_ids is not None:
        alignments = alignments.where(Alignment.competency_id.in_(list(own | partners)))
    for competency_id, activity_id in session.execute(alignments):
        graph.activities_of.setdefault(competency_id, set()).add(activity_id)
    return graph
