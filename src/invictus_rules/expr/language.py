"""The condition language in one table: each operator and function is one entry.

An entry holds everything the stages need to know about its operator or function:

- ``check``: its type rule. The checker (:mod:`.check`) calls it with the node; it returns the node's
  :class:`~.types.Type` or reports a problem through the checker.
- ``compile``: its three-valued closure builder. The compiler (:mod:`.compile`) calls it with the
  node; it returns a closure over an :class:`~.values.Env` giving True, False or None (unknown) with
  Kleene logic, or a number, an :class:`~.values.Interval` or :data:`~.values.ABSENT`.
- ``emit``: its fast-path form. The fast path (``fastpath.py``) calls it with the node; it returns a
  Python ``ast`` expression in two-valued logic (built from nodes and constants, never from text).
- ``prose``: its phrase key in the tables of ``tools/prose.py`` (``prose_kinds``: the key by kind of
  value compared, e.g. ``<`` reads "before" for dates; a function's ``prose_forms``: its other
  readings, e.g. ``not answered(q)``).
- ``smt``: its z3 form (``tools/smt.py``), built from what the encoder offers (:class:`Solver`);
  None where the solver cannot decide it.
- for comparisons: ``mirror`` (``a < b`` is ``b > a``), ``negation`` (how ``not (a < b)`` reads: a
  reading, not an equivalence, since a question not asked makes both false), ``plain`` (the Python
  operator on two known values) and ``ranges`` (the three-valued answer on two ranges).

The type checker, the three-valued compiler, the fast path, prose, diff, analysis and the z3
translation (``tools/smt.py``) read this table; none keeps its own list of operators or functions.

Adding a function
-----------------
1. Write its type rule, closure builder and fast-path emitter in this module (most functions reuse a
   helper, e.g. ``_question_value``) and add one :class:`Function` row to :data:`FUNCTIONS`.
2. Add its phrase (the row's ``prose`` key) to every language in ``tools/prose.py`` ``PHRASES``.
3. Give it a z3 form (the row's ``smt``, built from what :class:`Solver` offers), or leave it None:
   the solver tools then answer "could not be decided" for conditions that use it.

``tests/test_language.py`` walks the table and fails on a missing part, on an operator the parser
can produce without an entry, and on a mirror or negation the two evaluation paths disagree with.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeGuard

from . import pyast
from .nodes import Arith, BoolOp, Call, Compare, ListLiteral, Literal, Name, Negate, Node, Not, walk
from .types import BOOL, NUMBER, CheckFailed, Type
from .values import ABSENT, Env, Fn, Interval, age_in_years, bounds, make_number

if TYPE_CHECKING:
    from .check import Checker
    from .compile import Compiler


class Emitter(Protocol):
    """What a fast-path emitter may ask of the generator (``fastpath.Generator``)."""

    level_ranks: dict[str, dict[str, int]]
    score_index: dict[str, int]
    gappy: set[str]

    def read(self, question: str) -> ast.expr: ...

    def constant(self, value: Any) -> ast.expr: ...

    def condition(self, node: Node) -> ast.expr: ...

    def value(self, node: Node) -> ast.expr: ...

    def guards(self, node: Node) -> list[ast.expr]: ...

    def is_choices(self, node: Node) -> TypeGuard[Name]: ...


class Solver(Protocol):
    """What a z3 form may ask of the encoder (``tools.smt.Encoder``). ``z3`` is the solver module,
    handed over by the encoder: this table never imports it, so the engine runs without the solver.
    A condition's form gives a ``Tri`` (``t``/``f``), a number's form a ``Val`` (a range)."""

    z3: Any
    ctx: Any

    def condition(self, node: Node) -> Any: ...

    def operand(self, node: Node) -> Any: ...

    def value(self, question_id: str) -> Any: ...

    def asked(self, question_id: str) -> Any: ...

    def in_state(self, question_id: str, state: str) -> Any: ...

    def score(self, score_id: str) -> Any: ...

    def years(self, question_id: str, day: Any) -> Any: ...

    def is_choices(self, node: Node) -> TypeGuard[Name]: ...

    def tri(self, t: Any, f: Any) -> Any: ...

    def number(self, absent: Any, unknown: Any, lo: Any, hi: Any, whole: bool) -> Any: ...

    def real(self, value: Fraction) -> Any: ...

    def string_equal(self, a: Any, b: Any) -> Any: ...

    def string_in(self, a: Any, values: list[Any]) -> Any: ...

    def number_in(self, a: Any, values: list[Any]) -> tuple[Any, Any]: ...

    def level_compare(self, call: Call, holds: Callable[[int, Mapping[str, int]], bool]) -> Any: ...

    def refuse(self, reason: str) -> NoReturn: ...


# -- the entries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operator:
    """One operator. ``name`` is its spelling (``neg`` is the unary minus, written ``-``)."""

    name: str
    node: type
    check: Callable[[Checker, Any], Type]
    compile: Callable[[Compiler, Any], Fn]
    emit: Callable[[Emitter, Any], ast.expr]
    prose: str
    prose_kinds: Mapping[str, str] = field(default_factory=dict)
    mirror: str | None = None
    negation: str | None = None
    plain: Callable[[Any, Any], Any] | None = None
    ranges: Callable[[Any, Any], bool | None] | None = None
    python: type[Any] | None = None
    """The ``ast`` operator class of the fast path's form (ast.Lt, ast.Add, ast.And...)."""
    smt: Callable[[Solver, Any], Any] | None = None
    """Its z3 form (``tools/smt.py``): a ``Tri`` for a condition, a ``Val`` for a number."""
    prose_forms: Mapping[str, str] = field(default_factory=dict)
    """Its other readings' phrase keys in ``tools/prose.py``, by form: ``list``, the heading of its
    operands set out as a list."""


@dataclass(frozen=True)
class Function:
    """One function. ``argument`` is what it takes (a question, a score, or yes/no conditions);
    ``result`` the kind it gives (bool, number or level)."""

    name: str
    check: Callable[[Checker, Call], Type]
    compile: Callable[[Compiler, Call], Fn]
    emit: Callable[[Emitter, Call], ast.expr]
    prose: str
    argument: str
    result: str
    example: str
    description: str
    whole: Callable[[Call, frozenset[str]], bool]
    """Whether every value it gives is whole, given the scores with fractional points."""
    reads_own_argument: bool
    """The fast path guards a question a value reads against ABSENT, except where the function
    reads its argument itself (``answered`` of a question not asked is false, ``count`` counts it 0)."""
    smt: Callable[[Solver, Call], Any] | None = None
    """Its z3 form (``tools/smt.py``): a ``Tri`` for a yes/no function, a ``Val`` for a number; None:
    not encodable, and the tools answer "could not be decided"."""
    prose_forms: Mapping[str, str] = field(default_factory=dict)
    """Its other readings' phrase keys in ``tools/prose.py``, by form: ``negated`` (how ``not f(q)``
    reads), ``choices`` (of a multiple-choice answer), ``quantified`` (compared with a number)."""


# -- three-valued helpers ------------------------------------------------------------------------


def _agree(outcomes: Iterable[bool]) -> bool | None:
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


def _argument_id(node: Call) -> str:
    arg = node.args[0]
    assert isinstance(arg, Name)
    return arg.id


def _lt(a: Any, b: Any) -> bool | None:
    alo, ahi = bounds(a)
    blo, bhi = bounds(b)
    return True if ahi < blo else False if alo >= bhi else None


def _le(a: Any, b: Any) -> bool | None:
    alo, ahi = bounds(a)
    blo, bhi = bounds(b)
    return True if ahi <= blo else False if alo > bhi else None


def _gt(a: Any, b: Any) -> bool | None:
    alo, ahi = bounds(a)
    blo, bhi = bounds(b)
    return True if alo > bhi else False if ahi <= blo else None


def _ge(a: Any, b: Any) -> bool | None:
    alo, ahi = bounds(a)
    blo, bhi = bounds(b)
    return True if alo >= bhi else False if ahi < blo else None


def _eq(a: Any, b: Any) -> bool | None:
    alo, ahi = bounds(a)
    blo, bhi = bounds(b)
    return True if alo == ahi == blo == bhi else False if ahi < blo or bhi < alo else None


def _ne(a: Any, b: Any) -> bool | None:
    equal = _eq(a, b)
    return None if equal is None else not equal


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
        return FUNCTIONS[node.function].whole(node, fractional_scores)
    return False


# -- not -------------------------------------------------------------------------------------------


def _check_not(checker: Checker, node: Not) -> Type:
    checker.expect(node.operand, "bool", "'not' applies to a yes/no condition")
    return BOOL


def _compile_not(compiler: Compiler, node: Not) -> Fn:
    inner = compiler.compile(node.operand)

    def negation(env: Env) -> Any:
        value = inner(env)
        return None if value is None else not value

    return negation


def _emit_not(gen: Emitter, node: Not) -> ast.expr:
    return ast.UnaryOp(ast.Not(), gen.condition(node.operand))


def _smt_not(enc: Solver, node: Not) -> Any:
    inner = enc.condition(node.operand)
    return enc.tri(inner.f, inner.t)


# -- and, or ---------------------------------------------------------------------------------------


def _check_bool_op(checker: Checker, node: BoolOp) -> Type:
    failed = False
    for operand in node.operands:
        try:
            checker.expect(operand, "bool", f"each side of '{node.op}' must be a yes/no condition")
        except CheckFailed:
            failed = True
    if failed:
        raise CheckFailed
    return BOOL


def _compile_and(compiler: Compiler, node: BoolOp) -> Fn:
    parts = tuple(compiler.compile(operand) for operand in node.operands)

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


def _compile_or(compiler: Compiler, node: BoolOp) -> Fn:
    parts = tuple(compiler.compile(operand) for operand in node.operands)

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


def _smt_and(enc: Solver, node: BoolOp) -> Any:
    z3 = enc.z3
    parts = [enc.condition(o) for o in node.operands]
    return enc.tri(z3.And([p.t for p in parts]), z3.Or([p.f for p in parts]))


def _smt_or(enc: Solver, node: BoolOp) -> Any:
    z3 = enc.z3
    parts = [enc.condition(o) for o in node.operands]
    return enc.tri(z3.Or([p.t for p in parts]), z3.And([p.f for p in parts]))


def _emit_bool_op(gen: Emitter, node: BoolOp) -> ast.expr:
    op = OPERATORS[node.op].python
    assert op is not None
    return ast.BoolOp(op(), [gen.condition(o) for o in node.operands])


# -- unary minus -----------------------------------------------------------------------------------


def _check_negate(checker: Checker, node: Negate) -> Type:
    checker.expect(node.operand, "number", "'-' applies to a number")
    return NUMBER


def _compile_negate(compiler: Compiler, node: Negate) -> Fn:
    inner = compiler.compile(node.operand)

    def minus(env: Env) -> Any:
        value = inner(env)
        if value is None or value is ABSENT:
            return value
        if type(value) is Interval:
            return Interval(-value.hi, -value.lo)
        return -value

    return minus


def _emit_negate(gen: Emitter, node: Negate) -> ast.expr:
    return ast.UnaryOp(ast.USub(), gen.value(node.operand))


def _smt_negate(enc: Solver, node: Negate) -> Any:
    inner = enc.operand(node.operand)
    return enc.number(inner.absent, inner.unknown, -inner.hi, -inner.lo, inner.whole)


# -- arithmetic --------------------------------------------------------------------------------------


def _check_arith(checker: Checker, node: Arith) -> Type:
    checker.expect(node.left, "number", f"'{node.op}' works on numbers")
    checker.expect(node.right, "number", f"'{node.op}' works on numbers")
    return NUMBER


def _check_division(checker: Checker, node: Arith) -> Type:
    _check_arith(checker, node)
    if not (isinstance(node.right, Literal) and node.right.value != 0):
        checker.fail(
            "division",
            "division is only allowed by a number written out, other than 0",
            "e.g. score(needs) / 2",
            node.right,
        )
    return NUMBER


def _compile_arith(compiler: Compiler, node: Arith) -> Fn:
    left = compiler.compile(node.left)
    right = compiler.compile(node.right)
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
        alo, ahi = (float(x) for x in bounds(a))
        blo, bhi = (float(x) for x in bounds(b))
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


def _emit_arith(gen: Emitter, node: Arith) -> ast.expr:  # in floats, as the closures do
    op = OPERATORS[node.op].python
    assert op is not None
    return ast.BinOp(pyast.call("float", gen.value(node.left)), op(), pyast.call("float", gen.value(node.right)))


def _smt_additive(bounds_of: Callable[[Any, Any], tuple[Any, Any]]) -> Callable[[Solver, Arith], Any]:
    """The z3 form of ``+`` or ``-``: interval arithmetic, ``bounds_of`` giving (lo, hi) of the two ranges."""

    def form(enc: Solver, node: Arith) -> Any:
        z3 = enc.z3
        a = enc.operand(node.left)
        b = enc.operand(node.right)
        absent = z3.Or(a.absent, b.absent)
        unknown = z3.And(z3.Not(absent), z3.Or(a.unknown, b.unknown))
        lo, hi = bounds_of(a, b)
        return enc.number(absent, unknown, lo, hi, a.whole and b.whole)

    return form


def _is_constant(node: Node) -> bool:
    return not any(isinstance(n, (Name, Call)) for n in walk(node))


def _constant_value(node: Node) -> Fraction:
    """The exact value of a constant number (``_is_constant``), by the operators' ``plain``."""
    if isinstance(node, Literal):
        assert isinstance(node.value, (int, float))
        return Fraction(node.value)
    if isinstance(node, Negate):
        return -_constant_value(node.operand)
    assert isinstance(node, Arith)
    plain = OPERATORS[node.op].plain
    assert plain is not None
    return plain(_constant_value(node.left), _constant_value(node.right))  # type: ignore[no-any-return]


def _smt_scale(divide: bool) -> Callable[[Solver, Arith], Any]:
    """The z3 form of ``*`` or ``/``: linear only, one side a constant (and, dividing, the divisor)."""

    def form(enc: Solver, node: Arith) -> Any:
        z3 = enc.z3
        enc.operand(node.left)
        constant_side = node.right if _is_constant(node.right) else node.left if _is_constant(node.left) else None
        if constant_side is None:
            enc.refuse("a product of two answers is non-linear")
        other = enc.operand(node.left if constant_side is node.right else node.right)
        if divide and constant_side is node.left:
            enc.refuse("division by an answer")
        factor = _constant_value(constant_side)
        if divide:
            factor = 1 / factor
        c = enc.real(factor)
        lo, hi = (other.lo * c, other.hi * c) if factor >= 0 else (other.hi * c, other.lo * c)
        whole = not divide and other.whole and factor.denominator == 1
        return enc.number(other.absent, z3.And(z3.Not(other.absent), other.unknown), lo, hi, whole)

    return form


# -- comparisons: type rules -------------------------------------------------------------------------


def _comparison(rule: Callable[[Checker, Compare, Type, Type], None]) -> Callable[[Checker, Compare], Type]:
    """The type rule of a comparison: free text is never compared, then the operator's own rule."""

    def check(checker: Checker, node: Compare) -> Type:
        left = checker.type_of(node.left)
        right = checker.type_of(node.right)
        if left.kind == "text" or right.kind == "text":
            checker.fail(
                "text-compared",
                "free-text answers cannot be compared",
                "use answered(question) to test whether it was answered",
                node.left if left.kind == "text" else node.right,
            )
        rule(checker, node, left, right)
        return BOOL

    return check


def _level_side(checker: Checker, node: Compare, left: Type, right: Type) -> bool:
    """If one side is a level, check the other is one of its level names; True when so handled."""
    if left.kind != "level" and right.kind != "level":
        return False
    level, other_node, other = (left, node.right, right) if left.kind == "level" else (right, node.left, left)
    checker.level_literal(level, other_node, other)
    return True


def _mismatch(checker: Checker, node: Compare, left: Type, right: Type) -> None:
    question = left.question or right.question
    about = f' (the question "{question}" is {(left if left.question else right).describe()})' if question else ""
    checker.fail(
        "type-mismatch",
        f"'{node.op}' compares {left.describe()} with {right.describe()}{about}",
        "compare values of the same kind",
        node,
    )


def _equality(checker: Checker, node: Compare, left: Type, right: Type) -> None:
    if _level_side(checker, node, left, right):
        return
    if left.kind == "string" and right.kind == "string":
        checker.choice_value(left, node.right)
        checker.choice_value(right, node.left)
        return
    if left.kind == "set" or right.kind == "set":
        checker.fail(
            "type-mismatch",
            "a multiple-choice answer cannot be compared with '==': it can hold several values",
            'test one value with "value" in question, or count(question)',
            node,
        )
    if left.kind != right.kind:
        _mismatch(checker, node, left, right)


def _ordering(checker: Checker, node: Compare, left: Type, right: Type) -> None:
    if _level_side(checker, node, left, right):
        return
    if left.kind != right.kind or left.kind not in ("number", "date"):
        if left.kind == right.kind:
            checker.fail(
                "type-mismatch",
                f"'{node.op}' compares numbers, dates or levels, but these are {left.describe()}",
                "use == or 'in' for choices",
                node,
            )
        _mismatch(checker, node, left, right)


def _membership(checker: Checker, node: Compare, left: Type, right: Type) -> None:
    if right.kind == "set":
        if left.kind != "string" or not isinstance(node.left, Literal):
            checker.fail(
                "type-mismatch",
                f"'{node.op}' with a multiple-choice answer needs a value written out on its left",
                '"children" in household',
                node.left,
            )
        checker.choice_value(right, node.left)
        return
    if right.kind != "list":
        checker.fail(
            "type-mismatch",
            f"'{node.op}' needs a list or a multiple-choice answer on its right, but this is {right.describe()}",
            'e.g. crime_type in ["domestic_violence", "stalking"]',
            node.right,
        )
    assert right.item is not None
    assert isinstance(node.right, ListLiteral)
    if left.kind == "level":
        for item in node.right.items:
            checker.level_literal(left, item, right.item)
        return
    if left.kind != right.item.kind or left.kind not in ("string", "number"):
        checker.fail(
            "type-mismatch",
            f"'{node.op}' looks for {left.describe()} in a list of {right.item.describe()} values",
            "compare values of the same kind",
            node,
        )
    if left.kind == "string":
        for item in node.right.items:
            checker.choice_value(left, item)


# -- comparisons: three-valued closures --------------------------------------------------------------


def _compile_relation(compiler: Compiler, node: Compare) -> Fn:
    """``==  !=  <  <=  >  >=``: on a level (compared by rank), on ranges, or on two known values."""
    entry = OPERATORS[node.op]
    left_type = compiler.type(node.left)
    right_type = compiler.type(node.right)
    if left_type.kind == "level" or right_type.kind == "level":
        level_node, other = (node.left, node.right) if left_type.kind == "level" else (node.right, node.left)
        score = compiler.type(level_node).score or ""
        assert isinstance(other, Literal)
        rank = compiler.level_index[score][str(other.value)]
        level_fn = compiler.compile(level_node)
        if level_node is node.right:
            assert entry.mirror is not None
            entry = OPERATORS[entry.mirror]
        plain_level = entry.plain
        level_ranges = entry.ranges
        assert plain_level is not None and level_ranges is not None

        def level_relation(env: Env) -> Any:
            value = level_fn(env)
            if value is ABSENT:
                return False
            if type(value) is frozenset:  # the ranks still possible; -1: perhaps no level
                return _agree(False if r < 0 else plain_level(r, rank) for r in value)
            return level_ranges(value, rank)

        return level_relation
    left = compiler.operand(node.left)
    right = compiler.operand(node.right)
    plain = entry.plain
    ranges = entry.ranges
    assert plain is not None and ranges is not None

    def relation(env: Env) -> Any:
        a = left(env)
        b = right(env)
        if a is ABSENT or b is ABSENT:
            return False
        if a is None or b is None:
            return None
        if type(a) is Interval or type(b) is Interval:
            return ranges(a, b)
        return plain(a, b)

    return relation


def _compile_in(compiler: Compiler, node: Compare) -> Fn:
    """``in``: a value written out in a multiple-choice answer, or a value in a list."""
    left_type = compiler.type(node.left)
    right_type = compiler.type(node.right)
    if right_type.kind == "set":
        assert isinstance(node.left, Literal)
        wanted = node.left.value
        answer = compiler.compile(node.right)

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
        return _level_membership(compiler, node, left_type, negated=False)
    allowed = frozenset(item.value for item in node.right.items if isinstance(item, Literal))
    value_fn = compiler.operand(node.left)

    whole = is_whole(node.left, compiler.whole_questions, compiler.fractional_scores)
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
            return None if any(lo <= v <= hi for v in allowed if isinstance(v, (int, float))) else False
        return value in allowed

    return _absent_false(member)


def _compile_not_in(compiler: Compiler, node: Compare) -> Fn:
    """``not in``: the negation of ``in``, except that a question not asked (or "no level") makes
    both false."""
    left_type = compiler.type(node.left)
    if left_type.kind == "level":  # not the negation of 'in': "no level" makes both false
        return _level_membership(compiler, node, left_type, negated=True)
    inner = _compile_in(compiler, node)
    raw = getattr(inner, "raw", inner)

    def not_in(env: Env) -> Any:
        value = raw(env)
        if value is _ABSENT_MARK:
            return False
        return None if value is None else not value

    return not_in


def _level_membership(compiler: Compiler, node: Compare, left_type: Type, negated: bool) -> Fn:
    """``level(s) in [...]`` / ``not in``: each rank still possible decides on its own, and "no
    level" (rank -1, or the score's level ABSENT) makes both tests false."""
    assert isinstance(node.right, ListLiteral)
    score = left_type.score or ""
    ranks = frozenset(compiler.level_index[score][str(item.value)] for item in node.right.items if isinstance(item, Literal))
    level_fn = compiler.compile(node.left)

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


# -- comparisons: fast path --------------------------------------------------------------------------


def _level_call(node: Compare) -> Call | None:
    return next((side for side in (node.left, node.right) if isinstance(side, Call) and side.function == "level"), None)


def _emit_level_compare(gen: Emitter, node: Compare, level_side: Call) -> ast.expr:
    """A level is compared by its rank, ``r<score>``: None when the score has no level."""
    score = _argument_id(level_side)
    ranks = gen.level_ranks[score]
    rank_var = pyast.name(f"r{gen.score_index[score]}")
    other = node.right if level_side is node.left else node.left
    entry = OPERATORS[node.op]
    rank: ast.expr
    if isinstance(other, ListLiteral):  # in, not in
        rank = gen.constant(frozenset(ranks[str(item.value)] for item in other.items if isinstance(item, Literal)))
    else:
        assert isinstance(other, Literal)
        rank = pyast.const(ranks[str(other.value)])
        if level_side is not node.left:
            assert entry.mirror is not None
            entry = OPERATORS[entry.mirror]
    assert entry.python is not None
    test = ast.Compare(rank_var, [entry.python()], [rank])
    if score in gen.gappy:
        return pyast.and_([pyast.compare(rank_var, ast.IsNot(), pyast.const(None)), test])
    return test


def _emit_relation(gen: Emitter, node: Compare) -> ast.expr:
    level_side = _level_call(node)
    if level_side is not None:
        return _emit_level_compare(gen, node, level_side)
    python = OPERATORS[node.op].python
    assert python is not None
    test = ast.Compare(gen.value(node.left), [python()], [gen.value(node.right)])
    guard = gen.guards(node.left) + gen.guards(node.right)
    return pyast.and_(guard + [test])


def _emit_membership(gen: Emitter, node: Compare) -> ast.expr:
    level_side = _level_call(node)
    if level_side is not None:
        return _emit_level_compare(gen, node, level_side)
    op = node.op
    if gen.is_choices(node.right):
        test: ast.expr = pyast.compare(gen.value(node.left), ast.In(), gen.read(node.right.id))
        test = ast.UnaryOp(ast.Not(), test) if op == "not in" else test
        return pyast.and_(gen.guards(node.right) + [test])
    assert isinstance(node.right, ListLiteral)
    values = frozenset(item.value for item in node.right.items if isinstance(item, Literal))
    python = OPERATORS[op].python
    assert python is not None
    test = ast.Compare(gen.value(node.left), [python()], [gen.constant(values)])
    guard = gen.guards(node.left)
    # a hidden question is simply not in the list; 'not in' and computed values need the guard
    needs_guard = bool(guard) and (op == "not in" or not isinstance(node.left, Name))
    return pyast.and_(guard + [test]) if needs_guard else test


# -- comparisons: z3 forms ---------------------------------------------------------------------------


def _smt_relation(
    ranges: Callable[[Any, Any, Any], tuple[Any, Any]], choices: Callable[[Any, Any], Any] | None
) -> Callable[[Solver, Compare], Any]:
    """The z3 form of a relation: ``ranges(z3, a, b)`` gives (true, false) on two number ranges, as
    the entry's ``ranges`` decides them; ``choices(z3, equal)`` its test on two choices (None: the
    relation orders, and choices and yes/no values have no order)."""

    def form(enc: Solver, node: Compare) -> Any:
        z3 = enc.z3
        level_side = _level_call(node)
        if level_side is not None:
            other = node.right if level_side is node.left else node.left
            assert isinstance(other, Literal)
            op = node.op if level_side is node.left else OPERATORS[node.op].mirror or node.op
            by_rank = OPERATORS[op].plain
            assert by_rank is not None
            target = str(other.value)
            return enc.level_compare(level_side, lambda rank, ranks: bool(by_rank(rank, ranks[target])))
        a = enc.operand(node.left)
        b = enc.operand(node.right)
        absent = z3.Or(a.absent, b.absent)
        unknown = z3.And(z3.Not(absent), z3.Or(a.unknown, b.unknown))
        known = z3.And(z3.Not(absent), z3.Not(unknown))
        if a.kind == "number":
            t, f = ranges(z3, a, b)
        else:
            if a.kind == "string":
                if choices is None:
                    enc.refuse("ordering of choices")
                holds = choices(z3, enc.string_equal(a, b))
            else:
                if a.kind == "bool" and choices is None:
                    enc.refuse("ordering of yes/no values")
                plain = OPERATORS[node.op].plain
                assert plain is not None
                holds = plain(a.payload, b.payload)
            t, f = holds, z3.Not(holds)
        return enc.tri(z3.And(known, t), z3.Or(absent, z3.And(known, f)))

    return form


def _z3_equal(z3: Any, a: Any, b: Any) -> tuple[Any, Any]:
    return z3.And(a.lo == a.hi, b.lo == b.hi, a.lo == b.lo), z3.Or(a.hi < b.lo, b.hi < a.lo)


def _z3_not_equal(z3: Any, a: Any, b: Any) -> tuple[Any, Any]:
    t, f = _z3_equal(z3, a, b)
    return f, t


def _smt_membership(negated: bool) -> Callable[[Solver, Compare], Any]:
    """The z3 form of ``in`` (``not in`` when ``negated``): a value in a list, or an option chosen."""

    def form(enc: Solver, node: Compare) -> Any:
        z3 = enc.z3
        level_side = _level_call(node)
        if level_side is not None:
            assert isinstance(node.right, ListLiteral)
            wanted = {str(item.value) for item in node.right.items if isinstance(item, Literal)}
            return enc.level_compare(level_side, lambda rank, ranks: (rank in {ranks[name] for name in wanted}) != negated)
        if isinstance(node.right, ListLiteral):
            a = enc.operand(node.left)
            values = [item.value for item in node.right.items if isinstance(item, Literal)]
            if a.kind == "string":
                core = enc.string_in(a, values)
                t_core, f_core = core, z3.Not(core)
            elif a.kind == "number":
                t_core, f_core = enc.number_in(a, values)
            else:
                enc.refuse(f"'in' on {a.kind}")
        else:
            assert isinstance(node.left, Literal)
            a = enc.operand(node.right)
            member = a.payload.get(node.left.value)
            core = member if member is not None else z3.BoolVal(False, enc.ctx)
            t_core, f_core = core, z3.Not(core)
        known = z3.And(z3.Not(a.absent), z3.Not(a.unknown))
        if negated:
            t_core, f_core = f_core, t_core
        return enc.tri(z3.And(known, t_core), z3.Or(a.absent, z3.And(known, f_core)))

    return form


# -- functions ---------------------------------------------------------------------------------------


def _check_answered(checker: Checker, node: Call) -> Type:
    checker.question_arg(node)
    return BOOL


def _compile_answered(compiler: Compiler, node: Call) -> Fn:
    key = _argument_id(node)

    def answered(env: Env) -> bool:
        value = env.values.get(key)
        return value is not None and value is not ABSENT

    return answered


def _emit_answered(gen: Emitter, node: Call) -> ast.expr:
    key = pyast.const(_argument_id(node))
    return pyast.and_(
        [
            pyast.compare(pyast.method(pyast.name("v"), "get", key), ast.IsNot(), pyast.const(None)),
            pyast.compare(pyast.method(pyast.name("v"), "get", key), ast.IsNot(), pyast.name("ABSENT")),
        ]
    )


def _compile_declined(compiler: Compiler, node: Call) -> Fn:
    key = _argument_id(node)
    return lambda env: key in env.declined and env.values.get(key) is not ABSENT


def _emit_declined(gen: Emitter, node: Call) -> ast.expr:  # and asked: a question not asked has no answer, declined or not
    key = _argument_id(node)
    return pyast.and_(
        [
            pyast.compare(pyast.const(key), ast.In(), pyast.name("declined")),
            pyast.compare(pyast.method(pyast.name("v"), "get", pyast.const(key)), ast.IsNot(), pyast.name("ABSENT")),
        ]
    )


def _check_count(checker: Checker, node: Call) -> Type:
    if not node.args:
        checker.fail("wrong-arguments", "count() needs at least one argument", "e.g. count(strangulation, threats_to_kill, weapon)", node)
    if len(node.args) == 1:
        arg_type = checker.type_of(node.args[0])
        if arg_type.kind == "set":
            return NUMBER
        if arg_type.kind != "bool":
            checker.fail("type-mismatch", f"count() counts yes/no conditions or the values of a multiple-choice answer, but this is {arg_type.describe()}", "e.g. count(household)", node.args[0])
        return NUMBER
    for arg in node.args:
        checker.expect(arg, "bool", "count() counts yes/no conditions")
    return NUMBER


def _compile_count(compiler: Compiler, node: Call) -> Fn:
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


def _count_choices(value: Any) -> int:
    return 0 if value is ABSENT else len(value)


def _emit_count(gen: Emitter, node: Call) -> ast.expr:
    if len(node.args) == 1 and gen.is_choices(node.args[0]):
        return pyast.call("_count_choices", gen.read(node.args[0].id))
    return pyast.sum_of([pyast.call("int", gen.condition(arg)) for arg in node.args])


def _check_score(checker: Checker, node: Call) -> Type:
    checker.score_arg(node, own_allowed=True)
    return NUMBER


def _compile_score(compiler: Compiler, node: Call) -> Fn:
    key = _argument_id(node)
    return lambda env: env.scores[key]


def _emit_score(gen: Emitter, node: Call) -> ast.expr:
    return pyast.name(f"p{gen.score_index[_argument_id(node)]}")


def _compile_critical(compiler: Compiler, node: Call) -> Fn:
    key = _argument_id(node)
    return lambda env: env.criticals[key]


def _emit_critical(gen: Emitter, node: Call) -> ast.expr:
    return pyast.name(f"c{gen.score_index[_argument_id(node)]}")


def _check_level(checker: Checker, node: Call) -> Type:
    score = checker.score_arg(node, own_allowed=False)
    return Type("level", score=score)


def _compile_level(compiler: Compiler, node: Call) -> Fn:
    key = _argument_id(node)
    return lambda env: env.levels[key]


def _emit_level(gen: Emitter, node: Call) -> ast.expr:
    raise TypeError("no fast form for level() on its own: it is emitted by the comparison that holds it")


def _check_date_function(checker: Checker, node: Call) -> Type:
    checker.question_arg(node, ("date",))
    return NUMBER


def _compile_days_since(compiler: Compiler, node: Call) -> Fn:
    key = _argument_id(node)

    def days_since(env: Env) -> Any:
        value = env.values.get(key)
        if value is None or value is ABSENT:
            return value
        return (env.as_of - value).days

    return days_since


def _emit_days_since(gen: Emitter, node: Call) -> ast.expr:
    return ast.Attribute(ast.BinOp(pyast.name("as_of"), ast.Sub(), gen.read(_argument_id(node))), "days", ast.Load())


def _compile_years_since(compiler: Compiler, node: Call) -> Fn:
    key = _argument_id(node)

    def years_since(env: Env) -> Any:
        value = env.values.get(key)
        if value is None or value is ABSENT:
            return value
        return age_in_years(value, env.as_of)

    return years_since


def _emit_years_since(gen: Emitter, node: Call) -> ast.expr:
    return pyast.call("age_in_years", gen.read(_argument_id(node)), pyast.name("as_of"))


def _always_whole(node: Call, fractional_scores: frozenset[str]) -> bool:
    return True


def _never_whole(node: Call, fractional_scores: frozenset[str]) -> bool:
    return False


def _whole_points(node: Call, fractional_scores: frozenset[str]) -> bool:
    return _argument_id(node) not in fractional_scores


# -- functions: z3 forms ------------------------------------------------------------------------------


def _smt_state(state: str) -> Callable[[Solver, Call], Any]:
    """The z3 form of a function testing a question's state: asked, and in that state."""

    def form(enc: Solver, node: Call) -> Any:
        z3 = enc.z3
        question = _argument_id(node)
        holds = z3.And(z3.Not(enc.asked(question).f), enc.in_state(question, state))
        return enc.tri(holds, z3.Not(holds))

    return form


def _smt_count(enc: Solver, node: Call) -> Any:
    z3, ctx = enc.z3, enc.ctx
    no = z3.BoolVal(False, ctx)
    if len(node.args) == 1 and enc.is_choices(node.args[0]):
        chosen = enc.value(node.args[0].id)
        size = z3.ToReal(z3.Sum([z3.If(v, 1, 0) for v in chosen.payload.values()])) if chosen.payload else z3.RealVal(0, ctx)
        counted = z3.If(chosen.absent, z3.RealVal(0, ctx), size)
        return enc.number(no, chosen.unknown, counted, counted, True)
    parts = [enc.condition(arg) for arg in node.args]
    low = z3.ToReal(z3.Sum([z3.If(p.t, 1, 0) for p in parts]))
    high = low + z3.ToReal(z3.Sum([z3.If(p.unknown, 1, 0) for p in parts]))
    return enc.number(no, no, low, high, True)


def _smt_score(enc: Solver, node: Call) -> Any:
    return enc.score(_argument_id(node))[0]


def _smt_critical(enc: Solver, node: Call) -> Any:
    return enc.score(_argument_id(node))[1]


def _smt_days_since(enc: Solver, node: Call) -> Any:
    date = enc.value(_argument_id(node))  # a date is its day number counted from the as-of date
    days = enc.z3.ToReal(-date.payload)
    return enc.number(date.absent, date.unknown, days, days, True)


def _smt_years_since(enc: Solver, node: Call) -> Any:
    key = _argument_id(node)
    date = enc.value(key)
    years = enc.z3.ToReal(enc.years(key, date.payload))
    return enc.number(date.absent, date.unknown, years, years, True)


# -- the table -----------------------------------------------------------------------------------------

def _relation(name: str, mirror: str, negation: str, plain: Callable[[Any, Any], Any], ranges: Callable[[Any, Any], bool | None], python: type[Any], check: Callable[[Checker, Compare], Type], prose: str, prose_kinds: Mapping[str, str], smt: Callable[[Solver, Any], Any]) -> Operator:
    return Operator(name, Compare, check, _compile_relation, _emit_relation, prose, prose_kinds, mirror, negation, plain, ranges, python, smt)


_EQUALITY = _comparison(_equality)
_ORDERING = _comparison(_ordering)
_MEMBERSHIP = _comparison(_membership)

OPERATORS: dict[str, Operator] = {
    entry.name: entry
    for entry in (
        Operator("and", BoolOp, _check_bool_op, _compile_and, _emit_bool_op, "and", python=ast.And, smt=_smt_and, prose_forms={"list": "all_of"}),
        Operator("or", BoolOp, _check_bool_op, _compile_or, _emit_bool_op, "or", python=ast.Or, smt=_smt_or, prose_forms={"list": "any_of"}),
        Operator("not", Not, _check_not, _compile_not, _emit_not, "not", python=ast.Not, smt=_smt_not),
        Operator("neg", Negate, _check_negate, _compile_negate, _emit_negate, "negative", python=ast.USub, smt=_smt_negate),
        _relation("==", "==", "!=", operator.eq, _eq, ast.Eq, _EQUALITY, "is", {"number": "exactly"}, _smt_relation(_z3_equal, lambda z3, equal: equal)),
        _relation("!=", "!=", "==", operator.ne, _ne, ast.NotEq, _EQUALITY, "is_not", {}, _smt_relation(_z3_not_equal, lambda z3, equal: z3.Not(equal))),
        _relation("<", ">", ">=", operator.lt, _lt, ast.Lt, _ORDERING, "is", {"number": "<", "date": "before", "level": "lower"}, _smt_relation(lambda z3, a, b: (a.hi < b.lo, a.lo >= b.hi), None)),
        _relation("<=", ">=", ">", operator.le, _le, ast.LtE, _ORDERING, "is", {"number": "<=", "date": "on_or_before", "level": "or_lower"}, _smt_relation(lambda z3, a, b: (a.hi <= b.lo, a.lo > b.hi), None)),
        _relation(">", "<", "<=", operator.gt, _gt, ast.Gt, _ORDERING, "is", {"number": ">", "date": "after", "level": "higher"}, _smt_relation(lambda z3, a, b: (a.lo > b.hi, a.hi <= b.lo), None)),
        _relation(">=", "<=", "<", operator.ge, _ge, ast.GtE, _ORDERING, "is", {"number": ">=", "date": "on_or_after", "level": "or_higher"}, _smt_relation(lambda z3, a, b: (a.lo >= b.hi, a.hi < b.lo), None)),
        Operator("in", Compare, _MEMBERSHIP, _compile_in, _emit_membership, "is", {"set": "includes", "list": "one_of"}, negation="not in", python=ast.In, smt=_smt_membership(negated=False)),
        Operator("not in", Compare, _MEMBERSHIP, _compile_not_in, _emit_membership, "is_not", {"set": "excludes", "list": "one_of"}, negation="in", python=ast.NotIn, smt=_smt_membership(negated=True)),
        Operator("+", Arith, _check_arith, _compile_arith, _emit_arith, "+", plain=operator.add, python=ast.Add, smt=_smt_additive(lambda a, b: (a.lo + b.lo, a.hi + b.hi))),
        Operator("-", Arith, _check_arith, _compile_arith, _emit_arith, "-", plain=operator.sub, python=ast.Sub, smt=_smt_additive(lambda a, b: (a.lo - b.hi, a.hi - b.lo))),
        Operator("*", Arith, _check_arith, _compile_arith, _emit_arith, "*", plain=operator.mul, python=ast.Mult, smt=_smt_scale(divide=False)),
        Operator("/", Arith, _check_division, _compile_arith, _emit_arith, "/", plain=operator.truediv, python=ast.Div, smt=_smt_scale(divide=True)),
    )
}
"""Every operator, by spelling (``neg``: the unary minus), in the order of the JSON condition tree."""

FUNCTIONS: dict[str, Function] = {
    entry.name: entry
    for entry in (
        Function(
            "answered", _check_answered, _compile_answered, _emit_answered, "answered", "question", "bool",
            "answered(safe_contact_phone)", "true when the question has an answer (not declined, not 'don't know', not hidden)",
            _never_whole, reads_own_argument=True, smt=_smt_state("answered"), prose_forms={"negated": "not_answered"},
        ),
        Function(
            "declined", _check_answered, _compile_declined, _emit_declined, "declined", "question", "bool",
            "declined(dependants)", "true when the victim declined to answer the question",
            _never_whole, reads_own_argument=True, smt=_smt_state("declined"),
        ),
        Function(
            "count", _check_count, _compile_count, _emit_count, "count_conditions", "conditions", "number",
            "count(strangulation, threat_to_kill, weapon)", "how many of the yes/no conditions are true, or how many values a multiple-choice answer holds",
            _always_whole, reads_own_argument=True, smt=_smt_count, prose_forms={"choices": "count_options", "quantified": "count_true"},
        ),
        Function(
            "score", _check_score, _compile_score, _emit_score, "score", "score", "number",
            "score(dv_risk) >= 14", "the points of a score",
            _whole_points, reads_own_argument=True, smt=_smt_score,
        ),
        Function(
            "critical", _check_score, _compile_critical, _emit_critical, "critical", "score", "number",
            "critical(dv_risk) >= 1", "how many critical indicators of a score are present",
            _always_whole, reads_own_argument=True, smt=_smt_critical,
        ),
        Function(
            "level", _check_level, _compile_level, _emit_level, "level", "score", "level",
            'level(dv_risk) == "high"', "the level of a score",
            _never_whole, reads_own_argument=True,
        ),
        Function(
            "days_since", _check_date_function, _compile_days_since, _emit_days_since, "days_since", "question", "number",
            "days_since(crime_date) <= 7", "whole days from a date answer to the assessment date",
            _always_whole, reads_own_argument=False, smt=_smt_days_since,
        ),
        Function(
            "years_since", _check_date_function, _compile_years_since, _emit_years_since, "years_since", "question", "number",
            "years_since(date_of_birth) < 18", "whole years from a date answer to the assessment date (an age)",
            _always_whole, reads_own_argument=False, smt=_smt_years_since,
        ),
    )
}
"""Every function of the condition language, by name."""

RUNTIME: dict[str, Any] = {"ABSENT": ABSENT, "age_in_years": age_in_years, "_count_choices": _count_choices}
"""The names the emitted fast-path code uses besides its own variables (bound in its namespace)."""

COMPARISONS = tuple(name for name, entry in OPERATORS.items() if entry.node is Compare)
"""The comparison operators, as the parser reads them."""


def operator_of(node: Node) -> Operator:
    """The entry of an operator node (Not, Negate, BoolOp, Compare, Arith)."""
    if isinstance(node, Not):
        return OPERATORS["not"]
    if isinstance(node, Negate):
        return OPERATORS["neg"]
    if isinstance(node, (BoolOp, Compare, Arith)):
        return OPERATORS[node.op]
    raise TypeError(f"not an operator node: {type(node).__name__}")


def mirror(op: str) -> str | None:
    """The operator that gives the same result with its sides swapped (``<`` -> ``>``), if any."""
    entry = OPERATORS.get(op)
    return entry.mirror if entry is not None else None


def negation(op: str) -> str | None:
    """The operator ``not (a OP b)`` reads as (``<`` -> ``>=``), if any."""
    entry = OPERATORS.get(op)
    return entry.negation if entry is not None else None


__all__ = ["COMPARISONS", "FUNCTIONS", "OPERATORS", "RUNTIME", "Emitter", "Function", "Solver", "Operator", "is_whole", "mirror", "negation", "operator_of"]
