"""Moodle- and Canvas-shaped platforms launch the tool over real HTTP.

An instructor aligns the activity to items of the ACT Holistic Framework
subset; a learner launches, submits, and sees mastery on the aligned items
and, rolled up along isChildOf, on their ancestors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities.models import Activity
from app.contexts.models import Context
from app.evidence.models import Evidence
from app.frameworks.service import import_package
from app.lti.models import LaunchSession
from app.people.models import PersonIdentifier
from tests.conftest import CASE_DATA_DIR, LiveServer
from tests.lti_platform import (
    Browser,
    TestPlatform,
    form_by_id,
    running_platform,
    table_rows,
)

FRAMEWORK_FILE = CASE_DATA_DIR / "opensalt" / "act-holistic-math_subset_a33fc64e.json"
# From the framework file: L1.1, L1.10 and L1.11 are children (isChildOf) of
# L1, which is a child of 2DFP, of PF, of GM, of the CFDocument.
L1 = "H.A.MATH.GM.PF.2DFP.L1"
L1_1, L1_10, L1_11 = L1 + ".1", L1 + ".10", L1 + ".11"
ANCESTORS = [L1, "H.A.MATH.GM.PF.2DFP", "H.A.MATH.GM.PF", "H.A.MATH.GM"]
RESOURCE_LINKS = {
    "moodle": ("1", "Stub tool activity"),
    "canvas": (
        "8aa641d1-b4d4-4fea-8a9b-e9fedfb62b1e",
        "Test LTI 1.3 Assignment Name",
    ),
}
CONTEXT_IDS = {"moodle": "2", "canvas": "d3a2504bba5184799a38f141e8df2335cfa8206d"}


@pytest.fixture
def framework(session: Session) -> None:
    import_package(session, package=json.loads(FRAMEWORK_FILE.read_text()))


@pytest.fixture(params=["moodle", "canvas"])
def platform(
    request: pytest.FixtureRequest, live_server: LiveServer
) -> Iterator[TestPlatform]:
    with running_platform(request.param, tool_url=live_server.url) as platform:
        response = httpx.post(
            live_server.url + "/api/v1/platforms",
            json=platform.registration(),
            headers=live_server.admin_headers(),
        )
        assert response.status_code == 201, response.text
        yield platform


@pytest.fixture
def browser(platform: TestPlatform) -> Iterator[Browser]:
    browser = Browser(platform)
    yield browser
    browser.close()


def _codes(html: str, table_id: str) -> list[str]:
    return [row.cells[0] for row in table_rows(html, table_id)]


def _standings(html: str) -> dict[str, tuple[str, str]]:
    return {
        row.cells[0]: (row.attributes["data-status"], row.attributes["data-level"])
        for row in table_rows(html, "mastery")
    }


def _api_mastery(
    live_server: LiveServer, person_id: object
) -> dict[str, tuple[str, Decimal | None, bool]]:
    response = httpx.get(
        f"{live_server.url}/api/v1/people/{person_id}/mastery",
        headers=live_server.admin_headers(),
    )
    assert response.status_code == 200, response.text
    return {
        item["human_coding_scheme"]: (
            item["status"],
            None if item["level"] is None else Decimal(str(item["level"])),
            item["rolled_up"],
        )
        for item in response.json()["competencies"]
    }


def test_instructor_aligns_and_learner_gains_mastery(
    platform: TestPlatform,
    browser: Browser,
    framework: None,
    live_server: LiveServer,
    session: Session,
) -> None:
    teacher = browser.launch("instructor")
    assert teacher.page is not None, teacher.response.text
    assert teacher.page.status_code == 200
    assert "not aligned to any standard yet" in teacher.page.text

    # Search by coding scheme (prefix) and by statement text.
    found = browser.submit(teacher.page, "search-form", q=L1_1)
    results = {
        row.cells[1]: row.attributes["data-competency-id"]
        for row in table_rows(found.text, "results")
    }
    assert {L1_1, L1_10, L1_11} <= set(results)
    by_statement = browser.submit(
        teacher.page, "search-form", q="open and closed figures"
    )
    # L1.10's statement: "Differentiate between open and closed figures".
    assert [row.cells[1] for row in table_rows(by_statement.text, "results")] == [L1_10]

    aligned = browser.submit(
        found,
        "align-form",
        competency_id=[results[L1_1], results[L1_10], results[L1_11]],
    )
    assert aligned.status_code == 303, aligned.text
    page = browser.follow(aligned)
    assert _codes(page.text, "alignments") == [L1_1, L1_10, L1_11]

    removed = browser.submit(page, f"unalign-{results[L1_11]}")
    assert removed.status_code == 303, removed.text
    page = browser.follow(removed)
    assert _codes(page.text, "alignments") == [L1_1, L1_10]

    learner = browser.launch("learner")
    assert learner.page is not None, learner.response.text
    assert _standings(learner.page.text) == {
        L1_1: ("no_evidence", ""),
        L1_10: ("no_evidence", ""),
    }
    assert form_by_id(learner.page.text, "submit-form").values()["max_score"] == "100"

    submitted = browser.submit(learner.page, "submit-form", score="90")
    assert submitted.status_code == 303, submitted.text
    page = browser.follow(submitted)
    assert "Your result was recorded." in page.text
    # 90 / 100 = 0.90, at or above the 0.80 threshold: mastered.
    assert _standings(page.text) == {
        L1_1: ("mastered", "0.90"),
        L1_10: ("mastered", "0.90"),
    }

    person_id = session.get(LaunchSession, learner.launch_id).person_id
    mastery = _api_mastery(live_server, person_id)
    assert mastery[L1_1] == ("mastered", Decimal("0.90"), False)
    # Each ancestor's components are its aligned descendants L1.1 and L1.10;
    # both mastered: 2 of 2 = 1.00.
    for code in ANCESTORS:
        assert mastery[code] == ("mastered", Decimal("1.00"), True), code

    again = browser.submit(page, "submit-form", score="50")
    page = browser.follow(again)
    # The latest result counts: 50 / 100 = 0.50, below 0.80.
    assert _standings(page.text) == {
        L1_1: ("in_progress", "0.50"),
        L1_10: ("in_progress", "0.50"),
    }
    mastery = _api_mastery(live_server, person_id)
    # 0 of 2 components mastered, with evidence: in progress at 0.00.
    for code in ANCESTORS:
        assert mastery[code] == ("in_progress", Decimal("0.00"), True), code

    _assert_launch_records(platform, session)


def _assert_launch_records(platform: TestPlatform, session: Session) -> None:
    product = platform.profile.product
    link_id, title = RESOURCE_LINKS[product]
    activity = session.execute(select(Activity)).scalar_one()
    assert (activity.source, activity.external_id, activity.title) == (
        platform.issuer,
        link_id,
        title,
    )
    assert activity.kind == "lti_resource_link"
    context = session.execute(select(Context)).scalar_one()
    assert (context.source, context.external_id) == (
        platform.issuer,
        CONTEXT_IDS[product],
    )
    assert activity.context_id == context.id
    identifiers = session.execute(
        select(PersonIdentifier.issuer, PersonIdentifier.value).where(
            PersonIdentifier.scheme == "lti"
        )
    ).all()
    assert sorted(identifiers) == sorted(
        (platform.issuer, platform.sub_for(role)) for role in ("instructor", "learner")
    )
    assert len(session.execute(select(Evidence)).scalars().all()) == 2
