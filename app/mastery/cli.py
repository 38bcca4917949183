"""`standards-bridge mastery …`: recompute stored mastery."""

from __future__ import annotations

import uuid

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from sqlalchemy.exc import SQLAlchemyError

from app.database import make_engine, make_sessionmaker
from app.frameworks.models import Framework
from app.mastery.service import (
    RECOMPUTE_BATCH_SIZE,
    plan_recompute,
    recompute_in_batches,
)
from app.settings import get_settings

mastery_app = typer.Typer(
    help="Mastery: recompute stored results.", no_args_is_help=True
)

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@mastery_app.command("recompute")
def recompute_command(
    framework: uuid.UUID | None = typer.Option(
        None, "--framework", help="Only this framework's competencies (its id)"
    ),
    batch_size: int = typer.Option(
        RECOMPUTE_BATCH_SIZE,
        "--batch-size",
        min=1,
        help="People judged and committed together",
    ),
) -> None:
    """Recompute everyone's mastery under the policies in force now.

    Each batch of people is committed on its own, so an interrupted run keeps
    what it finished and can simply be run again.
    """
    engine = make_engine(get_settings().database_url)
    try:
        with make_sessionmaker(engine)() as session:
            if framework is not None and session.get(Framework, framework) is None:
                errors.print(f"[red]No framework has the id {framework}.[/red]")
                raise typer.Exit(1)
            plan = plan_recompute(session, framework_id=framework)
            with _progress() as progress:
                task = progress.add_task("Recomputing mastery", total=len(plan.people))
                for people in recompute_in_batches(
                    session, plan=plan, batch_size=batch_size
                ):
                    session.commit()
                    progress.advance(task, people)
    except SQLAlchemyError as error:
        errors.print(
            f"[red]The store could not be written:[/red] {type(error).__name__}. "
            "Is DATABASE_URL right, and has `standards-bridge migrate` run?"
        )
        raise typer.Exit(1) from error
    finally:
        engine.dispose()
    console.print(
        f"Recomputed mastery of {len(plan.people)} people on "
        f"{len(plan.targets)} competencies."
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("people"),
        TimeRemainingColumn(),
        console=errors,
    )
