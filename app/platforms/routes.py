"""Registering LMS platforms over the API, and the URLs an LMS needs from us."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy.orm import Session

from app.database import get_session
from app.platforms import service
from app.platforms.lms_setup import (
    CANVAS_MENU,
    MOODLE_MENU,
    SetupField,
    canvas_fields,
    moodle_fields,
    tool_urls,
)
from app.platforms.schemas import (
    DeploymentCreate,
    DeploymentRead,
    LmsForm,
    LmsFormField,
    LmsSetup,
    PlatformCreate,
    PlatformRead,
    PlatformUpdate,
)
from app.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["platforms"])

PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"description": "No such platform or deployment"},
    409: {"description": "Conflicts with what is stored"},
    422: {"description": "A field is missing or malformed"},
}


@router.post(
    "/platforms",
    status_code=status.HTTP_201_CREATED,
    response_model=PlatformRead,
    responses=PROBLEM_RESPONSES,
)
def create_platform(
    body: PlatformCreate,
    response: Response,
    request: Request,
    session: Session = Depends(get_session),
) -> PlatformRead:
    """Register an LMS. An (issuer, client id) pair already registered is a 409."""
    existing = service.find_platform(
        session, issuer=body.issuer.strip(), client_id=body.client_id.strip()
    )
    if existing is not None:
        raise Problem(
            409,
            "platform-exists",
            f"Platform {existing.id} is already registered for issuer "
            f"{existing.issuer} and client id {existing.client_id!r}; change it "
            "with PATCH or add deployments to it.",
            field="client_id",
        )

    platform = service.register_platform(session, **body.model_dump())
    session.commit()
    response.headers["Location"] = str(
        request.url_for("get_platform", platform_id=platform.id)
    )
    return PlatformRead.of(platform)


@router.get("/platforms", response_model=list[PlatformRead])
def list_platforms(session: Session = Depends(get_session)) -> list[PlatformRead]:
    return [PlatformRead.of(p) for p in service.list_platforms(session)]


@router.get(
    "/platforms/{platform_id}", response_model=PlatformRead, responses=PROBLEM_RESPONSES
)
def get_platform(
    platform_id: uuid.UUID, session: Session = Depends(get_session)
) -> PlatformRead:
    return PlatformRead.of(service.get_platform(session, platform_id=platform_id))


@router.patch(
    "/platforms/{platform_id}", response_model=PlatformRead, responses=PROBLEM_RESPONSES
)
def update_platform(
    platform_id: uuid.UUID,
    body: PlatformUpdate,
    session: Session = Depends(get_session),
) -> PlatformRead:
    """Change a registration's name, product or URLs (not its issuer or client id)."""
    platform = service.update_platform(
        session, platform_id=platform_id, **body.model_dump(exclude_unset=True)
    )
    session.commit()
    return PlatformRead.of(platform)


@router.delete(
    "/platforms/{platform_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=PROBLEM_RESPONSES,
)
def delete_platform(
    platform_id: uuid.UUID, session: Session = Depends(get_session)
) -> Response:
    service.delete_platform(session, platform_id=platform_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/platforms/{platform_id}/deployments",
    status_code=status.HTTP_201_CREATED,
    response_model=DeploymentRead,
    responses=PROBLEM_RESPONSES,
)
def add_deployment(
    platform_id: uuid.UUID,
    body: DeploymentCreate,
    session: Session = Depends(get_session),
) -> DeploymentRead:
    deployment = service.add_deployment(
        session, platform_id=platform_id, deployment_id=body.deployment_id
    )
    session.commit()
    return DeploymentRead.model_validate(deployment)


@router.delete(
    "/platforms/{platform_id}/deployments/{deployment_id:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=PROBLEM_RESPONSES,
)
def remove_deployment(
    platform_id: uuid.UUID,
    deployment_id: str,
    session: Session = Depends(get_session),
) -> Response:
    """Remove a deployment; removing a platform's only one is a 409."""
    service.remove_deployment(
        session, platform_id=platform_id, deployment_id=deployment_id
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/lms-setup", response_model=LmsSetup)
def lms_setup(request: Request) -> LmsSetup:
    """What an LMS administrator pastes into Canvas or Moodle to add this tool."""
    urls = tool_urls(request.app.state.settings.public_url)
    return LmsSetup(
        login_url=urls.login_url,
        launch_url=urls.launch_url,
        redirect_uris=urls.redirect_uris,
        jwks_url=urls.jwks_url,
        canvas=_form(CANVAS_MENU, canvas_fields(urls)),
        moodle=_form(MOODLE_MENU, moodle_fields(urls)),
    )


def _form(menu: str, fields: list[SetupField]) -> LmsForm:
    return LmsForm(
        menu=menu,
        fields=[LmsFormField(label=f.label, value=f.value) for f in fields],
    )
