"""Request and response bodies of `POST /api/v1/mastery/calculate`.

The bodies check types only (numbers must be JSON numbers, not strings); the
calculator checks the rules (known method, non-empty and non-negative scores,
calculation_int fitting the method) so that API and service callers get the
same errors. The constraints still appear in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from app.mastery.calculator import METHODS, MIN_N, WEIGHT_RANGE

# Strict: "3" is refused rather than read as 3, as a number must be a number.
JsonNumber = Annotated[float, Field(strict=True)]


class CalculationRequest(BaseModel):
    method: str = Field(
        description="Calculation method, named as Canvas names outcome "
        "calculation methods.",
        json_schema_extra={"enum": list(METHODS)},
    )
    scores: list[JsonNumber] = Field(
        description="Scores on the competency's point scale, oldest first.",
        json_schema_extra={"minItems": 1, "items": {"type": "number", "minimum": 0}},
    )
    calculation_int: Annotated[int, Field(strict=True)] | None = Field(
        default=None,
        description=f"weighted_average and decaying_average: the percentage "
        f"({WEIGHT_RANGE.start}-{WEIGHT_RANGE.stop - 1}) given to the most recent "
        f"score. n_mastery: how many scores (at least {MIN_N}) must reach "
        "mastery_points. Must be left out or null for latest, highest and average.",
    )
    mastery_points: JsonNumber = Field(
        description="The score that counts as mastery; also n_mastery's cutoff.",
        json_schema_extra={"exclusiveMinimum": 0},
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "method": "weighted_average",
                    "scores": [2.5, 3, 4],
                    "calculation_int": 65,
                    "mastery_points": 3,
                }
            ]
        }
    }


class CalculationResponse(BaseModel):
    score: float | None = Field(
        description="The result rounded half-up to two decimals; null when the "
        "method gives no result (n_mastery before n scores reach mastery_points)."
    )
    mastered: bool = Field(description="score is not null and score >= mastery_points.")
    method: str
    calculation_int: int | None
    formula_version: str = Field(
        description="The method and the version of its arithmetic, e.g. latest/1."
    )
    explanation: str = Field(description="The whole calculation as one sentence.")
    steps: list[str] = Field(description="The calculation as readable steps.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "score": 3.56,
                    "mastered": True,
                    "method": "weighted_average",
                    "calculation_int": 65,
                    "formula_version": "weighted_average/1",
                    "explanation": "Weighted average (most recent score weighted "
                    "65%, mean of earlier scores 35%) over 3 scores (oldest first: "
                    "2.5, 3, 4): 0.65 × 4 + 0.35 × 2.75 = 3.5625 → 3.56; 3.56 ≥ "
                    "mastery_points 3, so mastered.",
                    "steps": [
                        "scores, oldest first: 2.5, 3, 4",
                        "most recent score = 4",
                        "mean of the 2 earlier scores = (2.5 + 3) / 2 = 2.75",
                        "0.65 × 4 + 0.35 × 2.75 = 3.5625",
                        "3.5625 → 3.56 (rounded half-up to 0.01)",
                        "3.56 ≥ mastery_points 3, so mastered",
                    ],
                }
            ]
        }
    }


CALCULATION_EXAMPLES: dict[str, dict[str, Any]] = {
    "weighted_average": {
        "summary": "Weighted average, 65% on the most recent score",
        "value": {
            "method": "weighted_average",
            "scores": [2.5, 3, 4],
            "calculation_int": 65,
            "mastery_points": 3,
        },
    },
    "decaying_average": {
        "summary": "Decaying average, each new score weighted 65%",
        "value": {
            "method": "decaying_average",
            "scores": [1, 2, 3, 4, 5],
            "calculation_int": 65,
            "mastery_points": 3,
        },
    },
    "n_mastery": {
        "summary": "Mastery reached 3 times",
        "value": {
            "method": "n_mastery",
            "scores": [1, 2, 3, 4, 5],
            "calculation_int": 3,
            "mastery_points": 3,
        },
    },
    "latest": {
        "summary": "Most recent score",
        "value": {"method": "latest", "scores": [1, 2, 4, 5, 3], "mastery_points": 3},
    },
}

PROBLEM_EXAMPLE: dict[str, Any] = {
    "type": "https://standards-bridge.dev/problems/invalid-calculation-int",
    "title": "Invalid calculation int",
    "status": 422,
    "code": "invalid-calculation-int",
    "detail": "weighted_average needs calculation_int: the percentage (1-99) given "
    "to the most recent score; got 100.",
    "field": "calculation_int",
}
