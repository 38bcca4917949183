"""pylti1p3's request, cookie and redirect interfaces over plain values.

pylti1p3 is synchronous and framework-bound; the web layer reads the form
first, hands the values in here, and applies the cookies collected here to its
own response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pylti1p3.cookie import CookieService
from pylti1p3.redirect import Redirect
from pylti1p3.request import Request

COOKIE_PREFIX = "lti1p3"


class FormRequest(Request):
    """One login or launch request: its parameters, cookies and scheme."""

    def __init__(
        self, *, params: Mapping[str, str], cookies: Mapping[str, str], secure: bool
    ) -> None:
        self.params = dict(params)
        self.cookies = dict(cookies)
        self._secure = secure

    @property
    def session(self) -> dict[str, object]:
        raise RuntimeError("launch state lives in the server-side store")

    def is_secure(self) -> bool:
        return self._secure

    def get_param(self, key: str) -> str:
        return self.params.get(key, "")


@dataclass(frozen=True)
class PendingCookie:
    """A cookie to set (or, with `max_age` 0, to clear) on the response."""

    name: str
    value: str
    max_age: int | None


class CollectedCookies(CookieService):
    """Reads the request's `lti1p3-` cookies; collects the ones pylti1p3 sets."""

    _cookie_prefix = COOKIE_PREFIX

    def __init__(self, request: FormRequest) -> None:
        self._request = request
        self.pending: list[PendingCookie] = []

    def full_name(self, name: str) -> str:
        return f"{self._cookie_prefix}-{name}"

    def get_cookie(self, name: str) -> str | None:
        return self._request.cookies.get(self.full_name(name))

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        self.pending.append(PendingCookie(self.full_name(name), str(value), exp))

    def clear_cookie(self, name: str) -> None:
        self.pending.append(PendingCookie(self.full_name(name), "", 0))


class LocationRedirect(Redirect[str]):
    """A redirect reduced to its location; the web layer answers with it."""

    def __init__(self, location: str) -> None:
        self._location = location

    def do_redirect(self) -> str:
        return self._location

    def do_js_redirect(self) -> str:
        return self._location

    def set_redirect_url(self, location: str) -> None:
        self._location = location

    def get_redirect_url(self) -> str:
        return self._location
