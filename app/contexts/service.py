"""Courses and sections."""

import uuid

from sqlalchemy.orm import Session

from app.contexts.models import Context


def upsert_context(
    session: Session,
    *,
    organization_id: uuid.UUID,
    source: str,
    external_id: str,
    platform_id: uuid.UUID | None = None,
    label: str | None = None,
    title: str | None = None,
) -> Context:
    """Create or update the context `external_id` of `source` (an issuer or system)."""
    raise NotImplementedError
