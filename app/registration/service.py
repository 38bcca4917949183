"""Registering the tool with an LMS: LTI Dynamic Registration and Canvas JSON.

Dynamic Registration (IMS LTI Dynamic Registration 1.0): the LMS opens
`/lti/register` with the URL of its OpenID configuration and a one-time
registration token. The tool reads the configuration, posts a client
registration describing itself, and stores the platform under the client id
and deployment id the LMS answers with. Every check and both requests happen
before anything is stored, so a refusal leaves the store as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import structlog
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from app.lti.paths import DEEP_LINK_PATH, LAUNCH_PATH, TARGET_PATHS
from app.organizations.service import get_default_organization_id
from app.platforms.lms_setup import TOOL_NAME, tool_urls
from app.platforms.models import Platform
from app.platforms.service import PRODUCTS, find_platform, register_platform
from app.registration.schemas import (
    TOOL_CONFIGURATION_CLAIM,
    PlatformConfiguration,
    RegistrationAnswer,
    absolute_http_url,
)
from connectors.lti.advantage import (
    SCOPE_CONTEXT_MEMBERSHIP_READONLY,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
)

log = structlog.get_logger()

ModelT = TypeVar("ModelT", bound=BaseModel)

TOOL_DESCRIPTION = (
    "Aligns LMS activities to CASE competencies and turns completed activities "
    "into per-person mastery."
)
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
# The services the tool uses; only those the platform offers are asked for.
WANTED_SCOPES = (
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCOPE_CONTEXT_MEMBERSHIP_READONLY,
)
WANTED_CLAIMS = ["iss", "sub", "name", "given_name", "family_name", "email"]
# Canvas names placements in snake case, Moodle offers "ContentArea" for
# content selection; each platform gets the ones it advertises.
WANTED_PLACEMENTS = {
    RESOURCE_LINK: ("course_navigation",),
    DEEP_LINKING: ("ContentArea", "link_selection", "assignment_selection"),
}
CANVAS_PRIVACY_LEVEL = "https://canvas.instructure.com/lti/privacy_level"
CANVAS_CUSTOM_FIELDS = {"canvas_course_id": "$Canvas.course.id"}
HTTP_TIMEOUT_SECONDS = 15
PLATFORM_MESSAGE_LIMIT = 500


class RegistrationFailed(Exception):
    """Registration stopped; `detail` says why in words an LMS admin can act on."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Registered:
    platform: Platform
    deployment_id: str | None
    product_family_code: str

    @property
    def awaits_activation(self) -> bool:
        # Moodle creates dynamically registered tools as "pending".
        return self.product_family_code == "moodle"


def register_with_platform(
    session: Session,
    *,
    public_url: str,
    openid_configuration: str,
    registration_token: str,
    http: httpx.Client,
) -> Registered:
    """Run Dynamic Registration against one LMS and store it; the caller commits."""
    configuration_url = _checked_configuration_url(openid_configuration)
    configuration = fetch_platform_configuration(
        http, url=configuration_url, registration_token=registration_token
    )
    _check_issuer_origin(configuration, configuration_url=configuration_url)
    request = tool_registration_request(public_url, configuration=configuration)
    answer = post_registration(
        http,
        configuration=configuration,
        registration_token=registration_token,
        request=request,
    )

    product = configuration.platform.product_family_code.lower()
    platform = _store_platform(
        session, configuration=configuration, answer=answer, product=product
    )
    log.info(
        "registration.completed",
        platform_id=str(platform.id),
        issuer=platform.issuer,
        product=product or "unknown",
        with_deployment=answer.tool_configuration.deployment_id is not None,
    )
    return Registered(
        platform=platform,
        deployment_id=answer.tool_configuration.deployment_id,
        product_family_code=product,
    )


def fetch_platform_configuration(
    http: httpx.Client, *, url: str, registration_token: str
) -> PlatformConfiguration:
    # Canvas wants the registration token on this request too; Moodle ignores it.
    headers = _bearer(registration_token)
    try:
        response = http.get(url, headers=headers, timeout=HTTP_TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise RegistrationFailed(
            502,
            "configuration-unreachable",
            f"The LMS's OpenID configuration at {url} could not be fetched "
            f"({type(error).__name__}). Check that this tool's server can reach "
            "the LMS, then start the registration again.",
        ) from error
    if response.status_code != 200:
        raise RegistrationFailed(
            502,
            "configuration-unreachable",
            f"The LMS answered HTTP {response.status_code} for its OpenID "
            f"configuration at {url}: {_platform_message(response)}",
        )
    return _parsed(
        PlatformConfiguration,
        response,
        code="configuration-invalid",
        what=f"The OpenID configuration at {url}",
    )


def tool_registration_request(
    public_url: str, *, configuration: PlatformConfiguration
) -> dict[str, Any]:
    """The client registration the tool posts (OIDC client metadata + LTI)."""
    urls = tool_urls(public_url)
    base = public_url.rstrip("/")
    scopes = [s for s in WANTED_SCOPES if s in configuration.scopes_supported]
    messages = [
        _message(RESOURCE_LINK, base + LAUNCH_PATH, configuration=configuration),
        _message(DEEP_LINKING, base + DEEP_LINK_PATH, configuration=configuration),
    ]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login_url,
        "redirect_uris": [base + path for path in TARGET_PATHS],
        "client_name": TOOL_NAME,
        "jwks_uri": urls.jwks_url,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION_CLAIM: {
            # Moodle refuses a domain that is not target_link_uri's host.
            "domain": urlsplit(base).netloc,
            "target_link_uri": urls.launch_url,
            "description": TOOL_DESCRIPTION,
            "claims": WANTED_CLAIMS,
            "messages": messages,
            CANVAS_PRIVACY_LEVEL: "public",
        },
    }


def post_registration(
    http: httpx.Client,
    *,
    configuration: PlatformConfiguration,
    registration_token: str,
    request: dict[str, Any],
) -> RegistrationAnswer:
    endpoint = configuration.registration_endpoint
    try:
        response = http.post(
            endpoint,
            json=request,
            headers=_bearer(registration_token),
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        raise RegistrationFailed(
            502,
            "registration-unreachable",
            f"The LMS's registration endpoint {endpoint} could not be reached "
            f"({type(error).__name__}); nothing was registered.",
        ) from error
    if response.status_code not in (200, 201):
        raise RegistrationFailed(
            502,
            "registration-refused",
            f"The LMS refused the registration (HTTP {response.status_code}): "
            f"{_platform_message(response)}",
        )
    return _parsed(
        RegistrationAnswer,
        response,
        code="registration-answer-invalid",
        what="The LMS's answer to the registration",
    )


def canvas_configuration(public_url: str) -> dict[str, Any]:
    """The Canvas developer key JSON ("Enter URL" or "Paste JSON")."""
    urls = tool_urls(public_url)
    base = public_url.rstrip("/")

    def placement(name: str, message_type: str, target: str) -> dict[str, Any]:
        return {
            "placement": name,
            "message_type": message_type,
            "target_link_uri": base + target,
            "text": TOOL_NAME,
        }

    return {
        "title": TOOL_NAME,
        "description": TOOL_DESCRIPTION,
        "oidc_initiation_url": urls.login_url,
        "target_link_uri": urls.launch_url,
        "public_jwk_url": urls.jwks_url,
        "scopes": list(WANTED_SCOPES),
        "extensions": [
            {
                "domain": urlsplit(base).hostname,
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {
                    "text": TOOL_NAME,
                    "placements": [
                        placement("link_selection", DEEP_LINKING, DEEP_LINK_PATH),
                        placement("assignment_selection", DEEP_LINKING, DEEP_LINK_PATH),
                        placement("course_navigation", RESOURCE_LINK, LAUNCH_PATH),
                    ],
                },
            }
        ],
        "custom_fields": dict(CANVAS_CUSTOM_FIELDS),
    }


def _message(
    message_type: str, target_link_uri: str, *, configuration: PlatformConfiguration
) -> dict[str, Any]:
    offered = configuration.placements_for(message_type)
    placements = [p for p in WANTED_PLACEMENTS[message_type] if p in offered]
    message: dict[str, Any] = {
        "type": message_type,
        "target_link_uri": target_link_uri,
        "label": TOOL_NAME,
    }
    if placements:
        message["placements"] = placements
    return message


def _checked_configuration_url(value: str) -> str:
    value = value.strip()
    try:
        return absolute_http_url(value)
    except ValueError:
        raise RegistrationFailed(
            400,
            "openid-configuration-invalid",
            "The openid_configuration parameter must be the absolute http(s) URL "
            f"of the LMS's OpenID configuration, got {value[:200]!r}. Start the "
            "registration from the LMS.",
        ) from None


def _check_issuer_origin(
    configuration: PlatformConfiguration, *, configuration_url: str
) -> None:
    """LTI Dynamic Registration: the issuer must be served where it claims to be.

    Otherwise any site could publish a configuration naming another LMS's
    issuer and have the tool trust launches under it.
    """
    if _origin(configuration.issuer) != _origin(configuration_url):
        raise RegistrationFailed(
            400,
            "issuer-mismatch",
            f"The LMS's configuration names issuer {configuration.issuer!r}, which "
            f"is not at the address it was fetched from ({_origin(configuration_url)})"
            "; nothing was registered.",
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    port = parts.port if parts.port not in (None, default_port) else None
    host = (parts.hostname or "").lower()
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def _store_platform(
    session: Session,
    *,
    configuration: PlatformConfiguration,
    answer: RegistrationAnswer,
    product: str,
) -> Platform:
    name = (
        configuration.platform.account_name
        or f"{product or 'LMS'} {configuration.issuer}"
    )[:255]
    product_code = product if product in PRODUCTS else "other"
    deployment_id = answer.tool_configuration.deployment_id
    if deployment_id:
        return register_platform(
            session,
            issuer=configuration.issuer,
            client_id=answer.client_id,
            auth_login_url=configuration.authorization_endpoint,
            auth_token_url=configuration.token_endpoint,
            keyset_url=configuration.jwks_uri,
            deployment_ids=[deployment_id],
            name=name,
            product=product_code,
        )

    # Canvas answers before the tool is installed in an account, so there is
    # no deployment yet: the platform is stored with its URLs alone, and the
    # deployment id shown after installing is added later.
    platform = find_platform(
        session, issuer=configuration.issuer, client_id=answer.client_id
    )
    if platform is None:
        platform = Platform(
            organization_id=get_default_organization_id(session),
            issuer=configuration.issuer,
            client_id=answer.client_id,
        )
        session.add(platform)
    platform.name = name
    platform.product = product_code
    platform.auth_login_url = configuration.authorization_endpoint
    platform.auth_token_url = configuration.token_endpoint
    platform.keyset_url = configuration.jwks_uri
    session.flush()
    return platform


def _bearer(registration_token: str) -> dict[str, str]:
    token = registration_token.strip()
    return {"Authorization": f"Bearer {token}"} if token else {}


def _parsed(
    model: type[ModelT], response: httpx.Response, *, code: str, what: str
) -> ModelT:
    try:
        return model.model_validate(response.json())
    except (json.JSONDecodeError, ValidationError) as error:
        problem = (
            "is not JSON"
            if isinstance(error, json.JSONDecodeError)
            else "is missing or has malformed " + ", ".join(_bad_fields(error))
        )
        raise RegistrationFailed(502, code, f"{what} {problem}.") from error


def _bad_fields(error: ValidationError) -> list[str]:
    return [
        ".".join(str(part) for part in e["loc"]) or "a body" for e in error.errors()
    ]


def _platform_message(response: httpx.Response) -> str:
    """What the LMS said, from an OAuth-style error body or its plain text."""
    try:
        body = response.json()
    except json.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        for key in ("error_description", "error", "message", "errors"):
            if body.get(key):
                text = (
                    body[key] if isinstance(body[key], str) else json.dumps(body[key])
                )
                return text[:PLATFORM_MESSAGE_LIMIT]
    text = " ".join(response.text.split())
    return text[:PLATFORM_MESSAGE_LIMIT] or "(no message)"
