"""Request and response bodies of the mastery API."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.evidence.schemas import EvidenceOut, JsonDecimal
from app.mastery.models import Mastery
from app.mastery.policies import (
    ROLLUP_ALL,
    Policy,
    ScaleLevel,
    checked_policy,
    default_policy,
)
from app.mastery.service import Change, CompetencyMastery, Preview, Standing


class CompetencyMasteryOut(BaseModel):
    id: uuid.UUID = Field(description="Our id of the competency")
    framework_id: uuid.UUID
    identifier: str = Field(description="The CFItem identifier")
    human_coding_scheme: str | None
    statement: str = Field(description="The CFItem fullStatement")
    status: Literal["mastered", "in_progress", "no_evidence"]
    level: JsonDecimal | None = Field(
        description="Points on the policy's mastery scale, two decimals rounded "
        "half-up (on the default 0-1 scale: the share of the maximum score)"
    )
    mastered: bool
    rolled_up: bool = Field(
        description="Judged on the aligned descendants (isChildOf) rather than on "
        "evidence on the competency alone"
    )
    threshold: JsonDecimal | None = Field(description="The scale's mastery points")
    method: str = Field(description="Calculation method of the policy that judged it")
    calculation_int: int | None
    parameters: dict[str, Any] = Field(
        description="The policy's parameters when this was computed"
    )
    formula_version: str | None
    evidence: list[EvidenceOut] = Field(
        description="Oldest first, including evidence derived along exactMatchOf "
        "and replacedBy"
    )

    @classmethod
    def of(cls, mastery: CompetencyMastery) -> CompetencyMasteryOut:
        competency = mastery.competency
        return cls(
            id=competency.id,
            framework_id=competency.framework_id,
            identifier=competency.identifier,
            human_coding_scheme=competency.human_coding_scheme,
            statement=competency.full_statement,
            status=mastery.status,  # type: ignore[arg-type]
            level=mastery.level,
            mastered=mastery.mastered,
            rolled_up=mastery.rolled_up,
            threshold=mastery.threshold,
            method=mastery.method,
            calculation_int=mastery.calculation_int,
            parameters=mastery.parameters,
            formula_version=mastery.formula_version,
            evidence=[EvidenceOut.model_validate(item) for item in mastery.evidence],
        )


class PersonMasteryOut(BaseModel):
    person_id: uuid.UUID
    competencies: list[CompetencyMasteryOut]


class ScaleLevelBody(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    points: JsonDecimal
    mastery: bool = Field(default=False, description="The level that means mastery")


class ScaleBody(BaseModel):
    levels: list[ScaleLevelBody] = Field(
        description="At least two levels with distinct points; exactly one marked "
        "mastery. The highest points are what a full score is worth."
    )


class RollupBody(BaseModel):
    rule: str = Field(
        default=ROLLUP_ALL,
        description="'all': a parent is mastered when every component is; 'share': "
        "when at least `share` of them are; 'points': when the mean of their "
        "points reaches the mastery points",
    )
    share: JsonDecimal | None = Field(
        default=None, description="For rule 'share': above 0, at most 1"
    )


class MasteryPolicyIn(BaseModel):
    method: str = Field(
        description="latest, highest, average, weighted_average, decaying_average "
        "or n_mastery"
    )
    calculation_int: int | None = Field(
        default=None,
        description="Percentage (1-99) for weighted_average and decaying_average, "
        "n (>= 1) for n_mastery, absent otherwise",
    )
    scale: ScaleBody | None = Field(
        default=None,
        description="Absent: the 0-1 share scale with mastery at mastery_threshold",
    )
    rollup: RollupBody = Field(default_factory=RollupBody)

    def policy(self, *, source: str, threshold: Decimal | None = None) -> Policy:
        levels = (
            list(default_policy(threshold).levels)
            if self.scale is None
            else [
                ScaleLevel(name=level.name, points=level.points, mastery=level.mastery)
                for level in self.scale.levels
            ]
        )
        return checked_policy(
            method=self.method,
            calculation_int=self.calculation_int,
            levels=levels,
            rollup_rule=self.rollup.rule,
            rollup_share=self.rollup.share,
            source=source,
        )


class MasteryPolicyOut(BaseModel):
    source: Literal["framework", "organization", "default"] = Field(
        description="Where the policy in force comes from: the framework's own, its "
        "organization's, or the default"
    )
    method: str
    calculation_int: int | None
    scale: ScaleBody
    mastery_points: JsonDecimal
    points_possible: JsonDecimal
    rollup: RollupBody
    formula_version: str

    @classmethod
    def of(cls, policy: Policy) -> MasteryPolicyOut:
        return cls(
            source=policy.source,  # type: ignore[arg-type]
            method=policy.method,
            calculation_int=policy.calculation_int,
            scale=ScaleBody(
                levels=[
                    ScaleLevelBody(
                        name=level.name, points=level.points, mastery=level.mastery
                    )
                    for level in policy.levels
                ]
            ),
            mastery_points=policy.mastery_points,
            points_possible=policy.points_possible,
            rollup=RollupBody(rule=policy.rollup_rule, share=policy.rollup_share),
            formula_version=policy.formula_version,
        )


class AppliedPolicyOut(MasteryPolicyOut):
    recomputed_people: int = Field(
        description="People whose stored mastery was recomputed under the policy"
    )


class ChangeOut(BaseModel):
    person_id: uuid.UUID
    competency_id: uuid.UUID
    before_level: JsonDecimal | None
    before_mastered: bool | None = Field(description="null: no stored row")
    after_level: JsonDecimal | None
    after_mastered: bool | None = Field(description="null: no row would be kept")

    @classmethod
    def of(cls, change: Change) -> ChangeOut:
        return cls(**vars(change))


class PreviewOut(BaseModel):
    policy: MasteryPolicyOut
    people: int
    rows_before: int
    rows_after: int
    changed: int
    unchanged: int
    newly_mastered: int
    no_longer_mastered: int
    changes: list[ChangeOut] = Field(description="Rows that would change")
    listed_all: bool = Field(description="False when `changes` was cut short")

    @classmethod
    def of(cls, preview: Preview, *, policy: Policy) -> PreviewOut:
        return cls(
            policy=MasteryPolicyOut.of(policy),
            people=preview.people,
            rows_before=preview.rows_before,
            rows_after=preview.rows_after,
            changed=preview.changed,
            unchanged=preview.unchanged,
            newly_mastered=preview.newly_mastered,
            no_longer_mastered=preview.no_longer_mastered,
            changes=[ChangeOut.of(change) for change in preview.changes],
            listed_all=preview.listed_all,
        )


class UsedEvidenceOut(BaseModel):
    evidence_id: uuid.UUID
    activity_id: uuid.UUID
    occurred_at: datetime
    received_at: datetime
    score: JsonDecimal
    max_score: JsonDecimal
    points: JsonDecimal = Field(description="The score on the policy's scale")
    derived: bool
    derivation: Literal["exactMatchOf", "replacedBy"] | None
    origin_competency_id: uuid.UUID | None = Field(
        description="For derived evidence: the competency it was recorded against"
    )


class ComponentOut(BaseModel):
    competency_id: uuid.UUID
    level: JsonDecimal | None
    mastered: bool
    evidence_count: int


class StoredMasteryOut(BaseModel):
    level: JsonDecimal | None
    mastered: bool
    formula_version: str
    computed_at: datetime


class ExplanationOut(BaseModel):
    person_id: uuid.UUID
    competency_id: uuid.UUID
    status: Literal["mastered", "in_progress", "no_evidence"]
    level: JsonDecimal | None
    level_name: str | None = Field(description="The highest scale level reached")
    mastered: bool
    rolled_up: bool
    method: str
    calculation_int: int | None
    parameters: dict[str, Any]
    formula_version: str
    evidence: list[UsedEvidenceOut] = Field(description="In the order used")
    components: list[ComponentOut] = Field(
        description="For a rolled-up competency: the components with evidence "
        "(the others count as not mastered and without points)"
    )
    steps: list[str] = Field(description="The arithmetic, step by step")
    stored: StoredMasteryOut | None = Field(
        description="The stored row, for comparison; null when none is kept"
    )

    @classmethod
    def of(
        cls, standing: Standing, *, person_id: uuid.UUID, stored: Mastery | None
    ) -> ExplanationOut:
        policy = standing.policy
        return cls(
            person_id=person_id,
            competency_id=standing.competency_id,
            status=standing.status,  # type: ignore[arg-type]
            level=standing.level,
            level_name=policy.level_name(standing.level),
            mastered=standing.mastered,
            rolled_up=standing.rolled_up,
            method=policy.method,
            calculation_int=policy.calculation_int,
            parameters=policy.parameters(),
            formula_version=policy.formula_version,
            evidence=[
                UsedEvidenceOut(
                    evidence_id=used.evidence.id,
                    activity_id=used.evidence.activity_id,
                    occurred_at=used.evidence.occurred_at,
                    received_at=used.evidence.received_at,
                    score=used.evidence.score,
                    max_score=used.evidence.max_score,
                    points=used.points,
                    derived=used.derivation is not None,
                    derivation=used.derivation,  # type: ignore[arg-type]
                    origin_competency_id=used.origin_competency_id,
                )
                for used in standing.evidence
            ],
            components=[
                ComponentOut(**vars(component)) for component in standing.components
            ],
            steps=list(standing.steps),
            stored=None
            if stored is None
            else StoredMasteryOut(
                level=stored.level,
                mastered=stored.mastered,
                formula_version=stored.formula_version,
                computed_at=stored.computed_at,
            ),
        )
