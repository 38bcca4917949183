"""The CASE inputs in cases/case/ and their siblings, each imported end to end.

Each input stands for a kind of fault real providers send; the siblings
built from it cover the rest of that kind.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.frameworks.models import Association, Competency
from app.frameworks.service import framework_tree, import_package
from tests.conftest import CASES_DIR


def load(name: str) -> dict[str, Any]:
    return json.loads((CASES_DIR / "case" / name).read_text(encoding="utf-8"))


def stored_associations(session: Session, framework_id: Any) -> list[Association]:
    statement = select(Association).where(Association.framework_id == framework_id)
    return list(session.scalars(statement))


def bare_identifier(identifier: str) -> str:
    return identifier


def local_uri(identifier: str) -> str:
    return f"local:{identifier}"


def urn_uri(identifier: str) -> str:
    return f"urn:fdc:edplancms.com:2016:cfr:{identifier}"


@pytest.mark.parametrize("make_uri", [bare_identifier, local_uri, urn_uri])
def test_node_uris_that_are_no_urls_resolve_by_identifier(
    session: Session, make_uri: Any
) -> None:
    raw = load("node-uri-is-identifier.json")
    for node in ("originNodeURI", "destinationNodeURI"):
        link = raw["CFAssociations"][0][node]
        link["uri"] = make_uri(link["identifier"])

    result = import_package(session, package=raw)

    [association] = stored_associations(session, result.framework.id)
    [item] = framework_tree(session, framework_id=result.framework.id)
    assert association.origin_competency_id == item.competency.id
    assert association.destination_is_document is True
    assert (association.origin_uri, association.destination_uri) == (None, None)
    assert [(d.field, d.action.split("; ", 1)[1]) for d in result.report] == [
        ("originNodeURI.uri", "resolved by identifier, uri not kept"),
        ("destinationNodeURI.uri", "resolved by identifier, uri not kept"),
    ]


def test_an_upper_case_item_identifier_matches_its_lower_case_association(
    session: Session,
) -> None:
    raw = load("guid-case.json")

    result = import_package(session, package=raw)

    [entry] = framework_tree(session, framework_id=result.framework.id)
    [association] = stored_associations(session, result.framework.id)
    assert association.origin_competency_id == entry.competency.id
    assert association.destination_is_document is True
    assert entry.competency.identifier == "7A1E9C3D-2B4F-4E6A-8C1D-9F0E1A2B3C41"
    assert association.origin_identifier == "7a1e9c3d-2b4f-4e6a-8c1d-9f0e1a2b3c41"


def test_mixed_case_guids_link_an_item_to_its_parent_item(session: Session) -> None:
    raw = load("guid-case.json")
    parent = copy.deepcopy(raw["CFItems"][0])
    child_id = "c0ffee00-1234-4abc-8def-0123456789ab"
    raw["CFItems"].append(
        {"identifier": child_id, "fullStatement": "Count to 20 by ones."}
    )
    raw["CFAssociations"].append(
        {
            "identifier": "0B6E1F2A-3C4D-4E5F-8A9B-0C1D2E3F4A53",
            "associationType": "isChildOf",
            "originNodeURI": {"title": "c", "identifier": child_id.upper(), "uri": ""},
            "destinationNodeURI": {
                "title": "p",
                "identifier": parent["identifier"].lower(),
                "uri": "",
            },
        }
    )
    raw["CFDocument"]["identifier"] = raw["CFDocument"]["identifier"].upper()

    result = import_package(session, package=raw)

    tree = framework_tree(session, framework_id=result.framework.id)
    assert [(e.competency.identifier, e.depth) for e in tree] == [
        (parent["identifier"], 0),
        (child_id, 1),
    ]
    assert tree[1].parent_id == tree[0].competency.id
    assert result.framework.identifier == raw["CFDocument"]["identifier"]


def test_item_types_come_from_the_string_or_the_link_title_or_are_none(
    session: Session,
) -> None:
    raw = load("item-type-variants.json")

    result = import_package(session, package=raw)

    types = {
        e.competency.full_statement: e.competency.item_type
        for e in framework_tree(session, framework_id=result.framework.id)
    }
    assert types == {
        "Standard A": "Standard",
        "Standard B": "Standard",
        "Standard C": None,
    }
    assert (result.counts.definitions_found, result.counts.definitions_stored) == (0, 0)
    assert [(d.field, d.action) for d in result.report] == [
        ("CFDefinitions", "an empty list; read as none")
    ]


def test_a_string_sequence_number_orders_siblings_and_is_noted(
    session: Session,
) -> None:
    raw = load("sequence-number-string.json")

    result = import_package(session, package=raw)

    tree = framework_tree(session, framework_id=result.framework.id)
    # K.1 has sequenceNumber "2", K.2 has 1: sequence wins over array order.
    assert [e.competency.human_coding_scheme for e in tree] == ["K.2", "K.1"]
    numbers = {
        a.identifier: a.sequence_number
        for a in stored_associations(session, result.framework.id)
    }
    assert numbers == {
        "0b6e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a71": 2,
        "0b6e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a72": 1,
    }
    assert [(d.field, d.action) for d in result.report] == [
        ("sequenceNumber", "string '2'; read as a number")
    ]


def test_string_sequence_numbers_compare_as_numbers(session: Session) -> None:
    raw = load("sequence-number-string.json")
    first, second = raw["CFAssociations"]
    first["sequenceNumber"] = "10"
    second["sequenceNumber"] = "9"

    result = import_package(session, package=raw)

    tree = framework_tree(session, framework_id=result.framework.id)
    # As text "10" < "9"; as numbers 9 < 10, so K.2 (9) comes first.
    assert [e.competency.human_coding_scheme for e in tree] == ["K.2", "K.1"]


def test_the_four_inputs_stay_four_frameworks(session: Session) -> None:
    names = [
        "guid-case.json",
        "item-type-variants.json",
        "node-uri-is-identifier.json",
        "sequence-number-string.json",
    ]

    results = [import_package(session, package=load(name)) for name in names]

    assert len({r.framework.id for r in results}) == 4
    count = session.scalars(select(Competency.id)).all()
    # 1 + 3 + 1 + 2 CFItems across the four files.
    assert len(count) == 7
