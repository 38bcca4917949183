"""Activities and their alignments to competencies.

Changing an alignment changes what a person's evidence says about a
competency, so it recomputes the mastery of everyone with evidence on the
activity.
"""

import uuid
from decimal import Decimal
from functools import partial

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities.models import Activity, Alignment
from app.database import insert_or_find
from app.evidence.models import Evidence
from app.frameworks.models import Competency
from app.mastery.service import FRAMEWORK_ORDER, recompute_mastery
from app.problems import Problem

log = structlog.get_logger()


def find_activity(
    session: Session, *, organization_id: uuid.UUID, source: str, external_id: str
) -> Activity | None:
    statement = (
        select(Activity)
        .where(Activity.organization_id == organization_id)
        .where(Activity.source == source)
        .where(Activity.external_id == external_id)
    )
    return session.execute(statement).scalar_one_or_none()


def get_activity(
    session: Session, *, organization_id: uuid.UUID, activity_id: uuid.UUID
) -> Activity | None:
    activity = session.get(Activity, activity_id)
    if activity is None or activity.organization_id != organization_id:
        return None
    return activity


def resolve_activity(
    session: Session,
    *,
    organization_id: uuid.UUID,
    activity_id: uuid.UUID | None = None,
    source: str | None = None,
    external_id: str | None = None,
    field: str = "activity",
) -> Activity:
    """The activity named by our id or by its source and external id.

    Raises a 404 problem naming `field` when none matches.
    """
    activity: Activity | None = None
    if activity_id is not None:
        activity = get_activity(
            session, organization_id=organization_id, activity_id=activity_id
        )
        described = f"id {activity_id}"
    elif source and external_id:
        activity = find_activity(
            session,
            organization_id=organization_id,
            source=source,
            external_id=external_id,
        )
        described = f"external id {external_id!r} from {source!r}"
    else:
        raise Problem(
            422,
            "activity-reference-missing",
            "Name the activity by id or by source and external_id.",
            field=field,
        )

    if activity is None:
        raise Problem(
            404, "activity-not-found", f"No activity has the {described}.", field=field
        )
    return activity


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
    the resource link id and `kind` is `lti_resource_link`. A value left out
    (None) keeps what is stored.
    """
    activity = find_activity(
        session, organization_id=organization_id, source=source, external_id=external_id
    )
    if activity is None:
        activity, created = insert_or_find(
            session,
            Activity(
                organization_id=organization_id,
                source=source,
                external_id=external_id,
                kind=kind,
            ),
            find=partial(
                find_activity,
                session,
                organization_id=organization_id,
                source=source,
                external_id=external_id,
            ),
        )
        if created:
            log.info("activity.created", activity_id=str(activity.id), kind=kind)

    changes = {
        "kind": kind,
        "title": title,
        "description": description,
        "context_id": context_id,
        "platform_id": platform_id,
    }
    for name, value in changes.items():
        if value is not None and getattr(activity, name) != value:
            setattr(activity, name, value)
    session.flush()
    return activity


def _find_alignment(
    session: Session, *, activity_id: uuid.UUID, competency_id: uuid.UUID
) -> Alignment | None:
    statement = (
        select(Alignment)
        .where(Alignment.activity_id == activity_id)
        .where(Alignment.competency_id == competency_id)
    )
    return session.execute(statement).scalar_one_or_none()


def _require_activity(session: Session, activity_id: uuid.UUID) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise Problem(
            404,
            "activity-not-found",
            f"No activity has the id {activity_id}.",
            field="activity",
        )
    return activity


def _require_competencies(session: Session, competency_ids: list[uuid.UUID]) -> None:
    statement = select(Competency.id).where(Competency.id.in_(competency_ids))
    known = set(session.execute(statement).scalars())
    for position, competency_id in enumerate(competency_ids):
        if competency_id not in known:
            raise Problem(
                404,
                "competency-not-found",
                f"No competency has the id {competency_id}.",
                field=f"competency_ids.{position}",
            )


def align_activity(
    session: Session,
    *,
    activity_id: uuid.UUID,
    competency_ids: list[uuid.UUID],
    created_by_person_id: uuid.UUID | None = None,
    threshold: Decimal | None = None,
) -> list[Alignment]:
    """Align the activity to each competency (already aligned ones are kept).

    Every id is checked before anything is stored, so an unknown competency
    leaves the alignments as they were. Returns the alignments in the order
    asked for.
    """
    _require_activity(session, activity_id)
    _require_competencies(session, competency_ids)

    alignments: dict[uuid.UUID, Alignment] = {}
    added: list[uuid.UUID] = []
    for competency_id in dict.fromkeys(competency_ids):
        find = partial(
            _find_alignment,
            session,
            activity_id=activity_id,
            competency_id=competency_id,
        )
        alignment = find()
        if alignment is None:
            alignment, created = insert_or_find(
                session,
                Alignment(
                    activity_id=activity_id,
                    competency_id=competency_id,
                    created_by_person_id=created_by_person_id,
                ),
                find=find,
            )
            if created:
                added.append(competency_id)
        alignments[competency_id] = alignment

    if added:
        log.info("activity.aligned", activity_id=str(activity_id), added=len(added))
        _recompute_for_people_with_evidence(
            session, activity_id=activity_id, competency_ids=added, threshold=threshold
        )
    return list(alignments.values())


def unalign_activity(
    session: Session,
    *,
    activity_id: uuid.UUID,
    competency_id: uuid.UUID,
    threshold: Decimal | None = None,
) -> None:
    """Remove one alignment; evidence already recorded stays.

    Raises a 404 problem when the activity is not aligned to the competency.
    """
    _require_activity(session, activity_id)
    alignment = _find_alignment(
        session, activity_id=activity_id, competency_id=competency_id
    )
    if alignment is None:
        raise Problem(
            404,
            "alignment-not-found",
            f"The activity is not aligned to the competency {competency_id}.",
            field="competency_id",
        )

    session.delete(alignment)
    session.flush()
    log.info(
        "activity.unaligned",
        activity_id=str(activity_id),
        competency_id=str(competency_id),
    )
    _recompute_for_people_with_evidence(
        session,
        activity_id=activity_id,
        competency_ids=[competency_id],
        threshold=threshold,
    )


def _recompute_for_people_with_evidence(
    session: Session,
    *,
    activity_id: uuid.UUID,
    competency_ids: list[uuid.UUID],
    threshold: Decimal | None,
) -> None:
    statement = (
        select(Evidence.person_id)
        .where(Evidence.activity_id == activity_id)
        .where(Evidence.voided_at.is_(None))
        .distinct()
    )
    for person_id in session.execute(statement).scalars().all():
        recompute_mastery(
            session,
            person_id=person_id,
            competency_ids=competency_ids,
            threshold=threshold,
        )


def aligned_competencies(
    session: Session, *, activity_id: uuid.UUID
) -> list[Competency]:
    """The competencies an activity is aligned to, in framework order."""
    statement = (
        select(Competency)
        .join(Alignment, Alignment.competency_id == Competency.id)
        .where(Alignment.activity_id == activity_id)
        .order_by(*FRAMEWORK_ORDER)
    )
    return list(session.execute(statement).scalars())
