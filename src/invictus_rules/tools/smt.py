"""The condition language and the engine's three-valued evaluation, encoded for the z3 SMT solver.

What the tools ask (can this rule be true? do two versions ever decide a case differently?) becomes
a satisfiability question over *every* case, not a sample: the solver either proves the answer or
returns a model, which :meth:`Case.answers` turns into a case (answers JSON) that the tools then run
through the real engine to confirm. A query that runs out of time is "could not be decided".

The encoding mirrors the documented semantics (README, "Unanswered questions"), one construct at a
time:

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3

from ..compiled import CompiledCondition, CompiledRuleset, CompiledScore
from ..expr.compile import age_in_years
from ..expr.nodes import Arith, BoolOp, Call, Compare, ListLiteral, Literal, Name, Negate, Node, Not, walk
from ..model import CONSENT_MODES, PRIORITY_RANK

DEFAULT_TIMEOUT_MS = 5_000
MAX_NUMBER = 10**15  # the largest magnitude an answer may have (answers.py)
YEARS = 150
MODE_ORDER = ("report", "opt_out", "opt_in", "inform_only")

ANSWERED, DECLINED, DONT_KNOW, NOT_GIVEN = 0, 1, 2, 3


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


def _is_constant(node: Node) -> bool:
    return not any(isinstance(n, (Name, Call)) for n in walk(node))


def _constant_value(node: Node) -> Fraction:
    if isinstance(node, Literal):
        return Fraction(node.value) if not isinstance(node.value, float) else Fraction(node.value)  # type: ignore[arg-type]
    if isinstance(node, Negate):
        return -_constant_value(node.operand)
    if isinstance(node, Arith):
        a, b = _constant_value(node.left), _constant_value(node.right)
        return a + b if node.op == "+" else a - b if node.op == "-" else a * b if node.op == "*" else a / b
    raise NotEncodable("not a constant")


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
        if isinstance(node, Not):
            return self.condition(node.operand).negate()
        if isinstance(node, BoolOp):
            parts = [self.condition(o) for o in node.operands]
            if node.op == "and":
                return Tri(_all(self.ctx, [p.t for p in parts]), _any(self.ctx, [p.f for p in parts]))
            return Tri(_any(self.ctx, [p.t for p in parts]), _all(self.ctx, [p.f for p in parts]))
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call) and node.function in ("answered", "declined"):
            question = node.args[0].id  # type: ignore[union-attr]
            qv = self.vars[question]
            shown = z3.Not(self.asked(question).f)
            holds = z3.And(shown, qv.state == (ANSWERED if node.function == "answered" else DECLINED))
            return Tri(holds, z3.Not(holds))
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
            inner = self.operand(node.operand)
            return Val("number", inner.absent, inner.unknown, -inner.hi, -inner.lo, whole=inner.whole)
        if isinstance(node, Arith):
            return self.arith(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, (Compare, BoolOp, Not)):
            raise NotEncodable("a condition used as a value")
        raise NotEncodable(type(node).__name__)

    def arith(self, node: Arith) -> Val:
        a = self.operand(node.left)
        op = node.op
        absent_b: Any
        if op in ("*", "/"):
            constant_side = node.right if _is_constant(node.right) else node.left if _is_constant(node.left) else None
            if constant_side is None:
                raise NotEncodable("a product of two answers is non-linear")
            other = self.operand(node.left if constant_side is node.right else node.right)
            if op == "/" and constant_side is node.left:
                raise NotEncodable("division by an answer")
            factor = _constant_value(constant_side)
            if op == "/":
                factor = 1 / factor
            c = _real(self.ctx, factor)
            lo, hi = (other.lo * c, other.hi * c) if factor >= 0 else (other.hi * c, other.lo * c)
            whole = op == "*" and other.whole and factor.denominator == 1
            return Val("number", other.absent, z3.And(z3.Not(other.absent), other.unknown), lo, hi, whole=whole)
        b = self.operand(node.right)
        absent_b = z3.Or(a.absent, b.absent)
        unknown = z3.And(z3.Not(absent_b), z3.Or(a.unknown, b.unknown))
        if op == "+":
            return Val("number", absent_b, unknown, a.lo + b.lo, a.hi + b.hi, whole=a.whole and b.whole)
        return Val("number", absent_b, unknown, a.lo - b.hi, a.hi - b.lo, whole=a.whole and b.whole)

    def call(self, node: Call) -> Val:
        no = _bv(self.ctx, False)
        name = node.function
        if name == "count":
            if len(node.args) == 1 and isinstance(node.args[0], Name) and self.specs[node.args[0].id].spec.type == "multiple_choice":
                chosen = self.value(node.args[0].id)
                size = z3.ToReal(z3.Sum([z3.If(v, 1, 0) for v in chosen.payload.values()])) if chosen.payload else _real(self.ctx, 0)
                counted = z3.If(chosen.absent, _real(self.ctx, 0), size)
                return Val("number", no, chosen.unknown, counted, counted, whole=True)
            parts = [self.condition(arg) for arg in node.args]
            low = z3.ToReal(z3.Sum([z3.If(p.t, 1, 0) for p in parts]))
            high = low + z3.ToReal(z3.Sum([z3.If(p.unknown, 1, 0) for p in parts]))
            return Val("number", no, no, low, high, whole=True)
        key = node.args[0].id  # type: ignore[union-attr]
        if name == "score":
            return self.score(key)[0]
        if name == "critical":
            return self.score(key)[1]
        if name in ("days_since", "years_since"):
            date = self.value(key)
            if name == "days_since":
                days = z3.ToReal(-date.payload)
                return Val("number", date.absent, date.unknown, days, days, whole=True)
            years = z3.ToReal(self.years(key, date.payload))
            return Val("number", date.absent, date.unknown, years, years, whole=True)
        raise NotEncodable(f"{name}() as a value")

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
        left_level = isinstance(node.left, Call) and node.left.function == "level"
        right_level = isinstance(node.right, Call) and node.right.function == "level"
        if left_level or right_level:
            return self.level_compare(node, left_level)
        if node.op in ("in", "not in"):
            return self.membership(node)
        a = self.operand(node.left)
        b = self.operand(node.right)
        absent = z3.Or(a.absent, b.absent)
        unknown = z3.And(z3.Not(absent), z3.Or(a.unknown, b.unknown))
        known = z3.And(z3.Not(absent), z3.Not(unknown))
        if a.kind == "number":
            t, f = _ranges(node.op, a, b)
            return Tri(z3.And(known, t), z3.Or(absent, z3.And(known, f)))
        holds = self.plain(node.op, a, b)
        return Tri(z3.And(known, holds), z3.Or(absent, z3.And(known, z3.Not(holds))))

    def plain(self, op: str, a: Val, b: Val) -> Any:
        if a.kind == "string":
            equal = _string_equal(self.ctx, a, b)
            if op == "==":
                return equal
            if op == "!=":
                return z3.Not(equal)
            raise NotEncodable("ordering of choices")
        x, y = a.payload, b.payload
        if a.kind == "bool" and op not in ("==", "!="):
            raise NotEncodable("ordering of yes/no values")
        return {"==": lambda: x == y, "!=": lambda: x != y, "<": lambda: x < y, "<=": lambda: x <= y, ">": lambda: x > y, ">=": lambda: x >= y}[op]()

    def membership(self, node: Compare) -> Tri:
        negated = node.op == "not in"
        if isinstance(node.right, ListLiteral):
            a = self.operand(node.left)
            values = [item.value for item in node.right.items if isinstance(item, Literal)]
            if a.kind == "string":
                core = _any(self.ctx, [_string_equal(self.ctx, a, Val("string", _bv(self.ctx, False), _bv(self.ctx, False), payload=v)) for v in values])
                t_core, f_core = core, z3.Not(core)
            elif a.kind == "number":
                t_core, f_core = _number_membership(self.ctx, a, values)
            else:
                raise NotEncodable(f"'in' on {a.kind}")
        else:
            assert isinstance(node.left, Literal)
            a = self.operand(node.right)
            member = a.payload.get(node.left.value)
            core = member if member is not None else _bv(self.ctx, False)
            t_core, f_core = core, z3.Not(core)
        known = z3.And(z3.Not(a.absent), z3.Not(a.unknown))
        if negated:
            t_core, f_core = f_core, t_core
        return Tri(z3.And(known, t_core), z3.Or(a.absent, z3.And(known, f_core)))

    def level_compare(self, node: Compare, level_left: bool) -> Tri:
        call = node.left if level_left else node.right
        other = node.right if level_left else node.left
        assert isinstance(call, Call) and isinstance(call.args[0], Name)
        level = self.score(call.args[0].id)[2]
        ranks = {name: rank for rank, name in enumerate(level.ids)}
        if node.op in ("in", "not in"):
            assert isinstance(other, ListLiteral)
            wanted = {ranks[str(item.value)] for item in other.items if isinstance(item, Literal)}
            def holds(rank: int) -> bool:
                return (rank in wanted) == (node.op == "in")

        else:
            assert isinstance(other, Literal)
            target = ranks[str(other.value)]
            op = node.op if level_left else {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}[node.op]

            def holds(rank: int) -> bool:
                return bool(_PY[op](rank, target))

        t = _all(self.ctx, [z3.Implies(possible, _bv(self.ctx, index > 0 and holds(index - 1))) for index, possible in enumerate(level.possible)])
        f = z3.Or(level.absent, _all(self.ctx, [z3.Implies(possible, _bv(self.ctx, not (index > 0 and holds(index - 1)))) for index, possible in enumerate(level.possible)]))
        return Tri(t, f)


_PY = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _string_equal(ctx: Any, a: Val, b: Val) -> Any:
    if isinstance(a.payload, str) and isinstance(b.payload, str):
        return _bv(ctx, a.payload == b.payload)
    if isinstance(b.payload, str):
        a, b = b, a
    if isinstance(a.payload, str):
        return b.payload == b.options.index(a.payload) if a.payload in b.options else _bv(ctx, False)
    pairs = [(i, b.options.index(o)) for i, o in enumerate(a.options) if o in b.options]
    return _any(ctx, [z3.And(a.payload == i, b.payload == j) for i, j in pairs]) if pairs else _bv(ctx, False)


def _ranges(op: str, a: Val, b: Val) -> tuple[Any, Any]:
    """(true, false) of comparing two ranges, as the engine's ``_compare_ranges`` decides them."""
    if op == "<":
        return a.hi < b.lo, a.lo >= b.hi
    if op == "<=":
        return a.hi <= b.lo, a.lo > b.hi
    if op == ">":
        return a.lo > b.hi, a.hi <= b.lo
    if op == ">=":
        return a.lo >= b.hi, a.hi < b.lo
    equal_t = z3.And(a.lo == a.hi, b.lo == b.hi, a.lo == b.lo)
    equal_f = z3.Or(a.hi < b.lo, b.hi < a.lo)
    return (equal_t, equal_f) if op == "==" else (equal_f, equal_t)


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
