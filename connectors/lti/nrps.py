"""Names and Role Provisioning Services 2.0: who is in a context, in which roles.

    nrps = NamesRolesService(
        tokens, access=access, endpoint=NrpsEndpoint.from_claim(claims[NRPS_CLAIM])
    )
    learners = nrps.membership(role=LEARNER).members

What real platforms do that shapes this module:

- Canvas pages with an opaque, case-sensitive cursor in the next link, so the
  link is followed exactly as written (pylti1p3 lower-cases it, which is why
  it is not used here).
- Moodle's next link drops the filters of the first request, so the role
  filter is applied again to every page.
- Moodle lists roles by their short names ("Learner") where id_tokens use full
  URIs; every role comes out of this module as a full URI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from connectors.lti.advantage import (
    MEMBERSHIP_CONTAINER_MEDIA_TYPE,
    SCOPE_CONTEXT_MEMBERSHIP_READONLY,
    AdvantageServiceError,
    json_body,
    next_page_url,
    unexpected_answer,
    with_query,
)
from connectors.lti.service_token import (
    PlatformAccess,
    ServiceConnection,
    ServiceTokens,
)

log = structlog.get_logger()

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
LEARNER = LIS + "membership#Learner"
INSTRUCTOR = LIS + "membership#Instructor"
MEMBER_STATUSES = frozenset({"Active", "Inactive", "Deleted"})


def full_role_uri(role: str) -> str:
    """The LIS URI of a context role given by its short name, or `role` unchanged.

    LTI 1.3 lets platforms name context roles simply ("Learner") and sub-roles
    as "Instructor#TeachingAssistant"; anything else already is a URI.
    """
    if ":" in role or "/" in role:
        return role
    principal, hash_, sub_role = role.partition("#")
    if hash_:
        return f"{LIS}membership/{principal}#{sub_role}"
    return f"{LIS}membership#{role}"


@dataclass(frozen=True, kw_only=True)
class NrpsEndpoint:
    """The NRPS claim of a launch; its presence is the grant of the read scope."""

    context_memberships_url: str
    service_versions: tuple[str, ...] = ("2.0",)

    @classmethod
    def from_claim(cls, claim: Mapping[str, Any]) -> NrpsEndpoint:
        url = claim.get("context_memberships_url")
        if not isinstance(url, str) or not url:
            raise ValueError("NRPS claim: 'context_memberships_url' must be a URL")
        versions = claim.get("service_versions") or ["2.0"]
        if not isinstance(versions, list):
            raise ValueError("NRPS claim: 'service_versions' must be a list")
        return cls(
            context_memberships_url=url,
            service_versions=tuple(str(version) for version in versions),
        )


@dataclass(frozen=True, kw_only=True)
class Member:
    user_id: str
    status: str
    roles: tuple[str, ...]
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    lis_person_sourcedid: str | None = None

    @classmethod
    def from_json(cls, payload: Any, *, url: str) -> Member:
        if not isinstance(payload, dict) or not payload.get("user_id"):
            raise AdvantageServiceError(
                f"{url} sent a member without a user_id", url=url
            )
        roles = payload.get("roles") or []
        if not isinstance(roles, list):
            raise AdvantageServiceError(
                f"{url} sent member {payload['user_id']} with roles not in a list",
                url=url,
            )
        status = str(payload.get("status") or "Active")
        if status not in MEMBER_STATUSES:
            raise AdvantageServiceError(
                f"{url} sent member {payload['user_id']} with status {status!r}",
                url=url,
            )
        return cls(
            user_id=str(payload["user_id"]),
            status=status,
            roles=tuple(full_role_uri(str(role)) for role in roles),
            name=_text(payload.get("name")),
            given_name=_text(payload.get("given_name")),
            family_name=_text(payload.get("family_name")),
            email=_text(payload.get("email")),
            lis_person_sourcedid=_text(payload.get("lis_person_sourcedid")),
        )


@dataclass(frozen=True, kw_only=True)
class Membership:
    """A context and its members, every page read."""

    context_id: str | None
    context_label: str | None
    context_title: str | None
    members: tuple[Member, ...]


class NamesRolesService:
    def __init__(
        self, tokens: ServiceTokens, *, access: PlatformAccess, endpoint: NrpsEndpoint
    ) -> None:
        self.endpoint = endpoint
        self.connection = ServiceConnection(
            tokens, access=access, scopes={SCOPE_CONTEXT_MEMBERSHIP_READONLY}
        )

    def membership(
        self,
        *,
        role: str | None = None,
        limit: int | None = None,
        resource_link_id: str | None = None,
    ) -> Membership:
        """Every member of the context, or only those holding `role`.

        `role` may be a short name or a full URI. `limit` is the page size to
        ask for; Moodle pages only when it is given.
        """
        if limit is not None and limit < 1:
            raise ValueError(f"membership limit must be at least 1, got {limit}")
        wanted_role = full_role_uri(role) if role else None
        filters = {
            "role": wanted_role,
            "limit": str(limit) if limit is not None else None,
            "rlid": resource_link_id,
        }
        url = with_query(self.endpoint.context_memberships_url, filters)
        context: dict[str, Any] = {}
        members: dict[str, Member] = {}
        for page_url, page in self._pages(url):
            context = context or _context(page)
            for member in _members(page, url=page_url):
                if wanted_role is None or wanted_role in member.roles:
                    members.setdefault(member.user_id, member)
        log.info(
            "lti_nrps.membership_read",
            memberships_url=self.endpoint.context_memberships_url,
            members=len(members),
        )
        return Membership(
            context_id=_text(context.get("id")),
            context_label=_text(context.get("label")),
            context_title=_text(context.get("title")),
            members=tuple(members.values()),
        )

    def _pages(self, url: str) -> Iterable[tuple[str, dict[str, Any]]]:
        seen: set[str] = set()
        next_url: str | None = url
        while next_url is not None:
            if next_url in seen:
                raise AdvantageServiceError(
                    f"{next_url} links back to a page already read", url=next_url
                )
            seen.add(next_url)
            response = self.connection.request(
                "GET", next_url, accept=MEMBERSHIP_CONTAINER_MEDIA_TYPE
            )
            if not response.is_success:
                raise unexpected_answer(response)
            page = json_body(response)
            if not isinstance(page, dict):
                raise AdvantageServiceError(
                    f"{next_url} sent a membership container that is not a JSON object",
                    url=next_url,
                )
            yield next_url, page
            next_url = next_page_url(response)


def _context(page: dict[str, Any]) -> dict[str, Any]:
    context = page.get("context")
    return context if isinstance(context, dict) else {}


def _members(page: dict[str, Any], *, url: str) -> list[Member]:
    members = page.get("members")
    if not isinstance(members, list):
        raise AdvantageServiceError(f"{url} sent no members list", url=url)
    return [Member.from_json(member, url=url) for member in members]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
