"""Request and response bodies of the platform registration API.

URLs are plain strings here: the service checks them, so the CLI and the API
give the same answer, and nothing rewrites an issuer (a trailing slash added
by URL normalisation would stop it matching the id_token's `iss`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.platforms.models import Platform

Product = Literal["canvas", "moodle", "other"]

MOODLE_EXAMPLE: dict[str, Any] = {
    "name": "District Moodle",
    "product": "moodle",
    "issuer": "https://moodle.example.edu",
    "client_id": "HNEXm4U9bIkeE7H",
    "auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
    "auth_token_url": "https://moodle.example.edu/mod/lti/token.php",
    "keyset_url": "https://moodle.example.edu/mod/lti/certs.php",
    "deployment_ids": ["2"],
}


class PlatformCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [MOODLE_EXAMPLE]})

    issuer: str = Field(
        description="The platform's issuer (`iss` of its id_tokens): Moodle's "
        "site URL, or https://canvas.instructure.com for Canvas cloud"
    )
    client_id: str = Field(description="The client id the LMS gave this tool")
    auth_login_url: str = Field(description="The LMS's OIDC authorization endpoint")
    auth_token_url: str = Field(description="The LMS's OAuth 2 token endpoint")
    keyset_url: str = Field(description="The LMS's public keys (JWKS URL)")
    deployment_ids: list[str] = Field(
        min_length=1, description="`deployment_id` values the LMS sends"
    )
    name: str = Field(default="", max_length=255)
    product: Product = "other"
    auth_audience: str | None = Field(
        default=None,
        description="`aud` for client assertions when it is not the token URL",
    )


class PlatformUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"keyset_url": "https://sso.canvaslms.com/api/lti/security/jwks"}
            ]
        }
    )

    name: str | None = Field(default=None, max_length=255)
    product: Product | None = None
    auth_login_url: str | None = None
    auth_token_url: str | None = None
    keyset_url: str | None = None
    auth_audience: str | None = Field(
        default=None, description="An empty string clears it"
    )


class DeploymentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"deployment_id": "7:d3a2504bba5184799a38f141e8df2335cfa8206d"}
            ]
        }
    )

    deployment_id: str = Field(min_length=1, max_length=255)


class DeploymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    deployment_id: str
    created_at: datetime


class PlatformRead(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    product: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    auth_audience: str | None
    keyset_url: str
    deployment_ids: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, platform: Platform) -> PlatformRead:
        return cls(
            id=platform.id,
            organization_id=platform.organization_id,
            name=platform.name,
            product=platform.product,
            issuer=platform.issuer,
            client_id=platform.client_id,
            auth_login_url=platform.auth_login_url,
            auth_token_url=platform.auth_token_url,
            auth_audience=platform.auth_audience,
            keyset_url=platform.keyset_url,
            deployment_ids=sorted(d.deployment_id for d in platform.deployments),
            created_at=platform.created_at,
            updated_at=platform.updated_at,
        )


class LmsFormField(BaseModel):
    label: str = Field(description="The field's label as the LMS shows it")
    value: str


class LmsForm(BaseModel):
    menu: str = Field(description="Where the form is in the LMS")
    fields: list[LmsFormField]


class LmsSetup(BaseModel):
    """The tool's URLs, and the Canvas and Moodle forms filled in with them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "login_url": "https://bridge.example.edu/lti/login",
                    "launch_url": "https://bridge.example.edu/lti/launch",
                    "redirect_uris": ["https://bridge.example.edu/lti/launch"],
                    "jwks_url": "https://bridge.example.edu/lti/jwks",
                    "canvas": {
                        "menu": "Admin > Developer Keys > + Developer Key > + LTI Key",
                        "fields": [
                            {
                                "label": "Target Link URI",
                                "value": "https://bridge.example.edu/lti/launch",
                            }
                        ],
                    },
                    "moodle": {
                        "menu": "Site administration > Plugins > Activity "
                        "modules > External tool > Manage tools > configure a "
                        "tool manually",
                        "fields": [
                            {
                                "label": "Tool URL",
                                "value": "https://bridge.example.edu/lti/launch",
                            }
                        ],
                    },
                }
            ]
        }
    )

    login_url: str
    launch_url: str
    redirect_uris: list[str]
    jwks_url: str
    canvas: LmsForm
    moodle: LmsForm
