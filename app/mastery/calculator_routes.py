"""The stateless mastery calculator: scores in, an explained score out."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Body

from app.mastery.calculator import CalculationInputError, calculate_mastery
from app.mastery.calculator_schemas import (
    CALCULATION_EXAMPLES,
    PROBLEM_EXAMPLE,
    CalculationRequest,
    CalculationResponse,
)
from app.problems import PROBLEM_MEDIA_TYPE, Problem

router = APIRouter()

log = structlog.get_logger()


@router.post(
    "/api/v1/mastery/calculate",
    response_model=CalculationResponse,
    tags=["mastery"],
    summary="Calculate a mastery score from scores, explained step by step",
    responses={
        422: {
            "description": "The method, scores, calculation_int or mastery_points "
            "cannot be used; `field` names which.",
            "content": {PROBLEM_MEDIA_TYPE: {"example": PROBLEM_EXAMPLE}},
        }
    },
)
def calculate(
    request: Annotated[CalculationRequest, Body(openapi_examples=CALCULATION_EXAMPLES)],
) -> CalculationResponse:
    """Apply one calculation method to the given scores; nothing is stored."""
    try:
        result = calculate_mastery(
            method=request.method,
            scores=request.scores,
            calculation_int=request.calculation_int,
            mastery_points=request.mastery_points,
        )
    except CalculationInputError as error:
        raise Problem(422, error.code, error.detail, field=error.field) from error

    log.info(
        "mastery.calculated",
        method=result.method.value,
        score_count=len(result.scores),
        has_score=result.score is not None,
    )
    return CalculationResponse(
        score=None if result.score is None else float(result.score),
        mastered=result.mastered,
        method=result.method.value,
        calculation_int=result.calculation_int,
        formula_version=result.formula_version,
        explanation=result.explanation,
        steps=list(result.steps),
    )
