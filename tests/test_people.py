"""People, the identifiers they are known by, and their courses (contexts)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.contexts.models import Context
from app.contexts.service import upsert_context
from app.organizations.service import get_default_organization_id
from app.people.models import Person, PersonIdentifier
from app.people.service import (
    Identifier,
    create_person,
    find_person,
    resolve_person,
    upsert_lti_person,
)
from app.problems import Problem

CANVAS = "https://canvas.instructure.com"
MOODLE = "https://moodle.example.edu"


def count(session: Session, table: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(table)) or 0


def test_an_lti_launch_creates_the_person_once_and_keeps_them_current(
    session: Session,
) -> None:
    organization_id = get_default_organization_id(session)

    first = upsert_lti_person(
        session,
        organization_id=organization_id,
        issuer=CANVAS,
        sub="a6d5c443-1f51-4783-ba1a-7686ffe3b54a",
        display_name="Ada Lovelace",
        given_name="Ada",
        family_name="Lovelace",
        email="ada@example.edu",
    )
    session.commit()
    again = upsert_lti_person(
        session,
        organization_id=organization_id,
        issuer=CANVAS,
        sub="a6d5c443-1f51-4783-ba1a-7686ffe3b54a",
        family_name="King",
        email="ada.king@example.edu",
    )
    session.commit()

    assert again.id == first.id
    assert (again.display_name, again.given_name, again.family_name, again.email) == (
        "Ada Lovelace",
        "Ada",
        "King",
        "ada.king@example.edu",
    )
    assert [(i.scheme, i.issuer, i.value) for i in again.identifiers] == [
        ("lti", CANVAS, "a6d5c443-1f51-4783-ba1a-7686ffe3b54a")
    ]
    assert count(session, Person) == 1


def test_one_sub_on_two_platforms_is_two_people(session: Session) -> None:
    organization_id = get_default_organization_id(session)

    canvas = upsert_lti_person(
        session, organization_id=organization_id, issuer=CANVAS, sub="42"
    )
    moodle = upsert_lti_person(
        session, organization_id=organization_id, issuer=MOODLE, sub="42"
    )

    assert canvas.id != moodle.id
    found = find_person(
        session,
        organization_id=organization_id,
        scheme="lti",
        issuer=MOODLE,
        value="42",
    )
    assert found is not None and found.id == moodle.id


def test_a_person_is_found_by_any_identifier(session: Session) -> None:
    organization_id = get_default_organization_id(session)
    person = create_person(
        session,
        organization_id=organization_id,
        identifiers=[
            Identifier(scheme="sis", value="12345"),
            Identifier(scheme="email", value="Grace.Hopper@Example.edu"),
            Identifier(scheme="lti", value="gh-1", issuer=MOODLE),
        ],
        display_name="Grace Hopper",
    )
    session.commit()

    lookups = [
        Identifier(scheme="sis", value="12345"),
        # Email addresses compare without regard to case.
        Identifier(scheme="email", value="grace.hopper@example.edu"),
        Identifier(scheme="lti", value="gh-1", issuer=MOODLE),
    ]
    for identifier in lookups:
        found = resolve_person(
            session, organization_id=organization_id, identifier=identifier
        )
        assert found.id == person.id
    assert (
        resolve_person(session, organization_id=organization_id, person_id=person.id)
        is person
    )
    assert (
        find_person(session, organization_id=organization_id, scheme="sis", value="1")
        is None
    )


def test_resolving_nobody_is_a_404_naming_the_field(session: Session) -> None:
    organization_id = get_default_organization_id(session)

    with pytest.raises(Problem) as by_identifier:
        resolve_person(
            session,
            organization_id=organization_id,
            identifier=Identifier(scheme="sis", value="nobody"),
            field="learner",
        )
    with pytest.raises(Problem) as by_id:
        resolve_person(session, organization_id=organization_id, person_id=uuid.uuid4())

    assert (by_identifier.value.status, by_identifier.value.field) == (404, "learner")
    assert "sis 'nobody'" in by_identifier.value.detail
    assert (by_id.value.status, by_id.value.field) == (404, "person")


def test_an_identifier_held_by_someone_else_is_a_conflict(session: Session) -> None:
    organization_id = get_default_organization_id(session)
    create_person(
        session,
        organization_id=organization_id,
        identifiers=[Identifier(scheme="sis", value="12345")],
    )
    session.commit()

    with pytest.raises(Problem) as caught:
        create_person(
            session,
            organization_id=organization_id,
            identifiers=[
                Identifier(scheme="email", value="new@example.edu"),
                Identifier(scheme="sis", value="12345"),
            ],
        )
    session.commit()

    assert (caught.value.status, caught.value.field) == (409, "identifiers.1")
    assert count(session, Person) == 1
    assert count(session, PersonIdentifier) == 1


def test_a_context_is_created_once_and_updated(session: Session) -> None:
    organization_id = get_default_organization_id(session)

    first = upsert_context(
        session,
        organization_id=organization_id,
        source=CANVAS,
        external_id="course-7",
        label="MATH 7",
        title="Mathematics 7",
    )
    session.commit()
    again = upsert_context(
        session,
        organization_id=organization_id,
        source=CANVAS,
        external_id="course-7",
        title="Mathematics 7 (Spring)",
    )
    session.commit()

    assert again.id == first.id
    assert (again.label, again.title) == ("MATH 7", "Mathematics 7 (Spring)")
    assert count(session, Context) == 1


# The API

ADA = {
    "display_name": "Ada Lovelace",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "email": "ada@example.edu",
    "identifiers": [
        {"scheme": "sis", "value": "12345"},
        {"scheme": "email", "value": "ada@example.edu"},
    ],
}


def test_api_creates_a_person_and_reads_them_back(client: TestClient) -> None:
    created = client.post("/api/v1/people", json=ADA)

    assert created.status_code == 201
    person = created.json()
    assert person["display_name"] == "Ada Lovelace"
    assert {(i["scheme"], i["value"], i["issuer"]) for i in person["identifiers"]} == {
        ("sis", "12345", ""),
        ("email", "ada@example.edu", ""),
    }
    read = client.get(f"/api/v1/people/{person['id']}")
    assert read.status_code == 200
    assert read.json() == person


def test_api_creates_a_person_without_identifiers(client: TestClient) -> None:
    created = client.post("/api/v1/people", json={"display_name": "Visitor"})

    assert created.status_code == 201
    assert created.json()["identifiers"] == []


def test_api_answers_404_for_an_unknown_person(client: TestClient) -> None:
    response = client.get(f"/api/v1/people/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "person-not-found"
    assert response.json()["field"] == "person_id"


@pytest.mark.parametrize(
    ("identifiers", "status", "code", "field"),
    [
        (
            [{"scheme": "sis", "value": "1"}, {"scheme": "SIS", "value": "1"}],
            422,
            "duplicate-identifier",
            "identifiers.1",
        ),
        (
            [{"scheme": "lti", "value": "abc"}],
            422,
            "identifier-missing-issuer",
            "identifiers.0.issuer",
        ),
        (
            [{"scheme": "sis", "value": "  "}],
            422,
            "incomplete-identifier",
            "identifiers.0",
        ),
        (
            [{"scheme": "", "value": "1"}],
            422,
            "invalid-request",
            "identifiers.0.scheme",
        ),
        ([{"value": "1"}], 422, "invalid-request", "identifiers.0.scheme"),
    ],
)
def test_api_refuses_bad_identifiers_and_stores_nothing(
    client: TestClient,
    session: Session,
    identifiers: list[dict[str, Any]],
    status: int,
    code: str,
    field: str,
) -> None:
    response = client.post(
        "/api/v1/people", json={"display_name": "X", "identifiers": identifiers}
    )

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert count(session, Person) == 0
    assert count(session, PersonIdentifier) == 0


def test_api_refuses_an_identifier_already_taken(
    client: TestClient, session: Session
) -> None:
    first = client.post("/api/v1/people", json=ADA)
    clash = {
        "display_name": "Someone else",
        "identifiers": [{"scheme": "email", "value": "ADA@example.edu"}],
    }

    response = client.post("/api/v1/people", json=clash)

    assert first.status_code == 201
    assert response.status_code == 409
    assert response.json()["code"] == "identifier-taken"
    assert response.json()["field"] == "identifiers.0"
    assert first.json()["id"] in response.json()["detail"]
    assert count(session, Person) == 1
