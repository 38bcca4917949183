"""LTI Deep Linking 2.0 over real HTTP, with Moodle- and Canvas-shaped platforms.

The platform double verifies the returned JWT the way an LMS does: the tool's
key is fetched from its JWKS by the header's kid, `iss` must be the client
id and `aud` the platform issuer.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from urllib.parse import urljoin

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.activities.models import Activity, Alignment
from app.frameworks.models import Competency, Framework
from app.frameworks.service import import_package
from app.lti.models import LaunchSession
from app.lti.paths import ACTIVITY_PATH, DEEP_LINK_RETURN_PATH, LAUNCH_PATH
from tests.conftest import CASE_DATA_DIR, LiveServer
from tests.lti_platform import (
    DL,
    LTI,
    Browser,
    Launch,
    LaunchPlan,
    TestPlatform,
    form_by_id,
    running_platform,
    table_rows,
)
from tests.test_lti_launch import assert_nothing_stored, assert_refused

FRAMEWORK_FILE = CASE_DATA_DIR / "opensalt" / "act-holistic-math_subset_a33fc64e.json"
FIRST = "H.A.MATH.GM.PF.2DFP.L1.1"
SECOND = "H.A.MATH.GM.PF.2DFP.L1.10"
ACTIVITY_PARAMETER = "standards_bridge_activity_id"


def _register(live_server: LiveServer, platform: TestPlatform) -> None:
    response = httpx.post(
        live_server.url + "/api/v1/platforms",
        json=platform.registration(),
        headers=live_server.admin_headers(),
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def framework(session: Session) -> None:
    import_package(session, package=json.loads(FRAMEWORK_FILE.read_text()))
    session.commit()


def _browser_for(product: str, live_server: LiveServer) -> Iterator[Browser]:
    with running_platform(product, tool_url=live_server.url) as platform:
        _register(live_server, platform)
        browser = Browser(platform)
        yield browser
        browser.close()


@pytest.fixture(params=["moodle", "canvas"])
def browser(
    request: pytest.FixtureRequest, live_server: LiveServer, framework: None
) -> Iterator[Browser]:
    yield from _browser_for(request.param, live_server)


@pytest.fixture
def moodle_browser(live_server: LiveServer, framework: None) -> Iterator[Browser]:
    yield from _browser_for("moodle", live_server)


@pytest.fixture
def canvas_browser(live_server: LiveServer, framework: None) -> Iterator[Browser]:
    yield from _browser_for("canvas", live_server)


def _competency_id(session: Session, code: str) -> str:
    statement = select(Competency.id).where(Competency.human_coding_scheme == code)
    return str(session.execute(statement).scalar_one())


def _deep_link(
    browser: Browser, role: str = "instructor", **settings: object
) -> Launch:
    plan = LaunchPlan(role=role, message="deep_linking", deep_linking=dict(settings))
    return browser.launch(role, plan)


def _pick(
    browser: Browser, launch: Launch, ids: list[str], grouping: str = "one"
) -> httpx.Response:
    assert launch.page is not None, launch.response.text
    return browser.http.post(
        urljoin(str(launch.page.url), DEEP_LINK_RETURN_PATH),
        data={"launch": launch.launch_id, "competency_id": ids, "grouping": grouping},
    )


def _return_to_platform(browser: Browser, response: httpx.Response) -> httpx.Response:
    """What the page's script does: post the JWT form to the platform."""
    assert response.status_code == 200, response.text
    form = form_by_id(response.text, "deep-linking-response")
    return browser.http.post(form.action, data=form.values())


def _deep_linked_activities(session: Session) -> list[Activity]:
    session.expire_all()
    statement = select(Activity).where(Activity.kind == "lti_deep_link")
    return list(session.execute(statement).scalars())


def _aligned_codes(session: Session, activity_id: uuid.UUID) -> set[str]:
    statement = (
        select(Competency.human_coding_scheme)
        .join(Alignment, Alignment.competency_id == Competency.id)
        .where(Alignment.activity_id == activity_id)
    )
    return set(session.execute(statement).scalars())


def test_the_picker_browses_the_framework_tree_and_searches(
    browser: Browser, session: Session
) -> None:
    launch = _deep_link(browser)
    assert launch.page is not None, launch.response.text
    framework_id = session.execute(select(Framework.id)).scalar_one()

    tree_page = browser.http.get(
        urljoin(str(launch.page.url), ACTIVITY_PATH),
        params={"launch": launch.launch_id, "framework": str(framework_id)},
    )
    search_page = browser.http.get(
        urljoin(str(launch.page.url), ACTIVITY_PATH),
        params={"launch": launch.launch_id, "q": "open and closed"},
    )

    # Every CFItem of the package is in the tree (28 in the file).
    assert len(table_rows(tree_page.text, "tree")) == 28
    found = table_rows(search_page.text, "results")
    assert [row.cells[1] for row in found] == [SECOND]


def test_a_deep_linking_response_is_signed_verified_and_carries_the_items(
    browser: Browser, session: Session
) -> None:
    platform = browser.platform
    launch = _deep_link(browser, data="opaque-platform-state-42")
    picked = [_competency_id(session, FIRST), _competency_id(session, SECOND)]

    response = _pick(browser, launch, picked)

    # The alignment is stored before the response reaches the platform.
    [activity] = _deep_linked_activities(session)
    assert _aligned_codes(session, activity.id) == {FIRST, SECOND}
    assert activity.source == platform.issuer
    assert activity.external_id == str(activity.id)
    assert platform.deep_link_responses == []
    # The page may post only to the platform, and run only its own script.
    policy = response.headers["content-security-policy"]
    assert f"form-action {platform.url};" in policy
    assert "script-src 'nonce-" in policy

    answer = _return_to_platform(browser, response)

    assert answer.status_code == 200, answer.text
    [claims] = platform.deep_link_responses
    assert claims[DL + "data"] == "opaque-platform-state-42"
    [item] = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == platform.tool_url + LAUNCH_PATH
    assert item["lineItem"] == {
        "scoreMaximum": 100,
        "label": item["title"],
        "resourceId": str(activity.id),
        "tag": "standards-bridge",
    }
    assert item["custom"][ACTIVITY_PARAMETER] == str(activity.id)
    assert item["custom"]["standards_bridge_competencies"] == f"{FIRST},{SECOND}"
    # Both platforms accept an iframe, which the tool prefers.
    assert item["iframe"] == {}


def test_without_data_in_the_request_none_is_echoed(
    canvas_browser: Browser, session: Session
) -> None:
    launch = _deep_link(canvas_browser)

    _return_to_platform(
        canvas_browser, _pick(canvas_browser, launch, [_competency_id(session, FIRST)])
    )

    [claims] = canvas_browser.platform.deep_link_responses
    assert DL + "data" not in claims


def test_a_launch_of_the_created_link_shows_the_aligned_standards(
    browser: Browser, session: Session
) -> None:
    platform = browser.platform
    launch = _deep_link(browser)
    picked = [_competency_id(session, FIRST), _competency_id(session, SECOND)]
    _return_to_platform(browser, _pick(browser, launch, picked))
    [link] = platform.created_links

    learner = browser.launch("learner", LaunchPlan(role="learner", link=link))
    teacher = browser.launch("instructor", LaunchPlan(role="instructor", link=link))

    assert learner.page is not None, learner.response.text
    rows = table_rows(learner.page.text, "mastery")
    assert [row.cells[0] for row in rows] == [FIRST, SECOND]
    assert teacher.page is not None, teacher.response.text
    assert [r.cells[0] for r in table_rows(teacher.page.text, "alignments")] == [
        FIRST,
        SECOND,
    ]
    # Both launches are bound to the one deep-linked activity, not to a new
    # activity for the resource link id the LMS assigned.
    [activity] = _deep_linked_activities(session)
    bound = session.execute(
        select(LaunchSession.activity_id).where(
            LaunchSession.message_type == "LtiResourceLinkRequest"
        )
    )
    assert set(bound.scalars()) == {activity.id}
    assert session.execute(select(func.count()).select_from(Activity)).scalar_one() == 1


def test_one_item_per_competency_when_several_are_accepted(
    moodle_browser: Browser, session: Session
) -> None:
    launch = _deep_link(moodle_browser)
    picked = [_competency_id(session, FIRST), _competency_id(session, SECOND)]

    _return_to_platform(moodle_browser, _pick(moodle_browser, launch, picked, "each"))

    [claims] = moodle_browser.platform.deep_link_responses
    items = claims[DL + "content_items"]
    activities = {str(a.id): a for a in _deep_linked_activities(session)}
    assert len(items) == 2 and len(activities) == 2
    for item, code in zip(items, [FIRST, SECOND], strict=True):
        activity = activities[item["custom"][ACTIVITY_PARAMETER]]
        assert _aligned_codes(session, activity.id) == {code}
        assert item["lineItem"]["resourceId"] == str(activity.id)


def test_accept_multiple_false_offers_one_item_and_refuses_several(
    canvas_browser: Browser, session: Session
) -> None:
    # The Canvas sample request sends accept_multiple: false.
    launch = _deep_link(canvas_browser)
    assert launch.page is not None
    framework_id = session.execute(select(Framework.id)).scalar_one()
    page = canvas_browser.http.get(
        urljoin(str(launch.page.url), ACTIVITY_PATH),
        params={"launch": launch.launch_id, "framework": str(framework_id)},
    )
    picked = [_competency_id(session, FIRST), _competency_id(session, SECOND)]

    refused = _pick(canvas_browser, launch, picked, "each")
    nothing_created = _deep_linked_activities(session)
    accepted = _pick(canvas_browser, launch, picked, "one")
    _return_to_platform(canvas_browser, accepted)

    assert 'value="each"' not in page.text
    assert 'id="single-item-notice"' in page.text
    assert_refused(
        refused,
        rule="multiple-items-not-accepted",
        mentions="accepts one link",
        status=422,
    )
    assert nothing_created == []
    [claims] = canvas_browser.platform.deep_link_responses
    assert len(claims[DL + "content_items"]) == 1


def test_a_window_only_platform_gets_a_window_item(
    moodle_browser: Browser, session: Session
) -> None:
    launch = _deep_link(moodle_browser, accept_presentation_document_targets=["window"])

    _return_to_platform(
        moodle_browser, _pick(moodle_browser, launch, [_competency_id(session, FIRST)])
    )

    [item] = moodle_browser.platform.deep_link_responses[0][DL + "content_items"]
    assert item["window"] == {} and "iframe" not in item


def test_a_learner_cannot_deep_link(browser: Browser, session: Session) -> None:
    launch = _deep_link(browser, role="learner")

    assert_refused(
        launch.response,
        rule="role-cannot-deep-link",
        mentions="Only instructors",
        status=403,
    )
    assert_nothing_stored(session)


def test_a_platform_that_does_not_accept_resource_links_is_told_so(
    moodle_browser: Browser, session: Session
) -> None:
    launch = _deep_link(moodle_browser, accept_types=["file", "html"])

    assert_refused(
        launch.response,
        rule="resource-link-type-not-accepted",
        mentions="ltiResourceLink",
    )
    assert_nothing_stored(session)


def test_a_deep_linking_request_without_settings_is_refused(
    moodle_browser: Browser, session: Session
) -> None:
    plan = LaunchPlan(
        role="instructor",
        message="deep_linking",
        tamper=lambda claims: claims.pop(DL + "deep_linking_settings"),
    )

    launch = moodle_browser.launch("instructor", plan)

    assert_refused(
        launch.response,
        rule="deep-linking-settings-missing",
        mentions="deep_linking_settings",
    )
    assert_nothing_stored(session)


def test_a_deep_linking_request_without_return_url_is_refused(
    moodle_browser: Browser, session: Session
) -> None:
    launch = _deep_link(moodle_browser, deep_link_return_url=None)

    assert_refused(
        launch.response,
        rule="deep-link-return-url-missing",
        mentions="deep_link_return_url",
    )
    assert_nothing_stored(session)


def test_picking_nothing_or_an_unknown_competency_creates_nothing(
    moodle_browser: Browser, session: Session
) -> None:
    launch = _deep_link(moodle_browser)

    empty = _pick(moodle_browser, launch, [])
    unknown = _pick(moodle_browser, launch, [str(uuid.UUID(int=7))])

    assert_refused(
        empty, rule="no-competency-selected", mentions="at least one", status=422
    )
    assert_refused(
        unknown, rule="competency-not-found", mentions=str(uuid.UUID(int=7)), status=404
    )
    assert _deep_linked_activities(session) == []


def test_a_picker_cannot_be_submitted_twice(
    moodle_browser: Browser, session: Session
) -> None:
    launch = _deep_link(moodle_browser)
    picked = [_competency_id(session, FIRST)]

    first = _pick(moodle_browser, launch, picked)
    second = _pick(moodle_browser, launch, picked)

    assert first.status_code == 200
    assert_refused(
        second, rule="launch-session-invalid", mentions="expired", status=401
    )
    assert len(_deep_linked_activities(session)) == 1


def test_a_link_naming_an_unknown_activity_is_refused(
    moodle_browser: Browser, session: Session
) -> None:
    def forged(claims: dict[str, object]) -> None:
        claims[LTI + "custom"] = {ACTIVITY_PARAMETER: str(uuid.UUID(int=9))}

    launch = moodle_browser.launch("learner", LaunchPlan(role="learner", tamper=forged))

    assert_refused(
        launch.response,
        rule="deep-linked-activity-unknown",
        mentions=ACTIVITY_PARAMETER,
        status=404,
    )
    assert_nothing_stored(session)
