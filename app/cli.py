"""The `standards-bridge` command line."""

from __future__ import annotations

import json
from pathlib import Path

import typer
import uvicorn
from rich.console import Console

from app.frameworks.cli import case_app
from app.migrate import upgrade_to_head
from app.platforms.cli import platforms_app
from app.settings import get_settings

cli = typer.Typer(
    name="standards-bridge",
    help="Standards Bridge: LTI 1.3 tool and CASE competency service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
cli.add_typer(case_app, name="case")
cli.add_typer(platforms_app, name="platforms")
openapi_app = typer.Typer(help="The OpenAPI description.", no_args_is_help=True)
cli.add_typer(openapi_app, name="openapi")

console = Console(stderr=True)


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
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=True,
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
    cli()
