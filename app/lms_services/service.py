"""LTI Advantage services over our records: grade passback, LMS grades, rosters.

Launches tell us where a context's roster and an activity's gradebook column
live (`record_launch_services`). From then on:

- a learner's result recorded by the tool is posted to the column
  (`pass_back_score`, called after the evidence is committed; failures are
  kept and tried again by `retry_failed_passbacks`);
- grades given inside the LMS are read back as evidence (`sync_results`);
- the roster is read into people and memberships (`sync_roster`).

The sync functions commit after each line item or context, so one LMS that
cannot be reached leaves what the others gave stored.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import httpx
import structlog
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from app.activities.models import Activity
from app.contexts.models import Context
from app.database import insert_or_find, utcnow
from app.evidence.models import Evidence
from app.evidence.service import record_evidence
from app.keys.service import ensure_signing_key
from app.lms_services.models import (
    ContextMembership,
    LineItemLink,
    MembershipService,
    ScorePassback,
)
from app.people.models import Person, PersonIdentifier
from app.people.service import LTI_SCHEME, find_person, upsert_lti_person
from app.platforms.models import Platform
from app.problems import Problem
from connectors.lti.advantage import (
    AGS_CLAIM,
    NRPS_CLAIM,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    AdvantageServiceError,
    LineItemGone,
    ScoreConflict,
)
from connectors.lti.ags import AgsEndpoint, AssignmentGradeService, Result, Score
from connectors.lti.nrps import Member, NamesRolesService, NrpsEndpoint
from connectors.lti.service_token import (
    PlatformAccess,
    ServiceTokens,
    ToolSigningKey,
)

log = structlog.get_logger()

TOOL_SOURCE = "tool"
LMS_GRADE_SOURCE = "lti_ags"
ACTIVE = "active"
INACTIVE = "inactive"
SERVICE_TIMEOUT_SECONDS = 15.0
RESULTS_PAGE_SIZE = 100
MEMBERSHIP_PAGE_SIZE = 100

POSTED = "posted"
ALREADY_STORED = "already_stored"
LINE_ITEM_GONE = "line_item_gone"
FAILED = "failed"
PENDING = "pending"


@functools.cache
def process_service_tokens() -> ServiceTokens:
    """The one token cache of this process, so every request reuses live tokens."""
    return ServiceTokens(httpx.Client(timeout=SERVICE_TIMEOUT_SECONDS))


def platform_access(session: Session, *, platform: Platform) -> PlatformAccess:
    key = ensure_signing_key(session)
    return PlatformAccess(
        token_url=platform.auth_token_url,
        client_id=platform.client_id,
        auth_audience=platform.auth_audience,
        signing_key=ToolSigningKey(kid=key.kid, private_key_pem=key.private_key_pem),
    )


# What launches tell us.


def record_launch_services(
    session: Session,
    *,
    platform: Platform,
    claims: Mapping[str, Any],
    person_id: uuid.UUID | None,
    context_id: uuid.UUID | None,
    activity_id: uuid.UUID | None,
    roles: list[str],
) -> None:
    """Keep the launch's NRPS and AGS endpoints and the launcher's membership.

    A malformed service claim is logged and left out: the launch itself is
    valid, and only the service it describes cannot be used.
    """
    if context_id is not None and person_id is not None:
        _upsert_membership(
            session,
            context_id=context_id,
            person_id=person_id,
            roles=roles,
            status=ACTIVE,
            seen_at=utcnow(),
        )
    if context_id is not None:
        nrps = _claim_endpoint(claims, NRPS_CLAIM, NrpsEndpoint.from_claim)
        if nrps is not None:
            _upsert_membership_service(
                session,
                context_id=context_id,
                platform_id=platform.id,
                url=nrps.context_memberships_url,
            )
    ags = _claim_endpoint(claims, AGS_CLAIM, AgsEndpoint.from_claim)
    if ags is not None and activity_id is not None:
        _upsert_line_item_link(
            session, activity_id=activity_id, platform_id=platform.id, endpoint=ags
        )
    session.flush()


def _claim_endpoint(claims: Mapping[str, Any], name: str, parse: Any) -> Any:
    claim = claims.get(name)
    if claim is None:
        return None
    if not isinstance(claim, dict):
        log.warning("lms.claim_ignored", claim=name, reason="not an object")
        return None
    try:
        return parse(claim)
    except ValueError as error:
        log.warning("lms.claim_ignored", claim=name, reason=str(error))
        return None


def _upsert_membership_service(
    session: Session, *, context_id: uuid.UUID, platform_id: uuid.UUID, url: str
) -> None:
    def find() -> MembershipService | None:
        statement = select(MembershipService).where(
            MembershipService.context_id == context_id
        )
        return session.execute(statement).scalar_one_or_none()

    service = find()
    if service is None:
        service, _ = insert_or_find(
            session,
            MembershipService(
                context_id=context_id,
                platform_id=platform_id,
                context_memberships_url=url,
            ),
            find=find,
        )
    service.platform_id = platform_id
    service.context_memberships_url = url


def _upsert_line_item_link(
    session: Session,
    *,
    activity_id: uuid.UUID,
    platform_id: uuid.UUID,
    endpoint: AgsEndpoint,
) -> None:
    def find() -> LineItemLink | None:
        statement = select(LineItemLink).where(LineItemLink.activity_id == activity_id)
        return session.execute(statement).scalar_one_or_none()

    link = find()
    if link is None:
        link, _ = insert_or_find(
            session,
            LineItemLink(
                activity_id=activity_id,
                platform_id=platform_id,
                line_item_url=endpoint.lineitem_url,
                line_items_url=endpoint.lineitems_url,
                scopes=sorted(endpoint.scopes),
            ),
            find=find,
        )
    if link.line_item_url != endpoint.lineitem_url:
        # A new column for the activity: the deleted one no longer matters.
        link.gone_at = None
    link.platform_id = platform_id
    link.line_item_url = endpoint.lineitem_url
    link.line_items_url = endpoint.lineitems_url
    link.scopes = sorted(endpoint.scopes)


def _upsert_membership(
    session: Session,
    *,
    context_id: uuid.UUID,
    person_id: uuid.UUID,
    roles: list[str],
    status: str,
    seen_at: datetime,
) -> ContextMembership:
    def find() -> ContextMembership | None:
        statement = (
            select(ContextMembership)
            .where(ContextMembership.context_id == context_id)
            .where(ContextMembership.person_id == person_id)
        )
        return session.execute(statement).scalar_one_or_none()

    membership = find()
    if membership is None:
        membership, _ = insert_or_find(
            session,
            ContextMembership(
                context_id=context_id,
                person_id=person_id,
                roles=roles,
                status=status,
                last_seen_at=seen_at,
            ),
            find=find,
        )
    membership.roles = roles
    membership.status = status
    membership.last_seen_at = seen_at
    return membership


# Grade passback.


def pass_back_score(
    session: Session, *, evidence_id: uuid.UUID, tokens: ServiceTokens | None = None
) -> ScorePassback | None:
    """Post a committed piece of tool evidence to its activity's line item.

    Call it after the evidence is committed: the LMS may be slow or down, and
    the learner's result is stored whatever it answers. Returns None when
    there is nothing to post to (no line item, a deleted one, no score scope,
    evidence from elsewhere). Never raises for what the LMS does.
    """
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or evidence.source != TOOL_SOURCE:
        return None
    link = _postable_line_item(session, activity_id=evidence.activity_id)
    if link is None:
        return None
    passback, _ = insert_or_find(
        session,
        ScorePassback(evidence_id=evidence.id, line_item_id=link.id, status=PENDING),
        find=lambda: _passback_for(
            session, evidence_id=evidence.id, line_item_id=link.id
        ),
    )
    session.commit()
    if passback.status != PENDING:
        return passback
    _attempt(session, passback=passback, tokens=tokens or process_service_tokens())
    session.commit()
    return passback


def pass_back_score_safely(session: Session, *, evidence_id: uuid.UUID) -> None:
    """`pass_back_score` for a request that already answered the learner.

    The evidence is committed; an unexpected failure here must not turn the
    learner's recorded result into an error page.
    """
    try:
        pass_back_score(session, evidence_id=evidence_id)
    except Exception:
        session.rollback()
        log.exception("lms.score_passback_crashed", evidence_id=str(evidence_id))


@dataclass
class PassbackReport:
    attempted: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def retry_failed_passbacks(
    session: Session, *, tokens: ServiceTokens | None = None
) -> PassbackReport:
    """Try every failed or never-attempted passback again, oldest first."""
    # TODO: give up on a passback after a bounded number of attempts
    tokens = tokens or process_service_tokens()
    statement = (
        select(ScorePassback)
        .where(ScorePassback.status.in_((FAILED, PENDING)))
        .order_by(ScorePassback.created_at)
    )
    report = PassbackReport()
    for passback in list(session.execute(statement).scalars()):
        _attempt(session, passback=passback, tokens=tokens)
        session.commit()
        report.attempted += 1
        report.statuses[passback.status] = report.statuses.get(passback.status, 0) + 1
    log.info("lms.passbacks_retried", attempted=report.attempted)
    return report


def _postable_line_item(
    session: Session, *, activity_id: uuid.UUID
) -> LineItemLink | None:
    statement = (
        select(LineItemLink)
        .where(LineItemLink.activity_id == activity_id)
        .where(LineItemLink.gone_at.is_(None))
        .where(LineItemLink.line_item_url.is_not(None))
    )
    link = session.execute(statement).scalar_one_or_none()
    if link is None or SCOPE_SCORE not in link.scopes:
        return None
    return link


def _passback_for(
    session: Session, *, evidence_id: uuid.UUID, line_item_id: uuid.UUID
) -> ScorePassback | None:
    statement = (
        select(ScorePassback)
        .where(ScorePassback.evidence_id == evidence_id)
        .where(ScorePassback.line_item_id == line_item_id)
    )
    return session.execute(statement).scalar_one_or_none()


def _attempt(
    session: Session, *, passback: ScorePassback, tokens: ServiceTokens
) -> None:
    link = session.get(LineItemLink, passback.line_item_id)
    evidence = session.get(Evidence, passback.evidence_id)
    assert link is not None and evidence is not None
    platform = session.get(Platform, link.platform_id)
    assert platform is not None
    passback.attempts += 1
    passback.last_attempt_at = utcnow()
    if link.gone_at is not None or link.line_item_url is None:
        _settle(passback, LINE_ITEM_GONE, error="the line item was deleted in the LMS")
        return
    sub = _lti_sub(session, person_id=evidence.person_id, issuer=platform.issuer)
    if sub is None:
        _settle(
            passback, FAILED, error=f"the person has no LTI id from {platform.issuer}"
        )
        return
    try:
        _post(
            session,
            platform=platform,
            link=link,
            evidence=evidence,
            sub=sub,
            tokens=tokens,
        )
    except ScoreConflict:
        _settle(passback, ALREADY_STORED)
    except LineItemGone as error:
        link.gone_at = utcnow()
        _settle(passback, LINE_ITEM_GONE, error=str(error))
    except (AdvantageServiceError, ValueError) as error:
        _settle(passback, FAILED, error=str(error))
    else:
        _settle(passback, POSTED)


def _post(
    session: Session,
    *,
    platform: Platform,
    link: LineItemLink,
    evidence: Evidence,
    sub: str,
    tokens: ServiceTokens,
) -> None:
    ags = AssignmentGradeService(
        tokens,
        access=platform_access(session, platform=platform),
        endpoint=_ags_endpoint(link),
    )
    score = Score(
        user_id=sub,
        timestamp=evidence.occurred_at,
        score_given=evidence.score,
        score_maximum=evidence.max_score,
    )
    ags.post_score(score, line_item_url=link.line_item_url)


def _settle(passback: ScorePassback, status: str, *, error: str | None = None) -> None:
    passback.status = status
    passback.last_error = error
    log.info(
        "lms.score_passback",
        passback_id=str(passback.id),
        evidence_id=str(passback.evidence_id),
        status=status,
        attempts=passback.attempts,
    )


def _ags_endpoint(link: LineItemLink) -> AgsEndpoint:
    return AgsEndpoint(
        scopes=frozenset(link.scopes),
        lineitems_url=link.line_items_url,
        lineitem_url=link.line_item_url,
    )


def _lti_sub(session: Session, *, person_id: uuid.UUID, issuer: str) -> str | None:
    statement = (
        select(PersonIdentifier.value)
        .where(PersonIdentifier.person_id == person_id)
        .where(PersonIdentifier.scheme == LTI_SCHEME)
        .where(PersonIdentifier.issuer == issuer)
    )
    return session.execute(statement).scalars().first()


# LMS grades into evidence.


@dataclass
class ResultsSyncReport:
    line_items: int = 0
    results_read: int = 0
    evidence_recorded: int = 0
    already_recorded: int = 0
    people_created: int = 0
    skipped: int = 0
    line_items_gone: int = 0
    failures: list[str] = field(default_factory=list)


def sync_results(
    session: Session,
    *,
    platform_id: uuid.UUID | None = None,
    tokens: ServiceTokens | None = None,
    page_size: int = RESULTS_PAGE_SIZE,
    threshold: Decimal | None = None,
) -> ResultsSyncReport:
    """Read every result of every line item we hold and record each as evidence.

    A result is recorded once: its key is built from the line item, the user,
    the result's timestamp and score, so a second sync stores nothing new and
    a grade changed in the LMS becomes new evidence. A result that is the
    echo of a score the tool posted (same person, activity and second) is
    not recorded twice.
    """
    if platform_id is not None and session.get(Platform, platform_id) is None:
        raise Problem(
            404,
            "platform-not-found",
            f"No platform has the id {platform_id}.",
            field="platform_id",
        )
    tokens = tokens or process_service_tokens()
    report = ResultsSyncReport()
    for link in _readable_line_items(session, platform_id=platform_id):
        report.line_items += 1
        _sync_line_item(
            session,
            link=link,
            tokens=tokens,
            page_size=page_size,
            threshold=threshold,
            report=report,
        )
        session.commit()
    log.info(
        "lms.results_synced",
        line_items=report.line_items,
        evidence_recorded=report.evidence_recorded,
        failures=len(report.failures),
    )
    return report


def _readable_line_items(
    session: Session, *, platform_id: uuid.UUID | None
) -> list[LineItemLink]:
    statement = (
        select(LineItemLink)
        .where(LineItemLink.gone_at.is_(None))
        .where(LineItemLink.line_item_url.is_not(None))
        .order_by(LineItemLink.created_at)
    )
    if platform_id is not None:
        statement = statement.where(LineItemLink.platform_id == platform_id)
    links = session.execute(statement).scalars()
    return [link for link in links if SCOPE_RESULT_READONLY in link.scopes]


def _sync_line_item(
    session: Session,
    *,
    link: LineItemLink,
    tokens: ServiceTokens,
    page_size: int,
    threshold: Decimal | None,
    report: ResultsSyncReport,
) -> None:
    platform = session.get(Platform, link.platform_id)
    activity = session.get(Activity, link.activity_id)
    assert platform is not None and activity is not None
    ags = AssignmentGradeService(
        tokens,
        access=platform_access(session, platform=platform),
        endpoint=_ags_endpoint(link),
    )
    try:
        results = ags.results(line_item_url=link.line_item_url, limit=page_size)
    except LineItemGone:
        link.gone_at = utcnow()
        report.line_items_gone += 1
        log.info("lms.line_item_gone", line_item_id=str(link.id))
        return
    except AdvantageServiceError as error:
        report.failures.append(str(error))
        log.warning("lms.results_unreadable", line_item_id=str(link.id))
        return
    for result in results:
        report.results_read += 1
        _record_result(
            session,
            link=link,
            platform=platform,
            activity=activity,
            result=result,
            threshold=threshold,
            report=report,
        )
    link.last_synced_at = utcnow()


def _record_result(
    session: Session,
    *,
    link: LineItemLink,
    platform: Platform,
    activity: Activity,
    result: Result,
    threshold: Decimal | None,
    report: ResultsSyncReport,
) -> None:
    score = result.result_score
    if score is None and platform.product == "moodle":
        # Moodle leaves resultScore out of a result graded 0.
        score = Decimal(0)
    maximum = result.result_maximum
    if score is None or maximum is None or maximum <= 0:
        report.skipped += 1
        return
    key = result_key(
        line_item_url=str(link.line_item_url),
        user_id=result.user_id,
        timestamp=result.timestamp,
        score=score,
        maximum=maximum,
    )
    if _evidence_with_key(session, activity=activity, key=key) is not None:
        report.already_recorded += 1
        return
    person = _person_for_sub(
        session, platform=platform, sub=result.user_id, report=report
    )
    occurred_at = _result_moment(result.timestamp)
    if occurred_at is not None and _posted_by_tool(
        session, person_id=person.id, activity_id=activity.id, moment=occurred_at
    ):
        report.already_recorded += 1
        return
    try:
        record_evidence(
            session,
            organization_id=activity.organization_id,
            person_id=person.id,
            activity_id=activity.id,
            score=score,
            max_score=maximum,
            occurred_at=occurred_at or utcnow(),
            source=LMS_GRADE_SOURCE,
            idempotency_key=key,
            threshold=threshold,
        )
    except Problem as problem:
        report.skipped += 1
        log.warning("lms.result_refused", line_item_id=str(link.id), code=problem.code)
        return
    report.evidence_recorded += 1


def result_key(
    *,
    line_item_url: str,
    user_id: str,
    timestamp: str | None,
    score: Decimal,
    maximum: Decimal,
) -> str:
    """The idempotency key of one LMS result: the same result, the same key."""
    parts = [
        line_item_url,
        user_id,
        timestamp or "",
        f"{score.normalize():f}",
        f"{maximum.normalize():f}",
    ]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return f"{LMS_GRADE_SOURCE}:{digest}"


def _evidence_with_key(
    session: Session, *, activity: Activity, key: str
) -> Evidence | None:
    statement = (
        select(Evidence)
        .where(Evidence.organization_id == activity.organization_id)
        .where(Evidence.idempotency_key == key)
    )
    return session.execute(statement).scalar_one_or_none()


def _person_for_sub(
    session: Session,
    *,
    platform: Platform,
    sub: str,
    report: ResultsSyncReport | RosterSyncReport,
    profile: Mapping[str, str | None] | None = None,
) -> Person:
    """The person behind an LMS user id, created from the sub when not yet known."""
    known = find_person(
        session,
        organization_id=platform.organization_id,
        scheme=LTI_SCHEME,
        issuer=platform.issuer,
        value=sub,
    )
    if known is None:
        report.people_created += 1
    return upsert_lti_person(
        session,
        organization_id=platform.organization_id,
        issuer=platform.issuer,
        sub=sub,
        **(profile or {}),
    )


def _result_moment(timestamp: str | None) -> datetime | None:
    if not timestamp:
        return None
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _posted_by_tool(
    session: Session, *, person_id: uuid.UUID, activity_id: uuid.UUID, moment: datetime
) -> bool:
    # Platforms keep score timestamps to the second (Moodle) or echo them.
    second = moment.replace(microsecond=0)
    statement = (
        select(Evidence.id)
        .where(Evidence.person_id == person_id)
        .where(Evidence.activity_id == activity_id)
        .where(Evidence.source == TOOL_SOURCE)
        .where(Evidence.occurred_at >= second)
        .where(Evidence.occurred_at < second + timedelta(seconds=1))
        .limit(1)
    )
    return session.execute(statement).first() is not None


# Rosters.


@dataclass
class RosterSyncReport:
    contexts: int = 0
    members_read: int = 0
    people_created: int = 0
    marked_inactive: int = 0
    failures: list[str] = field(default_factory=list)


def sync_roster(
    session: Session,
    *,
    context_id: uuid.UUID | None = None,
    tokens: ServiceTokens | None = None,
    page_size: int = MEMBERSHIP_PAGE_SIZE,
) -> RosterSyncReport:
    """Read each context's members into people and memberships.

    Members the LMS no longer lists, or lists as Inactive or Deleted, are
    marked inactive; nobody is deleted.
    """
    services = _membership_services(session, context_id=context_id)
    if context_id is not None and not services:
        raise Problem(
            404,
            "roster-not-available",
            f"Context {context_id} has no roster service: no launch from it "
            "carried the Names and Role Provisioning claim.",
            field="context_id",
        )
    tokens = tokens or process_service_tokens()
    report = RosterSyncReport()
    for service in services:
        report.contexts += 1
        try:
            _sync_context(
                session,
                service=service,
                tokens=tokens,
                page_size=page_size,
                report=report,
            )
        except AdvantageServiceError as error:
            session.rollback()
            report.failures.append(str(error))
            log.warning("lms.roster_unreadable", context_id=str(service.context_id))
            continue
        session.commit()
    log.info(
        "lms.roster_synced",
        contexts=report.contexts,
        members_read=report.members_read,
        marked_inactive=report.marked_inactive,
    )
    return report


def _membership_services(
    session: Session, *, context_id: uuid.UUID | None
) -> list[MembershipService]:
    statement = select(MembershipService).order_by(MembershipService.created_at)
    if context_id is not None:
        statement = statement.where(MembershipService.context_id == context_id)
    return list(session.execute(statement).scalars())


def _sync_context(
    session: Session,
    *,
    service: MembershipService,
    tokens: ServiceTokens,
    page_size: int,
    report: RosterSyncReport,
) -> None:
    platform = session.get(Platform, service.platform_id)
    assert platform is not None
    nrps = NamesRolesService(
        tokens,
        access=platform_access(session, platform=platform),
        endpoint=NrpsEndpoint(context_memberships_url=service.context_memberships_url),
    )
    membership = nrps.membership(limit=page_size)
    now = utcnow()
    listed: set[uuid.UUID] = set()
    for member in membership.members:
        report.members_read += 1
        person = _member_person(
            session, platform=platform, member=member, report=report
        )
        status = ACTIVE if member.status == "Active" else INACTIVE
        _upsert_membership(
            session,
            context_id=service.context_id,
            person_id=person.id,
            roles=list(member.roles),
            status=status,
            seen_at=now,
        )
        listed.add(person.id)
    report.marked_inactive += _mark_leavers(
        session, context_id=service.context_id, listed=listed
    )
    service.last_synced_at = now


def _member_person(
    session: Session, *, platform: Platform, member: Member, report: RosterSyncReport
) -> Person:
    return _person_for_sub(
        session,
        platform=platform,
        sub=member.user_id,
        report=report,
        profile={
            "display_name": member.name,
            "given_name": member.given_name,
            "family_name": member.family_name,
            "email": member.email,
        },
    )


def _mark_leavers(
    session: Session, *, context_id: uuid.UUID, listed: set[uuid.UUID]
) -> int:
    statement = (
        update(ContextMembership)
        .where(ContextMembership.context_id == context_id)
        .where(ContextMembership.status == ACTIVE)
        .where(ContextMembership.person_id.not_in(listed))
        .values(status=INACTIVE, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount


# Reading rosters.


@dataclass(frozen=True)
class ContextMember:
    person: Person
    membership: ContextMembership


def context_members(
    session: Session, *, organization_id: uuid.UUID, context_id: uuid.UUID
) -> list[ContextMember]:
    context = session.get(Context, context_id)
    if context is None or context.organization_id != organization_id:
        raise Problem(
            404,
            "context-not-found",
            f"No context has the id {context_id}.",
            field="context_id",
        )
    statement = (
        select(Person, ContextMembership)
        .join(ContextMembership, ContextMembership.person_id == Person.id)
        .where(ContextMembership.context_id == context_id)
        .order_by(ContextMembership.created_at, Person.id)
    )
    return [
        ContextMember(person=person, membership=membership)
        for person, membership in session.execute(statement).all()
    ]
