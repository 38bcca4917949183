"""Exports: one person's mastery and evidence, and a group's mastery, as rows.

Decimals travel as strings (levels with two places, scores as written), so
JSON and CSV carry the same exact values.

A group is a context or an organization with everything below it, the same
scopes the reports use; a state scope exports counts per competency and
organization, never rows naming people. Group rows are produced lazily, so a
large scope streams instead of being held in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities.models import Activity
from app.evidence.models import Evidence
from app.frameworks.models import Competency
from app.mastery.models import Mastery
from app.mastery.service import FRAMEWORK_ORDER, mastery_for_person
from app.people.models import Person
from app.reports.service import Scope, cell_status, organization_counts

STREAM_BATCH = 500

PERSON_CSV_COLUMNS = [
    "record",
    "competency_id",
    "competency_identifier",
    "human_coding_scheme",
    "status",
    "level",
    "mastered",
    "evidence_id",
    "activity_id",
    "activity_title",
    "score",
    "max_score",
    "occurred_at",
    "voided_at",
]
GROUP_CSV_COLUMNS = [
    "person_id",
    "display_name",
    "competency_id",
    "competency_identifier",
    "human_coding_scheme",
    "status",
    "level",
    "mastered",
    "evidence_count",
    "computed_at",
]
AGGREGATE_CSV_COLUMNS = [
    "organization_id",
    "competency_id",
    "competency_identifier",
    "human_coding_scheme",
    "people",
    "mastered",
    "in_progress",
    "no_evidence",
]


@dataclass(frozen=True)
class PersonExport:
    person: Person
    mastery: list[dict[str, Any]]
    evidence: list[dict[str, Any]]


def _level(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _score(value: Decimal) -> str:
    """The score as written: 9, 7.5 (the column pads to four decimals)."""
    return f"{value.normalize():f}"


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def person_export(session: Session, *, person: Person) -> PersonExport:
    """Everything we hold on the person's progress: mastery and all evidence.

    Voided evidence is included and marked, so the export explains changes
    to mastery too.
    """
    mastery = [
        {
            "competency_id": str(standing.competency.id),
            "competency_identifier": standing.competency.identifier,
            "human_coding_scheme": standing.competency.human_coding_scheme,
            "statement": standing.competency.full_statement,
            "status": standing.status,
            "level": _level(standing.level),
            "mastered": standing.mastered,
            "rolled_up": standing.rolled_up,
            "method": standing.method,
            "threshold": _level(standing.threshold),
        }
        for standing in mastery_for_person(session, person_id=person.id)
    ]
    statement = (
        select(Evidence, Activity.title)
        .join(Activity, Activity.id == Evidence.activity_id)
        .where(Evidence.person_id == person.id)
        .order_by(Evidence.occurred_at, Evidence.received_at, Evidence.id)
    )
    evidence = [
        {
            "evidence_id": str(item.id),
            "activity_id": str(item.activity_id),
            "activity_title": title,
            "score": _score(item.score),
            "max_score": _score(item.max_score),
            "occurred_at": _moment(item.occurred_at),
            "received_at": _moment(item.received_at),
            "source": item.source,
            "voided_at": _moment(item.voided_at),
        }
        for item, title in session.execute(statement)
    ]
    return PersonExport(person=person, mastery=mastery, evidence=evidence)


def person_document(export: PersonExport) -> dict[str, Any]:
    person = export.person
    return {
        "person": {
            "id": str(person.id),
            "display_name": person.display_name,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "email": person.email,
            "identifiers": [
                {
                    "scheme": identifier.scheme,
                    "issuer": identifier.issuer,
                    "value": identifier.value,
                }
                for identifier in person.identifiers
            ],
        },
        "mastery": export.mastery,
        "evidence": export.evidence,
    }


def person_rows(export: PersonExport) -> Iterator[dict[str, Any]]:
    """One CSV row per mastery standing, then one per piece of evidence."""
    for standing in export.mastery:
        yield {"record": "mastery", **standing}
    for item in export.evidence:
        yield {"record": "evidence", **item}


def group_rows(
    session: Session, *, scope: Scope, framework_id: uuid.UUID | None
) -> Iterator[dict[str, Any]]:
    """The scope's stored mastery, person by person, in framework order.

    A person with no evidence on a competency has no row: the gap report is
    where absences are listed.
    """
    people = scope.people.subquery()
    statement = (
        select(Mastery, Competency, Person.display_name)
        .join(Competency, Competency.id == Mastery.competency_id)
        .join(Person, Person.id == Mastery.person_id)
        .where(Mastery.person_id.in_(select(people.c[0])))
        .order_by(Person.id, *FRAMEWORK_ORDER)
        .execution_options(yield_per=STREAM_BATCH)
    )
    if framework_id is not None:
        statement = statement.where(Competency.framework_id == framework_id)
    for row, competency, display_name in session.execute(statement):
        yield {
            "person_id": str(row.person_id),
            "display_name": display_name,
            "competency_id": str(competency.id),
            "competency_identifier": competency.identifier,
            "human_coding_scheme": competency.human_coding_scheme,
            "status": cell_status(row),
            "level": _level(row.level),
            "mastered": row.mastered,
            "evidence_count": row.evidence_count,
            "computed_at": _moment(row.computed_at),
        }


def aggregate_rows(
    session: Session, *, scope: Scope, framework_id: uuid.UUID | None
) -> Iterator[dict[str, Any]]:
    """Counts per organization and competency with any mastery in the scope."""
    statement = (
        select(Competency)
        .where(
            Competency.id.in_(
                select(Mastery.competency_id)
                .join(Person, Person.id == Mastery.person_id)
                .where(Person.organization_id.in_(scope.organization_ids))
            )
        )
        .order_by(*FRAMEWORK_ORDER)
    )
    if framework_id is not None:
        statement = statement.where(Competency.framework_id == framework_id)
    competencies = {c.id: c for c in session.execute(statement).scalars()}
    counts = organization_counts(
        session, scope=scope, competency_ids=list(competencies)
    )
    for item in counts:
        competency = competencies[item.competency_id]
        yield {
            "organization_id": str(item.organization_id),
            "competency_id": str(competency.id),
            "competency_identifier": competency.identifier,
            "human_coding_scheme": competency.human_coding_scheme,
            "people": item.people,
            "mastered": item.mastered,
            "in_progress": item.in_progress,
            "no_evidence": item.no_evidence,
        }
