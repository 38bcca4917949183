"""LTI Deep Linking 2.0: reading the request's settings, signing the response.

The response is a JWT the browser carries back to the platform's
deep_link_return_url in an auto-submitted form (field `JWT`). The platform
verifies it with the tool's public key named by `kid`, so the header must
carry the kid the tool publishes in its JWKS.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from connectors.lti import claims

RESPONSE_LIFETIME_SECONDS = 600
# Targets in the order the tool prefers them: shown inside the course first.
PREFERRED_TARGETS = ("iframe", "window")


@dataclass(frozen=True)
class DeepLinkingSettings:
    """What the platform's deep_linking_settings claim allows the tool to return."""

    return_url: str
    accept_types: tuple[str, ...]
    accept_multiple: bool
    presentation_targets: tuple[str, ...]
    data: str | None
    title: str | None

    @classmethod
    def from_claims(cls, body: Mapping[str, Any]) -> DeepLinkingSettings:
        settings = body.get(claims.DEEP_LINKING_SETTINGS) or {}
        data = settings.get("data")
        return cls(
            return_url=str(settings["deep_link_return_url"]),
            accept_types=tuple(str(t) for t in settings.get("accept_types") or ()),
            # The specification's default when the platform leaves it out.
            accept_multiple=settings.get("accept_multiple", True) is not False,
            presentation_targets=tuple(
                str(t)
                for t in settings.get("accept_presentation_document_targets") or ()
            ),
            data=data if isinstance(data, str) else None,
            title=settings.get("title")
            if isinstance(settings.get("title"), str)
            else None,
        )

    def presentation_target(self) -> str | None:
        """The document target to ask for, or None to leave it to the platform."""
        for target in PREFERRED_TARGETS:
            if target in self.presentation_targets:
                return target
        return None


@dataclass(frozen=True)
class LineItem:
    score_maximum: float
    label: str
    resource_id: str
    tag: str


@dataclass(frozen=True)
class ResourceLinkItem:
    """An `ltiResourceLink` content item (LTI Deep Linking 2.0, section 3.1)."""

    title: str
    url: str
    text: str | None = None
    line_item: LineItem | None = None
    custom: dict[str, str] = field(default_factory=dict)
    document_target: str | None = None

    def as_claim(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "type": claims.RESOURCE_LINK_TYPE,
            "title": self.title,
            "url": self.url,
        }
        if self.text:
            item["text"] = self.text
        if self.line_item is not None:
            item["lineItem"] = {
                "scoreMaximum": self.line_item.score_maximum,
                "label": self.line_item.label,
                "resourceId": self.line_item.resource_id,
                "tag": self.line_item.tag,
            }
        if self.custom:
            item["custom"] = dict(self.custom)
        if self.document_target:
            item[self.document_target] = {}
        return item


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key_pem: str


def deep_linking_response(
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    settings: DeepLinkingSettings,
    items: list[ResourceLinkItem],
    key: SigningKey,
    message: str | None = None,
    now: float | None = None,
) -> str:
    """The signed LtiDeepLinkingResponse JWT for `items`.

    `iss` is the tool's client id and `aud` the platform issuer (Deep Linking
    2.0, section 4.2); `data` is echoed exactly as received and left out when
    the request had none, as the specification asks.
    """
    issued_at = int(now if now is not None else time.time())
    body: dict[str, Any] = {
        "iss": client_id,
        "aud": issuer,
        "iat": issued_at,
        "exp": issued_at + RESPONSE_LIFETIME_SECONDS,
        "nonce": uuid.uuid4().hex,
        claims.DEPLOYMENT_ID: deployment_id,
        claims.MESSAGE_TYPE: claims.DEEP_LINKING_RESPONSE,
        claims.VERSION: claims.LTI_VERSION,
        claims.CONTENT_ITEMS: [item.as_claim() for item in items],
    }
    if settings.data is not None:
        body[claims.DEEP_LINKING_DATA] = settings.data
    if message:
        body[claims.DEEP_LINKING_MESSAGE] = message
    return jwt.encode(
        body,
        key.private_key_pem,
        algorithm="RS256",
        headers={"kid": key.kid, "typ": "JWT"},
    )
