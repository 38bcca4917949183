"""The mastery API: where a person stands, why, and the policies that judge it."""

import uuid
from decimal import Decimal
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import get_session
from app.frameworks.models import Framework
from app.frameworks.service import get_framework
from app.mastery.models import Mastery
from app.mastery.policies import (
    SOURCE_FRAMEWORK,
    SOURCE_ORGANIZATION,
    default_policy,
    policies_for_frameworks,
    policy_of_row,
    save_policy,
    stored_policy,
)
from app.mastery.schemas import (
    AppliedPolicyOut,
    CompetencyMasteryOut,
    ExplanationOut,
    MasteryPolicyIn,
    MasteryPolicyOut,
    PersonMasteryOut,
    PreviewOut,
)
from app.mastery.service import (
    explain_mastery,
    mastery_for_person,
    preview_policy,
    recompute_framework,
)
from app.organizations.models import Organization
from app.organizations.service import get_default_organization_id
from app.people.service import resolve_person
from app.problems import PROBLEM_MEDIA_TYPE, Problem

router = APIRouter(prefix="/api/v1/people", tags=["mastery"])
policy_router = APIRouter(prefix="/api/v1", tags=["mastery policies"])

log = structlog.get_logger()


def configured_threshold(request: Request) -> Decimal:
    """The app's own setting, which may differ from the process environment's."""
    threshold: Decimal = request.app.state.settings.mastery_threshold
    return threshold


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such record", "content": {PROBLEM_MEDIA_TYPE: {}}}
}
REFUSED: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    422: {
        "description": "The policy cannot be used",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
}


@router.get(
    "/{person_id}/mastery", response_model=PersonMasteryOut, responses=NOT_FOUND
)
def get_person_mastery(
    person_id: uuid.UUID, session: Session = Depends(get_session)
) -> PersonMasteryOut:
    """Each competency the person has evidence for, with the evidence behind it."""
    person = resolve_person(
        session,
        organization_id=get_default_organization_id(session),
        person_id=person_id,
        field="person_id",
    )
    standings = mastery_for_person(session, person_id=person.id)
    return PersonMasteryOut(
        person_id=person.id,
        competencies=[CompetencyMasteryOut.of(standing) for standing in standings],
    )


@router.get(
    "/{person_id}/mastery/{competency_id}/explanation",
    response_model=ExplanationOut,
    responses=NOT_FOUND,
)
def get_mastery_explanation(
    person_id: uuid.UUID,
    competency_id: uuid.UUID,
    session: Session = Depends(get_session),
    threshold: Decimal = Depends(configured_threshold),
) -> ExplanationOut:
    """How the person's mastery of the competency is worked out, step by step."""
    person = resolve_person(
        session,
        organization_id=get_default_organization_id(session),
        person_id=person_id,
        field="person_id",
    )
    standing = explain_mastery(
        session, person_id=person.id, competency_id=competency_id, threshold=threshold
    )
    stored = session.get(Mastery, (person.id, competency_id))
    return ExplanationOut.of(standing, person_id=person.id, stored=stored)


@policy_router.get(
    "/frameworks/{framework_id}/mastery-policy",
    response_model=MasteryPolicyOut,
    responses=NOT_FOUND,
)
def get_framework_policy(
    framework_id: uuid.UUID,
    session: Session = Depends(get_session),
    threshold: Decimal = Depends(configured_threshold),
) -> MasteryPolicyOut:
    """The policy in force for the framework, and where it comes from."""
    framework = _existing_framework(session, framework_id)
    policies = policies_for_frameworks(
        session, framework_ids={framework.id}, threshold=threshold
    )
    return MasteryPolicyOut.of(policies[framework.id])


@policy_router.put(
    "/frameworks/{framework_id}/mastery-policy",
    response_model=AppliedPolicyOut,
    responses=REFUSED,
)
def put_framework_policy(
    framework_id: uuid.UUID,
    body: MasteryPolicyIn,
    session: Session = Depends(get_session),
    threshold: Decimal = Depends(configured_threshold),
) -> AppliedPolicyOut:
    """Set the framework's own policy and recompute its stored mastery."""
    framework = _existing_framework(session, framework_id)
    policy = body.policy(source=SOURCE_FRAMEWORK, threshold=threshold)
    save_policy(session, policy=policy, framework_id=framework.id)
    # TODO: hand recomputes of very large frameworks to the background worker.
    people = recompute_framework(
        session, framework_id=framework.id, threshold=threshold
    )
    session.commit()
    log.info(
        "mastery.policy_applied",
        framework_id=str(framework.id),
        method=policy.method,
        people=people,
    )
    return AppliedPolicyOut(
        **MasteryPolicyOut.of(policy).model_dump(), recomputed_people=people
    )


@policy_router.post(
    "/frameworks/{framework_id}/mastery-policy/preview",
    response_model=PreviewOut,
    responses=REFUSED,
)
def preview_framework_policy(
    framework_id: uuid.UUID,
    body: MasteryPolicyIn,
    session: Session = Depends(get_session),
    threshold: Decimal = Depends(configured_threshold),
) -> PreviewOut:
    """What a candidate policy would change, before it is applied. Stores nothing."""
    framework = _existing_framework(session, framework_id)
    policy = body.policy(source=SOURCE_FRAMEWORK, threshold=threshold)
    preview = preview_policy(
        session, framework_id=framework.id, candidate=policy, threshold=threshold
    )
    session.rollback()
    return PreviewOut.of(preview, policy=policy)


@policy_router.get(
    "/organizations/{organization_id}/mastery-policy",
    response_model=MasteryPolicyOut,
    responses=NOT_FOUND,
)
def get_organization_policy(
    organization_id: uuid.UUID,
    session: Session = Depends(get_session),
    threshold: Decimal = Depends(configured_threshold),
) -> MasteryPolicyOut:
    """The organization's policy, or the default when it has none."""
    organization = _existing_organization(session, organization_id)
    row = stored_policy(session, organization_id=organization.id)
    policy = (
        default_policy(threshold)
        if row is None
        else policy_of_row(row, source=SOURCE_ORGANIZATION)
    )
    return MasteryPolicyOut.of(policy)


@policy_router.put(
    "/organizations/{organization_id}/mastery-policy",
    response_model=AppliedPolicyOut,
    responses=REFUSED,
)
def put_organization_policy(
    organization_id: uuid.UUID,
    body: MasteryPolicyIn,
    session: Session = Depends(get_session),
    threshold: Decimal = Depends(configured_threshold),
) -> AppliedPolicyOut:
    """Set the organization's policy and recompute its frameworks' mastery.

    Frameworks with a policy of their own keep it.
    """
    organization = _existing_organization(session, organization_id)
    policy = body.policy(source=SOURCE_ORGANIZATION, threshold=threshold)
    save_policy(session, policy=policy, organization_id=organization.id)
    frameworks = session.execute(
        select(Framework.id).where(Framework.organization_id == organization.id)
    ).scalars()
    people = sum(
        recompute_framework(session, framework_id=framework_id, threshold=threshold)
        for framework_id in sorted(frameworks)
    )
    session.commit()
    log.info(
        "mastery.policy_applied",
        organization_id=str(organization.id),
        method=policy.method,
        people=people,
    )
    return AppliedPolicyOut(
        **MasteryPolicyOut.of(policy).model_dump(), recomputed_people=people
    )


def _existing_framework(session: Session, framework_id: uuid.UUID) -> Framework:
    framework = get_framework(session, framework_id=framework_id)
    if framework is None:
        raise Problem(
            404,
            "framework-not-found",
            f"No framework has the id {framework_id}.",
            field="framework_id",
        )
    return framework


def _existing_organization(
    session: Session, organization_id: uuid.UUID
) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise Problem(
            404,
            "organization-not-found",
            f"No organization has the id {organization_id}.",
            field="organization_id",
        )
    return organization
