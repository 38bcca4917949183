"""LTI platform registrations and their deployments."""

import uuid

from sqlalchemy.orm import Session

from app.platforms.models import Platform


def find_platform(
    session: Session, *, issuer: str, client_id: str | None = None
) -> Platform | None:
    """The platform registered for `issuer` (and `client_id` when given).

    With no client id and several registrations for one issuer, None: the
    caller must ask for the client id.
    """
    raise NotImplementedError


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
    """Create the registration, or update it and add deployments when it exists."""
    raise NotImplementedError


def has_deployment(platform: Platform, deployment_id: str) -> bool:
    return any(d.deployment_id == deployment_id for d in platform.deployments)
