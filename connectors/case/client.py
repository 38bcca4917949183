"""An asynchronous client for CASE 1.0 and 1.1 providers (1EdTech REST binding).

Every URL is built from the configured base URL, the version's root
(`/ims/case/v1p0/` or `/ims/case/v1p1/`) and a percent-encoded identifier. An
object's `uri` is never followed: real providers publish `local:` and `urn:`
uris, or uris on hosts other than the one that serves the data.

    config = CaseClientConfig(base_url="https://case.example.org", version="1.1")
    async with CaseClient(config) as case:
        for document in await case.list_documents():
            package = await case.get_package(document["identifier"])

Transient failures (429, 5xx, timeouts, dropped connections) are retried with
exponential backoff and jitter, honouring Retry-After. Everything else, and
anything still failing once the retries are spent, is a `CaseProviderError`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from connectors.case.errors import (
    CaseAuthError,
    CaseListChangedError,
    CaseNotFoundError,
    CaseProviderError,
    RetryableResponse,
    body_excerpt,
    imsx_status_from,
)

log = structlog.get_logger()

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_TRANSPORT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)

JsonObject = dict[str, Any]


class CaseVersion(StrEnum):
    V1P0 = "1.0"
    V1P1 = "1.1"

    @property
    def root(self) -> str:
        return "/ims/case/v1p0" if self is CaseVersion.V1P0 else "/ims/case/v1p1"


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How hard to insist on a provider that answers 429, 5xx or not at all.

    `max_attempts` counts the first try, so 4 means up to 3 retries. A
    Retry-After longer than `max_retry_after` is not waited for: the request
    fails at once rather than holding a sync for an hour.
    """

    max_attempts: int = 4
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.initial_backoff, self.max_backoff, self.jitter) < 0:
            raise ValueError("backoff and jitter must not be negative")


@dataclass(frozen=True, kw_only=True)
class CaseClientConfig:
    """Where a CASE provider is and how to talk to it.

    `base_url` is the provider's root, before `/ims/case/...`; a URL that
    already ends in the configured version's root is accepted as well.
    `auth` is None, `ApiKeyAuth` or `OAuth2ClientCredentials` from
    `connectors.case.auth`.
    """

    base_url: str
    version: CaseVersion | Literal["1.0", "1.1"] = CaseVersion.V1P1
    auth: httpx.Auth | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_concurrency: int = 4
    page_size: int = 100
    list_restarts: int = 2
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        version = CaseVersion(self.version)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "base_url", _provider_root(self.base_url, version))
        if self.max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")
        if self.list_restarts < 0:
            raise ValueError("list_restarts must not be negative")

    @property
    def api_root(self) -> str:
        return self.base_url + CaseVersion(self.version).root


def _provider_root(base_url: str, version: CaseVersion) -> str:
    url = httpx.URL(base_url.strip())
    if url.scheme not in {"http", "https"} or not url.host:
        raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
    root = str(url.copy_with(query=None, fragment=None)).rstrip("/")
    for other in CaseVersion:
        if root.endswith(other.root):
            if other is not version:
                raise ValueError(
                    f"base_url {base_url!r} points at CASE {other.value} but "
                    f"version is {version.value}"
                )
            root = root.removesuffix(other.root)
    return root


class CaseClient:
    """Read CFDocuments, CFPackages and their parts from one CASE provider.

    Use it as an async context manager; it owns one `httpx.AsyncClient`. At
    most `max_concurrency` requests are in flight at once, whatever the number
    of tasks calling it.
    """

    def __init__(self, config: CaseClientConfig) -> None:
        self.config = config
        self._semaphore = asyncio.Semaphore(config.max_concurrency)
        self._http = httpx.AsyncClient(
            auth=config.auth,
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def list_documents(
        self,
        *,
        sort: str | None = None,
        order_by: Literal["asc", "desc"] | None = None,
        page_size: int | None = None,
    ) -> list[JsonObject]:
        """Every CFDocument the provider lists (getAllCFDocuments), all pages.

        Paging stops at a short page, or once X-Total-Count documents are read.
        When X-Total-Count moves between pages the list changed under us
        (offsets shifted, so a document may have been skipped): it is read
        again from the start, up to `list_restarts` times. A document listed
        twice is kept once; real providers do list the same document twice.
        Without X-Total-Count a change between pages cannot be seen.
        """
        if order_by not in (None, "asc", "desc"):
            raise ValueError(f"order_by must be 'asc' or 'desc', got {order_by!r}")
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        limit = page_size or self.config.page_size
        for attempt in range(self.config.list_restarts + 1):
            try:
                return await self._read_document_pages(
                    limit=limit, sort=sort, order_by=order_by
                )
            except _ListChanged as change:
                log.warning(
                    "case_document_list_changed",
                    url=self._url("CFDocuments"),
                    attempt=attempt + 1,
                    reason=change.reason,
                )
                last_change = change
        raise CaseListChangedError(
            f"the CFDocuments list at {self._url('CFDocuments')} changed while "
            f"paging {self.config.list_restarts + 1} times in a row "
            f"({last_change.reason})",
            url=self._url("CFDocuments"),
        )

    async def get_document(self, identifier: str) -> JsonObject:
        return await self._get_object("CFDocuments", identifier, wrapper="CFDocument")

    async def get_package(self, identifier: str) -> JsonObject:
        """The CFPackage of one CFDocument: the document, its items and associations."""
        url = self._url("CFPackages", identifier)
        package = await self._get_object("CFPackages", identifier, wrapper="CFPackage")
        if not isinstance(package.get("CFDocument"), dict):
            raise CaseProviderError(
                f"GET {url} answered a JSON object without a CFDocument; "
                "it is not a CFPackage",
                url=url,
                status=200,
            )
        return package

    async def get_item(self, identifier: str) -> JsonObject:
        return await self._get_object("CFItems", identifier, wrapper="CFItem")

    async def get_association(self, identifier: str) -> JsonObject:
        return await self._get_object(
            "CFAssociations", identifier, wrapper="CFAssociation"
        )

    async def get_item_associations(self, identifier: str) -> JsonObject:
        """A CFAssociationSet: `{"CFItem": {...}, "CFAssociations": [...]}`."""
        return await self._get_object("CFItemAssociations", identifier)

    async def get_association_grouping(self, identifier: str) -> JsonObject:
        return await self._get_object(
            "CFAssociationGroupings", identifier, wrapper="CFAssociationGrouping"
        )

    async def get_concepts(self, identifier: str) -> JsonObject:
        """A CFConceptSet: the concept first, then its children by hierarchyCode."""
        return await self._get_object("CFConcepts", identifier)

    async def get_subjects(self, identifier: str) -> JsonObject:
        """A CFSubjectSet: the subject first, then its children."""
        return await self._get_object("CFSubjects", identifier)

    async def get_item_types(self, identifier: str) -> JsonObject:
        """A CFItemTypeSet: the item type first, then its children."""
        return await self._get_object("CFItemTypes", identifier)

    async def get_license(self, identifier: str) -> JsonObject:
        return await self._get_object("CFLicenses", identifier, wrapper="CFLicense")

    async def get_rubric(self, identifier: str) -> JsonObject:
        return await self._get_object("CFRubrics", identifier, wrapper="CFRubric")

    async def _read_document_pages(
        self, *, limit: int, sort: str | None, order_by: str | None
    ) -> list[JsonObject]:
        documents: list[JsonObject] = []
        seen: set[str] = set()
        first_total: int | None = None
        offset = 0
        while True:
            params = _page_params(
                limit=limit, offset=offset, sort=sort, order_by=order_by
            )
            response = await self._get("CFDocuments", params=params)
            page = _documents_in(response)
            total = _total_count(response)

            if offset == 0:
                first_total = total
            elif total != first_total:
                raise _ListChanged(f"X-Total-Count went from {first_total} to {total}")
            offset += len(page)
            for document in page:
                if document["identifier"] in seen:
                    log.info(
                        "case_document_listed_twice",
                        url=str(response.request.url),
                        identifier=document["identifier"],
                    )
                    continue
                seen.add(document["identifier"])
                documents.append(document)

            if _is_last_page(
                page_length=len(page), limit=limit, read=offset, total=total
            ):
                return documents

    async def _get_object(
        self, collection: str, identifier: str, *, wrapper: str | None = None
    ) -> JsonObject:
        response = await self._get(collection, identifier)
        payload = _decoded_json(response)
        if not isinstance(payload, dict):
            raise CaseProviderError(
                f"GET {response.request.url} answered JSON "
                f"{type(payload).__name__}, not an object",
                url=str(response.request.url),
                status=response.status_code,
            )
        # Some providers wrap a single object in its type name; the binding does not.
        if wrapper and set(payload) == {wrapper} and isinstance(payload[wrapper], dict):
            return payload[wrapper]
        return payload

    def _url(self, collection: str, identifier: str | None = None) -> str:
        url = f"{self.config.api_root}/{collection}"
        if identifier is None:
            return url
        if not identifier or not identifier.strip():
            raise ValueError(f"an identifier is needed to fetch {collection}")
        return f"{url}/{quote(identifier, safe='')}"

    async def _get(
        self,
        collection: str,
        identifier: str | None = None,
        *,
        params: dict[str, str | int] | None = None,
    ) -> httpx.Response:
        """One GET with retries; a non-success answer becomes a CaseProviderError."""
        url = self._url(collection, identifier)
        retrying = AsyncRetrying(
            stop=stop_any(
                stop_after_attempt(self.config.retry.max_attempts),
                _RetryAfterTooLong(self.config.retry.max_retry_after),
            ),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            before_sleep=self._log_retry,
            reraise=True,
        )
        attempts = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    response = await self._send(url, params)
        except RetryableResponse as exc:
            raise self._gave_up(exc, attempts=attempts) from None
        except httpx.TransportError as exc:
            raise CaseProviderError(
                f"GET {url} failed after {attempts} attempt(s): "
                f"{type(exc).__name__}: {exc or 'no detail'}",
                url=url,
            ) from exc
        return _successful(response)

    async def _send(
        self, url: str, params: dict[str, str | int] | None
    ) -> httpx.Response:
        async with self._semaphore:
            response = await self._http.get(url, params=params)
        if response.status_code in RETRYABLE_STATUSES:
            raise RetryableResponse(response)
        return response

    def _wait(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, RetryableResponse) and error.retry_after is not None:
            return error.retry_after
        policy = self.config.retry
        backoff = wait_exponential_jitter(
            multiplier=policy.initial_backoff,
            max=policy.max_backoff,
            jitter=policy.jitter,
        )
        return float(backoff(retry_state))

    def _log_retry(self, retry_state: RetryCallState) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        reason = (
            str(error.response.status_code)
            if isinstance(error, RetryableResponse)
            else type(error).__name__
        )
        log.warning(
            "case_request_retry",
            url=_url_of(error),
            attempt=retry_state.attempt_number,
            reason=reason,
            wait_seconds=retry_state.upcoming_sleep,
        )

    def _gave_up(self, error: RetryableResponse, *, attempts: int) -> CaseProviderError:
        response = error.response
        limit = self.config.retry.max_retry_after
        if error.retry_after is not None and error.retry_after > limit:
            why = (
                f"it asked to retry after {error.retry_after:g} s, longer than "
                f"the {limit:g} s this client waits"
            )
        else:
            why = f"still failing after {attempts} attempt(s)"
        return _error_from(response, context=why)


class _RetryAfterTooLong(stop_base):
    """Stop when the provider asks for a longer pause than we are willing to take."""

    def __init__(self, limit: float) -> None:
        self._limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        return (
            isinstance(error, RetryableResponse)
            and error.retry_after is not None
            and error.retry_after > self._limit
        )


class _ListChanged(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, (RetryableResponse, *TRANSIENT_TRANSPORT_ERRORS))


def _url_of(error: BaseException | None) -> str | None:
    if isinstance(error, RetryableResponse):
        return str(error.response.request.url)
    if isinstance(error, httpx.RequestError):
        try:
            return str(error.request.url)
        except RuntimeError:
            return None
    return None


def _page_params(
    *, limit: int, offset: int, sort: str | None, order_by: str | None
) -> dict[str, str | int]:
    params: dict[str, str | int] = {"limit": limit, "offset": offset}
    if sort:
        params["sort"] = sort
    if order_by:
        params["orderBy"] = order_by
    return params


def _is_last_page(
    *, page_length: int, limit: int, read: int, total: int | None
) -> bool:
    """Whether paging is done.

    A short page ends the list. So does a page longer than asked for: the
    provider ignored `limit` and sent everything at once.
    """
    if page_length != limit:
        return True
    return total is not None and read >= total


def _documents_in(response: httpx.Response) -> list[JsonObject]:
    """One list page's CFDocuments, from `{"CFDocuments": [...]}` or a bare list."""
    payload = _decoded_json(response)
    url = str(response.request.url)
    documents = payload.get("CFDocuments") if isinstance(payload, dict) else payload
    if not isinstance(documents, list):
        raise CaseProviderError(
            f"GET {url} answered without a CFDocuments list: {body_excerpt(response)}",
            url=url,
            status=response.status_code,
        )
    for index, document in enumerate(documents):
        if not isinstance(document, dict) or not isinstance(
            document.get("identifier"), str
        ):
            raise CaseProviderError(
                f"GET {url}: CFDocuments[{index}] has no string identifier",
                url=url,
                status=response.status_code,
            )
    return documents


def _total_count(response: httpx.Response) -> int | None:
    value = response.headers.get("X-Total-Count")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        log.warning(
            "case_total_count_ignored", url=str(response.request.url), value=value
        )
        return None


def _successful(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    if response.is_redirect:
        location = response.headers.get("Location", "nowhere")
        raise CaseProviderError(
            f"GET {response.request.url} redirected ({response.status_code}) to "
            f"{location}; configure the provider's final base URL instead",
            url=str(response.request.url),
            status=response.status_code,
        )
    raise _error_from(response)


def _error_from(response: httpx.Response, *, context: str = "") -> CaseProviderError:
    """Describe an error answer in a sentence: imsx description, page, or text."""
    url = str(response.request.url)
    status = response.status_code
    imsx = imsx_status_from(_json_or_none(response))
    if imsx is not None:
        detail = imsx.description or f"imsx_codeMajor {imsx.code_major}"
        if imsx.code_minor:
            detail += f" ({', '.join(imsx.code_minor)})"
    elif _looks_like_html(response):
        detail = f"an HTML page instead of JSON: {body_excerpt(response)}"
    else:
        detail = body_excerpt(response)
    message = (
        f"CASE provider answered {status} to {response.request.method} {url}: {detail}"
    )
    if context:
        message += f"; {context}"

    error_type = CaseProviderError
    if status in (401, 403):
        error_type = CaseAuthError
    elif status == 404:
        error_type = CaseNotFoundError
    return error_type(
        message,
        url=url,
        status=status,
        description=imsx.description if imsx else None,
        code_minor=imsx.code_minor if imsx else (),
    )


def _decoded_json(response: httpx.Response) -> Any:
    url = str(response.request.url)
    if _looks_like_html(response):
        raise CaseProviderError(
            f"GET {url} answered {response.status_code} with an HTML page instead "
            f"of JSON: {body_excerpt(response)}",
            url=url,
            status=response.status_code,
        )
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise CaseProviderError(
            f"GET {url} answered {response.status_code} with invalid JSON "
            f"({_json_problem(exc)}): "
            f"{body_excerpt(response)}",
            url=url,
            status=response.status_code,
        ) from None


def _json_problem(error: ValueError) -> str:
    if not isinstance(error, json.JSONDecodeError):
        return str(error)
    length = len(error.doc)
    if not error.doc.strip():
        return "the body is empty"
    problem = f"{error.msg} at character {error.pos} of {length}"
    # Both mean the decoder ran out of input before the JSON value ended.
    ran_out = error.pos >= len(error.doc.rstrip()) - 1
    if ran_out or error.msg.startswith("Unterminated string"):
        problem += "; the body looks cut short"
    return problem


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _looks_like_html(response: httpx.Response) -> bool:
    content_type = response.headers.get("Content-Type", "")
    if "html" in content_type:
        return True
    start = response.content[:64].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))
