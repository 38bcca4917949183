"""People and their external identifiers."""

import uuid

from sqlalchemy.orm import Session

from app.people.models import Person


def find_person(
    session: Session,
    *,
    organization_id: uuid.UUID,
    scheme: str,
    value: str,
    issuer: str = "",
) -> Person | None:
    """The person holding identifier (`scheme`, `issuer`, `value`), if any."""
    raise NotImplementedError


def upsert_lti_person(
    session: Session,
    *,
    organization_id: uuid.UUID,
    issuer: str,
    sub: str,
    display_name: str | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
    email: str | None = None,
) -> Person:
    """Create or update the person behind an id_token `sub` of `issuer`."""
    raise NotImplementedError
