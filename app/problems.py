"""RFC 9457 problem details: the one shape every user-caused API error takes.

Raise `Problem` anywhere below a route; the handler installed by
`install_problem_handlers` turns it into `application/problem+json`:

    raise Problem(404, "person-not-found", "No person has that identifier.",
                  field="person")
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_TYPE_BASE = "https://standards-bridge.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = structlog.get_logger()


class Problem(Exception):
    """A client-caused error with a stable code and a sentence a person understands."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.errors = errors or []
        self.title = title or code.replace("-", " ").capitalize()
        # For challenges a status requires, such as WWW-Authenticate on a 401.
        self.headers = headers or {}

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if self.field:
            body["field"] = self.field
        if self.errors:
            body["errors"] = self.errors
        return body


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.to_body(),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


async def _handle_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc)


async def _handle_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(part) for part in error["loc"] if part != "body"),
            "message": error["msg"],
        }
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"field": None, "message": "invalid request"}
    return problem_response(
        Problem(
            422,
            "invalid-request",
            f"{first['field'] or 'request'}: {first['message']}",
            field=first["field"] or None,
            errors=errors,
        )
    )


async def _handle_http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "error")
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    return problem_response(Problem(exc.status_code, code, detail))


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("request.failed", path=request.url.path, error=type(exc).__name__)
    return problem_response(
        Problem(500, "internal-error", "The server could not complete the request.")
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _handle_problem)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(Exception, _handle_unexpected)
