"""Errors a CASE provider can cause, and the imsx status payload that explains them.

Every failure a caller of `CaseClient` sees is a `CaseProviderError` (or one of
its subclasses): it names the URL, the HTTP status when there was one, and the
provider's own description when the provider sent an imsx status payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


class CaseProviderError(Exception):
    """A CASE provider could not be reached, or answered with something unusable."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        description: str | None = None,
        code_minor: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.description = description
        self.code_minor = code_minor


class CaseAuthError(CaseProviderError):
    """The provider or its token endpoint refused our credentials."""


class CaseNotFoundError(CaseProviderError):
    """The provider does not know the requested identifier."""


class CaseListChangedError(CaseProviderError):
    """The CFDocuments list kept changing while we paged through it."""


@dataclass(frozen=True)
class ImsxStatus:
    """The imsx_StatusInfo payload 1EdTech services send with every error."""

    code_major: str
    severity: str | None
    description: str | None
    code_minor: tuple[str, ...]


def imsx_status_from(payload: Any) -> ImsxStatus | None:
    """Read an imsx status payload, or None when `payload` is not one.

    Providers disagree on the casing of the code minor key (`imsx_codeMinor` in
    the 1.1 binding, `imsx_CodeMinor` in older servers), so both are read.
    """
    if not isinstance(payload, dict) or "imsx_codeMajor" not in payload:
        return None
    description = payload.get("imsx_description")
    severity = payload.get("imsx_severity")
    return ImsxStatus(
        code_major=str(payload["imsx_codeMajor"]),
        severity=str(severity) if severity is not None else None,
        description=str(description) if description else None,
        code_minor=_code_minor_values(
            payload.get("imsx_codeMinor") or payload.get("imsx_CodeMinor")
        ),
    )


def _code_minor_values(code_minor: Any) -> tuple[str, ...]:
    if not isinstance(code_minor, dict):
        return ()
    fields = code_minor.get("imsx_codeMinorField") or []
    if isinstance(fields, dict):
        fields = [fields]
    if not isinstance(fields, list):
        return ()
    return tuple(
        str(field["imsx_codeMinorFieldValue"])
        for field in fields
        if isinstance(field, dict) and field.get("imsx_codeMinorFieldValue")
    )


class RetryableResponse(Exception):
    """An answer worth asking again for (429, 5xx); caught by the client's retries.

    It never reaches callers of `CaseClient`: once the retries are spent it is
    turned into a `CaseProviderError` that describes the last answer.
    """

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code} from {response.request.url}")
        self.response = response
        self.retry_after = retry_after_seconds(response)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds the provider asked us to wait (RFC 9110 Retry-After), if it asked."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


EXCERPT_LENGTH = 160


def body_excerpt(response: httpx.Response) -> str:
    """A short, single-line view of a body, for error messages a person reads."""
    text = " ".join(response.text.split())
    if not text:
        return "an empty body"
    if len(text) > EXCERPT_LENGTH:
        text = text[:EXCERPT_LENGTH] + "..."
    return repr(text)
