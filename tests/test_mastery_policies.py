"""Mastery policies: methods, scales, rollup rules, derived evidence, explanations.

Frameworks are written as the rows the CASE importer stores (see
tests/test_mastery.py). Unless a test says otherwise the scale is 0-4 with
mastery at 3, so a score of s out of 10 is worth s × 0.4 points. Every
expected value is worked out by hand in a comment beside it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.evidence.models import Evidence
from app.frameworks.models import Association, Competency
from app.mastery.models import MasteryPolicy
from app.mastery.policies import ScaleLevel, checked_policy, save_policy
from app.mastery.service import plan_recompute, recompute_in_batches
from app.organizations.service import get_default_organization_id
from app.settings import get_settings
from tests.test_mastery import (
    MONDAY,
    FrameworkRows,
    Tree,
    a_person,
    an_activity,
    record,
    stored,
)

TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)

FOUR_POINT_SCALE = [
    ScaleLevel("Beginning", Decimal(0)),
    ScaleLevel("Developing", Decimal(2)),
    ScaleLevel("Proficient", Decimal(3), mastery=True),
    ScaleLevel("Advanced", Decimal(4)),
]
FOUR_POINT_BODY = {
    "levels": [
        {"name": level.name, "points": float(level.points), "mastery": level.mastery}
        for level in FOUR_POINT_SCALE
    ]
}


def a_policy(
    method: str = "latest",
    calculation_int: int | None = None,
    *,
    levels: list[ScaleLevel] = FOUR_POINT_SCALE,
    rollup_rule: str = "all",
    rollup_share: Decimal | None = None,
) -> Any:
    return checked_policy(
        method=method,
        calculation_int=calculation_int,
        levels=levels,
        rollup_rule=rollup_rule,
        rollup_share=rollup_share,
        source="framework",
    )


def link(
    rows: FrameworkRows, origin: Competency, destination: Competency, kind: str
) -> None:
    """A CFAssociation of any type between two competencies we hold."""
    identifier = str(uuid.uuid4())
    rows.session.add(
        Association(
            framework_id=rows.framework.id,
            identifier=identifier,
            identifier_key=identifier,
            association_type=kind,
            origin_identifier=origin.identifier,
            origin_competency_id=origin.id,
            destination_identifier=destination.identifier,
            destination_competency_id=destination.id,
            association={"identifier": identifier},
        )
    )
    rows.session.flush()


def level_and_mastered(
    session: Session, person: Any, competency: Competency
) -> tuple[Decimal | None, bool] | None:
    row = stored(session, person, competency)
    return None if row is None else (row.level, row.mastered)


# Three scores recorded out of order; in the order they happened: Monday 5/10
# (2 points), Tuesday 9/10 (3.6 points), Wednesday 8/10 (3.2 points).
@pytest.mark.parametrize(
    ("method", "calculation_int", "level", "mastered"),
    [
        # the most recent, Wednesday's: 3.2
        ("latest", None, "3.20", True),
        # max(2, 3.6, 3.2) = 3.6
        ("highest", None, "3.60", True),
        # (2 + 3.6 + 3.2) / 3 = 8.8 / 3 = 2.9333… -> 2.93, below 3
        ("average", None, "2.93", False),
        # 0.65 × 3.2 + 0.35 × (2 + 3.6) / 2 = 2.08 + 0.98 = 3.06
        ("weighted_average", 65, "3.06", True),
        # start at 2; 0.65 × 3.6 + 0.35 × 2 = 3.04; 0.65 × 3.2 + 0.35 × 3.04
        # = 2.08 + 1.064 = 3.144 -> 3.14
        ("decaying_average", 65, "3.14", True),
        # scores at or above 3: 3.6 and 3.2, two of the two needed; mean 3.4
        ("n_mastery", 2, "3.40", True),
        # only two of the three needed reach 3: no result yet
        ("n_mastery", 3, None, False),
    ],
)
def test_each_method_turns_stored_evidence_into_a_stored_result(
    session: Session,
    method: str,
    calculation_int: int | None,
    level: str | None,
    mastered: bool,
) -> None:
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    save_policy(
        session,
        policy=a_policy(method, calculation_int),
        framework_id=rows.framework.id,
    )
    person = a_person(session)
    activity = an_activity(session, standard)

    record(session, person, activity, 8, 10, WEDNESDAY)
    record(session, person, activity, 5, 10, MONDAY)
    record(session, person, activity, 9, 10, TUESDAY)
    session.commit()

    row = stored(session, person, standard)
    assert row is not None
    assert row.level == (None if level is None else Decimal(level))
    assert row.mastered is mastered
    assert row.status == ("mastered" if mastered else "in_progress")
    assert (row.method, row.calculation_int, row.threshold) == (
        method,
        calculation_int,
        Decimal(3),
    )
    assert row.formula_version == f"{method}/1+rollup-all/1"
    assert row.parameters["mastery_points"] == "3"
    assert row.parameters["points_possible"] == "4"
    assert row.parameters["policy_source"] == "framework"
    assert row.evidence_count == 3


@pytest.mark.parametrize(
    ("score", "max_score", "levels", "expected"),
    [
        # 7 / 8 × 4 = 3.5
        (7, 8, FOUR_POINT_SCALE, "3.50"),
        # 12 / 10 is above the maximum: a full 4 points
        (12, 10, FOUR_POINT_SCALE, "4.00"),
        # 1 / 8 × 5 = 0.625 -> 0.63 half-up (half-even would give 0.62)
        (
            1,
            8,
            [
                ScaleLevel("No", Decimal(0)),
                ScaleLevel("Yes", Decimal(3), True),
                ScaleLevel("Top", Decimal(5)),
            ],
            "0.63",
        ),
    ],
)
def test_scores_are_normalised_onto_the_policy_scale(
    session: Session, score: int, max_score: int, levels: list, expected: str
) -> None:
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    save_policy(session, policy=a_policy(levels=levels), framework_id=rows.framework.id)
    person = a_person(session)
    activity = an_activity(session, standard)

    record(session, person, activity, score, max_score, MONDAY)
    session.commit()

    row = stored(session, person, standard)
    assert row is not None
    assert row.level == Decimal(expected)


def test_a_framework_policy_overrides_its_organization_and_the_default(
    session: Session, client: TestClient
) -> None:
    own = FrameworkRows(session, "Own policy")
    inherits = FrameworkRows(session, "Organization policy")
    own_standard = own.competency("A.1")
    inherited_standard = inherits.competency("B.1")
    organization_id = get_default_organization_id(session)
    session.commit()

    untouched = client.get(f"/api/v1/frameworks/{own.framework.id}/mastery-policy")
    assert untouched.status_code == 200
    # The default: latest on the 0-1 share scale, mastery at 0.80.
    assert {
        k: untouched.json()[k]
        for k in ("source", "method", "mastery_points", "points_possible")
    } == {
        "source": "default",
        "method": "latest",
        "mastery_points": 0.8,
        "points_possible": 1.0,
    }

    organization = client.put(
        f"/api/v1/organizations/{organization_id}/mastery-policy",
        json={"method": "highest", "scale": FOUR_POINT_BODY},
    )
    assert organization.status_code == 200, organization.text
    framework = client.put(
        f"/api/v1/frameworks/{own.framework.id}/mastery-policy",
        json={"method": "average", "scale": FOUR_POINT_BODY},
    )
    assert framework.status_code == 200, framework.text

    person = a_person(session)
    record(session, person, an_activity(session, own_standard), 10, 10, MONDAY)
    record(session, person, an_activity(session, own_standard), 5, 10, TUESDAY)
    record(session, person, an_activity(session, inherited_standard), 10, 10, MONDAY)
    record(session, person, an_activity(session, inherited_standard), 5, 10, TUESDAY)
    session.commit()

    # Own framework, average: (4 + 2) / 2 = 3.00, mastered.
    assert level_and_mastered(session, person, own_standard) == (Decimal("3.00"), True)
    # Organization's highest: max(4, 2) = 4.00.
    assert level_and_mastered(session, person, inherited_standard) == (
        Decimal("4.00"),
        True,
    )
    sources = {
        rows.framework.id: client.get(
            f"/api/v1/frameworks/{rows.framework.id}/mastery-policy"
        ).json()["source"]
        for rows in (own, inherits)
    }
    assert sources == {
        own.framework.id: "framework",
        inherits.framework.id: "organization",
    }


def scored_tree(session: Session, policy: Any) -> tuple[Tree, Any]:
    """S1 9/10 = 3.6 points (mastered), S2 5/10 = 2 (not), S3 8/10 = 3.2 (mastered)."""
    tree = Tree(session)
    save_policy(session, policy=policy, framework_id=tree.rows.framework.id)
    person = a_person(session)
    record(session, person, tree.a1, 9, 10, MONDAY)
    record(session, person, tree.a2, 5, 10, MONDAY)
    record(session, person, tree.a3, 8, 10, MONDAY)
    session.commit()
    return tree, person


def test_rollup_all_needs_every_component(session: Session) -> None:
    tree, person = scored_tree(session, a_policy(rollup_rule="all"))

    # C1: 1 of 2 mastered: 1 / 2 × 4 = 2.00, not all.
    assert level_and_mastered(session, person, tree.c1) == (Decimal("2.00"), False)
    # C2: 1 of 1: 4.00, mastered.
    assert level_and_mastered(session, person, tree.c2) == (Decimal("4.00"), True)
    # G: 2 of 3: 2 / 3 × 4 = 2.666… -> 2.67, not all.
    assert level_and_mastered(session, person, tree.grade) == (Decimal("2.67"), False)


def test_rollup_share_needs_that_share_of_components(session: Session) -> None:
    tree, person = scored_tree(
        session, a_policy(rollup_rule="share", rollup_share=Decimal("0.5"))
    )

    # C1: 1 / 2 = 0.5 >= 0.5, mastered; level 0.5 × 4 = 2.00.
    assert level_and_mastered(session, person, tree.c1) == (Decimal("2.00"), True)
    # G: 2 / 3 = 0.67 >= 0.5, mastered; level 2.67.
    assert level_and_mastered(session, person, tree.grade) == (Decimal("2.67"), True)


def test_rollup_points_is_the_mean_of_component_points(session: Session) -> None:
    tree, person = scored_tree(session, a_policy(rollup_rule="points"))

    # C1: (3.6 + 2) / 2 = 2.80 < 3.
    assert level_and_mastered(session, person, tree.c1) == (Decimal("2.80"), False)
    # C2: 3.2 / 1 = 3.20 >= 3.
    assert level_and_mastered(session, person, tree.c2) == (Decimal("3.20"), True)
    # G: (3.6 + 2 + 3.2) / 3 = 8.8 / 3 = 2.933… -> 2.93.
    assert level_and_mastered(session, person, tree.grade) == (Decimal("2.93"), False)


def test_rollup_points_counts_an_edge_given_twice_once(session: Session) -> None:
    tree = Tree(session)
    tree.rows.child_of(tree.s1, tree.c1)
    save_policy(
        session,
        policy=a_policy(rollup_rule="points"),
        framework_id=tree.rows.framework.id,
    )
    person = a_person(session)
    record(session, person, tree.a1, 9, 10, MONDAY)
    record(session, person, tree.a2, 5, 10, MONDAY)
    session.commit()

    # (3.6 + 2) / 2 = 2.80, not (3.6 + 3.6 + 2) / 3 = 3.07 with S1 doubled.
    assert level_and_mastered(session, person, tree.c1) == (Decimal("2.80"), False)


def test_rollup_points_ends_a_cycle(session: Session) -> None:
    rows = FrameworkRows(session)
    x = rows.competency("X")
    y = rows.competency("Y")
    rows.child_of(x, y)
    rows.child_of(y, x)
    save_policy(
        session, policy=a_policy(rollup_rule="points"), framework_id=rows.framework.id
    )
    person = a_person(session)
    record(session, person, an_activity(session, x), 9, 10, MONDAY)
    record(session, person, an_activity(session, y), 5, 10, MONDAY)
    session.commit()

    # Each is judged on {X, Y}: (3.6 + 2) / 2 = 2.80.
    assert level_and_mastered(session, person, x) == (Decimal("2.80"), False)
    assert level_and_mastered(session, person, y) == (Decimal("2.80"), False)


def test_evidence_flows_one_exact_match_hop_and_no_further(
    session: Session, client: TestClient
) -> None:
    first = FrameworkRows(session, "State standards")
    second = FrameworkRows(session, "District standards")
    third = FrameworkRows(session, "School standards")
    a = first.competency("A")
    b = second.competency("B")
    c = third.competency("C")
    link(second, b, a, "exactMatchOf")
    link(third, c, b, "exactMatchOf")
    person = a_person(session)
    activity = an_activity(session, a)

    evidence = record(session, person, activity, 9, 10, MONDAY)
    session.commit()

    # Default scale: 9 / 10 = 0.90 on A directly and on B derived (B is an
    # exactMatchOf A, read in either direction); C is two hops away.
    assert level_and_mastered(session, person, a) == (Decimal("0.90"), True)
    assert level_and_mastered(session, person, b) == (Decimal("0.90"), True)
    assert stored(session, person, c) is None

    explained = client.get(
        f"/api/v1/people/{person.id}/mastery/{b.id}/explanation"
    ).json()
    assert explained["evidence"] == [
        {
            "evidence_id": str(evidence.id),
            "activity_id": str(activity.id),
            "occurred_at": "2024-05-06T09:00:00Z",
            "received_at": explained["evidence"][0]["received_at"],
            "score": 9.0,
            "max_score": 10.0,
            "points": 0.9,
            "derived": True,
            "derivation": "exactMatchOf",
            "origin_competency_id": str(a.id),
        }
    ]


def test_evidence_on_a_replaced_item_counts_for_its_replacement(
    session: Session, client: TestClient
) -> None:
    rows = FrameworkRows(session)
    old = rows.competency("OLD")
    new = rows.competency("NEW")
    link(rows, old, new, "replacedBy")
    person = a_person(session)
    on_old = an_activity(session, old)
    on_new = an_activity(session, new)

    record(session, person, on_old, 6, 10, MONDAY)
    record(session, person, on_new, 9, 10, TUESDAY)
    session.commit()

    # NEW sees Monday's 0.60 (derived from OLD) and Tuesday's 0.90; latest
    # 0.90. OLD is not fed by its replacement: only its own 0.60.
    new_row = stored(session, person, new)
    assert new_row is not None
    assert (new_row.level, new_row.evidence_count) == (Decimal("0.90"), 2)
    assert level_and_mastered(session, person, old) == (Decimal("0.60"), False)

    explained = client.get(
        f"/api/v1/people/{person.id}/mastery/{new.id}/explanation"
    ).json()
    assert [
        (e["points"], e["derivation"], e["origin_competency_id"])
        for e in explained["evidence"]
    ] == [(0.6, "replacedBy", str(old.id)), (0.9, None, None)]


def test_the_explanation_shows_method_evidence_and_arithmetic(
    session: Session, client: TestClient
) -> None:
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    save_policy(
        session, policy=a_policy("weighted_average", 65), framework_id=rows.framework.id
    )
    person = a_person(session)
    activity = an_activity(session, standard)
    wednesday = record(session, person, activity, 8, 10, WEDNESDAY)
    monday = record(session, person, activity, 5, 10, MONDAY)
    tuesday = record(session, person, activity, 9, 10, TUESDAY)
    session.commit()

    response = client.get(
        f"/api/v1/people/{person.id}/mastery/{standard.id}/explanation"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["method"], body["calculation_int"], body["formula_version"]) == (
        "weighted_average",
        65,
        "weighted_average/1+rollup-all/1",
    )
    assert body["parameters"]["mastery_points"] == "3"
    assert [e["evidence_id"] for e in body["evidence"]] == [
        str(monday.id),
        str(tuesday.id),
        str(wednesday.id),
    ]
    # 5, 9, 8 out of 10 on 0-4: 2, 3.6, 3.2 points.
    assert [e["points"] for e in body["evidence"]] == [2.0, 3.6, 3.2]
    # 0.65 × 3.2 + 0.35 × 2.8 = 2.08 + 0.98 = 3.06, at least 3: Proficient.
    assert "0.65 × 3.2 + 0.35 × 2.8 = 3.06" in body["steps"]
    assert body["steps"][-1] == "3.06 ≥ mastery_points 3, so mastered"
    assert (body["level"], body["level_name"], body["mastered"]) == (
        3.06,
        "Proficient",
        True,
    )
    assert body["stored"]["level"] == 3.06


def test_the_explanation_of_a_rollup_lists_its_components(
    session: Session, client: TestClient
) -> None:
    tree, person = scored_tree(session, a_policy(rollup_rule="points"))

    body = client.get(
        f"/api/v1/people/{person.id}/mastery/{tree.c1.id}/explanation"
    ).json()

    assert body["rolled_up"] is True
    assert {(c["competency_id"], c["level"]) for c in body["components"]} == {
        (str(tree.s1.id), 3.6),
        (str(tree.s2.id), 2.0),
    }
    # (3.6 + 2) / 2 = 2.8, the components listed in the order summed.
    shown = {str(tree.s1.id): "3.6", str(tree.s2.id): "2"}
    added = " + ".join(shown[c["competency_id"]] for c in body["components"])
    assert (
        f"mean points = ({added}) / 2 → 2.80 (rounded half-up to 0.01)"
        in (body["steps"])
    )


def test_the_explanation_refuses_an_unknown_competency(
    session: Session, client: TestClient
) -> None:
    person = a_person(session)
    session.commit()

    response = client.get(
        f"/api/v1/people/{person.id}/mastery/{uuid.uuid4()}/explanation"
    )

    assert response.status_code == 404
    assert response.json()["field"] == "competency_id"


def test_person_mastery_rows_carry_method_parameters_and_formula(
    session: Session, client: TestClient
) -> None:
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    save_policy(
        session, policy=a_policy("n_mastery", 1), framework_id=rows.framework.id
    )
    person = a_person(session)
    record(session, person, an_activity(session, standard), 8, 10, MONDAY)
    session.commit()

    body = client.get(f"/api/v1/people/{person.id}/mastery").json()

    (row,) = body["competencies"]
    # 8 / 10 × 4 = 3.2 reaches 3 once; n = 1: mean 3.2.
    assert (row["method"], row["calculation_int"], row["level"]) == (
        "n_mastery",
        1,
        3.2,
    )
    assert row["formula_version"] == "n_mastery/1+rollup-all/1"
    assert row["parameters"]["points_possible"] == "4"


def two_learners(session: Session) -> tuple[FrameworkRows, Competency, Any, Any]:
    """Ada: 9/10 on Monday, 5/10 on Tuesday. Bo: 7/10 on Monday."""
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    activity = an_activity(session, standard)
    ada = a_person(session, "ada")
    bo = a_person(session, "bo")
    record(session, ada, activity, 9, 10, MONDAY)
    record(session, ada, activity, 5, 10, TUESDAY)
    record(session, bo, activity, 7, 10, MONDAY)
    session.commit()
    return rows, standard, ada, bo


def test_a_preview_reports_changes_and_stores_nothing(
    session: Session, client: TestClient
) -> None:
    rows, standard, ada, bo = two_learners(session)

    response = client.post(
        f"/api/v1/frameworks/{rows.framework.id}/mastery-policy/preview",
        json={"method": "highest"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    # Latest now: Ada 0.50, Bo 0.70. Highest: Ada 0.90 (newly mastered), Bo
    # 0.70 (unchanged).
    assert {
        k: body[k]
        for k in (
            "people",
            "changed",
            "unchanged",
            "newly_mastered",
            "no_longer_mastered",
            "listed_all",
        )
    } == {
        "people": 2,
        "changed": 1,
        "unchanged": 1,
        "newly_mastered": 1,
        "no_longer_mastered": 0,
        "listed_all": True,
    }
    assert body["changes"] == [
        {
            "person_id": str(ada.id),
            "competency_id": str(standard.id),
            "before_level": 0.5,
            "before_mastered": False,
            "after_level": 0.9,
            "after_mastered": True,
        }
    ]
    assert level_and_mastered(session, ada, standard) == (Decimal("0.50"), False)
    assert session.scalar(select(func.count()).select_from(MasteryPolicy)) == 0


def test_applying_a_policy_recomputes_stored_mastery(
    session: Session, client: TestClient
) -> None:
    rows, standard, ada, bo = two_learners(session)

    response = client.put(
        f"/api/v1/frameworks/{rows.framework.id}/mastery-policy",
        json={"method": "highest"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["recomputed_people"] == 2
    # Ada: max(0.9, 0.5) = 0.90; Bo: 0.70.
    assert level_and_mastered(session, ada, standard) == (Decimal("0.90"), True)
    assert level_and_mastered(session, bo, standard) == (Decimal("0.70"), False)
    row = stored(session, ada, standard)
    assert row is not None and row.method == "highest"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "median"}, "method"),
        ({"method": "weighted_average"}, "calculation_int"),
        ({"method": "latest", "calculation_int": 3}, "calculation_int"),
        (
            {
                "method": "latest",
                "scale": {
                    "levels": [
                        {"name": "a", "points": 0, "mastery": True},
                        {"name": "b", "points": 4, "mastery": True},
                    ]
                },
            },
            "scale.levels",
        ),
        (
            {
                "method": "latest",
                "scale": {
                    "levels": [
                        {"name": "a", "points": 0, "mastery": True},
                        {"name": "b", "points": 4},
                    ]
                },
            },
            "scale.levels.0.points",
        ),
        ({"method": "latest", "rollup": {"rule": "share"}}, "rollup.share"),
        ({"method": "latest", "rollup": {"rule": "most"}}, "rollup.rule"),
    ],
)
def test_a_bad_policy_is_refused_and_the_stored_one_kept(
    session: Session, client: TestClient, body: dict, field: str
) -> None:
    rows, standard, ada, _bo = two_learners(session)
    path = f"/api/v1/frameworks/{rows.framework.id}/mastery-policy"
    assert client.put(path, json={"method": "highest"}).status_code == 200

    response = client.put(path, json=body)
    preview = client.post(f"{path}/preview", json=body)

    for refused in (response, preview):
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["field"] == field
    assert client.get(path).json()["method"] == "highest"
    assert level_and_mastered(session, ada, standard) == (Decimal("0.90"), True)


def test_policy_routes_refuse_unknown_records(client: TestClient) -> None:
    missing = uuid.uuid4()

    framework = client.get(f"/api/v1/frameworks/{missing}/mastery-policy")
    organization = client.put(
        f"/api/v1/organizations/{missing}/mastery-policy", json={"method": "latest"}
    )

    assert (framework.status_code, framework.json()["field"]) == (404, "framework_id")
    assert (organization.status_code, organization.json()["field"]) == (
        404,
        "organization_id",
    )


def test_a_batched_recompute_rewrites_stale_rows(session: Session) -> None:
    rows, standard, ada, bo = two_learners(session)
    # Stored without recomputing, so the rows still say "latest".
    save_policy(session, policy=a_policy("average"), framework_id=rows.framework.id)
    session.commit()

    plan = plan_recompute(session, framework_id=rows.framework.id)
    batches = list(recompute_in_batches(session, plan=plan, batch_size=1))
    session.commit()

    assert batches == [1, 1]
    # Ada: (3.6 + 2) / 2 = 2.80; Bo: 7 / 10 × 4 = 2.80.
    assert level_and_mastered(session, ada, standard) == (Decimal("2.80"), False)
    assert level_and_mastered(session, bo, standard) == (Decimal("2.80"), False)


def test_the_recompute_command_recomputes_and_drops_rows_without_evidence(
    session: Session,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows, standard, ada, bo = two_learners(session)
    save_policy(session, policy=a_policy("highest"), framework_id=rows.framework.id)
    # Bo's only evidence voided behind the engine's back: his row must go.
    for item in session.scalars(select(Evidence).where(Evidence.person_id == bo.id)):
        item.voided_at = WEDNESDAY
    session.commit()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    get_settings.cache_clear()

    try:
        result = CliRunner().invoke(
            cli, ["mastery", "recompute", "--framework", str(rows.framework.id)]
        )
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    # Ada under highest: max(3.6, 2) = 3.60.
    assert level_and_mastered(session, ada, standard) == (Decimal("3.60"), True)
    assert stored(session, bo, standard) is None
    assert "Recomputed mastery of 2 people on 1 competencies." in result.output
