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
from app.contexts.models import Context
from app.contexts.service import upsert_context
from app.database import insert_or_find, new_id, utcnow
from app.evidence.models import Evidence
from app.evidence.service import RecordedEvidence, record_evidence
from app.frameworks.models import Competency
from app.frameworks.service import (
    FrameworkSummary,
    TreeEntry,
    framework_tree,
    list_frameworks,
    search_competencies,
)
from app.keys.models import ToolKey
from app.keys.service import ensure_signing_key
from app.lms_services.service import (
    pass_back_score_safely,
    record_launch_services,
)
from app.lti.models import LaunchSession, LaunchStateEntry, UsedNonce
from app.lti.origin import is_secure_url
from app.lti.paths import LAUNCH_PATH, TARGET_PATHS
from app.mastery.service import CompetencyMastery, mastery_for_activity
from app.people.models import Person
from app.people.service import LTI_SCHEME, find_person, upsert_lti_person
from app.platforms.models import Platform
from app.platforms.service import find_platform, has_deployment
from app.problems import Problem
from app.settings import Settings
from connectors.lti import (
    FormRequest,
    LaunchPolicy,
    LaunchRejected,
    PendingCookie,
    PlatformKeySets,
    PlatformRegistry,
    StoreLaunchDataStorage,
    ValidatedLaunch,
    start_login,
    validate_launch,
)
from connectors.lti import claims as lti_claims
from connectors.lti.deep_linking import (
    DeepLinkingSettings,
    LineItem,
    ResourceLinkItem,
    deep_linking_response,
)
from connectors.lti.deep_linking import SigningKey as ResponseSigningKey
from connectors.lti.roles import can_align, is_learner

log = structlog.get_logger()

LAUNCH_SESSION_LIFETIME = timedelta(hours=8)
ACTIVITY_KIND = "lti_resource_link"
DEEP_LINK_KIND = "lti_deep_link"
# Custom parameters of a deep-linked resource link; the LMS sends them back
# with every launch of the link.
DEEP_LINK_ACTIVITY_PARAMETER = "standards_bridge_activity_id"
ALIGNED_CODES_PARAMETER = "standards_bridge_competencies"
LINE_ITEM_SCORE_MAXIMUM = 100
LINE_ITEM_TAG = "standards-bridge"
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
    base_url: str,
    params: Mapping[str, str],
    cookies: Mapping[str, str],
) -> LoginRedirect:
    """Answer an OIDC login initiation with the platform's authorization URL."""
    purge_expired(session)
    request = FormRequest(
        params=params, cookies=cookies, secure=is_secure_url(base_url)
    )
    registry = DatabasePlatformRegistry(session, tool_key=ensure_signing_key(session))
    location, pending = start_login(
        request,
        registry,
        storage=StoreLaunchDataStorage(
            DatabaseStore(session),
            default_ttl_seconds=settings.lti_nonce_ttl_seconds,
        ),
        launch_url=base_url + LAUNCH_PATH,
        nonce_lifetime_seconds=settings.lti_nonce_ttl_seconds,
    )
    log.info("lti.login.redirected", issuer=params.get("iss"))
    return LoginRedirect(location=location, cookies=pending)


def complete_launch(
    session: Session,
    *,
    settings: Settings,
    base_url: str,
    params: Mapping[str, str],
    cookies: Mapping[str, str],
) -> CompletedLaunch:
    """Validate a launch and record who launched what, all or nothing."""
    store = DatabaseStore(session)
    request = FormRequest(
        params=params, cookies=cookies, secure=is_secure_url(base_url)
    )
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
                tool_urls=tuple(base_url + path for path in TARGET_PATHS),
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
        message_type=launch_session.message_type,
        anonymous=launch_session.person_id is None,
    )
    return CompletedLaunch(launch_session=launch_session, cookies=launch.cookies)


def _record_launch(session: Session, *, launch: ValidatedLaunch) -> LaunchSession:
    platform = find_platform(session, issuer=launch.issuer, client_id=launch.client_id)
    assert platform is not None, "validated launches have a registered platform"
    body = launch.claims
    message_type = str(body[lti_claims.MESSAGE_TYPE])
    roles = [str(role) for role in body.get(lti_claims.ROLES) or []]
    _require_message_role(body, message_type=message_type, roles=roles)

    # Every refusal comes before the first write: on SQLite a savepoint
    # released outside an explicit transaction is already committed.
    deep_linked = _deep_linked_activity(session, platform=platform, launch=launch)
    person = _launching_person(session, platform=platform, launch=launch)
    context = _launch_context(session, platform=platform, launch=launch)
    activity = deep_linked
    if activity is None and message_type != lti_claims.DEEP_LINKING_REQUEST:
        activity = _resource_link_activity(
            session, platform=platform, launch=launch, context=context
        )

    record_launch_services(
        session,
        platform=platform,
        claims=body,
        person_id=person.id if person else None,
        context_id=context.id if context else None,
        activity_id=activity.id if activity else None,
        roles=roles,
    )
    launch_session = LaunchSession(
        id=secrets.token_urlsafe(32),
        platform_id=platform.id,
        person_id=person.id if person else None,
        context_id=context.id if context else None,
        activity_id=activity.id if activity else None,
        roles=roles,
        message_type=message_type,
        claims=_kept_claims(body),
        expires_at=utcnow() + LAUNCH_SESSION_LIFETIME,
    )
    session.add(launch_session)
    session.flush()
    return launch_session


def _require_message_role(
    body: Mapping[str, Any], *, message_type: str, roles: list[str]
) -> None:
    if message_type == lti_claims.DEEP_LINKING_REQUEST and not can_align(roles):
        raise LaunchRejected(
            "role-cannot-deep-link",
            "Only instructors, content developers and administrators can add "
            "this tool's activities to a course.",
            status=403,
        )
    if message_type == lti_claims.SUBMISSION_REVIEW_REQUEST and not can_align(roles):
        reviewed = _object(body.get(lti_claims.FOR_USER)).get("user_id")
        if not is_learner(roles) or reviewed != body.get("sub"):
            raise LaunchRejected(
                "role-cannot-review",
                "Only instructors can review another learner's submission; a "
                "learner can review only their own.",
                status=403,
            )


def _launching_person(
    session: Session, *, platform: Platform, launch: ValidatedLaunch
) -> Person | None:
    """The person behind `sub`; an anonymous launch (no `sub`) has none."""
    body = launch.claims
    if "sub" not in body:
        return None
    return upsert_lti_person(
        session,
        organization_id=platform.organization_id,
        issuer=launch.issuer,
        sub=str(body["sub"]),
        display_name=_text(body.get("name")),
        given_name=_text(body.get("given_name")),
        family_name=_text(body.get("family_name")),
        email=_text(body.get("email")),
    )


def _launch_context(
    session: Session, *, platform: Platform, launch: ValidatedLaunch
) -> Context | None:
    context_claim = _object(launch.claims.get(lti_claims.CONTEXT))
    if not context_claim.get("id"):
        return None
    return upsert_context(
        session,
        organization_id=platform.organization_id,
        source=launch.issuer,
        external_id=str(context_claim["id"]),
        platform_id=platform.id,
        label=_text(context_claim.get("label")),
        title=_text(context_claim.get("title")),
    )


def _resource_link_activity(
    session: Session,
    *,
    platform: Platform,
    launch: ValidatedLaunch,
    context: Context | None,
) -> Activity:
    resource_link = _object(launch.claims.get(lti_claims.RESOURCE_LINK))
    return upsert_activity(
        session,
        organization_id=platform.organization_id,
        source=launch.issuer,
        external_id=str(resource_link["id"]),
        kind=ACTIVITY_KIND,
        title=_text(resource_link.get("title")),
        description=_text(resource_link.get("description")),
        context_id=context.id if context else None,
        platform_id=platform.id,
    )


def _deep_linked_activity(
    session: Session, *, platform: Platform, launch: ValidatedLaunch
) -> Activity | None:
    """The activity a deep-linked resource link stands for, if it is one.

    The link carries our activity id as a custom parameter; the LMS picks the
    resource link id only after the link is saved, so every launch of the
    link is bound to the deep-linked activity through it.
    """
    custom = _object(launch.claims.get(lti_claims.CUSTOM))
    if DEEP_LINK_ACTIVITY_PARAMETER not in custom:
        return None
    value = custom[DEEP_LINK_ACTIVITY_PARAMETER]
    try:
        activity = session.get(Activity, uuid.UUID(str(value)))
    except ValueError:
        activity = None
    if (
        activity is None
        or activity.kind != DEEP_LINK_KIND
        or activity.organization_id != platform.organization_id
        or activity.source != launch.issuer
    ):
        raise LaunchRejected(
            "deep-linked-activity-unknown",
            f"The link's custom parameter {DEEP_LINK_ACTIVITY_PARAMETER}="
            f"'{value}' names no activity this LMS created here; add the "
            "activity to the course again.",
            status=404,
        )
    log.info(
        "lti.resource_link.bound",
        activity_id=str(activity.id),
        platform_id=str(platform.id),
    )
    return activity


def _kept_claims(body: Mapping[str, Any]) -> dict[str, Any]:
    """The claims a page needs later, without profile data about anyone."""
    kept = {k: v for k, v in body.items() if k not in PERSONAL_CLAIMS}
    for_user = body.get(lti_claims.FOR_USER)
    if isinstance(for_user, dict):
        kept[lti_claims.FOR_USER] = {"user_id": for_user.get("user_id")}
    return kept


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
    if launch_session.message_type == lti_claims.DEEP_LINKING_REQUEST:
        return "deep_linking"
    if launch_session.message_type == lti_claims.SUBMISSION_REVIEW_REQUEST:
        return "review"
    if can_align(launch_session.roles):
        return "instructor"
    if is_learner(launch_session.roles):
        return "learner"
    return "other"


def launch_activity(session: Session, launch_session: LaunchSession) -> Activity:
    activity = (
        session.get(Activity, launch_session.activity_id)
        if launch_session.activity_id
        else None
    )
    if activity is None:
        raise Problem(
            404, "activity-not-found", "The activity of this launch no longer exists."
        )
    return activity


def learner_mastery(
    session: Session, *, launch_session: LaunchSession
) -> list[CompetencyMastery]:
    """The learner's mastery on the activity's competencies; an anonymous
    launch has no person, so it sees the competencies without standing."""
    assert launch_session.activity_id
    if launch_session.person_id is None:
        return [
            CompetencyMastery(
                competency=competency,
                status="no_evidence",
                level=None,
                mastered=False,
                rolled_up=False,
            )
            for competency in aligned_competencies(
                session, activity_id=launch_session.activity_id
            )
        ]
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
    if launch_session.person_id is None:
        raise Problem(
            403,
            "anonymous-launch",
            "The LMS launched this activity without saying who you are, so "
            "results cannot be recorded.",
        )
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
            pass_back_score_safely(session, evidence_id=recorded.evidence.id)
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


# Deep linking: the instructor picks competencies, the LMS gets links back.


@dataclass(frozen=True)
class DeepLinkingAnswer:
    """The signed response and where the browser must post it."""

    return_url: str
    jwt: str
    activities: list[Activity]


def deep_linking_settings(launch_session: LaunchSession) -> DeepLinkingSettings:
    if launch_session.message_type != lti_claims.DEEP_LINKING_REQUEST:
        raise Problem(
            409,
            "not-a-deep-linking-launch",
            "This page was not opened to add activities to a course.",
            field="launch",
        )
    return DeepLinkingSettings.from_claims(launch_session.claims)


def framework_choices(
    session: Session, *, framework_id: str, query: str
) -> tuple[list[FrameworkSummary], list[TreeEntry], list[Competency]]:
    """The frameworks, the chosen framework's tree and the search results."""
    frameworks = list_frameworks(session)
    tree: list[TreeEntry] = []
    chosen = _uuid_or_none(framework_id)
    if chosen is not None and any(f.framework.id == chosen for f in frameworks):
        tree = framework_tree(session, framework_id=chosen)
    return frameworks, tree, find_competencies(session, query=query)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def complete_deep_linking(
    session: Session,
    *,
    settings: Settings,
    base_url: str,
    launch_session: LaunchSession,
    competency_ids: list[uuid.UUID],
    one_item_each: bool,
) -> DeepLinkingAnswer:
    """Create and align the chosen activities, then sign the response.

    The alignments are committed before the response exists, so whatever the
    LMS does with the links, a later launch finds its standards. The launch
    session ends here: a second post would create a second set of activities.
    """
    dl_settings = deep_linking_settings(launch_session)
    require_aligning_role(launch_session)
    competencies = _chosen_competencies(session, competency_ids=competency_ids)
    if one_item_each and len(competencies) > 1 and not dl_settings.accept_multiple:
        raise Problem(
            422,
            "multiple-items-not-accepted",
            "The LMS accepts one link here; choose 'one activity for all "
            "selected standards' or select a single standard.",
            field="grouping",
        )
    groups = [[c] for c in competencies] if one_item_each else [competencies]
    platform = session.get(Platform, launch_session.platform_id)
    assert platform is not None
    issuer = str(launch_session.claims["iss"])
    target = dl_settings.presentation_target()

    activities: list[Activity] = []
    items: list[ResourceLinkItem] = []
    for group in groups:
        activity = _new_deep_linked_activity(
            session,
            settings=settings,
            launch_session=launch_session,
            organization_id=platform.organization_id,
            issuer=issuer,
            competencies=group,
        )
        activities.append(activity)
        items.append(
            _resource_link_item(
                activity, base_url=base_url, competencies=group, target=target
            )
        )
    launch_session.expires_at = utcnow()
    session.commit()

    key = ensure_signing_key(session)
    token = deep_linking_response(
        issuer=issuer,
        client_id=platform.client_id,
        deployment_id=str(launch_session.claims[lti_claims.DEPLOYMENT_ID]),
        settings=dl_settings,
        items=items,
        key=ResponseSigningKey(kid=key.kid, private_key_pem=key.private_key_pem),
    )
    log.info(
        "lti.deep_link.returned",
        platform_id=str(platform.id),
        activity_ids=[str(a.id) for a in activities],
        kid=key.kid,
    )
    return DeepLinkingAnswer(
        return_url=dl_settings.return_url, jwt=token, activities=activities
    )


def _chosen_competencies(
    session: Session, *, competency_ids: list[uuid.UUID]
) -> list[Competency]:
    if not competency_ids:
        raise Problem(
            422,
            "no-competency-selected",
            "Tick at least one competency to add.",
            field="competency_id",
        )
    unique = list(dict.fromkeys(competency_ids))
    statement = select(Competency).where(Competency.id.in_(unique))
    found = {c.id: c for c in session.execute(statement).scalars()}
    for position, competency_id in enumerate(unique):
        if competency_id not in found:
            raise Problem(
                404,
                "competency-not-found",
                f"No competency has the id {competency_id}.",
                field=f"competency_id.{position}",
            )
    return [found[competency_id] for competency_id in unique]


def _new_deep_linked_activity(
    session: Session,
    *,
    settings: Settings,
    launch_session: LaunchSession,
    organization_id: uuid.UUID,
    issuer: str,
    competencies: list[Competency],
) -> Activity:
    activity_id = new_id()
    activity = Activity(
        id=activity_id,
        organization_id=organization_id,
        source=issuer,
        external_id=str(activity_id),
        kind=DEEP_LINK_KIND,
        title=_item_title(competencies),
        context_id=launch_session.context_id,
        platform_id=launch_session.platform_id,
    )
    session.add(activity)
    session.flush()
    align_activity(
        session,
        activity_id=activity.id,
        competency_ids=[c.id for c in competencies],
        created_by_person_id=launch_session.person_id,
        threshold=settings.mastery_threshold,
    )
    return activity


def _competency_label(competency: Competency) -> str:
    return competency.human_coding_scheme or competency.full_statement[:60]


def _item_title(competencies: list[Competency]) -> str:
    if len(competencies) == 1:
        only = competencies[0]
        title = f"{_competency_label(only)}: {only.full_statement}"
    else:
        title = "Standards " + ", ".join(_competency_label(c) for c in competencies)
    return title if len(title) <= 200 else title[:199] + "\u2026"


def _resource_link_item(
    activity: Activity,
    *,
    base_url: str,
    competencies: list[Competency],
    target: str | None,
) -> ResourceLinkItem:
    title = activity.title or "Standards Bridge activity"
    return ResourceLinkItem(
        title=title,
        url=base_url + LAUNCH_PATH,
        text="; ".join(c.full_statement for c in competencies)[:1000],
        line_item=LineItem(
            score_maximum=LINE_ITEM_SCORE_MAXIMUM,
            label=title,
            resource_id=str(activity.id),
            tag=LINE_ITEM_TAG,
        ),
        custom={
            DEEP_LINK_ACTIVITY_PARAMETER: str(activity.id),
            ALIGNED_CODES_PARAMETER: ",".join(
                _competency_label(c) for c in competencies
            ),
        },
        document_target=target,
    )


# Submission review: one learner's evidence for the launched activity.


@dataclass(frozen=True)
class SubmissionReview:
    learner: Person | None
    evidence: list[Evidence]
    mastery: list[CompetencyMastery]


def submission_review(
    session: Session, *, launch_session: LaunchSession
) -> SubmissionReview:
    activity = launch_activity(session, launch_session)
    user_id = str(_object(launch_session.claims.get(lti_claims.FOR_USER))["user_id"])
    learner = find_person(
        session,
        organization_id=activity.organization_id,
        scheme=LTI_SCHEME,
        value=user_id,
        issuer=str(launch_session.claims["iss"]),
    )
    if learner is None:
        return SubmissionReview(learner=None, evidence=[], mastery=[])
    statement = (
        select(Evidence)
        .where(Evidence.person_id == learner.id)
        .where(Evidence.activity_id == activity.id)
        .where(Evidence.voided_at.is_(None))
        .order_by(Evidence.occurred_at.desc())
    )
    return SubmissionReview(
        learner=learner,
        evidence=list(session.execute(statement).scalars()),
        mastery=mastery_for_activity(
            session, person_id=learner.id, activity_id=activity.id
        ),
    )
