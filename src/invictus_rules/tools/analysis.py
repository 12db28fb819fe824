"""Static analysis of conditions, on the solver: which results can a condition take, and how did a
changed condition move?

A thin layer over :mod:`.exact` for lint and diff: "never true" and "always true" are claimed only
when the solver proves them, a condition it cannot encode exactly (a product of two answers) or a
query that runs out of time is "could not be decided" (``exact`` False), never "clean" or "no
change". ``score_values`` lists the totals a score's indicators can add up to (lint's level ranges).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..compiled import CompiledCondition, CompiledRuleset, CompiledScore
from ..expr.compile import Interval
from ..outcome import Outcome
from . import smt
from .exact import Analysis, Comparison, ConditionChange, Outcomes

AS_OF = dt.date(2026, 1, 1)
"""The as-of date lint analyses on when none is given (the fixed date keeps lint output stable)."""


class Analyzer:
    """Analyses conditions of one compiled ruleset on one as-of date."""

    def __init__(self, ruleset: CompiledRuleset, as_of: dt.date = AS_OF, timeout_ms: int = smt.DEFAULT_TIMEOUT_MS):
        self.ruleset = ruleset
        self.analysis = Analysis(ruleset, as_of, timeout_ms)

    def outcomes(self, condition: CompiledCondition, locate: Callable[[Outcome], Any] | None = None) -> Outcomes:
        return self.analysis.outcomes(condition, locate)


def score_values(score: CompiledScore, cap: int = 5_000) -> list[Any]:
    """Every total the score's indicators can add up to, and the range when some are unknown."""
    totals = {0.0}
    for item in score.items:
        totals |= {total + item.spec.points for total in totals}
        if len(totals) > cap:
            break
    values: list[Any] = sorted(int(t) if float(t).is_integer() else t for t in totals)
    low = sum(item.spec.points for item in score.items if item.spec.points < 0)
    high = sum(item.spec.points for item in score.items if item.spec.points > 0)
    values.append(Interval(low, high))
    return values


def compare_conditions(old: CompiledCondition, old_ruleset: CompiledRuleset, new: CompiledCondition, new_ruleset: CompiledRuleset, *, as_of: dt.date = AS_OF, timeout_ms: int = smt.DEFAULT_TIMEOUT_MS) -> str:
    """How the set of cases where a condition is true changed: 'equivalent', 'broader', 'narrower',
    'neither', or 'undecided' (each in its own version: scores and levels as each version defines them)."""
    return Comparison(old_ruleset, new_ruleset, as_of, timeout_ms).condition(old, new).effect


__all__ = ["AS_OF", "Analyzer", "ConditionChange", "Outcomes", "compare_conditions", "score_values"]
