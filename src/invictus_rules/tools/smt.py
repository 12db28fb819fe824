"""The condition language and the engine's three-valued evaluation, encoded for the z3 SMT solver.

What the tools ask (can this rule be true? do two versions ever decide a case differently?) becomes
a satisfiability question over *every* case, not a sample: the solver either proves the answer or
returns a model, which :meth:`Case.answers` turns into a case (answers JSON) that the tools then run
through the real engine to confirm. A query that runs out of time is "could not be decided".

The encoding mirrors the documented semantics (README, "Unanswered questions"), one construct at a
time. Each operator's and function's form is the ``smt`` of its entry in ``expr.language`` (one
table for the whole language); this module holds how questions, scores and levels are represented,
and the primitives those forms use (``expr.language.Solver``). An entry without a form is not
encodable: the tools say "could not be decided".

- each question has a *state*: answered, declined, "don't know", or not given; and a value of its
  type when answered (a yes/no as a boolean; a whole number as an integer; a number as a real; a
  single choice as an index into its options; a multiple choice as one boolean per option, so 22
  options cost 22 booleans, never 2^22 cases; a date as its day number counted from the as-of date);
- a question whose ``ask_if`` is false is *not asked*: every test on it is false (``not`` of such a
  test is true); one whose ``ask_if`` is unknown counts its answer if one was given;
- a condition is a pair of booleans (*is true*, *is false*): Kleene logic, neither when unknown;
- a number is a range [lo, hi] (one value when decided), plus "not asked" and "unknown" flags:
  sums, differences and products or quotients by a constant follow interval arithmetic; a product
  of two answers is non-linear and not encoded (:class:`NotEncodable`: "could not be decided");
- a score is the sum of its indicators' points over the range of the unknown ones, its critical
  count likewise; a level is the set of ranks still possible (the highest whose condition holds,
  each higher one still unknown, "no level" when none holds yet), raised by an answered override.

Dates read by ``years_since`` are taken within 150 years of the as-of date (whole years there are a
table of anniversaries; further out an age has no meaning for these rules).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NoReturn, TypeGuard

import z3

from ..compiled import CompiledCondition, CompiledRuleset, CompiledScore
from ..expr.language import FUNCTIONS, operator_of
from ..expr.nodes import Arith, BoolOp, Call, Compare, Literal, Name, Negate, Node, Not
from ..expr.values import age_in_years
from ..model import CONSENT_MODES, PRIORITY_RANK

DEFAULT_TIMEOUT_MS = 5_000
MAX_NUMBER = 10**15  # the largest magnitude an answer may have (answers.py)
YEARS = 150
MODE_ORDER = ("report", "opt_out", "opt_in", "inform_only")

ANSWERED, DECLINED, DONT_KNOW, NOT_GIVEN = 0, 1, 2, 3
_STATE_OF = {"answered": ANSWERED, "declined": DECLINED}
"""The question states a z3 form may test (``expr.language.Solver.in_state``), by name."""


class NotEncodable(Exception):
    """A condition outside what the solver decides exactly (e.g. a product of two answers)."""


@dataclass(frozen=True)
class Tri:
    """A condition's result: ``t`` when it is true, ``f`` when false, neither when unknown."""

    t: Any
    f: Any

    @property
    def unknown(self) -> Any:
        return z3.And(z3.Not(self.t), z3.Not(self.f))

    def negate(self) -> Tri:
        return Tri(self.f, self.t)


def _bv(ctx: Any, value: bool) -> Any:
    return z3.BoolVal(value, ctx)


def _iv(ctx: Any, value: int) -> Any:
    return z3.IntVal(value, ctx)


def _all(ctx: Any, items: list[Any]) -> Any:
    return z3.And(items) if items else z3.BoolVal(True, ctx)


def _any(ctx: Any, items: list[Any]) -> Any:
    return z3.Or(items) if items else z3.BoolVal(False, ctx)


def true(ctx: Any) -> Tri:
    return Tri(z3.BoolVal(True, ctx), z3.BoolVal(False, ctx))


def false(ctx: Any) -> Tri:
    return Tri(z3.BoolVal(False, ctx), z3.BoolVal(True, ctx))


@dataclass
class Val:
    """A value a condition reads: ``absent`` (not asked), ``unknown``, else ``payload`` (or lo/hi)."""

    kind: str
    absent: Any
    unknown: Any
    lo: Any = None
    hi: Any = None
    payload: Any = None
    options: tuple[str, ...] = ()
    whole: bool = False


@dataclass
class Level:
    """The ranks still possible, index 0 meaning "no level"; ``absent`` when only that is possible."""

    possible: list[Any]
    ids: tuple[str, ...]

    @property
    def absent(self) -> Any:
        return z3.And([z3.Not(p) for p in self.possible[1:]]) if len(self.possible) > 1 else self.possible[0] == self.possible[0]


@dataclass
class QuestionVars:
    """The unknowns of one question: its state and its value (shared by two versions in a diff)."""

    id: str
    type: str
    state: Any
    value: Any
    options: list[str] = field(default_factory=list)


class Variables:
    """The unknowns of one case. Two encoders built on the same variables read the same case."""

    def __init__(self) -> None:
        self.questions: dict[tuple[str, str], QuestionVars] = {}
        self.ctx = z3.Context()  # its own context: the same question gives the same case, run after run

    def question(self, question_id: str, kind: str, options: Iterable[str]) -> QuestionVars:
        key = (question_id, kind)
        found = self.questions.get(key)
        suffix = "" if not any(k[0] == question_id for k in self.questions) or found else f"@{kind}"
        if found is None:
            name = question_id + suffix
            state = z3.Int(f"state:{name}", self.ctx)
            value: Any
            if kind == "boolean":
                value = z3.Bool(f"v:{name}", self.ctx)
            elif kind in ("integer", "date", "single_choice"):
                value = z3.Int(f"v:{name}", self.ctx)
            elif kind == "number":
                value = z3.Real(f"v:{name}", self.ctx)
            elif kind == "multiple_choice":
                value = {}
            else:
                value = None
            found = QuestionVars(question_id, kind, state, value)
            self.questions[key] = found
        for option in options:
            if option not in found.options:
                found.options.append(option)
                if kind == "multiple_choice":
                    found.value[option] = z3.Bool(f"v:{found.id}:{option}", self.ctx)
        return found


def _real(ctx: Any, value: Any) -> Any:
    if isinstance(value, Fraction):
        return z3.RealVal(f"{value.numerator}/{value.denominator}", ctx)
    if isinstance(value, float):
        return z3.RealVal(str(Fraction(value)), ctx)
    return z3.RealVal(value, ctx)


def _sum(ctx: Any, terms: list[Any]) -> Any:
    return z3.Sum(terms) if terms else z3.RealVal(0, ctx)


def _min(a: Any, b: Any) -> Any:
    return z3.If(a <= b, a, b)


def _max(a: Any, b: Any) -> Any:
    return z3.If(a >= b, a, b)


class Encoder:
    """One ruleset's evaluation of one case (:class:`Variables`) as solver terms.

    ``domain`` holds what makes the case valid for this ruleset (options, bounds); everything else
    is built on demand and cached, so encoding one rule costs only what that rule reads.
    """

    def __init__(self, ruleset: CompiledRuleset, variables: Variables, as_of: dt.date):
        self.ruleset = ruleset
        self.variables = variables
        self.as_of = as_of
        self.domain: list[Any] = []
        self.ctx = variables.ctx
        self.specs = {q.spec.id: q for q in ruleset.questions}
        self.vars: dict[str, QuestionVars] = {}
        self._values: dict[str, Val] = {}
        self._asked: dict[str, Tri] = {}
        self._scores: dict[str, tuple[Val, Val, Level]] = {}
        self.fractional = {s.spec.id for s in ruleset.scores if any(not float(i.spec.points).is_integer() for i in s.items)}
        self.score_by_id = {s.spec.id: s for s in ruleset.scores}
        self._years: dict[str, Any] = {}
        for question in ruleset.questions:
            self.vars[question.spec.id] = self._declare(question.spec)

    # -- questions --------------------------------------------------------------------------
    def _declare(self, spec: Any) -> QuestionVars:
        options = [o.value for o in spec.options or ()]
        qv = self.variables.question(spec.id, spec.type, options)
        answered = qv.state == ANSWERED
        self.domain.append(z3.And(qv.state >= 0, qv.state <= 3))
        if spec.type in ("integer", "number"):
            low = max(spec.min, -MAX_NUMBER) if spec.min is not None else -MAX_NUMBER
            high = min(spec.max, MAX_NUMBER) if spec.max is not None else MAX_NUMBER
            if spec.type == "integer":
                low, high = math.ceil(low), math.floor(high)
            self.domain.append(z3.Implies(answered, z3.And(qv.value >= _real(self.ctx, low) if spec.type == "number" else qv.value >= low, qv.value <= (_real(self.ctx, high) if spec.type == "number" else high))))
        elif spec.type == "single_choice":
            allowed = [qv.options.index(o) for o in options]
            self.domain.append(z3.Implies(answered, _any(self.ctx, [qv.value == i for i in allowed])))
        elif spec.type == "multiple_choice":
            extra = [v for o, v in qv.value.items() if o not in options]
            if extra:
                self.domain.append(z3.Implies(answered, _all(self.ctx, [z3.Not(v) for v in extra])))
        elif spec.type == "date":
            low = (dt.date(1, 1, 1) - self.as_of).days
            high = (dt.date(9999, 12, 31) - self.as_of).days
            self.domain.append(z3.Implies(answered, z3.And(qv.value >= low, qv.value <= high)))
        return qv

    def asked(self, question_id: str) -> Tri:
        found = self._asked.get(question_id)
        if found is None:
            question = self.specs[question_id]
            found = true(self.ctx) if question.ask_if is None else self.condition(question.ask_if.node)
            self._asked[question_id] = found
        return found

    def value(self, question_id: str) -> Val:
        found = self._values.get(question_id)
        if found is not None:
            return found
        qv = self.vars[question_id]
        spec = self.specs[question_id].spec
        absent = self.asked(question_id).f
        unknown = z3.And(z3.Not(absent), qv.state != ANSWERED)
        kind = spec.type
        if kind in ("integer", "number"):
            number = z3.ToReal(qv.value) if kind == "integer" else qv.value
            found = Val("number", absent, unknown, number, number, whole=kind == "integer")
        elif kind == "date":
            found = Val("date", absent, unknown, payload=qv.value)
        elif kind == "single_choice":
            found = Val("string", absent, unknown, payload=qv.value, options=tuple(qv.options))
        elif kind == "multiple_choice":
            found = Val("set", absent, unknown, payload=qv.value)
        elif kind == "boolean":
            found = Val("bool", absent, unknown, payload=qv.value)
        else:
            found = Val("text", absent, unknown)
        self._values[question_id] = found
        return found

    # -- scores -----------------------------------------------------------------------------
    def score(self, score_id: str) -> tuple[Val, Val, Level]:
        found = self._scores.get(score_id)
        if found is not None:
            return found
        compiled = self.score_by_id[score_id]
        items = [self.condition(item.condition.node) for item in compiled.items]
        low: list[Any] = []
        high: list[Any] = []
        crit_low: list[Any] = []
        crit_high: list[Any] = []
        for item, result in zip(compiled.items, items, strict=True):
            points = _real(self.ctx, item.spec.points)
            low.append(z3.If(result.t, points, 0))
            high.append(z3.If(result.t, points, 0))
            if item.spec.points < 0:
                low.append(z3.If(result.unknown, points, 0))
            else:
                high.append(z3.If(result.unknown, points, 0))
            if item.spec.critical:
                crit_low.append(z3.If(result.t, 1, 0))
                crit_high.append(z3.If(z3.Not(result.f), 1, 0))
        no = _bv(self.ctx, False)
        points_val = Val("number", no, no, _sum(self.ctx, low), _sum(self.ctx, high), whole=score_id not in self.fractional)
        critical_val = Val("number", no, no, z3.ToReal(z3.Sum(crit_low)) if crit_low else _real(self.ctx, 0), z3.ToReal(z3.Sum(crit_high)) if crit_high else _real(self.ctx, 0), whole=True)
        # the points and critical count are known to the level conditions
        self._scores[score_id] = (points_val, critical_val, Level([], compiled.level_ids))
        results = [true(self.ctx) if condition is None else self.condition(condition.node) for _, condition in compiled.levels]
        level = Level(self._possible(compiled, results), compiled.level_ids)
        found = (points_val, critical_val, level)
        self._scores[score_id] = found
        return found

    def level_results(self, score_id: str) -> list[Tri]:
        compiled = self.score_by_id[score_id]
        self.score(score_id)
        return [true(self.ctx) if condition is None else self.condition(condition.node) for _, condition in compiled.levels]

    def _possible(self, compiled: CompiledScore, results: list[Tri]) -> list[Any]:
        count = len(results)
        none_above = [_all(self.ctx, [z3.Not(results[j].t) for j in range(r + 1, count)]) for r in range(count)]
        before: list[Any] = [_all(self.ctx, [z3.Not(r.t) for r in results])]  # index 0: no level
        for r in range(count):
            before.append(z3.Or(z3.And(results[r].t, none_above[r]), z3.And(results[r].unknown, none_above[r])))
        if compiled.override_question is None:
            return before
        chosen = self.value(compiled.override_question)
        present = z3.And(z3.Not(chosen.absent), z3.Not(chosen.unknown))
        ranks = {option: compiled.level_ids.index(option) for option in chosen.options if option in compiled.level_ids}
        override = z3.Sum([z3.If(chosen.payload == chosen.options.index(option), rank, 0) for option, rank in ranks.items()]) if ranks else _iv(self.ctx, 0)
        valid = _any(self.ctx, [chosen.payload == chosen.options.index(option) for option in ranks]) if ranks else _bv(self.ctx, False)
        raised = []
        for index in range(count + 1):
            rank = index - 1
            at_override = z3.And(override == rank, z3.Or(before[: index + 1]))
            above = z3.And(override < rank, before[index])
            raised.append(z3.If(z3.And(present, valid), z3.Or(at_override, above) if rank >= 0 else _bv(self.ctx, False), before[index]))
        return raised

    # -- conditions -------------------------------------------------------------------------
    def condition(self, node: Node) -> Tri:
        if isinstance(node, Literal):
            return true(self.ctx) if node.value else false(self.ctx)
        if isinstance(node, Name):
            value = self.value(node.id)
            known = z3.And(z3.Not(value.absent), z3.Not(value.unknown))
            return Tri(z3.And(known, value.payload), z3.Or(value.absent, z3.And(known, z3.Not(value.payload))))
        if isinstance(node, (Not, BoolOp)):
            return self._operator(node)  # type: ignore[no-any-return]
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call) and FUNCTIONS[node.function].result == "bool":
            form = FUNCTIONS[node.function].smt
            if form is None:
                raise NotEncodable(f"{node.function}() has no solver form")
            return form(self, node)  # type: ignore[no-any-return]
        raise NotEncodable(f"not a condition: {type(node).__name__}")

    def operand(self, node: Node) -> Val:
        no = _bv(self.ctx, False)
        if isinstance(node, Literal):
            value = node.value
            if isinstance(value, bool):
                return Val("bool", no, no, payload=_bv(self.ctx, value))
            if isinstance(value, (int, float)):
                real = _real(self.ctx, value)
                return Val("number", no, no, real, real, whole=float(value).is_integer())
            if isinstance(value, dt.date):
                return Val("date", no, no, payload=_iv(self.ctx, (value - self.as_of).days))
            return Val("string", no, no, payload=value)
        if isinstance(node, Name):
            return self.value(node.id)
        if isinstance(node, Negate):
            return self._operator(node)  # type: ignore[no-any-return]
        if isinstance(node, Arith):
            return self._operator(node)  # type: ignore[no-any-return]
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, (Compare, BoolOp, Not)):
            raise NotEncodable("a condition used as a value")
        raise NotEncodable(type(node).__name__)

    def call(self, node: Call) -> Val:
        entry = FUNCTIONS[node.function]
        if entry.smt is None or entry.result == "bool":
            raise NotEncodable(f"{node.function}() as a value")
        return entry.smt(self, node)  # type: ignore[no-any-return]

    def _operator(self, node: Node) -> Any:
        form = operator_of(node).smt
        if form is None:
            raise NotEncodable(f"'{operator_of(node).name}' has no solver form")
        return form(self, node)

    # -- what the table's z3 forms use (expr.language.Solver) -------------------------------
    z3 = z3

    def in_state(self, question_id: str, state: str) -> Any:
        return self.vars[question_id].state == _STATE_OF[state]

    def is_choices(self, node: Node) -> TypeGuard[Name]:
        return isinstance(node, Name) and self.specs[node.id].spec.type == "multiple_choice"

    def tri(self, t: Any, f: Any) -> Tri:
        return Tri(t, f)

    def number(self, absent: Any, unknown: Any, lo: Any, hi: Any, whole: bool) -> Val:
        return Val("number", absent, unknown, lo, hi, whole=whole)

    def real(self, value: Fraction) -> Any:
        return _real(self.ctx, value)

    def string_equal(self, a: Val, b: Val) -> Any:
        return _string_equal(self.ctx, a, b)

    def string_in(self, a: Val, values: list[Any]) -> Any:
        no = _bv(self.ctx, False)
        return _any(self.ctx, [_string_equal(self.ctx, a, Val("string", no, no, payload=v)) for v in values])

    def number_in(self, a: Val, values: list[Any]) -> tuple[Any, Any]:
        return _number_membership(self.ctx, a, values)

    def refuse(self, reason: str) -> NoReturn:
        raise NotEncodable(reason)

    def years(self, question_id: str, day: Any) -> Any:
        """Whole years from the date to the as-of date: the number of anniversaries reached."""
        found = self._years.get(question_id)
        if found is None:
            found = z3.Int(f"years:{question_id}", self.ctx)
            lowest = self._anniversary(-YEARS)
            highest = self._anniversary(YEARS)
            qv = self.vars[question_id]
            self.domain.append(z3.Implies(qv.state == ANSWERED, z3.And(day >= highest, day <= lowest)))
            self.domain.append(z3.And(found >= -YEARS, found <= YEARS))
            for k in range(-YEARS + 1, YEARS + 1):
                self.domain.append((found >= k) == (day <= self._anniversary(k)))
            self._years[question_id] = found
        return found

    def _anniversary(self, years: int) -> int:
        """The day number of the latest birth date that gives ``years`` whole years on the as-of date."""
        low, high = -400 * (abs(years) + 1), 400 * (abs(years) + 1)
        while low < high:  # the largest day d with age(as_of + d) >= years
            middle = (low + high + 1) // 2
            if age_in_years(self.as_of + dt.timedelta(days=middle), self.as_of) >= years:
                low = middle
            else:
                high = middle - 1
        return low

    # -- comparisons ------------------------------------------------------------------------
    def compare(self, node: Compare) -> Tri:
        return self._operator(node)  # type: ignore[no-any-return]

    def level_compare(self, call: Call, holds: Callable[[int, Mapping[str, int]], bool]) -> Tri:
        """A comparison of ``level(score)``: ``holds(rank, ranks)`` says whether it holds at a rank."""
        assert isinstance(call.args[0], Name)
        level = self.score(call.args[0].id)[2]
        ranks = {name: rank for rank, name in enumerate(level.ids)}
        t = _all(self.ctx, [z3.Implies(possible, _bv(self.ctx, index > 0 and holds(index - 1, ranks))) for index, possible in enumerate(level.possible)])
        f = z3.Or(level.absent, _all(self.ctx, [z3.Implies(possible, _bv(self.ctx, not (index > 0 and holds(index - 1, ranks)))) for index, possible in enumerate(level.possible)]))
        return Tri(t, f)


def _string_equal(ctx: Any, a: Val, b: Val) -> Any:
    if isinstance(a.payload, str) and isinstance(b.payload, str):
        return _bv(ctx, a.payload == b.payload)
    if isinstance(b.payload, str):
        a, b = b, a
    if isinstance(a.payload, str):
        return b.payload == b.options.index(a.payload) if a.payload in b.options else _bv(ctx, False)
    pairs = [(i, b.options.index(o)) for i, o in enumerate(a.options) if o in b.options]
    return _any(ctx, [z3.And(a.payload == i, b.payload == j) for i, j in pairs]) if pairs else _bv(ctx, False)


def _number_membership(ctx: Any, a: Val, values: list[Any]) -> tuple[Any, Any]:
    """(true, false) of a range in a list, as the engine decides it (whole-valuedness from types)."""
    numbers = [Fraction(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if a.whole:
        integers = sorted({int(v) for v in numbers if v.denominator == 1})
        runs: list[tuple[int, int]] = []
        for v in integers:
            if runs and runs[-1][1] == v - 1:
                runs[-1] = (runs[-1][0], v)
            else:
                runs.append((v, v))
        t = _any(ctx, [z3.And(a.lo >= start, a.hi <= end) for start, end in runs]) if runs else _bv(ctx, False)
        f = _all(ctx, [z3.Not(z3.And(a.lo <= v, v <= a.hi)) for v in integers]) if integers else _bv(ctx, True)
        return t, f
    t = z3.And(a.lo == a.hi, _any(ctx, [a.lo == _real(ctx, v) for v in numbers])) if numbers else _bv(ctx, False)
    f = _all(ctx, [z3.Not(z3.And(a.lo <= _real(ctx, v), _real(ctx, v) <= a.hi)) for v in numbers]) if numbers else _bv(ctx, True)
    return t, f


# -- referrals merged per service ----------------------------------------------------------------


def deferred(encoder: Encoder, index: int) -> Any:
    """Whether the engine defers referral rule ``index``: an opt_in or opt_out rule that holds while
    it is not safe to talk, or no known safe channel reaches the service (with a safety section)."""
    ctx = encoder.ctx
    compiled = encoder.ruleset
    rule = compiled.referrals[index]
    safety = getattr(compiled, "safety", None)
    if safety is None or rule.spec.mode not in CONSENT_MODES:
        return _bv(ctx, False)
    holds = encoder.condition(rule.condition.node).t
    safe = encoder.condition(safety.condition.node).t
    channels = encoder.value(safety.spec.safe_channels)
    service = compiled.services.get(rule.spec.service)
    reaches = service.first_contact_channels if service is not None else frozenset()
    known = z3.And(z3.Not(channels.absent), z3.Not(channels.unknown))
    reached = _any(ctx, [z3.And(known, member) for option, member in channels.payload.items() if option in reaches])
    return z3.And(holds, z3.Or(z3.Not(safe), z3.Not(reached)))


def merged_services(encoder: Encoder) -> dict[str, tuple[Any, Any, Any]]:
    """Per service: (referred, mode rank, priority rank) of the merged referral, over the rules that
    hold and are not deferred, as the engine merges them: the strongest mode and the highest
    priority; rulesets without a safety section keep the merge they were published with (the mode of
    the highest-priority rule, the first listed on a tie)."""
    ctx = encoder.ctx
    by_mode = getattr(encoder.ruleset, "safety", None) is not None
    by_service: dict[str, list[tuple[Any, Any]]] = {}
    for index, rule in enumerate(encoder.ruleset.referrals):
        made = z3.And(encoder.condition(rule.condition.node).t, z3.Not(deferred(encoder, index)))
        by_service.setdefault(rule.spec.service, []).append((made, rule.spec))
    merged: dict[str, tuple[Any, Any, Any]] = {}
    for service, rules in by_service.items():
        referred = _any(ctx, [t for t, _ in rules])
        priority = _iv(ctx, len(PRIORITY_RANK))
        for t, spec in rules:
            priority = z3.If(z3.And(t, PRIORITY_RANK[spec.priority] < priority), PRIORITY_RANK[spec.priority], priority)
        mode = _iv(ctx, len(MODE_ORDER))
        if by_mode:
            for t, spec in rules:
                rank = MODE_ORDER.index(spec.mode)
                mode = z3.If(z3.And(t, rank < mode), rank, mode)
        else:
            for t, spec in reversed(rules):
                mode = z3.If(z3.And(t, PRIORITY_RANK[spec.priority] == priority), MODE_ORDER.index(spec.mode), mode)
        merged[service] = (referred, mode, priority)
    return merged


# -- solving and cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A solver verdict: ``status`` is proved (no case), found (``case`` shows one) or undecided."""

    status: str
    case: dict[str, Any] | None = None
    reason: str = ""

    @property
    def found(self) -> bool:
        return self.status == "found"

    @property
    def proved(self) -> bool:
        return self.status == "proved"


class Session:
    """A solver holding the domains of one or two encoders; each query pushes, checks and pops."""

    def __init__(self, encoders: list[Encoder], timeout_ms: int = DEFAULT_TIMEOUT_MS):
        self.encoders = encoders
        self.timeout_ms = timeout_ms
        self.solver = z3.Solver(ctx=encoders[0].ctx)
        self.solver.set("timeout", timeout_ms)
        self._domains = 0

    def _sync_domains(self) -> None:
        domain = [c for e in self.encoders for c in e.domain]
        for constraint in domain[self._domains:]:
            self.solver.add(constraint)
        self._domains = len(domain)

    def exists(self, formula: Any) -> Answer:
        """Is there a case where ``formula`` holds? Proved not, found (with the case), or undecided."""
        self._sync_domains()
        extra = [c for e in self.encoders for c in e.domain][self._domains:]
        self.solver.push()
        try:
            for constraint in extra:
                self.solver.add(constraint)
            self.solver.add(formula)
            result = self.solver.check()
            if result == z3.unsat:
                return Answer("proved")
            if result == z3.sat:
                return Answer("found", case_answers(self.solver.model(), self.encoders))
            return Answer("undecided", reason=f"the solver gave no answer within {self.timeout_ms / 1000:g} s")
        finally:
            self.solver.pop()


def _number(value: Any) -> Any:
    fraction = Fraction(value.numerator_as_long(), value.denominator_as_long())
    return int(fraction) if fraction.denominator == 1 else float(fraction)


def case_answers(model: Any, encoders: list[Encoder]) -> dict[str, Any]:
    """The answers JSON of the case the model describes, for questions of any of the encoders.

    Questions not asked under every version are left out (their answers would be ignored)."""
    answers: dict[str, Any] = {}
    seen: set[str] = set()
    for encoder in encoders:
        for question_id, qv in encoder.vars.items():
            if question_id in seen:
                continue
            seen.add(question_id)
            hidden = all(
                z3.is_true(model.eval(e.asked(question_id).f, model_completion=True)) for e in encoders if question_id in e.vars
            )
            if hidden:
                continue
            state = model.eval(qv.state, model_completion=True).as_long()
            if state == DECLINED:
                answers[question_id] = {"status": "declined"}
            elif state == DONT_KNOW:
                answers[question_id] = {"status": "unknown"}
            elif state == ANSWERED:
                answers[question_id] = _answer_value(model, qv, encoder)
    return dict(sorted(answers.items()))


def _answer_value(model: Any, qv: QuestionVars, encoder: Encoder) -> Any:
    kind = qv.type
    if kind == "boolean":
        return z3.is_true(model.eval(qv.value, model_completion=True))
    if kind == "integer":
        return model.eval(qv.value, model_completion=True).as_long()
    if kind == "number":
        return _number(model.eval(qv.value, model_completion=True))
    if kind == "single_choice":
        return qv.options[model.eval(qv.value, model_completion=True).as_long()]
    if kind == "multiple_choice":
        return [o for o, v in qv.value.items() if z3.is_true(model.eval(v, model_completion=True))]
    if kind == "date":
        return (encoder.as_of + dt.timedelta(days=model.eval(qv.value, model_completion=True).as_long())).isoformat()
    return "text"


def condition_of(encoder: Encoder, condition: CompiledCondition | None) -> Tri:
    return true(encoder.ctx) if condition is None else encoder.condition(condition.node)


__all__ = [
    "Answer",
    "DEFAULT_TIMEOUT_MS",
    "Encoder",
    "Level",
    "NotEncodable",
    "Session",
    "Tri",
    "Variables",
    "case_answers",
    "condition_of",
    "merged_services",
]
