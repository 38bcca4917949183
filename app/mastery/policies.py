"""Mastery policies: which method, scale and rollup rule judge a framework.

A framework's own policy wins over its organization's; with neither, the
default keeps the service's original behaviour: the latest score on a 0-1
share scale, mastery at `mastery_threshold`, a parent mastered when all of its
components are.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.frameworks.models import Framework
from app.mastery.calculator import (
    FORMULA_VERSIONS,
    CalculationInputError,
    Method,
    calculate_mastery,
)
from app.mastery.models import MasteryPolicy
from app.problems import Problem
from app.settings import get_settings

ROLLUP_ALL = "all"
ROLLUP_SHARE = "share"
ROLLUP_POINTS = "points"
ROLLUP_RULES = (ROLLUP_ALL, ROLLUP_SHARE, ROLLUP_POINTS)
ROLLUP_FORMULA = "1"
# The mastery row keeps points in Numeric(5, 2).
MAX_POINTS = Decimal("999.99")
SOURCE_FRAMEWORK = "framework"
SOURCE_ORGANIZATION = "organization"
SOURCE_DEFAULT = "default"


@dataclass(frozen=True)
class ScaleLevel:
    name: str
    points: Decimal
    mastery: bool = False


@dataclass(frozen=True)
class Policy:
    """A checked policy; build one with `checked_policy` or `default_policy`."""

    method: str
    calculation_int: int | None
    levels: tuple[ScaleLevel, ...]
    rollup_rule: str
    rollup_share: Decimal | None
    source: str

    @property
    def mastery_points(self) -> Decimal:
        return next(level.points for level in self.levels if level.mastery)

    @property
    def points_possible(self) -> Decimal:
        return max(level.points for level in self.levels)

    @property
    def formula_version(self) -> str:
        method = FORMULA_VERSIONS[Method(self.method)]
        return f"{method}+rollup-{self.rollup_rule}/{ROLLUP_FORMULA}"

    def points_of(self, *, score: Decimal, max_score: Decimal) -> Decimal:
        """score / max_score on this scale, a score above its maximum counting full.

        Left unrounded: only the final result is rounded.
        """
        share = min(score / max_score, Decimal(1))
        return share * self.points_possible

    def level_name(self, points: Decimal | None) -> str | None:
        """The highest scale level the points reach."""
        if points is None:
            return None
        reached = [level for level in self.levels if level.points <= points]
        return max(reached, key=lambda level: level.points).name if reached else None

    def scale(self) -> dict[str, Any]:
        return {
            "levels": [
                {
                    "name": level.name,
                    "points": str(level.points),
                    "mastery": level.mastery,
                }
                for level in self.levels
            ]
        }

    def parameters(self) -> dict[str, Any]:
        """What a stored result needs to be traced back: JSON-safe."""
        return {
            "calculation_int": self.calculation_int,
            "mastery_points": str(self.mastery_points),
            "points_possible": str(self.points_possible),
            "rollup_rule": self.rollup_rule,
            "rollup_share": None
            if self.rollup_share is None
            else str(self.rollup_share),
            "policy_source": self.source,
        }


def default_policy(threshold: Decimal | None = None) -> Policy:
    mastery = get_settings().mastery_threshold if threshold is None else threshold
    levels = [ScaleLevel("Not yet", Decimal(0)), ScaleLevel("Mastery", mastery, True)]
    if mastery < 1:
        levels.append(ScaleLevel("Full marks", Decimal(1)))
    return Policy(
        method=Method.LATEST.value,
        calculation_int=None,
        levels=tuple(levels),
        rollup_rule=ROLLUP_ALL,
        rollup_share=None,
        source=SOURCE_DEFAULT,
    )


def checked_policy(
    *,
    method: str,
    calculation_int: int | None,
    levels: list[ScaleLevel],
    rollup_rule: str,
    rollup_share: Decimal | None,
    source: str,
) -> Policy:
    """A policy from a caller's values, or a 422 problem naming the bad field."""
    checked_levels = _checked_levels(levels)
    rollup_share = _checked_rollup(rollup_rule, rollup_share)
    mastery_points = next(level.points for level in checked_levels if level.mastery)
    try:
        # The calculator owns the rules on calculation_int; asking it once with
        # a single score applies them without restating them here.
        calculate_mastery(
            method=method,
            scores=[mastery_points],
            mastery_points=mastery_points,
            calculation_int=calculation_int,
        )
    except CalculationInputError as error:
        raise Problem(422, error.code, error.detail, field=error.field) from None
    return Policy(
        method=method,
        calculation_int=calculation_int,
        levels=checked_levels,
        rollup_rule=rollup_rule,
        rollup_share=rollup_share,
        source=source,
    )


def _checked_levels(levels: list[ScaleLevel]) -> tuple[ScaleLevel, ...]:
    if len(levels) < 2:
        raise Problem(
            422,
            "invalid-scale",
            "A mastery scale needs at least two levels.",
            field="scale.levels",
        )
    mastery_levels = [index for index, level in enumerate(levels) if level.mastery]
    if len(mastery_levels) != 1:
        raise Problem(
            422,
            "invalid-scale",
            f"Exactly one scale level must be marked mastery; {len(mastery_levels)} "
            "are.",
            field="scale.levels",
        )
    points = [level.points for level in levels]
    if len(set(points)) != len(points):
        raise Problem(
            422,
            "invalid-scale",
            "Two scale levels have the same points; each level needs its own.",
            field="scale.levels",
        )
    for index, level in enumerate(levels):
        if not level.points.is_finite() or not 0 <= level.points <= MAX_POINTS:
            raise Problem(
                422,
                "invalid-scale",
                f"Level {index} ({level.name!r}) has points {level.points}; points "
                f"must be between 0 and {MAX_POINTS}.",
                field=f"scale.levels.{index}.points",
            )
    if levels[mastery_levels[0]].points <= 0:
        raise Problem(
            422,
            "invalid-scale",
            "The mastery level's points must be greater than 0.",
            field=f"scale.levels.{mastery_levels[0]}.points",
        )
    return tuple(sorted(levels, key=lambda level: level.points))


def _checked_rollup(rule: str, share: Decimal | None) -> Decimal | None:
    if rule not in ROLLUP_RULES:
        raise Problem(
            422,
            "unknown-rollup-rule",
            f"Unknown rollup rule {rule!r}; use one of: {', '.join(ROLLUP_RULES)}.",
            field="rollup.rule",
        )
    if rule != ROLLUP_SHARE:
        if share is not None:
            raise Problem(
                422,
                "invalid-rollup-share",
                f"Rollup rule {rule!r} takes no share; leave it out or null.",
                field="rollup.share",
            )
        return None
    if share is None or not 0 < share <= 1:
        raise Problem(
            422,
            "invalid-rollup-share",
            f"Rollup rule 'share' needs a share above 0 and at most 1; got {share}.",
            field="rollup.share",
        )
    return share


def policy_of_row(row: MasteryPolicy, *, source: str) -> Policy:
    levels = tuple(
        ScaleLevel(
            name=level["name"],
            points=Decimal(level["points"]),
            mastery=bool(level.get("mastery")),
        )
        for level in row.scale["levels"]
    )
    return Policy(
        method=row.method,
        calculation_int=row.calculation_int,
        levels=levels,
        rollup_rule=row.rollup_rule,
        rollup_share=row.rollup_share,
        source=source,
    )


def policies_for_frameworks(
    session: Session,
    *,
    framework_ids: set[uuid.UUID],
    threshold: Decimal | None = None,
    overrides: dict[uuid.UUID, Policy] | None = None,
) -> dict[uuid.UUID, Policy]:
    """The policy in force for each framework, in one pass over the store.

    `overrides` stand in for a framework's stored policy (a preview);
    `threshold` replaces the configured one in the default policy only.
    """
    if not framework_ids:
        return {}
    owners = dict(
        session.execute(
            select(Framework.id, Framework.organization_id).where(
                Framework.id.in_(framework_ids)
            )
        ).all()
    )
    rows = session.execute(
        select(MasteryPolicy).where(
            or_(
                MasteryPolicy.framework_id.in_(owners),
                MasteryPolicy.organization_id.in_(set(owners.values())),
            )
        )
    ).scalars()
    by_framework: dict[uuid.UUID, MasteryPolicy] = {}
    by_organization: dict[uuid.UUID, MasteryPolicy] = {}
    for row in rows:
        if row.framework_id is not None:
            by_framework[row.framework_id] = row
        elif row.organization_id is not None:
            by_organization[row.organization_id] = row

    fallback = default_policy(threshold)
    overrides = overrides or {}
    policies = {}
    for framework_id, organization_id in owners.items():
        if framework_id in overrides:
            policies[framework_id] = overrides[framework_id]
        elif framework_id in by_framework:
            policies[framework_id] = policy_of_row(
                by_framework[framework_id], source=SOURCE_FRAMEWORK
            )
        elif organization_id in by_organization:
            policies[framework_id] = policy_of_row(
                by_organization[organization_id], source=SOURCE_ORGANIZATION
            )
        else:
            policies[framework_id] = fallback
    return policies


def stored_policy(
    session: Session,
    *,
    framework_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
) -> MasteryPolicy | None:
    statement = select(MasteryPolicy)
    if framework_id is not None:
        statement = statement.where(MasteryPolicy.framework_id == framework_id)
    else:
        statement = statement.where(MasteryPolicy.organization_id == organization_id)
    return session.execute(statement).scalar_one_or_none()


def save_policy(
    session: Session,
    *,
    policy: Policy,
    framework_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
) -> MasteryPolicy:
    """Create or replace the policy of one framework or one organization."""
    row = stored_policy(
        session, framework_id=framework_id, organization_id=organization_id
    )
    if row is None:
        row = MasteryPolicy(framework_id=framework_id, organization_id=organization_id)
        session.add(row)
    row.method = policy.method
    row.calculation_int = policy.calculation_int
    row.scale = policy.scale()
    row.rollup_rule = policy.rollup_rule
    row.rollup_share = policy.rollup_share
    row.formula_version = policy.formula_version
    session.flush()
    return row
