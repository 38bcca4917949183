"""Request ids, one `http.request` log line and HTTP metrics for every request.

A pure ASGI middleware rather than `BaseHTTPMiddleware`: it only wraps `send`,
so streamed responses pass through untouched and contextvars bound here reach
the endpoint (and the thread pool that runs sync endpoints).
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.operations.metrics import ServiceMetrics, bound_metrics

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is echoed into headers and logs, so only a short plain token
# is trusted; anything else is replaced rather than cleaned.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
UNMATCHED_ROUTE = "unmatched"

log = structlog.get_logger()


class RequestTelemetryMiddleware:
    """Give each request an id, bind the app's metrics, log and count the request."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with bound_metrics(self.metrics):
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            await self._observe(scope, receive, send)

    async def _observe(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = request_id_for(Headers(scope=scope).get(REQUEST_ID_HEADER))
        status = 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        # Bound without a reset on purpose: an unhandled error is logged by the
        # server error handler outside this middleware, and that line should
        # carry the id too. Each request runs in its own task, so nothing leaks.
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            self._record(scope, status=status, seconds=time.perf_counter() - started)

    def _record(self, scope: Scope, *, status: int, seconds: float) -> None:
        method = scope["method"]
        route = route_template(scope)
        self.metrics.observe_request(
            method=method, route=route, status=status, seconds=seconds
        )
        # The raw path and query string are left out: LTI and OAuth carry
        # codes and tokens in the query, and ids in paths are personal enough.
        log.info(
            "http.request",
            method=method,
            route=route,
            status=status,
            duration_ms=round(seconds * 1000, 2),
        )


def request_id_for(incoming: str | None) -> str:
    """The caller's id when it is a sane token, else a new one."""
    if incoming is not None and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's template ("/api/v1/people/{person_id}"), never the path.

    Raw paths hold ids, and one time series per id would swamp the metrics.
    """
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else UNMATCHED_ROUTE
