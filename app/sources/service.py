"""CASE sources: the providers we follow, how to reach them and when.

A source's credentials are encrypted before they reach the store
(`app.sources.credentials`); nothing here ever returns them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal

import structlog
from apscheduler.triggers.cron import CronTrigger
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.organizations.service import get_default_organization_id
from app.sources.credentials import (
    CredentialsError,
    decrypt_credentials,
    encrypt_credentials,
)
from app.sources.models import CaseSource
from connectors.case.auth import ApiKeyAuth, OAuth2ClientCredentials
from connectors.case.client import CaseClientConfig, CaseVersion

log = structlog.get_logger()

AuthMethod = Literal["none", "api_key", "oauth2"]
AUTH_METHODS: tuple[AuthMethod, ...] = ("none", "api_key", "oauth2")
DEFAULT_API_KEY_HEADER = "X-API-Key"


class SourceError(ValueError):
    """A source cannot be stored as given; `field` names the offending input."""

    def __init__(self, message: str, *, field: str, code: str = "invalid-source"):
        super().__init__(message)
        self.field = field
        self.code = code


def validate_cron(expression: str, *, field: str = "schedule") -> CronTrigger:
    """A CronTrigger for a five-field crontab expression, in UTC, or SourceError."""
    try:
        return CronTrigger.from_crontab(expression, timezone="UTC")
    except ValueError as error:
        raise SourceError(
            f"{expression!r} is not a cron expression (five fields: minute hour "
            f"day-of-month month day-of-week, e.g. '0 2 * * *'): {error}",
            field=field,
        ) from None


def add_source(
    session: Session,
    *,
    secret_key: SecretStr | None,
    name: str,
    base_url: str,
    case_version: str = "1.1",
    auth_method: str = "none",
    api_key: str | None = None,
    api_key_header: str | None = None,
    token_url: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    oauth_scope: str | None = None,
    followed_documents: Sequence[str] = (),
    schedule: str | None = None,
    enabled: bool = True,
    organization_id: uuid.UUID | None = None,
) -> CaseSource:
    """Validate and store a source, and commit; SourceError names what is wrong."""
    name = name.strip()
    if not name:
        raise SourceError("a source needs a name", field="name")
    version = _case_version(case_version)
    base_url = _checked_base_url(base_url, version=version)
    if schedule is not None and schedule.strip():
        schedule = schedule.strip()
        validate_cron(schedule)
    else:
        schedule = None
    secrets = _secrets_for(
        auth_method,
        api_key=api_key,
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
    )
    credentials = None
    if secrets:
        try:
            credentials = encrypt_credentials(secrets, secret_key=secret_key)
        except CredentialsError as error:
            raise SourceError(
                str(error), field=next(iter(secrets)), code="secret-key-missing"
            ) from None

    source = CaseSource(
        organization_id=organization_id or get_default_organization_id(session),
        name=name,
        base_url=base_url,
        case_version=version.value,
        auth_method=auth_method,
        api_key_header=(api_key_header or DEFAULT_API_KEY_HEADER)
        if auth_method == "api_key"
        else None,
        token_url=token_url if auth_method == "oauth2" else None,
        client_id=client_id if auth_method == "oauth2" else None,
        oauth_scope=oauth_scope if auth_method == "oauth2" else None,
        credentials=credentials,
        followed_documents=_followed(followed_documents),
        schedule=schedule,
        enabled=enabled,
    )
    session.add(source)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise SourceError(
            f"a source named {name!r} already exists",
            field="name",
            code="source-exists",
        ) from None
    log.info("case_source.added", source_id=str(source.id), auth=auth_method)
    return source


def list_sources(
    session: Session, *, organization_id: uuid.UUID | None = None
) -> list[CaseSource]:
    organization_id = organization_id or get_default_organization_id(session)
    statement = (
        select(CaseSource)
        .where(CaseSource.organization_id == organization_id)
        .order_by(CaseSource.name)
    )
    return list(session.scalars(statement))


def list_enabled_scheduled_sources(session: Session) -> list[CaseSource]:
    """Every organization's sources that the worker should run on a schedule."""
    statement = (
        select(CaseSource)
        .where(CaseSource.enabled.is_(True))
        .where(CaseSource.schedule.is_not(None))
        .order_by(CaseSource.created_at)
    )
    return list(session.scalars(statement))


def find_source(session: Session, *, reference: str) -> CaseSource | None:
    """A source by id, or else by name in the default organization."""
    try:
        source = session.get(CaseSource, uuid.UUID(reference))
    except ValueError:
        source = None
    if source is not None:
        return source
    statement = (
        select(CaseSource)
        .where(CaseSource.organization_id == get_default_organization_id(session))
        .where(CaseSource.name == reference)
    )
    return session.scalars(statement).first()


def remove_source(session: Session, *, source: CaseSource) -> None:
    """Forget a source and its run history; imported frameworks stay."""
    session.delete(source)
    session.commit()
    log.info("case_source.removed", source_id=str(source.id))


def client_config_for(
    source: CaseSource, *, secret_key: SecretStr | None, **options: Any
) -> CaseClientConfig:
    """How to reach the source; raises CredentialsError when they cannot be read."""
    return CaseClientConfig(
        base_url=source.base_url,
        version=source.case_version,  # type: ignore[arg-type]
        auth=_auth_for(source, secret_key=secret_key),
        **options,
    )


def _auth_for(
    source: CaseSource, *, secret_key: SecretStr | None
) -> ApiKeyAuth | OAuth2ClientCredentials | None:
    if source.auth_method == "none":
        return None
    if source.credentials is None:
        raise CredentialsError(f"source {source.name!r} has no stored credentials")
    secrets = decrypt_credentials(source.credentials, secret_key=secret_key)
    if source.auth_method == "api_key":
        return ApiKeyAuth(
            secrets["api_key"], header=source.api_key_header or DEFAULT_API_KEY_HEADER
        )
    return OAuth2ClientCredentials(
        token_url=source.token_url or "",
        client_id=source.client_id or "",
        client_secret=secrets["client_secret"],
        scope=source.oauth_scope,
    )


def _case_version(value: str) -> CaseVersion:
    try:
        return CaseVersion(value)
    except ValueError:
        raise SourceError(
            f"CASE version must be 1.0 or 1.1, got {value!r}", field="case_version"
        ) from None


def _checked_base_url(base_url: str, *, version: CaseVersion) -> str:
    try:
        return CaseClientConfig(base_url=base_url, version=version).base_url
    except ValueError as error:
        raise SourceError(str(error), field="base_url") from None


def _secrets_for(
    auth_method: str,
    *,
    api_key: str | None,
    token_url: str | None,
    client_id: str | None,
    client_secret: str | None,
) -> dict[str, str]:
    """The values to encrypt, after checking the method has what it needs."""
    if auth_method not in AUTH_METHODS:
        raise SourceError(
            f"auth must be one of {', '.join(AUTH_METHODS)}, got {auth_method!r}",
            field="auth_method",
        )
    given = {
        "api_key": api_key,
        "token_url": token_url,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    needed = {
        "none": (),
        "api_key": ("api_key",),
        "oauth2": ("token_url", "client_id", "client_secret"),
    }[auth_method]
    for name in needed:
        if not given[name]:
            raise SourceError(
                f"auth {auth_method} needs {name.replace('_', ' ')}", field=name
            )
    for name, value in given.items():
        if value and name not in needed:
            raise SourceError(
                f"{name.replace('_', ' ')} is only used with another auth method "
                f"than {auth_method}",
                field=name,
            )
    if auth_method == "oauth2":
        _checked_token_url(token_url or "")
    if auth_method == "api_key":
        return {"api_key": api_key or ""}
    if auth_method == "oauth2":
        return {"client_secret": client_secret or ""}
    return {}


def _checked_token_url(token_url: str) -> None:
    if not token_url.startswith(("https://", "http://")):
        raise SourceError(
            f"token URL must be an http(s) URL, got {token_url!r}", field="token_url"
        )


def _followed(identifiers: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for identifier in identifiers:
        cleaned = identifier.strip()
        if cleaned:
            seen.setdefault(cleaned.lower(), cleaned)
    return list(seen.values())
