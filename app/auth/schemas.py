"""Bodies of the API client endpoints and of the token endpoint's answer."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.auth.models import ApiClient
from app.auth.service import SCOPES


class ApiClientCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "State reporting", "scopes": ["evidence:read", "reports:read"]}
            ]
        }
    )

    name: str = Field(description="What people know the calling system by")
    scopes: list[str] = Field(
        description="Scopes the client may ask for: " + ", ".join(SCOPES)
    )


class ApiClientRead(BaseModel):
    client_id: str
    name: str
    scopes: list[str]
    organization_id: uuid.UUID
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, client: ApiClient) -> ApiClientRead:
        return cls(
            client_id=client.client_id,
            name=client.name,
            scopes=list(client.scopes),
            organization_id=client.organization_id,
            created_at=client.created_at,
            revoked_at=client.revoked_at,
        )


class ApiClientCreated(ApiClientRead):
    client_secret: str = Field(
        description="Shown this once and never again: store it now"
    )


class TokenResponse(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


class TokenError(BaseModel):
    """RFC 6749 §5.2."""

    error: str
    error_description: str
