"""The mastery API: where a person stands on every competency with evidence."""

import uuid

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from app.database import get_session
from app.mastery.schemas import CompetencyMasteryOut, PersonMasteryOut
from app.mastery.service import mastery_for_person
from app.organizations.service import get_default_organization_id
from app.people.service import resolve_person
from app.problems import PROBLEM_MEDIA_TYPE

router = APIRouter(prefix="/api/v1/people", tags=["mastery"])


@router.get(
    "/{person_id}/mastery",
    response_model=PersonMasteryOut,
    responses={
        404: {
            "description": "No person has that id",
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
    },
)
def get_person_mastery(
    person_id: uuid.UUID, session: Session = Depends(get_session)
) -> PersonMasteryOut:
    """Each competency the person has evidence for, with the evidence behind it."""
    person = resolve_person(
        session,
        organization_id=get_default_organization_id(session),
        person_id=person_id,
        field="person_id",
    )
    standings = mastery_for_person(session, person_id=person.id)
    return PersonMasteryOut(
        person_id=person.id,
        competencies=[CompetencyMasteryOut.of(standing) for standing in standings],
    )
