"""The evidence API: a district system reports completed attempts, one or many."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from app.activities.service import resolve_activity
from app.auth.dependencies import require_scopes
from app.auth.service import AuthenticatedClient
from app.database import get_session
from app.evidence import bulk
from app.evidence.models import Evidence
from app.evidence.schemas import (
    EvidenceCreate,
    EvidenceDetail,
    EvidenceEventOut,
    EvidenceOut,
    EvidenceVoid,
)
from app.evidence.service import (
    evidence_events,
    get_evidence,
    record_evidence,
    void_evidence,
)
from app.operations.metrics import record_evidence_ingested
from app.organizations.service import get_default_organization_id
from app.people.service import resolve_person
from app.problems import PROBLEM_MEDIA_TYPE, Problem

router = APIRouter(prefix="/api/v1/evidence", tags=["evidence"])

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Already stored under this idempotency key; the body is "
        "the stored evidence"
    },
    404: {
        "description": "No such person or activity",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
    409: {
        "description": "The idempotency key was used for a different result",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
    422: {
        "description": "A field is missing, malformed or out of range",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
}
API_SOURCE = "api"

log = structlog.get_logger()


def _idempotency_key(body_key: str | None, header_key: str | None) -> str | None:
    if body_key is not None and header_key is not None and body_key != header_key:
        raise Problem(
            422,
            "idempotency-key-mismatch",
            "The Idempotency-Key header and the idempotency_key field differ; "
            "send one, or the same value in both.",
            field="idempotency_key",
        )
    return body_key if body_key is not None else header_key


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceOut,
    responses=PROBLEM_RESPONSES,
)
def post_evidence(
    body: EvidenceCreate,
    request: Request,
    response: Response,
    session: Session = Depends(get_session),
    idempotency_key: str | None = Header(
        default=None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Same meaning as the body's idempotency_key",
    ),
) -> EvidenceOut:
    """Record one completed attempt and recompute the person's mastery.

    The person may be named by our id or any identifier (`{"scheme": "sis",
    "value": "12345"}`), the activity by our id or its source and external id.
    """
    key = _idempotency_key(body.idempotency_key, idempotency_key)
    organization_id = get_default_organization_id(session)
    person = resolve_person(
        session,
        organization_id=organization_id,
        person_id=body.person.id,
        identifier=body.person.identifier(),
        field="person",
    )
    activity = resolve_activity(
        session,
        organization_id=organization_id,
        activity_id=body.activity.id,
        source=body.activity.source,
        external_id=body.activity.external_id,
        field="activity",
    )

    recorded = record_evidence(
        session,
        organization_id=organization_id,
        person_id=person.id,
        activity_id=activity.id,
        score=body.score,
        max_score=body.max_score,
        occurred_at=body.occurred_at,
        source=API_SOURCE,
        idempotency_key=key,
        threshold=request.app.state.settings.mastery_threshold,
    )
    session.commit()
    if not recorded.created:
        response.status_code = status.HTTP_200_OK
    return EvidenceOut.model_validate(recorded.evidence)


BULK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One report line per row (row, status, reason, evidence_id) "
        "in the upload's format, then a summary line",
        "content": {"application/x-ndjson": {}, "text/csv": {}},
    },
    400: {
        "description": "The upload is not CSV with a usable header or not JSON "
        "lines; nothing was stored",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
    415: {
        "description": "Content-Type is neither text/csv nor application/x-ndjson",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
}


class ReportResponse(StreamingResponse):
    """A streamed response that leaves the request body to the route.

    Starlette's StreamingResponse listens for a disconnect by reading the
    request while it streams, which would take body chunks the report is
    still being computed from; reading the body raises on a disconnect anyway.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stream_response(send)


@router.post(
    "/bulk",
    response_class=ReportResponse,
    responses=BULK_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
async def post_evidence_bulk(
    request: Request,
    caller: AuthenticatedClient = Depends(require_scopes("evidence:write")),
) -> ReportResponse:
    """Record many attempts from a CSV or JSON lines upload of any size.

    Columns (CSV header, or JSON object keys): `person_id` or `person_scheme`,
    `person_value` and optionally `person_issuer`; `activity_id` or
    `activity_source` and `activity_external_id`; `score`, `max_score`,
    `occurred_at` (RFC 3339 with an offset), `idempotency_key`, and optionally
    `source` (default `bulk`). Rows are committed in chunks as they arrive; a
    rejected row is reported and never stops the rest. Sending the same file
    again reports every stored row as a duplicate.
    """
    upload = bulk.upload_format(request.headers.get("content-type"))
    lines = bulk.numbered_lines(request.stream())
    first = await anext(lines, None)
    if first is None:
        raise Problem(400, "upload-empty", "The upload holds no rows.", field="body")
    if upload == "csv":
        columns = bulk.csv_columns(first[1])
    else:
        bulk.first_ndjson_object(first[1])
        columns = []

    report = _report(
        request,
        upload=upload,
        columns=columns,
        first=None if upload == "csv" else first,
        lines=lines,
        organization_id=caller.organization_id,
    )
    media_type = bulk.CSV_MEDIA_TYPE if upload == "csv" else "application/x-ndjson"
    return ReportResponse(report, media_type=media_type)


async def _report(
    request: Request,
    *,
    upload: str,
    columns: list[str],
    first: tuple[int, str] | None,
    lines: AsyncIterator[tuple[int, str]],
    organization_id: uuid.UUID,
) -> AsyncIterator[str]:
    """Parse, store a chunk, report it; repeat until the body ends."""
    settings = request.app.state.settings
    chunk_rows: int = settings.evidence_bulk_chunk_rows
    tally = bulk.Tally()
    yield bulk.report_header(upload)

    async def rows() -> AsyncIterator[tuple[int, str]]:
        if first is not None:
            yield first
        async for numbered in lines:
            yield numbered

    pending: list[bulk.ParsedRow] = []
    early: list[bulk.RowOutcome] = []
    async for number, line in rows():
        try:
            fields = (
                bulk.csv_fields(columns, line)
                if upload == "csv"
                else bulk.ndjson_fields(line)
            )
            pending.append(bulk.parsed_row(number, fields))
        except bulk.RowRejected as rejection:
            early.append(bulk.RowOutcome(number, bulk.REJECTED, str(rejection)))
        if len(pending) + len(early) >= chunk_rows:
            for text in await _stored_report(
                request, upload, pending, early, tally, organization_id
            ):
                yield text
            pending, early = [], []
    if pending or early:
        for text in await _stored_report(
            request, upload, pending, early, tally, organization_id
        ):
            yield text
    log.info("evidence.bulk_finished", rows=tally.rows, **tally.counts)
    yield bulk.summary_line(upload, tally)


async def _stored_report(
    request: Request,
    upload: str,
    pending: list[bulk.ParsedRow],
    early: list[bulk.RowOutcome],
    tally: bulk.Tally,
    organization_id: uuid.UUID,
) -> list[str]:
    outcomes = early
    if pending:
        stored = await run_in_threadpool(
            _store_chunk, request, pending=pending, organization_id=organization_id
        )
        outcomes = sorted(early + stored, key=lambda outcome: outcome.row)
    tally.add(outcomes)
    new = sum(1 for outcome in outcomes if outcome.status == bulk.STORED)
    if new:
        record_evidence_ingested(bulk.BULK_SOURCE, new)
    return [bulk.report_line(upload, outcome) for outcome in outcomes]


def _store_chunk(
    request: Request, *, pending: list[bulk.ParsedRow], organization_id: uuid.UUID
) -> list[bulk.RowOutcome]:
    with request.app.state.sessionmaker() as session:
        try:
            return bulk.store_chunk(
                session,
                organization_id=organization_id,
                rows=pending,
                threshold=request.app.state.settings.mastery_threshold,
            )
        except Exception:
            session.rollback()
            raise


@router.get(
    "/{evidence_id}",
    response_model=EvidenceDetail,
    responses={
        404: {"description": "No such evidence", "content": {PROBLEM_MEDIA_TYPE: {}}}
    },
)
def get_one_evidence(
    evidence_id: uuid.UUID,
    session: Session = Depends(get_session),
    caller: AuthenticatedClient = Depends(require_scopes("evidence:read")),
) -> EvidenceDetail:
    """The evidence, whether and why it was voided, and what happened to it."""
    evidence = get_evidence(
        session, organization_id=caller.organization_id, evidence_id=evidence_id
    )
    return _detail(session, evidence)


@router.post(
    "/{evidence_id}/void",
    response_model=EvidenceDetail,
    responses={
        404: {"description": "No such evidence", "content": {PROBLEM_MEDIA_TYPE: {}}},
        409: {"description": "Already voided", "content": {PROBLEM_MEDIA_TYPE: {}}},
    },
)
def post_void(
    evidence_id: uuid.UUID,
    body: EvidenceVoid,
    request: Request,
    session: Session = Depends(get_session),
    caller: AuthenticatedClient = Depends(require_scopes("evidence:write")),
) -> EvidenceDetail:
    """Void evidence: kept on record with its event, no longer counted by mastery."""
    evidence = void_evidence(
        session,
        organization_id=caller.organization_id,
        evidence_id=evidence_id,
        reason=body.reason,
        actor=caller.client_id,
        threshold=request.app.state.settings.mastery_threshold,
    )
    session.commit()
    return _detail(session, evidence)


def _detail(session: Session, evidence: Evidence) -> EvidenceDetail:
    events = evidence_events(session, evidence_id=evidence.id)
    return EvidenceDetail.model_validate(
        {
            **EvidenceOut.model_validate(evidence).model_dump(),
            "voided_at": evidence.voided_at,
            "void_reason": evidence.void_reason,
            "statement_id": evidence.statement_id,
            "events": [EvidenceEventOut.model_validate(event) for event in events],
        }
    )
