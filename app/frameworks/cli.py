"""`standards-bridge case …`: import CFPackages and list frameworks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.database import make_engine, make_sessionmaker
from app.frameworks.service import ImportResult, import_package, list_frameworks
from app.settings import get_settings
from connectors.case.package import PackageError, PackageProblem, decode_package

case_app = typer.Typer(help="CASE frameworks: import packages.", no_args_is_help=True)

# Below this many records an import is over before a bar would be readable.
PROGRESS_BAR_THRESHOLD = 2000

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@case_app.command("import")
def import_command(
    path: Path = typer.Argument(..., help="A CFPackage JSON file"),
    report: bool = typer.Option(
        False, "--report", help="List every repair made while reading the package"
    ),
) -> None:
    """Import a CFPackage file as a framework, or update an earlier import."""
    try:
        package = decode_package(_read_file(path))
        with _session() as session, _progress_bar() as progress:
            result = import_package(session, package=package, progress=progress)
    except PackageError as error:
        _print_refusal(path, error.problems)
        raise typer.Exit(1) from error
    except SQLAlchemyError as error:
        errors.print(
            f"[red]The store could not be written:[/red] {type(error).__name__}. "
            "Is DATABASE_URL right, and has `standards-bridge migrate` run?"
        )
        raise typer.Exit(1) from error
    _print_result(result, show_report=report)


@case_app.command("list")
def list_command() -> None:
    """List the imported frameworks."""
    try:
        with _session() as session:
            summaries = list_frameworks(session)
    except SQLAlchemyError as error:
        errors.print(f"[red]The store could not be read:[/red] {type(error).__name__}")
        raise typer.Exit(1) from error
    if not summaries:
        console.print("No frameworks imported yet.")
        return
    # One line per framework, so the list reads the same in a pipe as on screen.
    for summary in summaries:
        framework = summary.framework
        console.print(
            f"{framework.id}  {summary.competency_count:>6} competencies  "
            f"{framework.title}",
            markup=False,
            highlight=False,
        )


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise PackageError([PackageProblem(str(path), "", reason)]) from error


@contextmanager
def _session() -> Iterator[Session]:
    engine = make_engine(get_settings().database_url)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def _progress_bar() -> Iterator[ProgressBar]:
    bar = ProgressBar()
    try:
        yield bar
    finally:
        bar.close()


class ProgressBar:
    """A progress callback that shows a bar only once a package proves large."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_BAR_THRESHOLD:
            return
        if self._progress is None or self._task is None:
            self._progress = Progress(
                TextColumn("Writing"),
                BarColumn(),
                MofNCompleteColumn(),
                console=errors,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("records", total=total)
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _print_refusal(path: Path, problems: list[PackageProblem]) -> None:
    errors.print(f"[red]Refused:[/red] {path} cannot be imported; nothing was stored.")
    for problem in problems:
        where = " ".join(part for part in (problem.object, problem.field) if part)
        errors.print(f"  - {where}: {problem.message}", markup=False, highlight=False)


def _print_result(result: ImportResult, *, show_report: bool) -> None:
    framework = result.framework
    counts = result.counts
    console.print(f"Framework: {framework.title}", markup=False, highlight=False)
    console.print(f"Id: {framework.id}")
    if result.outcome == "unchanged":
        console.print(
            "Outcome: unchanged (same content as stored; nothing was changed)"
        )
    else:
        console.print(f"Outcome: {result.outcome}")
    console.print(
        f"CFItems: {counts.items_stored} stored ({counts.items_found} in the file)"
    )
    console.print(
        f"CFAssociations: {counts.associations_stored} stored "
        f"({counts.associations_found} in the file)"
    )
    console.print(
        f"CFDefinitions: {counts.definitions_stored} stored "
        f"({counts.definitions_found} in the file)"
    )
    if counts.items_retired:
        console.print(f"Retired competencies: {counts.items_retired}")
    hint = "" if show_report or not result.report else " (--report lists them)"
    console.print(f"Report notes: {len(result.report)}{hint}")
    if show_report:
        for note in result.report:
            where = " ".join(part for part in (note.object, note.field) if part)
            console.print(f"  - {where}: {note.action}", markup=False, highlight=False)
