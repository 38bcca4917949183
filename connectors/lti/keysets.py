"""Platform public keys: fetched from the platform's JWKS URL, cached, refreshed.

pylti1p3 fetches a key set once and never looks again, so a platform that
rotates its keys breaks every launch until the cache is cleared. Here an
unknown `kid` triggers exactly one refetch before the launch is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import structlog

from connectors.lti.errors import LaunchRejected
from connectors.lti.storage import KeyValueStore

log = structlog.get_logger()

KeySet = dict[str, Any]
FETCH_TIMEOUT_SECONDS = 10.0


def fetch_key_set(url: str) -> KeySet:
    """GET a JWKS document; any failure is reported naming the URL."""
    try:
        response = httpx.get(url, timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=True)
        response.raise_for_status()
        key_set = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise LaunchRejected(
            "platform-keys-unavailable",
            f"The platform's public keys could not be read from {url}: {error}",
            status=502,
        ) from error
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise LaunchRejected(
            "platform-keys-unavailable",
            f"The document at {url} is not a JWKS (no 'keys' list).",
            status=502,
        )
    return key_set


def _find_key(key_set: KeySet, kid: str) -> dict[str, Any] | None:
    for key in key_set.get("keys", []):
        if isinstance(key, dict) and key.get("kid") == kid and key.get("use") != "enc":
            return key
    return None


class PlatformKeySets:
    """Key sets per platform JWKS URL, cached for `cache_seconds`."""

    def __init__(
        self,
        *,
        store: KeyValueStore,
        cache_seconds: int,
        fetch: Callable[[str], KeySet] = fetch_key_set,
    ) -> None:
        self._store = store
        self._cache_seconds = cache_seconds
        self._fetch = fetch

    @staticmethod
    def cache_key(url: str) -> str:
        return "jwks-" + hashlib.sha256(url.encode("utf-8")).hexdigest()

    def key_for(self, *, keyset_url: str, kid: str) -> dict[str, Any]:
        """The JWK with `kid`, refetching the set once when the cache lacks it."""
        cached = self._cached(keyset_url)
        if cached is not None:
            key = _find_key(cached, kid)
            if key is not None:
                return key
            log.info("lti.jwks.refetch", keyset_url=keyset_url, kid=kid)

        key_set = self._fetch(keyset_url)
        if self._cache_seconds > 0:
            self._store.put(
                self.cache_key(keyset_url), key_set, ttl_seconds=self._cache_seconds
            )
        key = _find_key(key_set, kid)
        if key is None:
            raise LaunchRejected(
                "unknown-signing-key",
                f"The platform's key set at {keyset_url} has no key with kid "
                f"'{kid}', so the id_token signature cannot be checked.",
            )
        return key

    def _cached(self, url: str) -> KeySet | None:
        if self._cache_seconds <= 0:
            return None
        cached = self._store.get(self.cache_key(url))
        return cached if isinstance(cached, dict) else None
