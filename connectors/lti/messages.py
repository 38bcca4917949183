"""The claims each LTI message type must carry, checked with named rules.

pylti1p3's message validators demand `sub` on every message (LTI Core 5.3.6
makes it optional: an anonymous launch has none) and answer a missing claim
with a generic sentence, so the tool checks messages itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from connectors.lti import claims
from connectors.lti.errors import LaunchRejected

SUPPORTED_MESSAGE_TYPES = (
    claims.RESOURCE_LINK_REQUEST,
    claims.DEEP_LINKING_REQUEST,
    claims.SUBMISSION_REVIEW_REQUEST,
)


def check_message(body: Mapping[str, Any], *, tool_urls: Iterable[str]) -> None:
    """Raise `LaunchRejected` naming the first claim rule `body` breaks."""
    message_type = body.get(claims.MESSAGE_TYPE)
    if message_type not in SUPPORTED_MESSAGE_TYPES:
        raise LaunchRejected(
            "unsupported-message-type",
            f"Message type '{message_type}' is not supported; this tool accepts "
            f"{', '.join(SUPPORTED_MESSAGE_TYPES)}.",
        )
    version = body.get(claims.VERSION)
    if version != claims.LTI_VERSION:
        raise LaunchRejected(
            "unsupported-lti-version",
            f"LTI version '{version}' is not supported; expected 1.3.0.",
        )
    _check_sub(body)
    if not isinstance(body.get(claims.ROLES), list):
        raise LaunchRejected(
            "roles-missing", f"The id_token has no roles claim ({claims.ROLES})."
        )
    _check_target_link_uri(body, tool_urls=list(tool_urls))
    if message_type == claims.DEEP_LINKING_REQUEST:
        _check_deep_linking_settings(body)
    else:
        _check_resource_link(body)
    if message_type == claims.SUBMISSION_REVIEW_REQUEST:
        _check_for_user(body)


def _check_sub(body: Mapping[str, Any]) -> None:
    if "sub" not in body:
        return
    sub = body["sub"]
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise LaunchRejected(
            "sub-invalid",
            "The id_token 'sub' must be a non-empty string of at most 255 "
            "characters (or absent for an anonymous launch).",
        )


def _check_target_link_uri(body: Mapping[str, Any], *, tool_urls: list[str]) -> None:
    target = body.get(claims.TARGET_LINK_URI)
    if not isinstance(target, str) or not target:
        raise LaunchRejected(
            "target-link-uri-missing",
            f"The id_token has no target_link_uri claim ({claims.TARGET_LINK_URI}).",
        )
    if not any(_same_endpoint(target, url) for url in tool_urls):
        raise LaunchRejected(
            "target-link-uri-foreign",
            f"The target_link_uri '{target}' is not one of this tool's URLs "
            f"({', '.join(tool_urls)}); check the tool URL configured in the LMS.",
        )


def _same_endpoint(target: str, tool_url: str) -> bool:
    """Scheme, host, port and path agree; the LMS may add a query string."""
    given, ours = urlsplit(target), urlsplit(tool_url)
    return (
        given.scheme.lower() == ours.scheme.lower()
        and given.netloc.lower() == ours.netloc.lower()
        and (given.path.rstrip("/") or "/") == (ours.path.rstrip("/") or "/")
    )


def _check_resource_link(body: Mapping[str, Any]) -> None:
    resource_link = body.get(claims.RESOURCE_LINK)
    link_id = resource_link.get("id") if isinstance(resource_link, dict) else None
    if not isinstance(link_id, str) or not link_id:
        raise LaunchRejected(
            "resource-link-id-missing",
            f"A {body.get(claims.MESSAGE_TYPE)} must carry a resource_link claim "
            f"with an 'id' ({claims.RESOURCE_LINK}).",
        )


def _check_deep_linking_settings(body: Mapping[str, Any]) -> None:
    settings = body.get(claims.DEEP_LINKING_SETTINGS)
    if not isinstance(settings, dict):
        raise LaunchRejected(
            "deep-linking-settings-missing",
            "A LtiDeepLinkingRequest must carry the deep_linking_settings claim "
            f"({claims.DEEP_LINKING_SETTINGS}).",
        )
    return_url = settings.get("deep_link_return_url")
    if not isinstance(return_url, str) or urlsplit(return_url).scheme not in (
        "http",
        "https",
    ):
        raise LaunchRejected(
            "deep-link-return-url-missing",
            "The deep_linking_settings claim has no usable deep_link_return_url.",
        )
    accept_types = settings.get("accept_types")
    if not isinstance(accept_types, list) or (
        claims.RESOURCE_LINK_TYPE not in accept_types
    ):
        raise LaunchRejected(
            "resource-link-type-not-accepted",
            f"The LMS accepts only {accept_types!r} here; this tool creates "
            f"'{claims.RESOURCE_LINK_TYPE}' items. Add the tool from a place in "
            "the course that accepts LTI links (an activity or assignment).",
        )


def _check_for_user(body: Mapping[str, Any]) -> None:
    for_user = body.get(claims.FOR_USER)
    user_id = for_user.get("user_id") if isinstance(for_user, dict) else None
    if not isinstance(user_id, str) or not user_id:
        raise LaunchRejected(
            "for-user-missing",
            "A LtiSubmissionReviewRequest must carry the for_user claim with the "
            f"reviewed learner's 'user_id' ({claims.FOR_USER}).",
        )
