"""The people API: create a person with their identifiers, read one back."""

import uuid
from typing import Any

from fastapi import APIRouter, Depends, status
from sqlalchemy.orm import Session

from app.database import get_session
from app.organizations.service import get_default_organization_id
from app.people.schemas import PersonCreate, PersonOut
from app.people.service import create_person, resolve_person
from app.problems import PROBLEM_MEDIA_TYPE

router = APIRouter(prefix="/api/v1/people", tags=["people"])

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No person has that id", "content": {PROBLEM_MEDIA_TYPE: {}}},
    409: {
        "description": "Another person already has one of the identifiers",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
    422: {"description": "A field is missing or malformed"},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonOut,
    responses=PROBLEM_RESPONSES,
)
def post_person(
    body: PersonCreate, session: Session = Depends(get_session)
) -> PersonOut:
    """Create a person known by any number of identifiers (`sis`, `email`, ...)."""
    person = create_person(
        session,
        organization_id=get_default_organization_id(session),
        identifiers=[identifier.to_identifier() for identifier in body.identifiers],
        display_name=body.display_name,
        given_name=body.given_name,
        family_name=body.family_name,
        email=body.email,
    )
    session.commit()
    return PersonOut.model_validate(person)


@router.get("/{person_id}", response_model=PersonOut, responses=PROBLEM_RESPONSES)
def get_person(
    person_id: uuid.UUID, session: Session = Depends(get_session)
) -> PersonOut:
    person = resolve_person(
        session,
        organization_id=get_default_organization_id(session),
        person_id=person_id,
        field="person_id",
    )
    return PersonOut.model_validate(person)
