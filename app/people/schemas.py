"""Request and response bodies of the people API."""

from __future__ import annotations

import uuid
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import JsonDict

from app.people.service import Identifier

SIS_IDENTIFIER_EXAMPLE: JsonDict = {"scheme": "sis", "value": "12345"}


class IdentifierIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SIS_IDENTIFIER_EXAMPLE]})

    scheme: str = Field(
        min_length=1,
        max_length=64,
        description="Kind of id: `sis`, `email`, a district system's name, or "
        "`lti` (an id_token `sub`, with `issuer` set)",
    )
    value: str = Field(min_length=1, max_length=512)
    issuer: str = Field(
        default="",
        max_length=512,
        description="The platform issuer for `lti` identifiers; empty otherwise",
    )

    def to_identifier(self) -> Identifier:
        return Identifier(scheme=self.scheme, value=self.value, issuer=self.issuer)


class IdentifierOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    scheme: str
    value: str
    issuer: str


class PersonCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "display_name": "Ada Lovelace",
                    "given_name": "Ada",
                    "family_name": "Lovelace",
                    "identifiers": [
                        SIS_IDENTIFIER_EXAMPLE,
                        {"scheme": "email", "value": "ada@example.edu"},
                    ],
                }
            ]
        }
    )

    display_name: str | None = Field(default=None, max_length=255)
    given_name: str | None = Field(default=None, max_length=255)
    family_name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=320)
    identifiers: list[IdentifierIn] = Field(
        default_factory=list,
        description="Every id other systems know the person by; each may belong "
        "to one person only",
    )


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    display_name: str | None
    given_name: str | None
    family_name: str | None
    email: str | None
    identifiers: list[IdentifierOut]


class PersonReference(BaseModel):
    """A person named by our id or by any identifier they are known by."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "0b7f6a52-9d0e-4d7e-9a43-1f2d3c4b5a69"},
                SIS_IDENTIFIER_EXAMPLE,
            ]
        }
    )

    id: uuid.UUID | None = None
    scheme: str | None = Field(default=None, min_length=1, max_length=64)
    value: str | None = Field(default=None, min_length=1, max_length=512)
    issuer: str = Field(default="", max_length=512)

    @model_validator(mode="after")
    def _one_way_of_naming(self) -> Self:
        by_identifier = self.scheme is not None or self.value is not None
        if self.id is not None and by_identifier:
            raise ValueError("give either id or scheme and value, not both")
        if self.id is None and (self.scheme is None or self.value is None):
            raise ValueError("give id, or both scheme and value")
        return self

    def identifier(self) -> Identifier | None:
        if self.scheme is None or self.value is None:
            return None
        return Identifier(scheme=self.scheme, value=self.value, issuer=self.issuer)
