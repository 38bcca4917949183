"""The LTI Advantage service endpoints of a platform, over real HTTP on 127.0.0.1.

Two flavours, shaped by the captured Moodle 4.5 exchange and the documented
Canvas fixtures in the shared LTI folder:

- both: a token endpoint that checks the client assertion's signature against
  the tool's JWKS (and that it names a `kid`), line items, scores, results
  with paging, and memberships with Link paging;
- "canvas": JSON token answers; `aud` and `jti` of the assertion are checked;
  membership pages are reached through an opaque, case-sensitive cursor with
  upper-case letters; full role URIs;
- "moodle": token answers are JSON labelled `text/html`; `aud` and `jti` are
  not checked; scores not FullyGraded are dropped; a score not later than the
  stored one, to the second, gets 409; line item URLs carry `?type_id=1`;
  the membership next link drops the role filter; short role names; a result
  whose score is 0 has no `resultScore`.

Every request is logged (method, raw path and query, headers, body, status),
so tests can assert on what the tool actually sent.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode

import jwt
from fastapi import FastAPI, Request, Response

from tests.conftest import LTI_SHAPES_DIR, LiveServer, free_port

Flavour = Literal["canvas", "moodle"]

LIS_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM_SCOPE = AGS_SCOPE + "lineitem"
LINEITEM_READ_SCOPE = AGS_SCOPE + "lineitem.readonly"
RESULT_READ_SCOPE = AGS_SCOPE + "result.readonly"
SCORE_SCOPE = AGS_SCOPE + "score"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPES = {
    LINEITEM_SCOPE,
    LINEITEM_READ_SCOPE,
    RESULT_READ_SCOPE,
    SCORE_SCOPE,
    NRPS_SCOPE,
}
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE = "application/vnd.ims.lis.v1.score+json"
RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
ACTIVITY_PROGRESS = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING_PROGRESS = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class _Paths:
    token: str
    lineitems: str
    lineitem: str
    memberships: str
    query: str


PATHS = {
    "canvas": _Paths(
        token="/login/oauth2/token",
        lineitems="/api/lti/courses/1/line_items",
        lineitem="/api/lti/courses/1/line_items/{item_id}",
        memberships="/api/lti/courses/1/names_and_roles",
        query="",
    ),
    "moodle": _Paths(
        token="/mod/lti/token.php",
        lineitems="/mod/lti/services.php/2/lineitems",
        lineitem="/mod/lti/services.php/2/lineitems/{item_id}/lineitem",
        memberships="/mod/lti/services.php/CourseSection/2/bindings/1/memberships",
        query="type_id=1",
    ),
}
CONTEXTS = {
    "canvas": {
        "id": "4dde05e8ca1973bcca9bffc13e1548820eee93a3",
        "label": "Test",
        "title": "Test",
    },
    "moodle": {"id": "2", "label": "LTI101", "title": "LTI Test Course"},
}
CLIENT_IDS = {"canvas": "10000000000002", "moodle": "DMqpkuGBijsFPXT"}


@dataclass
class IssuedToken:
    scopes: frozenset[str]
    expires_at: float


@dataclass
class StoredScore:
    body: dict[str, Any]
    timestamp: datetime


@dataclass
class ServicePlatform:
    """A platform's token, AGS and NRPS endpoints, with state tests can read."""

    __test__ = False

    flavour: Flavour
    tool_jwks: dict[str, Any]
    clock: Callable[[], float] = time.time
    token_lifetime: int = 3600
    enabled_scopes: set[str] = field(default_factory=lambda: set(SCOPES))
    auth_audience: str | None = None
    requests: list[LoggedRequest] = field(default_factory=list)
    line_items: dict[int, dict[str, Any]] = field(default_factory=dict)
    scores: dict[tuple[int, str], StoredScore] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)
    seen_jtis: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.paths = PATHS[self.flavour]
        self.client_id = CLIENT_IDS[self.flavour]
        self._seed()
        self._server = LiveServer(self._build_app(), "127.0.0.1", self.port)

    # Addresses, as a launch would announce them.

    @property
    def token_url(self) -> str:
        return self.url + self.paths.token

    @property
    def lineitems_url(self) -> str:
        return self._with_query(self.url + self.paths.lineitems)

    @property
    def memberships_url(self) -> str:
        return self.url + self.paths.memberships

    def line_item_url(self, item_id: int) -> str:
        path = self.paths.lineitem.format(item_id=item_id)
        return self._with_query(self.url + path)

    def ags_claim(self, *, line_item_id: int | None = None) -> dict[str, Any]:
        claim: dict[str, Any] = {
            "scope": sorted(s for s in self.enabled_scopes if s.startswith(AGS_SCOPE)),
            "lineitems": self.lineitems_url,
        }
        if line_item_id is not None:
            claim["lineitem"] = self.line_item_url(line_item_id)
        return claim

    def nrps_claim(self) -> dict[str, Any]:
        return {
            "context_memberships_url": self.memberships_url,
            "service_versions": ["2.0"],
        }

    # What an LMS user or administrator might do behind the tool's back.

    def delete_line_item_in_lms(self, item_id: int) -> None:
        del self.line_items[item_id]

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def grade_in_lms(
        self,
        item_id: int,
        user_id: str,
        *,
        score_given: float,
        score_maximum: float,
        timestamp: datetime,
    ) -> None:
        """A teacher grading in the LMS gradebook: a score the tool never sent."""
        body = {
            "userId": user_id,
            "scoreGiven": score_given,
            "scoreMaximum": score_maximum,
            "timestamp": timestamp.isoformat(timespec="milliseconds"),
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
        }
        self.scores[(item_id, user_id)] = StoredScore(body, timestamp)

    def requests_to(self, path: str, method: str | None = None) -> list[LoggedRequest]:
        return [
            logged
            for logged in self.requests
            if logged.path == path and (method is None or logged.method == method)
        ]

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    # State seeded from the captured and documented exchanges.

    def _seed(self) -> None:
        if self.flavour == "moodle":
            exchange = _shape("moodle-4.5/13-ags-nrps-exchange.json")["exchange"]
            steps = {step["step"]: step for step in exchange}
            items = steps["lineitems.get"]["response"]
            self.members = [dict(m) for m in steps["nrps.get"]["response"]["members"]]
            pattern = r"/lineitems/(\d+)/lineitem"
        else:
            ags = _shape("samples/ags-fixtures.json")
            nrps = _shape("samples/nrps-fixtures.json")
            items = ags["canvas_lineitems_page"]
            self.members = [
                dict(member)
                for page in ("page1", "page2")
                for member in nrps[page]["body"]["members"]
            ]
            pattern = r"/line_items/(\d+)$"
        for item in items:
            match = re.search(pattern, item["id"])
            assert match is not None
            item_id = int(match.group(1))
            self.line_items[item_id] = {**item, "id": self.line_item_url(item_id)}

    # The HTTP face.

    def _build_app(self) -> FastAPI:
        app = FastAPI()
        paths = self.paths
        app.add_api_route(paths.token, self._token, methods=["POST"])
        app.add_api_route(paths.lineitems, self._list_line_items, methods=["GET"])
        app.add_api_route(paths.lineitems, self._create_line_item, methods=["POST"])
        app.add_api_route(paths.lineitem, self._get_line_item, methods=["GET"])
        app.add_api_route(paths.lineitem, self._put_line_item, methods=["PUT"])
        app.add_api_route(paths.lineitem, self._delete_line_item, methods=["DELETE"])
        app.add_api_route(paths.lineitem + "/scores", self._score, methods=["POST"])
        app.add_api_route(paths.lineitem + "/results", self._results, methods=["GET"])
        app.add_api_route(paths.memberships, self._memberships, methods=["GET"])
        return _RequestLog(app, self.requests)  # type: ignore[return-value]

    async def _token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        refusal = self._refuse_token_request(form)
        if refusal is not None:
            return self._token_answer({"error": refusal[0], **refusal[1]}, status=400)
        scopes = frozenset(form["scope"].split())
        token = secrets.token_hex(16)
        self.tokens[token] = IssuedToken(scopes, self.clock() + self.token_lifetime)
        return self._token_answer(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "scope": " ".join(sorted(scopes)),
            },
            status=200,
        )

    def _refuse_token_request(
        self, form: dict[str, str]
    ) -> tuple[str, dict[str, str]] | None:
        """(error, extra fields) when the request is refused, following RFC 6749."""
        required = ("grant_type", "client_assertion_type", "client_assertion", "scope")
        if any(not form.get(name) for name in required):
            return "invalid_request", {}
        if form["grant_type"] != "client_credentials":
            return "unsupported_grant_type", {}
        if form["client_assertion_type"] != JWT_BEARER:
            return "invalid_request", {}
        assertion = form["client_assertion"]
        refusal = self._refuse_assertion(assertion)
        if refusal is not None:
            return refusal
        if not set(form["scope"].split()) <= self.enabled_scopes:
            return "invalid_scope", {}
        return None

    def _refuse_assertion(self, assertion: str) -> tuple[str, dict[str, str]] | None:
        header = jwt.get_unverified_header(assertion)
        kid = header.get("kid")
        if not kid:
            if self.flavour == "moodle":
                return "error/Error: kid must be provided in JWT header.", {}
            return "invalid_client", {"error_description": "JWT has no kid header"}
        jwk = next((k for k in self.tool_jwks["keys"] if k.get("kid") == kid), None)
        if jwk is None:
            return '"kid" invalid, unable to lookup correct key', {}
        try:
            claims = jwt.decode(
                assertion,
                jwt.PyJWK(jwk).key,
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                },
            )
        except jwt.InvalidTokenError as error:
            return "invalid_client", {"error_description": str(error)}
        if claims.get("exp", 0) <= self.clock():
            return "Expired token", {}
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            return "invalid_client", {"error_description": "unknown client"}
        if self.flavour == "canvas":
            return self._refuse_canvas_claims(claims)
        return None

    def _refuse_canvas_claims(
        self, claims: dict[str, Any]
    ) -> tuple[str, dict[str, str]] | None:
        expected_aud = self.auth_audience or self.token_url
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if expected_aud not in audiences:
            return "invalid_client", {"error_description": "aud is not this server"}
        jti = claims.get("jti")
        if not jti or jti in self.seen_jtis:
            return "invalid_client", {"error_description": "jti missing or reused"}
        self.seen_jtis.add(jti)
        return None

    def _token_answer(self, body: dict[str, Any], *, status: int) -> Response:
        media_type = (
            "text/html; charset=utf-8"
            if self.flavour == "moodle"
            else "application/json"
        )
        return Response(json.dumps(body), status_code=status, media_type=media_type)

    # Line items.

    async def _list_line_items(self, request: Request) -> Response:
        refusal = self._refuse_ags(request, LINEITEM_SCOPE, LINEITEM_READ_SCOPE)
        if refusal is not None:
            return refusal
        params = request.query_params
        items = [
            item
            for _, item in sorted(self.line_items.items())
            if all(
                params.get(query) is None or str(item.get(key, "")) == params[query]
                for query, key in (
                    ("resource_link_id", "resourceLinkId"),
                    ("resource_id", "resourceId"),
                    ("tag", "tag"),
                )
            )
        ]
        page, link = self._page(request, items, self.url + self.paths.lineitems)
        return self._json(page, LINEITEM_CONTAINER, link=link)

    async def _create_line_item(self, request: Request) -> Response:
        refusal = self._refuse_ags(request, LINEITEM_SCOPE)
        if refusal is not None:
            return refusal
        if not request.headers.get("content-type", "").startswith(LINEITEM):
            return self._json({"error": "unsupported media type"}, status=415)
        body = json.loads(await request.body())
        problem = _line_item_problem(body)
        if problem is not None:
            return self._json({"error": problem}, status=400)
        item_id = max(self.line_items, default=0) + 1
        item = {**body, "id": self.line_item_url(item_id)}
        self.line_items[item_id] = item
        status = 201 if self.flavour == "moodle" else 200
        return self._json(item, LINEITEM, status=status)

    async def _get_line_item(self, request: Request, item_id: int) -> Response:
        refusal = self._refuse_ags(request, LINEITEM_SCOPE, LINEITEM_READ_SCOPE)
        if refusal is not None:
            return refusal
        if item_id not in self.line_items:
            return self._json({"error": "line item not found"}, status=404)
        return self._json(self.line_items[item_id], LINEITEM)

    async def _put_line_item(self, request: Request, item_id: int) -> Response:
        refusal = self._refuse_ags(request, LINEITEM_SCOPE)
        if refusal is not None:
            return refusal
        if item_id not in self.line_items:
            return self._json({"error": "line item not found"}, status=404)
        body = json.loads(await request.body())
        problem = _line_item_problem(body)
        if problem is not None:
            return self._json({"error": problem}, status=400)
        self.line_items[item_id] = {**body, "id": self.line_item_url(item_id)}
        return self._json(self.line_items[item_id], LINEITEM)

    async def _delete_line_item(self, request: Request, item_id: int) -> Response:
        refusal = self._refuse_ags(request, LINEITEM_SCOPE)
        if refusal is not None:
            return refusal
        if self.line_items.pop(item_id, None) is None:
            return self._json({"error": "line item not found"}, status=404)
        return Response(status_code=204)

    # Scores and results.

    async def _score(self, request: Request, item_id: int) -> Response:
        refusal = self._refuse_ags(request, SCORE_SCOPE)
        if refusal is not None:
            return refusal
        if item_id not in self.line_items:
            return self._json({"error": "line item not found"}, status=404)
        if not request.headers.get("content-type", "").startswith(SCORE):
            return self._json({"error": "unsupported media type"}, status=415)
        body = json.loads(await request.body())
        problem = _score_problem(body)
        if problem is not None:
            return self._json({"error": problem}, status=400)
        if not any(m["user_id"] == body["userId"] for m in self.members):
            return self._json({"error": "user not in course"}, status=422)
        timestamp = datetime.fromisoformat(body["timestamp"])
        key = (item_id, body["userId"])
        if self.flavour == "moodle":
            return self._moodle_score(key, body, timestamp)
        self.scores[key] = StoredScore(body, timestamp)
        result_url = self._with_query(
            self.url + self.paths.lineitem.format(item_id=item_id) + "/results"
        )
        return self._json({"resultUrl": result_url}, "application/json")

    def _moodle_score(
        self, key: tuple[int, str], body: dict[str, Any], timestamp: datetime
    ) -> Response:
        stored = self.scores.get(key)
        if stored is not None and int(timestamp.timestamp()) <= int(
            stored.timestamp.timestamp()
        ):
            return self._json({"error": "timestamp not later"}, status=409)
        if body["gradingProgress"] == "FullyGraded":
            self.scores[key] = StoredScore(body, timestamp)
        return Response(b"", media_type=SCORE + "; charset=utf-8")

    async def _results(self, request: Request, item_id: int) -> Response:
        refusal = self._refuse_ags(request, RESULT_READ_SCOPE)
        if refusal is not None:
            return refusal
        if item_id not in self.line_items:
            return self._json({"error": "line item not found"}, status=404)
        user_id = request.query_params.get("user_id")
        results = [
            self._result(item_id, stored)
            for (scored_item, scored_user), stored in sorted(self.scores.items())
            if scored_item == item_id and user_id in (None, scored_user)
        ]
        path = self.url + self.paths.lineitem.format(item_id=item_id) + "/results"
        page, link = self._page(request, results, path)
        return self._json(page, RESULT_CONTAINER, link=link)

    def _result_id(self, item_id: int, user_id: str) -> str:
        results = self.url + self.paths.lineitem.format(item_id=item_id) + "/results"
        if self.flavour == "moodle":
            return f"{self._with_query(results)}&user_id={user_id}"
        return f"{results}/{user_id}"

    def _result(self, item_id: int, stored: StoredScore) -> dict[str, Any]:
        item = self.line_items[item_id]
        body = stored.body
        result: dict[str, Any] = {
            "id": self._result_id(item_id, body["userId"]),
            "scoreOf": item["id"],
            "userId": body["userId"],
            "resultMaximum": item["scoreMaximum"],
            "timestamp": body["timestamp"],
        }
        if body.get("scoreGiven") is not None:
            # Platforms scale the score to the line item's maximum.
            scaled = (
                Decimal(str(body["scoreGiven"]))
                / Decimal(str(body["scoreMaximum"]))
                * Decimal(str(item["scoreMaximum"]))
            )
            result["resultScore"] = float(scaled)
        if self.flavour == "moodle" and not result.get("resultScore"):
            result.pop("resultScore", None)
        if body.get("comment"):
            result["comment"] = body["comment"]
        return result

    # Memberships.

    async def _memberships(self, request: Request) -> Response:
        refusal = self._refuse_token(request, NRPS_SCOPE)
        if refusal is not None:
            return refusal
        if self.flavour == "moodle":
            return self._moodle_memberships(request)
        return self._canvas_memberships(request)

    def _canvas_memberships(self, request: Request) -> Response:
        params = request.query_params
        role = params.get("role")
        members = [m for m in self.members if role is None or role in m["roles"]]
        size = int(params.get("limit") or params.get("per_page") or 10)
        cursor = params.get("page")
        if cursor is None or cursor == "1":
            start = 0
        elif cursor in self.cursors:
            start = self.cursors[cursor]
        else:
            return self._json({"errors": [{"message": "invalid page"}]}, status=400)
        end = start + size
        kept = {"role": role} if role else {}
        first = (
            f"{self.memberships_url}?{urlencode({**kept, 'page': 1, 'per_page': size})}"
        )
        links = [f'<{first}>; rel="first"']
        if end < len(members):
            next_cursor = self._canvas_cursor(end)
            query = urlencode({**kept, "page": next_cursor, "per_page": size}, safe=":")
            links.append(f'<{self.memberships_url}?{query}>; rel="next"')
        body = self._membership_container(members[start:end])
        return self._json(body, MEMBERSHIP_CONTAINER, link=",".join(links))

    def _canvas_cursor(self, offset: int) -> str:
        """An opaque bookmark like Canvas's: base64 with upper-case letters."""
        payload = json.dumps([offset, secrets.token_hex(4)]).encode()
        cursor = "bookmark:" + base64.urlsafe_b64encode(payload).decode().rstrip("=")
        assert cursor != cursor.lower()
        self.cursors[cursor] = offset
        return cursor

    def _moodle_memberships(self, request: Request) -> Response:
        params = request.query_params
        role = params.get("role")
        if role and not role.startswith(("http://", "https://")):
            role = LIS_MEMBERSHIP + role
        members = [
            m
            for m in self.members
            if role is None or role in [LIS_MEMBERSHIP + r for r in m["roles"]]
        ]
        limit = int(params.get("limit") or 0)
        start = int(params.get("from") or 0) if limit > 0 else 0
        page = members[start : start + limit] if limit > 0 else members
        link = None
        if limit > 0 and len(page) == limit:
            # Moodle's next link keeps limit, from and rlid, and drops the role.
            next_query: dict[str, Any] = {"limit": limit, "from": start + limit}
            if params.get("rlid"):
                next_query["rlid"] = params["rlid"]
            link = f'<{self.memberships_url}?{urlencode(next_query)}>; rel="next"'
        return self._json(
            self._membership_container(page), MEMBERSHIP_CONTAINER, link=link
        )

    def _membership_container(self, members: list[dict[str, Any]]) -> dict[str, Any]:
        context = CONTEXTS[self.flavour]
        return {"id": self.memberships_url, "context": context, "members": members}

    # Shared plumbing.

    def _refuse_ags(self, request: Request, *scopes: str) -> Response | None:
        # Moodle finds the tool of an AGS call by the type_id of its URL.
        if self.flavour == "moodle" and request.query_params.get("type_id") != "1":
            return self._json({"error": "type_id missing"}, status=400)
        return self._refuse_token(request, *scopes)

    def _refuse_token(self, request: Request, *scopes: str) -> Response | None:
        """401 without a live token, 403 when it carries none of `scopes`."""
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        issued = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if issued is None or issued.expires_at <= self.clock():
            return self._json({"error": "invalid token"}, status=401)
        if not issued.scopes.intersection(scopes):
            return self._json({"error": "insufficient scope"}, status=403)
        return None

    def _page(
        self, request: Request, rows: list[dict[str, Any]], base: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of `rows` and its next link; pages only when asked with `limit`."""
        params = request.query_params
        size = int(params.get("limit") or params.get("per_page") or 0)
        if size <= 0:
            return rows, None
        if self.flavour == "moodle":
            start = int(params.get("from") or 0)
            next_query: dict[str, Any] = {"limit": size, "from": start + size}
        else:
            start = (int(params.get("page") or 1) - 1) * size
            next_query = {"page": start // size + 2, "per_page": size}
        # Both keep the filters of line item and result pages in the next link.
        for name in ("user_id", "resource_link_id", "resource_id", "tag"):
            if params.get(name):
                next_query[name] = params[name]
        page = rows[start : start + size]
        if start + size >= len(rows):
            return page, None
        query = "&".join(filter(None, [self.paths.query, urlencode(next_query)]))
        return page, f'<{base}?{query}>; rel="next"'

    def _json(
        self,
        body: Any,
        media_type: str = "application/json",
        *,
        status: int = 200,
        link: str | None = None,
    ) -> Response:
        headers = {"Link": link} if link else None
        return Response(
            json.dumps(body),
            status_code=status,
            media_type=media_type + "; charset=utf-8",
            headers=headers,
        )

    def _with_query(self, url: str) -> str:
        return f"{url}?{self.paths.query}" if self.paths.query else url


class _RequestLog:
    """ASGI wrapper recording each request before its answer leaves the server."""

    def __init__(self, app: FastAPI, log: list[LoggedRequest]) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def receive_logged() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def send_logged(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.log.append(
                    LoggedRequest(
                        method=scope["method"],
                        path=scope["path"],
                        query=scope["query_string"].decode(),
                        headers={
                            k.decode().lower(): v.decode() for k, v in scope["headers"]
                        },
                        body=b"".join(chunks),
                        status=message["status"],
                    )
                )
            await send(message)

        await self.app(scope, receive_logged, send_logged)


def _line_item_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body is not a JSON object"
    if not body.get("label"):
        return "label is required"
    maximum = body.get("scoreMaximum")
    if not isinstance(maximum, int | float) or maximum <= 0:
        return "scoreMaximum must be a number above 0"
    return None


def _score_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body is not a JSON object"
    for name in ("userId", "timestamp", "activityProgress", "gradingProgress"):
        if not body.get(name):
            return f"{name} is required"
    if body["activityProgress"] not in ACTIVITY_PROGRESS:
        return "activityProgress is not a known value"
    if body["gradingProgress"] not in GRADING_PROGRESS:
        return "gradingProgress is not a known value"
    try:
        stamp = datetime.fromisoformat(body["timestamp"])
    except ValueError:
        return "timestamp is not ISO 8601"
    if stamp.tzinfo is None:
        return "timestamp has no offset"
    given = body.get("scoreGiven")
    if given is not None and (
        not isinstance(given, int | float) or given < 0 or not body.get("scoreMaximum")
    ):
        return "scoreGiven must be a number of 0 or more, with scoreMaximum"
    return None


def _shape(relative_path: str) -> Any:
    return json.loads((LTI_SHAPES_DIR / relative_path).read_text())


@contextmanager
def running_service_platform(
    flavour: Flavour, *, tool_jwks: dict[str, Any], **options: Any
) -> Iterator[ServicePlatform]:
    platform = ServicePlatform(flavour=flavour, tool_jwks=tool_jwks, **options)
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()
