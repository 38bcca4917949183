"""LTI platform registrations and their deployments.

Functions here flush but never commit: the caller (a route, a CLI command)
owns the transaction, so a rejected change leaves the store as it was.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.organizations.service import get_default_organization_id
from app.platforms.models import Deployment, Platform
from app.problems import Problem

PRODUCTS = ("canvas", "moodle", "other")

log = structlog.get_logger()


def find_platform(
    session: Session, *, issuer: str, client_id: str | None = None
) -> Platform | None:
    """The platform registered for `issuer` (and `client_id` when given).

    With no client id and several registrations for one issuer, None: the
    caller must ask for the client id.
    """
    statement = select(Platform).where(Platform.issuer == issuer)
    if client_id is not None:
        statement = statement.where(Platform.client_id == client_id)
    platforms = session.execute(statement.limit(2)).scalars().all()
    return platforms[0] if len(platforms) == 1 else None


def register_platform(
    session: Session,
    *,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    keyset_url: str,
    deployment_ids: list[str],
    name: str = "",
    product: str = "other",
    auth_audience: str | None = None,
    organization_id: uuid.UUID | None = None,
) -> Platform:
    """Create the registration, or update it and add deployments when it exists.

    Registering again is how an administrator corrects a URL or adds a
    deployment without knowing our id. An empty `name` and the default
    `product` keep what is stored; deployments are only ever added here.
    """
    issuer = _checked_url("issuer", issuer, limit=512)
    client_id = _checked_text("client_id", client_id)
    urls = {
        "auth_login_url": _checked_url("auth_login_url", auth_login_url),
        "auth_token_url": _checked_url("auth_token_url", auth_token_url),
        "keyset_url": _checked_url("keyset_url", keyset_url),
        "auth_audience": _checked_optional_text("auth_audience", auth_audience),
    }
    wanted_deployments = _checked_deployment_ids(deployment_ids)
    product = _checked_product(product)
    name = _checked_length("name", name.strip(), 255)

    platform = find_platform(session, issuer=issuer, client_id=client_id)
    created = platform is None
    if platform is None:
        platform = Platform(
            organization_id=organization_id or get_default_organization_id(session),
            issuer=issuer,
            client_id=client_id,
            name=name,
            product=product,
        )
        session.add(platform)
    else:
        if name:
            platform.name = name
        if product != "other":
            platform.product = product
    for field, value in urls.items():
        setattr(platform, field, value)
    added = [d for d in wanted_deployments if not has_deployment(platform, d)]
    platform.deployments.extend(Deployment(deployment_id=d) for d in added)
    _flush_or_conflict(session, platform)

    log.info(
        "platform.registered" if created else "platform.updated",
        platform_id=str(platform.id),
        issuer=platform.issuer,
        deployments_added=len(added),
    )
    return platform


def has_deployment(platform: Platform, deployment_id: str) -> bool:
    return any(d.deployment_id == deployment_id for d in platform.deployments)


def list_platforms(session: Session) -> list[Platform]:
    statement = select(Platform).order_by(
        Platform.issuer, Platform.client_id, Platform.id
    )
    return list(session.execute(statement).scalars().all())


def get_platform(session: Session, *, platform_id: uuid.UUID) -> Platform:
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise Problem(
            404,
            "platform-not-found",
            f"No platform is registered with id {platform_id}.",
            field="platform_id",
        )
    return platform


def update_platform(
    session: Session,
    *,
    platform_id: uuid.UUID,
    name: str | None = None,
    product: str | None = None,
    auth_login_url: str | None = None,
    auth_token_url: str | None = None,
    keyset_url: str | None = None,
    auth_audience: str | None = None,
) -> Platform:
    """Change what is given; the issuer and client id name the registration itself."""
    changes: dict[str, str | None] = {}
    if name is not None:
        changes["name"] = _checked_length("name", name.strip(), 255)
    if product is not None:
        changes["product"] = _checked_product(product)
    for field, value in (
        ("auth_login_url", auth_login_url),
        ("auth_token_url", auth_token_url),
        ("keyset_url", keyset_url),
    ):
        if value is not None:
            changes[field] = _checked_url(field, value)
    if auth_audience is not None:
        changes["auth_audience"] = _checked_optional_text(
            "auth_audience", auth_audience
        )

    platform = get_platform(session, platform_id=platform_id)
    for field, value in changes.items():
        setattr(platform, field, value)
    session.flush()
    log.info("platform.updated", platform_id=str(platform.id), fields=sorted(changes))
    return platform


def add_deployment(
    session: Session, *, platform_id: uuid.UUID, deployment_id: str
) -> Deployment:
    deployment_id = _checked_text("deployment_id", deployment_id)
    platform = get_platform(session, platform_id=platform_id)
    if has_deployment(platform, deployment_id):
        raise Problem(
            409,
            "deployment-exists",
            f"Platform {platform.id} already has deployment {deployment_id!r}.",
            field="deployment_id",
        )

    deployment = Deployment(deployment_id=deployment_id)
    platform.deployments.append(deployment)
    _flush_or_conflict(session, platform)
    log.info("platform.deployment_added", platform_id=str(platform.id))
    return deployment


def remove_deployment(
    session: Session, *, platform_id: uuid.UUID, deployment_id: str
) -> None:
    """Remove one deployment; the last one stays, since launches need one."""
    platform = get_platform(session, platform_id=platform_id)
    deployment = next(
        (d for d in platform.deployments if d.deployment_id == deployment_id), None
    )
    if deployment is None:
        raise Problem(
            404,
            "deployment-not-found",
            f"Platform {platform.id} has no deployment {deployment_id!r}.",
            field="deployment_id",
        )
    if len(platform.deployments) == 1:
        raise Problem(
            409,
            "last-deployment",
            f"Deployment {deployment_id!r} is the only one of platform "
            f"{platform.id}; delete the platform instead.",
            field="deployment_id",
        )

    platform.deployments.remove(deployment)
    session.flush()
    log.info("platform.deployment_removed", platform_id=str(platform.id))


def delete_platform(session: Session, *, platform_id: uuid.UUID) -> None:
    """Forget the registration; its contexts and activities keep their records."""
    platform = get_platform(session, platform_id=platform_id)
    session.delete(platform)
    session.flush()
    log.info("platform.deleted", platform_id=str(platform_id))


def _flush_or_conflict(session: Session, platform: Platform) -> None:
    # Two registrations racing for one (issuer, client id) meet here; the
    # session is unusable after the failed flush, so the transaction ends.
    try:
        session.flush()
    except IntegrityError as error:
        session.rollback()
        raise Problem(
            409,
            "platform-conflict",
            f"Platform {platform.issuer} with client id {platform.client_id!r} "
            "was changed at the same time; try again.",
            field="client_id",
        ) from error


def _checked_url(field: str, value: str, *, limit: int = 1024) -> str:
    """An absolute http(s) URL: Moodle labs serve their issuer over plain http."""
    value = _checked_length(field, (value or "").strip(), limit)
    parts = urlsplit(value)
    malformed = any(character.isspace() for character in value)
    if malformed or parts.scheme not in ("http", "https") or not parts.hostname:
        raise Problem(
            422,
            "invalid-url",
            f"{field} must be an absolute http:// or https:// URL, got {value!r}.",
            field=field,
        )
    return value


def _checked_text(field: str, value: str, *, limit: int = 255) -> str:
    value = _checked_length(field, (value or "").strip(), limit)
    if not value:
        raise Problem(422, "missing-value", f"{field} must not be empty.", field=field)
    return value


def _checked_optional_text(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    return _checked_length(field, value.strip(), 1024) or None


def _checked_length(field: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise Problem(
            422,
            "value-too-long",
            f"{field} must be at most {limit} characters, got {len(value)}.",
            field=field,
        )
    return value


def _checked_deployment_ids(deployment_ids: list[str]) -> list[str]:
    cleaned = [_checked_text("deployment_ids", d) for d in deployment_ids]
    if not cleaned:
        raise Problem(
            422,
            "missing-value",
            "deployment_ids must name at least one deployment id.",
            field="deployment_ids",
        )
    return list(dict.fromkeys(cleaned))


def _checked_product(product: str) -> str:
    if product not in PRODUCTS:
        raise Problem(
            422,
            "invalid-product",
            f"product must be one of {', '.join(PRODUCTS)}, got {product!r}.",
            field="product",
        )
    return product
