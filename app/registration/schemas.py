"""The documents LTI Dynamic Registration exchanges, as far as the tool reads them."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

TOOL_CONFIGURATION_CLAIM = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def absolute_http_url(value: str) -> str:
    """`value` if it is an absolute http(s) URL, else ValueError.

    Moodle labs serve their issuer over plain http, so http is accepted.
    """
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        raise ValueError("must have a numeric port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise ValueError("must be an absolute http(s) URL")
    return value


HttpUrlText = Annotated[str, AfterValidator(absolute_http_url)]


class SupportedMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    placements: list[str] = Field(default_factory=list)


class PlatformDetails(BaseModel):
    """The lti-platform-configuration member: which LMS, and what it accepts."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    product_family_code: str = ""
    version: str = ""
    messages_supported: list[SupportedMessage] = Field(default_factory=list)
    account_name: str = Field(
        default="", alias="https://canvas.instructure.com/lti/account_name"
    )


class PlatformConfiguration(BaseModel):
    """The platform's OpenID configuration (OpenID Connect Discovery + LTI)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    issuer: HttpUrlText = Field(max_length=512)
    authorization_endpoint: HttpUrlText = Field(max_length=1024)
    token_endpoint: HttpUrlText = Field(max_length=1024)
    jwks_uri: HttpUrlText = Field(max_length=1024)
    registration_endpoint: HttpUrlText = Field(max_length=1024)
    scopes_supported: list[str] = Field(default_factory=list)
    claims_supported: list[str] = Field(default_factory=list)
    platform: PlatformDetails = Field(
        default_factory=PlatformDetails,
        alias="https://purl.imsglobal.org/spec/lti-platform-configuration",
    )

    def placements_for(self, message_type: str) -> list[str]:
        return [
            placement
            for message in self.platform.messages_supported
            if message.type == message_type
            for placement in message.placements
        ]


class ToolConfigurationAnswer(BaseModel):
    # Some platforms send ids as JSON numbers.
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    deployment_id: str | None = Field(default=None, max_length=255)


class RegistrationAnswer(BaseModel):
    """The platform's answer to the client registration: who the tool now is."""

    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, coerce_numbers_to_str=True
    )

    client_id: str = Field(min_length=1, max_length=255)
    tool_configuration: ToolConfigurationAnswer = Field(
        default_factory=ToolConfigurationAnswer,
        alias="https://purl.imsglobal.org/spec/lti-tool-configuration",
    )
