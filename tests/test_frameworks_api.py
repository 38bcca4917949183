"""The frameworks API: import, list, read the tree, search."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.tables import metadata
from tests.conftest import CASE_DATA_DIR, CASES_DIR

ACT = CASE_DATA_DIR / "opensalt" / "act-holistic-math_subset_a33fc64e.json"
SEQUENCE = CASES_DIR / "case" / "sequence-number-string.json"


def load(path: Any) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def store_contents(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(
                repr(tuple(row)) for row in connection.execute(table.select())
            )
            for table in metadata.sorted_tables
        }


def test_import_creates_then_reports_unchanged_then_updates(client: TestClient) -> None:
    raw = load(ACT)

    created = client.post("/api/v1/frameworks/import", json=raw)
    unchanged = client.post("/api/v1/frameworks/import", json=raw)
    changed = copy.deepcopy(raw)
    changed["CFItems"][0]["fullStatement"] = "Geometry, reworded"
    updated = client.post("/api/v1/frameworks/import", json=changed)

    assert created.status_code == 201
    body = created.json()
    assert body["outcome"] == "created"
    assert body["counts"] == {
        "items_found": 28,
        "items_stored": 28,
        "associations_found": 28,
        "associations_stored": 28,
        "definitions_found": 0,
        "definitions_stored": 0,
        "items_retired": 0,
    }
    assert body["framework"]["title"] == "ACT Holistic Framework, Math"
    assert body["framework"]["competency_count"] == 28
    assert (unchanged.status_code, unchanged.json()["outcome"]) == (200, "unchanged")
    assert (updated.status_code, updated.json()["outcome"]) == (200, "updated")
    assert {r.json()["framework"]["id"] for r in (created, unchanged, updated)} == {
        body["framework"]["id"]
    }


def test_import_returns_the_report(client: TestClient) -> None:
    response = client.post("/api/v1/frameworks/import", json=load(SEQUENCE))

    assert response.status_code == 201
    assert response.json()["report"] == [
        {
            "object": "CFAssociations[0] 0b6e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a71",
            "field": "sequenceNumber",
            "action": "string '2'; read as a number",
        }
    ]


def test_a_refused_package_is_a_problem_listing_each_error(
    client: TestClient, engine: Engine
) -> None:
    client.post("/api/v1/frameworks/import", json=load(ACT))
    before = store_contents(engine)
    broken = load(ACT)
    broken["CFItems"][1].pop("identifier")
    broken["CFAssociations"][0].pop("associationType")

    response = client.post("/api/v1/frameworks/import", json=broken)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "package-refused"
    assert "2 problems" in problem["detail"]
    assert problem["errors"] == [
        {"object": "CFItems[1]", "field": "identifier", "message": "is missing"},
        {
            "object": "CFAssociations[0]",
            "field": "associationType",
            "message": "is missing",
        },
    ]
    assert store_contents(engine) == before


def test_a_body_that_is_not_json_is_a_problem(client: TestClient) -> None:
    response = client.post(
        "/api/v1/frameworks/import",
        content=b'{"CFDocument": ',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["object"] == "package"
    assert error["message"].startswith("is not valid JSON")


def test_a_cfdocuments_list_is_refused(client: TestClient) -> None:
    raw = load(CASE_DATA_DIR / "smarterbalanced" / "cfdocuments-list-response.json")

    response = client.post("/api/v1/frameworks/import", json=raw)

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "CFDocument"
    assert "not a CFPackage" in error["message"]


def test_frameworks_are_listed_and_read(client: TestClient) -> None:
    created = client.post("/api/v1/frameworks/import", json=load(ACT)).json()
    framework_id = created["framework"]["id"]

    listed = client.get("/api/v1/frameworks")
    one = client.get(f"/api/v1/frameworks/{framework_id}")
    missing = client.get(f"/api/v1/frameworks/{uuid.uuid4()}")

    assert [f["id"] for f in listed.json()] == [framework_id]
    assert one.status_code == 200
    assert one.json()["identifier"] == load(ACT)["CFDocument"]["identifier"]
    assert missing.status_code == 404
    assert missing.json()["code"] == "framework-not-found"


def test_competencies_come_in_tree_order_with_their_parent(client: TestClient) -> None:
    created = client.post("/api/v1/frameworks/import", json=load(SEQUENCE)).json()

    response = client.get(
        f"/api/v1/frameworks/{created['framework']['id']}/competencies"
    )

    assert response.status_code == 200
    # K.1 has sequenceNumber "2" and K.2 has 1; both are children of the document.
    assert [
        (c["human_coding_scheme"], c["parent_id"], c["depth"]) for c in response.json()
    ] == [
        ("K.2", None, 0),
        ("K.1", None, 0),
    ]


def test_nested_competencies_name_their_parent(client: TestClient) -> None:
    raw = load(ACT)
    created = client.post("/api/v1/frameworks/import", json=raw).json()

    tree = client.get(
        f"/api/v1/frameworks/{created['framework']['id']}/competencies"
    ).json()

    ids = {c["identifier"]: c["id"] for c in tree}
    document = raw["CFDocument"]["identifier"]
    expected = {
        a["originNodeURI"]["identifier"]: ids.get(a["destinationNodeURI"]["identifier"])
        for a in raw["CFAssociations"]
        if a["destinationNodeURI"]["identifier"] != document
    }
    assert {c["identifier"]: c["parent_id"] for c in tree if c["parent_id"]} == expected


def test_search_finds_competencies_by_code_and_text(client: TestClient) -> None:
    created = client.post("/api/v1/frameworks/import", json=load(ACT)).json()
    framework_id = created["framework"]["id"]

    by_code = client.get(
        "/api/v1/competencies",
        params={"q": "h.a.math.gm.pf.2dfp.l1.2", "framework_id": framework_id},
    )
    unknown_framework = client.get(
        "/api/v1/competencies", params={"q": "x", "framework_id": str(uuid.uuid4())}
    )
    no_query = client.get("/api/v1/competencies")

    # L1.2 and L1.20 to L1.24 start with the query: six codes.
    assert sorted(c["human_coding_scheme"] for c in by_code.json()) == sorted(
        ["H.A.MATH.GM.PF.2DFP.L1.2"]
        + [f"H.A.MATH.GM.PF.2DFP.L1.{n}" for n in range(20, 25)]
    )
    assert unknown_framework.status_code == 404
    assert no_query.status_code == 422
