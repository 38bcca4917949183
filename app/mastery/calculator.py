"""Mastery calculation methods: pure, decimal, and explained step by step.

Each method turns one person's scores on a competency (oldest first, on the
competency's point scale) into a single score, the way LMS outcome tools do.
The names follow Canvas's outcome `calculation_method` values, including its
split of the old "decaying average" into two methods:

- `weighted_average`: the most recent score weighted c%, the mean of the earlier
  ones weighted (100 - c)%. Canvas long called this "decaying average".
- `decaying_average`: the true decaying average; each new score is weighted c%
  against the running value, starting from the first score.

`calculation_int` is c (1-99) for those two methods and n (>= 1) for
`n_mastery`. `latest`, `highest` and `average` take no parameter, and a value
given for them is refused rather than silently ignored (as Canvas does), so a
caller never believes a parameter changed a result it cannot change.

Arithmetic is done in `Decimal` and only the final score is rounded, half-up to
two decimals. Every result carries the formula version and its arithmetic as
readable steps:

    >>> result = calculate_mastery(
    ...     method="weighted_average", scores=[2.5, 3, 4], calculation_int=65,
    ...     mastery_points=3,
    ... )
    >>> result.score, result.steps[-2]
    (Decimal('3.56'), '3.5625 → 3.56 (rounded half-up to 0.01)')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum


class Method(StrEnum):
    LATEST = "latest"
    HIGHEST = "highest"
    AVERAGE = "average"
    WEIGHTED_AVERAGE = "weighted_average"
    DECAYING_AVERAGE = "decaying_average"
    N_MASTERY = "n_mastery"


METHODS: tuple[str, ...] = tuple(method.value for method in Method)

# Bumped when a method's arithmetic changes, so a stored result can always be
# traced to the formula that produced it.
FORMULA_VERSIONS: dict[Method, str] = {method: f"{method}/1" for method in Method}

WEIGHT_RANGE = range(1, 100)
MIN_N = 1

METHOD_NAMES: dict[Method, str] = {
    Method.LATEST: "Most recent score",
    Method.HIGHEST: "Highest score",
    Method.AVERAGE: "Average",
    Method.WEIGHTED_AVERAGE: "Weighted average",
    Method.DECAYING_AVERAGE: "Decaying average",
    Method.N_MASTERY: "Number of times",
}

Number = Decimal | int | float

_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
# Results never depend on whatever decimal context the caller has set.
_ARITHMETIC = Context(prec=28)
# Digits kept when an intermediate value does not terminate (42 / 13 = 3.2307…).
_SHOWN_PLACES = Decimal("0.000001")
_SHOWN_EXPONENT = -6


class CalculationInputError(ValueError):
    """Input a mastery calculation cannot use, naming the offending field."""

    def __init__(self, code: str, detail: str, *, field: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field


@dataclass(frozen=True)
class MasteryCalculation:
    """A calculated score and everything needed to explain it.

    `score` is None when the method gives no result (n_mastery before the n-th
    score at or above mastery_points); `unrounded` is the exact value before
    rounding. `scores_used` are the scores the arithmetic used, oldest first.
    """

    method: Method
    calculation_int: int | None
    mastery_points: Decimal
    scores: tuple[Decimal, ...]
    scores_used: tuple[Decimal, ...]
    unrounded: Decimal | None
    score: Decimal | None
    mastered: bool
    formula_version: str
    steps: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class _Outcome:
    """What one method computed, before rounding and the mastery check."""

    value: Decimal | None
    scores_used: tuple[Decimal, ...]
    steps: list[str]
    summary: str


def calculate_mastery(
    *,
    method: str,
    scores: Sequence[Number],
    mastery_points: Number,
    calculation_int: int | None = None,
) -> MasteryCalculation:
    """Apply `method` to `scores` (oldest first) and explain the arithmetic.

    Raises `CalculationInputError` for an unknown method, an empty or negative
    score list, mastery_points not above zero, or a calculation_int that the
    method needs and lacks, does not accept, or has out of range.
    """
    chosen = _parse_method(method)
    decimal_scores = _parse_scores(scores)
    threshold = _parse_mastery_points(mastery_points)
    _check_calculation_int(chosen, calculation_int)

    with localcontext(_ARITHMETIC):
        outcome = _CALCULATORS[chosen](decimal_scores, calculation_int, threshold)
        score = _round(outcome.value)

    steps = [f"scores, oldest first: {_list(decimal_scores)}", *outcome.steps]
    summary = outcome.summary
    if outcome.value is not None:
        steps.append(f"{_show(outcome.value)} → {score} (rounded half-up to 0.01)")
        summary = f"{summary} → {score}"
    mastered = score is not None and score >= threshold
    verdict = _verdict(score, threshold, mastered=mastered)
    steps.append(verdict)

    return MasteryCalculation(
        method=chosen,
        calculation_int=calculation_int,
        mastery_points=threshold,
        scores=decimal_scores,
        scores_used=outcome.scores_used,
        unrounded=outcome.value,
        score=score,
        mastered=mastered,
        formula_version=FORMULA_VERSIONS[chosen],
        steps=tuple(steps),
        explanation=_sentence(
            chosen, calculation_int, decimal_scores, summary=summary, verdict=verdict
        ),
    )


def _parse_method(method: str) -> Method:
    try:
        return Method(method)
    except ValueError:
        raise CalculationInputError(
            "unknown-method",
            f"Unknown calculation method {method!r}; use one of: {', '.join(METHODS)}.",
            field="method",
        ) from None


def _parse_scores(scores: Sequence[Number]) -> tuple[Decimal, ...]:
    if not scores:
        raise CalculationInputError(
            "empty-scores",
            "At least one score is needed to calculate mastery.",
            field="scores",
        )
    parsed = []
    for index, score in enumerate(scores):
        value = _as_decimal(score, field=f"scores.{index}")
        if value < 0:
            raise CalculationInputError(
                "negative-score",
                f"Score {index} is {_show(value)}; scores cannot be negative.",
                field=f"scores.{index}",
            )
        parsed.append(value)
    return tuple(parsed)


def _parse_mastery_points(mastery_points: Number) -> Decimal:
    value = _as_decimal(mastery_points, field="mastery_points")
    if value <= 0:
        raise CalculationInputError(
            "invalid-mastery-points",
            f"mastery_points is {_show(value)}; it must be greater than 0.",
            field="mastery_points",
        )
    return value


def _as_decimal(value: Number, *, field: str) -> Decimal:
    # A float goes through its shortest repr, so 2.675 means 2.675 and not the
    # binary neighbour 2.67499999999999982236431605997495353221893310546875.
    decimal = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not decimal.is_finite():
        raise CalculationInputError(
            "invalid-number", f"{field} must be a finite number.", field=field
        )
    return decimal


def _check_calculation_int(method: Method, calculation_int: int | None) -> None:
    if method in (Method.WEIGHTED_AVERAGE, Method.DECAYING_AVERAGE):
        if calculation_int is None or calculation_int not in WEIGHT_RANGE:
            raise _invalid_calculation_int(
                f"{method} needs calculation_int: the percentage (1-99) given to "
                f"the most recent score; got {calculation_int}."
            )
    elif method is Method.N_MASTERY:
        if calculation_int is None or calculation_int < MIN_N:
            raise _invalid_calculation_int(
                "n_mastery needs calculation_int: how many scores (at least 1) "
                f"must reach mastery_points; got {calculation_int}."
            )
    elif calculation_int is not None:
        raise _invalid_calculation_int(
            f"{method} takes no calculation_int; leave it out or null "
            f"(got {calculation_int})."
        )


def _invalid_calculation_int(detail: str) -> CalculationInputError:
    return CalculationInputError(
        "invalid-calculation-int", detail, field="calculation_int"
    )


def _latest(scores: tuple[Decimal, ...], _c: int | None, _m: Decimal) -> _Outcome:
    latest = scores[-1]
    return _Outcome(
        value=latest,
        scores_used=(latest,),
        steps=[f"most recent score = {_show(latest)}"],
        summary=f"the most recent score is {_show(latest)}",
    )


def _highest(scores: tuple[Decimal, ...], _c: int | None, _m: Decimal) -> _Outcome:
    highest = max(scores)
    return _Outcome(
        value=highest,
        scores_used=(highest,),
        steps=[f"highest of {_list(scores)} = {_show(highest)}"],
        summary=f"the highest score is {_show(highest)}",
    )


def _average(scores: tuple[Decimal, ...], _c: int | None, _m: Decimal) -> _Outcome:
    mean, arithmetic = _mean(scores)
    return _Outcome(
        value=mean,
        scores_used=scores,
        steps=[f"mean = {arithmetic}"],
        summary=f"the mean is {arithmetic}",
    )


def _weighted_average(
    scores: tuple[Decimal, ...], calculation_int: int | None, _m: Decimal
) -> _Outcome:
    *earlier, latest = scores
    if not earlier:
        return _single_score(latest, scores)
    recent_weight, rest_weight = _weights(calculation_int)
    earlier_mean, mean_arithmetic = _mean(tuple(earlier))
    value = recent_weight * latest + rest_weight * earlier_mean
    formula = (
        f"{_show(recent_weight)} × {_show(latest)} + "
        f"{_show(rest_weight)} × {_show(earlier_mean)} = {_show(value)}"
    )
    return _Outcome(
        value=value,
        scores_used=scores,
        steps=[
            f"most recent score = {_show(latest)}",
            f"mean of the {len(earlier)} earlier scores = {mean_arithmetic}",
            formula,
        ],
        summary=formula,
    )


def _decaying_average(
    scores: tuple[Decimal, ...], calculation_int: int | None, _m: Decimal
) -> _Outcome:
    first, *later = scores
    if not later:
        return _single_score(first, scores)
    recent_weight, rest_weight = _weights(calculation_int)
    running = first
    updates = []
    for score in later:
        updated = recent_weight * score + rest_weight * running
        updates.append(
            f"{_show(recent_weight)} × {_show(score)} + "
            f"{_show(rest_weight)} × {_show(running)} = {_show(updated)}"
        )
        running = updated
    return _Outcome(
        value=running,
        scores_used=scores,
        steps=[f"start from the first score: {_show(first)}", *updates],
        summary=f"start from {_show(first)}, then {', then '.join(updates)}",
    )


def _n_mastery(
    scores: tuple[Decimal, ...], calculation_int: int | None, mastery_points: Decimal
) -> _Outcome:
    n = calculation_int or MIN_N
    reaching = tuple(score for score in scores if score >= mastery_points)
    counted = (
        f"scores at or above mastery_points {_show(mastery_points)}: "
        f"{_list(reaching) or 'none'} ({len(reaching)} of {len(scores)}; "
        f"n = {n} needed)"
    )
    if len(reaching) < n:
        return _Outcome(
            value=None,
            scores_used=reaching,
            steps=[counted, "fewer than n, so there is no result yet"],
            summary=(
                f"only {len(reaching)} of the {n} scores needed reach "
                f"{_show(mastery_points)}, so there is no result yet"
            ),
        )
    mean, arithmetic = _mean(reaching)
    return _Outcome(
        value=mean,
        scores_used=reaching,
        steps=[counted, f"mean of those scores = {arithmetic}"],
        summary=(
            f"{len(reaching)} scores reach {_show(mastery_points)} (n = {n}); "
            f"their mean is {arithmetic}"
        ),
    )


def _single_score(score: Decimal, scores: tuple[Decimal, ...]) -> _Outcome:
    return _Outcome(
        value=score,
        scores_used=scores,
        steps=[f"only one score, so the result is that score: {_show(score)}"],
        summary=f"with a single score the result is that score, {_show(score)}",
    )


_CALCULATORS: dict[
    Method, Callable[[tuple[Decimal, ...], int | None, Decimal], _Outcome]
] = {
    Method.LATEST: _latest,
    Method.HIGHEST: _highest,
    Method.AVERAGE: _average,
    Method.WEIGHTED_AVERAGE: _weighted_average,
    Method.DECAYING_AVERAGE: _decaying_average,
    Method.N_MASTERY: _n_mastery,
}


def _weights(calculation_int: int | None) -> tuple[Decimal, Decimal]:
    percent = Decimal(calculation_int or 0)
    return percent / _HUNDRED, (_HUNDRED - percent) / _HUNDRED


def _mean(scores: tuple[Decimal, ...]) -> tuple[Decimal, str]:
    total = sum(scores, Decimal(0))
    mean = total / len(scores)
    if len(scores) == 1:
        return mean, _show(mean)
    added = " + ".join(_show(score) for score in scores)
    return mean, f"({added}) / {len(scores)} = {_show(mean)}"


def _round(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _verdict(score: Decimal | None, threshold: Decimal, *, mastered: bool) -> str:
    if score is None:
        return "no score, so not mastered"
    relation = "≥" if mastered else "<"
    state = "mastered" if mastered else "not mastered"
    return f"{score} {relation} mastery_points {_show(threshold)}, so {state}"


def _sentence(
    method: Method,
    calculation_int: int | None,
    scores: tuple[Decimal, ...],
    *,
    summary: str,
    verdict: str,
) -> str:
    parameter = (
        "" if calculation_int is None else f" ({_parameter(method, calculation_int)})"
    )
    plural = "" if len(scores) == 1 else "s"
    return (
        f"{METHOD_NAMES[method]}{parameter} over {len(scores)} score{plural} "
        f"(oldest first: {_list(scores)}): {summary}; {verdict}."
    )


def _parameter(method: Method, calculation_int: int) -> str:
    if method is Method.N_MASTERY:
        return f"n = {calculation_int}"
    rest = 100 - calculation_int
    if method is Method.WEIGHTED_AVERAGE:
        return (
            f"most recent score weighted {calculation_int}%, "
            f"mean of earlier scores {rest}%"
        )
    return f"each new score weighted {calculation_int}%, running value {rest}%"


def _list(scores: Sequence[Decimal]) -> str:
    return ", ".join(_show(score) for score in scores)


def _show(value: Decimal) -> str:
    """Plain notation, no trailing zeros; a long expansion is cut and marked '…'."""
    exact = value.normalize()
    exponent = exact.as_tuple().exponent
    if isinstance(exponent, int) and exponent < _SHOWN_EXPONENT:
        cut = exact.quantize(_SHOWN_PLACES, rounding=ROUND_DOWN).normalize()
        return f"{format(cut, 'f')}…"
    return format(exact, "f")
