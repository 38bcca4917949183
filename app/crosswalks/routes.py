"""Crosswalks over the API: read them for a competency, add and remove the
district's own, import a CSV of them."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.crosswalks import service
from app.crosswalks.schemas import (
    CrosswalkIn,
    CrosswalkOut,
    CsvImportOut,
    CsvRowOut,
    DistrictCrosswalkOut,
    FrameworkRef,
)
from app.database import get_session
from app.frameworks.models import Association
from app.frameworks.schemas import CompetencyOut
from app.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["crosswalks"])

CSV_MEDIA_TYPE = "text/csv"

_CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Columns origin_identifier,association_type,"
        "destination_identifier and optionally origin_framework,"
        "destination_framework (framework id or CFDocument identifier).",
        "content": {
            CSV_MEDIA_TYPE: {
                "schema": {"type": "string"},
                "example": "origin_identifier,association_type,destination_identifier\n"
                "CCSS.Math.Content.6.RP.A,exactMatchOf,"
                "http://purl.org/ASN/resources/S11434C1\n",
            }
        },
    }
}


@router.get(
    "/competencies/{competency_id}/crosswalks",
    response_model=list[CrosswalkOut],
    responses={404: {"description": "No such competency"}},
)
def list_crosswalks(
    competency_id: uuid.UUID, session: Session = Depends(get_session)
) -> list[CrosswalkOut]:
    """Links to competencies of other frameworks, outgoing and incoming.

    Both directions of an exactMatchOf or isPeerOf, and the same link stated
    by several frameworks, are shown once.
    """
    return [
        CrosswalkOut(
            association_type=crosswalk.association_type,
            direction=crosswalk.direction,
            competency=CompetencyOut.model_validate(crosswalk.competency),
            framework=FrameworkRef.model_validate(
                crosswalk.framework, from_attributes=True
            ),
            association_ids=crosswalk.association_ids,
            district=crosswalk.district,
        )
        for crosswalk in service.crosswalks_of(session, competency_id=competency_id)
    ]


@router.get("/crosswalks", response_model=list[DistrictCrosswalkOut])
def list_district_crosswalks(
    session: Session = Depends(get_session),
) -> list[DistrictCrosswalkOut]:
    """The district's own crosswalks (imported ones are read per competency)."""
    return [_out(a) for a in service.list_district_crosswalks(session)]


@router.post(
    "/crosswalks",
    status_code=status.HTTP_201_CREATED,
    response_model=DistrictCrosswalkOut,
    responses={
        200: {"description": "The same crosswalk was already stored"},
        422: {"description": "An end names no competency, or several"},
    },
)
def add_crosswalk(
    body: CrosswalkIn, response: Response, session: Session = Depends(get_session)
) -> DistrictCrosswalkOut:
    """Add a district crosswalk, stored as a CFAssociation of the district's
    "District crosswalks" CFDocument (and so published over CASE)."""
    result = service.add_crosswalk(
        session,
        request=service.CrosswalkRequest(
            origin=body.origin,
            association_type=body.association_type,
            destination=body.destination,
            origin_framework=body.origin_framework,
            destination_framework=body.destination_framework,
        ),
    )
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return _out(result.association)


@router.delete(
    "/crosswalks/{association_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        404: {"description": "No such crosswalk"},
        409: {"description": "The association came with an imported framework"},
    },
)
def delete_crosswalk(
    association_id: uuid.UUID, session: Session = Depends(get_session)
) -> Response:
    """Remove a district crosswalk; associations that came with an imported
    framework are its provider's to change."""
    service.delete_crosswalk(session, association_id=association_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/crosswalks/import",
    response_model=CsvImportOut,
    openapi_extra=_CSV_BODY,
    responses={
        415: {"description": "The body is not text/csv"},
        422: {"description": "A row or the header is wrong; nothing was stored"},
    },
)
async def import_crosswalks(
    request: Request, session: Session = Depends(get_session)
) -> CsvImportOut:
    """Import district crosswalks from CSV: every row, or none."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != CSV_MEDIA_TYPE:
        raise Problem(
            415,
            "unsupported-media-type",
            f"Send the crosswalks as {CSV_MEDIA_TYPE}, not {media_type or 'nothing'}.",
            field="Content-Type",
        )
    text = _decoded(await request.body())
    try:
        report = await run_in_threadpool(
            service.import_crosswalks_csv, session, text=text
        )
    except service.CsvRefused as refused:
        raise _refusal(refused.report) from refused
    return _csv_out(report)


def _decoded(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(
            422,
            "csv-not-utf8",
            f"The CSV is not UTF-8 text ({error.reason} at byte {error.start}); "
            "nothing was stored.",
            field="body",
        ) from error


def _refusal(report: service.CsvReport) -> Problem:
    bad = report.errors
    first = bad[0]
    return Problem(
        422,
        "crosswalks-refused",
        f"{len(bad)} of {len(report.rows)} rows cannot be imported; nothing was "
        f"stored. First: row {first.row} {first.field}: {first.message}",
        field=first.field,
        errors=[
            {"row": row.row, "field": row.field, "message": row.message} for row in bad
        ],
    )


def _csv_out(report: service.CsvReport) -> CsvImportOut:
    return CsvImportOut(
        created=report.count("created"),
        existing=report.count("exists"),
        duplicates=report.count("duplicate"),
        rows=[
            CsvRowOut.model_validate(row, from_attributes=True) for row in report.rows
        ],
    )


def _out(association: Association) -> DistrictCrosswalkOut:
    return DistrictCrosswalkOut.model_validate(association, from_attributes=True)
