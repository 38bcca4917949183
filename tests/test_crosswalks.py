"""Crosswalks between frameworks: the real OpenSALT and Smarter Balanced pairs,
exact matches for the mastery engine, and the district's own crosswalks."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.crosswalks.service import (
    CrosswalkRequest,
    add_crosswalk,
    crosswalks_of,
    exact_matches,
    related,
)
from app.frameworks.models import Association, Competency, Framework
from app.frameworks.service import import_package
from app.problems import Problem
from app.settings import Settings
from tests.conftest import CASE_DATA_DIR

OPENSALT = CASE_DATA_DIR / "opensalt"
SMARTER = CASE_DATA_DIR / "smarterbalanced"
WSCB = OPENSALT / "what-standards-could-be_20c5134f.json"
CCSS = OPENSALT / "ccss-math_draft-export-2017_D10003FB.json"
G3_SPEC = SMARTER / "g3-math-item-spec-c1-th_1796d9a2.json"
CONTENT_SPEC = SMARTER / "math-content-spec_255adad7.json"
WEBB_DOK = SMARTER / "webb-dok_b7bc9d8c.json"
ASTRAL = OPENSALT / "edge" / "utf8-astral-title.json"
SMARTLEVEL = OPENSALT / "edge" / "smartlevel.json"

# The WSCB item and the CCSS standard it is an exactMatchOf (SOURCES.md).
WSCB_6_RP_A = "edfce0e7-dbbf-40d5-af1a-baccabef85e9"
CCSS_6_RP_A = "http://purl.org/ASN/resources/S11434C1"
CCSS_6_RP_A_ALIAS = "5b6c487e-04f1-5ba9-9722-d099849b9167"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def imported(session: Session, *paths: Path) -> list[Framework]:
    return [import_package(session, package=load(p)).framework for p in paths]


def competency(session: Session, identifier: str) -> Competency:
    statement = select(Competency).where(
        Competency.identifier_key == identifier.lower()
    )
    return session.scalars(statement).one()


def identifiers(session: Session, ids: set[uuid.UUID]) -> set[str]:
    if not ids:
        return set()
    statement = select(Competency.identifier).where(Competency.id.in_(ids))
    return set(session.scalars(statement))


def exact_pairs_in_files(origin: Path, destination: Path) -> set[tuple[str, str]]:
    """(origin identifier, destination identifier) of every exactMatchOf of
    `origin` landing on an item of `destination`, by identifier or by the
    uuid5 alias OpenSALT gives ASN identifiers."""
    names: dict[str, str] = {}
    for item in load(destination)["CFItems"]:
        names[item["identifier"].lower()] = item["identifier"]
        names[str(uuid.uuid5(uuid.NAMESPACE_URL, item["identifier"]))] = item[
            "identifier"
        ]
    pairs = set()
    for association in load(origin)["CFAssociations"]:
        if association["associationType"] != "exactMatchOf":
            continue
        target = association["destinationNodeURI"]["identifier"].lower()
        if target in names:
            pairs.add((association["originNodeURI"]["identifier"], names[target]))
    return pairs


def related_pairs_in_files(origin: Path, destination: Path) -> set[tuple[str, str]]:
    names = {item["identifier"].lower() for item in load(destination)["CFItems"]}
    return {
        (a["originNodeURI"]["identifier"], a["destinationNodeURI"]["identifier"])
        for a in load(origin)["CFAssociations"]
        if a["associationType"] == "isRelatedTo"
        and a["destinationNodeURI"]["identifier"].lower() in names
    }


# Imported crosswalks


def test_wscb_exact_matches_reach_ccss_through_uuid5_aliases(session: Session) -> None:
    imported(session, WSCB, CCSS)
    expected = exact_pairs_in_files(WSCB, CCSS)
    assert len(expected) == 16  # SOURCES.md: 16 exactMatchOf, all resolvable

    origins = {origin: competency(session, origin).id for origin, _ in expected}
    matches = exact_matches(session, competency_ids=origins.values())

    found = {
        (origin, target)
        for origin, origin_id in origins.items()
        for target in identifiers(session, matches[origin_id])
    }
    assert found == expected


def test_exact_matches_read_both_ways(session: Session) -> None:
    imported(session, CCSS, WSCB)
    ccss = competency(session, CCSS_6_RP_A)

    matches = exact_matches(session, competency_ids=[ccss.id])

    assert identifiers(session, matches[ccss.id]) == {WSCB_6_RP_A}


def test_crosswalks_list_both_directions_with_the_other_framework(
    client: TestClient, session: Session
) -> None:
    wscb, ccss = imported(session, WSCB, CCSS)
    target = competency(session, CCSS_6_RP_A)

    response = client.get(f"/api/v1/competencies/{target.id}/crosswalks")

    assert response.status_code == 200, response.text
    [crosswalk] = response.json()
    assert crosswalk["association_type"] == "exactMatchOf"
    assert crosswalk["direction"] == "mutual"
    assert crosswalk["competency"]["identifier"] == WSCB_6_RP_A
    assert crosswalk["framework"] == {
        "id": str(wscb.id),
        "identifier": wscb.identifier,
        "title": "What Standards Could Be",
    }
    assert crosswalk["district"] is False


def test_crosswalks_leave_out_links_inside_the_framework(
    client: TestClient, session: Session
) -> None:
    imported(session, WSCB, CCSS)
    # eceec0fb: exactMatchOf 5c302a03 (CCSS), precedes 61a66013 (CCSS) and is
    # the destination of a precedes from b6f61076 (WSCB itself, not listed).
    origin = competency(session, "eceec0fb-e4de-4ef3-a48f-0987b366c9ae")

    response = client.get(f"/api/v1/competencies/{origin.id}/crosswalks")

    kinds = sorted((c["association_type"], c["direction"]) for c in response.json())
    assert kinds == [("exactMatchOf", "mutual"), ("precedes", "outgoing")]


def test_crosswalks_of_an_unknown_competency_is_404(client: TestClient) -> None:
    response = client.get(f"/api/v1/competencies/{uuid.uuid4()}/crosswalks")

    assert response.status_code == 404
    assert response.json()["code"] == "competency-not-found"


def test_smarter_balanced_item_spec_exact_matches_the_content_spec(
    session: Session,
) -> None:
    imported(session, G3_SPEC, CONTENT_SPEC, WEBB_DOK)
    expected = exact_pairs_in_files(G3_SPEC, CONTENT_SPEC)
    assert len(expected) == 3  # SOURCES.md table

    origins = {origin: competency(session, origin).id for origin, _ in expected}
    matches = exact_matches(session, competency_ids=origins.values())

    found = {
        (origin, target)
        for origin, origin_id in origins.items()
        for target in identifiers(session, matches[origin_id])
    }
    assert found == expected


def test_is_related_to_only_suggests(session: Session) -> None:
    imported(session, G3_SPEC, CONTENT_SPEC, WEBB_DOK)
    expected = related_pairs_in_files(G3_SPEC, WEBB_DOK)
    assert len(expected) == 4  # SOURCES.md: g3 isRelatedTo webb-dok, 4

    for origin, target in expected:
        source = competency(session, origin)
        suggested = {
            c.identifier.lower() for c in related(session, competency_id=source.id)
        }
        assert target.lower() in suggested
        matched = identifiers(
            session, exact_matches(session, competency_ids=[source.id])[source.id]
        )
        assert target not in matched


def test_exact_match_hops_chain_district_crosswalks(session: Session) -> None:
    imported(session, WSCB, CCSS, CONTENT_SPEC)
    wscb_item = competency(session, WSCB_6_RP_A)
    ccss_item = competency(session, CCSS_6_RP_A)
    spec_item = session.scalars(
        select(Competency)
        .join(Framework)
        .where(Framework.title == "Smarter Balanced Math Content Specification")
        .order_by(Competency.list_position)
        .limit(1)
    ).one()
    add_crosswalk(
        session,
        request=CrosswalkRequest(
            origin=str(ccss_item.id),
            association_type="exactMatchOf",
            destination=str(spec_item.id),
        ),
    )

    def reach(hops: int) -> set[uuid.UUID]:
        return exact_matches(session, competency_ids=[wscb_item.id], hops=hops)[
            wscb_item.id
        ]

    assert reach(0) == set()
    assert reach(1) == {ccss_item.id}
    # WSCB = CCSS (provider), CCSS = spec (district): two links away.
    assert reach(2) == {ccss_item.id, spec_item.id}
    assert reach(3) == {ccss_item.id, spec_item.id}


def test_a_cycle_of_exact_matches_never_reaches_the_start(session: Session) -> None:
    imported(session, WSCB, CCSS, CONTENT_SPEC)
    wscb_item = competency(session, WSCB_6_RP_A)
    ccss_item = competency(session, CCSS_6_RP_A)
    spec_item = _first_content_spec_item(session)
    # WSCB = CCSS (provider); CCSS = spec and spec = WSCB (district): a triangle.
    for origin, destination in ((ccss_item, spec_item), (spec_item, wscb_item)):
        add_crosswalk(
            session,
            request=CrosswalkRequest(
                origin=str(origin.id),
                association_type="exactMatchOf",
                destination=str(destination.id),
            ),
        )

    matches = exact_matches(session, competency_ids=[wscb_item.id], hops=5)

    assert matches == {wscb_item.id: {ccss_item.id, spec_item.id}}


def test_the_hops_setting_defaults_to_one() -> None:
    assert Settings(_env_file=None).crosswalk_exact_match_hops == 1  # type: ignore[call-arg]


# District crosswalks over the API


def test_district_crosswalk_by_case_identifiers(
    client: TestClient, session: Session
) -> None:
    imported(session, CCSS, CONTENT_SPEC)
    spec_item = _first_content_spec_item(session)

    response = client.post(
        "/api/v1/crosswalks",
        json={
            "origin": CCSS_6_RP_A_ALIAS,
            "association_type": "isrelatedto",
            "destination": spec_item.identifier.upper(),
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["association_type"] == "isRelatedTo"
    assert body["origin_identifier"] == CCSS_6_RP_A
    assert body["destination_competency_id"] == str(spec_item.id)
    crosswalks = client.get(f"/api/v1/competencies/{spec_item.id}/crosswalks").json()
    assert [(c["direction"], c["district"]) for c in crosswalks] == [("incoming", True)]
    assert [c["id"] for c in client.get("/api/v1/crosswalks").json()] == [body["id"]]


def test_the_same_district_crosswalk_twice_is_stored_once(
    client: TestClient, session: Session
) -> None:
    imported(session, CCSS, CONTENT_SPEC)
    ccss_item = competency(session, CCSS_6_RP_A)
    spec_item = _first_content_spec_item(session)
    forward = {
        "origin": str(ccss_item.id),
        "association_type": "exactMatchOf",
        "destination": str(spec_item.id),
    }
    backward = {
        **forward,
        "origin": forward["destination"],
        "destination": forward["origin"],
    }

    first = client.post("/api/v1/crosswalks", json=forward)
    again = client.post("/api/v1/crosswalks", json=forward)
    reversed_ = client.post("/api/v1/crosswalks", json=backward)

    assert first.status_code == 201
    assert again.status_code == 200
    assert reversed_.status_code == 200  # exactMatchOf reads the same both ways
    assert again.json()["id"] == reversed_.json()["id"] == first.json()["id"]
    assert len(client.get("/api/v1/crosswalks").json()) == 1


def test_a_district_crosswalk_restating_an_imported_one_is_collapsed(
    client: TestClient, session: Session
) -> None:
    imported(session, WSCB, CCSS)
    ccss_item = competency(session, CCSS_6_RP_A)

    added = client.post(
        "/api/v1/crosswalks",
        json={
            "origin": CCSS_6_RP_A,
            "association_type": "exactMatchOf",
            "destination": WSCB_6_RP_A,
        },
    )

    assert added.status_code == 201, added.text
    [crosswalk] = client.get(f"/api/v1/competencies/{ccss_item.id}/crosswalks").json()
    assert crosswalk["direction"] == "mutual"
    assert crosswalk["district"] is True
    assert len(crosswalk["association_ids"]) == 2


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"origin": "no-such-standard"}, "competency-not-found", "origin"),
        (
            {"association_type": "isChildOf"},
            "association-type-not-crosswalk",
            "association_type",
        ),
        (
            {"association_type": "isCousinOf"},
            "association-type-unknown",
            "association_type",
        ),
        ({"destination": CCSS_6_RP_A}, "crosswalk-to-itself", "destination"),
        (
            {"destination": "http://purl.org/ASN/resources/S11434CE"},
            "crosswalk-within-framework",
            "destination",
        ),
        ({"origin": "  "}, "competency-missing", "origin"),
    ],
)
def test_a_bad_district_crosswalk_is_refused_and_nothing_stored(
    client: TestClient,
    session: Session,
    change: dict[str, str],
    code: str,
    field: str,
) -> None:
    imported(session, CCSS, WSCB)
    body = {
        "origin": CCSS_6_RP_A,
        "association_type": "exactMatchOf",
        "destination": WSCB_6_RP_A,
        **change,
    }
    before = _association_count(session)

    response = client.post("/api/v1/crosswalks", json=body)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert response.json()["field"] == field
    assert _association_count(session) == before


def test_an_identifier_two_frameworks_share_needs_the_framework(
    client: TestClient, session: Session
) -> None:
    astral, smartlevel = imported(session, ASTRAL, SMARTLEVEL)
    imported(session, CCSS)
    shared = "00000000-0000-0000-0000-000000000001"  # in both edge fixtures
    body = {
        "origin": shared,
        "association_type": "isRelatedTo",
        "destination": CCSS_6_RP_A,
    }

    ambiguous = client.post("/api/v1/crosswalks", json=body)
    narrowed = client.post(
        "/api/v1/crosswalks", json={**body, "origin_framework": str(smartlevel.id)}
    )

    assert ambiguous.status_code == 422
    assert ambiguous.json()["code"] == "competency-ambiguous"
    assert narrowed.status_code == 201, narrowed.text
    origin = session.get(Competency, uuid.UUID(narrowed.json()["origin_competency_id"]))
    assert origin is not None and origin.framework_id == smartlevel.id


def test_delete_removes_only_district_crosswalks(
    client: TestClient, session: Session
) -> None:
    imported(session, WSCB, CCSS)
    ccss_item = competency(session, CCSS_6_RP_A)
    added = client.post(
        "/api/v1/crosswalks",
        json={
            "origin": CCSS_6_RP_A,
            "association_type": "isPeerOf",
            "destination": WSCB_6_RP_A,
        },
    ).json()
    imported_id = session.scalars(
        select(Association.id).where(
            Association.origin_competency_id == competency(session, WSCB_6_RP_A).id,
            Association.association_type == "exactMatchOf",
        )
    ).one()

    refused = client.delete(f"/api/v1/crosswalks/{imported_id}")
    deleted = client.delete(f"/api/v1/crosswalks/{added['id']}")
    gone = client.delete(f"/api/v1/crosswalks/{added['id']}")

    assert refused.status_code == 409
    assert refused.json()["code"] == "crosswalk-not-district"
    assert deleted.status_code == 204
    assert gone.status_code == 404
    kinds = [
        c["association_type"]
        for c in client.get(f"/api/v1/competencies/{ccss_item.id}/crosswalks").json()
    ]
    assert kinds == ["exactMatchOf"]


def _first_content_spec_item(session: Session) -> Competency:
    return session.scalars(
        select(Competency)
        .join(Framework)
        .where(Framework.title == "Smarter Balanced Math Content Specification")
        .order_by(Competency.list_position)
        .limit(1)
    ).one()


def _association_count(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Association)) or 0


def test_service_errors_are_problems(session: Session) -> None:
    imported(session, CCSS)
    with pytest.raises(Problem) as raised:
        add_crosswalk(
            session,
            request=CrosswalkRequest(
                origin=CCSS_6_RP_A,
                association_type="exactMatchOf",
                destination="nowhere",
            ),
        )
    assert raised.value.field == "destination"


def test_crosswalks_of_skip_self_loops(session: Session) -> None:
    imported(session, WSCB, CCSS)
    item = competency(session, WSCB_6_RP_A)
    # A provider's self-loop (seen in the wild) must not list the item itself.
    framework_id = item.framework_id
    session.add(
        Association(
            framework_id=framework_id,
            identifier="self-loop",
            identifier_key="self-loop",
            association_type="exactMatchOf",
            origin_identifier=item.identifier,
            origin_competency_id=item.id,
            destination_identifier=item.identifier,
            destination_competency_id=item.id,
            association={},
        )
    )
    session.commit()

    crosswalks = crosswalks_of(session, competency_id=item.id)

    assert [c.competency.identifier for c in crosswalks] == [CCSS_6_RP_A]
    assert exact_matches(session, competency_ids=[item.id])[item.id] == {
        competency(session, CCSS_6_RP_A).id
    }
