"""Request and response bodies of the crosswalks API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.frameworks.schemas import CompetencyOut


class FrameworkRef(BaseModel):
    id: uuid.UUID
    identifier: str = Field(
        description="CFDocument identifier, as the provider spells it"
    )
    title: str


class CrosswalkOut(BaseModel):
    """A link from the competency asked about to one in another framework."""

    association_type: str = Field(examples=["exactMatchOf"])
    direction: Literal["outgoing", "incoming", "mutual"] = Field(
        description="`outgoing`: the competency asked about is the origin; "
        "`incoming`: the destination; `mutual`: exactMatchOf and isPeerOf, "
        "which read the same from either end"
    )
    competency: CompetencyOut
    framework: FrameworkRef
    association_ids: list[uuid.UUID] = Field(
        description="Every stored CFAssociation saying this (collapsed into one)"
    )
    district: bool = Field(description="At least one of them is a district crosswalk")


class CrosswalkIn(BaseModel):
    """A district crosswalk. Each end is a competency id or a CASE identifier
    (the CFItem identifier, or the uuid5 alias of a non-UUID one)."""

    origin: str = Field(
        min_length=1, max_length=512, examples=["CCSS.Math.Content.6.RP.A"]
    )
    association_type: str = Field(
        min_length=1, max_length=64, examples=["exactMatchOf"]
    )
    destination: str = Field(
        min_length=1,
        max_length=512,
        examples=["http://purl.org/ASN/resources/S11434C1"],
    )
    origin_framework: str | None = Field(
        None,
        max_length=512,
        description="Framework id or CFDocument identifier, when the origin's "
        "identifier is used by several frameworks",
    )
    destination_framework: str | None = Field(None, max_length=512)


class DistrictCrosswalkOut(BaseModel):
    id: uuid.UUID
    identifier: str = Field(
        description="CFAssociation identifier, as published over CASE"
    )
    association_type: str
    origin_competency_id: uuid.UUID | None
    origin_identifier: str
    destination_competency_id: uuid.UUID | None
    destination_identifier: str
    created_at: datetime


class CsvRowOut(BaseModel):
    row: int = Field(description="Line of the file (the header is line 1)")
    origin_identifier: str
    association_type: str
    destination_identifier: str
    status: Literal["created", "exists", "duplicate", "error"] = Field(
        description="`exists`: already stored; `duplicate`: repeats an earlier row"
    )
    association_id: uuid.UUID | None = None
    field: str | None = None
    message: str | None = None


class CsvImportOut(BaseModel):
    created: int
    existing: int
    duplicates: int
    rows: list[CsvRowOut]
