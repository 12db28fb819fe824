"""The table of the condition language: every entry complete, every operator and function covered,
and the mirrors and negations it states hold on the three-valued path and on the fast path."""

from __future__ import annotations

import ast
import datetime as dt
import re
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invictus_rules.expr import parser as parser_module
from invictus_rules.expr.check import Catalogue, QuestionInfo, check
from invictus_rules.expr.compile import compile_condition
from invictus_rules.expr.language import COMPARISONS, FUNCTIONS, OPERATORS, RUNTIME, Function, Operator, mirror, negation, operator_of
from invictus_rules.expr.nodes import Call, walk
from invictus_rules.expr.parser import parse
from invictus_rules.expr.values import ABSENT, Env, Interval
from invictus_rules.fastpath import Generator
from invictus_rules.schemas import condition_tree_schema
from invictus_rules.tools import smt
from invictus_rules.tools.prose import FUNCTION_PHRASES, PHRASES

AS_OF = dt.date(2026, 3, 1)
CATALOGUE = Catalogue(
    questions={
        "x": QuestionInfo("x", "integer"),
        "y": QuestionInfo("y", "integer"),
        "a": QuestionInfo("a", "boolean"),
        "b": QuestionInfo("b", "boolean"),
        "kind": QuestionInfo("kind", "single_choice", ("one", "two")),
        "household": QuestionInfo("household", "multiple_choice", ("children", "partner")),
        "safe_contact_phone": QuestionInfo("safe_contact_phone", "text"),
        "dependants": QuestionInfo("dependants", "boolean"),
        "strangulation": QuestionInfo("strangulation", "boolean"),
        "threat_to_kill": QuestionInfo("threat_to_kill", "boolean"),
        "weapon": QuestionInfo("weapon", "boolean"),
        "crime_date": QuestionInfo("crime_date", "date"),
        "date_of_birth": QuestionInfo("date_of_birth", "date"),
    },
    scores={"dv_risk": ("low", "medium", "high"), "s": ("low", "medium", "high"), "t": ("low", "high")},
    visible_scores=frozenset({"dv_risk", "s", "t"}),
)
LEVELS = {"dv_risk": {"low": 0, "medium": 1, "high": 2}, "s": {"low": 0, "medium": 1, "high": 2}, "t": {"low": 0, "high": 1}}

# One condition per operator, as policy staff would write it.
EXAMPLES = {
    "and": "a and b",
    "or": "a or b",
    "not": "not a",
    "neg": "-x < 3",
    "==": "x == 3",
    "!=": "x != 3",
    "<": "x < 3",
    "<=": "x <= 3",
    ">": "x > 3",
    ">=": "x >= 3",
    "in": "x in [1, 2]",
    "not in": 'kind not in ["one"]',
    "+": "x + 1 > 3",
    "-": "x - 1 > 3",
    "*": "x * 2 > 3",
    "/": "x / 2 > 3",
}
RELATIONS = [name for name in COMPARISONS if mirror(name) is not None]


def _checked(text: str, *, expect_bool: bool = True) -> Any:
    checked = check(parse(text), CATALOGUE, expect_bool=expect_bool)
    assert not checked.problems, (text, checked.problems)
    return checked


# -- the table is complete --------------------------------------------------------------------------


@pytest.mark.parametrize("entry", list(OPERATORS.values()), ids=list(OPERATORS))
def test_every_operator_entry_is_complete(entry: Operator) -> None:
    """Each operator has a type rule, a closure builder, a fast-path emitter and words in every language."""
    assert callable(entry.check) and callable(entry.compile) and callable(entry.emit)
    assert entry.python is not None and isinstance(entry.python(), ast.AST)
    for language, words in PHRASES.items():
        assert entry.prose in words, (language, entry.prose)
        for key in entry.prose_kinds.values():
            assert key in words, (language, key)
    if entry.mirror is not None:
        assert entry.plain is not None and entry.ranges is not None and entry.negation is not None
        assert OPERATORS[entry.mirror].mirror == entry.name
    if entry.negation is not None:
        assert OPERATORS[entry.negation].negation == entry.name


@pytest.mark.parametrize("entry", list(FUNCTIONS.values()), ids=list(FUNCTIONS))
def test_every_function_entry_is_complete(entry: Function) -> None:
    """Each function has its rules, an example that type-checks, a reading in every language and, if yes/no, a solver form."""
    assert callable(entry.check) and callable(entry.compile) and callable(entry.emit) and callable(entry.whole)
    assert entry.argument in ("question", "score", "conditions") and entry.result in ("bool", "number", "level")
    assert entry.description
    checked = _checked(entry.example, expect_bool=False)
    assert entry.name in {node.function for node in walk(checked.node) if isinstance(node, Call)}
    for language, words in PHRASES.items():
        assert entry.prose in words, (language, entry.prose)
    assert entry.name in FUNCTION_PHRASES
    if entry.result == "bool":
        assert entry.name in smt._STATE_OF


def test_every_operator_the_parser_reads_has_an_entry() -> None:
    """The grammar's operators (and the parser's comparison tokens) are exactly the table's operators."""
    grammar = parser_module.__doc__ or ""
    quoted = set(re.findall(r'"([^"]+)"', grammar[grammar.index("condition  :=") :]))
    punctuation = {"(", ")", "[", "]", ",", "true", "false"}
    read = (quoted - punctuation) | {"not in", "neg"}  # "not" "in" is one operator; unary "-" is neg
    assert read == set(OPERATORS)
    for name, text in EXAMPLES.items():
        found = {operator_of(node).name for node in walk(parse(text)) if not isinstance(node, Call) and type(node).__name__ in ("Not", "Negate", "BoolOp", "Compare", "Arith")}
        assert name in found, (name, text, found)
    assert set(EXAMPLES) == set(OPERATORS)


def test_every_example_type_checks_and_compiles() -> None:
    """An example of each operator goes through the checker, the closures and the fast path."""
    for text in EXAMPLES.values():
        checked = _checked(text)
        compile_condition(checked.node, checked.types, LEVELS)
        _emit(text)


def test_the_checker_knows_exactly_the_table() -> None:
    """An unknown function is refused with the table's function names as the hint."""
    checked = check(parse("foo(x)"), CATALOGUE)
    assert [p.code for p in checked.problems] == ["unknown-function"]
    assert checked.problems[0].hint == "the functions are " + ", ".join(sorted(FUNCTIONS))


def test_the_condition_tree_schema_lists_the_table() -> None:
    """The JSON Schema of condition trees names every operator and function of the table."""
    branches = condition_tree_schema()["oneOf"]
    calls = next(b for b in branches if "call" in b["properties"])["properties"]["call"]["enum"]
    ops = next(b for b in branches if "op" in b["properties"])["properties"]["op"]["enum"]
    assert calls == list(FUNCTIONS) and ops == list(OPERATORS)


# -- mirrors and negations hold on both paths ----------------------------------------------------------

NUMBERS = st.integers(-3, 3)
RANGES = st.tuples(NUMBERS, NUMBERS).map(lambda pair: Interval(min(pair), max(pair)))
THREE_VALUED = st.one_of(NUMBERS, RANGES, st.none(), st.just(ABSENT))


def _three_valued(text: str, values: dict[str, Any], scores: dict[str, Any] | None = None, levels: dict[str, Any] | None = None) -> Any:
    checked = _checked(text)
    fn = compile_condition(checked.node, checked.types, LEVELS)
    env = Env(values, frozenset(), AS_OF)
    env.scores.update(scores or {})
    env.levels.update(levels or {})
    return fn(env)


def _generator() -> Generator:
    questions = [SimpleNamespace(spec=SimpleNamespace(id=qid, type=info.type), ask_if=object() if qid in ("x", "y") else None) for qid, info in CATALOGUE.questions.items()]
    scores = [
        SimpleNamespace(spec=SimpleNamespace(id=sid), level_ids=levels, levels=[(level, object() if sid == "t" else None) for level in levels])
        for sid, levels in CATALOGUE.scores.items()
    ]
    return Generator(questions, scores)


def _emit(text: str) -> tuple[Any, Generator]:
    gen = _generator()
    expression = ast.fix_missing_locations(ast.Expression(gen.condition(_checked(text).node)))
    return compile(expression, "<test>", "eval"), gen


def _fast(text: str, values: dict[str, Any], points: dict[str, Any] | None = None, ranks: dict[str, Any] | None = None) -> Any:
    code, gen = _emit(text)
    namespace: dict[str, Any] = {"__builtins__": {"int": int, "float": float, "sum": sum}, **RUNTIME, **gen.constants, "v": values, "declined": frozenset(), "as_of": AS_OF}
    for score_id, index in gen.score_index.items():
        namespace[f"p{index}"] = (points or {}).get(score_id, 0)
        namespace[f"c{index}"] = 0
        namespace[f"r{index}"] = (ranks or {}).get(score_id, 0)
    return eval(code, namespace)  # a condition emitted from our own checked tree, as fastpath.py runs it


@pytest.mark.parametrize("op", RELATIONS)
@given(x=THREE_VALUED.filter(lambda v: type(v) is not Interval), s=THREE_VALUED.filter(lambda v: v is not ABSENT), t=st.one_of(NUMBERS, RANGES, st.none()))
def test_mirror_holds_on_the_three_valued_path(op: str, x: Any, s: Any, t: Any) -> None:
    """``a OP b`` and ``b MIRROR a`` agree on every value, unknown, range and question not asked."""
    swapped = mirror(op)
    values = {"x": x}
    scores = {"s": s, "t": t}
    for left, right in (("x", "score(s)"), ("score(s)", "score(t)"), ("x", "2"), ("score(s)", "2")):
        assert _three_valued(f"{left} {op} {right}", values, scores) == _three_valued(f"{right} {swapped} {left}", values, scores)


@pytest.mark.parametrize("op", RELATIONS)
@given(x=THREE_VALUED.filter(lambda v: type(v) is not Interval), s=st.one_of(NUMBERS, RANGES, st.none()))
def test_negation_holds_on_the_three_valued_path_except_for_a_question_not_asked(op: str, x: Any, s: Any) -> None:
    """``not (a OP b)`` is ``a NEGATION b`` on values, unknowns and ranges; a question not asked makes both false."""
    opposite = negation(op)
    for left, right in (("x", "score(s)"), ("score(s)", "2")):
        negated = _three_valued(f"not ({left} {op} {right})", {"x": x}, {"s": s})
        direct = _three_valued(f"{left} {opposite} {right}", {"x": x}, {"s": s})
        if x is ABSENT and left == "x":
            assert direct is False and negated is True
        else:
            assert negated == direct


@pytest.mark.parametrize("op", ["in", "not in"])
@given(answers=st.tuples(*[st.sampled_from([True, False, None])] * 2), x=st.one_of(NUMBERS, st.none(), st.just(ABSENT)))
def test_membership_negation_holds_on_the_three_valued_path(op: str, answers: tuple[Any, ...], x: Any) -> None:
    """``not (v in L)`` is ``v not in L`` on values, unknowns and counts still open; not asked makes both false."""
    values = {"a": answers[0], "b": answers[1], "x": x}
    for subject in ("count(a, b)", "x"):
        negated = _three_valued(f"not ({subject} {op} [0, 1])", values)
        direct = _three_valued(f"{subject} {negation(op)} [0, 1]", values)
        if subject == "x" and x is ABSENT:
            assert direct is False and negated is True
        else:
            assert negated == direct


LEVEL_VALUES = st.one_of(st.integers(0, 2), st.frozensets(st.integers(-1, 2), min_size=2), st.just(ABSENT))


@pytest.mark.parametrize("op", RELATIONS)
@given(level=LEVEL_VALUES, name=st.sampled_from(["low", "medium", "high"]))
def test_level_mirror_holds_on_the_three_valued_path(op: str, level: Any, name: str) -> None:
    """``level(s) OP "x"`` and ``"x" MIRROR level(s)`` agree on decided, open and impossible levels."""
    left = _three_valued(f'level(s) {op} "{name}"', {}, levels={"s": level})
    right = _three_valued(f'"{name}" {mirror(op)} level(s)', {}, levels={"s": level})
    assert left == right


@pytest.mark.parametrize("op", RELATIONS)
@given(x=st.one_of(NUMBERS, st.just(ABSENT)), y=NUMBERS, p=NUMBERS)
def test_mirror_and_negation_hold_on_the_fast_path_and_agree_with_the_closures(op: str, x: Any, y: Any, p: Any) -> None:
    """On known answers the fast path gives what the closures give, for ``a OP b``, its mirror and its negation."""
    values = {"x": x, "y": y}
    points = {"s": p}
    for left, right in (("x", "y"), ("x", "score(s)"), ("score(s)", "2"), ("x + 1", "y")):
        text = f"{left} {op} {right}"
        fast = _fast(text, values, points)
        assert fast == _fast(f"{right} {mirror(op)} {left}", values, points)
        assert fast == _three_valued(text, values, {"s": p})
        if x is not ABSENT or "x" not in left:
            assert (not fast) == _fast(f"{left} {negation(op)} {right}", values, points)


@pytest.mark.parametrize("op", RELATIONS)
@given(rank=st.one_of(st.integers(0, 1), st.none()), name=st.sampled_from(["low", "high"]))
def test_level_mirror_holds_on_the_fast_path(op: str, rank: Any, name: str) -> None:
    """``level(t) OP "x"`` and its mirror agree on the fast path, also when the score has no level."""
    fast = _fast(f'level(t) {op} "{name}"', {}, ranks={"t": rank})
    assert fast == _fast(f'"{name}" {mirror(op)} level(t)', {}, ranks={"t": rank})
    expected = _three_valued(f'level(t) {op} "{name}"', {}, levels={"t": ABSENT if rank is None else rank})
    assert fast == expected
