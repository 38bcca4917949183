"""Importing CASE frameworks and reading their competencies over the API."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.database import get_session
from app.frameworks import service
from app.frameworks.models import Framework
from app.frameworks.schemas import (
    CompetencyNodeOut,
    CompetencyOut,
    DeviationOut,
    FrameworkOut,
    ImportCountsOut,
    ImportOut,
)
from app.problems import Problem
from connectors.case.package import PackageError, decode_package

router = APIRouter(prefix="/api/v1", tags=["frameworks"])

_PACKAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A CASE CFPackage (CFDocument, CFItems, CFAssociations, "
        "CFDefinitions), as served by getCFPackage.",
        "content": {
            "application/json": {
                "schema": {"type": "object"},
                "example": {
                    "CFDocument": {
                        "identifier": "3f1c2b7a-5d4e-4c1b-9a8f-0e2d3c4b5a60",
                        "uri": "https://case.example.org/ims/case/v1p0/CFDocuments/"
                        "3f1c2b7a-5d4e-4c1b-9a8f-0e2d3c4b5a60",
                        "title": "Example Mathematics",
                        "creator": "Example State",
                        "lastChangeDateTime": "2023-01-01T00:00:00Z",
                    },
                    "CFItems": [
                        {
                            "identifier": "7a1e9c3d-2b4f-4e6a-8c1d-9f0e1a2b3c41",
                            "fullStatement": "Add within 20.",
                            "humanCodingScheme": "1.OA.C.6",
                            "lastChangeDateTime": "2023-01-01T00:00:00Z",
                        }
                    ],
                    "CFAssociations": [
                        {
                            "identifier": "0b6e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a51",
                            "associationType": "isChildOf",
                            "originNodeURI": {
                                "title": "1.OA.C.6",
                                "identifier": "7a1e9c3d-2b4f-4e6a-8c1d-9f0e1a2b3c41",
                                "uri": "https://case.example.org/ims/case/v1p0/"
                                "CFItems/7a1e9c3d-2b4f-4e6a-8c1d-9f0e1a2b3c41",
                            },
                            "destinationNodeURI": {
                                "title": "Example Mathematics",
                                "identifier": "3f1c2b7a-5d4e-4c1b-9a8f-0e2d3c4b5a60",
                                "uri": "https://case.example.org/ims/case/v1p0/"
                                "CFDocuments/3f1c2b7a-5d4e-4c1b-9a8f-0e2d3c4b5a60",
                            },
                            "lastChangeDateTime": "2023-01-01T00:00:00Z",
                        }
                    ],
                },
            }
        },
    }
}


@router.post(
    "/frameworks/import",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportOut,
    openapi_extra=_PACKAGE_BODY,
    responses={
        200: {"description": "An earlier import was updated, or was unchanged"},
        422: {"description": "The package cannot be imported; `errors` says why"},
    },
)
async def import_framework(
    request: Request, response: Response, session: Session = Depends(get_session)
) -> ImportOut:
    """Import a CFPackage: create the framework, or update an earlier import.

    Items no longer in the package are retired, not deleted. The package is
    refused as a whole, with every problem listed, when it cannot be
    understood safely; nothing is stored then.
    """
    body = await request.body()
    try:
        package = decode_package(body)
        result = await run_in_threadpool(
            service.import_package, session, package=package
        )
    except PackageError as error:
        raise _refusal(error) from error
    if result.outcome != "created":
        response.status_code = status.HTTP_200_OK
    framework = result.framework
    return ImportOut(
        framework=_framework_out(
            framework,
            competency_count=await run_in_threadpool(
                service.count_competencies, session, framework_id=framework.id
            ),
        ),
        outcome=result.outcome,
        counts=ImportCountsOut.model_validate(result.counts, from_attributes=True),
        report=[
            DeviationOut.model_validate(d, from_attributes=True) for d in result.report
        ],
    )


@router.get("/frameworks", response_model=list[FrameworkOut])
def list_frameworks(session: Session = Depends(get_session)) -> list[FrameworkOut]:
    return [
        _framework_out(summary.framework, competency_count=summary.competency_count)
        for summary in service.list_frameworks(session)
    ]


@router.get(
    "/frameworks/{framework_id}",
    response_model=FrameworkOut,
    responses={404: {"description": "No such framework"}},
)
def get_framework(
    framework_id: uuid.UUID, session: Session = Depends(get_session)
) -> FrameworkOut:
    framework = _existing_framework(session, framework_id)
    return _framework_out(
        framework,
        competency_count=service.count_competencies(session, framework_id=framework.id),
    )


@router.get(
    "/frameworks/{framework_id}/competencies",
    response_model=list[CompetencyNodeOut],
    responses={404: {"description": "No such framework"}},
)
def list_framework_competencies(
    framework_id: uuid.UUID,
    include_retired: bool = Query(
        False, description="Also list competencies a later import retired"
    ),
    session: Session = Depends(get_session),
) -> list[CompetencyNodeOut]:
    """The framework's competencies in tree order, each with its parent's id."""
    _existing_framework(session, framework_id)
    entries = service.framework_tree(
        session, framework_id=framework_id, include_retired=include_retired
    )
    return [
        CompetencyNodeOut(
            **CompetencyOut.model_validate(entry.competency).model_dump(),
            parent_id=entry.parent_id,
            depth=entry.depth,
        )
        for entry in entries
    ]


@router.get(
    "/competencies",
    response_model=list[CompetencyOut],
    responses={404: {"description": "No such framework"}},
)
def search_competencies(
    q: str = Query(
        ...,
        min_length=1,
        max_length=200,
        description="Text found in the humanCodingScheme or the statement "
        "(case-insensitive)",
        examples=["6.RP.A"],
    ),
    framework_id: uuid.UUID | None = Query(None, description="Search one framework"),
    limit: int = Query(50, ge=1, le=200),
    session: Session = Depends(get_session),
) -> list[CompetencyOut]:
    if framework_id is not None:
        _existing_framework(session, framework_id)
    competencies = service.search_competencies(
        session, query=q, framework_id=framework_id, limit=limit
    )
    return [CompetencyOut.model_validate(c) for c in competencies]


def _existing_framework(session: Session, framework_id: uuid.UUID) -> Framework:
    framework = service.get_framework(session, framework_id=framework_id)
    if framework is None:
        raise Problem(
            404,
            "framework-not-found",
            f"No framework has the id {framework_id}.",
            field="framework_id",
        )
    return framework


def _framework_out(framework: Framework, *, competency_count: int) -> FrameworkOut:
    return FrameworkOut.model_validate(
        {
            **{
                name: getattr(framework, name)
                for name in FrameworkOut.model_fields
                if name != "competency_count"
            },
            "competency_count": competency_count,
        }
    )


def _refusal(error: PackageError) -> Problem:
    count = len(error.problems)
    summary = ""
    if error.problems:
        first = error.problems[0]
        where = " ".join(part for part in (first.object, first.field) if part)
        summary = f" First: {where}: {first.message}."
    return Problem(
        422,
        "package-refused",
        f"The CFPackage cannot be imported ({count} problem"
        f"{'' if count == 1 else 's'} found); nothing was stored.{summary}",
        errors=[
            {"object": p.object, "field": p.field, "message": p.message}
            for p in error.problems
        ],
    )
