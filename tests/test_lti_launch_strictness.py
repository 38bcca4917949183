"""Claims each message must carry, anonymous launches, and a TLS-terminating proxy.

Every refusal is a 4xx page naming the rule, and stores nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lti.models import LaunchSession
from app.lti.paths import LAUNCH_PATH, SUBMIT_PATH
from app.main import create_app
from app.settings import Settings
from tests.conftest import LiveServer
from tests.lti_platform import (
    LTI,
    Browser,
    Claims,
    LaunchPlan,
    TestPlatform,
    running_platform,
    set_cookies,
)
from tests.test_lti_launch import (
    _counts,
    _register,
    assert_nothing_stored,
    assert_refused,
)

PUBLIC_HOST = "tool.example.test"


@pytest.fixture(params=["moodle", "canvas"])
def browser(
    request: pytest.FixtureRequest, live_server: LiveServer
) -> Iterator[Browser]:
    with running_platform(request.param, tool_url=live_server.url) as platform:
        _register(live_server, platform)
        browser = Browser(platform)
        yield browser
        browser.close()


def _learner_launch(browser: Browser, edit: object) -> httpx.Response:
    def tamper(claims: Claims) -> None:
        edit(claims)  # type: ignore[operator]

    launch = browser.launch("learner", LaunchPlan(role="learner", tamper=tamper))
    assert launch.page is None
    return launch.response


def test_a_resource_link_launch_without_resource_link_id_is_refused(
    browser: Browser, session: Session
) -> None:
    response = _learner_launch(
        browser, lambda claims: claims.update({LTI + "resource_link": {"title": "x"}})
    )

    assert_refused(response, rule="resource-link-id-missing", mentions="resource_link")
    assert_nothing_stored(session)


def test_a_target_link_uri_of_another_tool_is_refused(
    browser: Browser, session: Session
) -> None:
    response = _learner_launch(
        browser,
        lambda claims: claims.update(
            {LTI + "target_link_uri": "https://evil.example/lti/launch"}
        ),
    )

    assert_refused(
        response,
        rule="target-link-uri-foreign",
        mentions="https://evil.example/lti/launch",
    )
    assert_nothing_stored(session)


def test_a_launch_without_target_link_uri_is_refused(
    browser: Browser, session: Session
) -> None:
    response = _learner_launch(
        browser, lambda claims: claims.pop(LTI + "target_link_uri")
    )

    assert_refused(response, rule="target-link-uri-missing", mentions="target_link_uri")
    assert_nothing_stored(session)


def test_a_target_link_uri_with_a_query_string_is_ours(browser: Browser) -> None:
    def with_query(claims: Claims) -> None:
        claims[LTI + "target_link_uri"] += "?placement=course_navigation"

    launch = browser.launch("learner", LaunchPlan(role="learner", tamper=with_query))

    assert launch.page is not None, launch.response.text


def test_a_launch_without_roles_is_refused(browser: Browser, session: Session) -> None:
    response = _learner_launch(browser, lambda claims: claims.pop(LTI + "roles"))

    assert_refused(response, rule="roles-missing", mentions="roles")
    assert_nothing_stored(session)


def test_a_refusal_is_logged_without_the_token(
    browser: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)

    launch = browser.launch(
        "learner",
        LaunchPlan(role="learner", tamper=lambda claims: claims.pop(LTI + "roles")),
    )

    token = launch.auth_form.values()["id_token"]
    assert "roles-missing" in caplog.text
    assert token not in caplog.text and token.split(".")[1] not in caplog.text


def test_a_json_client_gets_the_rule_as_a_problem_document(
    browser: Browser, session: Session
) -> None:
    def foreign(claims: Claims) -> None:
        claims[LTI + "target_link_uri"] = "https://evil.example/lti/launch"

    login = browser.login("learner", LaunchPlan(role="learner", tamper=foreign))
    form = browser.authorize(login)
    response = browser.http.post(
        form.action,
        data=form.values(),
        headers={
            "Accept": "application/json",
            "Cookie": "; ".join(f"{k}={v}" for k, v in login.cookies.items()),
        },
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "target-link-uri-foreign"
    assert_nothing_stored(session)


def test_an_anonymous_launch_is_accepted_but_records_no_person(
    browser: Browser, session: Session
) -> None:
    launch = browser.launch(
        "learner", LaunchPlan(role="learner", tamper=lambda claims: claims.pop("sub"))
    )

    assert launch.page is not None, launch.response.text
    assert "results cannot be recorded" in launch.page.text
    assert 'id="submit-form"' not in launch.page.text
    counts = _counts(session)
    assert counts["people"] == 0 and counts["lti_launch_sessions"] == 1
    assert session.execute(select(LaunchSession.person_id)).scalar_one() is None

    # A hand-made post cannot record a result either.
    submitted = browser.http.post(
        launch.page.url.join(SUBMIT_PATH),
        data={"launch": launch.launch_id, "form_token": "a" * 16, "score": "5"},
    )
    assert_refused(
        submitted, rule="anonymous-launch", mentions="cannot be recorded", status=403
    )
    assert _counts(session)["evidence"] == 0


# Behind a TLS-terminating reverse proxy.


class ProxyTransport(httpx.BaseTransport):
    """Plays a reverse proxy: https://PUBLIC_HOST in front, the plain-HTTP
    service behind, with X-Forwarded-Proto and X-Forwarded-Host."""

    def __init__(self, upstream: str) -> None:
        self._upstream = urlsplit(upstream)
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["X-Forwarded-Proto"] = "https"
        request.headers["X-Forwarded-Host"] = PUBLIC_HOST
        request.url = request.url.copy_with(
            scheme="http", host=self._upstream.hostname, port=self._upstream.port
        )
        return self._inner.handle_request(request)


@pytest.fixture
def proxied(settings: Settings) -> Iterator[tuple[LiveServer, TestPlatform]]:
    """The service behind a proxy at https://PUBLIC_HOST, registered with Moodle."""
    server = LiveServer(create_app(settings), settings.host, settings.port)
    server.start()
    try:
        with running_platform("moodle", tool_url=f"https://{PUBLIC_HOST}") as platform:
            _register(server, platform)
            yield server, platform
    finally:
        server.stop()


def _proxied_browser(server: LiveServer, platform: TestPlatform) -> Browser:
    browser = Browser(platform)
    browser.http = httpx.Client(
        timeout=30,
        cookies=browser.http.cookies,
        mounts={f"https://{PUBLIC_HOST}": ProxyTransport(server.url)},
    )
    return browser


def test_behind_a_trusted_proxy_urls_stay_https_and_cookies_are_secure(
    proxied: tuple[LiveServer, TestPlatform],
) -> None:
    server, platform = proxied
    browser = _proxied_browser(server, platform)

    login = browser.login("learner")
    launch = browser.launch("learner")

    redirect_uri = parse_qs(urlsplit(login.location).query)["redirect_uri"]
    assert redirect_uri == [f"https://{PUBLIC_HOST}{LAUNCH_PATH}"]
    [cookie] = set_cookies(login.response).values()
    [morsel] = cookie.values()
    assert morsel["secure"] is True and morsel["samesite"].lower() == "none"
    # The platform's target_link_uri is the https URL, which is ours.
    assert launch.page is not None, launch.response.text
    browser.close()


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    settings: Settings, session: Session
) -> None:
    untrusted = settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"})
    server = LiveServer(create_app(untrusted), untrusted.host, untrusted.port)
    server.start()
    try:
        with running_platform("moodle", tool_url=f"https://{PUBLIC_HOST}") as platform:
            _register(server, platform)
            browser = _proxied_browser(server, platform)
            login = browser.login("learner")
            authorization = browser.http.get(login.location)
            browser.close()
    finally:
        server.stop()

    redirect_uri = parse_qs(urlsplit(login.location).query)["redirect_uri"]
    assert redirect_uri == [settings.public_url + LAUNCH_PATH]
    [cookie] = set_cookies(login.response).values()
    [morsel] = cookie.values()
    assert not morsel["secure"]
    # The platform refuses to answer a redirect_uri that is not the tool's.
    assert authorization.status_code == 400
    assert "redirect_uri" in authorization.text
    assert_nothing_stored(session)


def test_a_trusted_proxies_entry_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(ValidationError, match="'proxy.internal' is not an IP"):
        Settings(trusted_proxies="127.0.0.1, proxy.internal", _env_file=None)  # type: ignore[call-arg]
