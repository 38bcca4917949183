"""Person and group exports, and Open Badges 3.0 credentials for mastery.

Scenario (threshold 0.80), t0 < t1 < t2, all in course K:

    M1 (uri given), M2 (no uri; the framework's CFDocument uri names the
    CASE service), M3; one quiz aligned to each.
    ana (email): Quiz M1 t0 4/10, Quiz M1 t1 9/10, Quiz M1 t2 2/10 (voided),
                 Quiz M2 t2 8/10, Quiz M3 t0 5/10
        -> M1 mastered 0.90 (the voided 0.20 no longer counts),
           M2 mastered 0.80, M3 in_progress 0.50
    ben (no email): Quiz M1 t0 10/10 -> M1 mastered 1.00
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.evidence.models import Evidence
from app.evidence.service import void_evidence
from app.exports.service import PERSON_CSV_COLUMNS
from app.organizations.models import Organization
from app.organizations.service import get_default_organization_id
from tests.conftest import LiveServer
from tests.test_reports import T0, T1, T2, Store

CASE_BASE = "https://case.example.org/ims/case/v1p0"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


@pytest.fixture
def data(session: Session) -> Iterator[dict[str, Any]]:
    store = Store(session)
    default = session.get(Organization, get_default_organization_id(session))
    assert default is not None
    framework_identifier = str(uuid.uuid4())
    framework = store.new_framework(
        "Test mathematics", uri=f"{CASE_BASE}/CFDocuments/{framework_identifier}"
    )
    m1 = store.competency("M.1", uri="https://case.example.org/uri/m1")
    m2 = store.competency("M.2")
    m3 = store.competency("M.3")
    course = store.context(default, "K")
    quiz1 = store.activity(default, "Quiz M1", m1, context=course)
    quiz2 = store.activity(default, "Quiz M2", m2, context=course)
    quiz3 = store.activity(default, "Quiz M3", m3, context=course)

    ana = store.person(default, "ana", email="Ana@Example.org")
    ben = store.person(default, "ben")
    store.record(ana, quiz1, 4, 10, T0)
    store.record(ana, quiz1, 9, 10, T1)
    store.record(ana, quiz1, 2, 10, T2)
    store.record(ana, quiz2, 8, 10, T2)
    store.record(ana, quiz3, 5, 10, T0)
    store.record(ben, quiz1, 10, 10, T0)
    voided = session.execute(
        select(Evidence)
        .where(Evidence.person_id == ana.id)
        .where(Evidence.occurred_at == T2)
        .where(Evidence.activity_id == quiz1.id)
    ).scalar_one()
    void_evidence(
        session,
        organization_id=default.id,
        evidence_id=voided.id,
        reason="entered for the wrong learner",
        actor="test",
        threshold=Decimal("0.80"),
    )
    session.commit()
    yield {
        "default": default,
        "framework": framework,
        "course": course,
        "M1": m1,
        "M2": m2,
        "M3": m3,
        "ana": ana,
        "ben": ben,
        "voided": voided,
        "quiz1": quiz1,
    }
    session.rollback()
    session.execute(update(Organization).values(parent_id=None))
    session.commit()


# Person export ----------------------------------------------------------------


def test_person_export_json_holds_mastery_and_all_evidence(
    client: TestClient, data: dict[str, Any]
) -> None:
    ana = data["ana"]
    response = client.get(f"/api/v1/people/{ana.id}/export")

    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    body = response.json()
    assert body["person"]["id"] == str(ana.id)
    assert body["person"]["display_name"] == "ana"
    assert body["person"]["identifiers"][0]["scheme"] == "sis"
    assert [
        (m["human_coding_scheme"], m["status"], m["level"], m["mastered"])
        for m in body["mastery"]
    ] == [
        ("M.1", "mastered", "0.90", True),
        ("M.2", "mastered", "0.80", True),
        ("M.3", "in_progress", "0.50", False),
    ]
    # Oldest first (ties on occurred_at by arrival); the voided 2/10 is kept
    # and marked.
    assert [
        (e["activity_title"], e["score"], e["max_score"], e["voided_at"] is not None)
        for e in body["evidence"]
    ] == [
        ("Quiz M1", "4", "10", False),
        ("Quiz M3", "5", "10", False),
        ("Quiz M1", "9", "10", False),
        ("Quiz M1", "2", "10", True),
        ("Quiz M2", "8", "10", False),
    ]


def test_person_export_csv_has_a_row_per_standing_and_per_evidence(
    client: TestClient, data: dict[str, Any]
) -> None:
    response = client.get(
        f"/api/v1/people/{data['ana'].id}/export", params={"format": "csv"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(response.text))
    assert reader.fieldnames == PERSON_CSV_COLUMNS
    rows = list(reader)
    # 3 standings, then 5 pieces of evidence.
    assert [row["record"] for row in rows] == ["mastery"] * 3 + ["evidence"] * 5
    m1 = rows[0]
    assert (m1["human_coding_scheme"], m1["status"], m1["level"]) == (
        "M.1",
        "mastered",
        "0.90",
    )
    assert m1["competency_id"] == str(data["M1"].id)
    voided = next(r for r in rows if r["evidence_id"] == str(data["voided"].id))
    assert voided["score"] == "2"
    assert voided["voided_at"] != ""
    assert voided["activity_id"] == str(data["quiz1"].id)


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/v1/people/{new}/export", {}, 404, "person-not-found"),
        ("/api/v1/people/{ana}/export", {"format": "xml"}, 422, "invalid-request"),
        ("/api/v1/people/{new}/badges", {}, 404, "person-not-found"),
        (
            "/api/v1/people/{ben}/badges",
            {"identity": "email"},
            422,
            "person-has-no-email",
        ),
        ("/api/v1/exports/mastery", {}, 422, "scope-required"),
        ("/api/v1/exports/mastery", {"context_id": "{new}"}, 404, "context-not-found"),
        (
            "/api/v1/exports/mastery",
            {"context_id": "{course}", "framework_id": "{new}"},
            404,
            "framework-not-found",
        ),
    ],
)
def test_bad_export_requests_name_the_problem(
    client: TestClient,
    data: dict[str, Any],
    path: str,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    names = {
        "new": str(uuid.uuid4()),
        "ana": str(data["ana"].id),
        "ben": str(data["ben"].id),
        "course": str(data["course"].id),
    }
    response = client.get(
        path.format(**names),
        params={key: value.format(**names) for key, value in params.items()},
    )

    assert response.status_code == status, response.text
    assert response.json()["code"] == code


# Group export -------------------------------------------------------------------


def test_group_export_streams_each_stored_standing(
    live_server: LiveServer, data: dict[str, Any]
) -> None:
    headers = live_server.admin_headers()
    with httpx.stream(
        "GET",
        f"{live_server.url}/api/v1/exports/mastery",
        params={"context_id": str(data["course"].id)},
        headers=headers,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        text = "".join(response.iter_text())

    rows = list(csv.DictReader(io.StringIO(text)))
    # ana on M1, M2, M3 and ben on M1: people with no evidence have no row.
    assert {
        (r["display_name"], r["human_coding_scheme"], r["status"], r["level"])
        for r in rows
    } == {
        ("ana", "M.1", "mastered", "0.90"),
        ("ana", "M.2", "mastered", "0.80"),
        ("ana", "M.3", "in_progress", "0.50"),
        ("ben", "M.1", "mastered", "1.00"),
    }
    ana_m1 = next(
        r
        for r in rows
        if r["display_name"] == "ana" and r["human_coding_scheme"] == "M.1"
    )
    # Two live pieces of evidence behind it; the voided one is not counted.
    assert ana_m1["evidence_count"] == "2"


def test_group_export_as_json_for_an_organization(
    client: TestClient, data: dict[str, Any]
) -> None:
    response = client.get(
        "/api/v1/exports/mastery",
        params={
            "organization_id": str(data["default"].id),
            "framework_id": str(data["framework"].id),
            "format": "json",
        },
    )

    assert response.status_code == 200
    rows = json.loads(response.text)
    assert len(rows) == 4
    assert {(r["person_id"], r["competency_id"]) for r in rows} == {
        (str(data["ana"].id), str(data["M1"].id)),
        (str(data["ana"].id), str(data["M2"].id)),
        (str(data["ana"].id), str(data["M3"].id)),
        (str(data["ben"].id), str(data["M1"].id)),
    }


def test_state_group_export_has_counts_and_no_people(
    client: TestClient, session: Session, data: dict[str, Any]
) -> None:
    store = Store(session)
    state = store.organization("state-s", "state")
    school = store.organization("school-z", "school", state)
    quiz = store.activity(school, "Quiz Z", data["M1"])
    zed = store.person(school, "zed")
    zoe = store.person(school, "zoe")
    store.record(zed, quiz, 9, 10, T0)
    store.record(zoe, quiz, 3, 10, T0)
    session.commit()

    response = client.get(
        "/api/v1/exports/mastery", params={"organization_id": str(state.id)}
    )

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # School Z on M1: zed mastered (0.90), zoe in progress (0.30).
    assert rows == [
        {
            "organization_id": str(school.id),
            "competency_id": str(data["M1"].id),
            "competency_identifier": data["M1"].identifier,
            "human_coding_scheme": "M.1",
            "people": "2",
            "mastered": "1",
            "in_progress": "1",
            "no_evidence": "0",
        }
    ]
    for person in (zed, zoe):
        assert str(person.id) not in response.text
    assert "zed" not in response.text


# Open Badges 3.0 ------------------------------------------------------------------


def assert_open_badge_shape(credential: dict[str, Any]) -> None:
    """The properties Open Badges 3.0 requires, class by class.

    OpenBadgeCredential (AchievementCredential): @context, id, type, name,
    credentialSubject, issuer, validFrom; its type holds VerifiableCredential
    and OpenBadgeCredential; its @context starts with the VC 2.0 context.
    Profile: id, type. AchievementSubject: type, achievement, and either id
    or identifier. Achievement: id, type, criteria, description, name.
    Alignment: type, targetName, targetUrl.
    """
    for name in ("@context", "id", "type", "name", "credentialSubject", "issuer"):
        assert name in credential, name
    assert "validFrom" in credential
    assert credential["@context"][0] == VC_CONTEXT
    assert OB_CONTEXT in credential["@context"]
    assert {"VerifiableCredential", "OpenBadgeCredential"} <= set(credential["type"])
    assert "proof" not in credential

    issuer = credential["issuer"]
    assert issuer["id"] and "Profile" in issuer["type"]

    subject = credential["credentialSubject"]
    assert "AchievementSubject" in subject["type"]
    assert "id" in subject or subject.get("identifier")

    achievement = subject["achievement"]
    for name in ("id", "type", "criteria", "description", "name"):
        assert name in achievement, name
    assert "Achievement" in achievement["type"]
    assert achievement["criteria"]["narrative"]
    for alignment in achievement["alignment"]:
        assert "Alignment" in alignment["type"]
        assert alignment["targetName"] and alignment["targetUrl"]


def test_a_badge_for_each_mastered_competency(
    client: TestClient, data: dict[str, Any]
) -> None:
    ana = data["ana"]
    response = client.get(f"/api/v1/people/{ana.id}/badges")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    credentials = response.json()
    # M1 and M2 are mastered; M3 is in progress and earns nothing.
    assert len(credentials) == 2
    for credential in credentials:
        assert_open_badge_shape(credential)
    m1, m2 = credentials

    assert m1["issuer"]["name"] == data["default"].name
    assert m1["issuer"]["id"] == f"urn:uuid:{data['default'].id}"
    # Mastered from the latest live evidence: t1 for M1, t2 for M2.
    assert m1["validFrom"] == "2024-05-07T09:00:00Z"
    assert m2["validFrom"] == "2024-05-08T09:00:00Z"
    # The person is named by an opaque id, never the address.
    assert m1["credentialSubject"]["id"] == f"urn:uuid:{ana.id}"
    assert "ana@example.org" not in response.text.lower()

    achievement = m1["credentialSubject"]["achievement"]
    assert achievement["description"] == "Statement of M.1"
    assert achievement["humanCode"] == "M.1"
    assert achievement["criteria"]["narrative"].endswith(
        "at or above 80% of the maximum score."
    )
    assert achievement["alignment"] == [
        {
            "type": ["Alignment"],
            "targetName": "M.1",
            "targetUrl": "https://case.example.org/uri/m1",
            "targetDescription": "Statement of M.1",
            "targetType": "CFItem",
            "targetFramework": "Test mathematics",
            "targetCode": "M.1",
        }
    ]
    [m2_alignment] = m2["credentialSubject"]["achievement"]["alignment"]
    # No uri on M2: the CASE service's item endpoint for its identifier.
    assert m2_alignment["targetUrl"] == (f"{CASE_BASE}/CFItems/{data['M2'].identifier}")
    assert m2_alignment["targetType"] == "CFItem"
    assert m2_alignment["targetCode"] == "M.2"


def test_badges_are_named_the_same_on_every_request(
    client: TestClient, data: dict[str, Any]
) -> None:
    path = f"/api/v1/people/{data['ana'].id}/badges"

    first = [c["id"] for c in client.get(path).json()]
    second = [c["id"] for c in client.get(path).json()]

    assert first == second
    assert len(set(first)) == 2
    assert all(value.startswith("urn:uuid:") for value in first)


def test_badge_names_the_person_by_hashed_email_when_asked(
    client: TestClient, data: dict[str, Any]
) -> None:
    response = client.get(
        f"/api/v1/people/{data['ana'].id}/badges", params={"identity": "email"}
    )

    credential = response.json()[0]
    assert_open_badge_shape(credential)
    subject = credential["credentialSubject"]
    assert "id" not in subject
    [identity] = subject["identifier"]
    assert identity["type"] == "IdentityObject"
    assert identity["identityType"] == "emailAddress"
    assert identity["hashed"] is True
    # sha256 over the address followed by the salt, as OB 3.0 describes.
    expected = hashlib.sha256(("Ana@Example.org" + identity["salt"]).encode())
    assert identity["identityHash"] == f"sha256${expected.hexdigest()}"
    assert "ana@example.org" not in response.text.lower()


def test_no_mastery_no_badges(client: TestClient, session: Session) -> None:
    store = Store(session)
    default = session.get(Organization, get_default_organization_id(session))
    assert default is not None
    nobody = store.person(default, "nobody")
    session.commit()

    response = client.get(f"/api/v1/people/{nobody.id}/badges")

    assert response.status_code == 200
    assert response.json() == []
