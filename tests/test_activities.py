"""Activities and their alignments to competencies."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.activities.models import Activity, Alignment
from app.activities.service import (
    align_activity,
    aligned_competencies,
    unalign_activity,
    upsert_activity,
)
from app.mastery.models import Mastery
from app.organizations.service import get_default_organization_id
from app.problems import Problem
from tests.test_mastery import MONDAY, THRESHOLD, FrameworkRows, a_person, record

QUIZ = {
    "source": "district-assessments",
    "external_id": "unit-3-quiz",
    "title": "Unit 3 quiz",
}


def count(session: Session, table: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(table)) or 0


def test_an_activity_is_unique_per_source_and_external_id(session: Session) -> None:
    organization_id = get_default_organization_id(session)

    first = upsert_activity(
        session,
        organization_id=organization_id,
        source="https://canvas.instructure.com",
        external_id="rl-1",
        kind="lti_resource_link",
        title="Fractions",
    )
    again = upsert_activity(
        session,
        organization_id=organization_id,
        source="https://canvas.instructure.com",
        external_id="rl-1",
        kind="lti_resource_link",
        title="Fractions, part 1",
    )
    elsewhere = upsert_activity(
        session,
        organization_id=organization_id,
        source="https://moodle.example.edu",
        external_id="rl-1",
        kind="lti_resource_link",
    )
    session.commit()

    assert again.id == first.id
    assert again.title == "Fractions, part 1"
    assert elsewhere.id != first.id
    assert count(session, Activity) == 2


def test_alignments_are_kept_once_and_listed_in_framework_order(
    session: Session,
) -> None:
    rows = FrameworkRows(session)
    first = rows.competency("A.1")
    second = rows.competency("A.2")
    activity = upsert_activity(
        session,
        organization_id=get_default_organization_id(session),
        source="district-assessments",
        external_id="q1",
        kind="external",
    )

    align_activity(session, activity_id=activity.id, competency_ids=[second.id])
    alignments = align_activity(
        session, activity_id=activity.id, competency_ids=[second.id, first.id]
    )
    session.commit()

    assert [a.competency_id for a in alignments] == [second.id, first.id]
    assert count(session, Alignment) == 2
    assert [c.id for c in aligned_competencies(session, activity_id=activity.id)] == [
        first.id,
        second.id,
    ]


def test_an_unknown_competency_aligns_nothing(session: Session) -> None:
    known = FrameworkRows(session).competency("A.1")
    activity = upsert_activity(
        session,
        organization_id=get_default_organization_id(session),
        source="district-assessments",
        external_id="q1",
        kind="external",
    )
    session.commit()

    with pytest.raises(Problem) as caught:
        align_activity(
            session, activity_id=activity.id, competency_ids=[known.id, uuid.uuid4()]
        )
    session.commit()

    assert (caught.value.status, caught.value.field) == (404, "competency_ids.1")
    assert count(session, Alignment) == 0


def test_changing_an_alignment_recomputes_mastery(session: Session) -> None:
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    person = a_person(session)
    activity = upsert_activity(
        session,
        organization_id=person.organization_id,
        source="district-assessments",
        external_id="q1",
        kind="external",
    )
    # 9 / 10 = 0.90, recorded while the activity is aligned to nothing.
    record(session, person, activity, 9, 10, MONDAY)
    session.commit()
    assert count(session, Mastery) == 0

    align_activity(
        session,
        activity_id=activity.id,
        competency_ids=[standard.id],
        threshold=THRESHOLD,
    )
    session.commit()
    row = session.get(Mastery, (person.id, standard.id))
    assert row is not None
    assert (row.status, row.level) == ("mastered", Decimal("0.90"))

    unalign_activity(
        session, activity_id=activity.id, competency_id=standard.id, threshold=THRESHOLD
    )
    session.commit()
    # No aligned activity speaks for the competency now: its row goes.
    assert count(session, Mastery) == 0


# The API


def test_api_creates_then_updates_an_activity(client: TestClient) -> None:
    created = client.post("/api/v1/activities", json=QUIZ)
    updated = client.post(
        "/api/v1/activities", json={**QUIZ, "title": "Unit 3 quiz (revised)"}
    )

    assert (created.status_code, updated.status_code) == (201, 200)
    assert updated.json()["id"] == created.json()["id"]
    read = client.get(f"/api/v1/activities/{created.json()['id']}")
    assert read.status_code == 200
    assert read.json() == {
        "id": created.json()["id"],
        "source": "district-assessments",
        "external_id": "unit-3-quiz",
        "kind": "external",
        "title": "Unit 3 quiz (revised)",
        "description": None,
        "context_id": None,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"external_id": "q"}, "source"),
        ({"source": "district", "external_id": ""}, "external_id"),
        ({"source": "district", "external_id": "q", "kind": ""}, "kind"),
    ],
)
def test_api_refuses_an_incomplete_activity(
    client: TestClient, session: Session, body: dict[str, str], field: str
) -> None:
    response = client.post("/api/v1/activities", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field
    assert count(session, Activity) == 0


def test_api_answers_404_for_an_unknown_activity(client: TestClient) -> None:
    missing = uuid.uuid4()

    for response in [
        client.get(f"/api/v1/activities/{missing}"),
        client.get(f"/api/v1/activities/{missing}/alignments"),
        client.post(
            f"/api/v1/activities/{missing}/alignments",
            json={"competency_ids": [str(uuid.uuid4())]},
        ),
        client.delete(f"/api/v1/activities/{missing}/alignments/{uuid.uuid4()}"),
    ]:
        assert response.status_code == 404
        assert response.json()["code"] == "activity-not-found"
        assert response.json()["field"] == "activity_id"


def test_api_aligns_lists_and_unaligns(client: TestClient, session: Session) -> None:
    rows = FrameworkRows(session)
    first = rows.competency("A.1")
    second = rows.competency("A.2")
    session.commit()
    activity_id = client.post("/api/v1/activities", json=QUIZ).json()["id"]
    alignments = f"/api/v1/activities/{activity_id}/alignments"

    added = client.post(
        alignments, json={"competency_ids": [str(second.id), str(first.id)]}
    )
    listed = client.get(alignments)
    removed = client.delete(f"{alignments}/{second.id}")
    removed_again = client.delete(f"{alignments}/{second.id}")

    assert added.status_code == 200
    assert [c["human_coding_scheme"] for c in added.json()] == ["A.1", "A.2"]
    assert listed.json() == added.json()
    assert listed.json()[0] == {
        "id": str(first.id),
        "framework_id": str(rows.framework.id),
        "identifier": first.identifier,
        "human_coding_scheme": "A.1",
        "statement": "Statement of A.1",
    }
    assert removed.status_code == 204
    assert removed_again.status_code == 404
    assert removed_again.json()["code"] == "alignment-not-found"
    assert [c["id"] for c in client.get(alignments).json()] == [str(first.id)]


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"competency_ids": []}, 422, "competency_ids"),
        ({"competency_ids": ["not-a-uuid"]}, 422, "competency_ids.0"),
        ({}, 422, "competency_ids"),
    ],
)
def test_api_refuses_bad_alignments_and_keeps_the_old_ones(
    client: TestClient,
    session: Session,
    payload: dict[str, list[str]],
    status: int,
    field: str,
) -> None:
    kept = FrameworkRows(session).competency("A.1")
    session.commit()
    activity_id = client.post("/api/v1/activities", json=QUIZ).json()["id"]
    alignments = f"/api/v1/activities/{activity_id}/alignments"
    client.post(alignments, json={"competency_ids": [str(kept.id)]})

    response = client.post(alignments, json=payload)

    assert response.status_code == status
    assert response.json()["field"] == field
    assert [c["id"] for c in client.get(alignments).json()] == [str(kept.id)]


def test_api_refuses_an_unknown_competency_and_aligns_none(
    client: TestClient, session: Session
) -> None:
    known = FrameworkRows(session).competency("A.1")
    session.commit()
    activity_id = client.post("/api/v1/activities", json=QUIZ).json()["id"]
    alignments = f"/api/v1/activities/{activity_id}/alignments"

    response = client.post(
        alignments, json={"competency_ids": [str(known.id), str(uuid.uuid4())]}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "competency-not-found"
    assert response.json()["field"] == "competency_ids.1"
    assert client.get(alignments).json() == []
