"""Gap and impact reports, checked against values worked out by hand.

The gap scenario (threshold 0.80), times t0 < t1 < t2:

    state S > district D > schools A and B;  S > district E
    framework: P with children C1 and C2 (isChildOf), and C3 on its own
    activities: Quiz 1, Quiz 2 (C1) and Quiz 3 (C2) in school A's course K;
                Quiz B (C1) in school B; Quiz E (C1) in district E

    ana (A): Quiz 1 t0 4/10, Quiz 2 t1 9/10, Quiz 3 t2 8/10
    ben (A): Quiz 1 t0 9/10, Quiz 2 t1 10/10
    cai (A): Quiz 2 t0 5/10
    dee (A): nothing; a Learner on K's roster
    eve (B): Quiz B t0 6/10, Quiz B t1 8/10
    fay (E): Quiz E t0 10/10
    ivy (default organization): an Instructor on K's roster
    gus (default organization): a Learner who left K (inactive)

Mastery (latest score; P rolls up C1 and C2):

    ana: P mastered 1.00 (2 of 2), C1 mastered 0.90, C2 mastered 0.80
    ben: P in_progress 0.50 (1 of 2), C1 mastered 1.00
    cai: P in_progress 0.00 (0 of 2), C1 in_progress 0.50
    eve: P in_progress 0.50, C1 mastered 0.80
    fay: P in_progress 0.50, C1 mastered 1.00
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.activities.models import Activity
from app.activities.service import align_activity, upsert_activity
from app.contexts.models import Context
from app.contexts.service import upsert_context
from app.evidence.service import record_evidence
from app.frameworks.models import Association, Competency, Framework
from app.lms_services.models import ContextMembership
from app.organizations.models import Organization
from app.organizations.service import get_default_organization_id
from app.people.models import Person
from app.people.service import Identifier, create_person
from tests.conftest import bearer_token_for

THRESHOLD = Decimal("0.80")
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=2)
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


class Store:
    """Writes organizations, a framework, activities, people and evidence."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.position = 0
        self.framework: Framework | None = None

    def organization(
        self, slug: str, kind: str, parent: Organization | None = None
    ) -> Organization:
        organization = Organization(
            slug=slug,
            name=slug.title(),
            kind=kind,
            parent_id=parent.id if parent else None,
        )
        self.session.add(organization)
        self.session.flush()
        return organization

    def new_framework(
        self, title: str = "Test mathematics", uri: str | None = None
    ) -> Framework:
        identifier = str(uuid.uuid4())
        self.framework = Framework(
            organization_id=get_default_organization_id(self.session),
            identifier=identifier,
            identifier_key=identifier,
            uri=uri,
            title=title,
            content_hash="0" * 64,
            document={"identifier": identifier, "title": title},
        )
        self.session.add(self.framework)
        self.session.flush()
        return self.framework

    def competency(self, code: str, uri: str | None = None) -> Competency:
        assert self.framework is not None
        identifier = str(uuid.uuid4())
        self.position += 1
        competency = Competency(
            framework=self.framework,
            identifier=identifier,
            identifier_key=identifier,
            uri=uri,
            human_coding_scheme=code,
            full_statement=f"Statement of {code}",
            list_position=self.position,
            item={"identifier": identifier, "humanCodingScheme": code},
        )
        self.session.add(competency)
        self.session.flush()
        return competency

    def child_of(self, child: Competency, parent: Competency) -> None:
        assert self.framework is not None
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

    def context(self, organization: Organization, external_id: str) -> Context:
        return upsert_context(
            self.session,
            organization_id=organization.id,
            source="district-lms",
            external_id=external_id,
            title=f"Course {external_id}",
        )

    def activity(
        self,
        organization: Organization,
        title: str,
        *competencies: Competency,
        context: Context | None = None,
    ) -> Activity:
        activity = upsert_activity(
            self.session,
            organization_id=organization.id,
            source="district-assessments",
            external_id=str(uuid.uuid4()),
            kind="external",
            title=title,
            context_id=context.id if context else None,
        )
        align_activity(
            self.session,
            activity_id=activity.id,
            competency_ids=[c.id for c in competencies],
            threshold=THRESHOLD,
        )
        return activity

    def person(
        self, organization: Organization, name: str, email: str | None = None
    ) -> Person:
        return create_person(
            self.session,
            organization_id=organization.id,
            identifiers=[Identifier(scheme="sis", value=f"{name}-{uuid.uuid4()}")],
            display_name=name,
            email=email,
        )

    def record(
        self,
        person: Person,
        activity: Activity,
        score: int,
        max_score: int,
        occurred_at: datetime,
    ) -> None:
        record_evidence(
            self.session,
            organization_id=person.organization_id,
            person_id=person.id,
            activity_id=activity.id,
            score=Decimal(score),
            max_score=Decimal(max_score),
            occurred_at=occurred_at,
            source="test",
            threshold=THRESHOLD,
        )

    def member(
        self, context: Context, person: Person, role: str, status: str = "active"
    ) -> None:
        self.session.add(
            ContextMembership(
                context_id=context.id,
                person_id=person.id,
                roles=[role],
                status=status,
                last_seen_at=T0,
            )
        )
        self.session.flush()


@pytest.fixture
def organization_tree(session: Session) -> Iterator[None]:
    """Flatten the organization tree afterwards, so the store can be emptied.

    ON DELETE RESTRICT on `parent_id` is checked row by row, so a parent
    cannot be deleted in the same statement as its children.
    """
    yield
    session.rollback()
    session.execute(update(Organization).values(parent_id=None))
    session.commit()


@pytest.fixture
def gaps(session: Session, organization_tree: None) -> dict[str, Any]:
    """The scenario in the module docstring, committed; its records by name."""
    store = Store(session)
    state = store.organization("state-s", "state")
    district = store.organization("district-d", "district", state)
    school_a = store.organization("school-a", "school", district)
    school_b = store.organization("school-b", "school", district)
    district_e = store.organization("district-e", "district", state)
    default = session.get(Organization, get_default_organization_id(session))
    assert default is not None

    framework = store.new_framework()
    p = store.competency("P")
    c1 = store.competency("C1")
    c2 = store.competency("C2")
    c3 = store.competency("C3")
    store.child_of(c1, p)
    store.child_of(c2, p)

    course = store.context(school_a, "K")
    quiz1 = store.activity(school_a, "Quiz 1", c1, context=course)
    quiz2 = store.activity(school_a, "Quiz 2", c1, context=course)
    quiz3 = store.activity(school_a, "Quiz 3", c2, context=course)
    quiz_b = store.activity(school_b, "Quiz B", c1)
    quiz_e = store.activity(district_e, "Quiz E", c1)

    ana = store.person(school_a, "ana")
    ben = store.person(school_a, "ben")
    cai = store.person(school_a, "cai")
    dee = store.person(school_a, "dee")
    eve = store.person(school_b, "eve")
    fay = store.person(district_e, "fay")
    ivy = store.person(default, "ivy")
    gus = store.person(default, "gus")

    store.record(ana, quiz1, 4, 10, T0)
    store.record(ana, quiz2, 9, 10, T1)
    store.record(ana, quiz3, 8, 10, T2)
    store.record(ben, quiz1, 9, 10, T0)
    store.record(ben, quiz2, 10, 10, T1)
    store.record(cai, quiz2, 5, 10, T0)
    store.record(eve, quiz_b, 6, 10, T0)
    store.record(eve, quiz_b, 8, 10, T1)
    store.record(fay, quiz_e, 10, 10, T0)
    store.member(course, dee, LEARNER)
    store.member(course, ivy, INSTRUCTOR)
    store.member(course, gus, LEARNER, status="inactive")
    session.commit()

    return {
        "state": state,
        "district": district,
        "school_a": school_a,
        "school_b": school_b,
        "district_e": district_e,
        "framework": framework,
        "course": course,
        **{c.human_coding_scheme: c for c in (p, c1, c2, c3)},
        **{
            a.title: a
            for a in (quiz1, quiz2, quiz3, quiz_b, quiz_e)
            if a.title is not None
        },
        **{
            person.display_name: person
            for person in (ana, ben, cai, dee, eve, fay, ivy, gus)
            if person.display_name is not None
        },
    }


def get_gaps(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/reports/gaps", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def cells_by_name(
    body: dict[str, Any], data: dict[str, Any]
) -> dict[tuple[str, str], tuple[str, float | None]]:
    names = {str(person["id"]): person["display_name"] for person in body["people"]}
    codes = {
        str(c["competency"]["id"]): c["competency"]["human_coding_scheme"]
        for c in body["competencies"]
    }
    return {
        (names[cell["person_id"]], codes[cell["competency_id"]]): (
            cell["status"],
            cell["level"],
        )
        for cell in body["matrix"]
    }


def gap_for(body: dict[str, Any], code: str) -> dict[str, Any]:
    return next(
        c
        for c in body["competencies"]
        if c["competency"]["human_coding_scheme"] == code
    )


def test_context_matrix_lists_roster_learners_and_evidence_holders(
    client: TestClient, gaps: dict[str, Any]
) -> None:
    body = get_gaps(
        client,
        context_id=str(gaps["course"].id),
        framework_id=str(gaps["framework"].id),
    )

    assert body["scope"]["kind"] == "context"
    assert body["scope"]["personal_data"] is True
    # ana, ben and cai have evidence on the course's quizzes; dee is a Learner
    # on its roster; ivy (Instructor) and gus (no longer active) are left out.
    assert sorted(p["display_name"] for p in body["people"]) == [
        "ana",
        "ben",
        "cai",
        "dee",
    ]
    assert body["total_people"] == 4
    assert [c["competency"]["human_coding_scheme"] for c in body["competencies"]] == [
        "P",
        "C1",
        "C2",
        "C3",
    ]
    assert cells_by_name(body, gaps) == {
        ("ana", "P"): ("mastered", 1.0),
        ("ana", "C1"): ("mastered", 0.9),
        ("ana", "C2"): ("mastered", 0.8),
        ("ana", "C3"): ("no_evidence", None),
        ("ben", "P"): ("in_progress", 0.5),
        ("ben", "C1"): ("mastered", 1.0),
        ("ben", "C2"): ("no_evidence", None),
        ("ben", "C3"): ("no_evidence", None),
        ("cai", "P"): ("in_progress", 0.0),
        ("cai", "C1"): ("in_progress", 0.5),
        ("cai", "C2"): ("no_evidence", None),
        ("cai", "C3"): ("no_evidence", None),
        ("dee", "P"): ("no_evidence", None),
        ("dee", "C1"): ("no_evidence", None),
        ("dee", "C2"): ("no_evidence", None),
        ("dee", "C3"): ("no_evidence", None),
    }


def test_who_needs_each_competency(client: TestClient, gaps: dict[str, Any]) -> None:
    body = get_gaps(
        client,
        context_id=str(gaps["course"].id),
        framework_id=str(gaps["framework"].id),
    )
    names = {str(gaps[n].id): n for n in ("ana", "ben", "cai", "dee")}

    def needs(code: str) -> dict[str, tuple[str, float | None]]:
        return {
            names[n["person_id"]]: (n["status"], n["level"])
            for n in gap_for(body, code)["needs"]
        }

    assert needs("C1") == {"cai": ("in_progress", 0.5), "dee": ("no_evidence", None)}
    assert needs("C2") == {
        "ben": ("no_evidence", None),
        "cai": ("no_evidence", None),
        "dee": ("no_evidence", None),
    }
    assert set(needs("C3")) == {"ana", "ben", "cai", "dee"}
    c1 = gap_for(body, "C1")
    assert (c1["mastered"], c1["in_progress"], c1["no_evidence"]) == (2, 1, 1)


def test_recommendations_rank_activities_by_people_moved_to_mastery(
    client: TestClient, gaps: dict[str, Any]
) -> None:
    body = get_gaps(
        client,
        context_id=str(gaps["course"].id),
        framework_id=str(gaps["framework"].id),
    )

    def ranked(code: str) -> list[tuple[str, int, int]]:
        return [
            (r["title"], r["moved_to_mastery"], r["completed"])
            for r in gap_for(body, code)["recommended_activities"]
        ]

    # C1. Quiz 1: ana (nothing earlier) and ben (nothing earlier) are mastered
    # now: 2 of 2 moved. Quiz 2: ana's earlier 0.40 was below 0.80, so moved;
    # ben's earlier 0.90 was already mastery; cai is not mastered: 1 of 3.
    # Quiz B (eve) and Quiz E (fay): 1 of 1 each, tied, so by title.
    assert ranked("C1") == [
        ("Quiz 1", 2, 2),
        ("Quiz 2", 1, 3),
        ("Quiz B", 1, 1),
        ("Quiz E", 1, 1),
    ]
    # P (rolled up from C1 and C2): only ana is mastered. Before each of her
    # quizzes C2 had no evidence, so each moved her: Quiz 1, 2, 3 move 1
    # each, ordered by people who completed them (Quiz 2: 3, Quiz 1: 2,
    # Quiz 3: 1); Quiz B and Quiz E moved nobody mastered on P.
    assert ranked("P") == [
        ("Quiz 2", 1, 3),
        ("Quiz 1", 1, 2),
        ("Quiz 3", 1, 1),
        ("Quiz B", 0, 1),
        ("Quiz E", 0, 1),
    ]
    assert ranked("C2") == [("Quiz 3", 1, 1)]
    assert ranked("C3") == []


def test_organization_scope_takes_every_school_below_it(
    client: TestClient, gaps: dict[str, Any]
) -> None:
    body = get_gaps(
        client,
        organization_id=str(gaps["district"].id),
        framework_id=str(gaps["framework"].id),
    )

    # Schools A and B: ana, ben, cai, dee and eve; not fay (district E), not
    # ivy (default organization).
    assert sorted(p["display_name"] for p in body["people"]) == [
        "ana",
        "ben",
        "cai",
        "dee",
        "eve",
    ]
    cells = cells_by_name(body, gaps)
    assert cells[("eve", "C1")] == ("mastered", 0.8)
    assert cells[("eve", "P")] == ("in_progress", 0.5)
    assert cells[("dee", "C1")] == ("no_evidence", None)


def test_pages_by_person_cover_everyone_once(
    client: TestClient, gaps: dict[str, Any]
) -> None:
    seen: list[str] = []
    for offset in (0, 2, 4):
        body = get_gaps(
            client,
            organization_id=str(gaps["district"].id),
            framework_id=str(gaps["framework"].id),
            limit=2,
            offset=offset,
        )
        assert body["page"] == {
            "by": "person",
            "offset": offset,
            "limit": 2,
            "total": 5,
        }
        seen += [p["display_name"] for p in body["people"]]
        # Every competency for each person of the page: 4 cells a person.
        assert len(body["matrix"]) == 4 * len(body["people"])

    # 5 people in pages of 2: 2 + 2 + 1.
    assert sorted(seen) == ["ana", "ben", "cai", "dee", "eve"]


def test_pages_by_competency(client: TestClient, gaps: dict[str, Any]) -> None:
    body = get_gaps(
        client,
        organization_id=str(gaps["district"].id),
        framework_id=str(gaps["framework"].id),
        page_by="competency",
        limit=2,
        offset=2,
    )

    assert body["page"] == {"by": "competency", "offset": 2, "limit": 2, "total": 4}
    assert [c["competency"]["human_coding_scheme"] for c in body["competencies"]] == [
        "C2",
        "C3",
    ]
    # Every person for the two competencies: 5 x 2 cells.
    assert len(body["people"]) == 5
    assert len(body["matrix"]) == 10


def test_listed_competencies_instead_of_a_framework(
    client: TestClient, gaps: dict[str, Any]
) -> None:
    body = get_gaps(
        client,
        context_id=str(gaps["course"].id),
        competency_id=[str(gaps["C2"].id), str(gaps["C1"].id)],
        recommendations=0,
    )

    # Framework order, whatever order they were asked in.
    assert [c["competency"]["human_coding_scheme"] for c in body["competencies"]] == [
        "C1",
        "C2",
    ]
    assert all(c["recommended_activities"] == [] for c in body["competencies"])


def test_state_scope_gets_counts_and_no_personal_data(
    client: TestClient, gaps: dict[str, Any]
) -> None:
    response = client.get(
        "/api/v1/reports/gaps",
        params={
            "organization_id": str(gaps["state"].id),
            "framework_id": str(gaps["framework"].id),
        },
    )
    assert response.status_code == 200
    body = response.json()

    assert body["scope"]["personal_data"] is False
    assert body["people"] is None
    assert body["matrix"] is None
    for name in ("ana", "ben", "cai", "dee", "eve", "fay", "ivy", "gus"):
        assert str(gaps[name].id) not in response.text
        assert f'"{name}"' not in response.text

    def counts(code: str) -> dict[str, tuple[int, int, int, int]]:
        slugs = {
            str(gaps[key].id): key for key in ("school_a", "school_b", "district_e")
        }
        return {
            slugs[o["organization_id"]]: (
                o["people"],
                o["mastered"],
                o["in_progress"],
                o["no_evidence"],
            )
            for o in gap_for(body, code)["organizations"]
        }

    # School A: ana, ben, cai, dee. School B: eve. District E: fay. The state
    # and district D hold nobody themselves, so they have no row.
    assert counts("P") == {
        "school_a": (4, 1, 2, 1),
        "school_b": (1, 0, 1, 0),
        "district_e": (1, 0, 1, 0),
    }
    assert counts("C1") == {
        "school_a": (4, 2, 1, 1),
        "school_b": (1, 1, 0, 0),
        "district_e": (1, 1, 0, 0),
    }
    assert counts("C3") == {
        "school_a": (4, 0, 0, 4),
        "school_b": (1, 0, 0, 1),
        "district_e": (1, 0, 0, 1),
    }
    c1 = gap_for(body, "C1")
    # 2 + 1 + 1 mastered, 1 in progress, 1 without evidence.
    assert (c1["mastered"], c1["in_progress"], c1["no_evidence"]) == (4, 1, 1)
    assert c1["needs"] is None


def test_gap_csv_has_one_row_per_cell(client: TestClient, gaps: dict[str, Any]) -> None:
    response = client.get(
        "/api/v1/reports/gaps",
        params={
            "context_id": str(gaps["course"].id),
            "framework_id": str(gaps["framework"].id),
        },
        headers={"Accept": "text/csv"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # 4 people x 4 competencies.
    assert len(rows) == 16
    cai_c1 = next(
        r
        for r in rows
        if r["display_name"] == "cai" and r["human_coding_scheme"] == "C1"
    )
    assert cai_c1["status"] == "in_progress"
    assert cai_c1["level"] == "0.50"
    assert cai_c1["person_id"] == str(gaps["cai"].id)
    dee_p = next(
        r
        for r in rows
        if r["display_name"] == "dee" and r["human_coding_scheme"] == "P"
    )
    assert (dee_p["status"], dee_p["level"]) == ("no_evidence", "")


def test_state_csv_has_counts_only(client: TestClient, gaps: dict[str, Any]) -> None:
    response = client.get(
        "/api/v1/reports/gaps",
        params={
            "organization_id": str(gaps["state"].id),
            "framework_id": str(gaps["framework"].id),
        },
        headers={"Accept": "text/csv"},
    )

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert set(rows[0]) == {
        "competency_id",
        "human_coding_scheme",
        "organization_id",
        "people",
        "mastered",
        "in_progress",
        "no_evidence",
    }
    # 3 organizations with people x 4 competencies.
    assert len(rows) == 12
    school_a_c2 = next(
        r
        for r in rows
        if r["organization_id"] == str(gaps["school_a"].id)
        and r["human_coding_scheme"] == "C2"
    )
    # Only ana has C2, mastered.
    assert (school_a_c2["mastered"], school_a_c2["no_evidence"]) == ("1", "3")


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        ({"framework_id": "F"}, 422, "scope-required", "organization_id"),
        (
            {"context_id": "K", "organization_id": "D", "framework_id": "F"},
            422,
            "scope-required",
            "context_id",
        ),
        (
            {"context_id": "NEW", "framework_id": "F"},
            404,
            "context-not-found",
            "context_id",
        ),
        (
            {"organization_id": "NEW", "framework_id": "F"},
            404,
            "organization-not-found",
            "organization_id",
        ),
        ({"context_id": "K"}, 422, "competencies-required", "framework_id"),
        (
            {"context_id": "K", "framework_id": "NEW"},
            404,
            "framework-not-found",
            "framework_id",
        ),
        (
            {"context_id": "K", "competency_id": "NEW"},
            404,
            "competency-not-found",
            "competency_id",
        ),
    ],
)
def test_bad_gap_requests_name_the_problem(
    client: TestClient,
    gaps: dict[str, Any],
    params: dict[str, str],
    status: int,
    code: str,
    field: str,
) -> None:
    known = {
        "F": str(gaps["framework"].id),
        "K": str(gaps["course"].id),
        "D": str(gaps["district"].id),
        "NEW": str(uuid.uuid4()),
    }
    response = client.get(
        "/api/v1/reports/gaps", params={k: known[v] for k, v in params.items()}
    )

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert response.json()["field"] == field


def test_reports_need_the_reports_scope(
    app: FastAPI, anonymous_client: TestClient, gaps: dict[str, Any]
) -> None:
    params = {
        "context_id": str(gaps["course"].id),
        "framework_id": str(gaps["framework"].id),
    }
    people_only = bearer_token_for(app, scopes=["people:read"])
    reports = bearer_token_for(app, scopes=["reports:read"])

    refused = anonymous_client.get(
        "/api/v1/reports/gaps",
        params=params,
        headers={"Authorization": f"Bearer {people_only}"},
    )
    allowed = anonymous_client.get(
        "/api/v1/reports/gaps",
        params=params,
        headers={"Authorization": f"Bearer {reports}"},
    )

    assert refused.status_code == 403
    assert allowed.status_code == 200


# Impact ---------------------------------------------------------------------


@pytest.fixture
def impact(session: Session) -> dict[str, Any]:
    """Activity X and practice Y, both aligned to K1.

    p1: Y t0 5/10, X t1 9/10            change +0.40 (completed X)
    p2: Y t0 6/10, X t1 7/10, Y t2 8/10 change +0.20 (completed X)
    p3: X t0 10/10                      one piece: not measured (completed X)
    p4: Y t0 4/10, Y t1 5/10            change +0.10
    p5: Y t0 7/10, Y t2 6/10            change -0.10
    p6: Y t0 3/10                       one piece: not measured
    """
    store = Store(session)
    default = session.get(Organization, get_default_organization_id(session))
    assert default is not None
    framework = store.new_framework("Impact framework")
    k1 = store.competency("K1")
    x = store.activity(default, "X lesson", k1)
    y = store.activity(default, "Y practice", k1)
    people = [store.person(default, f"p{n}") for n in range(1, 7)]
    p1, p2, p3, p4, p5, p6 = people
    store.record(p1, y, 5, 10, T0)
    store.record(p1, x, 9, 10, T1)
    store.record(p2, y, 6, 10, T0)
    store.record(p2, x, 7, 10, T1)
    store.record(p2, y, 8, 10, T2)
    store.record(p3, x, 10, 10, T0)
    store.record(p4, y, 4, 10, T0)
    store.record(p4, y, 5, 10, T1)
    store.record(p5, y, 7, 10, T0)
    store.record(p5, y, 6, 10, T2)
    store.record(p6, y, 3, 10, T0)
    session.commit()
    return {"framework": framework, "K1": k1, "X": x, "Y": y, "store": store}


def get_impact(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/reports/impact", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_impact_compares_completers_with_the_rest(
    client: TestClient, impact: dict[str, Any]
) -> None:
    body = get_impact(client, activity_id=str(impact["X"].id))

    assert body["small_sample_threshold"] == 10
    [row] = body["impacts"]
    assert row["competency"]["human_coding_scheme"] == "K1"
    # Completed X: p1, p2, p3; measured p1 (+0.40) and p2 (+0.20): mean 0.30.
    assert row["completed"] == {"people": 3, "measured": 2, "mean_change": 0.3}
    # The rest: p4, p5, p6; measured p4 (+0.10) and p5 (-0.10): mean 0.00.
    assert row["not_completed"] == {"people": 3, "measured": 2, "mean_change": 0.0}
    assert row["difference"] == 0.3
    # 2 measured people in each group is far below 10.
    assert row["small_sample"] is True


def test_impact_measures_both_groups_over_the_same_window(
    client: TestClient, impact: dict[str, Any]
) -> None:
    body = get_impact(client, activity_id=str(impact["X"].id), to=T1.isoformat())

    [row] = body["impacts"]
    # Up to t1: p2 is Y 0.60 then X 0.70 (+0.10); p1 +0.40: mean 0.25.
    assert row["completed"] == {"people": 3, "measured": 2, "mean_change": 0.25}
    # p4 +0.10; p5 has only Y t0 left, p6 only one piece: mean 0.10 over 1.
    assert row["not_completed"] == {"people": 3, "measured": 1, "mean_change": 0.1}
    assert row["difference"] == 0.15


def test_impact_for_every_activity_of_a_framework(
    client: TestClient, impact: dict[str, Any]
) -> None:
    body = get_impact(client, framework_id=str(impact["framework"].id))

    assert [r["activity_title"] for r in body["impacts"]] == ["X lesson", "Y practice"]
    y = body["impacts"][1]
    # Completed Y: p1 (+0.40), p2 (+0.20), p4 (+0.10), p5 (-0.10), p6 (one
    # piece): mean 0.60 / 4 = 0.15. Did not: p3, with one piece.
    assert y["completed"] == {"people": 5, "measured": 4, "mean_change": 0.15}
    assert y["not_completed"] == {"people": 1, "measured": 0, "mean_change": None}
    assert y["difference"] is None
    assert y["small_sample"] is True


def test_impact_with_enough_people_is_not_flagged(
    client: TestClient, session: Session
) -> None:
    store = Store(session)
    default = session.get(Organization, get_default_organization_id(session))
    assert default is not None
    store.new_framework("Large framework")
    k = store.competency("L1")
    x = store.activity(default, "X lesson", k)
    y = store.activity(default, "Y practice", k)
    for n in range(10):
        completer = store.person(default, f"c{n}")
        store.record(completer, y, 5, 10, T0)
        store.record(completer, x, 8, 10, T1)
        other = store.person(default, f"o{n}")
        store.record(other, y, 5, 10, T0)
        store.record(other, y, 6, 10, T1)
    session.commit()

    [row] = get_impact(client, activity_id=str(x.id))["impacts"]

    # Each completer 0.50 -> 0.80 (+0.30), each other 0.50 -> 0.60 (+0.10).
    assert row["completed"] == {"people": 10, "measured": 10, "mean_change": 0.3}
    assert row["not_completed"] == {"people": 10, "measured": 10, "mean_change": 0.1}
    assert row["difference"] == 0.2
    assert row["small_sample"] is False


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        ({}, 422, "impact-subject-required", "framework_id"),
        (
            {"activity_id": "X", "framework_id": "F"},
            422,
            "impact-subject-required",
            "activity_id",
        ),
        ({"activity_id": "NEW"}, 404, "activity-not-found", "activity_id"),
        ({"framework_id": "NEW"}, 404, "framework-not-found", "framework_id"),
    ],
)
def test_bad_impact_requests_name_the_problem(
    client: TestClient,
    impact: dict[str, Any],
    params: dict[str, str],
    status: int,
    code: str,
    field: str,
) -> None:
    known = {
        "X": str(impact["X"].id),
        "F": str(impact["framework"].id),
        "NEW": str(uuid.uuid4()),
    }
    response = client.get(
        "/api/v1/reports/impact", params={k: known[v] for k, v in params.items()}
    )

    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["field"] == field
