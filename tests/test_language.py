"""The table of the condition language: every entry complete, every operator and function covered,
the mirrors and negations it states hold on the three-valued path and on the fast path, the parser
and prose read their tokens and phrase keys from it, and every z3 form gives the engine's result."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import itertools
import re
from fractions import Fraction
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
from invictus_rules.tools.exact import Analysis, run_case
from invictus_rules.tools.prose import FUNCTION_PHRASES, PHRASES, WORDS

from .random_rulesets import DOMAINS, SPECS, answer_json, load_document

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
        for key in (*entry.prose_kinds.values(), *entry.prose_forms.values()):
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
    for key in entry.prose_forms.values():
        for language, words in PHRASES.items():
            assert key in words, (language, key)
    if entry.result == "bool":
        assert entry.smt is not None, "a yes/no function needs a z3 form: the solver tools read every condition"


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


# -- the parser reads the table ------------------------------------------------------------------------


def test_the_parser_tokens_are_the_table_operators() -> None:
    """Each operator symbol of the table is one token, and the parser's comparisons are the table's."""
    keyword_ops = {name for name in OPERATORS if set(name.split()) <= parser_module.KEYWORDS}
    assert set(OPERATORS) - keyword_ops - {"neg"} == parser_module.SYMBOLS
    assert parser_module.RELATIONS | {name for name in COMPARISONS if name in keyword_ops} == set(COMPARISONS)
    for symbol in parser_module.SYMBOLS:
        tokens = [t for t in parser_module.tokenize(f"x {symbol} y") if t.kind in ("op", "name")]
        assert [t.text for t in tokens] == ["x", symbol, "y"], symbol
    for name in COMPARISONS:
        node = parse(f"x {name} [1]" if "in" in name.split() else f"x {name} 1")
        assert type(node).__name__ == "Compare" and getattr(node, "op", None) == name


# -- prose reads its phrase keys from the table --------------------------------------------------------


def _entry_phrase_keys() -> set[str]:
    entries: list[Operator | Function] = [*OPERATORS.values(), *FUNCTIONS.values()]
    return {key for entry in entries for key in (entry.prose, *getattr(entry, "prose_kinds", {}).values(), *entry.prose_forms.values())}


def test_every_phrase_key_is_named_by_an_entry_or_is_a_plain_word() -> None:
    """Each language's phrases are exactly the keys the table's entries name, plus the few plain words."""
    named = _entry_phrase_keys()
    assert not named & WORDS
    for language, words in PHRASES.items():
        assert set(words) == named | WORDS, (language, sorted(set(words) ^ (named | WORDS)))


def test_prose_spells_no_phrase_key_of_an_entry() -> None:
    """The keys prose.py writes out as text are plain words only: an entry's words are read from its entry."""
    from invictus_rules.tools import prose

    with open(prose.__file__, encoding="utf-8") as file:
        source = ast.parse(file.read())
    spelled: set[str] = set()
    for node in ast.walk(source):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "say" and node.args and isinstance(node.args[0], ast.Constant):
            spelled.add(node.args[0].value)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "words" and isinstance(node.slice, ast.Constant):
            spelled.add(node.slice.value)
    assert spelled and spelled <= WORDS, sorted(spelled - WORDS)


# -- the z3 forms agree with the engine -------------------------------------------------------------------

# Conditions the solver decides, by the entry whose z3 form they exercise (each form's branches).
SOLVER_EXAMPLES: dict[str, list[str]] = {
    "and": ["b1 and b2"],
    "or": ["b1 or n1 > 1"],
    "not": ["not b1", "not (n1 > 1)"],
    "neg": ["-n1 < -1"],
    "==": ["score(s1) == 2", 'c1 == "a"', "b1 == b2", 'level(s1) == "mid"'],
    "!=": ["n1 != 2", 'c1 != "b"'],
    "<": ["n1 < score(s1)", 'level(s1) < "hi"'],
    "<=": ["f1 <= 1", '"mid" <= level(s1)'],
    ">": ['level(s1) > "lo"', "days_since(d1) > 7"],
    ">=": ["d1 >= 2026-02-22", "critical(s1) >= 1"],
    "in": ['"x" in m1', 'c1 in ["a", "b"]', "n1 in [1, 2]", "f1 in [0.5, 2]", 'level(s1) in ["lo", "hi"]', "count(b1, b2) in [1]"],
    "not in": ["n1 not in [1, 2]", 'c1 not in ["a"]', 'level(s1) not in ["mid"]', '"y" not in m1'],
    "+": ["n1 + score(s1) > 3"],
    "-": ["n1 - f1 >= 1"],
    "*": ["f1 * 2 > 1", "2 * n1 <= 2"],
    "/": ["n1 / 2 >= 1"],
    "answered": ["answered(n1)", "not answered(n1)"],
    "declined": ["declined(c1)"],
    "count": ["count(b1, b2, n1 > 1) >= 2", "count(m1) == 1"],
    "score": ["score(s1) >= 2"],
    "critical": ["critical(s1) >= 1"],
    "level": ['level(s1) == "hi"'],
    "days_since": ["days_since(d1) <= 7"],
    "years_since": ["years_since(d1) >= 18"],
}
_SOLVER_QUESTIONS = ("b1", "b2", "n1", "f1", "c1", "m1", "d1")


def _solver_document(when: str) -> dict[str, Any]:
    questions: list[dict[str, Any]] = []
    for question in _SOLVER_QUESTIONS:
        spec = SPECS[question]
        entry: dict[str, Any] = {"id": question, "text": {"en": question}, **{k: v for k, v in spec.items() if k != "options"}}
        if "options" in spec:
            entry["options"] = [{"value": v, "label": {"en": v}} for v in spec["options"]]
        if question == "n1":
            entry["ask_if"] = "b1"  # so a question not asked is among the cases
        questions.append(entry)
    levels = [{"id": "lo", "label": {"en": "lo"}}, {"id": "mid", "label": {"en": "mid"}, "when": "score(s1) >= 1"}, {"id": "hi", "label": {"en": "hi"}, "when": "score(s1) >= 3"}]
    items = [
        {"id": "i0", "label": {"en": "i0"}, "when": "b1", "points": 2, "critical": True},
        {"id": "i1", "label": {"en": "i1"}, "when": "b2", "points": 1, "critical": False},
    ]
    return {
        "format": "invictus-rules/v1",
        "metadata": {"id": "t", "country": "xx", "version": "2026.1", "effective_from": "2026-01-01", "status": "draft", "languages": ["en"], "default_language": "en", "title": {"en": "t"}},
        "questions": questions,
        "scores": [{"id": "s1", "title": {"en": "s1"}, "items": items, "levels": levels}],
        "services": [{"id": "h1", "category": "general_support", "name": {"en": "h"}, "phone": "1"}],
        "referrals": [{"id": "r0", "service": "h1", "when": when, "priority": "standard", "mode": "opt_in", "reason": {"en": "r"}}],
    }


def _cases(when: str) -> list[dict[str, Any]]:
    """Every case over the questions the condition reads (with the score's and ask_if's): each
    answered with each value of its small domain, declined, or left out."""
    read = set(re.findall(r"\b(" + "|".join(_SOLVER_QUESTIONS) + r")\b", when))
    if re.search(r"\b(score|critical|level)\(", when):
        read |= {"b1", "b2"}
    if "n1" in read:
        read.add("b1")
    ordered = [q for q in _SOLVER_QUESTIONS if q in read]
    states = [[("answer", answer_json(v)) for v in DOMAINS[q]] + [("declined", None), ("missing", None)] for q in ordered]
    cases = []
    for combination in itertools.product(*states):
        case: dict[str, Any] = {}
        for question, (state, value) in zip(ordered, combination, strict=True):
            if state != "missing":
                case[question] = value if state == "answer" else {"status": "declined"}
        cases.append(case)
    return cases


def test_every_entry_with_a_z3_form_has_solver_examples() -> None:
    """Each operator and function the solver can encode is exercised below; each operator has a z3 form."""
    encodable = {name for name, entry in {**OPERATORS, **FUNCTIONS}.items() if entry.smt is not None}
    assert encodable == set(SOLVER_EXAMPLES) - {"level"}  # level() is read by the comparison that holds it
    assert all(entry.smt is not None for entry in OPERATORS.values())
    for name, texts in SOLVER_EXAMPLES.items():
        for text in texts:
            node = parse(text)
            used = {node.function for node in walk(node) if isinstance(node, Call)} | {
                operator_of(n).name for n in walk(node) if type(n).__name__ in ("Not", "Negate", "BoolOp", "Compare", "Arith")
            }
            assert name in used, (name, text)


@pytest.mark.parametrize(("name", "text"), [(name, text) for name, texts in SOLVER_EXAMPLES.items() for text in texts])
def test_the_z3_form_agrees_with_the_engine(name: str, text: str) -> None:
    """Whether the condition can be true, false or unknown, the solver decides exactly as the engine
    evaluates every case: each outcome it proves impossible never occurs, each case it finds the
    engine confirms."""
    ruleset = load_document(_solver_document(text))
    seen = set()
    for case in _cases(text):
        outcome = run_case(ruleset, case, AS_OF)
        assert outcome is not None
        seen.add(outcome.referrals[0])
    outcomes = Analysis(ruleset, AS_OF).outcomes(ruleset.compiled.referrals[0].condition, locate=lambda out: out.referrals[0])
    for value, verdict in ((True, outcomes.true), (False, outcomes.false), (None, outcomes.unknown)):
        assert verdict.status != "undecided", (text, verdict.reason)
        assert verdict.confirmed, (text, value, verdict.case)
        assert verdict.found == (value in seen), (text, value, verdict.status)


def _pins(encoder: smt.Encoder, case: dict[str, Any]) -> list[Any]:
    """Solver constraints that fix the encoder's variables to one case."""
    import z3

    pins = []
    for question, qv in encoder.vars.items():
        answer = case.get(question)
        if answer is None or isinstance(answer, dict):
            pins.append(qv.state == (smt.NOT_GIVEN if answer is None else smt.DECLINED))
            continue
        pins.append(qv.state == smt.ANSWERED)
        if qv.type == "multiple_choice":
            pins += [member == (option in answer) for option, member in qv.value.items()]
        elif qv.type == "single_choice":
            pins.append(qv.value == qv.options.index(answer))
        elif qv.type == "date":
            pins.append(qv.value == (dt.date.fromisoformat(answer) - AS_OF).days)
        elif qv.type == "number":
            pins.append(qv.value == z3.RealVal(str(Fraction(answer)), encoder.ctx))
        else:
            pins.append(qv.value == answer)
    return pins


@pytest.mark.parametrize(("name", "text"), [(name, text) for name, texts in SOLVER_EXAMPLES.items() for text in texts])
def test_the_z3_form_gives_the_engine_result_on_every_case(name: str, text: str) -> None:
    """Fixed to one case, the solver's term is true, false or neither exactly where the engine's
    three-valued evaluation of that case is true, false or unknown."""
    import z3

    ruleset = load_document(_solver_document(text))
    encoder = smt.Encoder(ruleset.compiled, smt.Variables(), AS_OF)
    result = encoder.condition(ruleset.compiled.referrals[0].condition.node)
    solver = z3.Solver(ctx=encoder.ctx)
    solver.add(*encoder.domain)
    for case in _cases(text):
        outcome = run_case(ruleset, case, AS_OF)
        assert outcome is not None
        solver.push()
        solver.add(*_pins(encoder, case))
        assert solver.check() == z3.sat, (text, case)
        model = solver.model()
        t, f = (z3.is_true(model.eval(term, model_completion=True)) for term in (result.t, result.f))
        assert not (t and f), (text, case)
        assert (True if t else False if f else None) is outcome.referrals[0], (text, case)
        solver.pop()


def test_an_entry_without_a_z3_form_could_not_be_decided(monkeypatch: pytest.MonkeyPatch) -> None:
    """A function or operator whose entry has no z3 form makes the tools say "could not be decided"."""
    ruleset = load_document(_solver_document("days_since(d1) <= 7 or f1 * 2 > 1"))
    condition = ruleset.compiled.referrals[0].condition
    monkeypatch.setitem(FUNCTIONS, "days_since", dataclasses.replace(FUNCTIONS["days_since"], smt=None))
    outcomes = Analysis(ruleset, AS_OF).outcomes(condition)
    assert {v.status for v in (outcomes.true, outcomes.false, outcomes.unknown)} == {"undecided"}
    assert outcomes.true.reason == "days_since() as a value"
    monkeypatch.undo()
    monkeypatch.setitem(OPERATORS, "*", dataclasses.replace(OPERATORS["*"], smt=None))
    assert Analysis(ruleset, AS_OF).outcomes(condition).true.reason == "'*' has no solver form"


def test_the_table_imports_no_solver() -> None:
    """The table hands z3 forms the solver through the encoder: the engine's modules never import z3."""
    import subprocess
    import sys

    code = "import sys, invictus_rules, invictus_rules.expr.language; assert 'z3' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
