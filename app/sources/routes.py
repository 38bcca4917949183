"""/api/v1/case/sources and /api/v1/case/sync-runs."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.orm import Session

from app.database import get_session
from app.problems import Problem
from app.sources import service
from app.sources.models import CaseSource
from app.sources.schemas import SourceIn, SourceOut, SyncIn, SyncRunOut
from app.sources.sync import list_sync_runs, sync_source

router = APIRouter(prefix="/api/v1/case", tags=["case sources"])


@router.get("/sources", response_model=list[SourceOut])
def list_sources(session: Session = Depends(get_session)) -> list[SourceOut]:
    return [_source_out(source) for source in service.list_sources(session)]


@router.post(
    "/sources",
    status_code=status.HTTP_201_CREATED,
    response_model=SourceOut,
    responses={409: {"description": "A source has that name"}},
)
def add_source(
    body: SourceIn, request: Request, session: Session = Depends(get_session)
) -> SourceOut:
    """Follow a CASE provider. API keys and client secrets are stored encrypted
    (SECRET_KEY must be set) and are never returned."""
    try:
        source = service.add_source(
            session,
            secret_key=request.app.state.settings.secret_key,
            **body.model_dump(),
        )
    except service.SourceError as error:
        raise _problem(error) from error
    return _source_out(source)


@router.get("/sources/{source_id}", response_model=SourceOut)
def get_source(
    source_id: uuid.UUID, session: Session = Depends(get_session)
) -> SourceOut:
    return _source_out(_source_or_404(session, source_id))


@router.delete("/sources/{source_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_source(
    source_id: uuid.UUID, session: Session = Depends(get_session)
) -> Response:
    """Stop following a source; the frameworks it imported stay."""
    service.remove_source(session, source=_source_or_404(session, source_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/sources/{source_id}/sync", response_model=SyncRunOut)
def sync(
    source_id: uuid.UUID,
    request: Request,
    body: SyncIn | None = None,
    session: Session = Depends(get_session),
) -> SyncRunOut:
    """Synchronise the source now and answer with the recorded run.

    The request lasts as long as the run; a failed run is still a 200 whose
    `status` and `error` say what went wrong.
    """
    _source_or_404(session, source_id)
    run = sync_source(
        request.app.state.sessionmaker,
        source_id=source_id,
        secret_key=request.app.state.settings.secret_key,
        trigger="api",
        full=body.full if body else False,
    )
    return SyncRunOut.model_validate(run)


@router.get("/sync-runs", response_model=list[SyncRunOut])
def sync_runs(
    source_id: uuid.UUID | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    session: Session = Depends(get_session),
) -> list[SyncRunOut]:
    """Recent synchronisation runs, newest first."""
    runs = list_sync_runs(session, source_id=source_id, limit=limit)
    return [SyncRunOut.model_validate(run) for run in runs]


def _source_or_404(session: Session, source_id: uuid.UUID) -> CaseSource:
    source = session.get(CaseSource, source_id)
    if source is None:
        raise Problem(
            404,
            "source-not-found",
            f"No CASE source has id {source_id}.",
            field="source_id",
        )
    return source


def _source_out(source: CaseSource) -> SourceOut:
    return SourceOut.model_validate(
        {
            **{
                name: getattr(source, name)
                for name in SourceOut.model_fields
                if name != "has_credentials"
            },
            "has_credentials": source.credentials is not None,
        }
    )


def _problem(error: service.SourceError) -> Problem:
    status_code = {"source-exists": 409}.get(error.code, 422)
    return Problem(status_code, error.code, str(error), field=error.field)
