"""Server-side storage for pylti1p3's nonces and launch data, and the nonce ledger.

Nothing here depends on a browser session, so a launch inside an LMS iframe
that blocks third-party cookies still finds what its login stored; the state
cookie alone binds the launch to the browser that started the login.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pylti1p3.launch_data_storage.base import LaunchDataStorage


class KeyValueStore(Protocol):
    """Values that expire, kept by the service (its database, in practice)."""

    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any, *, ttl_seconds: int) -> None: ...


class NonceLedger(Protocol):
    """Remembers accepted id_token nonces so each launches once."""

    def claim(self, *, issuer: str, nonce: str, expires_at: datetime) -> bool:
        """Record the nonce as used; False when it was used already."""
        ...


class StoreLaunchDataStorage(LaunchDataStorage[Any]):
    """pylti1p3 launch-data storage backed by a `KeyValueStore`."""

    def __init__(self, store: KeyValueStore, *, default_ttl_seconds: int) -> None:
        super().__init__()
        self._store = store
        self._default_ttl_seconds = default_ttl_seconds

    def get_session_cookie_name(self) -> str | None:
        # Keys are random nonces and launch ids, so no per-browser prefix (and
        # no extra cookie that an iframe might not send back) is needed.
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        return self._store.get(self._prepare_key(key))

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        ttl = exp or self._default_ttl_seconds
        self._store.put(self._prepare_key(key), value, ttl_seconds=ttl)

    def check_value(self, key: str) -> bool:
        return self.get_value(key) is not None
