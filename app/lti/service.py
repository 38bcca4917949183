"""LTI launches and the pages shown inside the LMS, over the service's records.

The protocol checks live in `connectors.lti`; this module gives them the
platform registrations, the tool key and a server-side store, and turns an
accepted launch into people, contexts, activities and a launch session.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.activities.models import Activity
from app.activities.service import (
    align_activity,
    aligned_competencies,
    unalign_activity,
    upsert_activity,
)
from app.contexts.service import upsert_context
from app.database import insert_or_find, utcnow
from app.evidence.models import Evidence
from app.evidence.service import RecordedEvidence, record_evidence
from app.frameworks.models import Competency
from app.frameworks.service import search_competencies
from app.keys.models import ToolKey
from app.keys.service import ensure_signing_key
from app.lti.models import LaunchSession, LaunchStateEntry, UsedNonce
from app.lti.paths import LAUNCH_PATH
from app.mastery.service import CompetencyMastery, mastery_for_activity
from app.people.service import upsert_lti_person
from app.platforms.models import Platform
from app.platforms.service import find_platform, has_deployment
from app.problems import Problem
from app.settings import Settings
from connectors.lti import (
    FormRequest,
    LaunchPolicy,
    PendingCookie,
    PlatformKeySets,
    PlatformRegistry,
    StoreLaunchDataStorage,
    ValidatedLaunch,
    start_login,
    validate_launch,
)
from connectors.lti import claims as lti_claims
from connectors.lti.roles import can_align, is_learner

log = structlog.get_logger()

LAUNCH_SESSION_LIFETIME = timedelta(hours=8)
ACTIVITY_KIND = "lti_resource_link"
EVIDENCE_SOURCE = "tool"
# Profile claims are kept on the person record, not copied into every session.
PERSONAL_CLAIMS = {"name", "given_name", "family_name", "email", "picture"}


class DatabaseStore:
    """Expiring key/value entries in `lti_state_entries`.

    Each write commits at once: a login's nonce must be stored before the
    browser is redirected, and a fetched key set is worth keeping even when
    the launch that fetched it is refused.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, key: str) -> Any | None:
        statement = (
            select(LaunchStateEntry.value)
            .where(LaunchStateEntry.key == key)
            .where(LaunchStateEntry.expires_at > utcnow())
        )
        return self._session.execute(statement).scalar_one_or_none()

    def put(self, key: str, value: Any, *, ttl_seconds: int) -> None:
        entry = LaunchStateEntry(
            key=key, value=value, expires_at=utcnow() + timedelta(seconds=ttl_seconds)
        )
        try:
            self._session.merge(entry)
            self._session.commit()
        except IntegrityError:
            # Two requests wrote the same key at once; the later value wins.
            self._session.rollback()
            self._session.merge(entry)
            self._session.commit()


class DatabaseNonceLedger:
    """Used nonces in `lti_used_nonces`, unique per (issuer, nonce)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def claim(self, *, issuer: str, nonce: str, expires_at: datetime) -> bool:
        _row, created = insert_or_find(
            self._session,
            UsedNonce(issuer=issuer, nonce=nonce, expires_at=expires_at),
            find=lambda: self._used_nonce(issuer=issuer, nonce=nonce),
        )
        return created

    def _used_nonce(self, *, issuer: str, nonce: str) -> UsedNonce | None:
        statement = (
            select(UsedNonce)
            .where(UsedNonce.issuer == issuer)
            .where(UsedNonce.nonce == nonce)
        )
        return self._session.execute(statement).scalar_one_or_none()


class DatabasePlatformRegistry(PlatformRegistry):
    """pylti1p3 registrations built from `platforms` rows and the tool key."""

    def __init__(self, session: Session, *, tool_key: ToolKey) -> None:
        super().__init__()
        self._session = session
        self._tool_key = tool_key

    def knows_issuer(self, iss: str) -> bool:
        statement = select(Platform.id).where(Platform.issuer == iss).limit(1)
        return self._session.execute(statement).first() is not None

    def find_registration_by_params(  # type: ignore[override]
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Registration | None:
        platform = find_platform(self._session, issuer=iss, client_id=client_id)
        if platform is None:
            return None
        registration = (
            Registration()
            .set_issuer(platform.issuer)
            .set_client_id(platform.client_id)
            .set_auth_login_url(platform.auth_login_url)
            .set_auth_token_url(platform.auth_token_url)
            .set_key_set_url(platform.keyset_url)
            .set_tool_private_key(self._tool_key.private_key_pem)
        )
        if platform.auth_audience:
            registration.set_auth_audience(platform.auth_audience)
        return registration

    def find_deployment_by_params(
        self,
        iss: str,
        deployment_id: str,
        client_id: str | None,
        *args: Any,
        **kwargs: Any,
    ) -> Deployment | None:
        platform = find_platform(self._session, issuer=iss, client_id=client_id)
        if platform is None or not has_deployment(platform, deployment_id):
            return None
        return Deployment().set_deployment_id(deployment_id)


@dataclass(frozen=True)
class LoginRedirect:
    location: str
    cookies: list[PendingCookie]


@dataclass(frozen=True)
class CompletedLaunch:
    launch_session: LaunchSession
    cookies: list[PendingCookie]


def is_secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def purge_expired(session: Session) -> None:
    """Forget state entries, used nonces and launch sessions past their time."""
    now = utcnow()
    session.execute(delete(LaunchStateEntry).where(LaunchStateEntry.expires_at < now))
    session.execute(delete(UsedNonce).where(UsedNonce.expires_at < now))
    session.execute(delete(LaunchSession).where(LaunchSession.expires_at < now))
    session.commit()


def begin_login(
    session: Session,
    *,
    settings: Settings,
    params: Mapping[str, str],
    cookies: Mapping[str, str],
) -> LoginRedirect:
    """Answer an OIDC login initiation with the platform's authorization URL."""
    purge_expired(session)
    request = FormRequest(params=params, cookies=cookies, secure=is_secure(settings))
    registry = DatabasePlatformRegistry(session, tool_key=ensure_signing_key(session))
    location, pending = start_login(
        request,
        registry,
        storage=StoreLaunchDataStorage(
            DatabaseStore(session),
            default_ttl_seconds=settings.lti_nonce_ttl_seconds,
        ),
        launch_url=settings.public_url + LAUNCH_PATH,
        nonce_lifetime_seconds=settings.lti_nonce_ttl_seconds,
    )
    log.info("lti.login.redirected", issuer=params.get("iss"))
    return LoginRedirect(location=location, cookies=pending)


def complete_launch(
    session: Session,
    *,
    settings: Settings,
    params: Mapping[str, str],
    cookies: Mapping[str, str],
) -> CompletedLaunch:
    """Validate a launch and record who launched what, all or nothing."""
    store = DatabaseStore(session)
    request = FormRequest(params=params, cookies=cookies, secure=is_secure(settings))
    registry = DatabasePlatformRegistry(session, tool_key=ensure_signing_key(session))
    try:
        launch = validate_launch(
            request,
            registry,
            storage=StoreLaunchDataStorage(
                store, default_ttl_seconds=settings.lti_nonce_ttl_seconds
            ),
            key_sets=PlatformKeySets(
                store=store, cache_seconds=settings.lti_jwks_cache_seconds
            ),
            nonces=DatabaseNonceLedger(session),
            policy=LaunchPolicy(
                clock_leeway_seconds=settings.lti_clock_leeway_seconds,
                nonce_ttl_seconds=settings.lti_nonce_ttl_seconds,
            ),
        )
        launch_session = _record_launch(session, launch=launch)
        session.commit()
    except Exception:
        session.rollback()
        raise
    log.info(
        "lti.launch.accepted",
        launch_session_id=launch_session.id,
        platform_id=str(launch_session.platform_id),
        activity_id=str(launch_session.activity_id),
    )
    return CompletedLaunch(launch_session=launch_session, cookies=launch.cookies)


def _record_launch(session: Session, *, launch: ValidatedLaunch) -> LaunchSession:
    platform = find_platform(session, issuer=launch.issuer, client_id=launch.client_id)
    assert platform is not None, "validated launches have a registered platform"
    body = launch.claims
    organization_id = platform.organization_id

    person = upsert_lti_person(
        session,
        organization_id=organization_id,
        issuer=launch.issuer,
        sub=str(body["sub"]),
        display_name=_text(body.get("name")),
        given_name=_text(body.get("given_name")),
        family_name=_text(body.get("family_name")),
        email=_text(body.get("email")),
    )
    context_claim = _object(body.get(lti_claims.CONTEXT))
    context = None
    if context_claim.get("id"):
        context = upsert_context(
            session,
            organization_id=organization_id,
            source=launch.issuer,
            external_id=str(context_claim["id"]),
            platform_id=platform.id,
            label=_text(context_claim.get("label")),
            title=_text(context_claim.get("title")),
        )
    resource_link = _object(body.get(lti_claims.RESOURCE_LINK))
    activity = upsert_activity(
        session,
        organization_id=organization_id,
        source=launch.issuer,
        external_id=str(resource_link["id"]),
        kind=ACTIVITY_KIND,
        title=_text(resource_link.get("title")),
        description=_text(resource_link.get("description")),
        context_id=context.id if context else None,
        platform_id=platform.id,
    )

    roles = body.get(lti_claims.ROLES) or []
    launch_session = LaunchSession(
        id=secrets.token_urlsafe(32),
        platform_id=platform.id,
        person_id=person.id,
        context_id=context.id if context else None,
        activity_id=activity.id,
        roles=[str(role) for role in roles],
        message_type=str(body[lti_claims.MESSAGE_TYPE]),
        claims={k: v for k, v in body.items() if k not in PERSONAL_CLAIMS},
        expires_at=utcnow() + LAUNCH_SESSION_LIFETIME,
    )
    session.add(launch_session)
    session.flush()
    return launch_session


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# Pages shown inside the LMS.


def open_launch_session(session: Session, *, launch_session_id: str) -> LaunchSession:
    """The launch session a page request carries, if it is still valid."""
    launch_session = (
        session.get(LaunchSession, launch_session_id) if launch_session_id else None
    )
    if launch_session is None or launch_session.expires_at <= utcnow():
        raise Problem(
            401,
            "launch-session-invalid",
            "This page's launch has expired or is unknown; open the activity "
            "from your course again.",
            field="launch",
        )
    return launch_session


def require_aligning_role(launch_session: LaunchSession) -> None:
    if not can_align(launch_session.roles):
        raise Problem(
            403,
            "role-cannot-align",
            "Only instructors, content developers and administrators can change "
            "what this activity is aligned to.",
        )


def require_learner_role(launch_session: LaunchSession) -> None:
    if can_align(launch_session.roles) or not is_learner(launch_session.roles):
        raise Problem(
            403,
            "role-cannot-submit",
            "Only learners submit work for this activity.",
        )


def page_kind(launch_session: LaunchSession) -> str:
    """Which page a launch sees: staff roles win over a learner role."""
    if can_align(launch_session.roles):
        return "instructor"
    if is_learner(launch_session.roles):
        return "learner"
    return "other"


def launch_activity(session: Session, launch_session: LaunchSession) -> Activity:
    activity = session.get(Activity, launch_session.activity_id)
    if activity is None:
        raise Problem(
            404, "activity-not-found", "The activity of this launch no longer exists."
        )
    return activity


def learner_mastery(
    session: Session, *, launch_session: LaunchSession
) -> list[CompetencyMastery]:
    assert launch_session.person_id and launch_session.activity_id
    return mastery_for_activity(
        session,
        person_id=launch_session.person_id,
        activity_id=launch_session.activity_id,
    )


def submission_key(*, launch_session_id: str, form_token: str) -> str:
    """One key per rendered form, so a double-click stores one result."""
    return f"lti:{launch_session_id}:{form_token}"


def submit_score(
    session: Session,
    *,
    settings: Settings,
    launch_session: LaunchSession,
    score: Decimal,
    max_score: Decimal,
    form_token: str,
) -> RecordedEvidence:
    """Record a learner's result once per rendered form.

    The second post of a double-click arrives a moment later, so its
    occurred_at differs; it is recognised by its key and its score instead.
    """
    require_learner_role(launch_session)
    activity = launch_activity(session, launch_session)
    assert launch_session.person_id is not None
    key = submission_key(launch_session_id=launch_session.id, form_token=form_token)
    earlier = _submitted(session, activity=activity, idempotency_key=key)
    if earlier is None:
        try:
            recorded = record_evidence(
                session,
                organization_id=activity.organization_id,
                person_id=launch_session.person_id,
                activity_id=activity.id,
                score=score,
                max_score=max_score,
                occurred_at=utcnow(),
                source=EVIDENCE_SOURCE,
                idempotency_key=key,
                threshold=settings.mastery_threshold,
            )
            session.commit()
            return recorded
        except Problem as problem:
            # A concurrent post of the same form won the insert.
            session.rollback()
            earlier = _submitted(session, activity=activity, idempotency_key=key)
            if earlier is None:
                raise problem from None
    if (earlier.score, earlier.max_score) != (score, max_score):
        raise Problem(
            409,
            "form-already-submitted",
            "This form was already submitted with another score; reload the page "
            "to submit a new result.",
            field="score",
        )
    return RecordedEvidence(evidence=earlier, created=False)


def _submitted(
    session: Session, *, activity: Activity, idempotency_key: str
) -> Evidence | None:
    statement = (
        select(Evidence)
        .where(Evidence.organization_id == activity.organization_id)
        .where(Evidence.idempotency_key == idempotency_key)
    )
    return session.execute(statement).scalar_one_or_none()


def current_alignments(
    session: Session, *, launch_session: LaunchSession
) -> list[Competency]:
    assert launch_session.activity_id is not None
    return aligned_competencies(session, activity_id=launch_session.activity_id)


def find_competencies(session: Session, *, query: str) -> list[Competency]:
    return search_competencies(session, query=query) if query.strip() else []


def align_from_page(
    session: Session,
    *,
    settings: Settings,
    launch_session: LaunchSession,
    competency_ids: list[uuid.UUID],
) -> None:
    require_aligning_role(launch_session)
    if not competency_ids:
        raise Problem(
            422,
            "no-competency-selected",
            "Tick at least one competency to align.",
            field="competency_id",
        )
    activity = launch_activity(session, launch_session)
    align_activity(
        session,
        activity_id=activity.id,
        competency_ids=competency_ids,
        created_by_person_id=launch_session.person_id,
        threshold=settings.mastery_threshold,
    )
    session.commit()


def unalign_from_page(
    session: Session,
    *,
    settings: Settings,
    launch_session: LaunchSession,
    competency_id: uuid.UUID,
) -> None:
    require_aligning_role(launch_session)
    activity = launch_activity(session, launch_session)
    unalign_activity(
        session,
        activity_id=activity.id,
        competency_id=competency_id,
        threshold=settings.mastery_threshold,
    )
    session.commit()
