"""A CASE provider test double, served over real HTTP, with faults on demand.

It serves CFPackages (as read from files such as those in CASE_DATA_DIR) under
both `/ims/case/v1p0/` and `/ims/case/v1p1/`: the CFDocuments list (limit,
offset, sort, orderBy, X-Total-Count), CFDocuments, CFPackages, CFItems,
CFAssociations, CFItemAssociations and the CFDefinitions collections, each by
identifier. Unknown identifiers get a 404 imsx status payload, as the 1EdTech
binding prescribes.

    provider = CaseProvider.from_files(CASE_DATA_DIR.glob("smarterbalanced/*_*.json"))
    with provider.serve():
        provider.faults.fail_next("CFPackages/", times=2, status=500)
        ...  # point a client at provider.url
        statuses = [r.status for r in provider.requests_to("CFPackages/")]
        assert statuses == [500, 500, 200]

Faults and request matching use a *resource path*: the request path after the
version root (`CFPackages/<id>`, `CFDocuments`), or, outside the CASE roots,
the path without its leading slash (`oauth/token`). An empty prefix matches
every request.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response

from tests.conftest import LiveServer, free_port

CASE_ROOTS = ("/ims/case/v1p0", "/ims/case/v1p1")
TOKEN_PATH = "/oauth/token"
DEFINITION_COLLECTIONS = (
    "CFConcepts",
    "CFSubjects",
    "CFLicenses",
    "CFItemTypes",
    "CFAssociationGroupings",
)
# The binding answers these with a set whose first member is the one asked for.
SET_COLLECTIONS = ("CFConcepts", "CFSubjects", "CFItemTypes")

HTML_ERROR_PAGE = (
    "<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>{status} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)

Json = dict[str, Any]


def imsx_failure(description: str, *, code_minor: str) -> Json:
    """An imsx_StatusInfo payload as CASE 1.1 providers send with every error."""
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_codeMinor": {
            "imsx_codeMinorField": [
                {
                    "imsx_codeMinorFieldName": "sourcedId",
                    "imsx_codeMinorFieldValue": code_minor,
                }
            ]
        },
    }


def json_response(payload: Any, *, status: int = 200, **headers: str) -> Response:
    return Response(
        content=json.dumps(payload, ensure_ascii=False).encode(),
        status_code=status,
        media_type="application/json",
        headers=headers or None,
    )


@dataclass
class RecordedRequest:
    method: str
    raw_path: str
    resource: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int | None = None


@dataclass
class _Fault:
    prefix: str
    remaining: int
    respond: Callable[[], Response] | None = None
    delay: float = 0.0
    truncate: bool = False


@dataclass
class _ListPageHook:
    callback: Callable[[int], None]
    remaining: int | None


class Faults:
    """Switchable misbehaviour; each `*_next` applies to the next matching requests.

    Faults queue up in the order they were added; a request takes the first
    one whose prefix matches and that still has uses left.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Fault] = []
        self._list_page_hooks: list[_ListPageHook] = []
        self.delay_every_request = 0.0
        self.bare_list = False
        self.send_total_count = True

    def fail_next(
        self,
        prefix: str = "",
        *,
        times: int = 1,
        status: int = 500,
        body: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer `status` (by default with an imsx payload) instead of the data."""
        if body is None:
            failure = imsx_failure(
                f"injected failure {status}", code_minor="internal_server_error"
            )
            body = json.dumps(failure).encode()

        def respond() -> Response:
            return Response(
                content=body,
                status_code=status,
                media_type=content_type,
                headers=headers,
            )

        self._add(_Fault(prefix, times, respond=respond))

    def rate_limit_next(
        self, prefix: str = "", *, times: int = 1, retry_after: str = "1"
    ) -> None:
        self.fail_next(
            prefix,
            times=times,
            status=429,
            body=json.dumps(
                imsx_failure("server busy, retry later", code_minor="server_busy")
            ).encode(),
            headers={"Retry-After": retry_after},
        )

    def html_error_next(
        self, prefix: str = "", *, times: int = 1, status: int = 502
    ) -> None:
        self.fail_next(
            prefix,
            times=times,
            status=status,
            body=HTML_ERROR_PAGE.format(status=status).encode(),
            content_type="text/html",
        )

    def imsx_error_next(
        self,
        prefix: str = "",
        *,
        times: int = 1,
        status: int = 400,
        description: str,
        code_minor: str = "invalid_selection_field",
    ) -> None:
        self.fail_next(
            prefix,
            times=times,
            status=status,
            body=json.dumps(imsx_failure(description, code_minor=code_minor)).encode(),
        )

    def slow_next(self, prefix: str = "", *, times: int = 1, seconds: float) -> None:
        """Hold the answer for `seconds` before sending it, so clients time out."""
        self._add(_Fault(prefix, times, delay=seconds))

    def truncate_next(self, prefix: str = "", *, times: int = 1) -> None:
        """Send only the first half of the real body (with a matching length)."""
        self._add(_Fault(prefix, times, truncate=True))

    def after_list_page(
        self, callback: Callable[[int], None], *, times: int | None = 1
    ) -> None:
        """Call `callback(page_number)` once a CFDocuments page has been built.

        Use it to change the served documents between two pages; `times=None`
        keeps it armed for every page.
        """
        with self._lock:
            self._list_page_hooks.append(_ListPageHook(callback, times))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._list_page_hooks.clear()
        self.delay_every_request = 0.0
        self.bare_list = False
        self.send_total_count = True

    def _add(self, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("a fault needs times >= 1")
        with self._lock:
            self._queue.append(fault)

    def _take(self, resource: str) -> _Fault | None:
        with self._lock:
            for fault in self._queue:
                if fault.remaining > 0 and resource.startswith(fault.prefix):
                    fault.remaining -= 1
                    return fault
        return None

    def _list_page_served(self, page_number: int) -> None:
        with self._lock:
            hooks = [hook for hook in self._list_page_hooks if hook.remaining != 0]
            for hook in hooks:
                if hook.remaining is not None:
                    hook.remaining -= 1
        for hook in hooks:
            hook.callback(page_number)


@dataclass
class _OAuthClient:
    client_id: str
    client_secret: str
    scope: str | None
    expires_in: int


@dataclass
class _Index:
    """Every servable object by identifier, rebuilt when the packages change."""

    items: dict[str, Json] = field(default_factory=dict)
    associations: dict[str, Json] = field(default_factory=dict)
    item_associations: dict[str, list[Json]] = field(default_factory=dict)
    definitions: dict[str, dict[str, Json]] = field(default_factory=dict)
    rubrics: dict[str, Json] = field(default_factory=dict)


class CaseProvider:
    """A CASE provider on 127.0.0.1 whose data, auth and faults a test controls."""

    def __init__(
        self,
        packages: Iterable[Json] = (),
        *,
        listed_documents: list[Json] | None = None,
    ) -> None:
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.url = ""
        self.in_flight = 0
        self.peak_in_flight = 0
        self.tokens_issued = 0
        self._listed_documents = listed_documents
        self._packages: dict[str, Json] = {}
        self._index = _Index()
        self._lock = threading.Lock()
        self._list_pages_served = 0
        self._api_key: tuple[str, str] | None = None
        self._oauth_client: _OAuthClient | None = None
        self._tokens: dict[str, float] = {}
        for package in packages:
            self.add_package(package)
        self.app = self._build_app()

    @classmethod
    def from_files(
        cls, paths: Iterable[Path], *, listed_documents_file: Path | None = None
    ) -> CaseProvider:
        """Serve the packages in `paths`; optionally list a recorded response's
        documents instead of the served packages' own."""
        packages = [json.loads(Path(path).read_text("utf-8")) for path in paths]
        listed = None
        if listed_documents_file is not None:
            listed = json.loads(listed_documents_file.read_text("utf-8"))["CFDocuments"]
        return cls(packages, listed_documents=listed)

    @contextmanager
    def serve(self) -> Iterator[CaseProvider]:
        server = LiveServer(self.app, "127.0.0.1", free_port())
        server.start()
        self.url = server.url
        try:
            yield self
        finally:
            server.stop()

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def add_package(self, package: Json) -> None:
        identifier = package["CFDocument"]["identifier"]
        with self._lock:
            if identifier in self._packages:
                raise ValueError(f"a package for CFDocument {identifier} is served")
            self._packages[identifier] = package
            self._index = _index_of(self._packages.values())

    def remove_package(self, identifier: str) -> None:
        with self._lock:
            del self._packages[identifier]
            self._index = _index_of(self._packages.values())

    def replace_package(self, package: Json) -> None:
        """Serve a new version of a package already served, as a provider
        publishing an edit does."""
        identifier = package["CFDocument"]["identifier"]
        with self._lock:
            if identifier not in self._packages:
                raise ValueError(f"no package for CFDocument {identifier} is served")
            self._packages[identifier] = package
            self._index = _index_of(self._packages.values())

    def package(self, identifier: str) -> Json:
        return self._packages[identifier]

    def require_api_key(self, key: str, *, header: str = "X-API-Key") -> None:
        self._api_key = (header, key)

    def require_oauth(
        self,
        *,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        expires_in: int = 3600,
    ) -> None:
        self._oauth_client = _OAuthClient(client_id, client_secret, scope, expires_in)

    def revoke_tokens(self) -> None:
        """Forget every token issued, as a provider does when it rotates keys."""
        self._tokens.clear()

    def requests_to(self, prefix: str = "") -> list[RecordedRequest]:
        return [r for r in self.requests if r.resource.startswith(prefix)]

    def reset_log(self) -> None:
        self.requests.clear()
        self.peak_in_flight = self.in_flight

    # Serving

    def _build_app(self) -> FastAPI:
        app = FastAPI()
        app.middleware("http")(self._middleware)
        app.add_api_route(TOKEN_PATH, self._token, methods=["POST"])
        for root in CASE_ROOTS:
            self._add_case_routes(app, root)
        return app

    def _add_case_routes(self, app: FastAPI, root: str) -> None:
        app.add_api_route(f"{root}/CFDocuments", self._list_documents, methods=["GET"])
        for collection in (
            "CFDocuments",
            "CFPackages",
            "CFItems",
            "CFAssociations",
            "CFItemAssociations",
            "CFRubrics",
            *DEFINITION_COLLECTIONS,
        ):
            app.add_api_route(
                f"{root}/{collection}/{{identifier:path}}",
                self._object_route(collection),
                methods=["GET"],
            )

    async def _middleware(
        self, request: Request, call_next: Callable[[Request], Any]
    ) -> Response:
        record = self._record(request)
        self._enter()
        try:
            response = await self._answer(request, record, call_next)
        finally:
            self._leave()
        record.status = response.status_code
        return response

    async def _answer(
        self,
        request: Request,
        record: RecordedRequest,
        call_next: Callable[[Request], Any],
    ) -> Response:
        is_case = record.resource != TOKEN_PATH.lstrip("/")
        if is_case and self.faults.delay_every_request:
            await asyncio.sleep(self.faults.delay_every_request)
        fault = self.faults._take(record.resource)
        if fault and fault.delay:
            await _hold(request, fault.delay)
        if fault and fault.respond:
            return fault.respond()
        refusal = self._refusal(request) if is_case else None
        if refusal is not None:
            return refusal
        response: Response = await call_next(request)
        if fault and fault.truncate:
            return await _truncated(response)
        return response

    def _record(self, request: Request) -> RecordedRequest:
        raw_path = request.scope.get("raw_path", b"").decode("latin-1")
        record = RecordedRequest(
            method=request.method,
            raw_path=raw_path or request.url.path,
            resource=_resource_of(request.url.path),
            query=dict(request.query_params),
            headers={name.lower(): value for name, value in request.headers.items()},
        )
        self.requests.append(record)
        return record

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _refusal(self, request: Request) -> Response | None:
        if self._api_key is not None:
            header, key = self._api_key
            if request.headers.get(header) != key:
                return json_response(
                    imsx_failure(
                        f"missing or wrong API key in {header}",
                        code_minor="unauthorisedrequest",
                    ),
                    status=401,
                )
        if self._oauth_client is not None:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            expires_at = self._tokens.get(token)
            if scheme.lower() != "bearer" or expires_at is None:
                return self._invalid_token("unknown bearer token")
            if expires_at < time.monotonic():
                return self._invalid_token("expired bearer token")
        return None

    def _invalid_token(self, description: str) -> Response:
        return json_response(
            imsx_failure(description, code_minor="unauthorisedrequest"),
            status=401,
            **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    async def _token(self, request: Request) -> Response:
        client = self._oauth_client
        if client is None:
            return json_response({"error": "invalid_request"}, status=400)
        form = await request.form()
        client_id, client_secret = _client_credentials(request, form)
        if (client_id, client_secret) != (client.client_id, client.client_secret):
            return json_response(
                {"error": "invalid_client", "error_description": "unknown client"},
                status=401,
            )
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, status=400)
        if client.scope and form.get("scope") != client.scope:
            return json_response({"error": "invalid_scope"}, status=400)

        token = secrets.token_urlsafe(24)
        self._tokens[token] = time.monotonic() + client.expires_in
        self.tokens_issued += 1
        payload: Json = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": client.expires_in,
        }
        if client.scope:
            payload["scope"] = client.scope
        return json_response(payload, **{"Cache-Control": "no-store"})

    async def _list_documents(self, request: Request) -> Response:
        query = request.query_params
        try:
            limit = int(query.get("limit", "100"))
            offset = int(query.get("offset", "0"))
        except ValueError:
            limit = offset = -1
        if limit < 1 or offset < 0:
            return json_response(
                imsx_failure(
                    "limit must be positive and offset not negative",
                    code_minor="invalid_selection_field",
                ),
                status=400,
            )

        documents = self._documents(_root_of(request.url.path))
        if sort := query.get("sort"):
            documents.sort(key=lambda document: str(document.get(sort, "")))
        if query.get("orderBy") == "desc":
            documents.reverse()
        page = documents[offset : offset + limit]

        with self._lock:
            self._list_pages_served += 1
            page_number = self._list_pages_served
        self.faults._list_page_served(page_number)

        headers = {"X-Total-Count": str(len(documents))}
        if not self.faults.send_total_count:
            headers = {}
        payload = page if self.faults.bare_list else {"CFDocuments": page}
        return json_response(payload, **headers)

    def _documents(self, root: str) -> list[Json]:
        if self._listed_documents is not None:
            return list(self._listed_documents)
        with self._lock:
            packages = list(self._packages.values())
        return [self._listed(package["CFDocument"], root) for package in packages]

    def _listed(self, document: Json, root: str) -> Json:
        identifier = document["identifier"]
        return {
            **document,
            "CFPackageURI": {
                "title": document.get("title", ""),
                "identifier": identifier,
                "uri": f"{self.url}{root}/CFPackages/{quote(identifier, safe='')}",
            },
        }

    def _object_route(self, collection: str) -> Callable[[str], Any]:
        async def route(identifier: str) -> Response:
            found = self._find(collection, identifier)
            if found is None:
                return json_response(
                    imsx_failure(
                        f"Unknown {collection} identifier {identifier}",
                        code_minor="unknownobject",
                    ),
                    status=404,
                )
            return json_response(found)

        return route

    def _find(self, collection: str, identifier: str) -> Json | None:
        index = self._index
        match collection:
            case "CFPackages":
                return self._packages.get(identifier)
            case "CFDocuments":
                package = self._packages.get(identifier)
                return package["CFDocument"] if package else None
            case "CFItems":
                return index.items.get(identifier)
            case "CFAssociations":
                return index.associations.get(identifier)
            case "CFItemAssociations":
                item = index.items.get(identifier)
                if item is None:
                    return None
                return {
                    "CFItem": item,
                    "CFAssociations": index.item_associations.get(identifier, []),
                }
            case "CFRubrics":
                return index.rubrics.get(identifier)
        definition = index.definitions.get(collection, {}).get(identifier)
        if definition is None:
            return None
        if collection in SET_COLLECTIONS:
            return {collection: [definition]}
        return definition


def _index_of(packages: Iterable[Json]) -> _Index:
    index = _Index()
    for package in packages:
        for item in package.get("CFItems") or []:
            index.items.setdefault(item["identifier"], item)
        for association in package.get("CFAssociations") or []:
            index.associations.setdefault(association["identifier"], association)
            for end in ("originNodeURI", "destinationNodeURI"):
                node = association.get(end)
                if isinstance(node, dict) and node.get("identifier"):
                    bucket = index.item_associations.setdefault(node["identifier"], [])
                    bucket.append(association)
        definitions = package.get("CFDefinitions") or {}
        for collection in DEFINITION_COLLECTIONS:
            served = index.definitions.setdefault(collection, {})
            for definition in definitions.get(collection) or []:
                served.setdefault(definition["identifier"], definition)
        for rubric in package.get("CFRubrics") or []:
            index.rubrics.setdefault(rubric["identifier"], rubric)
    return index


async def _hold(request: Request, seconds: float) -> None:
    """Wait before answering, but stop once the client has hung up.

    A client that timed out is gone; returning early keeps server shutdown
    from waiting out the whole delay.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return
        await asyncio.sleep(0.02)


def _resource_of(path: str) -> str:
    for root in CASE_ROOTS:
        if path.startswith(root + "/"):
            return path[len(root) + 1 :]
    return path.lstrip("/")


def _root_of(path: str) -> str:
    return next((root for root in CASE_ROOTS if path.startswith(root)), CASE_ROOTS[1])


def _client_credentials(request: Request, form: Any) -> tuple[str, str]:
    """Client id and secret from HTTP Basic, or else from the form body."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        decoded = base64.b64decode(encoded).decode()
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))


async def _truncated(response: Any) -> Response:
    body = b"".join([chunk async for chunk in response.body_iterator])
    headers = {
        name: value
        for name, value in response.headers.items()
        if name.lower() != "content-length"
    }
    return Response(
        content=body[: len(body) // 2],
        status_code=response.status_code,
        headers=headers,
    )
