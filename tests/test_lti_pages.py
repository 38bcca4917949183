"""The pages inside the LMS: who may do what, and bad form input."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.activities.models import Alignment
from app.evidence.models import Evidence
from app.frameworks.models import Competency
from app.frameworks.service import import_package
from app.lti.paths import ACTIVITY_PATH, ALIGN_PATH, SUBMIT_PATH, UNALIGN_PATH
from tests.conftest import CASE_DATA_DIR, LiveServer
from tests.lti_platform import Browser, Launch, running_platform
from tests.test_lti_launch import assert_refused

FRAMEWORK_FILE = CASE_DATA_DIR / "opensalt" / "act-holistic-math_subset_a33fc64e.json"
ITEM = "H.A.MATH.GM.PF.2DFP.L1.1"


@pytest.fixture
def browser(live_server: LiveServer, session: Session) -> Iterator[Browser]:
    import_package(session, package=json.loads(FRAMEWORK_FILE.read_text()))
    with running_platform("moodle", tool_url=live_server.url) as platform:
        response = httpx.post(
            live_server.url + "/api/v1/platforms",
            json=platform.registration(),
            headers=live_server.admin_headers(),
        )
        assert response.status_code == 201, response.text
        browser = Browser(platform)
        yield browser
        browser.close()


def _competency_id(session: Session, code: str) -> str:
    statement = select(Competency.id).where(Competency.human_coding_scheme == code)
    return str(session.execute(statement).scalar_one())


def _count(session: Session, table: type) -> int:
    session.expire_all()
    return session.execute(select(func.count()).select_from(table)).scalar_one()


def _aligned(browser: Browser, session: Session) -> Launch:
    """An instructor launch with the activity aligned to ITEM."""
    teacher = browser.launch("instructor")
    assert teacher.page is not None
    response = browser.http.post(
        teacher.page.url.join(ALIGN_PATH),
        data={
            "launch": teacher.launch_id,
            "competency_id": _competency_id(session, ITEM),
        },
    )
    assert response.status_code == 303, response.text
    return teacher


def test_a_learner_cannot_align_or_unalign(browser: Browser, session: Session) -> None:
    _aligned(browser, session)
    learner = browser.launch("learner")
    assert learner.page is not None
    tool = learner.page.url

    align = browser.http.post(
        tool.join(ALIGN_PATH),
        data={
            "launch": learner.launch_id,
            "competency_id": _competency_id(session, ITEM + "0"),
        },
    )
    unalign = browser.http.post(
        tool.join(UNALIGN_PATH),
        data={
            "launch": learner.launch_id,
            "competency_id": _competency_id(session, ITEM),
        },
    )

    for response in (align, unalign):
        assert_refused(
            response, rule="role-cannot-align", mentions="Only instructors", status=403
        )
    assert _count(session, Alignment) == 1


def test_an_instructor_cannot_submit_a_result(
    browser: Browser, session: Session
) -> None:
    teacher = _aligned(browser, session)

    response = browser.http.post(
        teacher.page.url.join(SUBMIT_PATH),  # type: ignore[union-attr]
        data={
            "launch": teacher.launch_id,
            "form_token": "abcdefgh12",
            "score": "90",
            "max_score": "100",
        },
    )

    assert_refused(response, rule="role-cannot-submit", mentions="learners", status=403)
    assert _count(session, Evidence) == 0


def test_an_unknown_launch_session_is_refused(
    live_server: LiveServer, browser: Browser
) -> None:
    page = httpx.get(live_server.url + ACTIVITY_PATH, params={"launch": "forged"})
    post = httpx.post(
        live_server.url + SUBMIT_PATH, data={"launch": "forged", "score": "1"}
    )

    for response in (page, post):
        assert_refused(
            response, rule="launch-session-invalid", mentions="expired", status=401
        )


def test_a_double_click_stores_one_result(browser: Browser, session: Session) -> None:
    _aligned(browser, session)
    learner = browser.launch("learner")
    assert learner.page is not None

    first = browser.submit(learner.page, "submit-form", score="85")
    second = browser.submit(learner.page, "submit-form", score="85")

    assert first.status_code == second.status_code == 303
    assert "already-recorded" in second.headers["location"]
    assert _count(session, Evidence) == 1
    assert "This result was already recorded." in browser.follow(second).text


@pytest.mark.parametrize(
    ("values", "rule", "mentions"),
    [
        ({"score": "ninety"}, "score-invalid", "The score must be a number"),
        ({"score": "120"}, "score-out-of-range", "between 0 and the maximum score"),
        ({"score": "-1"}, "score-out-of-range", "between 0 and the maximum score"),
        ({"score": "5", "max_score": "0"}, "max-score-not-positive", "greater"),
        ({"score": "5", "form_token": "x"}, "form-token-invalid", "reload"),
    ],
)
def test_a_bad_submission_names_the_field_and_stores_nothing(
    browser: Browser,
    session: Session,
    values: dict[str, str],
    rule: str,
    mentions: str,
) -> None:
    _aligned(browser, session)
    learner = browser.launch("learner")
    assert learner.page is not None

    response = browser.submit(learner.page, "submit-form", **values)

    assert_refused(response, rule=rule, mentions=mentions, status=422)
    assert _count(session, Evidence) == 0


def test_aligning_nothing_or_an_unknown_competency_changes_nothing(
    browser: Browser, session: Session
) -> None:
    teacher = _aligned(browser, session)
    page = browser.submit(teacher.page, "search-form", q=ITEM)  # type: ignore[arg-type]

    nothing = browser.submit(page, "align-form")
    unknown = browser.submit(
        page,
        "align-form",
        competency_id=[
            _competency_id(session, ITEM + "1"),
            "00000000-0000-4000-8000-000000000000",
        ],
    )
    garbled = browser.submit(page, "align-form", competency_id=["not-an-id"])

    assert_refused(nothing, rule="no-competency-selected", mentions="Tick", status=422)
    assert_refused(
        unknown,
        rule="competency-not-found",
        mentions="00000000-0000-4000-8000-000000000000",
        status=404,
    )
    assert_refused(
        garbled, rule="competency-id-invalid", mentions="not-an-id", status=422
    )
    assert _count(session, Alignment) == 1


def test_already_aligned_results_are_shown_ticked(
    browser: Browser, session: Session
) -> None:
    teacher = _aligned(browser, session)

    page = browser.submit(teacher.page, "search-form", q=ITEM)  # type: ignore[arg-type]

    competency_id = _competency_id(session, ITEM)
    checkbox = re.search(
        rf'<input type="checkbox"[^>]*value="{competency_id}"[^>]*>', page.text
    )
    assert checkbox is not None
    assert "checked" in checkbox.group(0) and "disabled" in checkbox.group(0)
