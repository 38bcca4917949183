"""Request and response bodies of the evidence API."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

from app.activities.schemas import ActivityReference
from app.people.schemas import PersonReference

# Decimals leave the API as JSON numbers, not strings.
JsonDecimal = Annotated[
    Decimal, PlainSerializer(float, return_type=float, when_used="json")
]


class EvidenceCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "person": {"scheme": "sis", "value": "12345"},
                    "activity": {
                        "source": "district-assessments",
                        "external_id": "unit-3-quiz",
                    },
                    "score": 7,
                    "max_score": 8,
                    "occurred_at": "2024-05-01T10:15:00-04:00",
                    "idempotency_key": "district-assessments:attempt:99812",
                }
            ]
        }
    )

    person: PersonReference
    activity: ActivityReference
    score: Decimal = Field(
        description="Points earned, 0 or more; above max_score is kept and counts "
        "as a full level"
    )
    max_score: Decimal = Field(description="Points possible, greater than 0")
    occurred_at: AwareDatetime = Field(
        description="When the attempt was completed: RFC 3339 with an offset"
    )
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="The same key sent again stores nothing new; the "
        "`Idempotency-Key` header may carry it instead. Without either, one is "
        "derived from the person, activity, time and score",
    )

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _rfc3339_text(cls, value: Any) -> Any:
        # Plain numbers would be read as Unix time: not what RFC 3339 allows.
        if not isinstance(value, str):
            raise ValueError("must be an RFC 3339 date-time string with an offset")
        return value


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    activity_id: uuid.UUID
    score: JsonDecimal
    max_score: JsonDecimal
    occurred_at: datetime
    received_at: datetime
    source: str
    idempotency_key: str


class EvidenceVoid(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "Score entered for the wrong pupil"}]
        }
    )

    reason: str = Field(
        min_length=1,
        max_length=2000,
        description="Why the evidence no longer counts; kept with the voiding event",
    )


class EvidenceEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_type: str = Field(description="What happened: `voided`")
    reason: str | None
    actor: str = Field(description="The API client id that did it")
    occurred_at: datetime


class EvidenceDetail(EvidenceOut):
    voided_at: datetime | None
    void_reason: str | None
    statement_id: uuid.UUID | None = Field(
        description="The xAPI statement id, when the evidence came as a statement"
    )
    events: list[EvidenceEventOut]
