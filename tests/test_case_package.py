"""Reading CFPackages as providers publish them: repairs, report and refusals."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.case.package import (
    DOCUMENT,
    NodeRef,
    Package,
    PackageError,
    decode_package,
    read_package,
)
from connectors.case.tree import tree_order
from tests.conftest import CASE_DATA_DIR

DOC_ID = "3f1c2b7a-5d4e-4c1b-9a8f-0e2d3c4b5a60"
ITEM_A = "7a1e9c3d-2b4f-4e6a-8c1d-9f0e1a2b3c41"
ITEM_B = "7a1e9c3d-2b4f-4e6a-8c1d-9f0e1a2b3c42"


def link(identifier: str, uri: str | None = None) -> dict[str, Any]:
    return {
        "title": "node",
        "identifier": identifier,
        "uri": uri if uri is not None else f"https://case.example.org/x/{identifier}",
    }


def child_of(
    identifier: str | None, origin: str, destination: str, **extra: Any
) -> dict[str, Any]:
    association = {
        "associationType": "isChildOf",
        "originNodeURI": link(origin),
        "destinationNodeURI": link(destination),
        **extra,
    }
    if identifier is not None:
        association["identifier"] = identifier
    return association


def small_package(**overrides: Any) -> dict[str, Any]:
    package: dict[str, Any] = {
        "CFDocument": {
            "identifier": DOC_ID,
            "uri": f"https://case.example.org/CFDocuments/{DOC_ID}",
            "title": "Example",
            "lastChangeDateTime": "2023-01-01T00:00:00Z",
        },
        "CFItems": [
            {"identifier": ITEM_A, "fullStatement": "A", "humanCodingScheme": "K.1"},
            {"identifier": ITEM_B, "fullStatement": "B", "humanCodingScheme": "K.2"},
        ],
        "CFAssociations": [
            child_of("0b6e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a51", ITEM_A, DOC_ID),
            child_of("0b6e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a52", ITEM_B, DOC_ID),
        ],
    }
    package.update(overrides)
    return package


def notes(package: Package, field: str) -> list[str]:
    return [d.action for d in package.report if d.field == field]


def load(relative: str) -> dict[str, Any]:
    return json.loads((CASE_DATA_DIR / relative).read_text(encoding="utf-8"))


def test_a_clean_package_reads_without_notes() -> None:
    package = read_package(small_package())

    assert package.document.title == "Example"
    assert [item.identifier for item in package.items] == [ITEM_A, ITEM_B]
    assert package.document.last_change_at == datetime(2023, 1, 1, tzinfo=UTC)
    assert package.report == []


def test_a_date_without_time_zone_is_read_as_utc_and_noted() -> None:
    raw = small_package()
    raw["CFDocument"]["lastChangeDateTime"] = "2017-05-25T18:05:33"

    package = read_package(raw)

    assert package.document.last_change_at == datetime(
        2017, 5, 25, 18, 5, 33, tzinfo=UTC
    )
    assert notes(package, "lastChangeDateTime") == [
        "'2017-05-25T18:05:33' has no time zone; read as UTC"
    ]


@pytest.mark.parametrize(
    "placeholder", ["YYYY-MM-DDThh:mm:ss", "YYYY-MM-DD hh:mm:ss", "not a date"]
)
def test_a_date_that_is_no_date_is_dropped_and_noted(placeholder: str) -> None:
    raw = small_package()
    raw["CFItems"][0]["lastChangeDateTime"] = placeholder

    package = read_package(raw)

    assert package.items[0].last_change_at is None
    [deviation] = package.report
    assert deviation.object == f"CFItems[0] {ITEM_A}"
    assert deviation.field == "lastChangeDateTime"
    assert deviation.action.endswith("dropped")


def test_items_keyed_by_id_and_wrapped_containers_are_read() -> None:
    # The shape subjectmap's generator wrote: {"CFItems": {"CFItems": {id: item}}}.
    raw = small_package()
    items = raw["CFItems"]
    raw["CFItems"] = {"CFItems": {"1129001": items[0], "1160313": items[1]}}
    raw["CFAssociations"] = {"CFAssociations": raw["CFAssociations"]}

    package = read_package(raw)

    assert [item.identifier for item in package.items] == [ITEM_A, ITEM_B]
    assert len(package.associations) == 2
    assert package.found.items == 2
    assert notes(package, "CFItems") == [
        'wrapped in an object {"CFItems": …}; unwrapped',
        "given as an object keyed by id; took its values",
    ]
    assert notes(package, "CFAssociations") == [
        'wrapped in an object {"CFAssociations": …}; unwrapped'
    ]
    assert package.items[0].raw == items[0]


def test_an_association_without_identifier_gets_a_deterministic_uuid5() -> None:
    raw = small_package(
        CFAssociations=[child_of(None, ITEM_A, DOC_ID), child_of(None, ITEM_B, DOC_ID)]
    )

    first = read_package(copy.deepcopy(raw))
    second = read_package(copy.deepcopy(raw))

    identifiers = [a.identifier for a in first.associations]
    assert identifiers == [a.identifier for a in second.associations]
    assert len(set(identifiers)) == 2
    assert all(uuid.UUID(i).version == 5 for i in identifiers)
    assert (
        notes(first, "identifier")
        == ["missing; derived a uuid5 from origin, type and destination"] * 2
    )


def test_item_type_comes_from_the_string_then_the_link_title() -> None:
    raw = small_package()
    raw["CFItems"][0]["CFItemType"] = "Standard"
    raw["CFItems"][1]["CFItemTypeURI"] = link("5c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f")
    raw["CFItems"][1]["CFItemTypeURI"]["title"] = "Cluster"
    raw["CFItems"].append({"identifier": "c3", "fullStatement": "C"})

    package = read_package(raw)

    assert [item.item_type for item in package.items] == ["Standard", "Cluster", None]


def test_a_sequence_number_given_as_a_string_is_coerced_and_noted() -> None:
    raw = small_package()
    raw["CFAssociations"][0]["sequenceNumber"] = "2"
    raw["CFAssociations"][1]["sequenceNumber"] = 1

    package = read_package(raw)

    assert [a.sequence_number for a in package.associations] == [2, 1]
    assert notes(package, "sequenceNumber") == ["string '2'; read as a number"]


def test_link_uris_given_as_strings_are_noted() -> None:
    raw = small_package()
    raw["CFDocument"]["CFPackageURI"] = "https://case.example.org/CFPackages/x"
    raw["CFItems"][0]["CFDocumentURI"] = "https://case.example.org/CFDocuments/x"

    package = read_package(raw)

    assert [(d.object, d.field) for d in package.report] == [
        (f"CFDocument {DOC_ID}", "CFPackageURI"),
        (f"CFItems[0] {ITEM_A}", "CFDocumentURI"),
    ]


def test_explicit_nulls_read_as_absent() -> None:
    raw = small_package()
    raw["CFItems"][0].update(
        humanCodingScheme=None,
        abbreviatedStatement=None,
        CFItemType=None,
        educationLevel=None,
        lastChangeDateTime=None,
    )
    raw["CFAssociations"][0]["sequenceNumber"] = None
    raw["CFDefinitions"] = {"CFSubjects": None, "CFItemTypes": []}

    package = read_package(raw)

    item = package.items[0]
    assert (item.human_coding_scheme, item.item_type, item.last_change_at) == (
        None,
        None,
        None,
    )
    assert item.education_levels == []
    assert package.associations[0].sequence_number is None
    assert package.report == []


def test_identifiers_compare_case_insensitively_and_keep_their_spelling() -> None:
    upper = ITEM_A.upper()
    raw = small_package()
    raw["CFItems"][0]["identifier"] = upper

    package = read_package(raw)

    assert package.items[0].identifier == upper
    assert package.resolve(package.associations[0].origin) == ITEM_A
    assert package.resolve(package.associations[0].destination) == DOCUMENT


@pytest.mark.parametrize(
    "uri",
    [ITEM_A, f"local:{ITEM_A}", "urn:fdc:edplancms.com:2016:cfr:DOK:M-DOK%201"],
)
def test_a_node_uri_that_is_no_url_is_resolved_by_identifier_and_noted(
    uri: str,
) -> None:
    raw = small_package()
    raw["CFAssociations"][0]["originNodeURI"]["uri"] = uri

    package = read_package(raw)

    origin = package.associations[0].origin
    assert package.resolve(origin) == ITEM_A
    assert origin.web_uri is None
    assert notes(package, "originNodeURI.uri") == [
        f"{uri!r} is not an http(s) URL; resolved by identifier, uri not kept"
    ]


def test_an_identical_duplicate_association_is_kept_once_and_noted() -> None:
    raw = small_package()
    raw["CFAssociations"].append(copy.deepcopy(raw["CFAssociations"][0]))

    package = read_package(raw)

    assert package.found.associations == 3
    assert len(package.associations) == 2
    [deviation] = package.report
    assert deviation.object.startswith("CFAssociations[2] ")
    assert deviation.action.startswith("duplicate of CFAssociations[0]")


def test_a_conflicting_duplicate_identifier_is_a_problem() -> None:
    raw = small_package()
    raw["CFItems"].append({"identifier": ITEM_A.upper(), "fullStatement": "other"})

    with pytest.raises(PackageError) as refused:
        read_package(raw)

    [problem] = refused.value.problems
    assert problem.object == f"CFItems[2] {ITEM_A.upper()}"
    assert problem.field == "identifier"
    assert "with different content" in problem.message


def test_statements_are_kept_exactly_as_given() -> None:
    raw = load("opensalt/edge/markdown-fullstatement.json")

    package = read_package(raw)

    assert [i.full_statement for i in package.items] == [
        i["fullStatement"] for i in raw["CFItems"]
    ]
    assert any("\r\n" in i.full_statement for i in package.items)


def test_endpoints_outside_the_package_are_kept_unresolved() -> None:
    outside = "11111111-2222-4333-8444-555555555555"
    raw = small_package()
    raw["CFAssociations"].append(
        {
            "identifier": "0b6e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a53",
            "associationType": "exactMatchOf",
            "originNodeURI": link(ITEM_A),
            "destinationNodeURI": link(outside),
        }
    )

    package = read_package(raw)

    crosswalk = package.associations[2]
    assert crosswalk.destination.identifier == outside
    assert package.resolve(crosswalk.destination) is None


def test_an_empty_destination_identifier_is_kept_and_noted() -> None:
    raw = small_package()
    raw["CFAssociations"][0]["destinationNodeURI"] = {
        "title": "Mathematics",
        "identifier": "",
        "uri": "http://frameworks.act.org/ims/case/v1p0/",
    }

    package = read_package(raw)

    assert package.resolve(package.associations[0].destination) is None
    assert notes(package, "destinationNodeURI.identifier") == [
        "empty; endpoint left unresolved"
    ]


def test_an_asn_identifier_is_reachable_through_its_uuid5_alias() -> None:
    # OpenSALT names ASN nodes uuid5(NAMESPACE_URL, uri); SOURCES.md's example:
    # http://purl.org/ASN/resources/S11434C1 -> 5b6c487e-04f1-5ba9-9722-d099849b9167.
    asn = "http://purl.org/ASN/resources/S11434C1"
    raw = small_package()
    raw["CFItems"][0]["identifier"] = asn
    raw["CFAssociations"][0]["originNodeURI"] = link(asn)

    package = read_package(raw)

    assert package.items[0].alias_key == "5b6c487e-04f1-5ba9-9722-d099849b9167"
    alias = NodeRef(
        identifier="5B6C487E-04F1-5BA9-9722-D099849B9167",
        key="5b6c487e-04f1-5ba9-9722-d099849b9167",
        uri=None,
        title=None,
    )
    assert package.resolve(alias) == asn.lower()


def test_only_an_abbreviated_statement_stands_in_for_the_full_one() -> None:
    raw = small_package()
    del raw["CFItems"][0]["fullStatement"]
    raw["CFItems"][0]["abbreviatedStatement"] = "Short A"

    package = read_package(raw)

    assert package.items[0].full_statement == "Short A"
    assert notes(package, "fullStatement") == ["missing; used abbreviatedStatement"]


def test_every_problem_is_listed_at_once() -> None:
    raw = {
        "CFDocument": {"uri": "https://case.example.org/d"},
        "CFItems": [
            {"fullStatement": "no identifier"},
            {"identifier": ITEM_B},
            "not an object",
        ],
        "CFAssociations": [{"identifier": "x", "originNodeURI": link(ITEM_B)}],
    }

    with pytest.raises(PackageError) as refused:
        read_package(raw)

    assert [(p.object, p.field) for p in refused.value.problems] == [
        ("CFDocument", "identifier"),
        ("CFDocument", "title"),
        ("CFItems[0]", "identifier"),
        (f"CFItems[1] {ITEM_B}", "fullStatement"),
        ("CFItems[2]", ""),
        ("CFAssociations[0]", "associationType"),
        ("CFAssociations[0]", "destinationNodeURI"),
    ]


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({}, "CFDocument", "is missing; a CFPackage must hold exactly one CFDocument"),
        (
            small_package(CFItems="many"),
            "CFItems",
            "must be a list (or an object keyed by identifier), got a string",
        ),
        (
            small_package(CFAssociations=7),
            "CFAssociations",
            "must be a list (or an object keyed by identifier), got a number",
        ),
    ],
)
def test_a_package_without_its_parts_is_refused(
    raw: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(PackageError) as refused:
        read_package(raw)

    assert [(p.object, p.field, p.message) for p in refused.value.problems] == [
        ("package", field, message)
    ]


def test_a_cfdocuments_list_is_refused_as_not_a_package() -> None:
    raw = load("smarterbalanced/cfdocuments-list-response.json")

    with pytest.raises(PackageError) as refused:
        read_package(raw)

    [problem] = refused.value.problems
    assert problem.field == "CFDocument"
    assert "list of CFDocuments" in problem.message
    assert "not a CFPackage" in problem.message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"{not json",
            "is not valid JSON: Expecting property name enclosed in double "
            "quotes at line 1 column 2",
        ),
        (b"[1, 2]", "must be a JSON object (a CFPackage), got a list"),
        (b"\xff\xfe", "is not UTF-8 text (invalid start byte)"),
    ],
)
def test_bytes_that_are_no_package_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(PackageError) as refused:
        decode_package(data)

    assert [(p.object, p.message) for p in refused.value.problems] == [
        ("package", message)
    ]


def test_the_content_hash_follows_the_content() -> None:
    same = read_package(small_package()).content_hash()
    changed = small_package()
    changed["CFItems"][0]["fullStatement"] = "A, reworded"

    assert read_package(small_package()).content_hash() == same
    assert read_package(changed).content_hash() != same


def test_siblings_follow_sequence_number_not_array_order() -> None:
    raw = load("opensalt/edge/sequence-number.json")

    package = read_package(raw)

    codes = {item.key: item.human_coding_scheme for item in package.items}
    # SNT.1 has sequenceNumber 2 and SNT.2 has 1.
    assert [codes[key] for key in tree_order(package)] == ["SNT.2", "SNT.1"]


def test_siblings_without_sequence_numbers_follow_the_coding_scheme() -> None:
    raw = load("opensalt/act-holistic-math_subset_a33fc64e.json")

    package = read_package(raw)

    codes = {item.key: item.human_coding_scheme for item in package.items}
    level = "H.A.MATH.GM.PF.2DFP.L1"
    expected = ["H.A.MATH.GM", "H.A.MATH.GM.PF", "H.A.MATH.GM.PF.2DFP", level] + [
        f"{level}.{n}" for n in range(1, 25)
    ]
    assert [codes[key] for key in tree_order(package)] == expected
