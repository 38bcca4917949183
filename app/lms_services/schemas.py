"""Request and response bodies of the LMS services API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.lms_services.service import (
    ContextMember,
    PassbackReport,
    ResultsSyncReport,
    RosterSyncReport,
)
from app.people.service import LTI_SCHEME


class GradesSyncRequest(BaseModel):
    platform_id: uuid.UUID | None = Field(
        default=None, description="Only this platform's line items; all when empty"
    )


class GradesSyncOut(BaseModel):
    line_items: int = Field(description="Line items whose results were read")
    results_read: int
    evidence_recorded: int = Field(description="New evidence from LMS grades")
    already_recorded: int = Field(
        description="Results already held as evidence (an earlier sync, or a score "
        "the tool posted itself)"
    )
    people_created: int
    skipped: int = Field(description="Results without a usable score")
    line_items_gone: int = Field(description="Line items deleted in the LMS")
    failures: list[str]

    @classmethod
    def from_report(cls, report: ResultsSyncReport) -> GradesSyncOut:
        return cls(**vars(report))


class RosterSyncRequest(BaseModel):
    context_id: uuid.UUID | None = Field(
        default=None, description="Only this context's roster; all when empty"
    )


class RosterSyncOut(BaseModel):
    contexts: int
    members_read: int
    people_created: int
    marked_inactive: int = Field(description="Members no longer listed as active")
    failures: list[str]

    @classmethod
    def from_report(cls, report: RosterSyncReport) -> RosterSyncOut:
        return cls(**vars(report))


class PassbackRetryOut(BaseModel):
    attempted: int
    statuses: dict[str, int] = Field(description="How many ended in each status")

    @classmethod
    def from_report(cls, report: PassbackReport) -> PassbackRetryOut:
        return cls(attempted=report.attempted, statuses=dict(report.statuses))


class ContextMemberOut(BaseModel):
    person_id: uuid.UUID
    lti_user_id: str | None = Field(description="The LMS's `sub` for the person")
    display_name: str | None
    given_name: str | None
    family_name: str | None
    email: str | None
    roles: list[str] = Field(description="Context roles as full LIS URIs")
    status: str = Field(description="`active` or `inactive`")
    last_seen_at: datetime = Field(
        description="When a launch or roster sync last listed the person"
    )

    @classmethod
    def from_member(cls, member: ContextMember, *, issuer: str) -> ContextMemberOut:
        person = member.person
        sub = next(
            (
                identifier.value
                for identifier in person.identifiers
                if identifier.scheme == LTI_SCHEME and identifier.issuer == issuer
            ),
            None,
        )
        return cls(
            person_id=person.id,
            lti_user_id=sub,
            display_name=person.display_name,
            given_name=person.given_name,
            family_name=person.family_name,
            email=person.email,
            roles=list(member.membership.roles),
            status=member.membership.status,
            last_seen_at=member.membership.last_seen_at,
        )


class ContextMembersOut(BaseModel):
    context_id: uuid.UUID
    members: list[ContextMemberOut]
