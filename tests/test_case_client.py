"""CaseClient against the CASE provider test double, over real HTTP."""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from connectors.case.auth import ApiKeyAuth, OAuth2ClientCredentials
from connectors.case.client import CaseClient, CaseClientConfig, RetryPolicy
from connectors.case.errors import (
    CaseAuthError,
    CaseListChangedError,
    CaseNotFoundError,
    CaseProviderError,
    retry_after_seconds,
)
from tests.case_provider import CaseProvider
from tests.conftest import CASE_DATA_DIR

pytestmark = pytest.mark.anyio

SMARTER_DIR = CASE_DATA_DIR / "smarterbalanced"
RECORDED_LIST = SMARTER_DIR / "cfdocuments-list-response.json"
# Every file there but the recorded list is a CFPackage named <slug>_<id>.json.
SMARTER_PACKAGES = sorted(SMARTER_DIR.glob("*_*.json"))
G3_MATH = SMARTER_DIR / "g3-math-item-spec-c1-th_1796d9a2.json"
CONTENT_SPEC = SMARTER_DIR / "math-content-spec_255adad7.json"
WEBB_DOK = SMARTER_DIR / "webb-dok_b7bc9d8c.json"
CCSS = CASE_DATA_DIR / "opensalt" / "ccss-math_draft-export-2017_D10003FB.json"
COMPEITO = CASE_DATA_DIR / "compeito" / "opencase-export-sample_4f3c6a12.json"

# Retries without waiting long: the tests look at the request log, not clocks.
FAST_RETRIES = RetryPolicy(
    max_attempts=4, initial_backoff=0.01, max_backoff=0.05, jitter=0.01
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def load(path: Path) -> dict[str, Any]:
    return copy.deepcopy(_load(path))


@pytest.fixture
def provider() -> Iterator[CaseProvider]:
    served = CaseProvider([_load(path) for path in SMARTER_PACKAGES])
    with served.serve():
        yield served


def client_for(provider: CaseProvider, **overrides: Any) -> CaseClient:
    settings: dict[str, Any] = {"base_url": provider.url, "retry": FAST_RETRIES}
    settings.update(overrides)
    return CaseClient(CaseClientConfig(**settings))


def offsets(provider: CaseProvider) -> list[int]:
    return [int(r.query["offset"]) for r in provider.requests_to("CFDocuments")]


def statuses(provider: CaseProvider, prefix: str) -> list[int | None]:
    return [r.status for r in provider.requests_to(prefix)]


# Paging


async def test_list_follows_every_page_of_a_recorded_provider_list() -> None:
    listed = _load(RECORDED_LIST)["CFDocuments"]
    recorded = CaseProvider(listed_documents=listed)
    with recorded.serve():
        async with client_for(recorded, version="1.0") as case:
            documents = await case.list_documents(page_size=5)

    # 14 entries on pages of 5: 5 + 5 + 4, the short third page ends the list.
    assert offsets(recorded) == [0, 5, 10]
    assert all(r.raw_path == "/ims/case/v1p0/CFDocuments" for r in recorded.requests)
    # The recorded response lists ddd1045a twice (entries 11 and 12, identical):
    # 14 entries, 13 documents.
    distinct = list({d["identifier"]: d for d in listed}.values())
    assert len(listed) == 14
    assert len(documents) == 13
    assert documents == distinct


async def test_list_stops_once_x_total_count_documents_are_read() -> None:
    recorded = CaseProvider(listed_documents=_load(RECORDED_LIST)["CFDocuments"])
    with recorded.serve():
        async with client_for(recorded) as case:
            documents = await case.list_documents(page_size=7)

    # 7 + 7 = 14 = X-Total-Count: no third request for an empty page.
    assert offsets(recorded) == [0, 7]
    assert len(documents) == 13


async def test_list_reads_every_served_package_under_case_1_0(
    provider: CaseProvider,
) -> None:
    async with client_for(provider, version="1.0") as case:
        documents = await case.list_documents(page_size=3)

    served = [_load(path)["CFDocument"]["identifier"] for path in SMARTER_PACKAGES]
    assert [d["identifier"] for d in documents] == served
    # 8 packages: 3 + 3 + 2.
    assert offsets(provider) == [0, 3, 6]
    assert all(r.raw_path.startswith("/ims/case/v1p0/") for r in provider.requests)


async def test_list_accepts_a_bare_array_without_total_count(
    provider: CaseProvider,
) -> None:
    provider.faults.bare_list = True
    provider.faults.send_total_count = False
    async with client_for(provider) as case:
        documents = await case.list_documents(page_size=4)

    assert len(documents) == len(SMARTER_PACKAGES) == 8
    # 4 + 4 fills both pages and nothing says the list is done: an empty third.
    assert offsets(provider) == [0, 4, 8]


async def test_list_passes_sort_and_order(provider: CaseProvider) -> None:
    async with client_for(provider) as case:
        documents = await case.list_documents(sort="title", order_by="desc")

    titles = [_load(path)["CFDocument"]["title"] for path in SMARTER_PACKAGES]
    assert [d["title"] for d in documents] == sorted(titles, reverse=True)
    (request,) = provider.requests_to("CFDocuments")
    assert request.query == {
        "limit": "100",
        "offset": "0",
        "sort": "title",
        "orderBy": "desc",
    }


async def test_list_restarts_when_the_total_changes_between_pages(
    provider: CaseProvider,
) -> None:
    removed = "f5fcd780-0539-11e8-b5aa-2b654ff8ee27"
    provider.faults.after_list_page(lambda page: provider.remove_package(removed))
    async with client_for(provider) as case:
        documents = await case.list_documents(sort="identifier", page_size=3)

    # First pass: 8 listed on page one, 7 on page two, so start over.
    # Second pass over 7: 3 + 3 + 1.
    assert offsets(provider) == [0, 3, 0, 3, 6]
    assert len(documents) == 7
    assert removed not in {d["identifier"] for d in documents}


async def test_list_without_total_count_keeps_no_duplicate_when_a_document_is_added(
    provider: CaseProvider,
) -> None:
    provider.faults.send_total_count = False
    provider.faults.after_list_page(lambda page: provider.add_package(load(COMPEITO)))
    async with client_for(provider) as case:
        documents = await case.list_documents(sort="identifier", page_size=3)

    # Sorted by identifier, compeito's 4f3c6a12 lands third and pushes b7bc9d8c
    # from page one onto page two; it is read once. Pages: 3, 3, 3, then empty.
    identifiers = [d["identifier"] for d in documents]
    assert offsets(provider) == [0, 3, 6, 9]
    assert len(identifiers) == len(set(identifiers)) == 8
    assert set(identifiers) == {
        _load(path)["CFDocument"]["identifier"] for path in SMARTER_PACKAGES
    }


async def test_list_gives_up_when_it_never_settles(provider: CaseProvider) -> None:
    def add_another(page: int) -> None:
        package = load(WEBB_DOK)
        package["CFDocument"]["identifier"] = f"00000000-0000-0000-0000-{page:012d}"
        provider.add_package(package)

    provider.faults.after_list_page(add_another, times=None)
    async with client_for(provider, list_restarts=2) as case:
        with pytest.raises(CaseListChangedError) as raised:
            await case.list_documents(page_size=3)

    # Three passes (the first and two restarts), each stopped at page two.
    assert offsets(provider) == [0, 3, 0, 3, 0, 3]
    assert "changed while paging 3 times" in str(raised.value)
    assert "X-Total-Count went from" in str(raised.value)


# Fetching by identifier


@pytest.mark.parametrize("path", SMARTER_PACKAGES, ids=lambda path: path.stem)
async def test_package_fetch_returns_the_served_file(
    provider: CaseProvider, path: Path
) -> None:
    expected = _load(path)
    async with client_for(provider) as case:
        package = await case.get_package(expected["CFDocument"]["identifier"])

    assert package == expected
    assert len(package["CFItems"]) == len(expected["CFItems"])
    assert len(package["CFAssociations"]) == len(expected["CFAssociations"])


async def test_package_counts_match_the_published_sources(
    provider: CaseProvider,
) -> None:
    async with client_for(provider) as case:
        g3 = await case.get_package("1796d9a2-d5ee-11e7-b39f-71a145b86a18")
        content = await case.get_package("255adad7-2854-47d7-9aa4-c5e1750eb8ca")

    # Counts from SOURCES.md: g3 item spec 48 items / 67 associations; content
    # specification 585 items / 3368 associations.
    assert (len(g3["CFItems"]), len(g3["CFAssociations"])) == (48, 67)
    assert (len(content["CFItems"]), len(content["CFAssociations"])) == (585, 3368)


async def test_identifier_that_is_a_url_is_percent_encoded_into_one_segment() -> None:
    ccss = CaseProvider([_load(CCSS)])
    with ccss.serve():
        async with client_for(ccss, version="1.0") as case:
            package = await case.get_package("http://purl.org/ASN/resources/D10003FB")

    assert len(package["CFItems"]) == 703
    (request,) = ccss.requests
    assert request.raw_path == (
        "/ims/case/v1p0/CFPackages/http%3A%2F%2Fpurl.org%2FASN%2Fresources%2FD10003FB"
    )


async def test_urls_come_from_base_and_identifier_never_from_uri(
    provider: CaseProvider,
) -> None:
    # A content-spec association whose destination uri is `local:`; the
    # identifier is a Webb DOK item.
    dok_items = {item["identifier"]: item for item in _load(WEBB_DOK)["CFItems"]}
    association = next(
        a
        for a in _load(CONTENT_SPEC)["CFAssociations"]
        if a["destinationNodeURI"]["uri"].startswith("local:")
        and a["destinationNodeURI"]["identifier"] in dok_items
    )
    destination = association["destinationNodeURI"]
    expected = dok_items[destination["identifier"]]
    async with client_for(provider) as case:
        item = await case.get_item(destination["identifier"])
        fetched = await case.get_association(association["identifier"])

    assert item == expected
    assert fetched == association
    # The association's own uri is on case.smarterbalanced.org; both requests
    # still went to the configured provider, by identifier.
    assert association["uri"].startswith("https://case.smarterbalanced.org/")
    assert [r.raw_path for r in provider.requests] == [
        f"/ims/case/v1p1/CFItems/{destination['identifier']}",
        f"/ims/case/v1p1/CFAssociations/{association['identifier']}",
    ]


async def test_item_associations_and_definitions(provider: CaseProvider) -> None:
    g3 = _load(G3_MATH)
    item = g3["CFItems"][5]
    touching = [
        a
        for a in g3["CFAssociations"]
        if item["identifier"]
        in (a["originNodeURI"]["identifier"], a["destinationNodeURI"]["identifier"])
    ]
    item_type = g3["CFDefinitions"]["CFItemTypes"][0]
    subject = g3["CFDefinitions"]["CFSubjects"][0]
    async with client_for(provider) as case:
        item_set = await case.get_item_associations(item["identifier"])
        item_types = await case.get_item_types(item_type["identifier"])
        subjects = await case.get_subjects(subject["identifier"])

    assert item_set["CFItem"] == item
    assert item_set["CFAssociations"] == touching
    assert item_types == {"CFItemTypes": [item_type]}
    assert subjects == {"CFSubjects": [subject]}


async def test_unknown_identifier_surfaces_the_providers_imsx_description(
    provider: CaseProvider,
) -> None:
    async with client_for(provider) as case:
        with pytest.raises(CaseNotFoundError) as raised:
            await case.get_package("no-such-document")

    error = raised.value
    assert error.status == 404
    assert error.description == "Unknown CFPackages identifier no-such-document"
    assert error.code_minor == ("unknownobject",)
    assert error.url == f"{provider.url}/ims/case/v1p1/CFPackages/no-such-document"
    assert "Unknown CFPackages identifier no-such-document" in str(error)
    assert statuses(provider, "CFPackages/") == [404]


async def test_imsx_error_is_surfaced_with_description_and_code_minor(
    provider: CaseProvider,
) -> None:
    provider.faults.imsx_error_next(
        "CFDocuments", status=400, description="sort field 'colour' is not supported"
    )
    async with client_for(provider) as case:
        with pytest.raises(CaseProviderError) as raised:
            await case.list_documents(sort="colour")

    error = raised.value
    assert error.status == 400
    assert error.description == "sort field 'colour' is not supported"
    assert error.code_minor == ("invalid_selection_field",)
    assert "answered 400 to GET" in str(error)
    assert statuses(provider, "CFDocuments") == [400]


# Retries


async def test_retries_after_500s_then_succeeds(provider: CaseProvider) -> None:
    provider.faults.fail_next("CFPackages/", times=2, status=500)
    async with client_for(provider) as case:
        package = await case.get_package("b7bc9d8c-cb5f-4dc8-96da-13ce635053d1")

    assert len(package["CFItems"]) == 15
    assert statuses(provider, "CFPackages/") == [500, 500, 200]


async def test_429_waits_for_retry_after(provider: CaseProvider) -> None:
    provider.faults.rate_limit_next("CFItems/", retry_after="1")
    item = _load(WEBB_DOK)["CFItems"][0]
    with capture_logs() as logs:
        async with client_for(provider) as case:
            fetched = await case.get_item(item["identifier"])

    assert fetched == item
    assert statuses(provider, "CFItems/") == [429, 200]
    retries = [entry for entry in logs if entry["event"] == "case_request_retry"]
    assert [(r["reason"], r["wait_seconds"]) for r in retries] == [("429", 1.0)]


async def test_retry_after_beyond_the_limit_fails_at_once(
    provider: CaseProvider,
) -> None:
    provider.faults.rate_limit_next("CFItems/", retry_after="3600")
    async with client_for(provider) as case:
        with pytest.raises(CaseProviderError) as raised:
            await case.get_item(_load(WEBB_DOK)["CFItems"][0]["identifier"])

    assert statuses(provider, "CFItems/") == [429]
    assert "retry after 3600 s, longer than the 120 s" in str(raised.value)
    assert raised.value.description == "server busy, retry later"


async def test_gives_up_after_the_retry_cap(provider: CaseProvider) -> None:
    provider.faults.fail_next("CFPackages/", times=10, status=503)
    retry = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)
    async with client_for(provider, retry=retry) as case:
        with pytest.raises(CaseProviderError) as raised:
            await case.get_package("b7bc9d8c-cb5f-4dc8-96da-13ce635053d1")

    assert statuses(provider, "CFPackages/") == [503, 503, 503]
    message = str(raised.value)
    assert "answered 503" in message
    assert "injected failure 503" in message
    assert "still failing after 3 attempt(s)" in message


async def test_timeouts_are_retried(provider: CaseProvider) -> None:
    provider.faults.slow_next("CFItems/", seconds=1.5)
    item = _load(WEBB_DOK)["CFItems"][0]
    async with client_for(provider, read_timeout=0.3) as case:
        fetched = await case.get_item(item["identifier"])

    assert fetched == item
    assert len(provider.requests_to("CFItems/")) == 2


async def test_timeouts_give_up_after_the_retry_cap(provider: CaseProvider) -> None:
    provider.faults.slow_next("CFItems/", times=2, seconds=1.5)
    retry = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02)
    async with client_for(provider, read_timeout=0.3, retry=retry) as case:
        with pytest.raises(CaseProviderError) as raised:
            await case.get_item(_load(WEBB_DOK)["CFItems"][0]["identifier"])

    assert len(provider.requests_to("CFItems/")) == 2
    assert "failed after 2 attempt(s): ReadTimeout" in str(raised.value)


# Unusable bodies


async def test_truncated_json_is_a_clear_error(provider: CaseProvider) -> None:
    provider.faults.truncate_next("CFPackages/")
    async with client_for(provider) as case:
        with pytest.raises(CaseProviderError) as raised:
            await case.get_package("b7bc9d8c-cb5f-4dc8-96da-13ce635053d1")

    message = str(raised.value)
    assert "answered 200 with invalid JSON" in message
    assert "the body looks cut short" in message
    assert not isinstance(raised.value.__cause__, json.JSONDecodeError)
    assert statuses(provider, "CFPackages/") == [200]


async def test_html_error_page_is_a_clear_error_once_retries_are_spent(
    provider: CaseProvider,
) -> None:
    provider.faults.html_error_next("CFPackages/", times=2, status=502)
    retry = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02)
    async with client_for(provider, retry=retry) as case:
        with pytest.raises(CaseProviderError) as raised:
            await case.get_package("b7bc9d8c-cb5f-4dc8-96da-13ce635053d1")

    message = str(raised.value)
    assert "answered 502" in message
    assert "an HTML page instead of JSON" in message
    assert "502 Bad Gateway" in message
    assert statuses(provider, "CFPackages/") == [502, 502]


async def test_html_page_served_as_success_is_a_clear_error(
    provider: CaseProvider,
) -> None:
    provider.faults.fail_next(
        "CFDocuments",
        status=200,
        body=b"<!DOCTYPE html><html><head><title>Sign in</title></head></html>",
        content_type="text/html; charset=utf-8",
    )
    async with client_for(provider) as case:
        with pytest.raises(CaseProviderError) as raised:
            await case.list_documents()

    assert "answered 200 with an HTML page instead of JSON" in str(raised.value)
    assert "Sign in" in str(raised.value)


async def test_empty_error_body_is_named(provider: CaseProvider) -> None:
    provider.faults.fail_next(
        "CFItems/", status=403, body=b"", content_type="text/plain"
    )
    async with client_for(provider) as case:
        with pytest.raises(CaseAuthError) as raised:
            await case.get_item("anything")

    assert "answered 403 to GET" in str(raised.value)
    assert "an empty body" in str(raised.value)


async def test_redirect_is_not_followed(provider: CaseProvider) -> None:
    provider.faults.fail_next(
        "CFItems/",
        status=301,
        body=b"",
        headers={"Location": "https://elsewhere.example/ims/case/v1p1/CFItems/x"},
    )
    async with client_for(provider) as case:
        with pytest.raises(CaseProviderError) as raised:
            await case.get_item("x")

    assert "redirected (301) to https://elsewhere.example/" in str(raised.value)
    assert len(provider.requests) == 1


# Authentication


async def test_api_key_is_sent_in_the_configured_header(
    provider: CaseProvider,
) -> None:
    provider.require_api_key("s3cret", header="X-Case-Key")
    auth = ApiKeyAuth("s3cret", header="X-Case-Key")
    async with client_for(provider, auth=auth) as case:
        documents = await case.list_documents(page_size=5)

    assert len(documents) == 8
    assert [r.headers["x-case-key"] for r in provider.requests] == ["s3cret"] * 2


async def test_wrong_api_key_is_an_auth_error(provider: CaseProvider) -> None:
    provider.require_api_key("s3cret")
    async with client_for(provider, auth=ApiKeyAuth("guess")) as case:
        with pytest.raises(CaseAuthError) as raised:
            await case.list_documents()

    assert raised.value.status == 401
    assert raised.value.description == "missing or wrong API key in X-API-Key"


async def test_oauth_token_is_fetched_once_and_reused(provider: CaseProvider) -> None:
    provider.require_oauth(client_id="sync", client_secret="pw", scope="case.read")
    auth = OAuth2ClientCredentials(
        token_url=provider.token_url,
        client_id="sync",
        client_secret="pw",
        scope="case.read",
    )
    items = _load(WEBB_DOK)["CFItems"][:6]
    async with client_for(provider, auth=auth) as case:
        fetched = await asyncio.gather(
            *(case.get_item(item["identifier"]) for item in items)
        )
        await case.list_documents()

    assert fetched == items
    assert provider.tokens_issued == 1
    (token_request,) = provider.requests_to("oauth/token")
    assert token_request.headers["authorization"].startswith("Basic ")
    bearers = {r.headers["authorization"] for r in provider.requests_to("CF")}
    assert len(provider.requests_to("CF")) == 7
    assert len(bearers) == 1
    assert bearers.pop().startswith("Bearer ")


async def test_oauth_token_rejected_early_is_fetched_again(
    provider: CaseProvider,
) -> None:
    provider.require_oauth(client_id="sync", client_secret="pw")
    auth = OAuth2ClientCredentials(
        token_url=provider.token_url, client_id="sync", client_secret="pw"
    )
    item = _load(WEBB_DOK)["CFItems"][0]
    async with client_for(provider, auth=auth) as case:
        await case.get_item(item["identifier"])
        provider.revoke_tokens()
        fetched = await case.get_item(item["identifier"])

    assert fetched == item
    assert provider.tokens_issued == 2
    assert [(r.resource.split("/")[0], r.status) for r in provider.requests] == [
        ("oauth", 200),
        ("CFItems", 200),
        ("CFItems", 401),
        ("oauth", 200),
        ("CFItems", 200),
    ]


async def test_oauth_token_about_to_expire_is_not_reused(
    provider: CaseProvider,
) -> None:
    # A 20 s token is inside the client's 30 s refresh margin from the start.
    provider.require_oauth(client_id="sync", client_secret="pw", expires_in=20)
    auth = OAuth2ClientCredentials(
        token_url=provider.token_url, client_id="sync", client_secret="pw"
    )
    item = _load(WEBB_DOK)["CFItems"][0]
    async with client_for(provider, auth=auth) as case:
        await case.get_item(item["identifier"])
        await case.get_item(item["identifier"])

    assert provider.tokens_issued == 2
    assert statuses(provider, "CFItems/") == [200, 200]


async def test_oauth_token_endpoint_failure_is_retried(
    provider: CaseProvider,
) -> None:
    provider.require_oauth(client_id="sync", client_secret="pw")
    provider.faults.fail_next("oauth/token", status=503)
    auth = OAuth2ClientCredentials(
        token_url=provider.token_url, client_id="sync", client_secret="pw"
    )
    async with client_for(provider, auth=auth) as case:
        documents = await case.list_documents()

    assert len(documents) == 8
    assert statuses(provider, "oauth/token") == [503, 200]


async def test_oauth_wrong_secret_is_an_auth_error(provider: CaseProvider) -> None:
    provider.require_oauth(client_id="sync", client_secret="pw")
    auth = OAuth2ClientCredentials(
        token_url=provider.token_url, client_id="sync", client_secret="nope"
    )
    async with client_for(provider, auth=auth) as case:
        with pytest.raises(CaseAuthError) as raised:
            await case.list_documents()

    assert "refused client 'sync' with 401: invalid_client: unknown client" in str(
        raised.value
    )
    assert provider.requests_to("CF") == []


# Concurrency and configuration


async def test_concurrent_requests_are_capped(provider: CaseProvider) -> None:
    # Each answer is held long enough that uncapped requests would overlap.
    provider.faults.delay_every_request = 0.2
    items = _load(WEBB_DOK)["CFItems"][:6]
    async with client_for(provider, max_concurrency=2) as case:
        fetched = await asyncio.gather(
            *(case.get_item(item["identifier"]) for item in items)
        )

    assert fetched == items
    assert provider.peak_in_flight == 2


def test_base_url_may_end_in_its_version_root() -> None:
    config = CaseClientConfig(base_url="https://case.example.org/ims/case/v1p1/")
    assert config.api_root == "https://case.example.org/ims/case/v1p1"


@pytest.mark.parametrize(
    ("base_url", "problem"),
    [
        ("https://case.example.org/ims/case/v1p0", "points at CASE 1.0"),
        ("case.example.org", "must be an http(s) URL"),
        ("ftp://case.example.org", "must be an http(s) URL"),
    ],
)
def test_bad_base_url_is_refused(base_url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        CaseClientConfig(base_url=base_url, version="1.1")


async def test_empty_identifier_is_refused(provider: CaseProvider) -> None:
    async with client_for(provider) as case:
        with pytest.raises(ValueError, match="an identifier is needed"):
            await case.get_item(" ")
    assert provider.requests == []


def test_retry_after_as_an_http_date_in_the_past_means_now() -> None:
    response = httpx.Response(
        429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    )
    assert retry_after_seconds(response) == 0.0
