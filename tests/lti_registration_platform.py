"""A test LMS that plays the platform's half of LTI Dynamic Registration.

It serves an OpenID configuration shaped like the captured Moodle 4.5 one or
the documented Canvas one, and a registration endpoint that checks the bearer
registration token and answers with a client id and a deployment id, as
Moodle does. The authorization, token and JWKS URLs it advertises are those
of a launching test platform (tests/lti_platform.py), so a registered tool can
then be launched from it.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from tests.conftest import LTI_SHAPES_DIR, LiveServer, free_port

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CONFIGURATION_SHAPES = {
    "moodle": "moodle-4.5/12-platform-openid-configuration.json",
    "canvas": "samples/dynreg-openid-configuration-canvas.json",
}
CONFIGURATION_PATHS = {
    "moodle": "/mod/lti/openid-configuration.php",
    "canvas": "/api/lti/security/openid-configuration",
}
REGISTRATION_PATHS = {
    "moodle": "/mod/lti/openid-registration.php",
    "canvas": "/api/lti/registrations",
}


@dataclass
class LaunchUrls:
    """Where the launching platform authorizes, issues tokens and keeps keys."""

    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass
class RegistrationPlatform:
    """The registration half of an LMS, on 127.0.0.1 over real HTTP.

    `issuer` defaults to the server's own origin; set `issuer_override` to
    advertise another. `refusal` makes the registration endpoint answer
    (status, body) instead of registering.
    """

    __test__ = False

    product: str
    launch_urls: LaunchUrls
    port: int = field(default_factory=free_port)
    registration_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    client_id: str = field(default_factory=lambda: secrets.token_hex(8))
    deployment_id: str | None = "2"
    issuer_override: str | None = None
    refusal: tuple[int, Any] | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    configuration_tokens: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = LiveServer(self._build_app(), "127.0.0.1", self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return self.issuer_override or self.url

    @property
    def openid_configuration_url(self) -> str:
        return self.url + CONFIGURATION_PATHS[self.product]

    def configuration(self) -> dict[str, Any]:
        document = json.loads(
            (LTI_SHAPES_DIR / CONFIGURATION_SHAPES[self.product]).read_text()
        )
        document = {k: v for k, v in document.items() if not k.startswith("_")}
        document = copy.deepcopy(document)
        document.update(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.launch_urls.authorization_endpoint,
                "token_endpoint": self.launch_urls.token_endpoint,
                "jwks_uri": self.launch_urls.jwks_uri,
                "registration_endpoint": self.url + REGISTRATION_PATHS[self.product],
            }
        )
        return document

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def _build_app(self) -> FastAPI:
        app = FastAPI()

        @app.get(CONFIGURATION_PATHS[self.product])
        def openid_configuration(request: Request) -> JSONResponse:
            self.configuration_tokens.append(request.headers.get("authorization"))
            return JSONResponse(self.configuration())

        @app.post(REGISTRATION_PATHS[self.product])
        async def register(request: Request) -> Any:
            if (
                request.headers.get("authorization")
                != f"Bearer {self.registration_token}"
            ):
                return PlainTextResponse("invalid registration token", status_code=401)
            body = await request.json()
            self.received.append(body)
            if self.product == "moodle" and not _domain_matches_target(body):
                # Moodle's registration_helper refuses this with HTTP 400.
                return PlainTextResponse(
                    "domain_targetlinkuri_mismatch", status_code=400
                )
            if self.refusal is not None:
                status, answer = self.refusal
                if isinstance(answer, str):
                    return PlainTextResponse(answer, status_code=status)
                return JSONResponse(answer, status_code=status)
            return JSONResponse(self._answer(body))

        return app

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        # The registration echoed back with the platform's identifiers, the
        # way Moodle's registration_helper answers.
        answer = copy.deepcopy(request)
        answer["client_id"] = self.client_id
        answer[TOOL_CONFIGURATION] = {
            **request[TOOL_CONFIGURATION],
            "version": "1.3.0",
        }
        if self.deployment_id is not None:
            answer[TOOL_CONFIGURATION]["deployment_id"] = self.deployment_id
        return answer


def _domain_matches_target(request: dict[str, Any]) -> bool:
    configuration = request.get(TOOL_CONFIGURATION, {})
    target_host = urlsplit(configuration.get("target_link_uri", "")).netloc
    return bool(configuration.get("domain")) and configuration["domain"] == target_host


@contextmanager
def running_registration_platform(
    product: str, *, launch_urls: LaunchUrls, **options: Any
) -> Iterator[RegistrationPlatform]:
    platform = RegistrationPlatform(product=product, launch_urls=launch_urls, **options)
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()
