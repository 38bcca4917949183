"""`standards-bridge clients`: the API clients district and state systems use.

`create` writes only JSON to stdout, so a script can capture the secret:

    standards-bridge clients create --name "State reporting" \\
        --scopes "evidence:read reports:read" > client.json
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.auth import service
from app.auth.models import ApiClient
from app.database import make_engine, make_sessionmaker
from app.migrate import pending_revisions
from app.problems import Problem
from app.settings import get_settings

clients_app = typer.Typer(
    help="API clients (OAuth 2 client credentials) for district and state systems.",
    no_args_is_help=True,
)

err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

OPTION_FOR_FIELD = {
    "name": "--name",
    "scopes": "--scopes",
    "organization_id": "--organization-id",
    "client_id": "CLIENT_ID",
}


class CommandError(Exception):
    """A mistake on the command line, reported as one line and exit status 1."""


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a person can cause into one line on stderr and exit 1."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except Problem as problem:
            option = OPTION_FOR_FIELD.get(problem.field or "")
            hint = f" ({option})" if option else ""
            _print_error(f"{problem.detail}{hint}")
        except CommandError as error:
            _print_error(str(error))
        except OperationalError as error:
            _print_error(f"the store cannot be used: {error.orig}")
        raise typer.Exit(1)

    return run


@contextmanager
def store_session() -> Iterator[Session]:
    """A session on the configured store, refused until the schema is current."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        if pending_revisions(engine, settings.database_url):
            raise CommandError(
                "the store's schema is not current; run `standards-bridge migrate`."
            )
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


@clients_app.command("create")
@reports_errors
def create_client(
    name: str = typer.Option(..., help="What people know the calling system by"),
    scopes: str = typer.Option(
        ...,
        help="Space-separated scopes: " + " ".join(service.SCOPES),
    ),
    organization_id: str | None = typer.Option(
        None, help="Owning organization's id (default: the default organization)"
    ),
) -> None:
    """Register a client and print it as JSON, secret included (shown only now)."""
    with store_session() as session:
        created = service.create_client(
            session,
            name=name,
            scopes=service.split_scopes(scopes),
            organization_id=_organization_uuid(organization_id),
        )
        session.commit()

    record = _client_record(created.client)
    record["client_secret"] = created.client_secret
    typer.echo(json.dumps(record, indent=2))


@clients_app.command("list")
@reports_errors
def list_clients() -> None:
    """Print every client as a JSON array; secrets are never shown."""
    with store_session() as session:
        clients = service.list_clients(session)
    typer.echo(json.dumps([_client_record(client) for client in clients], indent=2))


@clients_app.command("revoke")
@reports_errors
def revoke_client(
    client_id: str = typer.Argument(..., metavar="CLIENT_ID"),
) -> None:
    """Revoke a client: no new tokens, and its current tokens stop working."""
    with store_session() as session:
        client = service.revoke_client(session, client_id=client_id)
        session.commit()
    revoked_at = client.revoked_at.isoformat() if client.revoked_at else ""
    typer.echo(f"Revoked API client {client.client_id} at {revoked_at}")


def _client_record(client: ApiClient) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "scopes": list(client.scopes),
        "organization_id": str(client.organization_id),
        "created_at": client.created_at.isoformat(),
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    }


def _organization_uuid(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CommandError(
            f"{value!r} is not an organization id (--organization-id)."
        ) from None


def _print_error(message: str) -> None:
    err.print(f"[red]Error:[/red] {message}", highlight=False, soft_wrap=True)
