"""Courses and sections."""

import uuid

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contexts.models import Context
from app.database import insert_or_find

log = structlog.get_logger()


def find_context(
    session: Session, *, organization_id: uuid.UUID, source: str, external_id: str
) -> Context | None:
    statement = (
        select(Context)
        .where(Context.organization_id == organization_id)
        .where(Context.source == source)
        .where(Context.external_id == external_id)
    )
    return session.execute(statement).scalar_one_or_none()


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
    """Create or update the context `external_id` of `source` (an issuer or system).

    A value left out (None) keeps what is stored: platforms send the label and
    title only on some launches.
    """
    context = find_context(
        session, organization_id=organization_id, source=source, external_id=external_id
    )
    if context is None:
        context, created = insert_or_find(
            session,
            Context(
                organization_id=organization_id, source=source, external_id=external_id
            ),
            find=lambda: find_context(
                session,
                organization_id=organization_id,
                source=source,
                external_id=external_id,
            ),
        )
        if created:
            log.info("context.created", context_id=str(context.id))

    for name, value in {
        "platform_id": platform_id,
        "label": label,
        "title": title,
    }.items():
        if value is not None and getattr(context, name) != value:
            setattr(context, name, value)
    session.flush()
    return context
