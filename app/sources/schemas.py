"""Request and response bodies of the CASE sources API. Credentials go in, never out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    base_url: str = Field(
        description="The provider's root, before /ims/case/…",
        examples=["https://case.example.org"],
    )
    case_version: Literal["1.0", "1.1"] = "1.1"
    auth_method: Literal["none", "api_key", "oauth2"] = "none"
    api_key: str | None = Field(default=None, description="Stored encrypted")
    api_key_header: str | None = Field(default=None, examples=["X-API-Key"])
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = Field(default=None, description="Stored encrypted")
    oauth_scope: str | None = None
    followed_documents: list[str] = Field(
        default_factory=list,
        description="CFDocument identifiers to follow; empty follows every "
        "document the provider lists",
    )
    schedule: str | None = Field(
        default=None,
        description="Five-field cron expression in UTC; none means manual only",
        examples=["0 2 * * *"],
    )
    enabled: bool = True


class SourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    base_url: str
    case_version: str
    auth_method: str
    api_key_header: str | None
    token_url: str | None
    client_id: str | None
    oauth_scope: str | None
    has_credentials: bool
    followed_documents: list[str]
    schedule: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


class SyncRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    source_id: uuid.UUID
    trigger: str
    status: Literal["running", "succeeded", "partial", "failed"]
    started_at: datetime
    finished_at: datetime | None
    documents_created: int
    documents_updated: int
    documents_unchanged: int
    documents_failed: int
    items_written: int
    items_retired: int
    duration_ms: int | None
    error: str | None
    documents: list[dict[str, Any]] = Field(
        description="Per followed CFDocument: identifier, title, outcome, items, "
        "items_retired, seconds, framework_id, error"
    )


class SyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full: bool = Field(
        default=False,
        description="Fetch every package even when lastChangeDateTime is unchanged",
    )
