"""Bulk evidence: rows read one line at a time, stored a chunk at a time.

An upload is CSV (a header line, then one row per line; fields may be quoted
but not span lines) or JSON lines (one object per line with the same names
as the CSV columns). The body is never held whole: lines are split off the
request stream as they arrive, collected into chunks, and each chunk is
stored and committed before the next is read. A row is reported by its line
number in the upload (a CSV header is line 1), so a spreadsheet row number
and a report row agree.

Each chunk is one `INSERT ... ON CONFLICT DO NOTHING` on the idempotency-key
constraint; reading the keys back then tells a stored row (its id is ours)
from a duplicate (another id holds the key), so two uploads racing with the
same rows store each row once.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.activities.models import Activity, Alignment
from app.database import new_id, utcnow
from app.evidence.models import Evidence
from app.evidence.service import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    SOURCE_MAX_LENGTH,
    checked_scores,
    insert_ignoring_conflicts,
)
from app.mastery.service import recompute_mastery
from app.people.models import Person, PersonIdentifier
from app.people.service import EMAIL_SCHEME
from app.problems import Problem

CSV_MEDIA_TYPE = "text/csv"
NDJSON_MEDIA_TYPES = ("application/x-ndjson", "application/jsonl")
BULK_SOURCE = "bulk"
STORED = "stored"
DUPLICATE = "duplicate"
REJECTED = "rejected"
MAX_LINE_CHARACTERS = 1_000_000

PERSON_COLUMNS = ("person_id", "person_scheme", "person_value", "person_issuer")
ACTIVITY_COLUMNS = ("activity_id", "activity_source", "activity_external_id")
RESULT_COLUMNS = ("score", "max_score", "occurred_at", "idempotency_key")
KNOWN_COLUMNS = frozenset(
    PERSON_COLUMNS + ACTIVITY_COLUMNS + RESULT_COLUMNS + ("source",)
)

log = structlog.get_logger()


class RowRejected(Exception):
    """A row that cannot be stored; the message is the reason reported for it."""


@dataclass(frozen=True)
class RowOutcome:
    row: int
    status: str
    reason: str | None = None
    evidence_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ParsedRow:
    """One upload row checked for shape, before people and activities are found."""

    row: int
    person_id: uuid.UUID | None
    person: tuple[str, str, str] | None  # (scheme, issuer, value)
    activity_id: uuid.UUID | None
    activity: tuple[str, str] | None  # (source, external_id)
    score: Decimal
    max_score: Decimal
    occurred_at: datetime
    idempotency_key: str
    source: str


@dataclass
class Tally:
    rows: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: {STORED: 0, DUPLICATE: 0, REJECTED: 0}
    )

    def add(self, outcomes: Iterable[RowOutcome]) -> None:
        for outcome in outcomes:
            self.rows += 1
            self.counts[outcome.status] += 1


# Reading the upload


async def numbered_lines(
    chunks: AsyncIterator[bytes],
) -> AsyncIterator[tuple[int, str]]:
    """(line number, text) for each non-blank line of a UTF-8 byte stream."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    number = 0
    async for chunk in chunks:
        try:
            pending += decoder.decode(chunk)
        except UnicodeDecodeError:
            raise Problem(
                400,
                "upload-not-utf8",
                f"The upload is not UTF-8 text (after line {number}).",
                field="body",
            ) from None
        *complete, pending = pending.split("\n")
        if len(pending) > MAX_LINE_CHARACTERS:
            # A body without line breaks would otherwise be held whole.
            raise Problem(
                400,
                "upload-line-too-long",
                f"Line {number + 1} is longer than {MAX_LINE_CHARACTERS:,} "
                "characters; rows are separated by line breaks.",
                field="body",
            )
        for line in complete:
            number += 1
            if line.strip():
                yield number, line.rstrip("\r")
    pending += decoder.decode(b"", final=True)
    if pending.strip():
        yield number + 1, pending.rstrip("\r")


def upload_format(content_type: str | None) -> str:
    """ "csv" or "ndjson" from the Content-Type, or a 415 problem naming both."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == CSV_MEDIA_TYPE:
        return "csv"
    if media_type in NDJSON_MEDIA_TYPES:
        return "ndjson"
    raise Problem(
        415,
        "unsupported-upload-type",
        f"Send the rows as {CSV_MEDIA_TYPE} or {NDJSON_MEDIA_TYPES[0]} "
        f"(got {media_type or 'no Content-Type'}).",
        field="Content-Type",
    )


def csv_columns(header: str) -> list[str]:
    """The header's column names, or a 400 problem for a header we cannot use."""
    columns = [name.strip().lower() for name in next(csv.reader([header]))]
    unknown = [name for name in columns if name not in KNOWN_COLUMNS]
    if unknown:
        raise Problem(
            400,
            "csv-header-invalid",
            f"Line 1 must be the CSV header; unknown column {unknown[0]!r}. "
            f"The columns are {', '.join(sorted(KNOWN_COLUMNS))}.",
            field="header",
        )
    missing = _missing_columns(set(columns))
    if missing:
        raise Problem(
            400,
            "csv-header-invalid",
            f"The CSV header lacks {missing}.",
            field="header",
        )
    return columns


def _missing_columns(columns: set[str]) -> str | None:
    if "person_id" not in columns and not {"person_scheme", "person_value"} <= columns:
        return "person_id, or person_scheme and person_value"
    if (
        "activity_id" not in columns
        and not {
            "activity_source",
            "activity_external_id",
        }
        <= columns
    ):
        return "activity_id, or activity_source and activity_external_id"
    for name in RESULT_COLUMNS:
        if name not in columns:
            return name
    return None


def first_ndjson_object(line: str) -> None:
    """A 400 problem unless the first line is a JSON object: the upload's shape."""
    try:
        value = json.loads(line)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise Problem(
            400,
            "ndjson-invalid",
            "The first line is not a JSON object; JSON lines uploads hold one "
            "object per line.",
            field="body",
        )


def csv_fields(columns: list[str], line: str) -> dict[str, Any]:
    values = next(csv.reader([line]))
    if len(values) != len(columns):
        raise RowRejected(
            f"has {len(values)} fields where the header names {len(columns)}"
        )
    return {name: value for name, value in zip(columns, values, strict=True) if value}


def ndjson_fields(line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        raise RowRejected(f"is not valid JSON ({error.msg})") from None
    if not isinstance(value, dict):
        raise RowRejected("is not a JSON object")
    return {name: item for name, item in value.items() if item not in (None, "")}


def parsed_row(row: int, fields: dict[str, Any]) -> ParsedRow:
    """The row's values checked one by one; RowRejected names the first bad one."""
    unknown = sorted(set(fields) - KNOWN_COLUMNS)
    if unknown:
        raise RowRejected(f"unknown field {unknown[0]!r}")
    score, max_score = _scores(fields)
    return ParsedRow(
        row=row,
        person_id=_uuid(fields, "person_id"),
        person=_person(fields),
        activity_id=_uuid(fields, "activity_id"),
        activity=_activity(fields),
        score=score,
        max_score=max_score,
        occurred_at=_moment(fields.get("occurred_at")),
        idempotency_key=_text(
            fields, "idempotency_key", max_length=IDEMPOTENCY_KEY_MAX_LENGTH
        ),
        source=_text(
            fields, "source", max_length=SOURCE_MAX_LENGTH, default=BULK_SOURCE
        ),
    )


def _uuid(fields: dict[str, Any], name: str) -> uuid.UUID | None:
    if name not in fields:
        return None
    try:
        return uuid.UUID(str(fields[name]))
    except ValueError:
        raise RowRejected(f"{name} is not a UUID") from None


def _person(fields: dict[str, Any]) -> tuple[str, str, str] | None:
    if "person_id" in fields:
        return None
    if "person_scheme" not in fields or "person_value" not in fields:
        raise RowRejected("names no person: give person_id or person_scheme and value")
    scheme = str(fields["person_scheme"]).strip().lower()
    value = str(fields["person_value"]).strip()
    # Addresses arrive in whatever case a system kept them; they name one inbox.
    if scheme == EMAIL_SCHEME:
        value = value.lower()
    return scheme, str(fields.get("person_issuer", "")).strip(), value


def _activity(fields: dict[str, Any]) -> tuple[str, str] | None:
    if "activity_id" in fields:
        return None
    if "activity_source" not in fields or "activity_external_id" not in fields:
        raise RowRejected(
            "names no activity: give activity_id or activity_source and "
            "activity_external_id"
        )
    return str(fields["activity_source"]), str(fields["activity_external_id"])


def _scores(fields: dict[str, Any]) -> tuple[Decimal, Decimal]:
    numbers = []
    for name in ("score", "max_score"):
        if name not in fields or isinstance(fields[name], bool):
            raise RowRejected(f"{name} is missing")
        try:
            numbers.append(Decimal(str(fields[name]).strip()))
        except InvalidOperation:
            raise RowRejected(f"{name} is not a number") from None
    try:
        return checked_scores(numbers[0], numbers[1])
    except Problem as problem:
        raise RowRejected(problem.detail) from None


def _moment(value: Any) -> datetime:
    if not isinstance(value, str):
        raise RowRejected("occurred_at is missing")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RowRejected("occurred_at is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise RowRejected("occurred_at has no UTC offset")
    return moment.astimezone(UTC)


def _text(
    fields: dict[str, Any], name: str, *, max_length: int, default: str | None = None
) -> str:
    value = str(fields.get(name, default or ""))
    if not value:
        raise RowRejected(f"{name} is missing")
    if len(value) > max_length:
        raise RowRejected(f"{name} is longer than {max_length} characters")
    return value


# Storing a chunk


def store_chunk(
    session: Session,
    *,
    organization_id: uuid.UUID,
    rows: list[ParsedRow],
    threshold: Decimal | None,
) -> list[RowOutcome]:
    """Store the chunk's new rows, recompute the mastery they touch, commit.

    Returns one outcome per row, in row order.
    """
    outcomes: dict[int, RowOutcome] = {}
    people = _people(session, organization_id=organization_id, rows=rows)
    activities = _activities(session, organization_id=organization_id, rows=rows)

    candidates: dict[int, dict[str, Any]] = {}
    for row in rows:
        try:
            candidates[row.row] = _evidence_values(
                row,
                organization_id=organization_id,
                person_id=_found_person(row, people),
                activity_id=_found_activity(row, activities),
            )
        except RowRejected as rejection:
            outcomes[row.row] = RowOutcome(row.row, REJECTED, str(rejection))

    _insert_new(session, list(candidates.values()))
    stored = _stored_by_key(
        session,
        organization_id=organization_id,
        keys={values["idempotency_key"] for values in candidates.values()},
    )
    for number, values in candidates.items():
        outcomes[number] = _outcome(number, values, stored[values["idempotency_key"]])

    new = [
        values
        for number, values in candidates.items()
        if outcomes[number].status == STORED
    ]
    _recompute(session, new=new, threshold=threshold)
    session.commit()
    return [outcomes[row.row] for row in rows]


def _people(
    session: Session, *, organization_id: uuid.UUID, rows: list[ParsedRow]
) -> dict[Any, uuid.UUID]:
    """Person ids by identifier tuple, and by their own id when named by it."""
    found: dict[Any, uuid.UUID] = {}
    identifiers = {row.person for row in rows if row.person is not None}
    if identifiers:
        statement = (
            select(
                PersonIdentifier.scheme,
                PersonIdentifier.issuer,
                PersonIdentifier.value,
                PersonIdentifier.person_id,
            )
            .where(PersonIdentifier.organization_id == organization_id)
            .where(
                tuple_(
                    PersonIdentifier.scheme,
                    PersonIdentifier.issuer,
                    PersonIdentifier.value,
                ).in_(list(identifiers))
            )
        )
        for scheme, issuer, value, person_id in session.execute(statement):
            found[(scheme, issuer, value)] = person_id
    ids = {row.person_id for row in rows if row.person_id is not None}
    if ids:
        by_id = (
            select(Person.id)
            .where(Person.organization_id == organization_id)
            .where(Person.id.in_(ids))
        )
        found.update({person_id: person_id for person_id in session.scalars(by_id)})
    return found


def _activities(
    session: Session, *, organization_id: uuid.UUID, rows: list[ParsedRow]
) -> dict[Any, uuid.UUID]:
    found: dict[Any, uuid.UUID] = {}
    references = {row.activity for row in rows if row.activity is not None}
    if references:
        statement = (
            select(Activity.source, Activity.external_id, Activity.id)
            .where(Activity.organization_id == organization_id)
            .where(tuple_(Activity.source, Activity.external_id).in_(list(references)))
        )
        for source, external_id, activity_id in session.execute(statement):
            found[(source, external_id)] = activity_id
    ids = {row.activity_id for row in rows if row.activity_id is not None}
    if ids:
        by_id = (
            select(Activity.id)
            .where(Activity.organization_id == organization_id)
            .where(Activity.id.in_(ids))
        )
        found.update(
            {activity_id: activity_id for activity_id in session.scalars(by_id)}
        )
    return found


def _found_person(row: ParsedRow, people: dict[Any, uuid.UUID]) -> uuid.UUID:
    key = row.person_id if row.person_id is not None else row.person
    if key not in people:
        if row.person is not None:
            scheme, _issuer, value = row.person
            raise RowRejected(f"no person has the {scheme} identifier {value!r}")
        raise RowRejected(f"no person has the id {row.person_id}")
    return people[key]


def _found_activity(row: ParsedRow, activities: dict[Any, uuid.UUID]) -> uuid.UUID:
    key = row.activity_id if row.activity_id is not None else row.activity
    if key not in activities:
        if row.activity is not None:
            source, external_id = row.activity
            raise RowRejected(
                f"no activity has the external id {external_id!r} from {source!r}"
            )
        raise RowRejected(f"no activity has the id {row.activity_id}")
    return activities[key]


def _evidence_values(
    row: ParsedRow,
    *,
    organization_id: uuid.UUID,
    person_id: uuid.UUID,
    activity_id: uuid.UUID,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "organization_id": organization_id,
        "person_id": person_id,
        "activity_id": activity_id,
        "score": row.score,
        "max_score": row.max_score,
        "occurred_at": row.occurred_at,
        "received_at": utcnow(),
        "source": row.source,
        "idempotency_key": row.idempotency_key,
    }


def _insert_new(session: Session, candidates: list[dict[str, Any]]) -> None:
    """Insert every candidate whose key is not yet stored, in one statement.

    A key repeated inside the chunk is sent once; the read-back classifies
    the repeats against the row that was kept.
    """
    first_by_key: dict[str, dict[str, Any]] = {}
    for values in candidates:
        first_by_key.setdefault(values["idempotency_key"], values)
    if not first_by_key:
        return
    insert_ignoring_conflicts(session, list(first_by_key.values()))


def _stored_by_key(
    session: Session, *, organization_id: uuid.UUID, keys: set[str]
) -> dict[str, Evidence]:
    if not keys:
        return {}
    statement = (
        select(Evidence)
        .where(Evidence.organization_id == organization_id)
        .where(Evidence.idempotency_key.in_(keys))
    )
    return {
        evidence.idempotency_key: evidence for evidence in session.scalars(statement)
    }


def _outcome(number: int, values: dict[str, Any], stored: Evidence) -> RowOutcome:
    if stored.id == values["id"]:
        return RowOutcome(number, STORED, evidence_id=stored.id)
    same = (
        stored.person_id == values["person_id"]
        and stored.activity_id == values["activity_id"]
        and stored.score == values["score"]
        and stored.max_score == values["max_score"]
        and stored.occurred_at == values["occurred_at"]
    )
    if same:
        return RowOutcome(number, DUPLICATE, evidence_id=stored.id)
    return RowOutcome(
        number,
        REJECTED,
        "idempotency_key was already used for a different result "
        f"(evidence {stored.id})",
        evidence_id=stored.id,
    )


def _recompute(
    session: Session, *, new: list[dict[str, Any]], threshold: Decimal | None
) -> None:
    """One recomputation per person over every competency the chunk touched."""
    if not new:
        return
    statement = select(Alignment.activity_id, Alignment.competency_id).where(
        Alignment.activity_id.in_({values["activity_id"] for values in new})
    )
    competencies: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for activity_id, competency_id in session.execute(statement):
        competencies[activity_id].add(competency_id)

    touched: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for values in new:
        touched[values["person_id"]] |= competencies[values["activity_id"]]
    # A fixed order keeps two uploads from locking mastery rows in opposite
    # orders.
    for person_id in sorted(touched):
        if touched[person_id]:
            recompute_mastery(
                session,
                person_id=person_id,
                competency_ids=sorted(touched[person_id]),
                threshold=threshold,
            )


# Reporting


REPORT_COLUMNS = ("row", "status", "reason", "evidence_id")


def report_header(upload: str) -> str:
    return ",".join(REPORT_COLUMNS) + "\r\n" if upload == "csv" else ""


def report_line(upload: str, outcome: RowOutcome) -> str:
    evidence_id = str(outcome.evidence_id) if outcome.evidence_id else None
    if upload == "csv":
        return _csv_line([outcome.row, outcome.status, outcome.reason, evidence_id])
    body = {
        "row": outcome.row,
        "status": outcome.status,
        "reason": outcome.reason,
        "evidence_id": evidence_id,
    }
    return json.dumps(body) + "\n"


def summary_line(upload: str, tally: Tally) -> str:
    """The last line: how many rows were read and what became of them."""
    if upload == "csv":
        counts = " ".join(f"{name}={count}" for name, count in tally.counts.items())
        return _csv_line(["summary", None, f"rows={tally.rows} {counts}", None])
    return json.dumps({"summary": {"rows": tally.rows, **tally.counts}}) + "\n"


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(["" if value is None else value for value in values])
    return buffer.getvalue()
