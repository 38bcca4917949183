"""OAuth 2 service tokens for LTI Advantage calls, and requests that carry them.

A platform hands out access tokens for the client credentials grant, with the
tool authenticating by a JWT it signs itself (RFC 7523 client assertion; the
"private_key_jwt" method of the LTI Security Framework):

    tokens = ServiceTokens(httpx.Client(timeout=10))
    access = PlatformAccess(
        token_url=platform.auth_token_url,
        client_id=platform.client_id,
        auth_audience=platform.auth_audience,
        signing_key=ToolSigningKey(kid=key.kid, private_key_pem=key.private_pem),
    )
    token = tokens.access_token(access, scopes={SCOPE_SCORE})

One `ServiceTokens` should live as long as the process: it keeps each token
until shortly before it expires, per token URL, client id and scope set.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import structlog

from connectors.lti.advantage import (
    AdvantageServiceError,
    ServiceTokenError,
    body_excerpt,
    json_body,
)

log = structlog.get_logger()

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Moodle signs its own assertions for 5 minutes; platforms reject long-lived ones.
ASSERTION_LIFETIME_SECONDS = 300
# RFC 6749 leaves expires_in optional; without it, assume a short life.
DEFAULT_TOKEN_LIFETIME_SECONDS = 300
REFRESH_MARGIN_SECONDS = 60


@dataclass(frozen=True, kw_only=True)
class ToolSigningKey:
    """The tool's private key and the `kid` its JWKS publishes it under.

    Moodle rejects an assertion without a `kid` header, so one is required.
    """

    kid: str
    private_key_pem: str
    algorithm: str = "RS256"

    def __post_init__(self) -> None:
        if not self.kid:
            raise ValueError("ToolSigningKey.kid is empty: platforms need it")

    def __repr__(self) -> str:
        return f"ToolSigningKey(kid={self.kid!r}, algorithm={self.algorithm!r})"


@dataclass(frozen=True, kw_only=True)
class PlatformAccess:
    """What the tool needs to ask one platform registration for tokens."""

    token_url: str
    client_id: str
    signing_key: ToolSigningKey
    auth_audience: str | None = None

    @property
    def audience(self) -> str:
        """The assertion's `aud`: the platform's stated audience, else its token URL."""
        return self.auth_audience or self.token_url


def client_assertion(access: PlatformAccess, *, now: float) -> str:
    """A signed RFC 7523 client assertion naming the tool as issuer and subject."""
    issued_at = int(now)
    claims = {
        "iss": access.client_id,
        "sub": access.client_id,
        "aud": access.audience,
        "iat": issued_at,
        "exp": issued_at + ASSERTION_LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(24),
    }
    key = access.signing_key
    return jwt.encode(
        claims,
        key.private_key_pem,
        algorithm=key.algorithm,
        headers={"kid": key.kid, "typ": "JWT"},
    )


@dataclass(frozen=True)
class ServiceToken:
    access_token: str
    scopes: frozenset[str]
    expires_at: float
    reuse_until: float

    def __repr__(self) -> str:
        scopes = sorted(self.scopes)
        return f"ServiceToken(scopes={scopes!r}, expires_at={self.expires_at})"


CacheKey = tuple[str, str, frozenset[str]]


class ServiceTokens:
    """Access tokens per (token URL, client id, scope set), fetched on demand.

    `clock` returns seconds since the epoch; it times both the assertions and
    the cache, so a test can let an hour pass without waiting for it.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
    ) -> None:
        self.http = http
        self.clock = clock
        self.refresh_margin = refresh_margin
        self._tokens: dict[CacheKey, ServiceToken] = {}
        self._locks: dict[CacheKey, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def access_token(self, access: PlatformAccess, *, scopes: Iterable[str]) -> str:
        key = _cache_key(access, scopes)
        if not key[2]:
            raise ValueError("a service token needs at least one scope")
        with self._lock_for(key):
            cached = self._tokens.get(key)
            if cached is not None and self.clock() < cached.reuse_until:
                return cached.access_token
            token = self._fetch(access, scopes=key[2])
            self._tokens[key] = token
            return token.access_token

    def forget(self, access: PlatformAccess, *, scopes: Iterable[str]) -> None:
        """Drop a cached token the platform no longer accepts."""
        self._tokens.pop(_cache_key(access, scopes), None)

    def _lock_for(self, key: CacheKey) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _fetch(self, access: PlatformAccess, *, scopes: frozenset[str]) -> ServiceToken:
        now = self.clock()
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": client_assertion(access, now=now),
            "scope": " ".join(sorted(scopes)),
        }
        response = self._post(access.token_url, form=form)
        payload = _token_payload(response)
        token = self._token_from(payload, url=access.token_url, now=now, asked=scopes)
        log.info(
            "lti_service_token.issued",
            token_url=access.token_url,
            client_id=access.client_id,
            scopes=len(token.scopes),
            expires_in=int(token.expires_at - now),
        )
        return token

    def _post(self, url: str, *, form: dict[str, str]) -> httpx.Response:
        try:
            return self.http.post(
                url, data=form, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError as error:
            raise ServiceTokenError(
                f"token endpoint {url} could not be reached: {error}", url=url
            ) from error

    def _token_from(
        self, payload: dict[str, Any], *, url: str, now: float, asked: frozenset[str]
    ) -> ServiceToken:
        access_token = payload.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise ServiceTokenError(
                f"token endpoint {url} answered without an access_token", url=url
            )
        token_type = str(payload.get("token_type", "Bearer"))
        if token_type.lower() != "bearer":
            raise ServiceTokenError(
                f"token endpoint {url} issued a {token_type!r} token, not a Bearer one",
                url=url,
            )
        lifetime = _lifetime(payload.get("expires_in"))
        granted = payload.get("scope")
        scopes = frozenset(granted.split()) if isinstance(granted, str) else asked
        margin = min(self.refresh_margin, lifetime / 4)
        return ServiceToken(
            access_token=access_token,
            scopes=scopes,
            expires_at=now + lifetime,
            reuse_until=now + lifetime - margin,
        )


def _cache_key(access: PlatformAccess, scopes: Iterable[str]) -> CacheKey:
    return (access.token_url, access.client_id, frozenset(scopes))


def _lifetime(expires_in: Any) -> float:
    try:
        lifetime = float(expires_in)
    except (TypeError, ValueError):
        return DEFAULT_TOKEN_LIFETIME_SECONDS
    return lifetime if lifetime > 0 else DEFAULT_TOKEN_LIFETIME_SECONDS


def _token_payload(response: httpx.Response) -> dict[str, Any]:
    """The token endpoint's JSON answer, or the error it describes.

    Moodle sends its JSON (errors included) as `text/html`, so the body is
    parsed whatever the label.
    """
    url = str(response.request.url)
    try:
        payload = json_body(response)
    except AdvantageServiceError:
        payload = None
    if response.is_success and isinstance(payload, dict):
        return payload
    if response.is_success:
        raise ServiceTokenError(
            f"token endpoint {url} answered {response.status_code} with "
            f"{body_excerpt(response)}, not a JSON token",
            url=url,
            status=response.status_code,
        )
    error = payload.get("error") if isinstance(payload, dict) else None
    description = (
        payload.get("error_description") if isinstance(payload, dict) else None
    )
    said = ": ".join(str(part) for part in (error, description) if part)
    raise ServiceTokenError(
        f"token endpoint {url} refused the token request ({response.status_code}): "
        f"{said or body_excerpt(response)}",
        url=url,
        status=response.status_code,
        error=str(error) if error else None,
        error_description=str(description) if description else None,
    )


class ServiceConnection:
    """Requests to one platform's service endpoints, each carrying a service token.

    A 401 means the platform dropped the token before its announced expiry
    (a revoked key, a restarted platform): the token is fetched again once.
    """

    def __init__(
        self, tokens: ServiceTokens, *, access: PlatformAccess, scopes: Iterable[str]
    ) -> None:
        self.tokens = tokens
        self.access = access
        self.scopes = frozenset(scopes)

    def request(
        self,
        method: str,
        url: str,
        *,
        accept: str | None = None,
        content_type: str | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        response = self._send(method, url, accept, content_type, content)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            self.tokens.forget(self.access, scopes=self.scopes)
            response = self._send(method, url, accept, content_type, content)
        return response

    def _send(
        self,
        method: str,
        url: str,
        accept: str | None,
        content_type: str | None,
        content: bytes | None,
    ) -> httpx.Response:
        token = self.tokens.access_token(self.access, scopes=self.scopes)
        headers = {"Authorization": f"Bearer {token}"}
        if accept:
            headers["Accept"] = accept
        if content_type:
            headers["Content-Type"] = content_type
        try:
            return self.tokens.http.request(
                method, url, headers=headers, content=content
            )
        except httpx.HTTPError as error:
            raise AdvantageServiceError(
                f"{method} {url} could not be reached: {error}", url=url
            ) from error
