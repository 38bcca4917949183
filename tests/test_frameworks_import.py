"""Importing CFPackages into the store: counts, updates, refusals, crosswalks."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.frameworks.models import Association, Competency, Framework
from app.frameworks.service import (
    bundled_framework_path,
    framework_tree,
    import_package,
    list_frameworks,
    search_competencies,
)
from app.tables import metadata
from connectors.case.package import PackageError
from tests.conftest import CASE_DATA_DIR

PACKAGE_FILES = sorted(
    path
    for path in CASE_DATA_DIR.rglob("*.json")
    if path.relative_to(CASE_DATA_DIR).parts[0] != "schemas"
)
NOT_A_PACKAGE = CASE_DATA_DIR / "smarterbalanced" / "cfdocuments-list-response.json"
EDGE_DIR = CASE_DATA_DIR / "opensalt" / "edge"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def entries(raw: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """CFItems or CFAssociations as listed, unwrapped, or keyed by id."""
    value = raw.get(name) or []
    if isinstance(value, dict) and list(value) == [name]:
        value = value[name]
    return list(value.values()) if isinstance(value, dict) else list(value)


def distinct_associations(associations: list[dict[str, Any]]) -> int:
    """Associations count once per identifier, or per origin/type/destination
    when they carry none."""
    keys = {
        (
            a.get("identifier")
            or "|".join(
                (
                    a["originNodeURI"]["identifier"],
                    a["associationType"],
                    a["destinationNodeURI"]["identifier"],
                )
            )
        ).lower()
        for a in associations
    }
    return len(keys)


def definition_count(raw: dict[str, Any]) -> int:
    definitions = raw.get("CFDefinitions") or {}
    if isinstance(definitions, list):
        return len(definitions)
    return sum(len(v) for v in definitions.values() if isinstance(v, list))


def store_contents(engine: Engine, session: Session) -> dict[str, list[str]]:
    """Every row of every table, as sorted text, to compare the store over time."""
    # End the session's read transaction so no lock is held across connections.
    session.rollback()
    with engine.connect() as connection:
        return {
            table.name: sorted(
                repr(tuple(row)) for row in connection.execute(table.select())
            )
            for table in metadata.sorted_tables
        }


def competencies_of(session: Session, framework_id: uuid.UUID) -> list[Competency]:
    statement = select(Competency).where(Competency.framework_id == framework_id)
    return list(session.scalars(statement))


@pytest.mark.parametrize(
    "path", PACKAGE_FILES, ids=lambda p: str(p.relative_to(CASE_DATA_DIR))
)
def test_every_shared_package_imports_with_the_counts_of_its_file(
    session: Session, path: Path
) -> None:
    raw = load(path)
    if path == NOT_A_PACKAGE:
        with pytest.raises(PackageError) as refused:
            import_package(session, package=raw)
        assert "not a CFPackage" in refused.value.problems[0].message
        return

    result = import_package(session, package=raw)

    items = entries(raw, "CFItems")
    associations = entries(raw, "CFAssociations")
    counts = result.counts
    assert result.outcome == "created"
    assert counts.items_found == len(items)
    assert counts.associations_found == len(associations)
    assert counts.definitions_found == definition_count(raw)
    assert counts.items_stored == len({i["identifier"].lower() for i in items})
    assert counts.associations_stored == distinct_associations(associations)
    assert counts.definitions_stored == counts.definitions_found
    stored_items = session.scalars(
        select(Competency.id).where(Competency.framework_id == result.framework.id)
    ).all()
    stored_associations = session.scalars(
        select(Association.id).where(Association.framework_id == result.framework.id)
    ).all()
    assert len(stored_items) == counts.items_stored
    assert len(stored_associations) == counts.associations_stored
    assert result.framework.title == raw["CFDocument"]["title"]


def test_the_one_duplicated_association_of_the_content_spec_is_stored_once(
    session: Session,
) -> None:
    # SOURCES.md: ae3aae37-… occurs twice, byte-identical, among 3368.
    raw = load(CASE_DATA_DIR / "smarterbalanced" / "math-content-spec_255adad7.json")

    result = import_package(session, package=raw)

    assert (result.counts.associations_found, result.counts.associations_stored) == (
        3368,
        3367,
    )
    duplicate = [d for d in result.report if d.action.startswith("duplicate of")]
    assert [d.object.split()[-1] for d in duplicate] == [
        "ae3aae37-b13c-494b-b8a1-a6f5962bef91"
    ]


def test_reimporting_an_unchanged_package_writes_nothing(
    session: Session, engine: Engine
) -> None:
    raw = load(CASE_DATA_DIR / "opensalt" / "what-standards-could-be_20c5134f.json")
    first = import_package(session, package=raw)
    before = store_contents(engine, session)

    again = import_package(session, package=copy.deepcopy(raw))

    assert again.outcome == "unchanged"
    assert again.framework.id == first.framework.id
    assert again.counts == first.counts
    assert store_contents(engine, session) == before


def test_a_changed_package_updates_in_place_and_retires_removed_items(
    session: Session,
) -> None:
    raw = load(CASE_DATA_DIR / "opensalt" / "act-holistic-math_subset_a33fc64e.json")
    first = import_package(session, package=raw)
    untouched = competencies_of(session, first.framework.id)
    stamps_before = {c.identifier: c.updated_at for c in untouched}
    ids_before = {
        c.identifier: c.id for c in competencies_of(session, first.framework.id)
    }
    changed = copy.deepcopy(raw)
    # The last item in tree order, so no other competency changes its place.
    [last] = [
        index
        for index, item in enumerate(changed["CFItems"])
        if item["humanCodingScheme"] == "H.A.MATH.GM.PF.2DFP.L1.24"
    ]
    removed = changed["CFItems"].pop(last)
    changed["CFAssociations"] = [
        a
        for a in changed["CFAssociations"]
        if a["originNodeURI"]["identifier"] != removed["identifier"]
    ]
    changed["CFItems"][0]["fullStatement"] = "Geometry, reworded"

    second = import_package(session, package=changed)

    assert second.outcome == "updated"
    assert second.framework.id == first.framework.id
    assert second.counts.items_retired == 1
    stored = {c.identifier: c for c in competencies_of(session, first.framework.id)}
    assert {k: c.id for k, c in stored.items()} == ids_before
    assert stored[removed["identifier"]].retired_at is not None
    assert [c for c in stored.values() if c.retired_at is not None] == [
        stored[removed["identifier"]]
    ]
    assert stored[changed["CFItems"][0]["identifier"]].full_statement == (
        "Geometry, reworded"
    )
    # Only the reworded and the retired competency were written again.
    rewritten = {
        identifier
        for identifier, competency in stored.items()
        if competency.updated_at != stamps_before[identifier]
    }
    assert rewritten == {changed["CFItems"][0]["identifier"], removed["identifier"]}
    associations = session.scalars(
        select(Association).where(Association.framework_id == first.framework.id)
    ).all()
    assert len(associations) == len(raw["CFAssociations"]) - 1
    tree = framework_tree(session, framework_id=first.framework.id)
    assert removed["identifier"] not in {e.competency.identifier for e in tree}


def test_an_item_that_comes_back_is_active_again_with_its_old_id(
    session: Session,
) -> None:
    raw = load(CASE_DATA_DIR / "opensalt" / "edge" / "smartlevel.json")
    first = import_package(session, package=raw)
    smaller = copy.deepcopy(raw)
    gone = smaller["CFItems"].pop()
    import_package(session, package=smaller)

    import_package(session, package=raw)

    [back] = [
        c
        for c in competencies_of(session, first.framework.id)
        if c.identifier == gone["identifier"]
    ]
    assert back.retired_at is None
    assert back.id in {
        e.competency.id
        for e in framework_tree(session, framework_id=first.framework.id)
    }


def test_a_malformed_package_lists_its_problems_and_leaves_the_store_as_it_was(
    session: Session, engine: Engine
) -> None:
    raw = load(CASE_DATA_DIR / "opensalt" / "act-holistic-math_subset_a33fc64e.json")
    import_package(session, package=raw)
    before = store_contents(engine, session)
    broken = copy.deepcopy(raw)
    broken["CFItems"][3].pop("identifier")
    broken["CFItems"][5].pop("fullStatement")
    broken["CFItems"].append(7)

    with pytest.raises(PackageError) as refused:
        import_package(session, package=broken)

    assert [(p.object, p.field) for p in refused.value.problems] == [
        ("CFItems[3]", "identifier"),
        (f"CFItems[5] {raw['CFItems'][5]['identifier']}", "fullStatement"),
        ("CFItems[28]", ""),
    ]
    assert store_contents(engine, session) == before


def test_a_failure_while_writing_leaves_the_store_as_it_was(
    session: Session, engine: Engine
) -> None:
    raw = load(CASE_DATA_DIR / "opensalt" / "edge" / "smartlevel.json")
    before = store_contents(engine, session)
    calls: list[int] = []

    def stop_midway(done: int, total: int) -> None:
        calls.append(done)
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        import_package(session, package=raw, progress=stop_midway)

    assert calls
    assert store_contents(engine, session) == before


def test_packages_reusing_one_document_identifier_stay_separate_frameworks(
    session: Session,
) -> None:
    paths = sorted(EDGE_DIR.glob("*.json"))
    raws = [load(path) for path in paths]
    # SOURCES.md: all four reuse CFDocument d0000000-0000-0000-0000-000000000000.
    assert {raw["CFDocument"]["identifier"] for raw in raws} == {
        "d0000000-0000-0000-0000-000000000000"
    }

    results = [import_package(session, package=raw) for raw in raws]

    assert [r.outcome for r in results] == ["created"] * 4
    assert len({r.framework.id for r in results}) == 4
    for index, result in enumerate(results):
        namesakes = [d for d in result.report if "imported as a separate" in d.action]
        assert len(namesakes) == index
        tree = framework_tree(session, framework_id=result.framework.id)
        assert len(tree) == len(raws[index]["CFItems"])
    summaries = list_frameworks(session)
    assert sorted(s.framework.title for s in summaries) == sorted(
        raw["CFDocument"]["title"] for raw in raws
    )


def wscb_to_ccss_links(session: Session, wscb_id: uuid.UUID) -> list[tuple[str, str]]:
    statement = (
        select(Association.association_type, Competency.human_coding_scheme)
        .join(Competency, Competency.id == Association.destination_competency_id)
        .where(Association.framework_id == wscb_id)
        .where(Competency.framework_id != wscb_id)
    )
    return sorted(session.execute(statement).tuples())


@pytest.mark.parametrize("ccss_first", [True, False])
def test_a_crosswalk_reaches_asn_identified_standards_in_either_import_order(
    session: Session, ccss_first: bool
) -> None:
    ccss = load(
        CASE_DATA_DIR / "opensalt" / "ccss-math_draft-export-2017_D10003FB.json"
    )
    wscb = load(CASE_DATA_DIR / "opensalt" / "what-standards-could-be_20c5134f.json")
    ccss_aliases = {
        str(uuid.uuid5(uuid.NAMESPACE_URL, item["identifier"])): item
        for item in ccss["CFItems"]
    }
    expected = sorted(
        (a["associationType"], ccss_aliases[key]["humanCodingScheme"])
        for a in wscb["CFAssociations"]
        if (key := a["destinationNodeURI"]["identifier"].lower()) in ccss_aliases
    )
    # SOURCES.md: 16 exactMatchOf and 1 precedes resolve through the alias.
    assert len(expected) == 17

    order = [ccss, wscb] if ccss_first else [wscb, ccss]
    results = {
        r.framework.title: r
        for r in (import_package(session, package=p) for p in order)
    }

    wscb_id = results["What Standards Could Be"].framework.id
    assert wscb_to_ccss_links(session, wscb_id) == expected


def test_isChildOf_order_and_parents_come_back_from_the_store(session: Session) -> None:
    raw = load(CASE_DATA_DIR / "opensalt" / "act-holistic-math_subset_a33fc64e.json")
    result = import_package(session, package=raw)

    tree = framework_tree(session, framework_id=result.framework.id)

    by_id = {e.competency.id: e for e in tree}
    parents_in_file = {
        a["originNodeURI"]["identifier"]: a["destinationNodeURI"]["identifier"]
        for a in raw["CFAssociations"]
    }
    for entry in tree:
        parent = by_id.get(entry.parent_id) if entry.parent_id else None
        given = parents_in_file[entry.competency.identifier]
        expected_parent = None if given == raw["CFDocument"]["identifier"] else given
        assert (parent.competency.identifier if parent else None) == expected_parent
    level = "H.A.MATH.GM.PF.2DFP.L1"
    assert [e.competency.human_coding_scheme for e in tree][3:8] == [
        level,
        f"{level}.1",
        f"{level}.2",
        f"{level}.3",
        f"{level}.4",
    ]
    assert [e.depth for e in tree][:5] == [0, 1, 2, 3, 4]


def test_search_matches_codes_first_then_statements(session: Session) -> None:
    raw = load(CASE_DATA_DIR / "opensalt" / "ccss-math_draft-export-2017_D10003FB.json")
    result = import_package(session, package=raw)

    by_code = search_competencies(session, query="ccss.math.content.6.rp.a.3")
    by_text = search_competencies(
        session, query="RATIO REASONING", framework_id=result.framework.id
    )

    codes = [c.human_coding_scheme for c in by_code]
    expected_codes = sorted(
        i["humanCodingScheme"]
        for i in raw["CFItems"]
        if i.get("humanCodingScheme", "")
        .lower()
        .startswith("ccss.math.content.6.rp.a.3")
    )
    assert codes == expected_codes
    assert by_text
    assert all(
        "ratio reasoning"
        in (c.full_statement + (c.abbreviated_statement or "")).lower()
        for c in by_text
    )
    assert search_competencies(session, query="100%_") == []


def test_progress_reaches_the_total(session: Session) -> None:
    raw = load(CASE_DATA_DIR / "opensalt" / "edge" / "smartlevel.json")
    seen: list[tuple[int, int]] = []

    import_package(session, package=raw, progress=lambda d, t: seen.append((d, t)))

    # 14 CFItems + 14 CFAssociations are written.
    assert seen[-1] == (28, 28)
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)


def test_the_bundled_framework_is_the_ccss_export_with_its_notice(
    session: Session,
) -> None:
    path = bundled_framework_path()
    notice = (path.parent / "NOTICE.md").read_text(encoding="utf-8")
    original = CASE_DATA_DIR / "opensalt" / "ccss-math_draft-export-2017_D10003FB.json"

    result = import_package(session, package=load(path))

    assert path.read_bytes() == original.read_bytes()
    assert (
        "© Copyright 2010. National Governors Association Center for Best Practices "
        "and Council of Chief State School Officers. All rights reserved."
    ) in notice
    assert result.framework.title == "Common Core State Standards for Mathematics"
    assert session.get(Framework, result.framework.id) is not None
