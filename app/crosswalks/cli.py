"""`standards-bridge crosswalks …`: the district's own crosswalks."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from app.crosswalks.service import CsvRefused, CsvReport, import_crosswalks_csv
from app.database import make_engine, make_sessionmaker
from app.problems import Problem
from app.settings import get_settings

crosswalks_app = typer.Typer(
    help="Crosswalks between frameworks: import the district's own.",
    no_args_is_help=True,
)

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@crosswalks_app.command("import")
def import_command(
    path: Path = typer.Argument(
        ...,
        help="CSV with origin_identifier,association_type,destination_identifier"
        "[,origin_framework,destination_framework]",
    ),
) -> None:
    """Store every crosswalk of a CSV file, or none when a row is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        errors.print(f"[red]Cannot read[/red] {path}: {error}", markup=True)
        raise typer.Exit(1) from error
    engine = make_engine(get_settings().database_url)
    try:
        with make_sessionmaker(engine)() as session:
            report = import_crosswalks_csv(session, text=text)
    except CsvRefused as refused:
        errors.print(f"Refused: {path}; nothing was stored.", markup=False)
        _print_rows(refused.report, console=errors)
        raise typer.Exit(1) from refused
    except Problem as problem:
        errors.print(f"Refused: {path}: {problem.detail}", markup=False)
        raise typer.Exit(1) from problem
    except SQLAlchemyError as error:
        errors.print(
            f"The store could not be written: {type(error).__name__}. Is "
            "DATABASE_URL right, and has `standards-bridge migrate` run?",
            markup=False,
        )
        raise typer.Exit(1) from error
    finally:
        engine.dispose()
    _print_rows(report, console=console)
    console.print(
        f"Created {report.count('created')}, already stored "
        f"{report.count('exists')}, repeated in the file {report.count('duplicate')}.",
        markup=False,
    )


def _print_rows(report: CsvReport, *, console: Console) -> None:
    for row in report.rows:
        line = (
            f"row {row.row}: {row.status}  {row.origin_identifier} "
            f"{row.association_type} {row.destination_identifier}"
        )
        if row.message:
            line += f"  ({row.field}: {row.message})"
        console.print(line, markup=False, highlight=False)
