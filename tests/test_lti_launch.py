"""LTI 1.3 login and launch refusals, over real HTTP with a test platform.

Each refusal is a 4xx page that names the failed rule and the reason, and
stores no person, context, activity, launch session or evidence.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.activities.models import Activity
from app.contexts.models import Context
from app.evidence.models import Evidence
from app.lti.models import LaunchSession, UsedNonce
from app.lti.paths import LAUNCH_PATH, LOGIN_PATH
from app.main import create_app
from app.people.models import Person
from app.platforms.service import register_platform
from app.settings import Settings
from tests.conftest import LTI_SHAPES_DIR, LiveServer
from tests.lti_platform import (
    LTI,
    Browser,
    Claims,
    Form,
    LaunchPlan,
    TestPlatform,
    running_platform,
    set_cookies,
)

RECORD_TABLES = (Person, Context, Activity, LaunchSession, Evidence)


def _register(live_server: LiveServer, platform: TestPlatform) -> None:
    response = httpx.post(
        live_server.url + "/api/v1/platforms",
        json=platform.registration(),
        headers=live_server.admin_headers(),
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def moodle(live_server: LiveServer) -> Iterator[TestPlatform]:
    with running_platform("moodle", tool_url=live_server.url) as platform:
        _register(live_server, platform)
        yield platform


@pytest.fixture
def canvas(live_server: LiveServer) -> Iterator[TestPlatform]:
    with running_platform("canvas", tool_url=live_server.url) as platform:
        _register(live_server, platform)
        yield platform


@pytest.fixture
def browser(moodle: TestPlatform) -> Iterator[Browser]:
    browser = Browser(moodle)
    yield browser
    browser.close()


def _counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {
        table.__tablename__: session.execute(
            select(func.count()).select_from(table)
        ).scalar_one()
        for table in RECORD_TABLES
    }


def assert_nothing_stored(session: Session) -> None:
    assert _counts(session) == {table.__tablename__: 0 for table in RECORD_TABLES}


def assert_refused(
    response: httpx.Response, *, rule: str, mentions: str, status: int = 400
) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert re.search(rf'id="rule"[^>]*>{re.escape(rule)}<', response.text), (
        response.text
    )
    assert mentions in response.text


def _refused_launch(browser: Browser, plan: LaunchPlan) -> httpx.Response:
    launch = browser.launch(plan.role, plan)
    assert launch.page is None
    return launch.response


def _tampered(edit: object) -> LaunchPlan:
    def tamper(claims: Claims) -> None:
        edit(claims)  # type: ignore[operator]

    return LaunchPlan(role="learner", tamper=tamper)


# Accepted launches.


def test_launch_redirects_to_a_page_that_any_lms_may_frame(
    browser: Browser, session: Session
) -> None:
    launch = browser.launch("learner")

    assert launch.response.status_code == 303
    assert launch.page is not None and launch.page.status_code == 200
    assert "x-frame-options" not in launch.page.headers
    assert "frame-ancestors *" in launch.page.headers["content-security-policy"]
    # The state cookie is cleared once the launch is accepted.
    cleared = set_cookies(launch.response)
    assert list(cleared) == list(launch.login.cookies)
    assert all(cleared[name][name]["max-age"] == "0" for name in cleared)
    assert _counts(session)["lti_launch_sessions"] == 1


def test_a_platform_clock_a_few_seconds_ahead_is_accepted(
    moodle: TestPlatform, browser: Browser
) -> None:
    moodle.clock_offset_seconds = 10  # within the default 30 s leeway

    launch = browser.launch("learner")

    assert launch.page is not None, launch.response.text


def test_a_platform_clock_far_ahead_is_refused(
    moodle: TestPlatform, browser: Browser, session: Session
) -> None:
    moodle.clock_offset_seconds = 120

    response = _refused_launch(browser, LaunchPlan(role="learner"))

    assert_refused(response, rule="id-token-issued-in-future", mentions="30 s")
    assert_nothing_stored(session)


def test_an_aud_array_with_azp_naming_the_tool_is_accepted(
    moodle: TestPlatform, browser: Browser
) -> None:
    # pylti1p3 alone would take aud[0], another tool's client id.
    def several_audiences(claims: Claims) -> None:
        claims["aud"] = ["another-tool", moodle.client_id]
        claims["azp"] = moodle.client_id

    launch = browser.launch("learner", _tampered(several_audiences))

    assert launch.page is not None, launch.response.text


def test_a_platform_that_rotated_its_keys_is_accepted_after_one_refetch(
    moodle: TestPlatform, browser: Browser
) -> None:
    assert browser.launch("learner").page is not None
    assert browser.launch("learner").page is not None
    assert moodle.jwks_requests == 1  # the second launch used the cached keys

    new_key = moodle.rotate_keys()
    launch = browser.launch("learner")

    assert launch.page is not None, launch.response.text
    assert moodle.jwks_requests == 2
    assert new_key.kid not in launch.response.text


def test_canvas_launch_with_its_form_noise_is_accepted(canvas: TestPlatform) -> None:
    browser = Browser(canvas)
    launch = browser.launch("learner")
    browser.close()

    assert set(launch.auth_form.values()) == {
        "utf8",
        "authenticity_token",
        "id_token",
        "state",
        "lti_storage_target",
    }
    assert launch.page is not None, launch.response.text


# Refused launches.


def test_expired_token_is_refused(browser: Browser, session: Session) -> None:
    def expired(claims: Claims) -> None:
        claims["iat"] = int(time.time()) - 400
        claims["exp"] = claims["iat"] + 60  # 340 s ago, beyond the 30 s leeway

    response = _refused_launch(browser, _tampered(expired))

    assert_refused(response, rule="id-token-expired", mentions="expired at")
    assert_nothing_stored(session)


def test_wrong_audience_is_refused(browser: Browser, session: Session) -> None:
    response = _refused_launch(
        browser, _tampered(lambda claims: claims.update(aud="someone-else"))
    )

    assert_refused(response, rule="wrong-audience", mentions="someone-else")
    assert_nothing_stored(session)


def test_aud_array_with_another_audience_and_no_azp_is_refused(
    moodle: TestPlatform, browser: Browser, session: Session
) -> None:
    response = _refused_launch(
        browser,
        _tampered(lambda claims: claims.update(aud=[moodle.client_id, "other-tool"])),
    )

    assert_refused(response, rule="azp-missing", mentions="other-tool")
    assert_nothing_stored(session)


def test_azp_naming_another_audience_is_refused(
    moodle: TestPlatform, browser: Browser, session: Session
) -> None:
    response = _refused_launch(
        browser,
        _tampered(
            lambda claims: claims.update(
                aud=[moodle.client_id, "other-tool"], azp="other-tool"
            )
        ),
    )

    assert_refused(response, rule="wrong-audience", mentions="other-tool")
    assert_nothing_stored(session)


def test_unknown_issuer_in_the_token_is_refused(
    browser: Browser, session: Session
) -> None:
    response = _refused_launch(
        browser,
        _tampered(lambda claims: claims.update(iss="https://unknown-lms.example")),
    )

    assert_refused(
        response, rule="unknown-issuer", mentions="https://unknown-lms.example"
    )
    assert_nothing_stored(session)


def test_unknown_deployment_is_refused(browser: Browser, session: Session) -> None:
    response = _refused_launch(
        browser,
        _tampered(lambda claims: claims.update({LTI + "deployment_id": "999"})),
    )

    assert_refused(response, rule="unknown-deployment", mentions="&#39;999&#39;")
    assert_nothing_stored(session)


def test_missing_deployment_id_is_refused(browser: Browser, session: Session) -> None:
    response = _refused_launch(
        browser, _tampered(lambda claims: claims.pop(LTI + "deployment_id"))
    )

    assert_refused(response, rule="deployment-id-missing", mentions="deployment_id")
    assert_nothing_stored(session)


@pytest.mark.parametrize(
    ("signing", "rule", "mentions"),
    [
        ("foreign-key", "bad-signature", "signature does not verify"),
        ("none", "algorithm-not-allowed", "alg &#39;none&#39;"),
        ("hs256", "algorithm-not-allowed", "alg &#39;HS256&#39;"),
    ],
)
def test_badly_signed_tokens_are_refused(
    browser: Browser, session: Session, signing: str, rule: str, mentions: str
) -> None:
    response = _refused_launch(browser, LaunchPlan(role="learner", signing=signing))

    assert_refused(response, rule=rule, mentions=mentions)
    assert_nothing_stored(session)


def test_a_key_the_platform_does_not_publish_is_refused_after_one_refetch(
    moodle: TestPlatform, browser: Browser, session: Session
) -> None:
    assert browser.launch("instructor").page is not None
    before = _counts(session)
    published = moodle.keys
    moodle.rotate_keys()  # signs with a key it never publishes
    signing_key = moodle.signing_key
    moodle.keys = [signing_key]
    login = browser.login("learner")
    form = browser.authorize(login)
    moodle.keys = published

    response = browser.post_launch(form, cookies=login.cookies)

    assert_refused(response, rule="unknown-signing-key", mentions=signing_key.kid)
    assert moodle.jwks_requests == 2
    assert _counts(session) == before


def test_missing_state_cookie_is_refused(browser: Browser, session: Session) -> None:
    login = browser.login("learner")
    form = browser.authorize(login)

    response = browser.post_launch(form, cookies=None)

    assert_refused(response, rule="state-cookie-missing", mentions="state cookie")
    assert_nothing_stored(session)


def test_a_state_cookie_of_another_login_is_refused(
    browser: Browser, session: Session
) -> None:
    first = browser.login("learner")
    second = browser.login("learner")
    form = browser.authorize(first)

    response = browser.post_launch(form, cookies=second.cookies)

    assert_refused(response, rule="state-cookie-missing", mentions="state cookie")
    assert_nothing_stored(session)


def test_the_same_launch_posted_twice_is_refused_as_a_replay(
    browser: Browser, session: Session
) -> None:
    login = browser.login("learner")
    form = browser.authorize(login)
    first = browser.post_launch(form, cookies=login.cookies)
    assert first.status_code == 303, first.text
    after_first = _counts(session)

    replay = browser.post_launch(form, cookies=login.cookies)

    assert_refused(
        replay,
        rule="nonce-replayed",
        mentions="nonce already used: this launch was replayed",
    )
    assert _counts(session) == after_first
    assert session.execute(select(func.count()).select_from(UsedNonce)).scalar() == 1


def test_a_nonce_the_tool_never_issued_is_refused(
    browser: Browser, session: Session
) -> None:
    response = _refused_launch(
        browser, _tampered(lambda claims: claims.update(nonce="made-up-nonce"))
    )

    assert_refused(response, rule="nonce-unknown", mentions="nonce")
    assert_nothing_stored(session)


def test_an_unsupported_message_type_is_refused(
    browser: Browser, session: Session
) -> None:
    response = _refused_launch(
        browser,
        _tampered(
            lambda claims: claims.update({LTI + "message_type": "LtiStartProctoring"})
        ),
    )

    assert_refused(
        response, rule="unsupported-message-type", mentions="LtiStartProctoring"
    )
    assert_nothing_stored(session)


def test_a_wrong_lti_version_is_refused(browser: Browser, session: Session) -> None:
    response = _refused_launch(
        browser, _tampered(lambda claims: claims.update({LTI + "version": "1.1"}))
    )

    assert_refused(response, rule="unsupported-lti-version", mentions="1.3.0")
    assert_nothing_stored(session)


def test_a_launch_without_id_token_is_refused(
    live_server: LiveServer, moodle: TestPlatform, session: Session
) -> None:
    response = httpx.post(live_server.url + LAUNCH_PATH, data={"state": "state-x"})

    assert_refused(response, rule="id-token-missing", mentions="id_token")
    assert_nothing_stored(session)


def test_a_garbled_id_token_is_refused(
    live_server: LiveServer, moodle: TestPlatform, session: Session
) -> None:
    response = httpx.post(
        live_server.url + LAUNCH_PATH, data={"id_token": "abc.def", "state": "s"}
    )

    assert_refused(response, rule="malformed-id-token", mentions="JWT")
    assert_nothing_stored(session)


def test_canvas_error_post_shows_the_platform_reason(
    live_server: LiveServer, session: Session
) -> None:
    sample = (LTI_SHAPES_DIR / "samples" / "canvas-launch-error-post.json").read_text()
    fields = {k: v for k, v in json.loads(sample).items() if not k.startswith("_")}

    response = httpx.post(live_server.url + LAUNCH_PATH, data=fields)

    assert_refused(
        response,
        rule="platform-error",
        mentions="launch_no_longer_valid (The launch has either expired or "
        "already been consumed)",
    )
    assert_nothing_stored(session)


def test_a_json_client_gets_a_problem_document(
    browser: Browser, session: Session
) -> None:
    login = browser.login("learner")
    form: Form = browser.authorize(login)

    response = browser.http.post(
        form.action, data=form.values(), headers={"Accept": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "state-cookie-missing"


# Login initiation.


def test_login_redirects_to_the_platform_with_state_and_nonce(
    moodle: TestPlatform, browser: Browser
) -> None:
    login = browser.login("learner")

    assert login.response.status_code == 302
    location = urlsplit(login.location)
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        moodle.auth_login_url
    )
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert query["client_id"] == moodle.client_id
    assert query["login_hint"] == moodle.sub_for("learner")
    assert query["response_mode"] == "form_post"
    assert query["nonce"]
    assert login.cookies == {f"lti1p3-{query['state']}": query["state"]}


def test_canvas_login_by_get_with_deployment_id_is_accepted(
    canvas: TestPlatform,
) -> None:
    browser = Browser(canvas)
    login = browser.login("learner")
    browser.close()

    assert login.response.status_code == 302, login.response.text
    assert login.location.startswith(canvas.auth_login_url + "?")


def test_login_from_an_unknown_issuer_names_it(
    live_server: LiveServer, moodle: TestPlatform, session: Session
) -> None:
    response = httpx.post(
        live_server.url + LOGIN_PATH,
        data={"iss": "https://unknown-lms.example", "login_hint": "4"},
    )

    assert_refused(
        response, rule="unknown-issuer", mentions="https://unknown-lms.example"
    )


def test_login_for_an_unknown_deployment_names_it(browser: Browser) -> None:
    login = browser.login("learner", lti_deployment_id="42")

    assert_refused(login.response, rule="unknown-deployment", mentions="&#39;42&#39;")
    assert login.cookies == {}


def test_login_for_an_unknown_client_id_names_it(browser: Browser) -> None:
    login = browser.login("learner", client_id="not-ours")

    assert_refused(login.response, rule="unknown-client-id", mentions="not-ours")


def test_login_without_login_hint_is_refused(browser: Browser) -> None:
    login = browser.login("learner", login_hint="")

    assert_refused(login.response, rule="login-hint-missing", mentions="login_hint")


def test_login_cookie_is_samesite_none_and_secure_behind_https(
    settings: Settings, session: Session
) -> None:
    https_settings = settings.model_copy(update={"base_url": "https://tool.example"})
    register_platform(
        session,
        issuer="https://lms.example",
        client_id="client-1",
        auth_login_url="https://lms.example/auth",
        auth_token_url="https://lms.example/token",
        keyset_url="https://lms.example/jwks",
        deployment_ids=["1"],
    )
    session.commit()

    with TestClient(create_app(https_settings)) as client:
        response = client.post(
            LOGIN_PATH,
            data={"iss": "https://lms.example", "login_hint": "u1"},
            follow_redirects=False,
        )

    assert response.status_code == 302
    cookie = response.headers["set-cookie"].lower()
    assert "samesite=none" in cookie
    assert "secure" in cookie
    assert "httponly" in cookie
    redirect_uri = parse_qs(urlsplit(response.headers["location"]).query)[
        "redirect_uri"
    ]
    assert redirect_uri == ["https://tool.example" + LAUNCH_PATH]
