"""Pages and documents an LMS administrator uses to add the tool.

`/lti/register` is opened by the LMS in a window or iframe during LTI Dynamic
Registration; it answers with HTML, never problem+json, because a person is
looking at it. `/lti/canvas.json` and `/lti/setup/moodle` describe the tool
for Canvas developer keys and Moodle's manual form.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from app.database import get_session
from app.lti.paths import CANVAS_CONFIG_PATH, MOODLE_SETUP_PATH, REGISTER_PATH
from app.platforms.lms_setup import MOODLE_MENU, is_loopback, moodle_fields, tool_urls
from app.problems import Problem
from app.registration import service
from app.settings import Settings

log = structlog.get_logger()

router = APIRouter(tags=["lti"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _page_headers(*, nonce: str | None = None) -> dict[str, str]:
    script = f" script-src 'nonce-{nonce}';" if nonce else ""
    return {
        # Shown inside the LMS; the registration token in the URL must not
        # reach other sites through the Referer header.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline';"
        f"{script} base-uri 'none'; frame-ancestors *",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


@router.get(REGISTER_PATH, summary="LTI Dynamic Registration (opened by the LMS)")
def register(
    request: Request,
    openid_configuration: str = "",
    registration_token: str = "",
    session: Session = Depends(get_session),
) -> Response:
    # TODO: limit which LMSs may register (an allow-list of issuers); today any
    # site that sends an administrator here can add itself as a platform.
    try:
        if not openid_configuration.strip():
            raise service.RegistrationFailed(
                400,
                "openid-configuration-missing",
                "The openid_configuration parameter is missing. Start the "
                "registration from the LMS, which adds it.",
            )
        with httpx.Client(follow_redirects=False) as http:
            registered = service.register_with_platform(
                session,
                public_url=_settings(request).public_url,
                openid_configuration=openid_configuration,
                registration_token=registration_token,
                http=http,
            )
        session.commit()
    except service.RegistrationFailed as failure:
        session.rollback()
        log.warning("registration.refused", rule=failure.code, status=failure.status)
        return _error_page(
            request, status=failure.status, rule=failure.code, detail=failure.detail
        )
    except Problem as problem:
        session.rollback()
        log.warning("registration.refused", rule=problem.code, status=problem.status)
        return _error_page(
            request, status=problem.status, rule=problem.code, detail=problem.detail
        )

    nonce = secrets.token_urlsafe(16)
    return templates.TemplateResponse(
        request,
        "registered.html",
        {
            "platform": registered.platform,
            "deployment_id": registered.deployment_id,
            "awaits_activation": registered.awaits_activation,
            "nonce": nonce,
        },
        headers=_page_headers(nonce=nonce),
    )


@router.get(CANVAS_CONFIG_PATH, summary="Canvas developer key JSON configuration")
def canvas_json(request: Request) -> dict[str, Any]:
    return service.canvas_configuration(_settings(request).public_url)


@router.get(MOODLE_SETUP_PATH, summary="How to add the tool to Moodle by hand")
def moodle_setup(request: Request) -> Response:
    public_url = _settings(request).public_url
    return templates.TemplateResponse(
        request,
        "moodle_setup.html",
        {
            "menu": MOODLE_MENU,
            "fields": moodle_fields(tool_urls(public_url)),
            "registration_url": public_url + REGISTER_PATH,
            "loopback": is_loopback(public_url),
        },
        headers=_page_headers(),
    )


def _error_page(request: Request, *, status: int, rule: str, detail: str) -> Response:
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "title": "The tool could not be registered",
            "detail": detail,
            "rule": rule,
            "status": status,
        },
        status_code=status,
        headers=_page_headers(),
    )
