"""`standards-bridge case sources …`, `case sync` and `case sync-runs`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from app.database import make_engine, make_sessionmaker
from app.settings import get_settings
from app.sources import service
from app.sources.models import CaseSource, SyncRun
from app.sources.sync import list_sync_runs, sync_source

sources_app = typer.Typer(help="CASE providers to follow.", no_args_is_help=True)

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


def register_case_commands(case_app: typer.Typer) -> None:
    case_app.add_typer(sources_app, name="sources")
    case_app.command("sync")(sync_command)
    case_app.command("sync-runs")(sync_runs_command)


@contextmanager
def _sessions() -> Iterator[sessionmaker[Session]]:
    engine = make_engine(get_settings().database_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


@sources_app.command("add")
def add_command(
    name: str = typer.Argument(..., help="A name for the provider"),
    base_url: str = typer.Option(..., "--url", help="Provider root, before /ims/case"),
    case_version: str = typer.Option("1.1", "--case-version", help="1.0 or 1.1"),
    auth_method: str = typer.Option("none", "--auth", help="none, api_key or oauth2"),
    api_key: str | None = typer.Option(None, envvar="CASE_SOURCE_API_KEY"),
    api_key_header: str | None = typer.Option(None),
    token_url: str | None = typer.Option(None),
    client_id: str | None = typer.Option(None),
    client_secret: str | None = typer.Option(None, envvar="CASE_SOURCE_CLIENT_SECRET"),
    oauth_scope: str | None = typer.Option(None),
    follow: list[str] = typer.Option(
        [], "--follow", help="A CFDocument identifier to follow (repeat); none: all"
    ),
    schedule: str | None = typer.Option(
        None, help="Cron expression in UTC, e.g. '0 2 * * *'"
    ),
    disabled: bool = typer.Option(False, "--disabled", help="Store it switched off"),
) -> None:
    """Follow a CASE provider. Secrets are stored encrypted (needs SECRET_KEY)."""
    with _sessions() as factory, factory() as session:
        try:
            source = service.add_source(
                session,
                secret_key=get_settings().secret_key,
                name=name,
                base_url=base_url,
                case_version=case_version,
                auth_method=auth_method,
                api_key=api_key,
                api_key_header=api_key_header,
                token_url=token_url,
                client_id=client_id,
                client_secret=client_secret,
                oauth_scope=oauth_scope,
                followed_documents=follow,
                schedule=schedule,
                enabled=not disabled,
            )
        except service.SourceError as error:
            errors.print(f"[red]Error[/red] ({error.field}): {escape(str(error))}")
            raise typer.Exit(2) from None
        console.print(f"Added source {escape(source.name)} ({source.id})")


@sources_app.command("list")
def list_command() -> None:
    """Every source, with its schedule."""
    with _sessions() as factory, factory() as session:
        sources = service.list_sources(session)
    table = Table("id", "name", "url", "CASE", "auth", "schedule", "enabled")
    for source in sources:
        table.add_row(
            str(source.id),
            escape(source.name),
            escape(source.base_url),
            source.case_version,
            source.auth_method,
            source.schedule or "manual",
            "yes" if source.enabled else "no",
        )
    console.print(table)


@sources_app.command("show")
def show_command(source: str = typer.Argument(..., help="Source id or name")) -> None:
    """One source as JSON (credentials are never shown)."""
    with _sessions() as factory, factory() as session:
        found = _source_or_exit(session, source)
        typer.echo(json.dumps(_described(found), indent=2))


@sources_app.command("remove")
def remove_command(source: str = typer.Argument(..., help="Source id or name")) -> None:
    """Stop following a source; its imported frameworks stay."""
    with _sessions() as factory, factory() as session:
        found = _source_or_exit(session, source)
        service.remove_source(session, source=found)
        console.print(f"Removed source {escape(found.name)}")


def sync_command(
    source: str | None = typer.Argument(None, help="Source id or name; none: all"),
    full: bool = typer.Option(
        False, "--full", help="Fetch every package even if lastChangeDateTime is same"
    ),
) -> None:
    """Synchronise one source, or every enabled one, now."""
    settings = get_settings()
    with _sessions() as factory:
        with factory() as session:
            if source is None:
                targets = [s for s in service.list_sources(session) if s.enabled]
            else:
                targets = [_source_or_exit(session, source)]
        failed = False
        for target in targets:
            with _SyncBar() as bar:
                run = sync_source(
                    factory,
                    source_id=target.id,
                    secret_key=settings.secret_key,
                    trigger="manual",
                    full=full,
                    progress=bar,
                )
            _print_run(target.name, run)
            failed = failed or run.status != "succeeded"
    if failed:
        raise typer.Exit(1)


def sync_runs_command(
    source: str | None = typer.Argument(None, help="Source id or name"),
    limit: int = typer.Option(20, min=1, max=500),
) -> None:
    """Recent synchronisation runs, newest first."""
    with _sessions() as factory, factory() as session:
        source_id = _source_or_exit(session, source).id if source else None
        runs = list_sync_runs(session, source_id=source_id, limit=limit)
        names = {found.id: found.name for found in service.list_sources(session)}
    if not runs:
        console.print("No synchronisation runs yet")
    for run in runs:
        console.print(
            f"{run.started_at.isoformat(timespec='seconds')} "
            f"{escape(names.get(run.source_id, str(run.source_id)))} "
            f"({run.trigger}): {_run_summary(run)}",
            highlight=False,
        )
        if error := _first_error(run):
            console.print(f"  error: {escape(error)}", highlight=False)


class _SyncBar:
    """Rich progress for a sync: one line per document, records within it."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=errors,
            transient=True,
        )
        self._task = self._progress.add_task("Listing documents", total=None)

    def __enter__(self) -> _SyncBar:
        self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()

    def document(self, title: str, *, position: int, total: int) -> None:
        self._progress.update(
            self._task,
            description=f"[{position}/{total}] {escape(title[:60])}",
            completed=0,
            total=None,
        )

    def records(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)


def _print_run(name: str, run: SyncRun) -> None:
    colour = {"succeeded": "green", "partial": "yellow"}.get(run.status, "red")
    console.print(
        f"{escape(name)}: [{colour}]{run.status}[/{colour}] "
        + _run_summary(run).removeprefix(run.status + " "),
        highlight=False,
    )
    if run.error:
        errors.print(f"  [red]error[/red]: {escape(run.error)}")
    for document in run.documents:
        if document.get("error"):
            errors.print(
                f"  [red]{escape(document['identifier'])}[/red]: "
                f"{escape(document['error'])}"
            )


def _run_summary(run: SyncRun) -> str:
    return (
        f"{run.status} created {run.documents_created}, updated "
        f"{run.documents_updated}, unchanged {run.documents_unchanged}, failed "
        f"{run.documents_failed} ({run.items_written} items written, "
        f"{run.items_retired} retired, {run.duration_ms} ms)"
    )


def _first_error(run: SyncRun) -> str | None:
    if run.error:
        return run.error
    return next((d["error"] for d in run.documents if d.get("error")), None)


def _source_or_exit(session: Session, reference: str) -> CaseSource:
    found = service.find_source(session, reference=reference)
    if found is None:
        errors.print(f"[red]Error[/red]: no CASE source has id or name {reference!r}")
        raise typer.Exit(2)
    return found


def _described(source: CaseSource) -> dict[str, object]:
    return {
        "id": str(source.id),
        "name": source.name,
        "base_url": source.base_url,
        "case_version": source.case_version,
        "auth_method": source.auth_method,
        "api_key_header": source.api_key_header,
        "token_url": source.token_url,
        "client_id": source.client_id,
        "oauth_scope": source.oauth_scope,
        "has_credentials": source.credentials is not None,
        "followed_documents": source.followed_documents,
        "schedule": source.schedule,
        "enabled": source.enabled,
    }
