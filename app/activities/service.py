"""Activities and their alignments to competencies."""

import uuid

from sqlalchemy.orm import Session

from app.activities.models import Activity, Alignment
from app.frameworks.models import Competency


def upsert_activity(
    session: Session,
    *,
    organization_id: uuid.UUID,
    source: str,
    external_id: str,
    kind: str,
    title: str | None = None,
    description: str | None = None,
    context_id: uuid.UUID | None = None,
    platform_id: uuid.UUID | None = None,
) -> Activity:
    """Create or update activity `external_id` of `source`.

    For an LTI resource link, `source` is the platform issuer, `external_id`
    the resource link id and `kind` is `lti_resource_link`.
    """
    raise NotImplementedError


def align_activity(
    session: Session,
    *,
    activity_id: uuid.UUID,
    competency_ids: list[uuid.UUID],
    created_by_person_id: uuid.UUID | None = None,
) -> list[Alignment]:
    """Align the activity to each competency (already aligned ones are kept)."""
    raise NotImplementedError


def unalign_activity(
    session: Session, *, activity_id: uuid.UUID, competency_id: uuid.UUID
) -> None:
    """Remove one alignment; evidence already recorded stays."""
    raise NotImplementedError


def aligned_competencies(
    session: Session, *, activity_id: uuid.UUID
) -> list[Competency]:
    """The competencies an activity is aligned to, in framework order."""
    raise NotImplementedError
