"""How `CaseClient` proves who it is to a CASE provider: an API key or OAuth 2.

Both are `httpx.Auth` flows, so they run inside the client's retries and its
cap on concurrent requests like any other request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass

import httpx
import structlog

from connectors.case.errors import CaseAuthError, RetryableResponse, body_excerpt

log = structlog.get_logger()

# Refresh a little before the provider's expiry so a token does not lapse
# between our check and the provider's.
TOKEN_EXPIRY_LEEWAY_SECONDS = 30.0


class ApiKeyAuth(httpx.Auth):
    """Send a static key in a header; providers disagree on its name."""

    def __init__(self, key: str, *, header: str = "X-API-Key") -> None:
        if not key:
            raise ValueError("an API key must not be empty")
        self._key = key
        self._header = header

    def auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._key
        yield request


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float | None

    def is_fresh(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


class OAuth2ClientCredentials(httpx.Auth):
    """OAuth 2 client credentials grant (RFC 6749 section 4.4) with a cached token.

    The token is fetched on first use and reused until it is about to expire.
    Concurrent requests share one fetch. A 401 on a cached token means the
    provider dropped it early, so the token is fetched again once and the
    request repeated.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
    ) -> None:
        if not token_url or not client_id or not client_secret:
            raise ValueError("OAuth 2 needs a token URL, a client id and a secret")
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("OAuth2ClientCredentials works with httpx.AsyncClient only")
        yield request  # pragma: no cover

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = self._token
        fetched = False
        if token is None or not token.is_fresh(time.monotonic()):
            async with self._lock:
                token = self._token
                if token is None or not token.is_fresh(time.monotonic()):
                    token = await self._store(
                        (yield self._token_request()), reason="missing_or_expired"
                    )
                    fetched = True

        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code != 401 or fetched:
            return

        async with self._lock:
            if self._token is token:
                await self._store((yield self._token_request()), reason="rejected")
            token = self._token
        assert token is not None
        request.headers["Authorization"] = f"Bearer {token.value}"
        yield request

    def _token_request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        request = httpx.Request(
            "POST",
            self._token_url,
            data=form,
            headers={"Accept": "application/json"},
        )
        # RFC 6749 section 2.3.1: every server must accept HTTP Basic.
        basic = httpx.BasicAuth(self._client_id, self._client_secret)
        return next(basic.auth_flow(request))

    async def _store(self, response: httpx.Response, *, reason: str) -> _Token:
        await response.aread()
        token = self._token_from(response)
        self._token = token
        log.info(
            "case_oauth_token_fetched",
            token_url=self._token_url,
            client_id=self._client_id,
            reason=reason,
            expires=token.expires_at is not None,
        )
        return token

    def _token_from(self, response: httpx.Response) -> _Token:
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableResponse(response)
        payload = _json_or_none(response)
        if response.status_code != 200:
            raise CaseAuthError(
                f"token endpoint {self._token_url} refused client "
                f"{self._client_id!r} with {response.status_code}: "
                f"{_oauth_error_text(payload, response)}",
                url=self._token_url,
                status=response.status_code,
                description=_oauth_error_text(payload, response),
            )
        if not isinstance(payload, dict) or not payload.get("access_token"):
            raise CaseAuthError(
                f"token endpoint {self._token_url} answered 200 without an "
                f"access_token: {body_excerpt(response)}",
                url=self._token_url,
                status=response.status_code,
            )
        token_type = str(payload.get("token_type", "bearer"))
        if token_type.lower() != "bearer":
            raise CaseAuthError(
                f"token endpoint {self._token_url} issued a {token_type!r} token; "
                "only bearer tokens are supported",
                url=self._token_url,
                status=response.status_code,
            )
        return _Token(
            value=str(payload["access_token"]),
            expires_at=_expiry(payload.get("expires_in")),
        )


def _expiry(expires_in: object) -> float | None:
    """Monotonic time to refresh at; None when the provider gave no lifetime."""
    try:
        seconds = float(expires_in)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return time.monotonic() + seconds - TOKEN_EXPIRY_LEEWAY_SECONDS


def _json_or_none(response: httpx.Response) -> object:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _oauth_error_text(payload: object, response: httpx.Response) -> str:
    """RFC 6749 section 5.2 error code and description, or the body as a fallback."""
    if isinstance(payload, dict) and payload.get("error"):
        description = payload.get("error_description")
        return f"{payload['error']}: {description}" if description else payload["error"]
    return body_excerpt(response)
