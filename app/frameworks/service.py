"""Frameworks: importing CFPackages into the store and reading them back.

A framework is matched to an earlier import by its CFDocument identifier
*and* title within the organization. Providers reuse one CFDocument
identifier for unrelated documents (OpenSALT's test fixtures all share
`d0000000-…`), so an identifier alone would merge different frameworks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import structlog
from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app.database import new_id, utcnow
from app.frameworks.models import Association, Competency, Framework
from app.organizations.service import get_default_organization_id
from connectors.case.package import (
    DOCUMENT,
    Deviation,
    NodeRef,
    Package,
    PackageAssociation,
    PackageError,
    PackageItem,
    read_package,
)
from connectors.case.tree import IS_CHILD_OF, tree_order

log = structlog.get_logger()

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
BUNDLED_FRAMEWORK_FILE = "ccss-math_draft-export-2017_D10003FB.json"

Outcome = Literal["created", "updated", "unchanged"]
Progress = Callable[[int, int], None]

_BATCH = 1000
# Keeps IN lists well below the bound-parameter limits of SQLite and psycopg.
_LOOKUP_BATCH = 500


@dataclass(frozen=True)
class ImportCounts:
    """What the file held and what the store now holds for the framework."""

    items_found: int
    items_stored: int
    associations_found: int
    associations_stored: int
    definitions_found: int
    definitions_stored: int
    items_retired: int = 0


@dataclass
class ImportResult:
    framework: Framework
    outcome: Outcome
    counts: ImportCounts
    report: list[Deviation] = field(default_factory=list)


@dataclass(frozen=True)
class TreeEntry:
    """A competency in tree order, with the parent it is shown under."""

    competency: Competency
    parent_id: uuid.UUID | None
    depth: int


@dataclass(frozen=True)
class FrameworkSummary:
    framework: Framework
    competency_count: int


def bundled_framework_path() -> Path:
    """The public CCSS Mathematics package shipped with the service (see NOTICE.md)."""
    return BUNDLED_DIR / BUNDLED_FRAMEWORK_FILE


def import_package(
    session: Session,
    *,
    package: dict[str, Any],
    organization_id: uuid.UUID | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Store a CFPackage as a framework, in one transaction, and commit it.

    Raises `PackageError` before anything is written when the package cannot
    be understood. An earlier import of the same document is updated in
    place: competencies keep their ids, items gone from the package are
    retired (never deleted, so evidence about them stays).
    """
    try:
        normalised = read_package(package)
    except PackageError as error:
        log.info("framework.import_refused", problems=len(error.problems))
        raise
    organization_id = organization_id or get_default_organization_id(session)
    content_hash = normalised.content_hash()
    existing = _matching_framework(
        session, organization_id=organization_id, package=normalised
    )
    if existing is not None and existing.content_hash == content_hash:
        log.info("framework.import_unchanged", framework_id=str(existing.id))
        return ImportResult(
            framework=existing,
            outcome="unchanged",
            counts=_counts(normalised),
            report=list(normalised.report),
        )

    report = list(normalised.report)
    if existing is None:
        report.extend(
            _namesake_notes(
                session, organization_id=organization_id, package=normalised
            )
        )
    try:
        framework, retired = _write(
            session,
            organization_id=organization_id,
            framework=existing,
            package=normalised,
            content_hash=content_hash,
            progress=progress or _no_progress,
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    outcome: Outcome = "created" if existing is None else "updated"
    log.info(
        "framework.imported",
        framework_id=str(framework.id),
        outcome=outcome,
        items=len(normalised.items),
        associations=len(normalised.associations),
        retired=retired,
        notes=len(report),
    )
    return ImportResult(
        framework=framework,
        outcome=outcome,
        counts=_counts(normalised, retired=retired),
        report=report,
    )


def list_frameworks(
    session: Session, *, organization_id: uuid.UUID | None = None
) -> list[FrameworkSummary]:
    organization_id = organization_id or get_default_organization_id(session)
    active = (
        select(Competency.framework_id, func.count().label("count"))
        .where(Competency.retired_at.is_(None))
        .group_by(Competency.framework_id)
        .subquery()
    )
    statement = (
        select(Framework, func.coalesce(active.c.count, 0))
        .outerjoin(active, active.c.framework_id == Framework.id)
        .where(Framework.organization_id == organization_id)
        .order_by(Framework.title, Framework.created_at)
    )
    return [
        FrameworkSummary(framework=framework, competency_count=count)
        for framework, count in session.execute(statement)
    ]


def get_framework(session: Session, *, framework_id: uuid.UUID) -> Framework | None:
    return session.get(Framework, framework_id)


def count_competencies(session: Session, *, framework_id: uuid.UUID) -> int:
    statement = (
        select(func.count())
        .select_from(Competency)
        .where(Competency.framework_id == framework_id)
        .where(Competency.retired_at.is_(None))
    )
    return session.execute(statement).scalar_one()


def framework_tree(
    session: Session, *, framework_id: uuid.UUID, include_retired: bool = False
) -> list[TreeEntry]:
    """The framework's competencies in tree order, each with its parent.

    `list_position` is a depth-first order, so a competency's parent is the
    `isChildOf` destination placed last before it: the one whose subtree it
    was reached in.
    """
    statement = select(Competency).where(Competency.framework_id == framework_id)
    if not include_retired:
        statement = statement.where(Competency.retired_at.is_(None))
    competencies = session.scalars(
        statement.order_by(Competency.list_position, Competency.identifier_key)
    ).all()
    position = {c.id: c.list_position for c in competencies}
    candidates = _parent_candidates(session, framework_id=framework_id)

    depth: dict[uuid.UUID, int] = {}
    entries: list[TreeEntry] = []
    for competency in competencies:
        parent_id = _tree_parent(competency, candidates, position)
        depth[competency.id] = depth[parent_id] + 1 if parent_id in depth else 0
        entries.append(
            TreeEntry(
                competency=competency, parent_id=parent_id, depth=depth[competency.id]
            )
        )
    return entries


def search_competencies(
    session: Session,
    *,
    query: str,
    framework_id: uuid.UUID | None = None,
    limit: int = 50,
) -> list[Competency]:
    """Competencies whose humanCodingScheme or statement contains `query`.

    Case-insensitive; humanCodingScheme prefix matches come first, so
    `3.OA` lists 3.OA.A.1 before statements that merely mention it.
    """
    needle = query.strip().lower()
    if not needle:
        return []
    code = func.lower(func.coalesce(Competency.human_coding_scheme, ""))
    matches = or_(
        code.contains(needle, autoescape=True),
        func.lower(Competency.full_statement).contains(needle, autoescape=True),
        func.lower(func.coalesce(Competency.abbreviated_statement, "")).contains(
            needle, autoescape=True
        ),
    )
    prefix_first = case((code.startswith(needle, autoescape=True), 0), else_=1)
    statement = (
        select(Competency)
        .where(matches)
        .where(Competency.retired_at.is_(None))
        .order_by(
            prefix_first,
            Competency.human_coding_scheme,
            Competency.framework_id,
            Competency.list_position,
        )
        .limit(limit)
    )
    if framework_id is not None:
        statement = statement.where(Competency.framework_id == framework_id)
    return list(session.scalars(statement))


# Matching an earlier import


def _matching_framework(
    session: Session, *, organization_id: uuid.UUID, package: Package
) -> Framework | None:
    statement = (
        select(Framework)
        .where(Framework.organization_id == organization_id)
        .where(Framework.identifier_key == package.document.key)
        .where(Framework.title == package.document.title)
        .order_by(Framework.created_at)
        .limit(1)
    )
    return session.scalars(statement).first()


def _namesake_notes(
    session: Session, *, organization_id: uuid.UUID, package: Package
) -> list[Deviation]:
    statement = (
        select(Framework.id, Framework.title)
        .where(Framework.organization_id == organization_id)
        .where(Framework.identifier_key == package.document.key)
    )
    return [
        Deviation(
            f"{DOCUMENT} {package.document.identifier}",
            "identifier",
            f"also the identifier of framework {framework_id} titled {title!r}; "
            "imported as a separate framework",
        )
        for framework_id, title in session.execute(statement)
    ]


def _counts(package: Package, *, retired: int = 0) -> ImportCounts:
    return ImportCounts(
        items_found=package.found.items,
        items_stored=len(package.items),
        associations_found=package.found.associations,
        associations_stored=len(package.associations),
        definitions_found=package.found.definitions,
        definitions_stored=package.definition_count,
        items_retired=retired,
    )


def _no_progress(_done: int, _total: int) -> None:
    return None


# Writing


def _write(
    session: Session,
    *,
    organization_id: uuid.UUID,
    framework: Framework | None,
    package: Package,
    content_hash: str,
    progress: Progress,
) -> tuple[Framework, int]:
    """Write the framework row, its competencies and associations; (framework,
    number of competencies retired)."""
    if framework is None:
        framework = Framework(id=new_id(), organization_id=organization_id)
        session.add(framework)
    _fill_framework(framework, package=package, content_hash=content_hash)
    session.flush()

    total = len(package.items) + len(package.associations)
    competency_ids, retired = _write_competencies(
        session,
        framework_id=framework.id,
        package=package,
        progress=lambda done: progress(done, total),
    )
    _write_associations(
        session,
        framework_id=framework.id,
        package=package,
        competency_ids=competency_ids,
        progress=lambda done: progress(len(package.items) + done, total),
    )
    _resolve_dangling_endpoints(session, organization_id=organization_id)
    # Bulk statements bypass the identity map: objects loaded before are stale.
    session.expire_all()
    return framework, retired


def _fill_framework(
    framework: Framework, *, package: Package, content_hash: str
) -> None:
    document = package.document
    framework.identifier = document.identifier
    framework.identifier_key = document.key
    framework.uri = document.uri
    framework.title = document.title
    framework.creator = document.creator
    framework.publisher = document.publisher
    framework.version = document.version
    framework.adoption_status = document.adoption_status
    framework.case_version = document.case_version
    framework.last_change_at = document.last_change_at
    framework.content_hash = content_hash
    framework.document = document.raw
    framework.definitions = package.definitions


def _write_competencies(
    session: Session,
    *,
    framework_id: uuid.UUID,
    package: Package,
    progress: Callable[[int], None],
) -> tuple[dict[str, uuid.UUID], int]:
    """Insert new competencies, update changed ones, retire the missing ones.

    Returns the competency id of every item key, and how many were retired.
    """
    stored = _stored_rows(
        session, Competency, framework_id=framework_id, columns=_COMPETENCY_COLUMNS
    )
    positions = {key: index for index, key in enumerate(tree_order(package))}
    now = utcnow()
    ids: dict[str, uuid.UUID] = {}
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    for item in package.items:
        row = _competency_row(item, position=positions[item.key])
        earlier = stored.get(item.key)
        if earlier is None:
            ids[item.key] = new_id()
            new_rows.append(
                {
                    **row,
                    "id": ids[item.key],
                    "framework_id": framework_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        ids[item.key] = earlier["id"]
        if _differs(row, earlier):
            changed_rows.append({**row, "id": earlier["id"], "updated_at": now})

    _write_rows(
        session,
        Competency,
        new=new_rows,
        changed=changed_rows,
        unchanged=len(package.items) - len(new_rows) - len(changed_rows),
        progress=progress,
    )
    missing = [
        row["id"]
        for key, row in stored.items()
        if key not in ids and row["retired_at"] is None
    ]
    _retire(session, ids=missing, now=now)
    return ids, len(missing)


def _competency_row(item: PackageItem, *, position: int) -> dict[str, Any]:
    return {
        "identifier": item.identifier,
        "identifier_key": item.key,
        "alias_key": item.alias_key,
        "uri": item.uri,
        "human_coding_scheme": item.human_coding_scheme,
        "full_statement": item.full_statement,
        "abbreviated_statement": item.abbreviated_statement,
        "item_type": item.item_type,
        "education_levels": item.education_levels,
        "list_position": position,
        "last_change_at": item.last_change_at,
        "item": item.raw,
        "retired_at": None,
    }


def _retire(session: Session, *, ids: list[uuid.UUID], now: datetime) -> None:
    for batch in _batches(ids, _LOOKUP_BATCH):
        session.execute(
            update(Competency)
            .where(Competency.id.in_(batch))
            .values(retired_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def _write_associations(
    session: Session,
    *,
    framework_id: uuid.UUID,
    package: Package,
    competency_ids: dict[str, uuid.UUID],
    progress: Callable[[int], None],
) -> None:
    """Insert new associations, update changed ones and delete those now absent."""
    stored = _stored_rows(
        session, Association, framework_id=framework_id, columns=_ASSOCIATION_COLUMNS
    )
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    for association in package.associations:
        row = _association_row(association, package=package, ids=competency_ids)
        earlier = stored.pop(association.key, None)
        if earlier is None:
            new_rows.append(
                {
                    **row,
                    "id": new_id(),
                    "framework_id": framework_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        elif _differs(row, earlier):
            changed_rows.append({**row, "id": earlier["id"], "updated_at": now})

    absent = [row["id"] for row in stored.values()]
    for batch in _batches(absent, _LOOKUP_BATCH):
        session.execute(
            delete(Association)
            .where(Association.id.in_(batch))
            .execution_options(synchronize_session=False)
        )
    _write_rows(
        session,
        Association,
        new=new_rows,
        changed=changed_rows,
        unchanged=len(package.associations) - len(new_rows) - len(changed_rows),
        progress=progress,
    )


_COMPETENCY_COLUMNS = (
    "identifier",
    "identifier_key",
    "alias_key",
    "uri",
    "human_coding_scheme",
    "full_statement",
    "abbreviated_statement",
    "item_type",
    "education_levels",
    "list_position",
    "last_change_at",
    "item",
    "retired_at",
)
_ASSOCIATION_COLUMNS = (
    "identifier",
    "identifier_key",
    "association_type",
    "sequence_number",
    "origin_identifier",
    "origin_uri",
    "origin_competency_id",
    "destination_identifier",
    "destination_uri",
    "destination_competency_id",
    "destination_is_document",
    "association",
)


def _stored_rows(
    session: Session,
    model: type[Competency] | type[Association],
    *,
    framework_id: uuid.UUID,
    columns: tuple[str, ...],
) -> dict[str, dict[str, Any]]:
    """The framework's stored rows by identifier key, so only changes are written.

    A re-import usually changes a handful of items; rewriting all of them
    would cost as much as the first import.
    """
    names = ("id", *columns)
    selected = [getattr(model, name) for name in names]
    statement = select(*selected).where(model.framework_id == framework_id)
    rows = (dict(zip(names, row, strict=True)) for row in session.execute(statement))
    return {row["identifier_key"]: row for row in rows}


def _differs(row: dict[str, Any], stored: dict[str, Any]) -> bool:
    return any(stored[name] != value for name, value in row.items())


def _write_rows(
    session: Session,
    model: type[Competency] | type[Association],
    *,
    new: list[dict[str, Any]],
    changed: list[dict[str, Any]],
    unchanged: int,
    progress: Callable[[int], None],
) -> None:
    """Bulk statements in batches: one executemany per batch, not one per row.

    Progress counts every record of the package, unchanged ones included.
    """
    done = unchanged
    if unchanged:
        progress(done)
    for batch in _batches(changed, _BATCH):
        session.execute(update(model), batch)
        done += len(batch)
        progress(done)
    for batch in _batches(new, _BATCH):
        session.execute(insert(model), batch)
        done += len(batch)
        progress(done)


def _association_row(
    association: PackageAssociation, *, package: Package, ids: dict[str, uuid.UUID]
) -> dict[str, Any]:
    origin = package.resolve(association.origin)
    destination = package.resolve(association.destination)
    return {
        "identifier": association.identifier,
        "identifier_key": association.key,
        "association_type": association.association_type,
        "sequence_number": association.sequence_number,
        "origin_identifier": association.origin.identifier,
        "origin_uri": association.origin.web_uri,
        "origin_competency_id": _competency_id(origin, ids),
        "destination_identifier": association.destination.identifier,
        "destination_uri": association.destination.web_uri,
        "destination_competency_id": _competency_id(destination, ids),
        "destination_is_document": destination == DOCUMENT,
        "association": association.raw,
    }


def _competency_id(resolved: str | None, ids: dict[str, uuid.UUID]) -> uuid.UUID | None:
    if resolved is None or resolved == DOCUMENT:
        return None
    return ids[resolved]


# Endpoints that point into other frameworks


def _resolve_dangling_endpoints(session: Session, *, organization_id: uuid.UUID) -> int:
    """Link association endpoints to competencies of other imported frameworks.

    Runs over the whole organization, so a crosswalk imported before its
    target framework is linked as soon as the target arrives. An endpoint
    is linked only when exactly one active competency answers to it (by
    identifier or uuid5 alias): reused identifiers stay unresolved rather
    than being linked to a guess.
    """
    dangling = _dangling_associations(session, organization_id=organization_id)
    if not dangling:
        return 0
    keys = {node.key for row in dangling for node in _open_endpoints(row).values()}
    keys.discard("")
    targets = _competencies_by_key(session, organization_id=organization_id, keys=keys)

    changes: list[dict[str, Any]] = []
    for row in dangling:
        change: dict[str, Any] = {}
        for side, node in _open_endpoints(row).items():
            candidates = targets.get(node.key, set())
            if len(candidates) == 1:
                change[f"{side}_competency_id"] = next(iter(candidates))
        if change:
            changes.append({"id": row.id, **change})
    for batch in _batches(changes, _BATCH):
        session.execute(update(Association), batch)
    return len(changes)


def _dangling_associations(
    session: Session, *, organization_id: uuid.UUID
) -> Sequence[Any]:
    statement = (
        select(
            Association.id,
            Association.origin_identifier,
            Association.origin_competency_id,
            Association.destination_identifier,
            Association.destination_competency_id,
            Association.destination_is_document,
        )
        .join(Framework, Framework.id == Association.framework_id)
        .where(Framework.organization_id == organization_id)
        .where(
            or_(
                Association.origin_competency_id.is_(None),
                and_(
                    Association.destination_competency_id.is_(None),
                    Association.destination_is_document.is_(False),
                ),
            )
        )
    )
    return session.execute(statement).all()


def _open_endpoints(row: Any) -> dict[str, NodeRef]:
    endpoints: dict[str, NodeRef] = {}
    if row.origin_competency_id is None:
        endpoints["origin"] = _node(row.origin_identifier)
    if row.destination_competency_id is None and not row.destination_is_document:
        endpoints["destination"] = _node(row.destination_identifier)
    return endpoints


def _node(identifier: str) -> NodeRef:
    return NodeRef(identifier=identifier, key=identifier.lower(), uri=None, title=None)


def _competencies_by_key(
    session: Session, *, organization_id: uuid.UUID, keys: set[str]
) -> dict[str, set[uuid.UUID]]:
    """The ids of the active competencies answering to each key."""
    found: dict[str, set[uuid.UUID]] = {}
    for batch in _batches(sorted(keys), _LOOKUP_BATCH):
        statement = (
            select(Competency.id, Competency.identifier_key, Competency.alias_key)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(Framework.organization_id == organization_id)
            .where(Competency.retired_at.is_(None))
            .where(
                or_(
                    Competency.identifier_key.in_(batch),
                    Competency.alias_key.in_(batch),
                )
            )
        )
        for competency_id, key, alias in session.execute(statement):
            for name in (key, alias):
                if name in keys:
                    found.setdefault(name, set()).add(competency_id)
    return found


# Reading the tree


def _parent_candidates(
    session: Session, *, framework_id: uuid.UUID
) -> dict[uuid.UUID, list[uuid.UUID | None]]:
    """For each competency, the destinations of its `isChildOf` associations
    (None standing for the CFDocument)."""
    statement = (
        select(
            Association.origin_competency_id,
            Association.destination_competency_id,
            Association.destination_is_document,
        )
        .where(Association.framework_id == framework_id)
        .where(func.lower(Association.association_type) == IS_CHILD_OF)
        .where(Association.origin_competency_id.is_not(None))
    )
    candidates: dict[uuid.UUID, list[uuid.UUID | None]] = {}
    for origin, destination, is_document in session.execute(statement):
        if origin is None:
            continue
        if is_document:
            candidates.setdefault(origin, []).append(None)
        elif destination is not None:
            candidates.setdefault(origin, []).append(destination)
    return candidates


def _tree_parent(
    competency: Competency,
    candidates: dict[uuid.UUID, list[uuid.UUID | None]],
    position: dict[uuid.UUID, int],
) -> uuid.UUID | None:
    best: uuid.UUID | None = None
    best_position = -1
    for parent in candidates.get(competency.id, []):
        if parent is None or parent not in position:
            continue
        parent_position = position[parent]
        if best_position < parent_position < competency.list_position:
            best, best_position = parent, parent_position
    return best


def _batches(rows: Sequence[Any] | Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
