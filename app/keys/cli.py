"""`standards-bridge keys`: the tool's signing keys and their rotation."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from app.database import make_engine, make_sessionmaker
from app.keys import service
from app.keys.encryption import KeyEncryptionError, is_encrypting, use_secret_key
from app.migrate import pending_revisions
from app.settings import get_settings

keys_app = typer.Typer(help="The tool's signing keys (JWKS).", no_args_is_help=True)

out = Console()
err = Console(stderr=True)


@contextmanager
def _store_session() -> Iterator[Session]:
    settings = get_settings()
    use_secret_key(settings.secret_key)
    engine = make_engine(settings.database_url)
    try:
        if pending_revisions(engine, settings.database_url):
            err.print(
                "[red]Error:[/red] the store's schema is not current; run "
                "`standards-bridge migrate`.",
                highlight=False,
            )
            raise typer.Exit(1)
        with make_sessionmaker(engine)() as session:
            yield session
    except KeyEncryptionError as error:
        err.print(f"[red]Error:[/red] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


@keys_app.command("list")
def list_keys() -> None:
    """Show every key: its kid, status, and whether the JWKS publishes it."""
    with _store_session() as session:
        service.public_jwks(session)
        keys = service.list_keys(session)

    # One plain line per key: a kid is copied whole, never wrapped.
    typer.echo("kid  status  created  retired  published")
    for key in keys:
        created = key.created_at.isoformat(timespec="seconds")
        retired = (
            key.retired_at.isoformat(timespec="seconds") if key.retired_at else "-"
        )
        published = "yes" if service.is_published(key) else "no"
        typer.echo(f"{key.kid}  {key.status}  {created}  {retired}  {published}")
    encryption = "encrypted" if is_encrypting() else "NOT encrypted (SECRET_KEY unset)"
    out.print(f"New private keys are stored {encryption}.", highlight=False)


@keys_app.command("rotate")
def rotate() -> None:
    """Sign with the next key from now on; the old current key is retired.

    The retired key stays published for the grace period, so tokens and
    assertions it signed keep verifying.
    """
    with _store_session() as session:
        rotation = service.rotate_keys(session)
        session.commit()

    hours = int(service.RETIRED_KEY_GRACE.total_seconds() // 3600)
    out.print(f"Signing with {rotation.current.kid}", highlight=False)
    out.print(f"Next key      {rotation.next.kid}", highlight=False)
    out.print(
        f"Retired       {rotation.retired.kid} (published {hours} h more)",
        highlight=False,
    )


@keys_app.command("new-secret")
def new_secret() -> None:
    """Print a random value for SECRET_KEY."""
    # 48 random bytes: 64 characters, well above SECRET_KEY_MIN_LENGTH.
    typer.echo(secrets.token_urlsafe(48))
