"""Recording evidence: stored once per idempotency key, bad input refused whole."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.activities.models import Activity
from app.evidence.models import Evidence
from app.evidence.service import RecordedEvidence, record_evidence
from app.mastery.models import Mastery
from app.organizations.service import get_default_organization_id
from app.people.models import Person
from app.people.service import Identifier, create_person
from app.problems import Problem
from tests.test_mastery import MONDAY, THRESHOLD, FrameworkRows, a_person, an_activity


def count(session: Session, table: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(table)) or 0


@pytest.fixture
def setting(session: Session) -> tuple[Person, Activity]:
    """A person and an activity aligned to one competency, committed."""
    standard = FrameworkRows(session).competency("A.1")
    person = a_person(session)
    activity = an_activity(session, standard)
    session.commit()
    return person, activity


def submit(
    session: Session,
    person: Person,
    activity: Activity,
    **overrides: Any,
) -> RecordedEvidence:
    values: dict[str, Any] = {
        "organization_id": person.organization_id,
        "person_id": person.id,
        "activity_id": activity.id,
        "score": Decimal(7),
        "max_score": Decimal(8),
        "occurred_at": MONDAY,
        "source": "test",
        "threshold": THRESHOLD,
    }
    values.update(overrides)
    return record_evidence(session, **values)


def test_evidence_is_stored_and_mastery_computed(
    session: Session, setting: tuple[Person, Activity]
) -> None:
    person, activity = setting

    recorded = submit(session, person, activity, idempotency_key="attempt-1")
    session.commit()

    assert recorded.created is True
    assert recorded.evidence.idempotency_key == "attempt-1"
    assert count(session, Evidence) == 1
    # 7 / 8 = 0.875 -> 0.88 >= 0.80.
    level = session.scalar(select(Mastery.level).where(Mastery.person_id == person.id))
    assert level == Decimal("0.88")


def test_the_same_key_twice_is_stored_once(
    session: Session, setting: tuple[Person, Activity]
) -> None:
    person, activity = setting

    first = submit(session, person, activity, idempotency_key="attempt-1")
    session.commit()
    second = submit(session, person, activity, idempotency_key="attempt-1")
    session.commit()

    assert (first.created, second.created) == (True, False)
    assert second.evidence.id == first.evidence.id
    assert count(session, Evidence) == 1


def test_without_a_key_the_same_result_is_recognised(
    session: Session, setting: tuple[Person, Activity]
) -> None:
    person, activity = setting
    first = submit(session, person, activity)
    session.commit()

    # 7.00 is 7, and 11:00+02:00 is 09:00Z: the same result, the same key.
    again = submit(
        session,
        person,
        activity,
        score=Decimal("7.00"),
        occurred_at=MONDAY.astimezone(timezone(timedelta(hours=2))),
    )
    session.commit()
    retaken = submit(session, person, activity, score=Decimal(8))
    session.commit()

    assert again.created is False
    assert again.evidence.id == first.evidence.id
    assert len(first.evidence.idempotency_key) == 64
    assert retaken.created is True
    assert count(session, Evidence) == 2


def test_a_key_reused_for_a_different_result_is_refused(
    session: Session, setting: tuple[Person, Activity]
) -> None:
    person, activity = setting
    submit(session, person, activity, idempotency_key="attempt-1")
    session.commit()

    with pytest.raises(Problem) as caught:
        submit(session, person, activity, idempotency_key="attempt-1", score=Decimal(2))
    session.rollback()

    assert (caught.value.status, caught.value.field) == (409, "idempotency_key")
    assert count(session, Evidence) == 1
    stored = session.scalars(select(Evidence)).one()
    assert stored.score == Decimal(7)


def test_two_sessions_racing_with_one_key_store_one_row(
    session_factory: sessionmaker[Session], setting: tuple[Person, Activity]
) -> None:
    person, activity = setting
    outcomes: dict[str, RecordedEvidence | BaseException] = {}

    def second_writer() -> None:
        with session_factory() as other:
            try:
                outcomes["second"] = submit(
                    other, person, activity, idempotency_key="race"
                )
                other.commit()
            except BaseException as error:  # reported to the main thread
                outcomes["second"] = error

    with session_factory() as first:
        outcomes["first"] = submit(first, person, activity, idempotency_key="race")
        # The first row is written but not committed: the second writer's
        # insert meets it in the unique index and waits for this commit.
        writer = threading.Thread(target=second_writer)
        writer.start()
        first.commit()
    writer.join()

    first_outcome, second_outcome = outcomes["first"], outcomes["second"]
    assert isinstance(first_outcome, RecordedEvidence), first_outcome
    assert isinstance(second_outcome, RecordedEvidence), second_outcome
    assert (first_outcome.created, second_outcome.created) == (True, False)
    assert second_outcome.evidence.id == first_outcome.evidence.id
    with session_factory() as check:
        assert count(check, Evidence) == 1


def test_a_score_above_the_maximum_is_kept_and_counts_as_full(
    session: Session, setting: tuple[Person, Activity]
) -> None:
    person, activity = setting

    recorded = submit(session, person, activity, score=Decimal(10))
    session.commit()

    assert recorded.evidence.score == Decimal(10)
    # 10 / 8 = 1.25, capped at 1.00.
    level = session.scalar(select(Mastery.level).where(Mastery.person_id == person.id))
    assert level == Decimal("1.00")


def test_scores_are_kept_to_four_decimals(
    session: Session, setting: tuple[Person, Activity]
) -> None:
    person, activity = setting

    # 2/3 as an LMS sends it: 0.666666... -> 0.6667 (half-up at the fifth place).
    recorded = submit(
        session, person, activity, score=Decimal("0.66666666"), max_score=Decimal(1)
    )
    session.commit()
    session.expire_all()

    assert session.get(Evidence, recorded.evidence.id).score == Decimal("0.6667")


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        ({"score": Decimal(-1)}, 422, "invalid-score", "score"),
        ({"score": Decimal("NaN")}, 422, "invalid-score", "score"),
        ({"max_score": Decimal(0)}, 422, "invalid-max-score", "max_score"),
        ({"max_score": Decimal(-8)}, 422, "invalid-max-score", "max_score"),
        ({"max_score": Decimal("1e12")}, 422, "invalid-max-score", "max_score"),
        (
            {"occurred_at": datetime(2024, 5, 6, 9, 0)},
            422,
            "occurred-at-without-offset",
            "occurred_at",
        ),
        ({"person_id": uuid.uuid4()}, 404, "person-not-found", "person"),
        ({"activity_id": uuid.uuid4()}, 404, "activity-not-found", "activity"),
        ({"idempotency_key": ""}, 422, "invalid-idempotency-key", "idempotency_key"),
        ({"source": "x" * 33}, 422, "invalid-source", "source"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    session: Session,
    setting: tuple[Person, Activity],
    overrides: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    person, activity = setting

    with pytest.raises(Problem) as caught:
        submit(session, person, activity, **overrides)
    session.rollback()

    assert (caught.value.status, caught.value.code, caught.value.field) == (
        status,
        code,
        field,
    )
    assert count(session, Evidence) == 0
    assert count(session, Mastery) == 0


# The API


@pytest.fixture
def district(session: Session) -> dict[str, Any]:
    """A person known by SIS id 12345 and an activity of a district system."""
    standard = FrameworkRows(session).competency("A.1")
    person = create_person(
        session,
        organization_id=get_default_organization_id(session),
        identifiers=[Identifier(scheme="sis", value="12345")],
    )
    activity = an_activity(session, standard)
    session.commit()
    return {
        "person": person,
        "activity": activity,
        "body": {
            "person": {"scheme": "sis", "value": "12345"},
            "activity": {
                "source": activity.source,
                "external_id": activity.external_id,
            },
            "score": 7,
            "max_score": 8,
            "occurred_at": "2024-05-06T05:00:00-04:00",
        },
    }


def test_api_stores_evidence_named_by_identifiers(
    client: TestClient, session: Session, district: dict[str, Any]
) -> None:
    response = client.post("/api/v1/evidence", json=district["body"])

    assert response.status_code == 201
    body = response.json()
    assert body["person_id"] == str(district["person"].id)
    assert body["activity_id"] == str(district["activity"].id)
    assert (body["score"], body["max_score"], body["source"]) == (7, 8, "api")
    # 05:00-04:00 is 09:00Z.
    assert datetime.fromisoformat(body["occurred_at"]) == MONDAY
    assert count(session, Evidence) == 1


def test_api_repeat_returns_200_with_the_same_body(
    client: TestClient, session: Session, district: dict[str, Any]
) -> None:
    headers = {"Idempotency-Key": "sis-attempt-99812"}

    first = client.post("/api/v1/evidence", json=district["body"], headers=headers)
    second = client.post("/api/v1/evidence", json=district["body"], headers=headers)
    by_id = dict(district["body"], person={"id": str(district["person"].id)})
    third = client.post(
        "/api/v1/evidence",
        json=dict(by_id, idempotency_key="sis-attempt-99812"),
    )

    assert (first.status_code, second.status_code, third.status_code) == (
        201,
        200,
        200,
    )
    assert second.json() == first.json() == third.json()
    assert first.json()["idempotency_key"] == "sis-attempt-99812"
    assert count(session, Evidence) == 1


def test_api_without_a_key_recognises_a_repeat(
    client: TestClient, session: Session, district: dict[str, Any]
) -> None:
    first = client.post("/api/v1/evidence", json=district["body"])
    second = client.post("/api/v1/evidence", json=district["body"])

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert count(session, Evidence) == 1


def _with(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**body, **changes}


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != name}


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        (lambda b: _with(b, score=-1), 422, "score"),
        (lambda b: _with(b, max_score=0), 422, "max_score"),
        (lambda b: _with(b, score="seven"), 422, "score"),
        (lambda b: _without(b, "score"), 422, "score"),
        (lambda b: _with(b, occurred_at="2024-05-06T09:00:00"), 422, "occurred_at"),
        (lambda b: _with(b, occurred_at="2024-05-06"), 422, "occurred_at"),
        (lambda b: _with(b, occurred_at=1714986000), 422, "occurred_at"),
        (lambda b: _with(b, occurred_at="last monday"), 422, "occurred_at"),
        (
            lambda b: _with(b, person={"scheme": "sis", "value": "99999"}),
            404,
            "person",
        ),
        (lambda b: _with(b, person={"id": str(uuid.uuid4())}), 404, "person"),
        (lambda b: _with(b, person={"scheme": "sis"}), 422, "person"),
        (
            lambda b: _with(
                b, person={"id": str(uuid.uuid4()), "scheme": "sis", "value": "1"}
            ),
            422,
            "person",
        ),
        (lambda b: _with(b, activity={"id": str(uuid.uuid4())}), 404, "activity"),
        (
            lambda b: _with(b, activity={"source": "elsewhere", "external_id": "q"}),
            404,
            "activity",
        ),
        (lambda b: _with(b, activity={"source": "elsewhere"}), 422, "activity"),
        (lambda b: _without(b, "activity"), 422, "activity"),
        (lambda b: _with(b, idempotency_key=""), 422, "idempotency_key"),
    ],
)
def test_api_refuses_bad_input_naming_the_field(
    client: TestClient,
    session: Session,
    district: dict[str, Any],
    change: Any,
    status: int,
    field: str,
) -> None:
    response = client.post("/api/v1/evidence", json=change(district["body"]))

    assert response.status_code == status, response.json()
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["field"] == field
    assert problem["detail"]
    assert count(session, Evidence) == 0
    assert count(session, Mastery) == 0


def test_api_refuses_a_header_and_body_key_that_differ(
    client: TestClient, session: Session, district: dict[str, Any]
) -> None:
    response = client.post(
        "/api/v1/evidence",
        json=_with(district["body"], idempotency_key="one"),
        headers={"Idempotency-Key": "two"},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency-key-mismatch"
    assert response.json()["field"] == "idempotency_key"
    assert count(session, Evidence) == 0


def test_api_refuses_a_key_reused_for_another_result_and_keeps_the_first(
    client: TestClient, session: Session, district: dict[str, Any]
) -> None:
    headers = {"Idempotency-Key": "attempt-7"}
    first = client.post("/api/v1/evidence", json=district["body"], headers=headers)
    changed = _with(district["body"], score=2)

    response = client.post("/api/v1/evidence", json=changed, headers=headers)

    assert (first.status_code, response.status_code) == (201, 409)
    assert response.json()["code"] == "idempotency-key-reused"
    stored = session.scalars(select(Evidence)).one()
    assert stored.score == Decimal(7)


def test_occurred_at_offsets_are_kept_as_the_same_instant(
    client: TestClient, session: Session, district: dict[str, Any]
) -> None:
    body = _with(district["body"], occurred_at="2024-05-06T18:30:00+09:30")

    response = client.post("/api/v1/evidence", json=body)

    assert response.status_code == 201
    stored = session.scalars(select(Evidence)).one()
    # 18:30 at +09:30 is 09:00 UTC.
    assert stored.occurred_at == datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
