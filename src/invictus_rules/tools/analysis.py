"""Static analysis of conditions: which results (true, false, unknown) can a condition take?

Decided exactly, not by sampling, for the cases the language allows: every question a condition
reads is given a finite set of representative values that covers every region the condition can
tell apart: for a choice, each option; for a number, its bounds and each constant it is compared
with and its neighbours; for a multiple choice, every subset of the options it tests; for a date,
the dates at each day or year count it is compared with; for a score, every total its indicators can
add up to; and for every question, *not answered*, *declined* and, when it has an ``ask_if``, *not
asked*. The condition is run on every combination. Questions are treated as independent, so the set
found may be larger than what real cases reach, never smaller: "never true" and "always true" are
only claimed when they are certain.

Conditions that do arithmetic between two answers are not analysed (their regions are not given by
constants), nor are conditions whose combinations exceed ``MAX_COMBINATIONS``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from typing import Any, Iterable

from ..compile import CompiledCondition, CompiledRuleset, CompiledScore
from ..expr.compile import ABSENT, Env, Interval
from ..expr.nodes import Arith, Call, Literal, Name, walk
from ..model import Question

MAX_COMBINATIONS = 150_000
AS_OF = dt.date(2026, 1, 1)
_DECLINED = object()


@dataclass(frozen=True)
class Outcomes:
    """The results a condition can take. ``exact`` is False when the analysis was skipped."""

    can_be_true: bool
    can_be_false: bool
    can_be_unknown: bool
    exact: bool = True

    @property
    def never_true(self) -> bool:
        return self.exact and not self.can_be_true

    @property
    def always_true(self) -> bool:
        return self.exact and self.can_be_true and not self.can_be_false and not self.can_be_unknown


SKIPPED = Outcomes(True, True, True, exact=False)


def _env(axes: list[tuple[str, str, list[Any]]], combination: tuple[Any, ...]) -> Env:
    """An evaluation environment holding one combination of representative values."""
    env = Env({}, frozenset(), AS_OF)
    declined = set()
    for (kind, key, _), value in zip(axes, combination):
        if kind == "q":
            if value is _DECLINED:
                declined.add(key)
            elif value is not None:
                env.values[key] = value
        elif kind == "score":
            env.scores[key] = value
        elif kind == "critical":
            env.criticals[key] = value
        else:
            env.levels[key] = value
    env.declined = frozenset(declined)
    return env


class Analyzer:
    """Analyses conditions of one compiled ruleset."""

    def __init__(self, ruleset: CompiledRuleset):
        self.ruleset = ruleset
        self.questions = {q.spec.id: q for q in ruleset.questions}
        self.scores = {s.spec.id: s for s in ruleset.scores}

    def outcomes(self, condition: CompiledCondition, *, fixed_scores: dict[str, Any] | None = None) -> Outcomes:
        node = condition.node
        if any(isinstance(n, Arith) and not (isinstance(n.left, Literal) or isinstance(n.right, Literal)) for n in walk(node)):
            return SKIPPED
        numbers = sorted({n.value for n in walk(node) if isinstance(n, Literal) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)})
        dates = sorted({n.value for n in walk(node) if isinstance(n, Literal) and isinstance(n.value, dt.date)})
        literals = {n.value for n in walk(node) if isinstance(n, Literal) and isinstance(n.value, str)}
        axes: list[tuple[str, str, list[Any]]] = []
        for question_id in condition.reads:
            axes.append(("q", question_id, self.question_values(self.questions[question_id].spec, numbers, dates, literals, self.questions[question_id].ask_if is not None)))
        fixed = fixed_scores or {}
        for score_id in condition.scores:
            if score_id in fixed:
                continue
            score = self.scores[score_id]
            used = {n.function for n in walk(node) if isinstance(n, Call) and n.args and isinstance(n.args[0], Name) and n.args[0].id == score_id}
            if "score" in used:
                axes.append(("score", score_id, score_values(score)))
            if "critical" in used:
                critical = sum(1 for item in score.items if item.spec.critical)
                axes.append(("critical", score_id, list(range(critical + 1)) + ([Interval(0, critical)] if critical else [])))
            if "level" in used:
                count = len(score.level_ids)
                levels: list[Any] = list(range(count)) + [Interval(0, count - 1)]
                if score.levels[0][1] is not None:
                    levels.append(ABSENT)
                axes.append(("level", score_id, levels))
        total = 1
        for _, _, values in axes:
            total *= max(len(values), 1)
        if total > MAX_COMBINATIONS:
            return SKIPPED
        seen: set[Any] = set()
        for combination in itertools.product(*(values for _, _, values in axes)):
            env = _env(axes, combination)
            env.scores.update(fixed)
            seen.add(condition.fn(env))
            if len(seen) == 3:
                break
        return Outcomes(True in seen, False in seen, None in seen)

    def question_values(self, question: Question, numbers: list[Any], dates: list[dt.date], literals: set[str], hideable: bool) -> list[Any]:
        base: list[Any] = [None, _DECLINED] + ([ABSENT] if hideable else [])
        kind = question.type
        if kind == "boolean":
            return base + [True, False]
        if kind in ("integer", "number"):
            return base + number_values(question, numbers)
        options = [o.value for o in question.options or ()]
        if kind == "single_choice":
            return base + options
        if kind == "multiple_choice":
            return base + subset_values(options, literals)
        if kind == "date":
            return base + date_values(numbers, dates)
        return base + ["text"]


def number_values(question: Question, constants: Iterable[Any]) -> list[Any]:
    """The bounds, each constant and its neighbours, and a point between each two constants: every
    region a comparison with these constants can tell apart has a value here."""
    low = question.min if question.min is not None else -1e9
    high = question.max if question.max is not None else 1e9
    integer = question.type == "integer"
    points: set[Any] = {low, high}
    ordered = sorted(set(constants))
    for constant in ordered:
        if integer:
            points.update((math.floor(constant) - 1, math.floor(constant), math.ceil(constant), math.ceil(constant) + 1))
        else:
            points.update((constant - 0.5, constant, constant + 0.5))
    for below, above in zip(ordered, ordered[1:]):
        middle = (below + above) / 2
        points.update((math.floor(middle), math.ceil(middle)) if integer else (middle,))
    inside = sorted(p for p in points if low <= p <= high)
    if integer:
        return sorted({int(p) for p in inside if float(p).is_integer()})
    return inside


def subset_values(options: list[str], tested: set[str]) -> list[frozenset[str]]:
    if len(options) <= 10:
        return [frozenset(c) for r in range(len(options) + 1) for c in itertools.combinations(options, r)]
    used = [o for o in options if o in tested]
    others = [o for o in options if o not in tested]
    subsets = []
    for r in range(len(used) + 1):
        for combination in itertools.combinations(used, r):
            for extra in range(len(others) + 1):
                subsets.append(frozenset(combination) | frozenset(others[:extra]))
    return subsets


def date_values(numbers: list[Any], dates: list[dt.date]) -> list[dt.date]:
    found = {AS_OF, AS_OF - dt.timedelta(days=365 * 120)}
    for number in numbers:
        if isinstance(number, int) or float(number).is_integer():
            days = int(number)
            for delta in (days - 1, days, days + 1):
                if 0 <= delta < 365 * 150:
                    found.add(AS_OF - dt.timedelta(days=delta))
            for years in (days - 1, days, days + 1):
                if 0 <= years < 150:
                    anniversary = AS_OF.replace(year=AS_OF.year - years)
                    found.update((anniversary, anniversary + dt.timedelta(days=1), anniversary - dt.timedelta(days=1)))
    for literal in dates:
        found.update((literal - dt.timedelta(days=1), literal, literal + dt.timedelta(days=1)))
    return sorted(found)


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


def compare_conditions(old: CompiledCondition, old_ruleset: CompiledRuleset, new: CompiledCondition, new_ruleset: CompiledRuleset) -> str:
    """How the set of cases where a condition is true changed: 'equivalent', 'broader', 'narrower',
    'neither', or 'undecided' when the conditions cannot be analysed exactly.

    Both conditions are run on the same representative values of everything either reads; scores
    and levels are treated as inputs, so a changed threshold on a score is judged on the score.
    """
    nodes = list(walk(old.node)) + list(walk(new.node))
    if any(isinstance(n, Arith) and not (isinstance(n.left, Literal) or isinstance(n.right, Literal)) for n in nodes):
        return "undecided"
    numbers = sorted({n.value for n in nodes if isinstance(n, Literal) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)})
    dates = sorted({n.value for n in nodes if isinstance(n, Literal) and isinstance(n.value, dt.date)})
    literals = {n.value for n in nodes if isinstance(n, Literal) and isinstance(n.value, str)}
    old_questions = {q.spec.id: q for q in old_ruleset.questions}
    new_questions = {q.spec.id: q for q in new_ruleset.questions}
    axes: list[tuple[str, str, list[Any]]] = []
    for question_id in dict.fromkeys(old.reads + new.reads):
        sides = [q for q in (old_questions.get(question_id), new_questions.get(question_id)) if q is not None]
        if len({q.spec.type for q in sides}) > 1:
            return "undecided"  # the answer itself changed meaning
        values: dict[Any, None] = {}
        for question in sides:  # both versions' options and bounds, so removed ones are tried too
            hideable = any(q.ask_if is not None for q in sides)
            values.update(dict.fromkeys(Analyzer(new_ruleset).question_values(question.spec, numbers, dates, literals, hideable)))
        axes.append(("q", question_id, list(values)))
    old_scores = {s.spec.id: s for s in old_ruleset.scores}
    new_scores = {s.spec.id: s for s in new_ruleset.scores}
    for score_id in dict.fromkeys(old.scores + new.scores):
        sides = [s for s in (old_scores.get(score_id), new_scores.get(score_id)) if s is not None]
        totals: set[Any] = set()
        for score in sides:
            totals.update(t for t in score_values(score) if not isinstance(t, Interval))
        small = {int(n) for n in numbers if float(n).is_integer() and 0 <= n <= 50}
        totals.update(v for n in numbers for v in (n - 1, n, n + 1))
        most_critical = max(sum(1 for i in score.items if i.spec.critical) for score in sides)
        criticals = set(range(most_critical + 1)) | {v for n in small for v in (n - 1, n, n + 1) if v >= 0}
        names = list(dict.fromkeys(level for score in sides for level in score.level_ids))
        axes.append(("score", score_id, sorted(totals)))
        axes.append(("critical", score_id, sorted(criticals)))
        axes.append(("level", score_id, names))
    total = 1
    for _, _, values in axes:
        total *= max(len(values), 1)
    if total > MAX_COMBINATIONS:
        return "undecided"

    def rank(scores: dict[str, CompiledScore], score_id: str, name: str) -> Any:
        score = scores.get(score_id)
        return score.level_ids.index(name) if score is not None and name in score.level_ids else ABSENT

    gained = lost = False
    for combination in itertools.product(*(values for _, _, values in axes)):
        env_old = _env(axes, combination)
        env_new = Env(env_old.values, env_old.declined, AS_OF)
        env_new.scores, env_new.criticals = env_old.scores, env_old.criticals
        names = env_old.levels  # level names here; each side ranks them on its own levels
        env_old.levels = {key: rank(old_scores, key, name) for key, name in names.items()}
        env_new.levels = {key: rank(new_scores, key, name) for key, name in names.items()}
        before = old.fn(env_old) is True
        after = new.fn(env_new) is True
        gained = gained or (after and not before)
        lost = lost or (before and not after)
        if gained and lost:
            return "neither"
    if gained:
        return "broader"
    if lost:
        return "narrower"
    return "equivalent"
