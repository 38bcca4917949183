"""The activities API: a district system's activities and their alignments."""

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy.orm import Session

from app.activities.models import Activity
from app.activities.schemas import (
    ActivityCreate,
    ActivityOut,
    AlignedCompetency,
    AlignmentsCreate,
)
from app.activities.service import (
    align_activity,
    aligned_competencies,
    find_activity,
    resolve_activity,
    unalign_activity,
    upsert_activity,
)
from app.database import get_session
from app.organizations.service import get_default_organization_id
from app.problems import PROBLEM_MEDIA_TYPE

router = APIRouter(prefix="/api/v1/activities", tags=["activities"])

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No such activity, competency or alignment",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
    422: {"description": "A field is missing or malformed"},
}


def _activity(session: Session, activity_id: uuid.UUID) -> Activity:
    return resolve_activity(
        session,
        organization_id=get_default_organization_id(session),
        activity_id=activity_id,
        field="activity_id",
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityOut,
    responses={
        **PROBLEM_RESPONSES,
        200: {"description": "The activity existed and was updated"},
    },
)
def post_activity(
    body: ActivityCreate, response: Response, session: Session = Depends(get_session)
) -> ActivityOut:
    """Create a district system's activity (201), or update the one `source` and
    `external_id` already name (200)."""
    organization_id = get_default_organization_id(session)
    existed = (
        find_activity(
            session,
            organization_id=organization_id,
            source=body.source,
            external_id=body.external_id,
        )
        is not None
    )
    activity = upsert_activity(
        session,
        organization_id=organization_id,
        source=body.source,
        external_id=body.external_id,
        kind=body.kind,
        title=body.title,
        description=body.description,
    )
    session.commit()
    if existed:
        response.status_code = status.HTTP_200_OK
    return ActivityOut.model_validate(activity)


@router.get("/{activity_id}", response_model=ActivityOut, responses=PROBLEM_RESPONSES)
def get_activity(
    activity_id: uuid.UUID, session: Session = Depends(get_session)
) -> ActivityOut:
    return ActivityOut.model_validate(_activity(session, activity_id))


@router.get(
    "/{activity_id}/alignments",
    response_model=list[AlignedCompetency],
    responses=PROBLEM_RESPONSES,
)
def get_alignments(
    activity_id: uuid.UUID, session: Session = Depends(get_session)
) -> list[AlignedCompetency]:
    activity = _activity(session, activity_id)
    competencies = aligned_competencies(session, activity_id=activity.id)
    return [AlignedCompetency.of(competency) for competency in competencies]


@router.post(
    "/{activity_id}/alignments",
    response_model=list[AlignedCompetency],
    responses=PROBLEM_RESPONSES,
)
def post_alignments(
    activity_id: uuid.UUID,
    body: AlignmentsCreate,
    request: Request,
    session: Session = Depends(get_session),
) -> list[AlignedCompetency]:
    """Align the activity to more competencies; returns all its alignments.

    Aligning recomputes the mastery of everyone with evidence on the activity.
    """
    activity = _activity(session, activity_id)
    align_activity(
        session,
        activity_id=activity.id,
        competency_ids=body.competency_ids,
        threshold=request.app.state.settings.mastery_threshold,
    )
    session.commit()
    competencies = aligned_competencies(session, activity_id=activity.id)
    return [AlignedCompetency.of(competency) for competency in competencies]


@router.delete(
    "/{activity_id}/alignments/{competency_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=PROBLEM_RESPONSES,
)
def delete_alignment(
    activity_id: uuid.UUID,
    competency_id: uuid.UUID,
    request: Request,
    session: Session = Depends(get_session),
) -> Response:
    """Remove one alignment; evidence stays and mastery is recomputed."""
    activity = _activity(session, activity_id)
    unalign_activity(
        session,
        activity_id=activity.id,
        competency_id=competency_id,
        threshold=request.app.state.settings.mastery_threshold,
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
