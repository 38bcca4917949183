"""Bulk evidence uploads: streamed in, stored in chunks, reported row by row."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.activities.models import Activity
from app.activities.service import align_activity, upsert_activity
from app.auth.models import ApiClient
from app.evidence.models import Evidence
from app.frameworks.models import Competency, Framework
from app.main import create_app
from app.mastery.models import Mastery
from app.organizations.service import get_default_organization_id
from app.people.models import Person
from app.people.service import Identifier, create_person
from app.settings import Settings
from tests.conftest import LiveServer, bearer_token_for

THRESHOLD = Decimal("0.80")
SOURCE = "district-assessments"
CSV_HEADERS = {"Content-Type": "text/csv"}
NDJSON_HEADERS = {"Content-Type": "application/x-ndjson"}
HEADER = (
    "person_scheme,person_value,activity_source,activity_external_id,"
    "score,max_score,occurred_at,idempotency_key"
)


@dataclass
class District:
    """Pupils known by SIS id and quizzes aligned to one competency each."""

    people: list[Person]
    activities: list[Activity]
    competencies: list[Competency]


def a_framework(session: Session, codes: list[str]) -> list[Competency]:
    identifier = str(uuid.uuid4())
    framework = Framework(
        organization_id=get_default_organization_id(session),
        identifier=identifier,
        identifier_key=identifier,
        title="Bulk test framework",
        content_hash="0" * 64,
        document={"identifier": identifier},
    )
    session.add(framework)
    competencies = []
    for position, code in enumerate(codes, start=1):
        item = str(uuid.uuid4())
        competency = Competency(
            framework=framework,
            identifier=item,
            identifier_key=item,
            human_coding_scheme=code,
            full_statement=f"Statement of {code}",
            list_position=position,
            item={"identifier": item},
        )
        session.add(competency)
        competencies.append(competency)
    session.flush()
    return competencies


def a_district(
    session: Session, *, people: int = 2, activities: int = 2, emails: bool = False
) -> District:
    organization_id = get_default_organization_id(session)
    competencies = a_framework(session, [f"C.{n}" for n in range(activities)])
    pupils = []
    for n in range(people):
        identifiers = [Identifier(scheme="sis", value=f"s{n + 1}")]
        if emails:
            identifiers.append(
                Identifier(scheme="email", value=f"pupil{n + 1}@school.example")
            )
        pupils.append(
            create_person(
                session, organization_id=organization_id, identifiers=identifiers
            )
        )
    quizzes = []
    for n, competency in enumerate(competencies):
        activity = upsert_activity(
            session,
            organization_id=organization_id,
            source=SOURCE,
            external_id=f"quiz-{n + 1}",
            kind="external",
        )
        align_activity(
            session,
            activity_id=activity.id,
            competency_ids=[competency.id],
            threshold=THRESHOLD,
        )
        quizzes.append(activity)
    session.commit()
    return District(people=pupils, activities=quizzes, competencies=competencies)


@pytest.fixture
def district(session: Session) -> District:
    return a_district(session)


def stored_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Evidence)) or 0


def evidence_id(session: Session, key: str) -> str:
    statement = select(Evidence.id).where(Evidence.idempotency_key == key)
    return str(session.scalar(statement))


def csv_row(
    person: str,
    quiz: str,
    score: str,
    key: str,
    occurred_at: str = "2024-05-06T05:00:00-04:00",
) -> str:
    return f"sis,{person},{SOURCE},{quiz},{score},8,{occurred_at},{key}"


def csv_report(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# CSV


MIXED_CSV = "\n".join(
    [
        HEADER,
        csv_row("s1", "quiz-1", "7", "k1"),  # line 2: stored
        csv_row("s2", "quiz-2", "3", "k2"),  # line 3: stored
        csv_row("s1", "quiz-1", "7.00", "k1"),  # line 4: k1 again, same result
        csv_row("s9", "quiz-1", "7", "k3"),  # line 5: nobody is s9
        "",  # a blank line is skipped, yet counted as a line
        csv_row("s1", "quiz-1", "seven", "k4"),  # line 7
        csv_row("s1", "quiz-1", "6", "k1"),  # line 8: k1 for another score
        csv_row("s1", "quiz-1", "7", "k5", occurred_at="2024-05-06T05:00:00"),
        csv_row("s1", "quiz-9", "7", "k6"),  # line 10: no such quiz
        "sis,s1,only three fields",  # line 11
    ]
)


def test_csv_upload_reports_every_row_and_stores_the_good_ones(
    client: TestClient, session: Session, district: District
) -> None:
    response = client.post(
        "/api/v1/evidence/bulk", content=MIXED_CSV, headers=CSV_HEADERS
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    k1, k2 = evidence_id(session, "k1"), evidence_id(session, "k2")
    assert csv_report(response.text) == [
        ["row", "status", "reason", "evidence_id"],
        ["2", "stored", "", k1],
        ["3", "stored", "", k2],
        ["4", "duplicate", "", k1],
        ["5", "rejected", "no person has the sis identifier 's9'", ""],
        ["7", "rejected", "score is not a number", ""],
        [
            "8",
            "rejected",
            f"idempotency_key was already used for a different result (evidence {k1})",
            k1,
        ],
        ["9", "rejected", "occurred_at has no UTC offset", ""],
        [
            "10",
            "rejected",
            f"no activity has the external id 'quiz-9' from '{SOURCE}'",
            "",
        ],
        ["11", "rejected", "has 3 fields where the header names 8", ""],
        ["summary", "", "rows=9 stored=2 duplicate=1 rejected=6", ""],
    ]
    assert stored_count(session) == 2


def test_the_same_file_again_stores_nothing_new(
    client: TestClient, session: Session, district: District
) -> None:
    client.post("/api/v1/evidence/bulk", content=MIXED_CSV, headers=CSV_HEADERS)

    again = client.post("/api/v1/evidence/bulk", content=MIXED_CSV, headers=CSV_HEADERS)

    rows = csv_report(again.text)
    assert [row[:2] for row in rows[1:4]] == [
        ["2", "duplicate"],
        ["3", "duplicate"],
        ["4", "duplicate"],
    ]
    assert rows[-1] == ["summary", "", "rows=9 stored=0 duplicate=3 rejected=6", ""]
    assert stored_count(session) == 2


def test_stored_rows_recompute_mastery(
    client: TestClient, session: Session, district: District
) -> None:
    client.post("/api/v1/evidence/bulk", content=MIXED_CSV, headers=CSV_HEADERS)

    session.expire_all()
    rows = session.execute(
        select(Mastery.person_id, Mastery.competency_id, Mastery.level)
    ).all()
    first, second = district.people
    # s1 scored 7/8 = 0.875 -> 0.88 on C.0 and s2 scored 3/8 = 0.375 -> 0.38
    # on C.1.
    assert sorted(rows, key=lambda row: row.level) == [
        (second.id, district.competencies[1].id, Decimal("0.38")),
        (first.id, district.competencies[0].id, Decimal("0.88")),
    ]


# JSON lines


def test_ndjson_upload_reports_every_row(
    client: TestClient, session: Session, district: District
) -> None:
    pupil, quiz = district.people[1], district.activities[1]
    lines = [
        {
            "person_scheme": "sis",
            "person_value": "s1",
            "activity_source": SOURCE,
            "activity_external_id": "quiz-1",
            "score": 7,
            "max_score": 8,
            "occurred_at": "2024-05-06T09:00:00Z",
            "idempotency_key": "j1",
            "source": "sis-export",
        },
        {
            "person_id": str(pupil.id),
            "activity_id": str(quiz.id),
            "score": "2.5",
            "max_score": 5,
            "occurred_at": "2024-05-06T11:00:00+02:00",
            "idempotency_key": "j2",
        },
        "not json at all",
        {"person_id": "nope"},
        {
            "person_id": str(pupil.id),
            "activity_id": str(quiz.id),
            "score": -1,
            "max_score": 5,
            "occurred_at": "2024-05-06T09:00:00Z",
            "idempotency_key": "j3",
        },
        {
            "person_id": str(uuid.UUID(int=1)),
            "activity_id": str(quiz.id),
            "score": 1,
            "max_score": 5,
            "occurred_at": "2024-05-06T09:00:00Z",
            "idempotency_key": "j4",
            "colour": "blue",
        },
        [1, 2],
    ]
    body = "\n".join(
        line if isinstance(line, str) else json.dumps(line) for line in lines
    )

    response = client.post(
        "/api/v1/evidence/bulk", content=body, headers=NDJSON_HEADERS
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    j1, j2 = evidence_id(session, "j1"), evidence_id(session, "j2")
    report = [json.loads(line) for line in response.text.splitlines()]
    assert report == [
        {"row": 1, "status": "stored", "reason": None, "evidence_id": j1},
        {"row": 2, "status": "stored", "reason": None, "evidence_id": j2},
        {
            "row": 3,
            "status": "rejected",
            "reason": "is not valid JSON (Expecting value)",
            "evidence_id": None,
        },
        {
            "row": 4,
            "status": "rejected",
            "reason": "score is missing",
            "evidence_id": None,
        },
        {
            "row": 5,
            "status": "rejected",
            "reason": "score must not be negative (got -1.0000).",
            "evidence_id": None,
        },
        {
            "row": 6,
            "status": "rejected",
            "reason": "unknown field 'colour'",
            "evidence_id": None,
        },
        {
            "row": 7,
            "status": "rejected",
            "reason": "is not a JSON object",
            "evidence_id": None,
        },
        {"summary": {"rows": 7, "stored": 2, "duplicate": 0, "rejected": 5}},
    ]
    session.expire_all()
    stored = session.get(Evidence, uuid.UUID(j1))
    assert stored is not None and stored.source == "sis-export"
    second = session.get(Evidence, uuid.UUID(j2))
    # 11:00+02:00 is 09:00Z; the default source of a bulk row is "bulk".
    assert second is not None and second.source == "bulk"
    assert second.occurred_at.isoformat() == "2024-05-06T09:00:00+00:00"
    assert (second.score, second.max_score) == (Decimal("2.5"), Decimal(5))


# Uploads refused whole


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (
            MIXED_CSV,
            {"Content-Type": "application/json"},
            415,
            "unsupported-upload-type",
        ),
        (MIXED_CSV, {}, 415, "unsupported-upload-type"),
        ("", CSV_HEADERS, 400, "upload-empty"),
        (
            "person_scheme,person_value,score\n" + csv_row("s1", "quiz-1", "7", "k1"),
            CSV_HEADERS,
            400,
            "csv-header-invalid",
        ),
        (
            MIXED_CSV.replace("score,max_score", "score,maximum"),
            CSV_HEADERS,
            400,
            "csv-header-invalid",
        ),
        (MIXED_CSV, NDJSON_HEADERS, 400, "ndjson-invalid"),
        (b"\xff\xfe" + MIXED_CSV.encode(), CSV_HEADERS, 400, "upload-not-utf8"),
        ("a" * 1_000_001, CSV_HEADERS, 400, "upload-line-too-long"),
    ],
)
def test_a_malformed_upload_is_a_problem_and_stores_nothing(
    client: TestClient,
    session: Session,
    district: District,
    body: str | bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = client.post("/api/v1/evidence/bulk", content=body, headers=headers)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert stored_count(session) == 0


def test_a_missing_header_column_is_named(
    client: TestClient, district: District
) -> None:
    body = MIXED_CSV.replace(",idempotency_key", ",key", 1)

    response = client.post("/api/v1/evidence/bulk", content=body, headers=CSV_HEADERS)

    assert response.json()["detail"].startswith(
        "Line 1 must be the CSV header; unknown column 'key'."
    )


# Streaming and concurrency over real HTTP


@pytest.fixture
def small_chunk_server(settings: Settings) -> Iterator[LiveServer]:
    """A live server committing every 3 rows, so chunking shows in a small upload."""
    app = create_app(settings.model_copy(update={"evidence_bulk_chunk_rows": 3}))
    server = LiveServer(app, settings.host, settings.port)
    server.start()
    yield server
    server.stop()


def wait_for_count(session: Session, expected: int) -> None:
    """Wait until `expected` rows are committed; fail if they never are."""
    deadline = time.monotonic() + 30
    while stored_count(session) < expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"{expected} rows were never committed")
        time.sleep(0.02)


def test_rows_are_committed_chunk_by_chunk_while_the_body_still_arrives(
    small_chunk_server: LiveServer, session: Session, district: District
) -> None:
    # The body is a generator that will not send line 5 until the first chunk
    # (lines 2-4) is committed, nor line 8 until the second is: the upload can
    # only finish if the server stores what it has read before reading on,
    # which is what keeps its memory to one chunk however long the body.
    def body() -> Iterator[bytes]:
        yield (HEADER + "\n").encode()
        for chunk in range(3):
            for n in range(3):
                key = f"c{chunk}-{n}"
                yield (csv_row(f"s{n % 2 + 1}", "quiz-1", "7", key) + "\n").encode()
            wait_for_count(session, 3 * (chunk + 1))

    response = httpx.post(
        small_chunk_server.url + "/api/v1/evidence/bulk",
        content=body(),
        headers={**CSV_HEADERS, **small_chunk_server.admin_headers()},
        timeout=60,
    )

    assert response.status_code == 200
    assert csv_report(response.text)[-1] == [
        "summary",
        "",
        "rows=9 stored=9 duplicate=0 rejected=0",
        "",
    ]
    assert stored_count(session) == 9


def test_two_uploads_of_the_same_rows_at_once_store_each_row_once(
    live_server: LiveServer, session: Session
) -> None:
    a_district(session, people=20, activities=5)
    rows = [
        csv_row(f"s{n % 20 + 1}", f"quiz-{n % 5 + 1}", str(n % 9), f"race-{n}")
        for n in range(300)
    ]
    body = "\n".join([HEADER, *rows])
    headers = {**CSV_HEADERS, **live_server.admin_headers()}
    start = threading.Barrier(2)
    reports: list[list[list[str]]] = []

    def upload() -> None:
        start.wait()
        response = httpx.post(
            live_server.url + "/api/v1/evidence/bulk",
            content=body,
            headers=headers,
            timeout=120,
        )
        reports.append(csv_report(response.text))

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert stored_count(session) == 300
    first, second = (report[1:-1] for report in reports)
    for mine, theirs in zip(first, second, strict=True):
        # Each row is stored by exactly one upload; the other sees its id.
        assert {mine[1], theirs[1]} == {"stored", "duplicate"}
        assert mine[3] == theirs[3]


# Ordering


def test_mastery_follows_when_attempts_happened_not_when_they_arrived(
    client: TestClient, session: Session, district: District
) -> None:
    later = csv_row("s1", "quiz-1", "8", "late", occurred_at="2024-05-07T09:00:00Z")
    earlier = csv_row("s1", "quiz-1", "1", "early", occurred_at="2024-05-06T09:00:00Z")

    # The later attempt arrives first, in its own upload; the earlier one after.
    client.post(
        "/api/v1/evidence/bulk", content=f"{HEADER}\n{later}", headers=CSV_HEADERS
    )
    client.post(
        "/api/v1/evidence/bulk", content=f"{HEADER}\n{earlier}", headers=CSV_HEADERS
    )

    session.expire_all()
    mastery = session.scalars(
        select(Mastery).where(Mastery.person_id == district.people[0].id)
    ).one()
    # The most recent attempt, 8/8 on 7 May, decides: level 1.00, mastered.
    assert (mastery.level, mastery.mastered) == (Decimal("1.00"), True)


# Voiding


def test_voiding_records_an_event_and_recomputes_mastery(
    client: TestClient, session: Session, district: District
) -> None:
    first = csv_row("s1", "quiz-1", "8", "v1", occurred_at="2024-05-06T09:00:00Z")
    second = csv_row("s1", "quiz-1", "2", "v2", occurred_at="2024-05-07T09:00:00Z")
    client.post(
        "/api/v1/evidence/bulk",
        content=f"{HEADER}\n{first}\n{second}",
        headers=CSV_HEADERS,
    )
    wrong = evidence_id(session, "v2")

    response = client.post(
        f"/api/v1/evidence/{wrong}/void", json={"reason": "entered for the wrong pupil"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["void_reason"] == "entered for the wrong pupil"
    assert body["voided_at"] is not None
    [event] = body["events"]
    assert event["event_type"] == "voided"
    assert event["reason"] == "entered for the wrong pupil"
    assert event["actor"] == admin_client_id(session)
    assert client.get(f"/api/v1/evidence/{wrong}").json() == body
    session.expire_all()
    mastery = session.scalars(
        select(Mastery).where(Mastery.person_id == district.people[0].id)
    ).one()
    # With 2/8 on 7 May voided, 8/8 on 6 May is the latest that counts.
    assert (mastery.level, mastery.mastered) == (Decimal("1.00"), True)


def test_voiding_twice_or_voiding_nothing_is_refused(
    client: TestClient, session: Session, district: District
) -> None:
    client.post(
        "/api/v1/evidence/bulk",
        content=f"{HEADER}\n{csv_row('s1', 'quiz-1', '8', 'v1')}",
        headers=CSV_HEADERS,
    )
    stored = evidence_id(session, "v1")
    client.post(f"/api/v1/evidence/{stored}/void", json={"reason": "first"})

    twice = client.post(f"/api/v1/evidence/{stored}/void", json={"reason": "second"})
    missing = client.post(f"/api/v1/evidence/{uuid.uuid4()}/void", json={"reason": "x"})
    no_reason = client.post(f"/api/v1/evidence/{stored}/void", json={"reason": ""})

    assert (twice.status_code, twice.json()["code"]) == (409, "evidence-already-voided")
    assert (missing.status_code, missing.json()["code"]) == (404, "evidence-not-found")
    assert (no_reason.status_code, no_reason.json()["field"]) == (422, "reason")
    events = client.get(f"/api/v1/evidence/{stored}").json()["events"]
    assert [event["reason"] for event in events] == ["first"]


def admin_client_id(session: Session) -> str:
    statement = select(ApiClient.client_id).where(ApiClient.name == "test admin")
    return str(session.scalar(statement))


def test_bulk_needs_the_evidence_write_scope(app: FastAPI) -> None:
    token = bearer_token_for(app, scopes=["evidence:read"])
    with TestClient(app) as reader:
        response = reader.post(
            "/api/v1/evidence/bulk",
            content=MIXED_CSV,
            headers={**CSV_HEADERS, "Authorization": f"Bearer {token}"},
        )

    assert response.status_code == 403
