"""Running the LMS syncs on demand, and reading a context's roster."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from app.contexts.models import Context
from app.database import get_session
from app.lms_services import service
from app.lms_services.schemas import (
    ContextMemberOut,
    ContextMembersOut,
    GradesSyncOut,
    GradesSyncRequest,
    PassbackRetryOut,
    RosterSyncOut,
    RosterSyncRequest,
)
from app.organizations.service import get_default_organization_id
from app.settings import Settings

router = APIRouter(prefix="/api/v1/lms", tags=["lms"])
contexts_router = APIRouter(prefix="/api/v1/contexts", tags=["lms"])

PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"description": "No such platform or context"},
    422: {"description": "A field is malformed"},
}


@router.post("/grades-sync", response_model=GradesSyncOut, responses=PROBLEM_RESPONSES)
def grades_sync(
    request: Request,
    body: GradesSyncRequest | None = None,
    session: Session = Depends(get_session),
) -> GradesSyncOut:
    """Read the results of every line item the tool holds and record them."""
    settings: Settings = request.app.state.settings
    report = service.sync_results(
        session,
        platform_id=body.platform_id if body else None,
        threshold=settings.mastery_threshold,
    )
    return GradesSyncOut.from_report(report)


@router.post("/roster-sync", response_model=RosterSyncOut, responses=PROBLEM_RESPONSES)
def roster_sync(
    body: RosterSyncRequest | None = None, session: Session = Depends(get_session)
) -> RosterSyncOut:
    """Read each context's members (NRPS) into people and memberships."""
    report = service.sync_roster(session, context_id=body.context_id if body else None)
    return RosterSyncOut.from_report(report)


@router.post("/passbacks/retry", response_model=PassbackRetryOut)
def retry_passbacks(session: Session = Depends(get_session)) -> PassbackRetryOut:
    """Post again every score the LMS has not yet accepted."""
    return PassbackRetryOut.from_report(service.retry_failed_passbacks(session))


@contexts_router.get(
    "/{context_id}/members",
    response_model=ContextMembersOut,
    responses=PROBLEM_RESPONSES,
)
def context_members(
    context_id: uuid.UUID, session: Session = Depends(get_session)
) -> ContextMembersOut:
    """Everyone a launch or roster sync found in the context, leavers included."""
    members = service.context_members(
        session,
        organization_id=get_default_organization_id(session),
        context_id=context_id,
    )
    context = session.get(Context, context_id)
    issuer = context.source if context else ""
    return ContextMembersOut(
        context_id=context_id,
        members=[ContextMemberOut.from_member(m, issuer=issuer) for m in members],
    )
