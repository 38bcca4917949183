"""Request and response bodies of the frameworks API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_FRAMEWORK_EXAMPLE: dict[str, Any] = {
    "id": "0b5c3a8e-51f4-4c39-9d7e-2f0d8e1c7a10",
    "identifier": "c5fb2a84-d7cc-11e8-824f-0242ac160002",
    "uri": "https://case.example.org/ims/case/v1p0/CFDocuments/"
    "c5fb2a84-d7cc-11e8-824f-0242ac160002",
    "title": "Common Core State Standards for Mathematics",
    "creator": "National Governors Association Center for Best Practices",
    "publisher": None,
    "version": None,
    "adoption_status": "Adopted",
    "case_version": "1.0",
    "last_change_at": "2016-09-28T21:43:01Z",
    "competency_count": 703,
    "created_at": "2025-01-15T09:30:00Z",
    "updated_at": "2025-01-15T09:30:00Z",
}


class FrameworkOut(BaseModel):
    """A framework: one imported CFDocument."""

    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_FRAMEWORK_EXAMPLE]}
    )

    id: uuid.UUID
    identifier: str = Field(
        description="CFDocument identifier, as the provider spells it"
    )
    uri: str | None
    title: str
    creator: str | None
    publisher: str | None
    version: str | None
    adoption_status: str | None
    case_version: str | None
    last_change_at: datetime | None
    competency_count: int = Field(description="Active (not retired) competencies")
    created_at: datetime
    updated_at: datetime


class CompetencyOut(BaseModel):
    """A competency: one CFItem of a framework."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5e8f0a4c-7b1d-4f7e-9a43-3c2d1b0e9f81",
                    "framework_id": "0b5c3a8e-51f4-4c39-9d7e-2f0d8e1c7a10",
                    "identifier": "http://purl.org/ASN/resources/S11434C1",
                    "uri": "https://salt-dev.edplancms.com/uri/"
                    "http://purl.org/ASN/resources/S11434C1",
                    "human_coding_scheme": "CCSS.Math.Content.6.RP.A",
                    "full_statement": "Understand ratio concepts and use ratio "
                    "reasoning to solve problems.",
                    "abbreviated_statement": None,
                    "item_type": "Cluster",
                    "education_levels": ["06"],
                    "list_position": 412,
                    "last_change_at": "2016-07-28T00:14:52Z",
                    "retired_at": None,
                }
            ]
        },
    )

    id: uuid.UUID
    framework_id: uuid.UUID
    identifier: str = Field(description="CFItem identifier, as the provider spells it")
    uri: str | None
    human_coding_scheme: str | None
    full_statement: str = Field(description="As given, HTML or Markdown included")
    abbreviated_statement: str | None
    item_type: str | None
    education_levels: list[str]
    list_position: int = Field(description="Place in the framework's tree order")
    last_change_at: datetime | None
    retired_at: datetime | None = Field(
        description="Set when a later import no longer held the item"
    )


class CompetencyNodeOut(CompetencyOut):
    """A competency in tree order."""

    parent_id: uuid.UUID | None = Field(
        description="The competency it sits under; null at the top of the framework"
    )
    depth: int = Field(description="0 for a child of the CFDocument")


class ImportCountsOut(BaseModel):
    items_found: int = Field(description="CFItems in the package")
    items_stored: int
    associations_found: int = Field(description="CFAssociations in the package")
    associations_stored: int
    definitions_found: int = Field(description="Entries of CFDefinitions")
    definitions_stored: int
    items_retired: int = Field(description="Competencies retired by this import")


class DeviationOut(BaseModel):
    """One repair made while reading the package."""

    object: str = Field(examples=["CFItems[12] 5a411e1a-7137-11e6-92a8-0242ac130002"])
    field: str = Field(examples=["lastChangeDateTime"])
    action: str = Field(
        examples=["'2017-05-25T18:05:33' has no time zone; read as UTC"]
    )


class ImportOut(BaseModel):
    """The outcome of importing a CFPackage."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "framework": _FRAMEWORK_EXAMPLE,
                    "outcome": "created",
                    "counts": {
                        "items_found": 703,
                        "items_stored": 703,
                        "associations_found": 703,
                        "associations_stored": 703,
                        "definitions_found": 5,
                        "definitions_stored": 5,
                        "items_retired": 0,
                    },
                    "report": [
                        {
                            "object": "CFDocument http://purl.org/ASN/resources/"
                            "D10003FB",
                            "field": "lastChangeDateTime",
                            "action": "'2016-09-28T21:43:01' has no time zone; "
                            "read as UTC",
                        }
                    ],
                }
            ]
        }
    )

    framework: FrameworkOut
    outcome: Literal["created", "updated", "unchanged"] = Field(
        description="`unchanged`: the same content was already stored; nothing "
        "was written"
    )
    counts: ImportCountsOut
    report: list[DeviationOut]
