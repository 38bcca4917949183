"""Probes and metrics for whoever runs the service (orchestrator, Prometheus)."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from app.operations.metrics import ServiceMetrics
from app.operations.readiness import MigrationState, ReadinessProbe
from app.problems import PROBLEM_MEDIA_TYPE, Problem, problem_response

router = APIRouter(tags=["operations"])

log = structlog.get_logger()


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    # No database access: a database outage must not get healthy processes
    # restarted; /readyz is where it shows.
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the database answers and no migration is pending",
    responses={503: {"description": "Not ready; the problem names what is wrong"}},
)
def readyz(request: Request) -> Any:
    probe: ReadinessProbe = request.app.state.readiness
    try:
        probe.database_answers()
        migrations = probe.migration_state()
    except SQLAlchemyError as error:
        log.warning("readiness.database_unreachable", error=type(error).__name__)
        return problem_response(
            Problem(
                503,
                "database-unreachable",
                "The database did not answer a trivial query.",
                title="Database unreachable",
            )
        )
    if migrations.pending:
        log.warning(
            "readiness.migrations_pending",
            current=list(migrations.current),
            head=list(migrations.head),
        )
        return _migrations_pending(migrations)
    return {"status": "ready", "database": "ok", "revision": list(migrations.head)}


@router.get("/metrics", summary="Prometheus metrics (text exposition format)")
def metrics(request: Request) -> Response:
    service_metrics: ServiceMetrics = request.app.state.metrics
    content, media_type = service_metrics.exposition()
    return Response(content=content, media_type=media_type)


def _migrations_pending(migrations: MigrationState) -> JSONResponse:
    current = ", ".join(migrations.current) or "none"
    head = ", ".join(migrations.head)
    problem = Problem(
        503,
        "migrations-pending",
        f"The database schema is at revision {current} but this release "
        f"expects {head}; run `standards-bridge migrate`.",
        title="Migrations pending",
    )
    # RFC 9457 extension members, so tooling need not parse the sentence.
    body = problem.to_body() | {
        "current_revisions": list(migrations.current),
        "head_revisions": list(migrations.head),
    }
    return JSONResponse(body, status_code=503, media_type=PROBLEM_MEDIA_TYPE)
