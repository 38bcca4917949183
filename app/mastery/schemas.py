"""Response bodies of the mastery API."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from app.evidence.schemas import EvidenceOut, JsonDecimal
from app.mastery.service import CompetencyMastery


class CompetencyMasteryOut(BaseModel):
    id: uuid.UUID = Field(description="Our id of the competency")
    framework_id: uuid.UUID
    identifier: str = Field(description="The CFItem identifier")
    human_coding_scheme: str | None
    statement: str = Field(description="The CFItem fullStatement")
    status: Literal["mastered", "in_progress", "no_evidence"]
    level: JsonDecimal | None = Field(
        description="0 to 1, two decimals rounded half-up: the latest score's share "
        "of its maximum, or for a rolled-up competency the share of its aligned "
        "descendants mastered"
    )
    mastered: bool
    rolled_up: bool = Field(
        description="Judged on the aligned descendants (isChildOf) rather than on "
        "evidence on the competency alone"
    )
    threshold: JsonDecimal | None
    method: str
    evidence: list[EvidenceOut] = Field(description="Oldest first")

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
            evidence=[EvidenceOut.model_validate(item) for item in mastery.evidence],
        )


class PersonMasteryOut(BaseModel):
    person_id: uuid.UUID
    competencies: list[CompetencyMasteryOut]
