"""LTI Dynamic Registration with Moodle- and Canvas-shaped platforms, over HTTP.

The registration double advertises the launch URLs of a launching test
platform, so a registration is proven by a launch that then works.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.lti.paths import (
    DEEP_LINK_PATH,
    JWKS_PATH,
    LAUNCH_PATH,
    LOGIN_PATH,
    REGISTER_PATH,
)
from app.platforms.models import Deployment, Platform
from connectors.lti.advantage import (
    SCOPE_CONTEXT_MEMBERSHIP_READONLY,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
)
from tests.conftest import LiveServer
from tests.lti_platform import Browser, TestPlatform, running_platform
from tests.lti_registration_platform import (
    TOOL_CONFIGURATION,
    LaunchUrls,
    RegistrationPlatform,
    running_registration_platform,
)

CLOSE_MESSAGE = '{subject: "org.imsglobal.lti.close"}'
# Every AGS and NRPS scope the tool uses; both shapes advertise all five.
TOOL_SCOPES = [
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCOPE_CONTEXT_MEMBERSHIP_READONLY,
]


@pytest.fixture(params=["moodle", "canvas"])
def product(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def launcher(product: str, live_server: LiveServer) -> Iterator[TestPlatform]:
    with running_platform(product, tool_url=live_server.url) as platform:
        yield platform


@pytest.fixture
def moodle_launcher(live_server: LiveServer) -> Iterator[TestPlatform]:
    """For refusals, where which LMS launches afterwards does not matter."""
    with running_platform("moodle", tool_url=live_server.url) as platform:
        yield platform


def launch_urls(launcher: TestPlatform) -> LaunchUrls:
    return LaunchUrls(
        authorization_endpoint=launcher.auth_login_url,
        token_endpoint=launcher.auth_token_url,
        jwks_uri=launcher.keyset_url,
    )


def start_registration(
    live_server: LiveServer, lms: RegistrationPlatform, **changes: str
) -> httpx.Response:
    """What the LMS does: open the tool's registration URL in the admin's browser."""
    params = {
        "openid_configuration": lms.openid_configuration_url,
        "registration_token": lms.registration_token,
        **changes,
    }
    return httpx.get(live_server.url + REGISTER_PATH, params=params, timeout=30)


def stored_counts(session: Session) -> tuple[int, int]:
    session.rollback()
    platforms = session.scalar(select(func.count()).select_from(Platform)) or 0
    deployments = session.scalar(select(func.count()).select_from(Deployment)) or 0
    return platforms, deployments


def test_registration_stores_the_platform_and_a_launch_then_works(
    product: str, launcher: TestPlatform, live_server: LiveServer, session: Session
) -> None:
    with running_registration_platform(
        product, launch_urls=launch_urls(launcher)
    ) as lms:
        page = start_registration(live_server, lms)

    assert page.status_code == 200, page.text
    assert CLOSE_MESSAGE in page.text
    assert "window.opener || window.parent" in page.text
    assert ('id="awaits-activation"' in page.text) == (product == "moodle")
    # The configuration was fetched with the registration token as bearer.
    assert lms.configuration_tokens == [f"Bearer {lms.registration_token}"]

    session.rollback()
    platform = session.execute(select(Platform)).scalar_one()
    assert (platform.issuer, platform.client_id) == (lms.url, lms.client_id)
    assert platform.auth_login_url == launcher.auth_login_url
    assert platform.auth_token_url == launcher.auth_token_url
    assert platform.keyset_url == launcher.keyset_url
    assert platform.product == product
    assert [d.deployment_id for d in platform.deployments] == [lms.deployment_id]

    # The launching platform now speaks with the identity the registration made.
    launcher.issuer = lms.issuer
    launcher.client_id = lms.client_id
    launcher.deployment_id = str(lms.deployment_id)
    browser = Browser(launcher)
    try:
        launch = browser.launch("instructor")
    finally:
        browser.close()
    assert launch.page is not None, launch.response.text
    assert launch.page.status_code == 200, launch.page.text


def test_the_registration_request_describes_the_tool(
    product: str, launcher: TestPlatform, live_server: LiveServer
) -> None:
    with running_registration_platform(
        product, launch_urls=launch_urls(launcher)
    ) as lms:
        assert start_registration(live_server, lms).status_code == 200

    (sent,) = lms.received
    base = live_server.url
    assert sent["application_type"] == "web"
    assert sent["response_types"] == ["id_token"]
    assert set(sent["grant_types"]) == {"implicit", "client_credentials"}
    assert sent["initiate_login_uri"] == base + LOGIN_PATH
    assert base + LAUNCH_PATH in sent["redirect_uris"]
    assert base + DEEP_LINK_PATH in sent["redirect_uris"]
    assert sent["jwks_uri"] == base + JWKS_PATH
    assert sent["token_endpoint_auth_method"] == "private_key_jwt"
    assert sent["scope"].split() == TOOL_SCOPES
    tool = sent[TOOL_CONFIGURATION]
    assert tool["domain"] == urlsplit(base).netloc
    assert tool["target_link_uri"] == base + LAUNCH_PATH
    assert {"iss", "sub"} <= set(tool["claims"])
    messages = {message["type"]: message for message in tool["messages"]}
    assert set(messages) == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    deep_linking = messages["LtiDeepLinkingRequest"]
    if product == "moodle":
        # Moodle advertises ContentArea for deep linking, nothing for links.
        assert deep_linking["placements"] == ["ContentArea"]
        assert "placements" not in messages["LtiResourceLinkRequest"]
    else:
        assert deep_linking["placements"] == ["link_selection", "assignment_selection"]
        assert messages["LtiResourceLinkRequest"]["placements"] == ["course_navigation"]


def test_only_the_scopes_the_platform_offers_are_asked_for(
    moodle_launcher: TestPlatform, live_server: LiveServer
) -> None:
    with running_registration_platform(
        "moodle", launch_urls=launch_urls(moodle_launcher)
    ) as lms:
        offered = [SCOPE_SCORE, SCOPE_RESULT_READONLY, "openid"]
        original = lms.configuration

        def with_fewer_scopes() -> dict[str, object]:
            return {**original(), "scopes_supported": offered}

        lms.configuration = with_fewer_scopes  # type: ignore[method-assign]
        assert start_registration(live_server, lms).status_code == 200

    # In the tool's order, without "openid", which is no service scope.
    assert lms.received[0]["scope"].split() == [SCOPE_RESULT_READONLY, SCOPE_SCORE]


def test_an_issuer_not_at_the_configuration_origin_is_refused(
    moodle_launcher: TestPlatform, live_server: LiveServer, session: Session
) -> None:
    with running_registration_platform(
        "moodle",
        launch_urls=launch_urls(moodle_launcher),
        issuer_override="https://moodle.example.edu",
    ) as lms:
        page = start_registration(live_server, lms)

    assert page.status_code == 400
    assert 'id="rule" class="code">issuer-mismatch<' in page.text
    assert "https://moodle.example.edu" in page.text
    assert lms.received == []
    assert stored_counts(session) == (0, 0)


@pytest.mark.parametrize(
    ("refusal", "shown"),
    [
        # Moodle answers plain text; OAuth-style JSON errors are read too.
        ((400, "domain_targetlinkuri_mismatch"), "domain_targetlinkuri_mismatch"),
        (
            (400, {"error": "invalid_client_metadata", "error_description": "bad"}),
            "bad",
        ),
    ],
)
def test_a_refused_registration_shows_the_platform_message_and_stores_nothing(
    refusal: tuple[int, object],
    shown: str,
    moodle_launcher: TestPlatform,
    live_server: LiveServer,
    session: Session,
) -> None:
    with running_registration_platform(
        "moodle", launch_urls=launch_urls(moodle_launcher), refusal=refusal
    ) as lms:
        page = start_registration(live_server, lms)

    assert page.status_code == 502
    assert 'id="rule" class="code">registration-refused<' in page.text
    assert f"(HTTP 400): {shown}" in page.text
    assert stored_counts(session) == (0, 0)


def test_a_wrong_registration_token_is_refused_by_the_platform(
    moodle_launcher: TestPlatform, live_server: LiveServer, session: Session
) -> None:
    with running_registration_platform(
        "canvas", launch_urls=launch_urls(moodle_launcher)
    ) as lms:
        page = start_registration(live_server, lms, registration_token="forged")

    assert page.status_code == 502
    assert "HTTP 401" in page.text and "invalid registration token" in page.text
    assert stored_counts(session) == (0, 0)


def test_an_unreachable_configuration_is_a_clear_error(
    live_server: LiveServer, session: Session
) -> None:
    # A port nothing listens on: bound, then released.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mod/lti/openid-configuration.php"

    page = httpx.get(
        live_server.url + REGISTER_PATH,
        params={"openid_configuration": url, "registration_token": "t"},
    )

    assert page.status_code == 502
    assert 'id="rule" class="code">configuration-unreachable<' in page.text
    assert url in page.text
    assert stored_counts(session) == (0, 0)


@pytest.mark.parametrize(
    ("params", "rule"),
    [
        ({}, "openid-configuration-missing"),
        (
            {"openid_configuration": "ftp://lms.example/x"},
            "openid-configuration-invalid",
        ),
        (
            {"openid_configuration": "http://lms.example:port/x"},
            "openid-configuration-invalid",
        ),
    ],
)
def test_missing_or_malformed_parameters_are_refused(
    params: dict[str, str], rule: str, live_server: LiveServer, session: Session
) -> None:
    page = httpx.get(live_server.url + REGISTER_PATH, params=params)

    assert page.status_code == 400
    assert f'id="rule" class="code">{rule}<' in page.text
    assert stored_counts(session) == (0, 0)


def test_a_configuration_without_a_registration_endpoint_is_refused(
    moodle_launcher: TestPlatform, live_server: LiveServer, session: Session
) -> None:
    with running_registration_platform(
        "moodle", launch_urls=launch_urls(moodle_launcher)
    ) as lms:
        original = lms.configuration

        def without_endpoint() -> dict[str, object]:
            document = original()
            del document["registration_endpoint"]
            return document

        lms.configuration = without_endpoint  # type: ignore[method-assign]
        page = start_registration(live_server, lms)

    assert page.status_code == 502
    assert "registration_endpoint" in page.text
    assert stored_counts(session) == (0, 0)


def test_canvas_without_a_deployment_id_is_stored_and_asks_for_one(
    moodle_launcher: TestPlatform, live_server: LiveServer, session: Session
) -> None:
    with running_registration_platform(
        "canvas", launch_urls=launch_urls(moodle_launcher), deployment_id=None
    ) as lms:
        page = start_registration(live_server, lms)

    assert page.status_code == 200, page.text
    assert stored_counts(session) == (1, 0)
    platform = session.execute(select(Platform)).scalar_one()
    assert f"platforms add-deployment {platform.id} DEPLOYMENT_ID" in page.text
