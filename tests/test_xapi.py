"""xAPI statements: recorded as evidence all or none, kept once, voided by statement."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities.service import upsert_activity
from app.evidence.models import Evidence
from app.mastery.models import Mastery
from app.organizations.service import get_default_organization_id
from app.people.models import PersonIdentifier
from tests.conftest import bearer_token_for
from tests.test_evidence_bulk import (
    SOURCE,
    District,
    a_district,
    admin_client_id,
    stored_count,
)

VERSION = {"X-Experience-API-Version": "1.0.3"}
VERBS = "http://adlnet.gov/expapi/verbs/"
SCHOOL = "https://sis.school.example"


@pytest.fixture
def district(session: Session) -> District:
    return a_district(session, emails=True)


def statement(**changes: Any) -> dict[str, Any]:
    """pupil1 completed quiz-1 with 7 of 8 on 6 May 09:00Z."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": "mailto:Pupil1@school.example"},
        "verb": {"id": VERBS + "completed", "display": {"en-US": "completed"}},
        "object": {"objectType": "Activity", "id": f"{SOURCE}/quiz-1"},
        "result": {"score": {"raw": 7, "min": 0, "max": 8}, "completion": True},
        "timestamp": "2024-05-06T09:00:00Z",
    }
    body.update(changes)
    return body


def stored(session: Session, statement_id: str) -> Evidence:
    session.expire_all()
    query = select(Evidence).where(Evidence.statement_id == uuid.UUID(statement_id))
    return session.scalars(query).one()


def test_a_statement_becomes_evidence(
    client: TestClient, session: Session, district: District
) -> None:
    sent = statement()

    response = client.post("/xapi/statements", json=sent, headers=VERSION)

    assert response.status_code == 200
    assert response.json() == [sent["id"]]
    assert response.headers["x-experience-api-version"] == "1.0.3"
    evidence = stored(session, sent["id"])
    # mbox is matched case-blind to the email identifier of pupil 1; the IRI
    # is source/external_id of quiz-1.
    assert evidence.person_id == district.people[0].id
    assert evidence.activity_id == district.activities[0].id
    assert (evidence.score, evidence.max_score) == (Decimal(7), Decimal(8))
    assert evidence.occurred_at.isoformat() == "2024-05-06T09:00:00+00:00"
    assert evidence.source == "xapi"
    assert len(evidence.content_hash or "") == 64


def test_account_actor_scaled_score_and_iri_external_id(
    client: TestClient, session: Session, district: District
) -> None:
    organization_id = get_default_organization_id(session)
    iri = "https://courses.example/xapi/activities/essay-1"
    activity = upsert_activity(
        session,
        organization_id=organization_id,
        source="lrs",
        external_id=iri,
        kind="external",
    )
    session.add(
        PersonIdentifier(
            organization_id=organization_id,
            person_id=district.people[1].id,
            scheme=SCHOOL,
            value="pupil-two",
        )
    )
    session.commit()
    sent = statement(
        actor={"account": {"homePage": SCHOOL, "name": "pupil-two"}},
        verb={"id": VERBS + "scored"},
        object={"id": iri},
        result={"score": {"scaled": 0.85}},
        timestamp="2024-05-06T11:00:00+02:00",
    )

    response = client.post("/xapi/statements", json=[sent], headers=VERSION)

    assert response.status_code == 200
    evidence = stored(session, sent["id"])
    assert (evidence.person_id, evidence.activity_id) == (
        district.people[1].id,
        activity.id,
    )
    # scaled 0.85 is 85 of 100.
    assert (evidence.score, evidence.max_score) == (Decimal(85), Decimal(100))
    assert evidence.occurred_at.isoformat() == "2024-05-06T09:00:00+00:00"


def test_a_statement_sent_again_is_skipped(
    client: TestClient, session: Session, district: District
) -> None:
    sent = statement()
    client.post("/xapi/statements", json=sent, headers=VERSION)

    # The LRS-set properties do not make it another statement.
    again = client.post(
        "/xapi/statements",
        json=[{**sent, "stored": "2024-05-06T10:00:00Z", "version": "1.0.3"}],
        headers=VERSION,
    )
    put = client.put(
        "/xapi/statements",
        params={"statementId": sent["id"]},
        json=sent,
        headers=VERSION,
    )

    assert (again.status_code, again.json()) == (200, [sent["id"]])
    assert put.status_code == 204
    assert stored_count(session) == 1


def test_a_stored_id_with_other_content_is_a_conflict(
    client: TestClient, session: Session, district: District
) -> None:
    sent = statement()
    client.post("/xapi/statements", json=sent, headers=VERSION)
    other = statement(
        result={"score": {"raw": 2, "max": 8}},
    )

    response = client.post(
        "/xapi/statements",
        json=[other, {**sent, "result": {"score": {"raw": 8, "max": 8}}}],
        headers=VERSION,
    )

    assert response.status_code == 409
    assert response.json()["code"] == "statement-conflict"
    assert sent["id"] in response.json()["detail"]
    # All or none: the new statement in the batch was not kept either.
    assert stored_count(session) == 1
    assert stored(session, sent["id"]).score == Decimal(7)


def test_one_id_twice_in_a_batch_is_refused(
    client: TestClient, session: Session, district: District
) -> None:
    sent = statement()

    response = client.post("/xapi/statements", json=[sent, sent], headers=VERSION)

    assert response.status_code == 400
    assert response.json()["code"] == "statement-id-repeated"
    assert response.json()["field"] == "statements[1].id"
    assert stored_count(session) == 0


def test_a_batch_with_statements_we_cannot_record_stores_none(
    client: TestClient, session: Session, district: District
) -> None:
    good = statement()
    unknown_activity = statement(object={"id": "https://nowhere.example/quiz"})
    unknown_actor = statement(actor={"mbox": "mailto:stranger@school.example"})
    other_verb = statement(verb={"id": VERBS + "experienced"})
    no_score = statement(result={"completion": True})

    response = client.post(
        "/xapi/statements",
        json=[good, unknown_activity, unknown_actor, other_verb, no_score],
        headers=VERSION,
    )

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "statement-refused"
    assert [(error["field"], error["message"]) for error in problem["errors"]] == [
        (
            "statements[1].object.id",
            "no activity is known by 'https://nowhere.example/quiz'",
        ),
        (
            "statements[2].actor",
            "no person has the email identifier 'stranger@school.example'",
        ),
        (
            "statements[3].verb.id",
            f"verb '{VERBS}experienced' is not one recorded as evidence "
            "(completed, passed, failed, scored or voided under "
            "http://adlnet.gov/expapi/verbs/)",
        ),
        ("statements[4].result.score", "result.score is missing"),
    ]
    assert problem["detail"].startswith(
        "4 of 5 statements cannot be recorded, so none was"
    )
    assert stored_count(session) == 0


@pytest.mark.parametrize("version", [None, "0.95", "2.0.0"])
def test_the_version_header_is_required(
    client: TestClient, session: Session, district: District, version: str | None
) -> None:
    headers = {} if version is None else {"X-Experience-API-Version": version}

    response = client.post("/xapi/statements", json=statement(), headers=headers)

    assert response.status_code == 400
    assert response.json()["field"] == "X-Experience-API-Version"
    assert stored_count(session) == 0


def test_put_records_under_the_statement_id_and_refuses_a_mismatch(
    client: TestClient, session: Session, district: District
) -> None:
    chosen = str(uuid.uuid4())
    body = statement()
    del body["id"]

    put = client.put(
        "/xapi/statements", params={"statementId": chosen}, json=body, headers=VERSION
    )
    mismatch = client.put(
        "/xapi/statements",
        params={"statementId": str(uuid.uuid4())},
        json=statement(),
        headers=VERSION,
    )

    assert put.status_code == 204
    assert stored(session, chosen).score == Decimal(7)
    assert (mismatch.status_code, mismatch.json()["code"]) == (
        400,
        "statement-id-mismatch",
    )
    assert stored_count(session) == 1


def test_a_voiding_statement_voids_the_evidence(
    client: TestClient, session: Session, district: District
) -> None:
    earlier = statement(
        result={"score": {"raw": 8, "max": 8}}, timestamp="2024-05-06T09:00:00Z"
    )
    later = statement(
        result={"score": {"raw": 1, "max": 8}}, timestamp="2024-05-07T09:00:00Z"
    )
    client.post("/xapi/statements", json=[earlier, later], headers=VERSION)
    voiding = statement(
        verb={"id": VERBS + "voided"},
        object={"objectType": "StatementRef", "id": later["id"]},
    )
    del voiding["result"]

    response = client.post("/xapi/statements", json=voiding, headers=VERSION)

    assert response.status_code == 200
    evidence = stored(session, later["id"])
    assert evidence.voided_at is not None
    detail = client.get(f"/api/v1/evidence/{evidence.id}").json()
    assert detail["statement_id"] == later["id"]
    [event] = detail["events"]
    assert event["event_type"] == "voided"
    assert event["reason"] == f"voided by xAPI statement {voiding['id']}"
    assert event["actor"] == admin_client_id(session)
    mastery = session.scalars(
        select(Mastery).where(Mastery.person_id == district.people[0].id)
    ).one()
    # 1/8 on 7 May is void; 8/8 on 6 May decides.
    assert (mastery.level, mastery.mastered) == (Decimal("1.00"), True)


def test_voiding_an_unknown_statement_is_refused(
    client: TestClient, session: Session, district: District
) -> None:
    voiding = statement(
        verb={"id": VERBS + "voided"},
        object={"objectType": "StatementRef", "id": str(uuid.uuid4())},
    )

    response = client.post("/xapi/statements", json=voiding, headers=VERSION)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "statements[0].object.id"


def test_mastery_follows_statement_timestamps_not_arrival(
    client: TestClient, session: Session, district: District
) -> None:
    later = statement(
        result={"score": {"raw": 2, "max": 8}}, timestamp="2024-05-07T09:00:00Z"
    )
    earlier = statement(
        result={"score": {"raw": 8, "max": 8}}, timestamp="2024-05-06T09:00:00Z"
    )

    client.post("/xapi/statements", json=later, headers=VERSION)
    client.post("/xapi/statements", json=earlier, headers=VERSION)

    session.expire_all()
    mastery = session.scalars(
        select(Mastery).where(Mastery.person_id == district.people[0].id)
    ).one()
    # 2/8 = 0.25 on 7 May is the most recent, although it arrived first.
    assert (mastery.level, mastery.mastered) == (Decimal("0.25"), False)


def test_statements_need_a_bearer_token_with_evidence_write(
    app: FastAPI, anonymous_client: TestClient, district: District
) -> None:
    reader = bearer_token_for(app, scopes=["evidence:read"])

    basic = anonymous_client.post(
        "/xapi/statements", json=statement(), headers=VERSION, auth=("lrs", "secret")
    )
    read_only = anonymous_client.post(
        "/xapi/statements",
        json=statement(),
        headers={**VERSION, "Authorization": f"Bearer {reader}"},
    )

    assert basic.status_code == 401
    assert read_only.status_code == 403
