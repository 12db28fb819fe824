"""Compile checked conditions into small Python closures with three-valued logic.

Every branch is settled at compile time (which operator, which types, which level a level name
means); evaluation only computes. Values seen at run time:

- an answer (bool, int, float, str, frozenset for multiple choice, datetime.date);
- ``None``: unknown: not answered yet, declined, or "don't know";
- ``ABSENT``: the question is not asked (its ``ask_if`` is false): every test on it is false;
- ``Interval(lo, hi)``: a number not yet decided, e.g. a score over unanswered indicators.

Boolean results are ``True``, ``False`` or ``None`` (unknown), combined with Kleene logic.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from typing import Any, Callable

from .check import Type
from .nodes import Arith, BoolOp, Call, Compare, ListLiteral, Literal, Name, Negate, Node, Not


class _Absent:
    """The value of a question that is not asked."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"

    def __reduce__(self) -> str:
        return "ABSENT"  # unpickles as this module's one ABSENT, so identity tests still hold


ABSENT: Any = _Absent()


class Interval:
    """A number known to lie in [lo, hi]."""

    __slots__ = ("lo", "hi")

    def __init__(self, lo: float, hi: float):
        self.lo = lo
        self.hi = hi

    def __repr__(self) -> str:
        return f"Interval({self.lo}, {self.hi})"


def make_number(lo: float, hi: float) -> Any:
    """A plain number when decided, else an Interval."""
    return lo if lo == hi else Interval(lo, hi)


class Env:
    """What a condition reads at evaluation time."""

    __slots__ = ("values", "declined", "scores", "criticals", "levels", "as_of")

    def __init__(self, values: dict[str, Any], declined: frozenset[str], as_of: dt.date):
        self.values = values
        self.declined = declined
        self.scores: dict[str, Any] = {}
        self.criticals: dict[str, Any] = {}
        self.levels: dict[str, Any] = {}
        self.as_of = as_of


Fn = Callable[[Env], Any]


def _bounds(value: Any) -> tuple[Any, Any]:
    if type(value) is Interval:
        return value.lo, value.hi
    return value, value


def _compare_ranges(op: str, a: Any, b: Any) -> bool | None:
    alo, ahi = _bounds(a)
    blo, bhi = _bounds(b)
    if op == "<":
        return True if ahi < blo else False if alo >= bhi else None
    if op == "<=":
        return True if ahi <= blo else False if alo > bhi else None
    if op == ">":
        return True if alo > bhi else False if ahi <= blo else None
    if op == ">=":
        return True if alo >= bhi else False if ahi < blo else None
    equal = True if alo == ahi == blo == bhi else False if ahi < blo or bhi < alo else None
    if op == "==":
        return equal
    return None if equal is None else not equal


_PLAIN = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def compile_condition(
    node: Node,
    types: dict[int, Type],
    level_index: dict[str, dict[str, int]],
    whole_questions: frozenset[str] = frozenset(),
    fractional_scores: frozenset[str] = frozenset(),
) -> Fn:
    """Compile a checked condition. ``level_index`` maps score id -> level id -> rank;
    ``whole_questions`` are the integer questions and ``fractional_scores`` the scores with an
    indicator worth a fraction of a point (whole-valuedness is decided from these, never from the
    ends of a range)."""
    return _Compiler(types, level_index, whole_questions, fractional_scores).compile(node)


def is_whole(node: Node, whole_questions: frozenset[str], fractional_scores: frozenset[str]) -> bool:
    """Whether every value the number ``node`` can take is a whole number, decided from types."""
    if isinstance(node, Literal):
        return isinstance(node.value, int) or (isinstance(node.value, float) and node.value.is_integer())
    if isinstance(node, Name):
        return node.id in whole_questions
    if isinstance(node, Negate):
        return is_whole(node.operand, whole_questions, fractional_scores)
    if isinstance(node, Arith):
        return node.op != "/" and is_whole(node.left, whole_questions, fractional_scores) and is_whole(node.right, whole_questions, fractional_scores)
    if isinstance(node, Call):
        if node.function == "score":
            return _question_key(node) not in fractional_scores
        return node.function in ("count", "critical", "days_since", "years_since")
    return False


class _Compiler:
    def __init__(self, types: dict[int, Type], level_index: dict[str, dict[str, int]], whole_questions: frozenset[str] = frozenset(), fractional_scores: frozenset[str] = frozenset()):
        self.types = types
        self.level_index = level_index
        self.whole_questions = whole_questions
        self.fractional_scores = fractional_scores

    def compile(self, node: Node) -> Fn:
        return _DISPATCH[type(node)](self, node)

    def type(self, node: Node) -> Type:
        return self.types[id(node)]

    def literal(self, node: Literal) -> Fn:
        value = node.value
        return lambda env: value

    def list_literal(self, node: ListLiteral) -> Fn:
        values = frozenset(item.value for item in node.items if isinstance(item, Literal))
        return lambda env: values

    def name(self, node: Name) -> Fn:
        key = node.id
        if self.type(node).kind == "bool":

            def boolean(env: Env) -> Any:
                value = env.values.get(key)
                return False if value is ABSENT else value

            return boolean
        return lambda env: env.values.get(key)

    def operand(self, node: Node) -> Fn:
        """A compared value: a question's own value (a yes/no question not asked stays ABSENT, so
        comparing it is false), unlike a yes/no question used as a condition on its own."""
        if isinstance(node, Name):
            key = node.id
            return lambda env: env.values.get(key)
        return self.compile(node)

    def not_(self, node: Not) -> Fn:
        inner = self.compile(node.operand)

        def negation(env: Env) -> Any:
            value = inner(env)
            return None if value is None else not value

        return negation

    def negate(self, node: Negate) -> Fn:
        inner = self.compile(node.operand)

        def minus(env: Env) -> Any:
            value = inner(env)
            if value is None or value is ABSENT:
                return value
            if type(value) is Interval:
                return Interval(-value.hi, -value.lo)
            return -value

        return minus

    def bool_op(self, node: BoolOp) -> Fn:
        parts = tuple(self.compile(operand) for operand in node.operands)
        if node.op == "and":

            def conjunction(env: Env) -> Any:
                unknown = False
                for part in parts:
                    value = part(env)
                    if value is False:
                        return False
                    if value is None:
                        unknown = True
                return None if unknown else True

            return conjunction

        def disjunction(env: Env) -> Any:
            unknown = False
            for part in parts:
                value = part(env)
                if value is True:
                    return True
                if value is None:
                    unknown = True
            return None if unknown else False

        return disjunction

    def arith(self, node: Arith) -> Fn:
        left = self.compile(node.left)
        right = self.compile(node.right)
        op = node.op

        def arithmetic(env: Env) -> Any:
            a = left(env)
            b = right(env)
            if a is ABSENT or b is ABSENT:
                return ABSENT
            if a is None or b is None:
                return None
            # in floats: a product of large whole numbers then becomes infinity instead of raising
            # OverflowError when it meets a fraction
            if type(a) is not Interval and type(b) is not Interval:
                a, b = float(a), float(b)
                return a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b
            alo, ahi = (float(x) for x in _bounds(a))
            blo, bhi = (float(x) for x in _bounds(b))
            if op == "+":
                return Interval(alo + blo, ahi + bhi)
            if op == "-":
                return Interval(alo - bhi, ahi - blo)
            corners = (
                [alo * blo, alo * bhi, ahi * blo, ahi * bhi]
                if op == "*"
                else [alo / blo, ahi / blo]  # the checker allows only a non-zero literal divisor
            )
            return Interval(min(corners), max(corners))

        return arithmetic

    def relation(self, node: Compare, left_type: Type, right_type: Type) -> Fn:
        op = node.op
        if left_type.kind == "level" or right_type.kind == "level":
            level_node, other = (node.left, node.right) if left_type.kind == "level" else (node.right, node.left)
            score = self.type(level_node).score or ""
            assert isinstance(other, Literal)
            rank = self.level_index[score][str(other.value)]
            level_fn = self.compile(level_node)
            if level_node is node.right:
                op = _MIRROR[op]

            plain_level = _PLAIN[op]

            def level_relation(env: Env) -> Any:
                value = level_fn(env)
                if value is ABSENT:
                    return False
                if type(value) is frozenset:  # the ranks still possible; -1: perhaps no level
                    return _agree(False if r < 0 else plain_level(r, rank) for r in value)
                return _compare_ranges(op, value, rank)

            return level_relation
        left = self.operand(node.left)
        right = self.operand(node.right)
        plain = _PLAIN[op]

        def relation(env: Env) -> Any:
            a = left(env)
            b = right(env)
            if a is ABSENT or b is ABSENT:
                return False
            if a is None or b is None:
                return None
            if type(a) is Interval or type(b) is Interval:
                return _compare_ranges(op, a, b)
            return plain(a, b)

        return relation

    def membership(self, node: Compare, left_type: Type, right_type: Type) -> Fn:
        if right_type.kind == "set":
            assert isinstance(node.left, Literal)
            wanted = node.left.value
            answer = self.compile(node.right)

            def contains(env: Env) -> Any:
                chosen = answer(env)
                if chosen is ABSENT:
                    return _ABSENT_MARK
                if chosen is None:
                    return None
                return wanted in chosen

            return _absent_false(contains)
        assert isinstance(node.right, ListLiteral)
        if left_type.kind == "level":
            return self.level_membership(node, left_type, negated=False)
        allowed = frozenset(item.value for item in node.right.items if isinstance(item, Literal))
        value_fn = self.operand(node.left)

        whole = is_whole(node.left, self.whole_questions, self.fractional_scores)
        integers = sorted({int(v) for v in allowed if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer()})

        def member(env: Env) -> Any:
            value = value_fn(env)
            if value is ABSENT:
                return _ABSENT_MARK
            if value is None:
                return None
            if type(value) is Interval:
                lo, hi = value.lo, value.hi
                if lo == hi:
                    return lo in allowed
                if whole:  # only whole values lie between the ends: count them, no enumeration
                    low, high = math.ceil(lo), math.floor(hi)
                    inside = sum(1 for v in integers if low <= v <= high)
                    return True if inside == high - low + 1 else False if inside == 0 else None
                # fractional values are possible: a finite list never covers the whole range
                return None if any(lo <= v <= hi for v in allowed) else False
            return value in allowed

        return _absent_false(member)

    def level_membership(self, node: Compare, left_type: Type, negated: bool) -> Fn:
        """``level(s) in [...]`` / ``not in``: each rank still possible decides on its own, and "no
        level" (rank -1, or the score's level ABSENT) makes both tests false."""
        assert isinstance(node.right, ListLiteral)
        score = left_type.score or ""
        ranks = frozenset(self.level_index[score][str(item.value)] for item in node.right.items if isinstance(item, Literal))
        level_fn = self.compile(node.left)

        def holds(rank: int) -> bool:
            return rank >= 0 and ((rank in ranks) != negated)

        def level_in(env: Env) -> Any:
            value = level_fn(env)
            if value is ABSENT:
                return False
            if type(value) is frozenset:
                return _agree(holds(r) for r in value)
            return holds(value)

        return level_in

    def call(self, node: Call) -> Fn:
        return _FUNCTIONS[node.function](self, node)


_MIRROR = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _agree(outcomes: Any) -> bool | None:
    """True if every outcome is true, False if none is, else unknown."""
    seen = set(outcomes)
    return None if len(seen) != 1 else seen.pop()


class _AbsentMark:
    """Returned by a membership test on a question that is not asked, so 'not in' is false too."""

    __slots__ = ()


_ABSENT_MARK: Any = _AbsentMark()


def _absent_false(fn: Fn) -> Fn:
    """Wrap a membership test: a question not asked makes both 'in' and 'not in' false."""

    def wrapped(env: Env) -> Any:
        value = fn(env)
        return False if value is _ABSENT_MARK else value

    wrapped.raw = fn  # type: ignore[attr-defined]
    return wrapped


def _fix_not_in(compiler: _Compiler, node: Compare) -> Fn:
    left_type = compiler.type(node.left)
    right_type = compiler.type(node.right)
    if left_type.kind == "level":  # not the negation of 'in': "no level" makes both false
        return compiler.level_membership(node, left_type, negated=True)
    inner = compiler.membership(node, left_type, right_type)
    raw = getattr(inner, "raw", inner)

    def not_in(env: Env) -> Any:
        value = raw(env)
        if value is _ABSENT_MARK:
            return False
        return None if value is None else not value

    return not_in


def _compare(compiler: _Compiler, node: Compare) -> Fn:
    if node.op == "not in":
        return _fix_not_in(compiler, node)
    left_type = compiler.type(node.left)
    right_type = compiler.type(node.right)
    if node.op == "in":
        return compiler.membership(node, left_type, right_type)
    return compiler.relation(node, left_type, right_type)


def _question_key(node: Call) -> str:
    arg = node.args[0]
    assert isinstance(arg, Name)
    return arg.id


def _answered(compiler: _Compiler, node: Call) -> Fn:
    key = _question_key(node)

    def answered(env: Env) -> bool:
        value = env.values.get(key)
        return value is not None and value is not ABSENT

    return answered


def _declined(compiler: _Compiler, node: Call) -> Fn:
    key = _question_key(node)
    return lambda env: key in env.declined and env.values.get(key) is not ABSENT


def _count(compiler: _Compiler, node: Call) -> Fn:
    if len(node.args) == 1 and compiler.type(node.args[0]).kind == "set":
        answer = compiler.compile(node.args[0])

        def count_values(env: Env) -> Any:
            chosen = answer(env)
            if chosen is ABSENT:
                return 0
            return None if chosen is None else len(chosen)

        return count_values
    parts = tuple(compiler.compile(arg) for arg in node.args)

    def count_true(env: Env) -> Any:
        true = unknown = 0
        for part in parts:
            value = part(env)
            if value is True:
                true += 1
            elif value is None:
                unknown += 1
        return make_number(true, true + unknown)

    return count_true


def _score(compiler: _Compiler, node: Call) -> Fn:
    key = _question_key(node)
    return lambda env: env.scores[key]


def _critical(compiler: _Compiler, node: Call) -> Fn:
    key = _question_key(node)
    return lambda env: env.criticals[key]


def _level(compiler: _Compiler, node: Call) -> Fn:
    key = _question_key(node)
    return lambda env: env.levels[key]


def _days_since(compiler: _Compiler, node: Call) -> Fn:
    key = _question_key(node)

    def days_since(env: Env) -> Any:
        value = env.values.get(key)
        if value is None or value is ABSENT:
            return value
        return (env.as_of - value).days

    return days_since


def age_in_years(born: dt.date, on: dt.date) -> int:
    """Whole years from ``born`` to ``on``.

    The anniversary is reached when the month and day are reached; someone born on 29 February
    therefore completes a year on 1 March in years without a 29 February.
    """
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _years_since(compiler: _Compiler, node: Call) -> Fn:
    key = _question_key(node)

    def years_since(env: Env) -> Any:
        value = env.values.get(key)
        if value is None or value is ABSENT:
            return value
        return age_in_years(value, env.as_of)

    return years_since


_FUNCTIONS: dict[str, Callable[[_Compiler, Call], Fn]] = {
    "answered": _answered,
    "declined": _declined,
    "count": _count,
    "score": _score,
    "critical": _critical,
    "level": _level,
    "days_since": _days_since,
    "years_since": _years_since,
}

_DISPATCH: dict[type, Callable[[_Compiler, Any], Fn]] = {
    Literal: _Compiler.literal,
    ListLiteral: _Compiler.list_literal,
    Name: _Compiler.name,
    Not: _Compiler.not_,
    Negate: _Compiler.negate,
    BoolOp: _Compiler.bool_op,
    Arith: _Compiler.arith,
    Compare: _compare,
    Call: _Compiler.call,
}
