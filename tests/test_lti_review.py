"""LtiSubmissionReviewRequest: one learner's evidence for the launched activity."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.frameworks.models import Competency
from app.frameworks.service import import_package
from app.lti.paths import ALIGN_PATH
from tests.conftest import CASE_DATA_DIR, LiveServer
from tests.lti_platform import LTI, Browser, LaunchPlan, running_platform, table_rows
from tests.test_lti_launch import assert_nothing_stored, assert_refused

FRAMEWORK_FILE = CASE_DATA_DIR / "opensalt" / "act-holistic-math_subset_a33fc64e.json"
ITEM = "H.A.MATH.GM.PF.2DFP.L1.1"


@pytest.fixture(params=["moodle", "canvas"])
def browser(
    request: pytest.FixtureRequest, live_server: LiveServer, session: Session
) -> Iterator[Browser]:
    import_package(session, package=json.loads(FRAMEWORK_FILE.read_text()))
    session.commit()
    with running_platform(request.param, tool_url=live_server.url) as platform:
        response = httpx.post(
            live_server.url + "/api/v1/platforms",
            json=platform.registration(),
            headers=live_server.admin_headers(),
        )
        assert response.status_code == 201, response.text
        browser = Browser(platform)
        yield browser
        browser.close()


def _review(browser: Browser, role: str, for_user: str | None = None) -> httpx.Response:
    plan = LaunchPlan(role=role, message="submission_review", for_user=for_user)
    launch = browser.launch(role, plan)
    assert launch.page is not None, launch.response.text
    return launch.page


def _learner_submitted(browser: Browser, session: Session, score: str) -> None:
    """The instructor aligns the activity to ITEM; the learner submits `score`."""
    teacher = browser.launch("instructor")
    assert teacher.page is not None, teacher.response.text
    competency_id = session.execute(
        select(Competency.id).where(Competency.human_coding_scheme == ITEM)
    ).scalar_one()
    aligned = browser.http.post(
        teacher.page.url.join(ALIGN_PATH),
        data={"launch": teacher.launch_id, "competency_id": str(competency_id)},
    )
    assert aligned.status_code == 303, aligned.text
    learner = browser.launch("learner")
    assert learner.page is not None, learner.response.text
    submitted = browser.submit(learner.page, "submit-form", score=score)
    assert submitted.status_code == 303, submitted.text


def test_an_instructor_sees_the_learners_evidence_and_mastery(
    browser: Browser, session: Session
) -> None:
    _learner_submitted(browser, session, score="85")

    page = _review(browser, "instructor")

    assert _evidence_rows(page.text) == [("85", "100")]
    [standing] = table_rows(page.text, "mastery")
    # 85/100 = 0.85 is at or above the default 0.80 threshold.
    assert standing.cells[0] == ITEM
    assert standing.attributes["data-status"] == "mastered"


def test_a_learner_may_review_their_own_submission(
    browser: Browser, session: Session
) -> None:
    _learner_submitted(browser, session, score="40")

    page = _review(browser, "learner")

    assert _evidence_rows(page.text) == [("40", "100")]
    [standing] = table_rows(page.text, "mastery")
    assert standing.attributes["data-status"] == "in_progress"


def test_a_learner_cannot_review_someone_else(
    browser: Browser, session: Session
) -> None:
    plan = LaunchPlan(
        role="learner", message="submission_review", for_user="someone-else"
    )

    launch = browser.launch("learner", plan)

    assert_refused(
        launch.response, rule="role-cannot-review", mentions="their own", status=403
    )
    assert_nothing_stored(session)


def test_a_learner_who_never_launched_has_nothing_to_review(
    browser: Browser,
) -> None:
    page = _review(browser, "instructor", for_user="never-launched")

    assert 'id="no-learner"' in page.text


def test_a_review_without_for_user_is_refused(
    browser: Browser, session: Session
) -> None:
    plan = LaunchPlan(
        role="instructor",
        message="submission_review",
        tamper=lambda claims: claims.pop(LTI + "for_user"),
    )

    launch = browser.launch("instructor", plan)

    assert_refused(launch.response, rule="for-user-missing", mentions="for_user")
    assert_nothing_stored(session)


def test_a_review_whose_azp_is_not_the_audience_is_refused(
    browser: Browser, session: Session
) -> None:
    # As in the shared submission-review sample: azp names another client.
    plan = LaunchPlan(
        role="instructor",
        message="submission_review",
        tamper=lambda claims: claims.update(
            {"azp": "962fa4d8-bcbf-49a0-94b2-2de05ad274af"}
        ),
    )

    launch = browser.launch("instructor", plan)

    assert_refused(launch.response, rule="wrong-audience", mentions="azp")
    assert_nothing_stored(session)


def _evidence_rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-score="([0-9.]+)" data-max-score="([0-9.]+)"', html)
