"""LTI 1.3 login and launch, and the pages shown inside the LMS iframe.

Login and launch read the form first and run pylti1p3 (synchronous) in the
threadpool. Every refusal is an HTML page naming the rule that failed (or a
problem+json body for a client that asks for JSON), and stores nothing.
"""

from __future__ import annotations

import re
import secrets
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.database import get_session
from app.lti import service
from app.lti.models import LaunchSession
from app.lti.origin import is_secure_url, tool_base_url
from app.lti.paths import (
    ACTIVITY_PATH,
    ALIGN_PATH,
    DEEP_LINK_PATH,
    DEEP_LINK_RETURN_PATH,
    LAUNCH_PATH,
    LOGIN_PATH,
    SUBMIT_PATH,
    UNALIGN_PATH,
)
from app.problems import Problem, problem_response
from app.settings import Settings
from connectors.lti import LaunchRejected, PendingCookie, platform_error

log = structlog.get_logger()

router = APIRouter(tags=["lti"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

# Shown inside any LMS's iframe; the launch session id in URLs must not leak
# to other sites through the Referer header.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors *",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
STATUS_LABELS = {
    "mastered": "Mastered",
    "in_progress": "In progress",
    "no_evidence": "No evidence yet",
}
NOTICES = {
    "submitted": "Your result was recorded.",
    "already-recorded": "This result was already recorded.",
    "aligned": "The activity is aligned to the selected standards.",
    "unaligned": "The alignment was removed.",
}
FORM_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def _refusal(request: Request, *, status: int, rule: str, detail: str) -> Response:
    if _wants_json(request):
        return problem_response(Problem(status, rule, detail))
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "title": "This launch could not be completed"
            if request.url.path in (LOGIN_PATH, LAUNCH_PATH, DEEP_LINK_PATH)
            else "This request could not be completed",
            "detail": detail,
            "rule": rule,
            "status": status,
            "hint": None,
        },
        status_code=status,
        headers=PAGE_HEADERS,
    )


def _apply_cookies(
    response: Response, cookies: list[PendingCookie], *, secure: bool
) -> None:
    for cookie in cookies:
        # SameSite=None lets the cookie ride the platform's cross-site form
        # post; browsers accept it only with Secure, so plain-HTTP development
        # servers fall back to the browser default.
        response.set_cookie(
            cookie.name,
            cookie.value,
            max_age=cookie.max_age,
            path="/",
            httponly=True,
            secure=secure,
            samesite="none" if secure else None,
        )


async def _form_params(request: Request) -> dict[str, str]:
    params = {key: value for key, value in request.query_params.items()}
    if request.method == "POST":
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


# Two operations, not one api_route: each method needs its own stable
# operationId in the OpenAPI description.
@router.get(
    LOGIN_PATH, summary="LTI 1.3 OIDC login initiation", operation_id="lti_login_get"
)
@router.post(
    LOGIN_PATH,
    summary="LTI 1.3 OIDC login initiation (form post)",
    operation_id="lti_login_post",
)
async def login(request: Request, session: Session = Depends(get_session)) -> Response:
    settings = _settings(request)
    base_url = tool_base_url(request, settings)
    params = await _form_params(request)
    try:
        redirect = await run_in_threadpool(
            service.begin_login,
            session,
            settings=settings,
            base_url=base_url,
            params=params,
            cookies=request.cookies,
        )
    except LaunchRejected as rejection:
        log.warning("lti.login.rejected", rule=rejection.rule, issuer=params.get("iss"))
        return _refusal(
            request,
            status=rejection.status,
            rule=rejection.rule,
            detail=rejection.detail,
        )
    response = RedirectResponse(redirect.location, status_code=302)
    _apply_cookies(response, redirect.cookies, secure=is_secure_url(base_url))
    return response


@router.post(LAUNCH_PATH, summary="LTI 1.3 launch (OIDC authentication response)")
@router.post(DEEP_LINK_PATH, include_in_schema=False)
async def launch(request: Request, session: Session = Depends(get_session)) -> Response:
    settings = _settings(request)
    base_url = tool_base_url(request, settings)
    params = await _form_params(request)
    refused_by_platform = platform_error(params)
    if refused_by_platform is not None:
        log.warning("lti.launch.platform_error", error=refused_by_platform.error)
        return _refusal(
            request,
            status=400,
            rule="platform-error",
            detail="The LMS did not complete the launch: "
            f"{refused_by_platform.error}"
            + (
                f" ({refused_by_platform.description})"
                if refused_by_platform.description
                else ""
            )
            + ". Open the activity from your course again.",
        )
    try:
        completed = await run_in_threadpool(
            service.complete_launch,
            session,
            settings=settings,
            base_url=base_url,
            params=params,
            cookies=request.cookies,
        )
    except LaunchRejected as rejection:
        log.warning("lti.launch.rejected", rule=rejection.rule, status=rejection.status)
        return _refusal(
            request,
            status=rejection.status,
            rule=rejection.rule,
            detail=rejection.detail,
        )
    except Problem as problem:
        log.warning("lti.launch.rejected", rule=problem.code, status=problem.status)
        return _refusal(
            request, status=problem.status, rule=problem.code, detail=problem.detail
        )
    response = RedirectResponse(
        _activity_url(completed.launch_session.id), status_code=303
    )
    _apply_cookies(response, completed.cookies, secure=is_secure_url(base_url))
    return response


def _activity_url(launch_session_id: str, **extra: str) -> str:
    return ACTIVITY_PATH + "?" + urlencode({"launch": launch_session_id, **extra})


def _page(request: Request, template: str, context: dict[str, Any]) -> Response:
    return templates.TemplateResponse(request, template, context, headers=PAGE_HEADERS)


@router.get(ACTIVITY_PATH, include_in_schema=False)
def activity_page(
    request: Request,
    launch: str = "",
    q: str = "",
    framework: str = "",
    notice: str = "",
    session: Session = Depends(get_session),
) -> Response:
    try:
        launch_session = service.open_launch_session(session, launch_session_id=launch)
        kind = service.page_kind(launch_session)
        if kind == "deep_linking":
            return _deep_linking_page(
                request,
                session,
                launch_session=launch_session,
                query=q,
                framework_id=framework,
            )
        activity = service.launch_activity(session, launch_session)
        common = {
            "activity": activity,
            "launch_id": launch_session.id,
            "notice": NOTICES.get(notice),
            "activity_path": ACTIVITY_PATH,
        }
        if kind == "review":
            review = service.submission_review(session, launch_session=launch_session)
            return _page(
                request,
                "review.html",
                common | {"review": review, "status_labels": STATUS_LABELS},
            )
        if kind == "learner":
            rows = service.learner_mastery(session, launch_session=launch_session)
            return _page(
                request,
                "learner.html",
                common
                | {
                    "rows": rows,
                    "anonymous": launch_session.person_id is None,
                    "status_labels": STATUS_LABELS,
                    "form_token": secrets.token_urlsafe(16),
                    "submit_path": SUBMIT_PATH,
                },
            )
        if kind == "instructor":
            alignments = service.current_alignments(
                session, launch_session=launch_session
            )
            return _page(
                request,
                "instructor.html",
                common
                | {
                    "alignments": alignments,
                    "aligned_ids": {competency.id for competency in alignments},
                    "query": q.strip(),
                    "results": service.find_competencies(session, query=q),
                    "align_path": ALIGN_PATH,
                    "unalign_path": UNALIGN_PATH,
                },
            )
        return _page(request, "other.html", common)
    except Problem as problem:
        return _refusal(
            request, status=problem.status, rule=problem.code, detail=problem.detail
        )


def _deep_linking_page(
    request: Request,
    session: Session,
    *,
    launch_session: LaunchSession,
    query: str,
    framework_id: str,
) -> Response:
    dl_settings = service.deep_linking_settings(launch_session)
    frameworks, tree, results = service.framework_choices(
        session, framework_id=framework_id, query=query
    )
    return _page(
        request,
        "deep_linking.html",
        {
            "launch_id": launch_session.id,
            "settings": dl_settings,
            "frameworks": frameworks,
            "framework_id": framework_id,
            "tree": tree,
            "query": query.strip(),
            "results": results,
            "activity_path": ACTIVITY_PATH,
            "return_path": DEEP_LINK_RETURN_PATH,
        },
    )


@router.post(DEEP_LINK_RETURN_PATH, include_in_schema=False)
def deep_link_return(
    request: Request,
    launch: str = Form(""),
    competency_id: list[str] = Form(default=[]),
    grouping: str = Form("one"),
    session: Session = Depends(get_session),
) -> Response:
    """Create the chosen activities and hand the browser the signed response."""
    settings = _settings(request)
    try:
        if grouping not in ("one", "each"):
            raise Problem(
                422,
                "grouping-invalid",
                "Choose one activity for all standards or one per standard.",
                field="grouping",
            )
        launch_session = service.open_launch_session(session, launch_session_id=launch)
        answer = service.complete_deep_linking(
            session,
            settings=settings,
            base_url=tool_base_url(request, settings),
            launch_session=launch_session,
            competency_ids=[_uuid(value) for value in competency_id],
            one_item_each=grouping == "each",
        )
    except Problem as problem:
        session.rollback()
        log.warning("lti.deep_link.refused", rule=problem.code)
        return _refusal(
            request, status=problem.status, rule=problem.code, detail=problem.detail
        )
    return _deep_linking_response_page(request, answer)


def _deep_linking_response_page(
    request: Request, answer: service.DeepLinkingAnswer
) -> Response:
    """An auto-submitting form to the platform; it is the only place the page
    may post to and the only script it may run."""
    script_nonce = secrets.token_urlsafe(16)
    return_to = urlsplit(answer.return_url)
    headers = PAGE_HEADERS | {
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src 'nonce-{script_nonce}'; "
        f"form-action {return_to.scheme}://{return_to.netloc}; "
        "base-uri 'none'; frame-ancestors *",
    }
    return templates.TemplateResponse(
        request,
        "deep_linking_response.html",
        {
            "return_url": answer.return_url,
            "jwt": answer.jwt,
            "activities": answer.activities,
            "script_nonce": script_nonce,
        },
        headers=headers,
    )


@router.post(SUBMIT_PATH, include_in_schema=False)
def submit(
    request: Request,
    launch: str = Form(""),
    form_token: str = Form(""),
    score: str = Form(""),
    max_score: str = Form("100"),
    session: Session = Depends(get_session),
) -> Response:
    try:
        launch_session = service.open_launch_session(session, launch_session_id=launch)
        if not FORM_TOKEN_PATTERN.match(form_token):
            raise Problem(
                422,
                "form-token-invalid",
                "The form has no valid token; reload the page and submit again.",
                field="form_token",
            )
        maximum = _decimal(max_score, field="max_score", label="The maximum score")
        achieved = _decimal(score, field="score", label="The score")
        if maximum <= 0:
            raise Problem(
                422,
                "max-score-not-positive",
                "The maximum score must be greater than zero.",
                field="max_score",
            )
        if not Decimal(0) <= achieved <= maximum:
            raise Problem(
                422,
                "score-out-of-range",
                f"The score must be between 0 and the maximum score {maximum}.",
                field="score",
            )
        recorded = service.submit_score(
            session,
            settings=_settings(request),
            launch_session=launch_session,
            score=achieved,
            max_score=maximum,
            form_token=form_token,
        )
    except Problem as problem:
        session.rollback()
        return _refusal(
            request, status=problem.status, rule=problem.code, detail=problem.detail
        )
    notice = "submitted" if recorded.created else "already-recorded"
    return RedirectResponse(
        _activity_url(launch_session.id, notice=notice), status_code=303
    )


@router.post(ALIGN_PATH, include_in_schema=False)
def align(
    request: Request,
    launch: str = Form(""),
    competency_id: list[str] = Form(default=[]),
    session: Session = Depends(get_session),
) -> Response:
    try:
        launch_session = service.open_launch_session(session, launch_session_id=launch)
        service.align_from_page(
            session,
            settings=_settings(request),
            launch_session=launch_session,
            competency_ids=[_uuid(value) for value in competency_id],
        )
    except Problem as problem:
        session.rollback()
        return _refusal(
            request, status=problem.status, rule=problem.code, detail=problem.detail
        )
    return RedirectResponse(
        _activity_url(launch_session.id, notice="aligned"), status_code=303
    )


@router.post(UNALIGN_PATH, include_in_schema=False)
def unalign(
    request: Request,
    launch: str = Form(""),
    competency_id: str = Form(""),
    session: Session = Depends(get_session),
) -> Response:
    try:
        launch_session = service.open_launch_session(session, launch_session_id=launch)
        service.unalign_from_page(
            session,
            settings=_settings(request),
            launch_session=launch_session,
            competency_id=_uuid(competency_id),
        )
    except Problem as problem:
        session.rollback()
        return _refusal(
            request, status=problem.status, rule=problem.code, detail=problem.detail
        )
    return RedirectResponse(
        _activity_url(launch_session.id, notice="unaligned"), status_code=303
    )


def _decimal(value: str, *, field: str, label: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise Problem(
            422,
            f"{field.replace('_', '-')}-invalid",
            f"{label} must be a number.",
            field=field,
        )
    return number


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise Problem(
            422,
            "competency-id-invalid",
            f"'{value}' is not a competency id.",
            field="competency_id",
        ) from error
