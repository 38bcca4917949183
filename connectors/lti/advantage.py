"""What the LTI Advantage services share: scopes, media types, errors, paging.

The Assignment and Grade Services client lives in `connectors.lti.ags`, the
Names and Role Provisioning Services client in `connectors.lti.nrps`, and the
OAuth 2 service token both of them present in `connectors.lti.service_token`.
None of them knows anything of the service's tables: callers hand in the
platform's token URL, the tool's signing key and the claims of a launch.

Every failure a caller sees is an `AdvantageServiceError`; the subclasses are
the answers a caller may want to act on (a score already stored, a line item
deleted in the LMS, a scope the launch did not grant).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
)
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_CONTEXT_MEMBERSHIP_READONLY = (
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)
AGS_SCOPES = frozenset(
    {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE}
)

LINEITEM_CONTAINER_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
LINEITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULT_CONTAINER_MEDIA_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIP_CONTAINER_MEDIA_TYPE = (
    "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
)

EXCERPT_LENGTH = 200


class AdvantageServiceError(Exception):
    """A platform's service endpoint could not be used as asked.

    `url` is the endpoint, `status` the HTTP status when there was an answer.
    """

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class ServiceTokenError(AdvantageServiceError):
    """The platform's token endpoint refused the client assertion or the scopes.

    `error` and `error_description` are the platform's own words (RFC 6749
    section 5.2) when it sent them.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.error = error
        self.error_description = error_description


class ScopeNotGranted(AdvantageServiceError):
    """The launch did not grant the scope an operation needs; nothing was sent."""


class LineItemGone(AdvantageServiceError):
    """The line item no longer exists in the LMS (someone deleted the column)."""


class ScoreConflict(AdvantageServiceError):
    """The platform already holds a score for this user at this time or later.

    Moodle answers 409 to a score whose timestamp is not later, to the second,
    than the one it stored; for a score the tool re-sends this means "already
    stored", not a failure.
    """


def body_excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    if not text:
        return "an empty body"
    if len(text) > EXCERPT_LENGTH:
        text = text[:EXCERPT_LENGTH] + "..."
    return repr(text)


def json_body(response: httpx.Response) -> Any:
    """The body read as JSON whatever its Content-Type says.

    Moodle labels JSON answers `text/html`, so the label is not trusted.
    """
    try:
        return json.loads(response.content)
    except ValueError as error:
        raise AdvantageServiceError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code} with a body that is not JSON: "
            f"{body_excerpt(response)}",
            url=str(response.request.url),
            status=response.status_code,
        ) from error


def next_page_url(response: httpx.Response) -> str | None:
    """The `rel="next"` target of the Link header, exactly as the platform wrote it.

    Canvas's paging cursors are case-sensitive, so the URL is neither
    normalised nor lower-cased.
    """
    link = response.links.get("next")
    if not link or not link.get("url"):
        return None
    return str(link["url"])


def with_path_suffix(url: str, suffix: str) -> str:
    """`url` with `suffix` appended to its path, before any query string.

    Moodle's line item URLs carry `?type_id=...`, so the scores URL of
    `.../lineitem?type_id=1` is `.../lineitem/scores?type_id=1`.
    """
    parts = urlsplit(url)
    path = parts.path.rstrip("/") + suffix
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def with_query(url: str, params: Mapping[str, str | None]) -> str:
    """`url` with `params` added after its own query, which is kept byte for byte."""
    extra = {name: value for name, value in params.items() if value is not None}
    if not extra:
        return url
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(extra)]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def unexpected_answer(response: httpx.Response) -> AdvantageServiceError:
    """The error for a status the operation has no specific meaning for."""
    request = response.request
    return AdvantageServiceError(
        f"{request.method} {request.url} answered {response.status_code}: "
        f"{body_excerpt(response)}",
        url=str(request.url),
        status=response.status_code,
    )
