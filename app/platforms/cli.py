"""`standards-bridge platforms`: register the LMSs that launch this tool."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.database import make_engine, make_sessionmaker
from app.migrate import pending_revisions
from app.platforms import service
from app.platforms.models import Platform
from app.problems import Problem
from app.settings import get_settings

platforms_app = typer.Typer(
    help="LTI platforms (LMS registrations).", no_args_is_help=True
)

out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

# Service field names as the options of `platforms add` spell them.
OPTION_FOR_FIELD = {
    "issuer": "--issuer",
    "client_id": "--client-id",
    "auth_login_url": "--auth-login-url",
    "auth_token_url": "--token-url",
    "keyset_url": "--keyset-url",
    "deployment_ids": "--deployment-id",
    "deployment_id": "DEPLOYMENT_ID",
    "product": "--product",
    "name": "--name",
    "platform_id": "PLATFORM_ID",
}


class Preset(StrEnum):
    canvas = "canvas"
    moodle = "moodle"


class Product(StrEnum):
    canvas = "canvas"
    moodle = "moodle"
    other = "other"


@dataclass(frozen=True)
class PlatformUrls:
    issuer: str
    auth_login_url: str
    auth_token_url: str
    keyset_url: str


CANVAS_CLOUD = PlatformUrls(
    issuer="https://canvas.instructure.com",
    auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
    auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
    keyset_url="https://sso.canvaslms.com/api/lti/security/jwks",
)


def moodle_site(site_url: str) -> PlatformUrls:
    """Moodle's issuer is its site URL; its LTI endpoints live under mod/lti."""
    site = site_url.strip().rstrip("/")
    return PlatformUrls(
        issuer=site,
        auth_login_url=f"{site}/mod/lti/auth.php",
        auth_token_url=f"{site}/mod/lti/token.php",
        keyset_url=f"{site}/mod/lti/certs.php",
    )


class CommandError(Exception):
    """A mistake on the command line, reported as one line and exit status 1."""


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a person can cause into one clear line and exit 1."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except Problem as problem:
            option = OPTION_FOR_FIELD.get(problem.field or "")
            hint = f" ({option})" if option else ""
            err.print(
                f"[red]Error:[/red] {problem.detail}{hint}",
                highlight=False,
                soft_wrap=True,
            )
        except CommandError as error:
            err.print(f"[red]Error:[/red] {error}", highlight=False, soft_wrap=True)
        except OperationalError as error:
            err.print(
                f"[red]Error:[/red] the store cannot be used: {error.orig}",
                highlight=False,
                soft_wrap=True,
            )
        raise typer.Exit(1)

    return run


@contextmanager
def store_session() -> Iterator[Session]:
    """A session on the configured store, refused until the schema is current."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        if not _schema_is_current(engine, settings.database_url):
            raise CommandError(
                "the store's schema is not current; run `standards-bridge migrate`."
            )
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


@platforms_app.command("add")
@reports_errors
def add_platform(
    client_id: str = typer.Option(..., help="Client id the LMS gave the tool"),
    deployment_id: list[str] = typer.Option(
        ..., "--deployment-id", help="A deployment_id of the tool (repeatable)"
    ),
    preset: Preset | None = typer.Option(
        None,
        help="Fill the URLs: canvas (Canvas cloud) or moodle (with --site-url)",
    ),
    site_url: str | None = typer.Option(
        None, help="Moodle's site URL (its Platform ID), for --preset moodle"
    ),
    issuer: str | None = typer.Option(None, help="Platform ID (the `iss` it sends)"),
    auth_login_url: str | None = typer.Option(
        None, help="Authentication request URL (OIDC authorization endpoint)"
    ),
    token_url: str | None = typer.Option(None, help="Access token URL"),
    keyset_url: str | None = typer.Option(None, help="Public keyset URL (JWKS)"),
    name: str = typer.Option("", help="A name for people to recognise it by"),
    product: Product | None = typer.Option(
        None, help="canvas, moodle or other (default: the preset, else other)"
    ),
) -> None:
    """Register an LMS, or update it and add deployments if already registered.

    Options given explicitly win over the preset's values.
    """
    urls = _resolved_urls(
        preset=preset,
        site_url=site_url,
        explicit=PlatformUrls(
            issuer=issuer or "",
            auth_login_url=auth_login_url or "",
            auth_token_url=token_url or "",
            keyset_url=keyset_url or "",
        ),
    )
    chosen_product = product or (Product(preset.value) if preset else Product.other)

    with store_session() as session:
        existing = service.find_platform(
            session, issuer=urls.issuer.strip(), client_id=client_id.strip()
        )
        platform = service.register_platform(
            session,
            issuer=urls.issuer,
            client_id=client_id,
            auth_login_url=urls.auth_login_url,
            auth_token_url=urls.auth_token_url,
            keyset_url=urls.keyset_url,
            deployment_ids=deployment_id,
            name=name,
            product=chosen_product.value,
        )
        session.commit()

    verb = "Registered" if existing is None else "Updated"
    out.print(f"{verb} platform {platform.id}", highlight=False)
    _print_platform(platform)


@platforms_app.command("list")
@reports_errors
def list_platforms() -> None:
    """Show every registered LMS."""
    with store_session() as session:
        platforms = service.list_platforms(session)

    if not platforms:
        out.print("No platforms are registered; add one with `platforms add`.")
        return
    # One line each, never wrapped, so ids and URLs can be copied whole.
    for platform in platforms:
        name = f"  {platform.name}" if platform.name else ""
        out.print(
            f"{platform.id}  {platform.product:<6}  {platform.issuer}  "
            f"client_id={platform.client_id}  "
            f"deployments={','.join(_deployment_ids(platform))}{name}",
            highlight=False,
            soft_wrap=True,
        )


@platforms_app.command("show")
@reports_errors
def show_platform(
    platform_id: str = typer.Argument(..., metavar="PLATFORM_ID"),
) -> None:
    """Show one registration in full."""
    with store_session() as session:
        platform = service.get_platform(session, platform_id=_uuid(platform_id))
    _print_platform(platform)


@platforms_app.command("add-deployment")
@reports_errors
def add_deployment(
    platform_id: str = typer.Argument(..., metavar="PLATFORM_ID"),
    deployment_id: str = typer.Argument(..., metavar="DEPLOYMENT_ID"),
) -> None:
    """Add a deployment_id (the tool installed once more in the same LMS)."""
    with store_session() as session:
        service.add_deployment(
            session, platform_id=_uuid(platform_id), deployment_id=deployment_id
        )
        session.commit()
    out.print(f"Added deployment {deployment_id} to platform {platform_id}")


@platforms_app.command("remove-deployment")
@reports_errors
def remove_deployment(
    platform_id: str = typer.Argument(..., metavar="PLATFORM_ID"),
    deployment_id: str = typer.Argument(..., metavar="DEPLOYMENT_ID"),
) -> None:
    """Remove a deployment_id; a platform keeps at least one."""
    with store_session() as session:
        service.remove_deployment(
            session, platform_id=_uuid(platform_id), deployment_id=deployment_id
        )
        session.commit()
    out.print(f"Removed deployment {deployment_id} from platform {platform_id}")


@platforms_app.command("remove")
@reports_errors
def remove_platform(
    platform_id: str = typer.Argument(..., metavar="PLATFORM_ID"),
) -> None:
    """Delete a registration; its courses, activities and evidence stay."""
    with store_session() as session:
        service.delete_platform(session, platform_id=_uuid(platform_id))
        session.commit()
    out.print(f"Removed platform {platform_id}")


def _schema_is_current(engine: Engine, database_url: str) -> bool:
    # The check's routine "Context impl" lines would precede every command.
    alembic_log = logging.getLogger("alembic.runtime.migration")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)
    try:
        return not pending_revisions(engine, database_url)
    finally:
        alembic_log.setLevel(level)


def _resolved_urls(
    *, preset: Preset | None, site_url: str | None, explicit: PlatformUrls
) -> PlatformUrls:
    base = _preset_urls(preset=preset, site_url=site_url)
    resolved = PlatformUrls(
        issuer=explicit.issuer or base.issuer,
        auth_login_url=explicit.auth_login_url or base.auth_login_url,
        auth_token_url=explicit.auth_token_url or base.auth_token_url,
        keyset_url=explicit.keyset_url or base.keyset_url,
    )
    missing = [
        option
        for option, value in (
            ("--issuer", resolved.issuer),
            ("--auth-login-url", resolved.auth_login_url),
            ("--token-url", resolved.auth_token_url),
            ("--keyset-url", resolved.keyset_url),
        )
        if not value
    ]
    if missing:
        raise CommandError(
            f"missing {', '.join(missing)}: give them, or use --preset canvas "
            "or --preset moodle --site-url URL."
        )
    return resolved


def _preset_urls(*, preset: Preset | None, site_url: str | None) -> PlatformUrls:
    if preset is Preset.canvas:
        return CANVAS_CLOUD
    if preset is Preset.moodle:
        if not site_url:
            raise CommandError("--preset moodle needs --site-url (Moodle's site URL).")
        return moodle_site(site_url)
    if site_url:
        raise CommandError("--site-url is only used with --preset moodle.")
    return PlatformUrls(issuer="", auth_login_url="", auth_token_url="", keyset_url="")


def _uuid(platform_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(platform_id)
    except ValueError:
        raise CommandError(
            f"{platform_id!r} is not a platform id; `platforms list` shows them."
        ) from None


def _deployment_ids(platform: Platform) -> list[str]:
    return sorted(d.deployment_id for d in platform.deployments)


def _print_platform(platform: Platform) -> None:
    rows = [
        ("id", str(platform.id)),
        ("name", platform.name),
        ("product", platform.product),
        ("issuer", platform.issuer),
        ("client id", platform.client_id),
        ("authentication request URL", platform.auth_login_url),
        ("access token URL", platform.auth_token_url),
        ("public keyset URL", platform.keyset_url),
        ("deployments", ", ".join(_deployment_ids(platform))),
    ]
    if platform.auth_audience:
        rows.append(("token audience", platform.auth_audience))
    for label, value in rows:
        out.print(f"  {label + ':':<28} {value}", highlight=False, soft_wrap=True)
