"""What we publish over CASE, under which identifiers, and to whom.

CASE names every object by a UUID identifier, and so do we, with two
exceptions forced by what providers publish:

- An identifier that is not a UUID (the ASN URLs of the 2017 CCSS export)
  is published as its uuid5(NAMESPACE_URL, identifier), the name OpenSALT
  gives imported ASN nodes. Crosswalks made in OpenSALT already point at
  those names, so they resolve against our endpoints unchanged.
- Frameworks that reuse another framework's CFDocument identifier (OpenSALT's
  fixtures all use `d0000000-…`) would be unreachable behind the first one.
  The framework imported first keeps the identifiers; each later namesake
  publishes uuid5(its framework id, identifier) for its document, items and
  associations.

UUID identifiers keep their original spelling, upper case included; look-ups
ignore case. A framework is public unless marked private; a private one is
served only to callers with the frameworks:read scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeVar

import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.frameworks.models import Association, Competency, Framework

log = structlog.get_logger()

Visibility = Literal["public", "private"]
VISIBILITIES: tuple[Visibility, ...] = ("public", "private")

_LOOKUP_BATCH = 500


@dataclass(frozen=True)
class Publication:
    """Every framework held, in import order, and which are namesakes."""

    frameworks: tuple[Framework, ...]
    namesakes: frozenset[uuid.UUID]

    def identifier(self, framework_id: uuid.UUID, original: str) -> str:
        """The identifier an object of the framework is published under."""
        if framework_id in self.namesakes:
            scope = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:uuid:{framework_id}")
            return str(uuid.uuid5(scope, original.lower()))
        if is_uuid(original):
            return original
        return str(uuid.uuid5(uuid.NAMESPACE_URL, original))

    def document_identifier(self, framework: Framework) -> str:
        return self.identifier(framework.id, framework.identifier)

    def visible(self, *, may_read_private: bool) -> list[Framework]:
        return [
            framework
            for framework in self.frameworks
            if may_read_private or framework.visibility != "private"
        ]


def is_uuid(value: str) -> bool:
    """True for the 8-4-4-4-12 hexadecimal form the CASE schema checks."""
    if len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def publication(session: Session) -> Publication:
    statement = select(Framework).order_by(Framework.created_at, Framework.id)
    frameworks = tuple(session.scalars(statement))
    first_holder: dict[str, uuid.UUID] = {}
    namesakes: set[uuid.UUID] = set()
    for framework in frameworks:
        holder = first_holder.setdefault(framework.identifier_key, framework.id)
        if holder != framework.id:
            namesakes.add(framework.id)
    return Publication(frameworks=frameworks, namesakes=frozenset(namesakes))


def find_document(published: Publication, *, identifier: str) -> Framework | None:
    wanted = identifier.lower()
    for framework in published.frameworks:
        if published.document_identifier(framework).lower() == wanted:
            return framework
    return None


def find_item(
    session: Session, published: Publication, *, identifier: str
) -> Competency | None:
    """The active competency published under `identifier`, oldest framework first."""
    wanted = identifier.lower()
    statement = (
        select(Competency)
        .where(Competency.retired_at.is_(None))
        .where(or_(Competency.identifier_key == wanted, Competency.alias_key == wanted))
    )
    candidates = [
        competency
        for competency in session.scalars(statement)
        if competency.framework_id not in published.namesakes
    ]
    candidates.extend(
        competency
        for competency in _namesake_competencies(session, published)
        if competency.retired_at is None
        and published.identifier(competency.framework_id, competency.identifier).lower()
        == wanted
    )
    return _oldest(published, candidates)


def find_association(
    session: Session, published: Publication, *, identifier: str
) -> Association | None:
    # TODO: associations whose own identifier is not a UUID are published
    # under its uuid5 and cannot be fetched by it yet (none of the real
    # packages has one; derived identifiers are uuid5 already).
    wanted = identifier.lower()
    statement = select(Association).where(Association.identifier_key == wanted)
    candidates = [
        association
        for association in session.scalars(statement)
        if association.framework_id not in published.namesakes
    ]
    candidates.extend(
        association
        for association in _namesake_associations(session, published)
        if published.identifier(
            association.framework_id, association.identifier
        ).lower()
        == wanted
    )
    return _oldest(published, candidates)


def framework_items(session: Session, *, framework_id: uuid.UUID) -> list[Competency]:
    """The active competencies in tree order: a package's CFItems."""
    statement = (
        select(Competency)
        .where(Competency.framework_id == framework_id)
        .where(Competency.retired_at.is_(None))
        .order_by(Competency.list_position, Competency.identifier_key)
    )
    return list(session.scalars(statement))


def framework_associations(
    session: Session, *, framework_id: uuid.UUID
) -> list[Association]:
    statement = (
        select(Association)
        .where(Association.framework_id == framework_id)
        .order_by(Association.created_at, Association.identifier_key)
    )
    return list(session.scalars(statement))


def item_associations(
    session: Session, *, competency_id: uuid.UUID
) -> list[Association]:
    """Every association, in any framework, with the competency at either end."""
    statement = (
        select(Association)
        .where(
            or_(
                Association.origin_competency_id == competency_id,
                Association.destination_competency_id == competency_id,
            )
        )
        .order_by(Association.created_at, Association.identifier_key)
    )
    return list(session.scalars(statement))


def competencies_by_id(
    session: Session, *, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Competency]:
    ordered = sorted(set(ids))
    found: dict[uuid.UUID, Competency] = {}
    for start in range(0, len(ordered), _LOOKUP_BATCH):
        statement = select(Competency).where(
            Competency.id.in_(ordered[start : start + _LOOKUP_BATCH])
        )
        found.update((c.id, c) for c in session.scalars(statement))
    return found


def set_visibility(
    session: Session, *, framework: Framework, visibility: Visibility
) -> Framework:
    framework.visibility = visibility
    session.commit()
    log.info(
        "framework.visibility_set",
        framework_id=str(framework.id),
        visibility=visibility,
    )
    return framework


def _namesake_competencies(
    session: Session, published: Publication
) -> list[Competency]:
    """Competencies of namesake frameworks, whose published identifiers are
    computed, so they cannot be looked up by a column."""
    if not published.namesakes:
        return []
    statement = select(Competency).where(
        Competency.framework_id.in_(published.namesakes)
    )
    return list(session.scalars(statement))


def _namesake_associations(
    session: Session, published: Publication
) -> list[Association]:
    if not published.namesakes:
        return []
    statement = select(Association).where(
        Association.framework_id.in_(published.namesakes)
    )
    return list(session.scalars(statement))


_Row = TypeVar("_Row", Competency, Association)


def _oldest(published: Publication, candidates: list[_Row]) -> _Row | None:
    order = {
        framework.id: index for index, framework in enumerate(published.frameworks)
    }
    ranked = sorted(candidates, key=lambda row: order.get(row.framework_id, len(order)))
    return ranked[0] if ranked else None
