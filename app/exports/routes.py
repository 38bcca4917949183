"""The exports API: a person's data, a group's mastery, and Open Badges 3.0."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from app.database import get_session
from app.exports.badges import IDENTITY_EMAIL, IDENTITY_OPAQUE, badge_credentials
from app.exports.service import (
    AGGREGATE_CSV_COLUMNS,
    GROUP_CSV_COLUMNS,
    PERSON_CSV_COLUMNS,
    aggregate_rows,
    group_rows,
    person_document,
    person_export,
    person_rows,
)
from app.frameworks.models import Framework
from app.organizations.service import get_default_organization_id
from app.people.models import Person
from app.people.service import resolve_person
from app.problems import PROBLEM_MEDIA_TYPE, Problem
from app.reports.service import Scope, resolve_scope

router = APIRouter(prefix="/api/v1", tags=["exports"])
log = structlog.get_logger()

CSV_MEDIA_TYPE = "text/csv"
LD_MEDIA_TYPE = "application/ld+json"
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "The person, context, organization or framework does not exist",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
    422: {"description": "A parameter is missing or malformed"},
}

Format = Literal["json", "csv"]


def _person(session: Session, person_id: uuid.UUID) -> Person:
    return resolve_person(
        session,
        organization_id=get_default_organization_id(session),
        person_id=person_id,
        field="person_id",
    )


def _csv_lines(columns: list[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            {key: "" if value is None else value for key, value in row.items()}
        )
        yield buffer.getvalue()


def _json_array(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + json.dumps(row)
    yield "]"


def _download(name: str, extension: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}.{extension}"'}


@router.get(
    "/people/{person_id}/export",
    responses={
        **PROBLEM_RESPONSES,
        200: {
            "description": "The person, their mastery and all their evidence",
            "content": {"application/json": {}, CSV_MEDIA_TYPE: {}},
        },
    },
)
def export_person(
    person_id: uuid.UUID,
    format: Format = Query("json", description="json or csv"),
    session: Session = Depends(get_session),
) -> Response:
    """Everything held on the person's progress, for them or for another system.

    CSV has one row per mastery standing (`record` mastery), then one per
    piece of evidence (`record` evidence), voided evidence included.
    """
    person = _person(session, person_id)
    export = person_export(session, person=person)
    # Personal data leaving the service: who it was about, never what.
    log.info("export.person", person_id=str(person.id), format=format)
    name = f"person-{person.id}"
    if format == "csv":
        return Response(
            "".join(_csv_lines(PERSON_CSV_COLUMNS, person_rows(export))),
            media_type=CSV_MEDIA_TYPE,
            headers=_download(name, "csv"),
        )
    return JSONResponse(person_document(export), headers=_download(name, "json"))


@router.get(
    "/people/{person_id}/badges",
    responses={
        **PROBLEM_RESPONSES,
        200: {
            "description": "One unsigned Open Badges 3.0 OpenBadgeCredential per "
            "mastered competency",
            "content": {LD_MEDIA_TYPE: {}},
        },
    },
)
def get_badges(
    request: Request,
    person_id: uuid.UUID,
    identity: Literal["id", "email"] = Query(
        IDENTITY_OPAQUE,
        description="How the credential names the person: `id` (an opaque "
        "urn:uuid) or `email` (a salted SHA-256 hash of their address)",
    ),
    session: Session = Depends(get_session),
) -> Response:
    """Unsigned OpenBadgeCredentials, one per mastered competency.

    Each achievement is aligned to its CFItem (`targetType` CFItem); sign
    them with the issuer's own key before handing them to a wallet.
    """
    person = _person(session, person_id)
    credentials = badge_credentials(
        session,
        person=person,
        public_url=request.app.state.settings.public_url,
        identity=IDENTITY_EMAIL if identity == "email" else IDENTITY_OPAQUE,
    )
    log.info("export.badges", person_id=str(person.id), badges=len(credentials))
    return JSONResponse(credentials, media_type=LD_MEDIA_TYPE)


@router.get(
    "/exports/mastery",
    responses={
        **PROBLEM_RESPONSES,
        200: {
            "description": "Streamed rows: person x competency, or counts per "
            "organization and competency for a state scope",
            "content": {"application/json": {}, CSV_MEDIA_TYPE: {}},
        },
    },
)
def export_group(
    request: Request,
    context_id: uuid.UUID | None = Query(None, description="A course or section"),
    organization_id: uuid.UUID | None = Query(
        None, description="A state, district or school, with everything below it"
    ),
    framework_id: uuid.UUID | None = Query(
        None, description="Only competencies of this framework"
    ),
    format: Format = Query("csv", description="csv or json"),
    session: Session = Depends(get_session),
) -> StreamingResponse:
    """A group's stored mastery, streamed. State scopes get counts only."""
    scope = resolve_scope(
        session, context_id=context_id, organization_id=organization_id
    )
    if framework_id is not None and session.get(Framework, framework_id) is None:
        raise Problem(
            404,
            "framework-not-found",
            f"No framework has the id {framework_id}.",
            field="framework_id",
        )
    log.info(
        "export.group",
        scope_kind=scope.kind,
        scope_id=str(scope.id),
        personal_data=scope.personal,
        format=format,
    )
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    rows = _streamed_rows(factory, scope=scope, framework_id=framework_id)
    name = f"mastery-{scope.kind}-{scope.id}"
    if format == "json":
        return StreamingResponse(
            _json_array(rows),
            media_type="application/json",
            headers=_download(name, "json"),
        )
    columns = GROUP_CSV_COLUMNS if scope.personal else AGGREGATE_CSV_COLUMNS
    return StreamingResponse(
        _csv_lines(columns, rows),
        media_type=CSV_MEDIA_TYPE,
        headers=_download(name, "csv"),
    )


def _streamed_rows(
    factory: Callable[[], Session],
    *,
    scope: Scope,
    framework_id: uuid.UUID | None,
) -> Iterator[dict[str, Any]]:
    # The request's session closes before the body is sent; the stream
    # reads through a session of its own.
    with factory() as session:
        produce = group_rows if scope.personal else aggregate_rows
        yield from produce(session, scope=scope, framework_id=framework_id)
