"""Publishing what we hold as a CASE provider: strict output, checked against
1EdTech's CFPackage schema, imsx errors, private frameworks, and our own
CASE client reading it back over real HTTP."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jsonschema import Draft201909Validator
from sqlalchemy.orm import Session

from app.crosswalks.service import CrosswalkRequest, add_crosswalk
from app.frameworks.models import Framework
from app.frameworks.service import import_package
from app.organizations.models import Organization
from app.settings import Settings
from connectors.case.client import CaseClient, CaseClientConfig
from connectors.case.package import read_package
from tests.conftest import CASE_DATA_DIR, LiveServer, bearer_token_for

SCHEMA_PATH = CASE_DATA_DIR / "schemas" / "case-v1p1-cfpackage.official.json"
# Every real package: the synthetic one is filler, the list is not a package.
REAL_PACKAGES = sorted(
    path
    for path in CASE_DATA_DIR.rglob("*.json")
    if path.relative_to(CASE_DATA_DIR).parts[0] not in {"schemas", "synthetic"}
    and path.name != "cfdocuments-list-response.json"
)
OPENSALT = CASE_DATA_DIR / "opensalt"
WSCB = OPENSALT / "what-standards-could-be_20c5134f.json"
CCSS = OPENSALT / "ccss-math_draft-export-2017_D10003FB.json"
EDGE = sorted((OPENSALT / "edge").glob("*.json"))
V1P1 = "/ims/case/v1p1"
V1P0 = "/ims/case/v1p0"

CCSS_6_RP_A = "http://purl.org/ASN/resources/S11434C1"
# uuid5(NAMESPACE_URL, CCSS_6_RP_A): the name WSCB's exactMatchOf uses.
CCSS_6_RP_A_ALIAS = "5b6c487e-04f1-5ba9-9722-d099849b9167"
WSCB_6_RP_A = "edfce0e7-dbbf-40d5-af1a-baccabef85e9"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def imported(session: Session, *paths: Path) -> list[Framework]:
    return [import_package(session, package=load(p)).framework for p in paths]


def strict_validator() -> Draft201909Validator:
    """The official schema with its formats (uuid, date-time, date) enforced."""
    schema = load(SCHEMA_PATH)
    return Draft201909Validator(
        schema, format_checker=Draft201909Validator.FORMAT_CHECKER
    )


def schema_errors(package: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in strict_validator().iter_errors(package)
    ]


def nulls(value: Any, path: str = "") -> list[str]:
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in nulls(item, f"{path}/{key}")]
    if isinstance(value, list):
        return [
            p
            for index, item in enumerate(value)
            for p in nulls(item, f"{path}/{index}")
        ]
    return []


def documents(client: TestClient, root: str = V1P1) -> list[dict[str, Any]]:
    response = client.get(f"{root}/CFDocuments", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return response.json()["CFDocuments"]


def by_title(client: TestClient, title: str) -> dict[str, Any]:
    [document] = [d for d in documents(client) if d["title"] == title]
    return document


# The schema check


def test_the_validator_enforces_formats() -> None:
    # A package keeping an ASN URL as its identifier is what we must never serve.
    package = {
        "CFDocument": {
            "identifier": CCSS_6_RP_A,
            "uri": "http://x/ims/case/v1p1/CFDocuments/x",
            "creator": "c",
            "title": "t",
            "lastChangeDateTime": "2017-01-06 10:00",
        }
    }

    errors = schema_errors(package)

    assert any("identifier" in error for error in errors)
    assert any("lastChangeDateTime" in error for error in errors)


def test_every_real_package_is_served_valid_in_both_versions(
    anonymous_client: TestClient, session: Session, settings: Settings
) -> None:
    assert len(REAL_PACKAGES) == 17
    for path in REAL_PACKAGES:
        import_package(session, package=load(path))
    _add_district_crosswalk(session)
    served = documents(anonymous_client)
    # 17 packages, and the district crosswalks document.
    assert len(served) == 18
    assert len({d["identifier"].lower() for d in served}) == 18

    for root in (V1P1, V1P0):
        for document in documents(anonymous_client, root):
            url = f"{root}/CFPackages/{quote(document['identifier'], safe='')}"
            response = anonymous_client.get(url)
            assert response.status_code == 200, (url, response.text)
            package = response.json()

            assert schema_errors(package) == [], document["title"]
            assert nulls(package) == [], document["title"]
            _assert_our_uris(package, settings.public_url + root)


def _assert_our_uris(package: dict[str, Any], root: str) -> None:
    assert package["CFDocument"]["uri"].startswith(root + "/CFDocuments/")
    for item in package["CFItems"]:
        assert item["uri"] == f"{root}/CFItems/{quote(item['identifier'], safe='')}"
        assert item["lastChangeDateTime"].endswith("Z")
    for association in package["CFAssociations"]:
        assert association["uri"].startswith(root + "/CFAssociations/")
        assert association["lastChangeDateTime"].endswith("Z")


def _add_district_crosswalk(session: Session) -> None:
    add_crosswalk(
        session,
        request=CrosswalkRequest(
            origin=CCSS_6_RP_A,
            association_type="isRelatedTo",
            destination=WSCB_6_RP_A,
        ),
    )


# Identifiers


def test_non_uuid_identifiers_are_published_under_their_uuid5_alias(
    anonymous_client: TestClient, session: Session
) -> None:
    imported(session, CCSS, WSCB)

    item = anonymous_client.get(f"{V1P1}/CFItems/{CCSS_6_RP_A_ALIAS}")

    assert item.status_code == 200, item.text
    assert item.json()["identifier"] == CCSS_6_RP_A_ALIAS
    assert item.json()["humanCodingScheme"] == "CCSS.Math.Content.6.RP.A"
    assert item.json()["CFDocumentURI"]["title"].startswith("Common Core")


def test_a_crosswalk_endpoint_links_to_the_item_we_serve(
    anonymous_client: TestClient, session: Session, settings: Settings
) -> None:
    imported(session, WSCB, CCSS)
    wscb = by_title(anonymous_client, "What Standards Could Be")
    package = anonymous_client.get(f"{V1P1}/CFPackages/{wscb['identifier']}").json()

    [match] = [
        a
        for a in package["CFAssociations"]
        if a["associationType"] == "exactMatchOf"
        and a["originNodeURI"]["identifier"] == WSCB_6_RP_A
    ]
    destination = match["destinationNodeURI"]
    assert destination["identifier"] == CCSS_6_RP_A_ALIAS
    assert (
        destination["uri"] == f"{settings.public_url}{V1P1}/CFItems/{CCSS_6_RP_A_ALIAS}"
    )
    followed = anonymous_client.get(
        destination["uri"].removeprefix(settings.public_url)
    )
    assert followed.json()["humanCodingScheme"] == "CCSS.Math.Content.6.RP.A"


def test_upper_case_identifiers_keep_their_spelling(
    anonymous_client: TestClient, session: Session
) -> None:
    package = load(WSCB)
    original = package["CFItems"][0]["identifier"]
    package["CFItems"][0]["identifier"] = original.upper()
    for association in package["CFAssociations"]:
        for end in ("originNodeURI", "destinationNodeURI"):
            if association[end]["identifier"] == original:
                association[end]["identifier"] = original.upper()
    import_package(session, package=package)

    item = anonymous_client.get(f"{V1P1}/CFItems/{original}")

    assert item.status_code == 200
    assert item.json()["identifier"] == original.upper()


def test_frameworks_sharing_a_document_identifier_are_each_published(
    anonymous_client: TestClient, session: Session
) -> None:
    imported(session, *EDGE)

    served = documents(anonymous_client)

    # The four OpenSALT fixtures all use d0000000-…; the first keeps it.
    assert len(served) == 4
    identifiers = sorted(d["identifier"] for d in served)
    assert "d0000000-0000-0000-0000-000000000000" in identifiers
    assert len(set(identifiers)) == 4
    for document in served:
        package = anonymous_client.get(
            f"{V1P1}/CFPackages/{document['identifier']}"
        ).json()
        assert package["CFDocument"]["title"] == document["title"]
        for item in package["CFItems"]:
            fetched = anonymous_client.get(f"{V1P1}/CFItems/{item['identifier']}")
            assert fetched.json()["fullStatement"] == item["fullStatement"]
            assert (
                fetched.json()["CFDocumentURI"]["identifier"] == document["identifier"]
            )


# Single objects


def test_document_item_and_association_carry_their_links(
    anonymous_client: TestClient, session: Session, settings: Settings
) -> None:
    imported(session, WSCB)
    document = by_title(anonymous_client, "What Standards Could Be")
    package_uri = document["CFPackageURI"]

    fetched = anonymous_client.get(f"{V1P0}/CFDocuments/{document['identifier']}")
    association = anonymous_client.get(
        f"{V1P1}/CFPackages/{document['identifier']}"
    ).json()["CFAssociations"][0]
    single = anonymous_client.get(f"{V1P1}/CFAssociations/{association['identifier']}")

    assert package_uri == {
        "title": "What Standards Could Be",
        "identifier": document["identifier"],
        "uri": f"{settings.public_url}{V1P1}/CFPackages/{document['identifier']}",
    }
    assert document["caseVersion"] == "1.1"
    assert "caseVersion" not in fetched.json()
    assert fetched.json()["uri"].startswith(settings.public_url + V1P0)
    assert single.status_code == 200
    assert single.json() == {
        **association,
        "CFDocumentURI": {
            "title": "What Standards Could Be",
            "identifier": document["identifier"],
            "uri": f"{settings.public_url}{V1P1}/CFDocuments/{document['identifier']}",
        },
    }


def test_item_associations_include_crosswalks_from_other_frameworks(
    anonymous_client: TestClient, session: Session
) -> None:
    imported(session, CCSS, WSCB)

    response = anonymous_client.get(f"{V1P1}/CFItemAssociations/{CCSS_6_RP_A_ALIAS}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["CFItem"]["identifier"] == CCSS_6_RP_A_ALIAS
    kinds = sorted(
        (a["associationType"], a["CFDocumentURI"]["title"])
        for a in body["CFAssociations"]
    )
    # Its place in the CCSS tree, its child clusters' links, and WSCB's match.
    assert ("exactMatchOf", "What Standards Could Be") in kinds
    assert all(kind in {"isChildOf", "exactMatchOf"} for kind, _ in kinds)


# Lists


def test_documents_list_pages_and_sorts(
    anonymous_client: TestClient, session: Session
) -> None:
    imported(session, *EDGE)
    titles = sorted(d["title"].lower() for d in documents(anonymous_client))

    first = anonymous_client.get(
        f"{V1P1}/CFDocuments", params={"limit": 2, "offset": 0, "sort": "title"}
    )
    second = anonymous_client.get(
        f"{V1P1}/CFDocuments", params={"limit": 2, "offset": 2, "sort": "title"}
    )
    descending = anonymous_client.get(
        f"{V1P1}/CFDocuments", params={"sort": "title", "orderBy": "desc"}
    )

    assert first.headers["X-Total-Count"] == "4"
    paged = [d["title"].lower() for d in first.json()["CFDocuments"]] + [
        d["title"].lower() for d in second.json()["CFDocuments"]
    ]
    assert paged == titles
    assert [d["title"].lower() for d in descending.json()["CFDocuments"]] == titles[
        ::-1
    ]


# Errors


def imsx_minor(response: Any) -> str:
    body = response.json()
    assert body["imsx_codeMajor"] == "failure"
    assert body["imsx_severity"] == "error"
    assert body["imsx_description"]
    [field] = body["imsx_CodeMinor"]["imsx_codeMinorField"]
    return str(field["imsx_codeMinorFieldValue"])


@pytest.mark.parametrize(
    "collection",
    ["CFDocuments", "CFPackages", "CFItems", "CFAssociations", "CFItemAssociations"],
)
def test_unknown_identifiers_answer_404_imsx(
    anonymous_client: TestClient, collection: str
) -> None:
    response = anonymous_client.get(f"{V1P1}/{collection}/{uuid.uuid4()}")

    assert response.status_code == 404
    assert imsx_minor(response) == "unknownobject"


@pytest.mark.parametrize(
    ("params", "minor"),
    [
        ({"limit": "0"}, "invalid_selection_field"),
        ({"limit": "ten"}, "invalid_selection_field"),
        ({"offset": "-1"}, "invalid_selection_field"),
        ({"sort": "colour"}, "invalid_sort_field"),
        ({"orderBy": "up"}, "invalid_selection_field"),
    ],
)
def test_bad_list_parameters_answer_400_imsx(
    anonymous_client: TestClient, params: dict[str, str], minor: str
) -> None:
    response = anonymous_client.get(f"{V1P0}/CFDocuments", params=params)

    assert response.status_code == 400
    assert imsx_minor(response) == minor


# Private frameworks


def test_a_private_framework_needs_a_token_with_frameworks_read(
    app: FastAPI, client: TestClient, anonymous_client: TestClient, session: Session
) -> None:
    wscb, ccss = imported(session, WSCB, CCSS)
    marked = client.put(
        f"/api/v1/frameworks/{ccss.id}/visibility", json={"visibility": "private"}
    )
    assert marked.json() == {"id": str(ccss.id), "visibility": "private"}
    reader = {
        "Authorization": f"Bearer {bearer_token_for(app, scopes=['frameworks:read'])}"
    }
    other = {
        "Authorization": f"Bearer {bearer_token_for(app, scopes=['evidence:read'])}"
    }
    published = uuid.uuid5(uuid.NAMESPACE_URL, ccss.identifier)
    package_url = f"{V1P1}/CFPackages/{published}"

    anonymous = anonymous_client.get(package_url)
    item = anonymous_client.get(f"{V1P1}/CFItems/{CCSS_6_RP_A_ALIAS}")
    forbidden = anonymous_client.get(package_url, headers=other)
    allowed = anonymous_client.get(package_url, headers=reader)

    assert anonymous.status_code == 401
    assert imsx_minor(anonymous) == "unauthorisedrequest"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert item.status_code == 401
    assert forbidden.status_code == 403
    assert imsx_minor(forbidden) == "forbidden"
    assert allowed.status_code == 200
    assert schema_errors(allowed.json()) == []
    assert [d["title"] for d in documents(anonymous_client)] == [
        "What Standards Could Be"
    ]
    listed = anonymous_client.get(f"{V1P1}/CFDocuments", headers=reader)
    assert listed.headers["X-Total-Count"] == "2"


def test_a_public_package_does_not_name_items_of_a_private_one(
    client: TestClient, anonymous_client: TestClient, session: Session
) -> None:
    wscb, ccss = imported(session, WSCB, CCSS)
    client.put(
        f"/api/v1/frameworks/{ccss.id}/visibility", json={"visibility": "private"}
    )

    package = anonymous_client.get(f"{V1P1}/CFPackages/{wscb.identifier}").json()

    [match] = [
        a
        for a in package["CFAssociations"]
        if a["originNodeURI"]["identifier"] == WSCB_6_RP_A
        and a["associationType"] == "exactMatchOf"
    ]
    [given] = [
        a["destinationNodeURI"]
        for a in load(WSCB)["CFAssociations"]
        if a["originNodeURI"]["identifier"] == WSCB_6_RP_A
        and a["associationType"] == "exactMatchOf"
    ]
    # As the provider wrote it, not a link into the private framework.
    assert match["destinationNodeURI"]["uri"] == given["uri"]
    assert match["destinationNodeURI"]["identifier"] == given["identifier"]


def test_visibility_of_an_unknown_framework_is_404(client: TestClient) -> None:
    response = client.put(
        f"/api/v1/frameworks/{uuid.uuid4()}/visibility", json={"visibility": "private"}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "framework-not-found"


# Reading ourselves back


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_our_case_client_reads_what_we_publish(
    live_server: LiveServer, session: Session, version: str
) -> None:
    imported(session, WSCB, CCSS)
    _add_district_crosswalk(session)

    async def read_everything() -> list[dict[str, Any]]:
        config = CaseClientConfig(base_url=live_server.url, version=version)
        async with CaseClient(config) as case:
            listed = await case.list_documents()
            return [await case.get_package(d["identifier"]) for d in listed]

    packages = asyncio.run(read_everything())

    assert sorted(p["CFDocument"]["title"] for p in packages) == [
        "Common Core State Standards for Mathematics",
        "District crosswalks",
        "What Standards Could Be",
    ]
    elsewhere = Organization(slug="elsewhere", name="Elsewhere District")
    session.add(elsewhere)
    session.commit()
    for package in packages:
        # Our output needs none of the repairs real providers' packages do.
        assert read_package(package).report == []
        result = import_package(session, package=package, organization_id=elsewhere.id)
        assert result.outcome == "created"
        assert result.counts.items_stored == len(package["CFItems"])
        assert result.counts.associations_stored == len(package["CFAssociations"])
