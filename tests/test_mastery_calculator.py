"""The mastery calculator, directly and through POST /api/v1/mastery/calculate.

Expected values come from Canvas (instructure/canvas-lms) and its published
examples, cited beside each case, or from hand calculation shown in comments.
Canvas names: its "weighted_average" is the legacy "decaying_average" and its
"standard_decaying_average" is the true decaying average; here they are
`weighted_average` and `decaying_average`.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.mastery.calculator import (
    CalculationInputError,
    MasteryCalculation,
    calculate_mastery,
)

URL = "/api/v1/mastery/calculate"

# canvas-lms spec/services/outcomes/student_outcome_rollup_calculation_service_spec.rb
# uses these scores, oldest first, on a 5-point outcome with mastery_points 3.
CANVAS_SPEC_SCORES = [1, 2, 3, 4, 5]

# canvas-lms ui/shared/grade-summary/backbone/models/CalculationMethodContent.js
# shows each method's published example on these scores (exampleScoreIntegers).
CANVAS_EXAMPLE_SCORES = [1, 4, 2, 3, 5, 3, 6, 1, 4, 2, 3, 5, 3, 6]


def calculate(
    method: str,
    scores: list,
    *,
    calculation_int: int | None = None,
    mastery_points: float | int | Decimal = 3,
) -> MasteryCalculation:
    return calculate_mastery(
        method=method,
        scores=scores,
        calculation_int=calculation_int,
        mastery_points=mastery_points,
    )


# --- Canvas anchors --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "scores", "calculation_int", "expected"),
    [
        # Canvas spec: "Highest from [1, 2, 3, 4, 5]" is 5.
        ("highest", CANVAS_SPEC_SCORES, None, "5.00"),
        # Canvas spec: "Latest (most recent) from [1, 2, 4, 5, 3]" is 3.
        ("latest", [1, 2, 4, 5, 3], None, "3.00"),
        # Canvas spec: "Average of [1, 2, 3, 4, 5] = 15/5 = 3.0".
        ("average", CANVAS_SPEC_SCORES, None, "3.00"),
        # Canvas spec: "Average of [2, 4, 3] = 9/3 = 3.0".
        ("average", [2, 4, 3], None, "3.00"),
        # Canvas spec, legacy decaying average (now weighted_average), 65:
        # "(5 * 0.65) + ((1+2+3+4)/4 * 0.35) = 3.25 + 0.875 = 4.125" -> 4.13.
        ("weighted_average", CANVAS_SPEC_SCORES, 65, "4.13"),
        # Canvas spec, standard_decaying_average, 65: "[1,2] -> 1.65,
        # [1.65,3] -> 2.5275, [2.5275,4] -> 3.485, [3.485,5] -> 4.47".
        ("decaying_average", CANVAS_SPEC_SCORES, 65, "4.47"),
        # Canvas spec, n_mastery 3: "From [1, 2, 3, 4, 5], mastery scores are
        # [3, 4, 5]" -> 4.
        ("n_mastery", CANVAS_SPEC_SCORES, 3, "4.00"),
    ],
)
def test_canvas_rollup_spec_values(
    method: str, scores: list[int], calculation_int: int | None, expected: str
) -> None:
    result = calculate(method, scores, calculation_int=calculation_int)

    assert result.score == Decimal(expected)


def test_canvas_n_mastery_without_enough_scores_has_no_result() -> None:
    # Canvas spec, n_mastery 4: "only 3 scores meet mastery (need 4)" -> no rollup.
    result = calculate("n_mastery", CANVAS_SPEC_SCORES, calculation_int=4)

    assert result.score is None
    assert result.unrounded is None
    assert result.mastered is False
    assert result.scores_used == (Decimal(3), Decimal(4), Decimal(5))


def test_canvas_true_decaying_average_keeps_every_intermediate_exact() -> None:
    # The Canvas spec rounds 3.484625 to 3.485 only in its comment; the running
    # value stays exact: 0.65 × 5 + 0.35 × 3.484625 = 3.25 + 1.21961875.
    result = calculate("decaying_average", CANVAS_SPEC_SCORES, calculation_int=65)

    assert result.unrounded == Decimal("4.46961875")
    assert result.steps[1:7] == (
        "start from the first score: 1",
        "0.65 × 2 + 0.35 × 1 = 1.65",
        "0.65 × 3 + 0.35 × 1.65 = 2.5275",
        "0.65 × 4 + 0.35 × 2.5275 = 3.484625",
        "0.65 × 5 + 0.35 × 3.484625 = 4.469618…",
        "4.469618… → 4.47 (rounded half-up to 0.01)",
    )


@pytest.mark.parametrize(
    ("method", "scores", "calculation_int", "expected"),
    [
        # Canvas example, 65/35 decaying (weighted) average over all 14 scores:
        # earlier 13 sum to 42, 42 / 13 = 3.230769…;
        # 0.65 × 6 + 0.35 × 3.230769… = 3.9 + 1.130769… = 5.030769… -> 5.03.
        ("weighted_average", CANVAS_EXAMPLE_SCORES, 65, "5.03"),
        # Canvas example, n_mastery with its defaultInt 5 and mastery_points 3:
        # scores >= 3 are 4, 3, 5, 3, 6, 4, 3, 5, 3, 6 (10 >= 5), 42 / 10 = 4.2.
        ("n_mastery", CANVAS_EXAMPLE_SCORES, 5, "4.20"),
        # Canvas example, latest over the first 4 scores (1, 4, 2, 3) -> 3.
        ("latest", CANVAS_EXAMPLE_SCORES[:4], None, "3.00"),
        # Canvas example, highest over the first 4 scores (1, 4, 2, 3) -> 4.
        ("highest", CANVAS_EXAMPLE_SCORES[:4], None, "4.00"),
        # Canvas example, average over the first 7 scores: 24 / 7 = 3.428571…
        ("average", CANVAS_EXAMPLE_SCORES[:7], None, "3.43"),
    ],
)
def test_canvas_published_examples(
    method: str, scores: list[int], calculation_int: int | None, expected: str
) -> None:
    result = calculate(method, scores, calculation_int=calculation_int)

    assert result.score == Decimal(expected)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        # PowerSchool, "What is a Decaying Average in Standards-Based Grading?",
        # decaying average 65% on 2, 3: .35(2) + .65(3) = 2.65.
        ([2, 3], "2.65"),
        # ... then a new score 4: .35(2.65) + .65(4) = 3.5275, shown as 3.53.
        ([2, 3, 4], "3.53"),
    ],
)
def test_published_decaying_average_65(scores: list[int], expected: str) -> None:
    result = calculate("decaying_average", scores, calculation_int=65)

    assert result.score == Decimal(expected)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        # Canvas Community, "Mastery Learning and Decaying Average" (65%):
        # "(.65 × 4.5) + (.35 × 5) = 4.68", 4.5 last, earlier scores averaging 5.
        # Exactly 2.925 + 1.75 = 4.675, half-up 4.68 (round(4.675, 2) is 4.67).
        ([5, 5, 4.5], "4.68"),
        # Same thread: "(.65 × 5) + (.35 × 4.88) = 4.96"; 3.25 + 1.708 = 4.958.
        ([4.88, 5], "4.96"),
    ],
)
def test_published_weighted_average_65(scores: list[float], expected: str) -> None:
    result = calculate("weighted_average", scores, calculation_int=65)

    assert result.score == Decimal(expected)


# --- hand calculations -----------------------------------------------------


def test_weighted_average_explains_its_arithmetic() -> None:
    # Earlier scores 2.5, 3: mean 2.75. 0.65 × 4 + 0.35 × 2.75 = 2.6 + 0.9625.
    result = calculate("weighted_average", [2.5, 3, 4], calculation_int=65)

    assert result.score == Decimal("3.56")
    assert result.unrounded == Decimal("3.5625")
    assert result.formula_version == "weighted_average/1"
    assert result.steps == (
        "scores, oldest first: 2.5, 3, 4",
        "most recent score = 4",
        "mean of the 2 earlier scores = (2.5 + 3) / 2 = 2.75",
        "0.65 × 4 + 0.35 × 2.75 = 3.5625",
        "3.5625 → 3.56 (rounded half-up to 0.01)",
        "3.56 ≥ mastery_points 3, so mastered",
    )
    assert result.explanation == (
        "Weighted average (most recent score weighted 65%, mean of earlier scores "
        "35%) over 3 scores (oldest first: 2.5, 3, 4): "
        "0.65 × 4 + 0.35 × 2.75 = 3.5625 → 3.56; "
        "3.56 ≥ mastery_points 3, so mastered."
    )


def test_weighted_average_with_other_weight() -> None:
    # c = 40: 0.4 × 1 + 0.6 × mean(3, 4) = 0.4 + 0.6 × 3.5 = 0.4 + 2.1 = 2.5.
    result = calculate("weighted_average", [3, 4, 1], calculation_int=40)

    assert result.score == Decimal("2.50")
    assert result.mastered is False
    assert "0.4 × 1 + 0.6 × 3.5 = 2.5" in result.steps


@pytest.mark.parametrize("method", ["weighted_average", "decaying_average"])
def test_weighted_methods_return_a_single_score_unchanged(method: str) -> None:
    result = calculate(method, [2.4], calculation_int=65)

    assert result.score == Decimal("2.40")
    assert "only one score, so the result is that score: 2.4" in result.steps


def test_decaying_average_differs_from_weighted_average() -> None:
    # Scores 4, 1, 1 with c = 50.
    # weighted: 0.5 × 1 + 0.5 × mean(4, 1) = 0.5 + 1.25 = 1.75.
    # decaying: 4 -> 0.5 × 1 + 0.5 × 4 = 2.5 -> 0.5 × 1 + 0.5 × 2.5 = 1.75.
    # With 4, 1, 1, 1: weighted 0.5 + 0.5 × 2 = 1.5; decaying 0.5 + 0.875 = 1.375.
    scores = [4, 1, 1, 1]

    weighted = calculate("weighted_average", scores, calculation_int=50)
    decaying = calculate("decaying_average", scores, calculation_int=50)

    assert weighted.unrounded == Decimal("1.5")
    assert decaying.unrounded == Decimal("1.375")
    assert decaying.score == Decimal("1.38")


def test_decaying_average_of_equal_scores_is_exactly_that_score() -> None:
    # 0.65 × 2.7 + 0.35 × 2.7 = 2.7 at every step; binary floats drift here.
    result = calculate("decaying_average", [2.7] * 12, calculation_int=65)

    assert result.unrounded == Decimal("2.7")


def test_n_mastery_counts_scores_equal_to_mastery_points() -> None:
    # mastery_points 2.5; 2.5 and 3 reach it, 2 does not: mean (2.5 + 3) / 2.
    result = calculate("n_mastery", [2.5, 2, 3], calculation_int=2, mastery_points=2.5)

    assert result.score == Decimal("2.75")
    assert result.scores_used == (Decimal("2.5"), Decimal("3"))
    assert result.mastered is True


def test_n_mastery_explains_why_there_is_no_result() -> None:
    result = calculate("n_mastery", [1, 3.5, 2], calculation_int=2)

    assert result.steps == (
        "scores, oldest first: 1, 3.5, 2",
        "scores at or above mastery_points 3: 3.5 (1 of 3; n = 2 needed)",
        "fewer than n, so there is no result yet",
        "no score, so not mastered",
    )
    assert result.explanation == (
        "Number of times (n = 2) over 3 scores (oldest first: 1, 3.5, 2): only 1 "
        "of the 2 scores needed reach 3, so there is no result yet; no score, so "
        "not mastered."
    )


def test_latest_and_highest_name_the_score_they_used() -> None:
    latest = calculate("latest", [2, 4, 1])
    highest = calculate("highest", [2, 4, 1])

    assert latest.scores_used == (Decimal(1),)
    assert latest.formula_version == "latest/1"
    assert "most recent score = 1" in latest.steps
    assert highest.scores_used == (Decimal(4),)
    assert highest.formula_version == "highest/1"
    assert "highest of 2, 4, 1 = 4" in highest.steps


def test_mastered_compares_the_rounded_score() -> None:
    # (2.99 + 3) / 2 = 2.995 -> 3.00, which is the score reported, so mastered.
    result = calculate("average", [2.99, 3], mastery_points=3)

    assert result.unrounded == Decimal("2.995")
    assert result.score == Decimal("3.00")
    assert result.mastered is True


def test_just_below_mastery_is_not_mastered() -> None:
    # (2.98 + 3) / 2 = 2.99 < 3.
    result = calculate("average", [2.98, 3], mastery_points=3)

    assert result.score == Decimal("2.99")
    assert result.mastered is False
    assert result.steps[-1] == "2.99 < mastery_points 3, so not mastered"


# --- rounding --------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "exact", "expected", "float_round"),
    [
        # (2.6 + 2.75) / 2 = 2.675; the binary float 2.675 is just below it.
        ([2.6, 2.75], "2.675", "2.68", 2.67),
        # (0.25 + 0) / 2 = 0.125; round() rounds half to even.
        ([0.25, 0], "0.125", "0.13", 0.12),
        # (1 + 1.01) / 2 = 1.005; binary 1.005 is 1.00499999…
        ([1, 1.01], "1.005", "1.01", 1.0),
    ],
)
def test_rounding_is_half_up_on_the_exact_value(
    scores: list[float], exact: str, expected: str, float_round: float
) -> None:
    result = calculate("average", scores)

    assert result.unrounded == Decimal(exact)
    assert result.score == Decimal(expected)
    assert round(float(exact), 2) == float_round != float(expected)


def test_decimal_and_integer_inputs_are_accepted() -> None:
    result = calculate(
        "average", [Decimal("2.6"), Decimal("2.75")], mastery_points=Decimal("2.5")
    )

    assert result.score == Decimal("2.68")
    assert result.mastery_points == Decimal("2.5")


# --- bad input -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"method": "median", "scores": [1]}, "unknown-method", "method"),
        ({"method": "latest", "scores": []}, "empty-scores", "scores"),
        ({"method": "average", "scores": [1, -0.5]}, "negative-score", "scores.1"),
        (
            {"method": "average", "scores": [1, float("nan")]},
            "invalid-number",
            "scores.1",
        ),
        (
            {"method": "latest", "scores": [1], "mastery_points": 0},
            "invalid-mastery-points",
            "mastery_points",
        ),
        (
            {"method": "latest", "scores": [1], "mastery_points": -3},
            "invalid-mastery-points",
            "mastery_points",
        ),
        (
            {"method": "latest", "scores": [1], "mastery_points": float("inf")},
            "invalid-number",
            "mastery_points",
        ),
    ],
)
def test_bad_input_names_the_problem(kwargs: dict, code: str, field: str) -> None:
    with pytest.raises(CalculationInputError) as raised:
        calculate(**kwargs)

    assert raised.value.code == code
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("method", "calculation_int"),
    [
        ("weighted_average", None),
        ("weighted_average", 0),
        ("weighted_average", 100),
        ("decaying_average", None),
        ("decaying_average", 0),
        ("decaying_average", 100),
        ("n_mastery", None),
        ("n_mastery", 0),
        ("n_mastery", -2),
        ("latest", 65),
        ("highest", 1),
        ("average", 3),
    ],
)
def test_calculation_int_must_fit_the_method(
    method: str, calculation_int: int | None
) -> None:
    with pytest.raises(CalculationInputError) as raised:
        calculate(method, [1, 2], calculation_int=calculation_int)

    assert raised.value.code == "invalid-calculation-int"
    assert raised.value.field == "calculation_int"
    assert method in raised.value.detail


@pytest.mark.parametrize(
    ("method", "calculation_int"),
    [
        ("weighted_average", 1),
        ("weighted_average", 99),
        ("decaying_average", 1),
        ("decaying_average", 99),
        ("n_mastery", 1),
        ("n_mastery", 12),
    ],
)
def test_calculation_int_bounds_are_inclusive(
    method: str, calculation_int: int
) -> None:
    result = calculate(method, [3, 4], calculation_int=calculation_int)

    assert result.calculation_int == calculation_int


# --- the endpoint ----------------------------------------------------------


def test_endpoint_returns_the_explained_score(client) -> None:
    response = client.post(
        URL,
        json={
            "method": "weighted_average",
            "scores": [2.5, 3, 4],
            "calculation_int": 65,
            "mastery_points": 3,
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "score": 3.56,
        "mastered": True,
        "method": "weighted_average",
        "calculation_int": 65,
        "formula_version": "weighted_average/1",
        "explanation": (
            "Weighted average (most recent score weighted 65%, mean of earlier "
            "scores 35%) over 3 scores (oldest first: 2.5, 3, 4): "
            "0.65 × 4 + 0.35 × 2.75 = 3.5625 → 3.56; "
            "3.56 ≥ mastery_points 3, so mastered."
        ),
        "steps": [
            "scores, oldest first: 2.5, 3, 4",
            "most recent score = 4",
            "mean of the 2 earlier scores = (2.5 + 3) / 2 = 2.75",
            "0.65 × 4 + 0.35 × 2.75 = 3.5625",
            "3.5625 → 3.56 (rounded half-up to 0.01)",
            "3.56 ≥ mastery_points 3, so mastered",
        ],
    }


@pytest.mark.parametrize(
    ("method", "scores", "calculation_int", "score", "mastered"),
    [
        # Canvas spec values, as above.
        ("latest", [1, 2, 4, 5, 3], None, 3.0, True),
        ("highest", CANVAS_SPEC_SCORES, None, 5.0, True),
        ("average", CANVAS_SPEC_SCORES, None, 3.0, True),
        ("weighted_average", CANVAS_SPEC_SCORES, 65, 4.13, True),
        ("decaying_average", CANVAS_SPEC_SCORES, 65, 4.47, True),
        ("n_mastery", CANVAS_SPEC_SCORES, 3, 4.0, True),
        ("n_mastery", CANVAS_SPEC_SCORES, 4, None, False),
        # (2.6 + 2.75) / 2 = 2.675 -> 2.68 in the JSON too.
        ("average", [2.6, 2.75], None, 2.68, False),
        # (0.25 + 0) / 2 = 0.125 -> 0.13.
        ("average", [0.25, 0], None, 0.13, False),
    ],
)
def test_endpoint_runs_every_method(
    client,
    method: str,
    scores: list,
    calculation_int: int | None,
    score: float | None,
    mastered: bool,
) -> None:
    response = client.post(
        URL,
        json={
            "method": method,
            "scores": scores,
            "calculation_int": calculation_int,
            "mastery_points": 3,
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["score"] == score
    assert body["mastered"] is mastered
    assert body["method"] == method
    assert body["calculation_int"] == calculation_int
    assert body["formula_version"] == f"{method}/1"
    assert body["steps"][0] == f"scores, oldest first: {', '.join(map(str, scores))}"
    assert body["explanation"].endswith(".")


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        (
            {"method": "median", "scores": [1], "mastery_points": 3},
            "unknown-method",
            "method",
        ),
        (
            {"method": "latest", "scores": [], "mastery_points": 3},
            "empty-scores",
            "scores",
        ),
        (
            {"method": "highest", "scores": [2, -1], "mastery_points": 3},
            "negative-score",
            "scores.1",
        ),
        (
            {"method": "weighted_average", "scores": [2], "mastery_points": 3},
            "invalid-calculation-int",
            "calculation_int",
        ),
        (
            {
                "method": "decaying_average",
                "scores": [2],
                "calculation_int": 100,
                "mastery_points": 3,
            },
            "invalid-calculation-int",
            "calculation_int",
        ),
        (
            {
                "method": "n_mastery",
                "scores": [2],
                "calculation_int": 0,
                "mastery_points": 3,
            },
            "invalid-calculation-int",
            "calculation_int",
        ),
        (
            {
                "method": "latest",
                "scores": [2],
                "calculation_int": 65,
                "mastery_points": 3,
            },
            "invalid-calculation-int",
            "calculation_int",
        ),
        (
            {"method": "latest", "scores": [2], "mastery_points": 0},
            "invalid-mastery-points",
            "mastery_points",
        ),
        (
            {"method": "latest", "scores": [2, "3"], "mastery_points": 3},
            "invalid-request",
            "scores.1",
        ),
        ({"method": "latest", "scores": [2]}, "invalid-request", "mastery_points"),
        (
            {
                "method": "n_mastery",
                "scores": [2],
                "calculation_int": 2.5,
                "mastery_points": 3,
            },
            "invalid-request",
            "calculation_int",
        ),
    ],
)
def test_endpoint_rejects_bad_input_as_problem_json(
    client, payload: dict, code: str, field: str
) -> None:
    response = client.post(URL, json=payload)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem["field"] == field
    assert problem["type"].endswith(f"/problems/{code}")
    assert problem["detail"]


def test_endpoint_error_says_what_calculation_int_means(client) -> None:
    response = client.post(
        URL,
        json={
            "method": "weighted_average",
            "scores": [2],
            "calculation_int": 100,
            "mastery_points": 3,
        },
    )

    assert response.json()["detail"] == (
        "weighted_average needs calculation_int: the percentage (1-99) given to the "
        "most recent score; got 100."
    )


def test_endpoint_is_documented_with_examples(client) -> None:
    spec = client.get("/openapi.json").json()

    operation = spec["paths"][URL]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    request_schema = spec["components"]["schemas"]["CalculationRequest"]
    assert set(examples) >= {"weighted_average", "decaying_average", "n_mastery"}
    assert request_schema["properties"]["method"]["enum"] == [
        "latest",
        "highest",
        "average",
        "weighted_average",
        "decaying_average",
        "n_mastery",
    ]
    assert "application/problem+json" in operation["responses"]["422"]["content"]
