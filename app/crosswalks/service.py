"""Crosswalks: CFAssociations that link competencies of different frameworks.

A crosswalk comes either from an imported package (OpenSALT's What
Standards Could Be says `exactMatchOf` CCSS) or from the district itself.
District crosswalks are CFAssociations of one CFDocument per organization,
"District crosswalks", stored like any imported framework (a `frameworks`
row without competencies, its associations in `associations`). So they
are read by the same queries as imported ones and published over CASE
with no extra table.

`exactMatchOf` and `isPeerOf` say the same thing read from either end, so
they are followed both ways; `isRelatedTo` only ever suggests.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.database import new_id, utcnow
from app.frameworks.models import Association, Competency, Framework
from app.organizations.models import Organization
from app.organizations.service import get_default_organization_id
from app.problems import Problem
from connectors.case.package import alias_key

log = structlog.get_logger()

ASSOCIATION_TYPES = (
    "isChildOf",
    "isPeerOf",
    "isPartOf",
    "exactMatchOf",
    "precedes",
    "isRelatedTo",
    "replacedBy",
    "exemplar",
    "hasSkillLevel",
    "isTranslationOf",
)
_CANONICAL_TYPES = {name.lower(): name for name in ASSOCIATION_TYPES}
EXACT_MATCH = "exactmatchof"
IS_RELATED_TO = "isrelatedto"
IS_CHILD_OF = "ischildof"
SYMMETRIC_TYPES = frozenset({EXACT_MATCH, "ispeerof"})
# CASE 1.1 lets a provider extend the vocabulary with `ext:` names.
_EXTENSION_TYPE = re.compile(r"ext:[A-Za-z0-9._-]+")

DISTRICT_DOCUMENT_NAMESPACE = "urn:standards-bridge:district-crosswalks:"
DISTRICT_DOCUMENT_TITLE = "District crosswalks"

CSV_COLUMNS = ("origin_identifier", "association_type", "destination_identifier")
CSV_OPTIONAL_COLUMNS = ("origin_framework", "destination_framework")

Direction = Literal["outgoing", "incoming", "mutual"]
RowStatus = Literal["created", "exists", "duplicate", "error"]

_LOOKUP_BATCH = 500


@dataclass(frozen=True)
class Crosswalk:
    """One link from a competency to a competency of another framework.

    Several stored associations saying the same thing (both directions of
    an `exactMatchOf`, a provider's and the district's) collapse into one.
    """

    association_type: str
    direction: Direction
    competency: Competency
    framework: Framework
    association_ids: list[uuid.UUID]
    district: bool


@dataclass(frozen=True)
class CrosswalkRequest:
    """A district crosswalk as asked for: each end a competency id or a CASE
    identifier, optionally narrowed to one framework (id or CFDocument
    identifier)."""

    origin: str
    association_type: str
    destination: str
    origin_framework: str | None = None
    destination_framework: str | None = None


@dataclass
class CreatedCrosswalk:
    association: Association
    created: bool


@dataclass
class CsvRow:
    row: int
    origin_identifier: str
    association_type: str
    destination_identifier: str
    status: RowStatus
    association_id: uuid.UUID | None = None
    field: str | None = None
    message: str | None = None


@dataclass
class CsvReport:
    rows: list[CsvRow] = field(default_factory=list)

    def count(self, status: RowStatus) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def errors(self) -> list[CsvRow]:
        return [row for row in self.rows if row.status == "error"]


class CsvRefused(Exception):
    """At least one row cannot be imported; nothing was written."""

    def __init__(self, report: CsvReport) -> None:
        super().__init__(f"{len(report.errors)} rows cannot be imported")
        self.report = report


# Reading


def crosswalks_of(session: Session, *, competency_id: uuid.UUID) -> list[Crosswalk]:
    """Every crosswalk touching the competency, outgoing and incoming.

    Associations inside the competency's own framework (its tree, `precedes`)
    are not crosswalks; self-loops and duplicates are dropped.
    """
    competency = _existing_competency(session, competency_id=competency_id)
    district_ids = set(_district_document_ids(session))
    statement = (
        select(Association)
        .where(
            or_(
                Association.origin_competency_id == competency_id,
                Association.destination_competency_id == competency_id,
            )
        )
        .where(func.lower(Association.association_type) != IS_CHILD_OF)
        .order_by(Association.created_at, Association.id)
    )
    collapsed: dict[tuple[uuid.UUID, str, Direction], list[Association]] = {}
    for association in session.scalars(statement):
        outgoing = association.origin_competency_id == competency_id
        other = (
            association.destination_competency_id
            if outgoing
            else association.origin_competency_id
        )
        if other is None or other == competency_id:
            continue
        kind = canonical_type(association.association_type)
        direction = _direction(kind, outgoing=outgoing)
        collapsed.setdefault((other, kind, direction), []).append(association)

    others = _competencies_with_frameworks(
        session, ids={other for other, _, _ in collapsed}
    )
    crosswalks: list[Crosswalk] = []
    for (other, kind, direction), associations in collapsed.items():
        found = others.get(other)
        if found is None or found[0].framework_id == competency.framework_id:
            continue
        crosswalks.append(
            Crosswalk(
                association_type=kind,
                direction=direction,
                competency=found[0],
                framework=found[1],
                association_ids=[a.id for a in associations],
                district=any(a.framework_id in district_ids for a in associations),
            )
        )
    crosswalks.sort(
        key=lambda c: (
            c.association_type,
            c.framework.title,
            c.competency.list_position,
            c.direction,
        )
    )
    return crosswalks


def exact_matches(
    session: Session, *, competency_ids: Iterable[uuid.UUID], hops: int = 1
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The competencies each one is an `exactMatchOf`, within `hops` links.

    Followed in both directions, since an exact match is mutual. The mastery
    engine passes `settings.crosswalk_exact_match_hops`; more than one hop
    chains mappings (A = B in one crosswalk, B = C in another), which
    districts may or may not trust. A competency never matches itself.
    """
    starts = set(competency_ids)
    adjacency: dict[uuid.UUID, set[uuid.UUID]] = {}
    reached = {start: {start} for start in starts}
    frontier = {start: {start} for start in starts}
    for _ in range(max(hops, 0)):
        wanted = set().union(*frontier.values()) - set(adjacency)
        adjacency.update(_exact_match_neighbours(session, ids=wanted))
        for start in starts:
            step = set().union(
                *(adjacency.get(node, set()) for node in frontier[start])
            )
            frontier[start] = step - reached[start]
            reached[start] |= step
    return {start: reached[start] - {start} for start in starts}


def related(session: Session, *, competency_id: uuid.UUID) -> list[Competency]:
    """Competencies linked by `isRelatedTo` either way: suggestions, never evidence."""
    statement = (
        select(Association.origin_competency_id, Association.destination_competency_id)
        .where(func.lower(Association.association_type) == IS_RELATED_TO)
        .where(
            or_(
                Association.origin_competency_id == competency_id,
                Association.destination_competency_id == competency_id,
            )
        )
    )
    ids: set[uuid.UUID] = set()
    for origin, destination in session.execute(statement):
        ids.update(node for node in (origin, destination) if node is not None)
    ids.discard(competency_id)
    found = _competencies_with_frameworks(session, ids=ids)
    ordered = sorted(
        found.values(), key=lambda pair: (pair[1].title, pair[0].list_position)
    )
    return [competency for competency, _ in ordered if competency.retired_at is None]


def canonical_type(association_type: str) -> str:
    """The CASE spelling of a type given in any case; others are kept as given."""
    return _CANONICAL_TYPES.get(association_type.strip().lower(), association_type)


# The district's own crosswalks


def district_document_identifier(organization_id: uuid.UUID) -> str:
    name = f"{DISTRICT_DOCUMENT_NAMESPACE}{organization_id}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def district_document(
    session: Session, *, organization_id: uuid.UUID, create: bool = False
) -> Framework | None:
    """The organization's "District crosswalks" CFDocument, made on first use."""
    identifier = district_document_identifier(organization_id)
    statement = (
        select(Framework)
        .where(Framework.organization_id == organization_id)
        .where(Framework.identifier_key == identifier)
    )
    found = session.scalars(statement).first()
    if found is not None or not create:
        return found
    organization = session.get(Organization, organization_id)
    creator = organization.name if organization is not None else "District"
    now = utcnow()
    document = {
        "identifier": identifier,
        "title": DISTRICT_DOCUMENT_TITLE,
        "creator": creator,
        "adoptionStatus": "Adopted",
        "lastChangeDateTime": now.isoformat(),
    }
    framework = Framework(
        id=new_id(),
        organization_id=organization_id,
        identifier=identifier,
        identifier_key=identifier,
        title=DISTRICT_DOCUMENT_TITLE,
        creator=creator,
        adoption_status="Adopted",
        last_change_at=now,
        # Never compared: no package import matches this document.
        content_hash=hashlib.sha256(identifier.encode()).hexdigest(),
        document=document,
        definitions={},
    )
    session.add(framework)
    session.flush()
    log.info("crosswalks.district_document_created", framework_id=str(framework.id))
    return framework


def list_district_crosswalks(
    session: Session, *, organization_id: uuid.UUID | None = None
) -> list[Association]:
    organization_id = organization_id or get_default_organization_id(session)
    document = district_document(session, organization_id=organization_id)
    if document is None:
        return []
    statement = (
        select(Association)
        .where(Association.framework_id == document.id)
        .order_by(Association.created_at, Association.id)
    )
    return list(session.scalars(statement))


def add_crosswalk(
    session: Session,
    *,
    request: CrosswalkRequest,
    organization_id: uuid.UUID | None = None,
) -> CreatedCrosswalk:
    """Store one district crosswalk and commit; an identical one is returned as is.

    Raises `Problem` (422) naming the field when an end cannot be resolved
    to exactly one competency or the type is not a crosswalk.
    """
    organization_id = organization_id or get_default_organization_id(session)
    origin, kind, destination = _resolved(
        session, organization_id=organization_id, request=request
    )
    document = district_document(session, organization_id=organization_id, create=True)
    assert document is not None
    existing = _stored_crosswalk(
        session,
        document_id=document.id,
        origin_id=origin.id,
        kind=kind,
        destination_id=destination.id,
    )
    if existing is not None:
        session.rollback()
        return CreatedCrosswalk(association=existing, created=False)
    try:
        association = _insert(
            session,
            document=document,
            origin=origin,
            kind=kind,
            destination=destination,
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    log.info(
        "crosswalks.created",
        association_id=str(association.id),
        association_type=kind,
    )
    return CreatedCrosswalk(association=association, created=True)


def delete_crosswalk(
    session: Session,
    *,
    association_id: uuid.UUID,
    organization_id: uuid.UUID | None = None,
) -> None:
    """Remove a district crosswalk; imported associations belong to their provider."""
    organization_id = organization_id or get_default_organization_id(session)
    association = session.get(Association, association_id)
    framework = (
        session.get(Framework, association.framework_id) if association else None
    )
    if association is None or framework is None:
        raise _crosswalk_not_found(association_id)
    if framework.organization_id != organization_id:
        raise _crosswalk_not_found(association_id)
    if framework.identifier_key != district_document_identifier(organization_id):
        raise Problem(
            409,
            "crosswalk-not-district",
            f"Association {association_id} came with the framework "
            f"{framework.title!r}; only district crosswalks can be deleted here. "
            "Change it at the framework's provider and import it again.",
            field="association_id",
        )
    session.delete(association)
    framework.last_change_at = utcnow()
    session.commit()
    log.info("crosswalks.deleted", association_id=str(association_id))


def import_crosswalks_csv(
    session: Session, *, text: str, organization_id: uuid.UUID | None = None
) -> CsvReport:
    """Store every row of a crosswalk CSV, or none of them.

    Columns: origin_identifier, association_type, destination_identifier and
    optionally origin_framework, destination_framework. Every row is checked
    before anything is written; any bad row raises `CsvRefused` with the
    report of every row. Rows already stored are reported `exists`, repeats
    within the file `duplicate`.
    """
    organization_id = organization_id or get_default_organization_id(session)
    records = _csv_records(text)
    report = CsvReport()
    planned: list[tuple[CsvRow, Competency, str, Competency]] = []
    seen: set[tuple[uuid.UUID, str, uuid.UUID]] = set()
    for line, record in records:
        row = CsvRow(
            row=line,
            origin_identifier=record["origin_identifier"],
            association_type=record["association_type"],
            destination_identifier=record["destination_identifier"],
            status="created",
        )
        report.rows.append(row)
        try:
            origin, kind, destination = _resolved(
                session,
                organization_id=organization_id,
                request=CrosswalkRequest(
                    origin=record["origin_identifier"],
                    association_type=record["association_type"],
                    destination=record["destination_identifier"],
                    origin_framework=record.get("origin_framework") or None,
                    destination_framework=record.get("destination_framework") or None,
                ),
                fields=_CSV_FIELDS,
            )
        except Problem as problem:
            row.status, row.field, row.message = "error", problem.field, problem.detail
            continue
        edge = _edge_key(origin.id, kind, destination.id)
        if edge in seen:
            row.status = "duplicate"
            continue
        seen.add(edge)
        planned.append((row, origin, kind, destination))
    if report.errors:
        session.rollback()
        log.info("crosswalks.csv_refused", rows=len(report.rows))
        raise CsvRefused(report)

    try:
        _write_planned(session, organization_id=organization_id, planned=planned)
        session.commit()
    except Exception:
        session.rollback()
        raise
    log.info(
        "crosswalks.csv_imported",
        rows=len(report.rows),
        created=report.count("created"),
        existing=report.count("exists"),
    )
    return report


# Steps


_API_FIELDS = {
    "origin": "origin",
    "destination": "destination",
    "association_type": "association_type",
    "origin_framework": "origin_framework",
    "destination_framework": "destination_framework",
}
_CSV_FIELDS = {
    "origin": "origin_identifier",
    "destination": "destination_identifier",
    "association_type": "association_type",
    "origin_framework": "origin_framework",
    "destination_framework": "destination_framework",
}


def _resolved(
    session: Session,
    *,
    organization_id: uuid.UUID,
    request: CrosswalkRequest,
    fields: dict[str, str] = _API_FIELDS,
) -> tuple[Competency, str, Competency]:
    kind = _crosswalk_type(request.association_type, field=fields["association_type"])
    origin = _resolve_end(
        session,
        organization_id=organization_id,
        reference=request.origin,
        framework=request.origin_framework,
        field=fields["origin"],
        framework_field=fields["origin_framework"],
    )
    destination = _resolve_end(
        session,
        organization_id=organization_id,
        reference=request.destination,
        framework=request.destination_framework,
        field=fields["destination"],
        framework_field=fields["destination_framework"],
    )
    if origin.id == destination.id:
        raise Problem(
            422,
            "crosswalk-to-itself",
            f"The origin and destination are the same competency ({origin.id}).",
            field=fields["destination"],
        )
    if origin.framework_id == destination.framework_id:
        raise Problem(
            422,
            "crosswalk-within-framework",
            "A crosswalk links two different frameworks; both ends are in "
            f"framework {origin.framework_id}.",
            field=fields["destination"],
        )
    return origin, kind, destination


def _crosswalk_type(given: str, *, field: str) -> str:
    value = (given or "").strip()
    kind = canonical_type(value)
    if kind == "isChildOf":
        raise Problem(
            422,
            "association-type-not-crosswalk",
            "isChildOf builds a framework's tree; a crosswalk uses another "
            "type such as exactMatchOf or isRelatedTo.",
            field=field,
        )
    if kind in ASSOCIATION_TYPES or _EXTENSION_TYPE.fullmatch(kind):
        return kind
    allowed = ", ".join(t for t in ASSOCIATION_TYPES if t != "isChildOf")
    raise Problem(
        422,
        "association-type-unknown",
        f"{value!r} is not a CASE association type; use one of {allowed} "
        "or an ext: name.",
        field=field,
    )


def _resolve_end(
    session: Session,
    *,
    organization_id: uuid.UUID,
    reference: str,
    framework: str | None,
    field: str,
    framework_field: str,
) -> Competency:
    """The one active competency a reference names: our id, its CFItem
    identifier, or the uuid5 alias of a non-UUID identifier."""
    reference = (reference or "").strip()
    if not reference:
        raise Problem(
            422,
            "competency-missing",
            f"{field} is empty; name a competency.",
            field=field,
        )
    candidates = _candidates(session, organization_id=organization_id, key=reference)
    if framework and framework.strip():
        candidates = [
            pair
            for pair in candidates
            if _framework_matches(pair[1], framework.strip())
        ]
    if not candidates:
        where = f" in framework {framework.strip()!r}" if framework else ""
        raise Problem(
            422,
            "competency-not-found",
            f"No competency has the id or CASE identifier {reference!r}{where}.",
            field=field,
        )
    if len(candidates) > 1:
        titles = "; ".join(sorted(repr(pair[1].title) for pair in candidates))
        raise Problem(
            422,
            "competency-ambiguous",
            f"{reference!r} names competencies in several frameworks ({titles}); "
            f"give {framework_field} (a framework id or CFDocument identifier).",
            field=field,
        )
    return candidates[0][0]


def _candidates(
    session: Session, *, organization_id: uuid.UUID, key: str
) -> list[tuple[Competency, Framework]]:
    lowered = key.lower()
    conditions = [
        Competency.identifier_key == lowered,
        Competency.alias_key == lowered,
    ]
    with contextlib.suppress(ValueError):
        conditions.append(Competency.id == uuid.UUID(key))
    statement = (
        select(Competency, Framework)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Framework.organization_id == organization_id)
        .where(Competency.retired_at.is_(None))
        .where(or_(*conditions))
        .order_by(Framework.created_at)
    )
    return [
        (competency, framework) for competency, framework in session.execute(statement)
    ]


def _framework_matches(framework: Framework, given: str) -> bool:
    lowered = given.lower()
    return lowered in {
        str(framework.id),
        framework.identifier_key,
        alias_key(framework.identifier) or "",
    }


def _edge_key(
    origin_id: uuid.UUID, kind: str, destination_id: uuid.UUID
) -> tuple[uuid.UUID, str, uuid.UUID]:
    """One key for both directions of a symmetric link."""
    if kind.lower() in SYMMETRIC_TYPES and destination_id < origin_id:
        origin_id, destination_id = destination_id, origin_id
    return origin_id, kind.lower(), destination_id


def _stored_crosswalk(
    session: Session,
    *,
    document_id: uuid.UUID,
    origin_id: uuid.UUID,
    kind: str,
    destination_id: uuid.UUID,
) -> Association | None:
    same_way = and_(
        Association.origin_competency_id == origin_id,
        Association.destination_competency_id == destination_id,
    )
    ends = same_way
    if kind.lower() in SYMMETRIC_TYPES:
        ends = or_(
            same_way,
            and_(
                Association.origin_competency_id == destination_id,
                Association.destination_competency_id == origin_id,
            ),
        )
    statement = (
        select(Association)
        .where(Association.framework_id == document_id)
        .where(func.lower(Association.association_type) == kind.lower())
        .where(ends)
        .limit(1)
    )
    return session.scalars(statement).first()


def _insert(
    session: Session,
    *,
    document: Framework,
    origin: Competency,
    kind: str,
    destination: Competency,
) -> Association:
    now = utcnow()
    identifier = str(new_id())
    association = Association(
        id=new_id(),
        framework_id=document.id,
        identifier=identifier,
        identifier_key=identifier,
        association_type=kind,
        origin_identifier=origin.identifier,
        origin_uri=origin.uri,
        origin_competency_id=origin.id,
        destination_identifier=destination.identifier,
        destination_uri=destination.uri,
        destination_competency_id=destination.id,
        destination_is_document=False,
        association={
            "identifier": identifier,
            "associationType": kind,
            "originNodeURI": _node(origin),
            "destinationNodeURI": _node(destination),
            "lastChangeDateTime": now.isoformat(),
        },
    )
    session.add(association)
    document.last_change_at = now
    session.flush()
    return association


def _node(competency: Competency) -> dict[str, Any]:
    node: dict[str, Any] = {
        "title": competency.human_coding_scheme or competency.full_statement[:60],
        "identifier": competency.identifier,
    }
    if competency.uri:
        node["uri"] = competency.uri
    return node


def _write_planned(
    session: Session,
    *,
    organization_id: uuid.UUID,
    planned: list[tuple[CsvRow, Competency, str, Competency]],
) -> None:
    if not planned:
        return
    document = district_document(session, organization_id=organization_id, create=True)
    assert document is not None
    for row, origin, kind, destination in planned:
        existing = _stored_crosswalk(
            session,
            document_id=document.id,
            origin_id=origin.id,
            kind=kind,
            destination_id=destination.id,
        )
        if existing is not None:
            row.status, row.association_id = "exists", existing.id
            continue
        association = _insert(
            session,
            document=document,
            origin=origin,
            kind=kind,
            destination=destination,
        )
        row.association_id = association.id


def _csv_records(text: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs; a header that does not fit refuses the file."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in CSV_COLUMNS if name not in header]
    unknown = [
        name for name in header if name not in CSV_COLUMNS + CSV_OPTIONAL_COLUMNS
    ]
    if not header or missing or unknown:
        problems = []
        if missing or not header:
            problems.append(f"missing column(s) {', '.join(missing or CSV_COLUMNS)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        raise Problem(
            422,
            "csv-header-invalid",
            f"The CSV header {','.join(header) or '(empty)'} has "
            f"{' and '.join(problems)}; the columns are "
            f"{','.join(CSV_COLUMNS)}[,{','.join(CSV_OPTIONAL_COLUMNS)}]. "
            "Nothing was stored.",
            field="header",
        )
    reader.fieldnames = header
    records: list[tuple[int, dict[str, str]]] = []
    for record in reader:
        values = {key: (value or "").strip() for key, value in record.items() if key}
        if not any(values.values()):
            continue
        records.append((reader.line_num, values))
    if not records:
        raise Problem(
            422,
            "csv-empty",
            "The CSV has a header but no rows; nothing was stored.",
            field="body",
        )
    return records


def _exact_match_neighbours(
    session: Session, *, ids: set[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    found: dict[uuid.UUID, set[uuid.UUID]] = {node: set() for node in ids}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _LOOKUP_BATCH):
        batch = ordered[start : start + _LOOKUP_BATCH]
        statement = (
            select(
                Association.origin_competency_id, Association.destination_competency_id
            )
            .where(func.lower(Association.association_type) == EXACT_MATCH)
            .where(Association.origin_competency_id.is_not(None))
            .where(Association.destination_competency_id.is_not(None))
            .where(
                or_(
                    Association.origin_competency_id.in_(batch),
                    Association.destination_competency_id.in_(batch),
                )
            )
        )
        for origin, destination in session.execute(statement):
            if origin is None or destination is None or origin == destination:
                continue
            if origin in found:
                found[origin].add(destination)
            if destination in found:
                found[destination].add(origin)
    return found


def _competencies_with_frameworks(
    session: Session, *, ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[Competency, Framework]]:
    found: dict[uuid.UUID, tuple[Competency, Framework]] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _LOOKUP_BATCH):
        statement = (
            select(Competency, Framework)
            .join(Framework, Framework.id == Competency.framework_id)
            .where(Competency.id.in_(ordered[start : start + _LOOKUP_BATCH]))
        )
        for competency, framework in session.execute(statement):
            found[competency.id] = (competency, framework)
    return found


def _district_document_ids(session: Session) -> list[uuid.UUID]:
    organization_ids = session.scalars(select(Organization.id)).all()
    keys = [district_document_identifier(org) for org in organization_ids]
    if not keys:
        return []
    statement = select(Framework.id).where(Framework.identifier_key.in_(keys))
    return list(session.scalars(statement))


def _direction(kind: str, *, outgoing: bool) -> Direction:
    if kind.lower() in SYMMETRIC_TYPES:
        return "mutual"
    return "outgoing" if outgoing else "incoming"


def _existing_competency(session: Session, *, competency_id: uuid.UUID) -> Competency:
    competency = session.get(Competency, competency_id)
    if competency is None:
        raise Problem(
            404,
            "competency-not-found",
            f"No competency has the id {competency_id}.",
            field="competency_id",
        )
    return competency


def _crosswalk_not_found(association_id: uuid.UUID) -> Problem:
    return Problem(
        404,
        "crosswalk-not-found",
        f"No crosswalk has the id {association_id}.",
        field="association_id",
    )
