"""OIDC third-party-initiated login: the first half of an LTI 1.3 launch."""

from __future__ import annotations

from collections.abc import Mapping

from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.registration import Registration
from pylti1p3.session import SessionService

from connectors.lti.adapters import (
    CollectedCookies,
    FormRequest,
    LocationRedirect,
    PendingCookie,
)
from connectors.lti.errors import LaunchRejected
from connectors.lti.registry import PlatformRegistry
from connectors.lti.storage import StoreLaunchDataStorage

# How long the tool waits between its login redirect and the platform's launch.
STATE_COOKIE_SECONDS = 5 * 60


def login_deployment_id(params: Mapping[str, str]) -> str:
    """The deployment a login names; Canvas may send `deployment_id` instead."""
    return params.get("lti_deployment_id") or params.get("deployment_id") or ""


class ToolOIDCLogin(
    OIDCLogin[FormRequest, PlatformRegistry, SessionService, CollectedCookies, str]
):
    """pylti1p3's login with rejections that name the issuer or deployment."""

    _tool_config: PlatformRegistry

    def get_redirect(self, url: str) -> LocationRedirect:
        return LocationRedirect(url)

    def validate_oidc_login(self) -> Registration:
        iss = self._get_request_param("iss")
        if not iss:
            raise LaunchRejected(
                "issuer-missing", "The login request has no 'iss' parameter."
            )
        if not self._get_request_param("login_hint"):
            raise LaunchRejected(
                "login-hint-missing", "The login request has no 'login_hint'."
            )
        if not self._tool_config.knows_issuer(iss):
            raise LaunchRejected(
                "unknown-issuer",
                f"Unknown issuer '{iss}': no platform is registered with it. "
                "Register the platform with this tool first.",
            )

        client_id = self._get_request_param("client_id") or None
        registration = self._tool_config.find_registration_by_params(iss, client_id)
        if registration is None:
            raise LaunchRejected(*_unmatched_client(iss, client_id))

        deployment_id = login_deployment_id(self._request.params)
        registered_client = registration.get_client_id()
        if deployment_id and not self._tool_config.find_deployment_by_params(
            iss, deployment_id, registered_client
        ):
            raise LaunchRejected(
                "unknown-deployment",
                f"Deployment '{deployment_id}' is not registered for platform "
                f"'{iss}' (client id '{registered_client}').",
            )
        return registration


def _unmatched_client(iss: str, client_id: str | None) -> tuple[str, str]:
    if client_id:
        return (
            "unknown-client-id",
            f"Client id '{client_id}' is not registered for issuer '{iss}'.",
        )
    return (
        "client-id-missing",
        f"Several registrations share issuer '{iss}'; the login request must "
        "carry 'client_id'.",
    )


def start_login(
    request: FormRequest,
    registry: PlatformRegistry,
    *,
    storage: StoreLaunchDataStorage,
    launch_url: str,
    nonce_lifetime_seconds: int,
) -> tuple[str, list[PendingCookie]]:
    """The platform authorization URL to redirect to, and the state cookie."""
    cookies = CollectedCookies(request)
    session_service = SessionService(request)
    session_service.set_data_storage(storage)
    session_service.set_launch_data_lifetime(nonce_lifetime_seconds)
    login = ToolOIDCLogin(request, registry, session_service, cookies)
    location = login.get_redirect_object(launch_url).get_redirect_url()
    return location, cookies.pending
