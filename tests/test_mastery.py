"""Mastery by the most recent score, and its rollup along isChildOf.

Frameworks here are written as the rows the CASE importer stores, so the
tests do not depend on parsing a package. Every expected level is worked out
by hand in a comment beside it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.activities.models import Activity
from app.activities.service import align_activity, upsert_activity
from app.evidence.models import Evidence
from app.evidence.service import record_evidence
from app.frameworks.models import Association, Competency, Framework
from app.frameworks.service import import_package
from app.main import create_app
from app.mastery.models import Mastery
from app.mastery.service import (
    level_of,
    mastery_for_activity,
    mastery_for_person,
    recompute_mastery,
)
from app.organizations.service import get_default_organization_id
from app.people.models import Person
from app.people.service import upsert_lti_person
from app.settings import Settings
from tests.conftest import CASE_DATA_DIR, bearer_token_for

THRESHOLD = Decimal("0.80")
MONDAY = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
ISSUER = "https://lms.example.edu"


class FrameworkRows:
    """A framework written straight into the tables the CASE importer fills."""

    def __init__(self, session: Session, title: str = "Test mathematics") -> None:
        self.session = session
        identifier = str(uuid.uuid4())
        self.framework = Framework(
            organization_id=get_default_organization_id(session),
            identifier=identifier,
            identifier_key=identifier,
            title=title,
            content_hash="0" * 64,
            document={"identifier": identifier, "title": title},
        )
        session.add(self.framework)
        self.position = 0

    def competency(self, code: str) -> Competency:
        identifier = str(uuid.uuid4())
        self.position += 1
        competency = Competency(
            framework=self.framework,
            identifier=identifier,
            identifier_key=identifier,
            human_coding_scheme=code,
            full_statement=f"Statement of {code}",
            list_position=self.position,
            item={"identifier": identifier, "humanCodingScheme": code},
        )
        self.session.add(competency)
        self.session.flush()
        return competency

    def child_of(self, child: Competency, parent: Competency) -> None:
        """An isChildOf association: origin is the child, destination the parent."""
        identifier = str(uuid.uuid4())
        self.session.add(
            Association(
                framework_id=self.framework.id,
                identifier=identifier,
                identifier_key=identifier,
                association_type="isChildOf",
                origin_identifier=child.identifier,
                origin_competency_id=child.id,
                destination_identifier=parent.identifier,
                destination_competency_id=parent.id,
                association={"identifier": identifier},
            )
        )
        self.session.flush()


def a_person(session: Session, sub: str = "learner-1") -> Person:
    return upsert_lti_person(
        session,
        organization_id=get_default_organization_id(session),
        issuer=ISSUER,
        sub=sub,
    )


def an_activity(session: Session, *competencies: Competency) -> Activity:
    activity = upsert_activity(
        session,
        organization_id=get_default_organization_id(session),
        source="district-assessments",
        external_id=str(uuid.uuid4()),
        kind="external",
    )
    align_activity(
        session,
        activity_id=activity.id,
        competency_ids=[c.id for c in competencies],
        threshold=THRESHOLD,
    )
    return activity


def record(
    session: Session,
    person: Person,
    activity: Activity,
    score: int | str,
    max_score: int | str,
    occurred_at: datetime,
    threshold: Decimal = THRESHOLD,
) -> Evidence:
    return record_evidence(
        session,
        organization_id=person.organization_id,
        person_id=person.id,
        activity_id=activity.id,
        score=Decimal(score),
        max_score=Decimal(max_score),
        occurred_at=occurred_at,
        source="test",
        threshold=threshold,
    ).evidence


def stored(session: Session, person: Person, competency: Competency) -> Mastery | None:
    session.expire_all()
    return session.get(Mastery, (person.id, competency.id))


@pytest.mark.parametrize(
    ("score", "max_score", "expected"),
    [
        # 7 / 8 = 0.875 -> 0.88
        (7, 8, "0.88"),
        # 1 / 8 = 0.125 -> 0.13 half-up (banker's rounding would give 0.12)
        (1, 8, "0.13"),
        # 5 / 8 = 0.625 -> 0.63 half-up (banker's rounding would give 0.62)
        (5, 8, "0.63"),
        # 2 / 3 = 0.6666... -> 0.67
        (2, 3, "0.67"),
        # 1 / 3 = 0.3333... -> 0.33
        (1, 3, "0.33"),
        # 10 / 8 is above the maximum: capped at 1.00
        (10, 8, "1.00"),
        (0, 8, "0.00"),
    ],
)
def test_level_is_the_share_of_the_maximum_rounded_half_up(
    score: int, max_score: int, expected: str
) -> None:
    assert level_of(score=Decimal(score), max_score=Decimal(max_score)) == Decimal(
        expected
    )


def test_half_up_differs_from_round_on_an_exact_half() -> None:
    # 0.125 is exact in binary and in decimal; round() goes to the even 0.12.
    assert round(Decimal("0.125"), 2) == Decimal("0.12")
    assert level_of(score=Decimal(1), max_score=Decimal(8)) == Decimal("0.13")


def test_latest_is_chosen_by_when_it_happened_not_when_it_arrived(
    session: Session,
) -> None:
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    person = a_person(session)
    activity = an_activity(session, standard)

    # Tuesday's 9/10 arrives first, Monday's 3/10 arrives later: Tuesday's
    # is the most recent, 9 / 10 = 0.90 >= 0.80.
    record(session, person, activity, 9, 10, MONDAY + timedelta(days=1))
    record(session, person, activity, 3, 10, MONDAY)
    session.commit()

    row = stored(session, person, standard)
    assert row is not None
    assert (row.status, row.level, row.mastered) == ("mastered", Decimal("0.90"), True)
    assert row.evidence_count == 2
    assert row.method == "latest"
    assert row.threshold == THRESHOLD
    assert row.rolled_up is False


def test_a_tie_on_occurred_at_goes_to_the_later_arrival(session: Session) -> None:
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    person = a_person(session)
    activity = an_activity(session, standard)
    organization_id = person.organization_id

    # Same occurred_at; the 4/10 was received an hour after the 10/10, so it
    # stands: 4 / 10 = 0.40.
    for score, received_at in [(4, MONDAY + timedelta(hours=2)), (10, MONDAY)]:
        session.add(
            Evidence(
                organization_id=organization_id,
                person_id=person.id,
                activity_id=activity.id,
                score=Decimal(score),
                max_score=Decimal(10),
                occurred_at=MONDAY,
                received_at=received_at,
                source="test",
                idempotency_key=f"tie-{score}",
            )
        )
    session.flush()
    recompute_mastery(
        session, person_id=person.id, competency_ids=[standard.id], threshold=THRESHOLD
    )
    session.commit()

    row = stored(session, person, standard)
    assert row is not None
    assert (row.status, row.level) == ("in_progress", Decimal("0.40"))


def test_voided_evidence_no_longer_counts(session: Session) -> None:
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    person = a_person(session)
    activity = an_activity(session, standard)
    record(session, person, activity, 6, 10, MONDAY)
    latest = record(session, person, activity, 10, 10, MONDAY + timedelta(days=1))

    latest.voided_at = MONDAY + timedelta(days=2)
    latest.void_reason = "graded against the wrong rubric"
    recompute_mastery(
        session, person_id=person.id, competency_ids=[standard.id], threshold=THRESHOLD
    )
    session.commit()

    # Only Monday's 6 / 10 = 0.60 is left.
    row = stored(session, person, standard)
    assert row is not None
    assert (row.status, row.level, row.evidence_count) == (
        "in_progress",
        Decimal("0.60"),
        1,
    )


@pytest.mark.parametrize(
    ("score", "max_score", "level", "status"),
    [
        # 4 / 5 = 0.80: exactly the threshold counts as mastery.
        (4, 5, "0.80", "mastered"),
        # 79 / 100 = 0.79: one hundredth short.
        (79, 100, "0.79", "in_progress"),
        # 159 / 200 = 0.795 -> 0.80 half-up; the rounded level is what is judged.
        (159, 200, "0.80", "mastered"),
        # 1589 / 2000 = 0.7945 -> 0.79.
        (1589, 2000, "0.79", "in_progress"),
    ],
)
def test_threshold_boundary(
    session: Session, score: int, max_score: int, level: str, status: str
) -> None:
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    person = a_person(session)
    activity = an_activity(session, standard)

    record(session, person, activity, score, max_score, MONDAY)
    session.commit()

    row = stored(session, person, standard)
    assert row is not None
    assert (row.level, row.status, row.mastered) == (
        Decimal(level),
        status,
        status == "mastered",
    )


def test_the_threshold_can_be_set(session: Session) -> None:
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    person = a_person(session)
    activity = an_activity(session, standard)

    # 7 / 8 = 0.88: mastered at 0.80, not at 0.90.
    record(session, person, activity, 7, 8, MONDAY, threshold=Decimal("0.90"))
    session.commit()

    row = stored(session, person, standard)
    assert row is not None
    assert (row.level, row.mastered, row.threshold) == (
        Decimal("0.88"),
        False,
        Decimal("0.90"),
    )


class Tree:
    """Grade G; clusters C1 (standards S1, S2) and C2 (standard S3).

    G <- C1 <- S1, S2 and G <- C2 <- S3, each arrow an isChildOf. Activities
    A1, A2, A3 are aligned to S1, S2, S3; the grade and clusters to none.
    """

    def __init__(self, session: Session) -> None:
        rows = FrameworkRows(session)
        self.rows = rows
        self.grade = rows.competency("G")
        self.c1 = rows.competency("G.C1")
        self.c2 = rows.competency("G.C2")
        self.s1 = rows.competency("G.C1.S1")
        self.s2 = rows.competency("G.C1.S2")
        self.s3 = rows.competency("G.C2.S3")
        rows.child_of(self.c1, self.grade)
        rows.child_of(self.c2, self.grade)
        rows.child_of(self.s1, self.c1)
        rows.child_of(self.s2, self.c1)
        rows.child_of(self.s3, self.c2)
        self.a1 = an_activity(session, self.s1)
        self.a2 = an_activity(session, self.s2)
        self.a3 = an_activity(session, self.s3)


def standing(session: Session, person: Person, competency: Competency) -> tuple:
    row = stored(session, person, competency)
    if row is None:
        return ("no row",)
    return (row.status, row.level, row.rolled_up)


def test_rollup_follows_is_child_of_up_the_tree(session: Session) -> None:
    tree = Tree(session)
    person = a_person(session)

    # S1: 9 / 10 = 0.90 mastered. S2: 7 / 10 = 0.70 in progress.
    record(session, person, tree.a1, 9, 10, MONDAY)
    record(session, person, tree.a2, 7, 10, MONDAY)
    session.commit()

    assert standing(session, person, tree.s1) == ("mastered", Decimal("0.90"), False)
    assert standing(session, person, tree.s2) == ("in_progress", Decimal("0.70"), False)
    # C1: 1 of its 2 aligned descendants mastered: 1 / 2 = 0.50.
    assert standing(session, person, tree.c1) == ("in_progress", Decimal("0.50"), True)
    # C2: S3 has no evidence, so C2 has none either: no row is kept.
    assert standing(session, person, tree.c2) == ("no row",)
    # G: aligned descendants S1, S2, S3; 1 of 3 mastered: 0.333... -> 0.33.
    assert standing(session, person, tree.grade) == (
        "in_progress",
        Decimal("0.33"),
        True,
    )

    # S2 retaken on Tuesday: 8 / 10 = 0.80 mastered. C1: 2 / 2 = 1.00.
    # G: 2 / 3 = 0.666... -> 0.67.
    record(session, person, tree.a2, 8, 10, MONDAY + timedelta(days=1))
    session.commit()
    assert standing(session, person, tree.c1) == ("mastered", Decimal("1.00"), True)
    assert standing(session, person, tree.grade) == (
        "in_progress",
        Decimal("0.67"),
        True,
    )

    # S3: 10 / 10. C2: 1 / 1 = 1.00, G: 3 / 3 = 1.00, both mastered.
    record(session, person, tree.a3, 10, 10, MONDAY + timedelta(days=2))
    session.commit()
    assert standing(session, person, tree.c2) == ("mastered", Decimal("1.00"), True)
    assert standing(session, person, tree.grade) == ("mastered", Decimal("1.00"), True)
    grade_row = stored(session, person, tree.grade)
    assert grade_row is not None
    # Evidence behind G: S1's one, S2's two, S3's one.
    assert grade_row.evidence_count == 4


def test_rollup_is_per_person(session: Session) -> None:
    tree = Tree(session)
    ada = a_person(session, "ada")
    bo = a_person(session, "bo")

    record(session, ada, tree.a1, 10, 10, MONDAY)
    record(session, bo, tree.a2, 10, 10, MONDAY)
    session.commit()

    # Each has 1 of C1's 2 aligned descendants mastered: 0.50.
    assert standing(session, ada, tree.c1) == ("in_progress", Decimal("0.50"), True)
    assert standing(session, bo, tree.c1) == ("in_progress", Decimal("0.50"), True)


def test_an_edge_given_twice_counts_once(session: Session) -> None:
    tree = Tree(session)
    tree.rows.child_of(tree.s1, tree.c1)
    person = a_person(session)

    record(session, person, tree.a1, 10, 10, MONDAY)
    session.commit()

    # C1 still has two aligned descendants (S1 once, S2): 1 / 2 = 0.50, not the
    # 2 / 3 = 0.67 a doubled S1 would give.
    assert standing(session, person, tree.c1) == ("in_progress", Decimal("0.50"), True)


def test_a_cycle_in_the_framework_ends_the_walk(session: Session) -> None:
    rows = FrameworkRows(session)
    x = rows.competency("X")
    y = rows.competency("Y")
    rows.child_of(x, y)
    rows.child_of(y, x)
    person = a_person(session)
    ax = an_activity(session, x)
    an_activity(session, y)

    record(session, person, ax, 9, 10, MONDAY)
    session.commit()

    # Each is the other's descendant, so each is judged on {X, Y}: X mastered
    # (0.90), Y without evidence: 1 / 2 = 0.50.
    assert standing(session, person, x) == ("in_progress", Decimal("0.50"), True)
    assert standing(session, person, y) == ("in_progress", Decimal("0.50"), True)


def test_a_parent_aligned_itself_counts_its_own_evidence_too(
    session: Session,
) -> None:
    rows = FrameworkRows(session)
    cluster = rows.competency("C")
    standard = rows.competency("C.S")
    rows.child_of(standard, cluster)
    person = a_person(session)
    on_cluster = an_activity(session, cluster)
    on_standard = an_activity(session, standard)

    # Components of C: C itself (6 / 10 = 0.60, not mastered) and C.S
    # (10 / 10 mastered): 1 / 2 = 0.50.
    record(session, person, on_cluster, 6, 10, MONDAY)
    record(session, person, on_standard, 10, 10, MONDAY)
    session.commit()

    assert standing(session, person, cluster) == ("in_progress", Decimal("0.50"), True)


def test_mastery_for_person_lists_the_evidence_behind_each_competency(
    session: Session,
) -> None:
    tree = Tree(session)
    person = a_person(session)
    late = record(session, person, tree.a2, 8, 10, MONDAY + timedelta(days=3))
    early = record(session, person, tree.a1, 9, 10, MONDAY)
    middle = record(session, person, tree.a2, 5, 10, MONDAY + timedelta(days=1))
    session.commit()

    standings = {
        m.competency.human_coding_scheme: m
        for m in mastery_for_person(session, person_id=person.id)
    }

    # Rows exist for G, C1, S1, S2; C2 and S3 have no evidence.
    assert set(standings) == {"G", "G.C1", "G.C1.S1", "G.C1.S2"}
    assert [e.id for e in standings["G.C1"].evidence] == [early.id, middle.id, late.id]
    assert [e.id for e in standings["G.C1.S2"].evidence] == [middle.id, late.id]
    # S2's latest is 8 / 10 = 0.80: mastered, so C1 is 2 / 2 = 1.00.
    assert standings["G.C1.S2"].level == Decimal("0.80")
    assert standings["G.C1"].status == "mastered"
    assert standings["G.C1"].threshold == THRESHOLD
    assert standings["G.C1"].method == "latest"


def test_mastery_for_activity_covers_every_aligned_competency(
    session: Session,
) -> None:
    rows = FrameworkRows(session)
    first = rows.competency("A.1")
    second = rows.competency("A.2")
    person = a_person(session)
    newcomer = a_person(session, "newcomer")
    activity = an_activity(session, first, second)
    record(session, person, activity, 3, 4, MONDAY)
    session.commit()

    seen = mastery_for_activity(session, person_id=person.id, activity_id=activity.id)
    unseen = mastery_for_activity(
        session, person_id=newcomer.id, activity_id=activity.id
    )

    # 3 / 4 = 0.75 < 0.80, for both competencies the activity is aligned to.
    assert [(m.competency.id, m.status, m.level) for m in seen] == [
        (first.id, "in_progress", Decimal("0.75")),
        (second.id, "in_progress", Decimal("0.75")),
    ]
    assert [(m.status, m.level, m.mastered, m.evidence) for m in unseen] == [
        ("no_evidence", None, False, []),
        ("no_evidence", None, False, []),
    ]


def test_mastery_api_shows_each_competency_with_its_evidence(
    session: Session, client: TestClient
) -> None:
    tree = Tree(session)
    person = a_person(session)
    record(session, person, tree.a1, 7, 8, MONDAY)
    session.commit()

    response = client.get(f"/api/v1/people/{person.id}/mastery")

    assert response.status_code == 200
    body = response.json()
    assert body["person_id"] == str(person.id)
    by_code = {c["human_coding_scheme"]: c for c in body["competencies"]}
    assert set(by_code) == {"G", "G.C1", "G.C1.S1"}
    s1 = by_code["G.C1.S1"]
    # 7 / 8 = 0.875 -> 0.88 >= 0.80.
    assert {k: s1[k] for k in ("status", "level", "mastered", "rolled_up")} == {
        "status": "mastered",
        "level": 0.88,
        "mastered": True,
        "rolled_up": False,
    }
    assert s1["id"] == str(tree.s1.id)
    assert s1["identifier"] == tree.s1.identifier
    assert s1["statement"] == "Statement of G.C1.S1"
    assert (s1["threshold"], s1["method"]) == (0.8, "latest")
    assert [(e["score"], e["max_score"]) for e in s1["evidence"]] == [(7, 8)]
    # G: 1 of 3 aligned descendants mastered: 0.33.
    assert (by_code["G"]["level"], by_code["G"]["rolled_up"]) == (0.33, True)


def test_mastery_api_answers_404_for_an_unknown_person(client: TestClient) -> None:
    response = client.get(f"/api/v1/people/{uuid.uuid4()}/mastery")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "person_id"


def test_the_api_judges_with_the_configured_threshold(
    session: Session, settings: Settings
) -> None:
    strict = create_app(
        settings.model_copy(update={"mastery_threshold": Decimal("0.9")})
    )
    rows = FrameworkRows(session)
    standard = rows.competency("A.1")
    person = a_person(session)
    activity = an_activity(session, standard)
    session.commit()

    with TestClient(strict) as client:
        token = bearer_token_for(strict, scopes=["evidence:write"])
        response = client.post(
            "/api/v1/evidence",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "person": {"id": str(person.id)},
                "activity": {"id": str(activity.id)},
                "score": 7,
                "max_score": 8,
                "occurred_at": "2024-05-06T09:00:00Z",
            },
        )
    assert response.status_code == 201

    # 7 / 8 = 0.88: short of a 0.90 threshold.
    row = stored(session, person, standard)
    assert row is not None
    assert (row.level, row.mastered, row.threshold) == (
        Decimal("0.88"),
        False,
        Decimal("0.90"),
    )
    assert session.scalar(select(func.count()).select_from(Mastery)) == 1


def test_rollup_over_an_imported_opensalt_framework(session: Session) -> None:
    """The ACT Holistic Framework subset, imported by the CASE importer.

    Its isChildOf chain is GM <- GM.PF <- GM.PF.2DFP <- GM.PF.2DFP.L1, and L1
    has 24 children, among them L1.1 and L1.3 (checked against the file).
    """
    package = json.loads(
        (
            CASE_DATA_DIR / "opensalt" / "act-holistic-math_subset_a33fc64e.json"
        ).read_text()
    )
    framework = import_package(session, package=package).framework
    by_code = {
        c.human_coding_scheme: c
        for c in session.scalars(
            select(Competency).where(Competency.framework_id == framework.id)
        )
    }
    person = a_person(session)
    on_first = an_activity(session, by_code["H.A.MATH.GM.PF.2DFP.L1.1"])
    an_activity(session, by_code["H.A.MATH.GM.PF.2DFP.L1.3"])

    # L1.1: 4 / 4 = 1.00 mastered; L1.3 has no evidence.
    record(session, person, on_first, 4, 4, MONDAY)
    session.commit()

    # Every ancestor has the same two aligned descendants, 1 of them
    # mastered: 1 / 2 = 0.50, all the way up the four levels.
    for code in [
        "H.A.MATH.GM.PF.2DFP.L1",
        "H.A.MATH.GM.PF.2DFP",
        "H.A.MATH.GM.PF",
        "H.A.MATH.GM",
    ]:
        assert standing(session, person, by_code[code]) == (
            "in_progress",
            Decimal("0.50"),
            True,
        ), code
    assert standing(session, person, by_code["H.A.MATH.GM.PF.2DFP.L1.3"]) == ("no row",)
