import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.organizations.models import DEFAULT_ORGANIZATION_SLUG, Organization


def get_default_organization_id(session: Session) -> uuid.UUID:
    """The organization that owns records when no other is named.

    The initial migration creates it, so it always exists on a migrated store.
    """
    statement = select(Organization.id).where(
        Organization.slug == DEFAULT_ORGANIZATION_SLUG
    )
    return session.execute(statement).scalar_one()
