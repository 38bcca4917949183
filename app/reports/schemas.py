"""Response bodies of the reports API."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from app.evidence.schemas import JsonDecimal
from app.frameworks.models import Competency
from app.reports.service import (
    SMALL_SAMPLE_THRESHOLD,
    CompetencyImpact,
    GroupChange,
    Recommendation,
    Scope,
)

Status = Literal["mastered", "in_progress", "no_evidence"]


class ScopeOut(BaseModel):
    kind: Literal["context", "organization"]
    id: uuid.UUID
    name: str | None
    organization_kind: str | None = Field(
        description="state, district or school for an organization scope"
    )
    personal_data: bool = Field(
        description="False for a state scope: counts only, no rows naming people"
    )

    @classmethod
    def of(cls, scope: Scope) -> ScopeOut:
        return cls(
            kind=scope.kind,  # type: ignore[arg-type]
            id=scope.id,
            name=scope.name,
            organization_kind=scope.organization_kind,
            personal_data=scope.personal,
        )


class CompetencyRef(BaseModel):
    id: uuid.UUID
    framework_id: uuid.UUID
    identifier: str = Field(description="The CFItem identifier")
    human_coding_scheme: str | None
    statement: str

    @classmethod
    def of(cls, competency: Competency) -> CompetencyRef:
        return cls(
            id=competency.id,
            framework_id=competency.framework_id,
            identifier=competency.identifier,
            human_coding_scheme=competency.human_coding_scheme,
            statement=competency.full_statement,
        )


class PersonRef(BaseModel):
    id: uuid.UUID
    display_name: str | None


class CellOut(BaseModel):
    person_id: uuid.UUID
    competency_id: uuid.UUID
    status: Status
    level: JsonDecimal | None


class PersonNeedOut(BaseModel):
    person_id: uuid.UUID
    status: Status
    level: JsonDecimal | None


class RecommendationOut(BaseModel):
    activity_id: uuid.UUID
    title: str | None
    context_id: uuid.UUID | None
    completed: int = Field(description="People with live evidence on the activity")
    moved_to_mastery: int = Field(
        description="Of those, people mastered now who were not before they "
        "first completed it"
    )

    @classmethod
    def of(cls, recommendation: Recommendation) -> RecommendationOut:
        activity = recommendation.activity
        return cls(
            activity_id=activity.id,
            title=activity.title,
            context_id=activity.context_id,
            completed=recommendation.completed,
            moved_to_mastery=recommendation.moved_to_mastery,
        )


class CompetencyCountsOut(BaseModel):
    organization_id: uuid.UUID
    people: int
    mastered: int
    in_progress: int
    no_evidence: int


class CompetencyGapOut(BaseModel):
    competency: CompetencyRef
    mastered: int = Field(description="People of this page mastered on it")
    in_progress: int
    no_evidence: int
    needs: list[PersonNeedOut] | None = Field(
        description="People of this page not yet mastered (absent for a state scope)"
    )
    organizations: list[CompetencyCountsOut] | None = Field(
        description="Counts per organization (state scope only)"
    )
    recommended_activities: list[RecommendationOut]


class PageOut(BaseModel):
    by: Literal["person", "competency"]
    offset: int
    limit: int
    total: int


class GapReportOut(BaseModel):
    scope: ScopeOut
    page: PageOut
    total_people: int
    total_competencies: int
    people: list[PersonRef] | None = Field(
        description="The page's people, in the matrix's row order (absent for a "
        "state scope)"
    )
    matrix: list[CellOut] | None = Field(
        description="One cell per person and competency of the page"
    )
    competencies: list[CompetencyGapOut]


class GroupChangeOut(BaseModel):
    people: int = Field(description="People with evidence on the competency")
    measured: int = Field(
        description="Of those, people with two or more pieces of evidence in the "
        "window, whose change could be measured"
    )
    mean_change: JsonDecimal | None = Field(
        description="Mean of latest level minus first level, two decimals"
    )

    @classmethod
    def of(cls, group: GroupChange) -> GroupChangeOut:
        return cls(
            people=group.people,
            measured=group.measured,
            mean_change=group.mean_change,
        )


class ImpactOut(BaseModel):
    activity_id: uuid.UUID
    activity_title: str | None
    competency: CompetencyRef
    completed: GroupChangeOut
    not_completed: GroupChangeOut
    difference: JsonDecimal | None = Field(
        description="completed.mean_change minus not_completed.mean_change"
    )
    small_sample: bool = Field(
        description=f"Either group has fewer than {SMALL_SAMPLE_THRESHOLD} measured "
        "people: read the difference as anecdote, not effect"
    )

    @classmethod
    def of(cls, impact: CompetencyImpact) -> ImpactOut:
        return cls(
            activity_id=impact.activity.id,
            activity_title=impact.activity.title,
            competency=CompetencyRef.of(impact.competency),
            completed=GroupChangeOut.of(impact.completed),
            not_completed=GroupChangeOut.of(impact.not_completed),
            difference=impact.difference,
            small_sample=impact.small_sample,
        )


class ImpactReportOut(BaseModel):
    small_sample_threshold: int = SMALL_SAMPLE_THRESHOLD
    impacts: list[ImpactOut]
