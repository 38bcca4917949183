"""The evidence API: a district system reports a completed attempt."""

from typing import Any

from fastapi import APIRouter, Depends, Header, Request, Response, status
from sqlalchemy.orm import Session

from app.activities.service import resolve_activity
from app.database import get_session
from app.evidence.schemas import EvidenceCreate, EvidenceOut
from app.evidence.service import record_evidence
from app.organizations.service import get_default_organization_id
from app.people.service import resolve_person
from app.problems import PROBLEM_MEDIA_TYPE, Problem

router = APIRouter(prefix="/api/v1/evidence", tags=["evidence"])

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Already stored under this idempotency key; the body is "
        "the stored evidence"
    },
    404: {
        "description": "No such person or activity",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
    409: {
        "description": "The idempotency key was used for a different result",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
    422: {
        "description": "A field is missing, malformed or out of range",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
}
API_SOURCE = "api"


def _idempotency_key(body_key: str | None, header_key: str | None) -> str | None:
    if body_key is not None and header_key is not None and body_key != header_key:
        raise Problem(
            422,
            "idempotency-key-mismatch",
            "The Idempotency-Key header and the idempotency_key field differ; "
            "send one, or the same value in both.",
            field="idempotency_key",
        )
    return body_key if body_key is not None else header_key


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceOut,
    responses=PROBLEM_RESPONSES,
)
def post_evidence(
    body: EvidenceCreate,
    request: Request,
    response: Response,
    session: Session = Depends(get_session),
    idempotency_key: str | None = Header(
        default=None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Same meaning as the body's idempotency_key",
    ),
) -> EvidenceOut:
    """Record one completed attempt and recompute the person's mastery.

    The person may be named by our id or any identifier (`{"scheme": "sis",
    "value": "12345"}`), the activity by our id or its source and external id.
    """
    key = _idempotency_key(body.idempotency_key, idempotency_key)
    organization_id = get_default_organization_id(session)
    person = resolve_person(
        session,
        organization_id=organization_id,
        person_id=body.person.id,
        identifier=body.person.identifier(),
        field="person",
    )
    activity = resolve_activity(
        session,
        organization_id=organization_id,
        activity_id=body.activity.id,
        source=body.activity.source,
        external_id=body.activity.external_id,
        field="activity",
    )

    recorded = record_evidence(
        session,
        organization_id=organization_id,
        person_id=person.id,
        activity_id=activity.id,
        score=body.score,
        max_score=body.max_score,
        occurred_at=body.occurred_at,
        source=API_SOURCE,
        idempotency_key=key,
        threshold=request.app.state.settings.mastery_threshold,
    )
    session.commit()
    if not recorded.created:
        response.status_code = status.HTTP_200_OK
    return EvidenceOut.model_validate(recorded.evidence)
