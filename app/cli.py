"""The `standards-bridge` command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from app.auth.cli import clients_app
from app.crosswalks.cli import crosswalks_app
from app.database import make_engine, make_sessionmaker
from app.frameworks.cli import case_app
from app.frameworks.service import bundled_framework_path, import_package
from app.jobs.cli import worker
from app.keys.cli import keys_app
from app.keys.service import ensure_signing_key
from app.lms_services.cli import lms_app
from app.logs import configure_logging
from app.mastery.cli import mastery_app
from app.migrate import upgrade_to_head
from app.operations.settings_errors import describe_settings_errors
from app.platforms.cli import platforms_app
from app.platforms.lms_setup import setup_instructions
from app.settings import Settings, get_settings
from app.sources.cli import register_case_commands
from connectors.case.package import decode_package

cli = typer.Typer(
    name="standards-bridge",
    help="Standards Bridge: LTI 1.3 tool and CASE competency service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
cli.add_typer(case_app, name="case")
cli.add_typer(crosswalks_app, name="crosswalks")
cli.add_typer(mastery_app, name="mastery")
register_case_commands(case_app)
cli.command("worker")(worker)
cli.add_typer(platforms_app, name="platforms")
cli.add_typer(clients_app, name="clients")
cli.add_typer(lms_app, name="lms")
cli.add_typer(keys_app, name="keys")
openapi_app = typer.Typer(help="The OpenAPI description.", no_args_is_help=True)
cli.add_typer(openapi_app, name="openapi")

console = Console(stderr=True)


@cli.callback()
def _configure_logging() -> None:
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)


@cli.command()
def migrate() -> None:
    """Bring the store's schema up to date."""
    settings = get_settings()
    upgrade_to_head(settings.database_url)
    console.print(
        f"[green]Schema is current[/green] on {_redacted(settings.database_url)}"
    )


@cli.command()
def serve(
    host: str | None = typer.Option(None, help="Interface to bind (HOST)"),
    port: int | None = typer.Option(None, help="Port to bind (PORT)"),
) -> None:
    """Run the web service (migrate first)."""
    settings = get_settings()
    _serve(host=host or settings.host, port=port or settings.port)


@cli.command("lms-setup")
def lms_setup() -> None:
    """Print what an LMS administrator pastes into Canvas and Moodle."""
    typer.echo(setup_instructions(get_settings().public_url), nl=False)


@cli.command()
def quickstart() -> None:
    """Migrate, import the bundled framework, print the LMS set-up, then serve.

    Safe to run again: the schema, the framework and the signing key are left
    as they are when already current.
    """
    settings = get_settings()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("Importing the bundled framework", total=None)
        prepared = prepare_quickstart(
            settings,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(
        f"Framework [bold]{escape(prepared.framework_title)}[/bold]: "
        f"{prepared.framework_outcome}",
        highlight=False,
    )
    console.print(f"Signing key {prepared.key_id} is ready", highlight=False)
    typer.echo(setup_instructions(settings.public_url))
    console.print(
        f"Serving on http://{settings.host}:{settings.port} (Ctrl+C stops it)",
        highlight=False,
    )
    _serve(host=settings.host, port=settings.port)


@dataclass(frozen=True)
class PreparedStore:
    """What `quickstart` found or made before serving."""

    framework_title: str
    framework_outcome: str
    key_id: str


def prepare_quickstart(
    settings: Settings, *, progress: Callable[[int, int], None] | None = None
) -> PreparedStore:
    """Everything `quickstart` does before it starts serving."""
    upgrade_to_head(settings.database_url)
    package = decode_package(bundled_framework_path().read_bytes())
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            imported = import_package(session, package=package, progress=progress)
            key = ensure_signing_key(session)
            return PreparedStore(
                framework_title=imported.framework.title,
                framework_outcome=imported.outcome,
                key_id=key.kid,
            )
    finally:
        engine.dispose()


def _serve(*, host: str, port: int) -> None:
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        # X-Forwarded-* are read by the app, only from TRUSTED_PROXIES; uvicorn
        # would otherwise replace the peer address the app checks them against.
        proxy_headers=False,
    )


@openapi_app.command("export")
def export_openapi(path: Path = typer.Argument(Path("openapi/openapi.json"))) -> None:
    """Write the OpenAPI document to PATH."""
    from app.main import create_app

    spec = create_app().openapi()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(spec, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    console.print(f"Wrote {path}")


def _redacted(database_url: str) -> str:
    if "@" not in database_url:
        return database_url
    scheme, rest = database_url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def main() -> None:
    try:
        cli()
    except ValidationError as error:
        if error.title != Settings.__name__:
            raise
        for line in describe_settings_errors(error):
            typer.echo(f"Error: {line}", err=True)
        raise SystemExit(2) from None
