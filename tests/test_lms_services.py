"""Grade passback, LMS grades as evidence and roster sync, over real HTTP.

A Moodle- or Canvas-shaped platform launches the tool (tests/lti_platform.py)
with AGS and NRPS claims pointing at a service double of the same flavour
(tests/lti_service_platform.py), whose token endpoint is the one registered
for the platform.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.activities.models import Activity
from app.cli import cli
from app.contexts.models import Context
from app.evidence.models import Evidence
from app.evidence.service import record_evidence
from app.keys.service import ensure_signing_key, public_jwks
from app.lms_services.models import (
    ContextMembership,
    LineItemLink,
    MembershipService,
    ScorePassback,
)
from app.lms_services.service import (
    pass_back_score,
    retry_failed_passbacks,
    sync_results,
    sync_roster,
)
from app.people.models import PersonIdentifier
from app.settings import get_settings
from connectors.lti.advantage import AGS_CLAIM, NRPS_CLAIM, with_path_suffix
from connectors.lti.nrps import INSTRUCTOR, LEARNER
from connectors.lti.service_token import ServiceTokens
from tests.conftest import LiveServer, bearer_token_for
from tests.lti_platform import (
    Browser,
    Launch,
    LaunchPlan,
    TestPlatform,
    running_platform,
)
from tests.lti_service_platform import (
    SCORE_SCOPE,
    ServicePlatform,
    running_service_platform,
)

# The seeded line item of each flavour's launched resource link; both have
# scoreMaximum 100 (Moodle's exchange capture, Canvas's documented fixture).
LINE_ITEM_IDS = {"moodle": 2, "canvas": 1}
AGS_SCOPES = sorted(
    "https://purl.imsglobal.org/spec/lti-ags/scope/" + name
    for name in ("lineitem", "lineitem.readonly", "result.readonly", "score")
)


@pytest.fixture(params=["moodle", "canvas"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def services(session: Session, flavour: str) -> Iterator[ServicePlatform]:
    ensure_signing_key(session)
    with running_service_platform(flavour, tool_jwks=public_jwks(session)) as double:
        yield double


@pytest.fixture
def lms(
    flavour: str, services: ServicePlatform, live_server: LiveServer
) -> Iterator[TestPlatform]:
    with running_platform(flavour, tool_url=live_server.url) as platform:
        registration = {**platform.registration(), "auth_token_url": services.token_url}
        response = httpx.post(
            live_server.url + "/api/v1/platforms",
            json=registration,
            headers=live_server.admin_headers(),
        )
        assert response.status_code == 201, response.text
        yield platform


@pytest.fixture
def browser(lms: TestPlatform) -> Iterator[Browser]:
    browser = Browser(lms)
    yield browser
    browser.close()


@pytest.fixture
def tokens() -> Iterator[ServiceTokens]:
    http = httpx.Client(timeout=10)
    yield ServiceTokens(http)
    http.close()


def _with_services(services: ServicePlatform, flavour: str) -> Any:
    def tamper(claims: dict[str, Any]) -> None:
        claims[AGS_CLAIM] = services.ags_claim(line_item_id=LINE_ITEM_IDS[flavour])
        claims[NRPS_CLAIM] = services.nrps_claim()

    return tamper


def _launch(
    browser: Browser, services: ServicePlatform, flavour: str, role: str
) -> Launch:
    launch = browser.launch(
        role, LaunchPlan(role=role, tamper=_with_services(services, flavour))
    )
    assert launch.page is not None and launch.page.status_code == 200, (
        launch.response.text
    )
    return launch


def _scores_path(services: ServicePlatform, flavour: str) -> str:
    url = services.line_item_url(LINE_ITEM_IDS[flavour])
    return urlsplit(with_path_suffix(url, "/scores")).path


def _results_path(services: ServicePlatform, flavour: str) -> str:
    url = services.line_item_url(LINE_ITEM_IDS[flavour])
    return urlsplit(with_path_suffix(url, "/results")).path


def _passbacks(session: Session) -> list[ScorePassback]:
    session.expire_all()
    statement = select(ScorePassback).order_by(ScorePassback.created_at)
    return list(session.execute(statement).scalars())


def _tool_evidence(
    session: Session, *, sub: str, score: str, occurred_at: datetime
) -> Evidence:
    """Evidence recorded by the tool for the launched learner, committed."""
    identifier = session.execute(
        select(PersonIdentifier).where(PersonIdentifier.value == sub)
    ).scalar_one()
    activity = session.execute(select(Activity)).scalar_one()
    recorded = record_evidence(
        session,
        organization_id=activity.organization_id,
        person_id=identifier.person_id,
        activity_id=activity.id,
        score=Decimal(score),
        max_score=Decimal(100),
        occurred_at=occurred_at,
        source="tool",
        idempotency_key=f"test:{uuid.uuid4()}",
    )
    session.commit()
    return recorded.evidence


def test_launch_records_service_endpoints_and_membership(
    flavour: str, services: ServicePlatform, browser: Browser, session: Session
) -> None:
    _launch(browser, services, flavour, "learner")

    link = session.execute(select(LineItemLink)).scalar_one()
    assert link.line_item_url == services.line_item_url(LINE_ITEM_IDS[flavour])
    assert link.line_items_url == services.lineitems_url
    assert link.scopes == AGS_SCOPES
    assert link.gone_at is None
    roster = session.execute(select(MembershipService)).scalar_one()
    assert roster.context_memberships_url == services.memberships_url
    membership = session.execute(select(ContextMembership)).scalar_one()
    assert membership.status == "active"
    assert LEARNER in membership.roles


def test_learner_submit_posts_the_score_once_per_token(
    flavour: str, services: ServicePlatform, browser: Browser, session: Session
) -> None:
    learner = _launch(browser, services, flavour, "learner")
    sub = browser.platform.sub_for("learner")

    submitted = browser.submit(learner.page, "submit-form", score="0")
    assert submitted.status_code == 303, submitted.text
    page = browser.follow(submitted)
    assert "Your result was recorded." in page.text

    posts = services.requests_to(_scores_path(services, flavour), "POST")
    assert len(posts) == 1
    evidence = session.execute(select(Evidence)).scalar_one()
    assert posts[0].json() == {
        "userId": sub,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": evidence.occurred_at.isoformat(timespec="milliseconds"),
        # 0 is a score: sent, not left out.
        "scoreGiven": 0,
        "scoreMaximum": 100,
    }
    assert posts[0].headers["content-type"] == "application/vnd.ims.lis.v1.score+json"
    assert [p.status for p in _passbacks(session)] == ["posted"]
    token_requests = services.requests_to(urlsplit(services.token_url).path, "POST")
    assert len(token_requests) == 1
    assert token_requests[0].form()["scope"].split() == AGS_SCOPES

    again = browser.submit(page, "submit-form", score="100")
    assert again.status_code == 303, again.text

    posts = services.requests_to(_scores_path(services, flavour), "POST")
    assert [post.json()["scoreGiven"] for post in posts] == [0, 100]
    # The second post reused the first token.
    assert len(services.requests_to(urlsplit(services.token_url).path, "POST")) == 1
    second = _passbacks(session)[1]
    if flavour == "canvas":
        assert second.status == "posted"
    else:
        # Two submits within one second: Moodle keeps the first (409).
        assert second.status in {"posted", "already_stored"}


@pytest.mark.parametrize("flavour", ["moodle"], indirect=True)
def test_moodle_conflict_means_already_stored(
    flavour: str,
    services: ServicePlatform,
    browser: Browser,
    session: Session,
    tokens: ServiceTokens,
) -> None:
    _launch(browser, services, flavour, "learner")
    sub = browser.platform.sub_for("learner")
    moment = datetime(2026, 12, 3, 12, 30, 18, 200000, tzinfo=UTC)
    first = _tool_evidence(session, sub=sub, score="60", occurred_at=moment)
    # Half a second later: not later than the stored score, to the second.
    second = _tool_evidence(
        session, sub=sub, score="70", occurred_at=moment + timedelta(milliseconds=500)
    )

    posted = pass_back_score(session, evidence_id=first.id, tokens=tokens)
    conflicted = pass_back_score(session, evidence_id=second.id, tokens=tokens)

    assert posted is not None and posted.status == "posted"
    assert conflicted is not None and conflicted.status == "already_stored"
    assert conflicted.last_error is None
    posts = services.requests_to(_scores_path(services, flavour), "POST")
    assert [post.status for post in posts] == [200, 409]
    stored = services.scores[(LINE_ITEM_IDS[flavour], sub)]
    assert stored.body["scoreGiven"] == 60
    assert session.get(Evidence, second.id) is not None
    # Nothing left to retry.
    assert retry_failed_passbacks(session, tokens=tokens).attempted == 0


def test_deleted_line_item_stops_posting(
    flavour: str,
    services: ServicePlatform,
    browser: Browser,
    session: Session,
    tokens: ServiceTokens,
) -> None:
    _launch(browser, services, flavour, "learner")
    sub = browser.platform.sub_for("learner")
    services.delete_line_item_in_lms(LINE_ITEM_IDS[flavour])
    moment = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    first = _tool_evidence(session, sub=sub, score="80", occurred_at=moment)
    gone = pass_back_score(session, evidence_id=first.id, tokens=tokens)

    assert gone is not None and gone.status == "line_item_gone"
    assert "no longer exists" in (gone.last_error or "")
    link = session.execute(select(LineItemLink)).scalar_one()
    assert link.gone_at is not None

    later = _tool_evidence(
        session, sub=sub, score="90", occurred_at=moment + timedelta(hours=1)
    )
    assert pass_back_score(session, evidence_id=later.id, tokens=tokens) is None
    assert len(services.requests_to(_scores_path(services, flavour), "POST")) == 1
    assert sync_results(session, tokens=tokens).line_items == 0
    assert retry_failed_passbacks(session, tokens=tokens).attempted == 0
    # The learner's evidence is kept whatever the LMS said.
    assert session.get(Evidence, later.id) is not None


@pytest.mark.parametrize("flavour", ["canvas"], indirect=True)
def test_refused_passback_keeps_evidence_and_is_retried(
    flavour: str,
    services: ServicePlatform,
    browser: Browser,
    session: Session,
    live_server: LiveServer,
) -> None:
    learner = _launch(browser, services, flavour, "learner")
    # The LMS administrator withdraws the score scope from the tool's key.
    services.enabled_scopes.discard(SCORE_SCOPE)

    submitted = browser.submit(learner.page, "submit-form", score="75")

    assert submitted.status_code == 303, submitted.text
    assert "Your result was recorded." in browser.follow(submitted).text
    assert session.execute(select(Evidence)).scalar_one().score == Decimal(75)
    [failed] = _passbacks(session)
    assert failed.status == "failed"
    assert "invalid_scope" in (failed.last_error or "")
    assert services.requests_to(_scores_path(services, flavour), "POST") == []

    services.enabled_scopes.add(SCORE_SCOPE)
    response = httpx.post(
        live_server.url + "/api/v1/lms/passbacks/retry",
        headers=live_server.admin_headers(),
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"attempted": 1, "statuses": {"posted": 1}}
    [retried] = _passbacks(session)
    assert (retried.status, retried.attempts, retried.last_error) == ("posted", 2, None)
    [post] = services.requests_to(_scores_path(services, flavour), "POST")
    assert post.json()["scoreGiven"] == 75


# Grades given inside the LMS: Moodle's user 5 and Canvas's user ...0006 are
# learners of the seeded rosters who never launched.
OTHER_LEARNERS = {"moodle": "5", "canvas": "00000000-0000-4000-8000-000000000006"}
# (scoreGiven, scoreMaximum) given in the LMS, and the evidence expected once
# the platform scales it to the line item's maximum of 100:
# Moodle 0/10 -> 0/100 (Moodle leaves resultScore out; read as 0);
# Canvas 7/10 -> 7 / 10 * 100 = 70/100.
LMS_GRADES = {"moodle": (0, 10), "canvas": (7, 10)}
EXPECTED_SCORES = {"moodle": Decimal(0), "canvas": Decimal(70)}


def test_lms_grades_become_evidence_once(
    flavour: str,
    services: ServicePlatform,
    browser: Browser,
    session: Session,
    live_server: LiveServer,
    tokens: ServiceTokens,
) -> None:
    learner = _launch(browser, services, flavour, "learner")
    submitted = browser.submit(learner.page, "submit-form", score="80")
    assert submitted.status_code == 303, submitted.text
    graded_at = datetime(2026, 12, 1, 9, 15, 30, 250000, tzinfo=UTC)
    given, maximum = LMS_GRADES[flavour]
    other = OTHER_LEARNERS[flavour]
    services.grade_in_lms(
        LINE_ITEM_IDS[flavour],
        other,
        score_given=given,
        score_maximum=maximum,
        timestamp=graded_at,
    )

    first = httpx.post(
        live_server.url + "/api/v1/lms/grades-sync",
        json={},
        headers=live_server.admin_headers(),
    )

    assert first.status_code == 200, first.text
    assert first.json() == {
        "line_items": 1,
        "results_read": 2,
        "evidence_recorded": 1,
        # The learner's own submit, echoed back by the LMS.
        "already_recorded": 1,
        "people_created": 1,
        "skipped": 0,
        "line_items_gone": 0,
        "failures": [],
    }
    session.expire_all()
    from_lms = session.execute(
        select(Evidence).where(Evidence.source == "lti_ags")
    ).scalar_one()
    assert (from_lms.score, from_lms.max_score) == (EXPECTED_SCORES[flavour], 100)
    assert from_lms.occurred_at == graded_at
    person = session.execute(
        select(PersonIdentifier).where(PersonIdentifier.person_id == from_lms.person_id)
    ).scalar_one()
    assert (person.scheme, person.issuer, person.value) == (
        "lti",
        browser.platform.issuer,
        other,
    )

    results_path = _results_path(services, flavour)
    read_before = len(services.requests_to(results_path, "GET"))
    again = sync_results(session, tokens=tokens, page_size=1)

    assert (again.evidence_recorded, again.already_recorded) == (0, 2)
    # Two results, one per page: the next link was followed.
    assert len(services.requests_to(results_path, "GET")) - read_before == 2
    assert len(session.execute(select(Evidence)).scalars().all()) == 2


def test_roster_sync_creates_people_and_marks_leavers_inactive(
    flavour: str,
    services: ServicePlatform,
    browser: Browser,
    session: Session,
    live_server: LiveServer,
    app: FastAPI,
    tokens: ServiceTokens,
) -> None:
    _launch(browser, services, flavour, "learner")
    context = session.execute(select(Context)).scalar_one()
    listed = {member["user_id"]: member for member in services.members}

    report = sync_roster(session, tokens=tokens, page_size=2)

    # Three members, two per page: two pages.
    assert (report.contexts, report.members_read, report.people_created) == (1, 3, 2)
    pages = services.requests_to(urlsplit(services.memberships_url).path, "GET")
    assert [page.status for page in pages] == [200, 200]
    if flavour == "canvas":
        cursor = parse_qs(pages[1].query)["page"][0]
        # The opaque cursor came back exactly as Canvas wrote it.
        assert cursor in services.cursors
        assert cursor != cursor.lower()

    members = _members(live_server, app, context.id)
    assert set(members) == set(listed)
    for user_id, member in listed.items():
        expected = (
            "active" if member.get("status", "Active") == "Active" else "inactive"
        )
        assert members[user_id]["status"] == expected, user_id
        if member.get("name"):
            assert members[user_id]["display_name"] == member["name"], user_id
    instructor = next(u for u, m in listed.items() if "Instructor" in str(m["roles"]))
    # Moodle's short "Instructor" comes back as the full URI.
    assert members[instructor]["roles"] == [INSTRUCTOR]

    services.members = [m for m in services.members if m["user_id"] != instructor]
    response = httpx.post(
        live_server.url + "/api/v1/lms/roster-sync",
        json={"context_id": str(context.id)},
        headers=live_server.admin_headers(),
    )

    assert response.status_code == 200, response.text
    assert response.json()["marked_inactive"] == 1
    members = _members(live_server, app, context.id)
    assert set(members) == set(listed)
    assert members[instructor]["status"] == "inactive"


def _members(
    live_server: LiveServer, app: FastAPI, context_id: uuid.UUID
) -> dict[str, dict[str, Any]]:
    token = bearer_token_for(app, scopes=["people:read"])
    response = httpx.get(
        f"{live_server.url}/api/v1/contexts/{context_id}/members",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return {member["lti_user_id"]: member for member in response.json()["members"]}


# Bad input and unreachable LMSs: clear errors, nothing stored lost.


def test_sync_requests_name_the_unknown_record(client: TestClient) -> None:
    unknown = str(uuid.uuid4())

    grades = client.post("/api/v1/lms/grades-sync", json={"platform_id": unknown})
    roster = client.post("/api/v1/lms/roster-sync", json={"context_id": unknown})
    members = client.get(f"/api/v1/contexts/{unknown}/members")
    malformed = client.post("/api/v1/lms/roster-sync", json={"context_id": "x"})

    assert (grades.status_code, grades.json()["field"]) == (404, "platform_id")
    assert grades.json()["code"] == "platform-not-found"
    assert (roster.status_code, roster.json()["field"]) == (404, "context_id")
    assert roster.json()["code"] == "roster-not-available"
    assert (members.status_code, members.json()["code"]) == (404, "context-not-found")
    assert malformed.status_code == 422
    assert malformed.json()["field"] == "context_id"


def test_members_need_the_people_read_scope(
    anonymous_client: TestClient, app: FastAPI, session: Session
) -> None:
    token = bearer_token_for(app, scopes=["evidence:read"])

    response = anonymous_client.get(
        f"/api/v1/contexts/{uuid.uuid4()}/members",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 403, response.text


@pytest.mark.parametrize("flavour", ["moodle"], indirect=True)
def test_malformed_service_claims_leave_the_launch_valid(
    flavour: str, services: ServicePlatform, browser: Browser, session: Session
) -> None:
    def tamper(claims: dict[str, Any]) -> None:
        claims[AGS_CLAIM] = {"scope": "not a list", "lineitem": services.lineitems_url}
        claims[NRPS_CLAIM] = {"service_versions": ["2.0"]}

    launch = browser.launch("learner", LaunchPlan(role="learner", tamper=tamper))

    assert launch.page is not None and launch.page.status_code == 200
    assert session.execute(select(LineItemLink)).first() is None
    assert session.execute(select(MembershipService)).first() is None
    # The launch itself still counts as the learner's membership.
    assert session.execute(select(ContextMembership)).scalar_one().status == "active"


@pytest.mark.parametrize("flavour", ["canvas"], indirect=True)
def test_unreachable_lms_is_reported_and_nothing_is_lost(
    flavour: str,
    services: ServicePlatform,
    browser: Browser,
    session: Session,
    tokens: ServiceTokens,
) -> None:
    _launch(browser, services, flavour, "learner")
    services.stop()

    roster = sync_roster(session, tokens=tokens)
    grades = sync_results(session, tokens=tokens)

    assert len(roster.failures) == 1 and "could not be reached" in roster.failures[0]
    assert len(grades.failures) == 1 and "could not be reached" in grades.failures[0]
    session.expire_all()
    assert session.execute(select(ContextMembership)).scalar_one().status == "active"
    assert session.execute(select(LineItemLink)).scalar_one().gone_at is None


@pytest.fixture
def run_cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args))
    get_settings.cache_clear()


@pytest.mark.parametrize("flavour", ["moodle"], indirect=True)
def test_cli_syncs_rosters_and_grades(
    flavour: str,
    services: ServicePlatform,
    browser: Browser,
    session: Session,
    run_cli: Any,
) -> None:
    _launch(browser, services, flavour, "learner")
    context = session.execute(select(Context)).scalar_one()

    roster = run_cli("lms", "roster-sync", "--context", str(context.id))
    grades = run_cli("lms", "grades-sync")

    assert roster.exit_code == 0, roster.output
    # Moodle's roster: users 3, 4 (the learner who launched) and 5.
    assert "1 contexts, 3 members read, 2 people created" in roster.output
    assert grades.exit_code == 0, grades.output
    assert "1 line items, 0 results read" in grades.output


def test_cli_refuses_bad_ids(run_cli: Any, engine: Engine) -> None:
    malformed = run_cli("lms", "grades-sync", "--platform", "not-a-uuid")
    unknown = run_cli("lms", "roster-sync", "--context", str(uuid.uuid4()))

    assert malformed.exit_code == 1
    assert "--platform must be a UUID" in malformed.output
    assert unknown.exit_code == 1
    assert "has no roster service" in unknown.output
