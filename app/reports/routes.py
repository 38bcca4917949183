"""The reports API: who needs what, and which activities move people."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from app.database import get_session
from app.problems import PROBLEM_MEDIA_TYPE
from app.reports.schemas import (
    CellOut,
    CompetencyCountsOut,
    CompetencyGapOut,
    CompetencyRef,
    GapReportOut,
    ImpactOut,
    ImpactReportOut,
    PageOut,
    PersonNeedOut,
    PersonRef,
    RecommendationOut,
    ScopeOut,
)
from app.reports.service import (
    IN_PROGRESS,
    MASTERED,
    NO_EVIDENCE,
    GapReport,
    gap_report,
    impact_report,
    resolve_competencies,
    resolve_scope,
)

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

CSV_MEDIA_TYPE = "text/csv"
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "The scope, framework, competency or activity does not exist",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
    422: {
        "description": "No scope or subject named, or two named at once",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
}


def wants_csv(request: Request) -> bool:
    return CSV_MEDIA_TYPE in request.headers.get("accept", "")


@router.get(
    "/gaps",
    response_model=GapReportOut,
    responses={
        **PROBLEM_RESPONSES,
        200: {"content": {"application/json": {}, CSV_MEDIA_TYPE: {}}},
    },
)
def get_gaps(
    request: Request,
    context_id: uuid.UUID | None = Query(None, description="A course or section"),
    organization_id: uuid.UUID | None = Query(
        None, description="A state, district or school, with everything below it"
    ),
    framework_id: uuid.UUID | None = Query(
        None, description="Every current competency of this framework"
    ),
    competency_id: list[uuid.UUID] = Query(
        [], description="Or these competencies (repeat the parameter)"
    ),
    page_by: Literal["person", "competency"] = Query(
        "person", description="Which axis limit and offset slice"
    ),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    recommendations: int = Query(
        5, ge=0, le=50, description="Recommended activities per competency"
    ),
    session: Session = Depends(get_session),
) -> Any:
    """Mastered, in progress or no evidence, per person and competency.

    A state scope answers with counts per competency and organization only.
    Send `Accept: text/csv` for the same page as CSV.
    """
    scope = resolve_scope(
        session, context_id=context_id, organization_id=organization_id
    )
    competencies = resolve_competencies(
        session, framework_id=framework_id, competency_ids=competency_id
    )
    report = gap_report(
        session,
        scope=scope,
        competencies=competencies,
        page_by=page_by,
        limit=limit,
        offset=offset,
        recommendations=recommendations,
    )
    if wants_csv(request):
        return Response(gaps_csv(report), media_type=CSV_MEDIA_TYPE)
    return gap_report_out(report, page_by=page_by, limit=limit, offset=offset)


def gap_report_out(
    report: GapReport, *, page_by: str, limit: int, offset: int
) -> GapReportOut:
    personal = report.scope.personal
    total = (
        report.total_competencies if page_by == "competency" else (report.total_people)
    )
    return GapReportOut(
        scope=ScopeOut.of(report.scope),
        page=PageOut(
            by=page_by,  # type: ignore[arg-type]
            offset=offset,
            limit=limit,
            total=total,
        ),
        total_people=report.total_people,
        total_competencies=report.total_competencies,
        people=[
            PersonRef(id=person.id, display_name=person.display_name)
            for person in report.people
        ]
        if personal
        else None,
        matrix=[
            CellOut(
                person_id=cell.person_id,
                competency_id=cell.competency_id,
                status=cell.status,  # type: ignore[arg-type]
                level=cell.level,
            )
            for cell in report.cells
        ]
        if personal
        else None,
        competencies=[
            _competency_gap(report, competency_index=index)
            for index in range(len(report.competencies))
        ],
    )


def _competency_gap(report: GapReport, *, competency_index: int) -> CompetencyGapOut:
    competency = report.competencies[competency_index]
    recommended = [
        RecommendationOut.of(item)
        for item in report.recommendations.get(competency.id, [])
    ]
    if not report.scope.personal:
        counts = [c for c in report.counts if c.competency_id == competency.id]
        return CompetencyGapOut(
            competency=CompetencyRef.of(competency),
            mastered=sum(c.mastered for c in counts),
            in_progress=sum(c.in_progress for c in counts),
            no_evidence=sum(c.no_evidence for c in counts),
            needs=None,
            organizations=[
                CompetencyCountsOut(
                    organization_id=c.organization_id,
                    people=c.people,
                    mastered=c.mastered,
                    in_progress=c.in_progress,
                    no_evidence=c.no_evidence,
                )
                for c in counts
            ],
            recommended_activities=recommended,
        )

    cells = [cell for cell in report.cells if cell.competency_id == competency.id]
    return CompetencyGapOut(
        competency=CompetencyRef.of(competency),
        mastered=sum(1 for cell in cells if cell.status == MASTERED),
        in_progress=sum(1 for cell in cells if cell.status == IN_PROGRESS),
        no_evidence=sum(1 for cell in cells if cell.status == NO_EVIDENCE),
        needs=[
            PersonNeedOut(
                person_id=cell.person_id,
                status=cell.status,  # type: ignore[arg-type]
                level=cell.level,
            )
            for cell in cells
            if cell.status != MASTERED
        ],
        organizations=None,
        recommended_activities=recommended,
    )


def gaps_csv(report: GapReport) -> str:
    """The page as CSV: one row per cell, or per organization for a state scope."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    codes = {c.id: c.human_coding_scheme or "" for c in report.competencies}
    if report.scope.personal:
        names = {person.id: person.display_name or "" for person in report.people}
        writer.writerow(
            [
                "competency_id",
                "human_coding_scheme",
                "person_id",
                "display_name",
                "status",
                "level",
            ]
        )
        for cell in report.cells:
            writer.writerow(
                [
                    cell.competency_id,
                    codes[cell.competency_id],
                    cell.person_id,
                    names[cell.person_id],
                    cell.status,
                    "" if cell.level is None else f"{cell.level:.2f}",
                ]
            )
    else:
        writer.writerow(
            [
                "competency_id",
                "human_coding_scheme",
                "organization_id",
                "people",
                "mastered",
                "in_progress",
                "no_evidence",
            ]
        )
        for counts in report.counts:
            writer.writerow(
                [
                    counts.competency_id,
                    codes[counts.competency_id],
                    counts.organization_id,
                    counts.people,
                    counts.mastered,
                    counts.in_progress,
                    counts.no_evidence,
                ]
            )
    return buffer.getvalue()


@router.get("/impact", response_model=ImpactReportOut, responses=PROBLEM_RESPONSES)
def get_impact(
    activity_id: uuid.UUID | None = Query(None),
    framework_id: uuid.UUID | None = Query(
        None, description="Every activity aligned to a competency of this framework"
    ),
    occurred_from: AwareDatetime | None = Query(
        None, alias="from", description="Only evidence at or after this moment"
    ),
    occurred_to: AwareDatetime | None = Query(
        None, alias="to", description="Only evidence at or before this moment"
    ),
    session: Session = Depends(get_session),
) -> ImpactReportOut:
    """Level change, first to latest evidence, for completers against the rest.

    Both groups are measured over the same window (`from`, `to`). Only
    counts and means are returned, never people.
    """
    impacts = impact_report(
        session,
        activity_id=activity_id,
        framework_id=framework_id,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    return ImpactReportOut(impacts=[ImpactOut.of(impact) for impact in impacts])
