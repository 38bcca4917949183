"""`standards-bridge lms`: roster and grade syncs with the LMSs, run by hand."""

from __future__ import annotations

import uuid

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from app.lms_services import service
from app.platforms.cli import CommandError, store_session
from app.problems import Problem
from app.settings import get_settings

lms_app = typer.Typer(
    help="LTI Advantage services: rosters (NRPS) and grades (AGS).",
    no_args_is_help=True,
)

out = Console()
err = Console(stderr=True)


def _uuid(value: str | None, *, option: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CommandError(f"{option} must be a UUID, got {value!r}.") from None


def _fail(message: str) -> None:
    err.print(f"[red]Error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@lms_app.command("grades-sync")
def grades_sync(
    platform: str | None = typer.Option(
        None, "--platform", help="Only this platform's line items (its id)"
    ),
) -> None:
    """Record the grades given inside the LMS as evidence."""
    try:
        platform_id = _uuid(platform, option="--platform")
        with store_session() as session:
            report = service.sync_results(
                session,
                platform_id=platform_id,
                threshold=get_settings().mastery_threshold,
            )
    except (CommandError, Problem, OperationalError) as error:
        _fail(_message(error, option="--platform"))
        return
    out.print(
        f"{report.line_items} line items, {report.results_read} results read, "
        f"{report.evidence_recorded} new evidence, "
        f"{report.already_recorded} already recorded, "
        f"{report.people_created} people created, "
        f"{report.line_items_gone} line items gone"
    )
    _report_failures(report.failures)


@lms_app.command("roster-sync")
def roster_sync(
    context: str | None = typer.Option(
        None, "--context", help="Only this context's roster (its id)"
    ),
) -> None:
    """Read course rosters into people and memberships."""
    try:
        context_id = _uuid(context, option="--context")
        with store_session() as session:
            report = service.sync_roster(session, context_id=context_id)
    except (CommandError, Problem, OperationalError) as error:
        _fail(_message(error, option="--context"))
        return
    out.print(
        f"{report.contexts} contexts, {report.members_read} members read, "
        f"{report.people_created} people created, "
        f"{report.marked_inactive} marked inactive"
    )
    _report_failures(report.failures)


@lms_app.command("passback-retry")
def passback_retry() -> None:
    """Post again the scores an LMS has not yet accepted."""
    try:
        with store_session() as session:
            report = service.retry_failed_passbacks(session)
    except (CommandError, OperationalError) as error:
        _fail(_message(error, option=""))
        return
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(report.statuses.items()))
    out.print(f"{report.attempted} scores tried again ({statuses or 'none'})")


def _message(error: Exception, *, option: str) -> str:
    if isinstance(error, Problem):
        return f"{error.detail} ({option})" if option else error.detail
    if isinstance(error, OperationalError):
        return f"the store cannot be used: {error.orig}"
    return str(error)


def _report_failures(failures: list[str]) -> None:
    for failure in failures:
        err.print(f"[yellow]Not synced:[/yellow] {failure}", highlight=False)
    if failures:
        raise typer.Exit(1)
