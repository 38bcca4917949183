"""Assignment and Grade Services 2.0: line items, scores and results.

    ags = AssignmentGradeService(
        tokens, access=access, endpoint=AgsEndpoint.from_claim(claims[AGS_CLAIM])
    )
    ags.post_score(
        Score(user_id=sub, score_given=8, score_maximum=10, timestamp=finished_at)
    )

What real platforms do that shapes this module:

- Moodle ignores a score unless `gradingProgress` is `FullyGraded`, so a
  `Score` says Completed / FullyGraded unless told otherwise.
- Moodle answers 409 to a score whose timestamp is not later, to the second,
  than the stored one: `ScoreConflict`, which a caller re-sending the same
  score may read as "already stored".
- A line item deleted in the LMS answers 404: `LineItemGone`.
- Moodle's line item URLs carry `?type_id=...`; the scores and results URLs
  insert `/scores` or `/results` before that query string.
- Moodle leaves `resultScore` out of a result whose grade is 0, so a missing
  score reads as None, not as 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import structlog

from connectors.lti.advantage import (
    AGS_SCOPES,
    LINEITEM_CONTAINER_MEDIA_TYPE,
    LINEITEM_MEDIA_TYPE,
    RESULT_CONTAINER_MEDIA_TYPE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCORE_MEDIA_TYPE,
    AdvantageServiceError,
    LineItemGone,
    ScopeNotGranted,
    ScoreConflict,
    json_body,
    next_page_url,
    unexpected_answer,
    with_path_suffix,
    with_query,
)
from connectors.lti.service_token import (
    PlatformAccess,
    ServiceConnection,
    ServiceTokens,
)

log = structlog.get_logger()

Number = Decimal | int | float

ACTIVITY_PROGRESS = frozenset(
    {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
)
GRADING_PROGRESS = frozenset(
    {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}
)


@dataclass(frozen=True, kw_only=True)
class AgsEndpoint:
    """The AGS claim of a launch: what the platform lets the tool do, and where."""

    scopes: frozenset[str]
    lineitems_url: str | None = None
    lineitem_url: str | None = None

    @classmethod
    def from_claim(cls, claim: Mapping[str, Any]) -> AgsEndpoint:
        scopes = claim.get("scope")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError("AGS claim: 'scope' must be a list of scope URIs")
        urls = {name: claim.get(name) for name in ("lineitems", "lineitem")}
        for name, url in urls.items():
            if url is not None and not isinstance(url, str):
                raise ValueError(f"AGS claim: '{name}' must be a URL string")
        return cls(
            scopes=frozenset(scopes),
            lineitems_url=urls["lineitems"],
            lineitem_url=urls["lineitem"],
        )


@dataclass(frozen=True, kw_only=True)
class LineItem:
    """A gradebook column. `extensions` keeps properties this module does not name,
    so an update sends back what the platform gave."""

    id: str
    label: str
    score_maximum: Decimal
    resource_id: str | None = None
    tag: str | None = None
    resource_link_id: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, payload: Any, *, url: str) -> LineItem:
        if not isinstance(payload, dict):
            raise AdvantageServiceError(
                f"{url} sent a line item that is not a JSON object", url=url
            )
        item_id = payload.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise AdvantageServiceError(
                f"{url} sent a line item without an id", url=url
            )
        return cls(
            id=item_id,
            label=str(payload.get("label") or ""),
            score_maximum=_decimal(payload.get("scoreMaximum"), "scoreMaximum", url)
            or Decimal(0),
            resource_id=_text(payload.get("resourceId")),
            tag=_text(payload.get("tag")),
            resource_link_id=_text(payload.get("resourceLinkId")),
            start_date_time=_text(payload.get("startDateTime")),
            end_date_time=_text(payload.get("endDateTime")),
            extensions={
                key: value
                for key, value in payload.items()
                if key not in NAMED_LINE_ITEM_PROPERTIES
            },
        )

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **line_item_body(**self._fields())}

    def _fields(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "score_maximum": self.score_maximum,
            "resource_id": self.resource_id,
            "tag": self.tag,
            "resource_link_id": self.resource_link_id,
            "start_date_time": self.start_date_time,
            "end_date_time": self.end_date_time,
            "extensions": self.extensions,
        }


NAMED_LINE_ITEM_PROPERTIES = frozenset(
    {
        "id",
        "label",
        "scoreMaximum",
        "resourceId",
        "tag",
        "resourceLinkId",
        "startDateTime",
        "endDateTime",
    }
)


def line_item_body(
    *,
    label: str,
    score_maximum: Number,
    resource_id: str | None = None,
    tag: str | None = None,
    resource_link_id: str | None = None,
    start_date_time: str | None = None,
    end_date_time: str | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON of a line item, after checking what AGS requires of it."""
    if not isinstance(label, str) or not label.strip():
        raise ValueError("line item label must be a non-empty string")
    maximum = _checked_number(score_maximum, "line item scoreMaximum")
    if maximum <= 0:
        raise ValueError(f"line item scoreMaximum must be above 0, got {maximum}")
    values = {
        "label": label,
        "scoreMaximum": _json_number(maximum),
        "resourceId": resource_id,
        "tag": tag,
        "resourceLinkId": resource_link_id,
        "startDateTime": start_date_time,
        "endDateTime": end_date_time,
    }
    body = dict(extensions or {})
    body.update({name: value for name, value in values.items() if value is not None})
    return body


@dataclass(frozen=True, kw_only=True)
class Score:
    """A score to publish for one user on one line item.

    Completed / FullyGraded is the default: Moodle drops any other grading
    progress. A `score_given` of 0 is sent as 0, and one above `score_maximum`
    is sent as it is (extra credit; AGS allows it). `extensions` carries
    platform properties such as Canvas's submission claim.
    """

    user_id: str
    timestamp: datetime
    score_given: Number | None = None
    score_maximum: Number | None = None
    activity_progress: str = "Completed"
    grading_progress: str = "FullyGraded"
    comment: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.user_id, str) or not self.user_id:
            raise ValueError("score userId must be a non-empty string")
        if self.timestamp.tzinfo is None or self.timestamp.utcoffset() is None:
            raise ValueError("score timestamp must carry a UTC offset")
        if self.activity_progress not in ACTIVITY_PROGRESS:
            raise ValueError(
                f"score activityProgress {self.activity_progress!r} is not one of "
                f"{sorted(ACTIVITY_PROGRESS)}"
            )
        if self.grading_progress not in GRADING_PROGRESS:
            raise ValueError(
                f"score gradingProgress {self.grading_progress!r} is not one of "
                f"{sorted(GRADING_PROGRESS)}"
            )
        self._check_numbers()

    def _check_numbers(self) -> None:
        if self.score_given is None:
            if self.score_maximum is not None:
                _checked_number(self.score_maximum, "score scoreMaximum")
            return
        given = _checked_number(self.score_given, "score scoreGiven")
        if given < 0:
            raise ValueError(f"score scoreGiven must not be negative, got {given}")
        if self.score_maximum is None:
            raise ValueError("score scoreMaximum is required when scoreGiven is set")
        maximum = _checked_number(self.score_maximum, "score scoreMaximum")
        if maximum <= 0:
            raise ValueError(f"score scoreMaximum must be above 0, got {maximum}")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = dict(self.extensions)
        body.update(
            {
                "userId": self.user_id,
                "activityProgress": self.activity_progress,
                "gradingProgress": self.grading_progress,
                "timestamp": self.timestamp.isoformat(timespec="milliseconds"),
            }
        )
        if self.score_given is not None:
            body["scoreGiven"] = _json_number(self.score_given)
        if self.score_maximum is not None:
            body["scoreMaximum"] = _json_number(self.score_maximum)
        if self.comment is not None:
            body["comment"] = self.comment
        return body


@dataclass(frozen=True, kw_only=True)
class Result:
    """A user's current result on a line item, as the platform reports it."""

    user_id: str
    result_score: Decimal | None
    result_maximum: Decimal | None
    id: str | None = None
    score_of: str | None = None
    comment: str | None = None
    timestamp: str | None = None

    @classmethod
    def from_json(cls, payload: Any, *, url: str) -> Result:
        if not isinstance(payload, dict) or not payload.get("userId"):
            raise AdvantageServiceError(
                f"{url} sent a result without a userId", url=url
            )
        return cls(
            user_id=str(payload["userId"]),
            result_score=_decimal(payload.get("resultScore"), "resultScore", url),
            result_maximum=_decimal(payload.get("resultMaximum"), "resultMaximum", url),
            id=_text(payload.get("id")),
            score_of=_text(payload.get("scoreOf")),
            comment=_text(payload.get("comment")),
            timestamp=_text(payload.get("timestamp")),
        )


class AssignmentGradeService:
    """The AGS endpoints one launch granted, called with one service token.

    The token asks for every AGS scope the launch granted and no other; each
    operation first checks that its own scope is among them.
    """

    def __init__(
        self, tokens: ServiceTokens, *, access: PlatformAccess, endpoint: AgsEndpoint
    ) -> None:
        self.endpoint = endpoint
        self.connection = ServiceConnection(
            tokens, access=access, scopes=endpoint.scopes & AGS_SCOPES
        )

    def line_items(
        self,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
    ) -> list[LineItem]:
        self._require_any(SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
        filters = {
            "resource_link_id": resource_link_id,
            "resource_id": resource_id,
            "tag": tag,
            "limit": str(limit) if limit is not None else None,
        }
        url = with_query(self._lineitems_url(), filters)
        return [
            LineItem.from_json(item, url=page_url)
            for page_url, items in self._pages(
                url, accept=LINEITEM_CONTAINER_MEDIA_TYPE
            )
            for item in items
        ]

    def line_item(self, line_item_url: str) -> LineItem:
        self._require_any(SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
        response = self.connection.request(
            "GET", line_item_url, accept=LINEITEM_MEDIA_TYPE
        )
        self._check_line_item_answer(response, line_item_url)
        return LineItem.from_json(json_body(response), url=line_item_url)

    def create_line_item(
        self,
        *,
        label: str,
        score_maximum: Number,
        resource_id: str | None = None,
        tag: str | None = None,
        resource_link_id: str | None = None,
        start_date_time: str | None = None,
        end_date_time: str | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> LineItem:
        self._require_any(SCOPE_LINEITEM)
        body = line_item_body(
            label=label,
            score_maximum=score_maximum,
            resource_id=resource_id,
            tag=tag,
            resource_link_id=resource_link_id,
            start_date_time=start_date_time,
            end_date_time=end_date_time,
            extensions=extensions,
        )
        url = self._lineitems_url()
        response = self.connection.request(
            "POST",
            url,
            accept=LINEITEM_MEDIA_TYPE,
            content_type=LINEITEM_MEDIA_TYPE,
            content=json.dumps(body).encode(),
        )
        if not response.is_success:
            raise unexpected_answer(response)
        created = LineItem.from_json(json_body(response), url=url)
        log.info("lti_ags.line_item_created", line_item=created.id)
        return created

    def update_line_item(self, line_item: LineItem) -> LineItem:
        self._require_any(SCOPE_LINEITEM)
        body = line_item.to_json()
        response = self.connection.request(
            "PUT",
            line_item.id,
            accept=LINEITEM_MEDIA_TYPE,
            content_type=LINEITEM_MEDIA_TYPE,
            content=json.dumps(body).encode(),
        )
        self._check_line_item_answer(response, line_item.id)
        return LineItem.from_json(json_body(response), url=line_item.id)

    def delete_line_item(self, line_item_url: str) -> None:
        self._require_any(SCOPE_LINEITEM)
        response = self.connection.request("DELETE", line_item_url)
        self._check_line_item_answer(response, line_item_url)
        log.info("lti_ags.line_item_deleted", line_item=line_item_url)

    def post_score(self, score: Score, *, line_item_url: str | None = None) -> None:
        """Publish `score`; raises ScoreConflict when the platform holds a newer one."""
        self._require_any(SCOPE_SCORE)
        item_url = self._line_item_url(line_item_url)
        url = with_path_suffix(item_url, "/scores")
        response = self.connection.request(
            "POST",
            url,
            content_type=SCORE_MEDIA_TYPE,
            content=json.dumps(score.to_json()).encode(),
        )
        if response.status_code == httpx.codes.CONFLICT:
            raise ScoreConflict(
                f"{url} already holds a score for user {score.user_id} at "
                f"{score.to_json()['timestamp']} or later",
                url=url,
                status=response.status_code,
            )
        self._check_line_item_answer(response, item_url)
        log.info("lti_ags.score_posted", line_item=item_url, user_id=score.user_id)

    def results(
        self,
        *,
        line_item_url: str | None = None,
        user_id: str | None = None,
        limit: int | None = None,
    ) -> list[Result]:
        self._require_any(SCOPE_RESULT_READONLY)
        item_url = self._line_item_url(line_item_url)
        filters = {"user_id": user_id, "limit": str(limit) if limit else None}
        url = with_query(with_path_suffix(item_url, "/results"), filters)
        pages = self._pages(url, accept=RESULT_CONTAINER_MEDIA_TYPE, item_url=item_url)
        return [
            Result.from_json(result, url=page_url)
            for page_url, results in pages
            for result in results
        ]

    def _pages(
        self, url: str, *, accept: str, item_url: str | None = None
    ) -> Iterator[tuple[str, list[Any]]]:
        """Each page of a container, following Link rel="next" exactly as given."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url is not None:
            if next_url in seen:
                raise AdvantageServiceError(
                    f"{next_url} links back to a page already read", url=next_url
                )
            seen.add(next_url)
            response = self.connection.request("GET", next_url, accept=accept)
            if item_url is not None:
                self._check_line_item_answer(response, item_url)
            elif not response.is_success:
                raise unexpected_answer(response)
            yield next_url, _container(json_body(response), url=next_url)
            next_url = next_page_url(response)

    def _check_line_item_answer(self, response: httpx.Response, item_url: str) -> None:
        if response.status_code == httpx.codes.NOT_FOUND:
            raise LineItemGone(
                f"line item {item_url} no longer exists on the platform "
                f"({response.request.method} {response.request.url} answered 404)",
                url=item_url,
                status=response.status_code,
            )
        if not response.is_success:
            raise unexpected_answer(response)

    def _require_any(self, *scopes: str) -> None:
        if not self.endpoint.scopes.intersection(scopes):
            raise ScopeNotGranted(
                f"the launch did not grant {' or '.join(scopes)}",
                url=self.endpoint.lineitems_url or self.endpoint.lineitem_url or "",
            )

    def _lineitems_url(self) -> str:
        if not self.endpoint.lineitems_url:
            raise ValueError("the launch's AGS claim has no 'lineitems' URL")
        return self.endpoint.lineitems_url

    def _line_item_url(self, line_item_url: str | None) -> str:
        url = line_item_url or self.endpoint.lineitem_url
        if not url:
            raise ValueError(
                "no line item URL given and the launch's AGS claim has no 'lineitem'"
            )
        return url


def _container(payload: Any, *, url: str) -> list[Any]:
    if not isinstance(payload, list):
        raise AdvantageServiceError(
            f"{url} sent a container that is not a JSON array", url=url
        )
    return payload


def _checked_number(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def _json_number(value: Number) -> int | float:
    """A JSON number for `value`: integral values as integers, others as floats."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def _decimal(value: Any, name: str, url: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AdvantageServiceError(
            f"{url} sent a {name} that is not a number", url=url
        )
    try:
        return Decimal(str(value))
    except ArithmeticError as error:
        raise AdvantageServiceError(
            f"{url} sent a {name} that is not a number: {value!r}", url=url
        ) from error


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
