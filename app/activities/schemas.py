"""Request and response bodies of the activities API."""

from __future__ import annotations

import uuid
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import JsonDict

from app.frameworks.models import Competency

DISTRICT_ACTIVITY_EXAMPLE: JsonDict = {
    "source": "district-assessments",
    "external_id": "unit-3-quiz",
    "title": "Unit 3 quiz: linear equations",
}


class ActivityCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [DISTRICT_ACTIVITY_EXAMPLE]}
    )

    source: str = Field(
        min_length=1,
        max_length=512,
        description="The system the activity lives in; with `external_id` it "
        "names the activity, so posting the same pair again updates it",
    )
    external_id: str = Field(min_length=1, max_length=512)
    title: str | None = Field(default=None, max_length=1024)
    description: str | None = None
    kind: str = Field(default="external", min_length=1, max_length=32)


class ActivityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    source: str
    external_id: str
    kind: str
    title: str | None
    description: str | None
    context_id: uuid.UUID | None


class ActivityReference(BaseModel):
    """An activity named by our id or by its source and external id."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "5d1c8f0e-3a2b-4c6d-8e9f-0a1b2c3d4e5f"},
                {"source": "district-assessments", "external_id": "unit-3-quiz"},
            ]
        }
    )

    id: uuid.UUID | None = None
    source: str | None = Field(default=None, min_length=1, max_length=512)
    external_id: str | None = Field(default=None, min_length=1, max_length=512)

    @model_validator(mode="after")
    def _one_way_of_naming(self) -> Self:
        by_external_id = self.source is not None or self.external_id is not None
        if self.id is not None and by_external_id:
            raise ValueError("give either id or source and external_id, not both")
        if self.id is None and (self.source is None or self.external_id is None):
            raise ValueError("give id, or both source and external_id")
        return self


class AlignmentsCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"competency_ids": ["8e3f5a4c-1b2d-4e6f-9a0b-c1d2e3f4a5b6"]}]
        }
    )

    competency_ids: list[uuid.UUID] = Field(
        min_length=1, description="Competencies (our ids) the activity is evidence of"
    )


class AlignedCompetency(BaseModel):
    id: uuid.UUID
    framework_id: uuid.UUID
    identifier: str = Field(description="The CFItem identifier")
    human_coding_scheme: str | None
    statement: str = Field(description="The CFItem fullStatement")

    @classmethod
    def of(cls, competency: Competency) -> AlignedCompetency:
        return cls(
            id=competency.id,
            framework_id=competency.framework_id,
            identifier=competency.identifier,
            human_coding_scheme=competency.human_coding_scheme,
            statement=competency.full_statement,
        )
