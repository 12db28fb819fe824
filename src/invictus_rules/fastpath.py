"""Generate one Python function per ruleset for the common case: every answer a rule reads is known.

Evaluation first runs this function, built at compile time with the ``ast`` module from the checked
condition trees (never by formatting ruleset text into source: ruleset ids and values only ever
appear as constants). It uses two-valued logic and plain Python operators; the moment it reads an
answer that is not known (not answered, declined, or "don't know"), the lookup's KeyError is turned
into :class:`NeedsThreeValued` (its own class; a KeyError for anything but a missing answer, i.e. a bug
in generated code, propagates and is never mistaken for an unknown answer) and evaluation falls back to the three-valued closures of
:mod:`invictus_rules.expr.compile`. :func:`fast_path_source` gives the generated source for debugging.
Both paths give the same ``Outcome`` where the fast path applies, which a property test checks.

Semantics mirrored from the closures: a question that is not asked (``ABSENT``) makes every test on it
false; ``not`` of such a test is true; ``count`` of a hidden multiple choice is 0.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeGuard

from .compiled import CompiledInformation, CompiledQuestion, CompiledReferral, CompiledRuleset, CompiledSafety, CompiledScore, FastDecide, FastPath
from .expr.compile import ABSENT, age_in_years
from .expr.nodes import Arith, BoolOp, Call, Compare, ListLiteral, Literal, Name, Negate, Node, Not
from .outcome import Outcome, ScoreOutcome
from .safety import Defer


class NeedsThreeValued(LookupError):
    """The fast path read an answer that is not known: the case needs the three-valued path."""


def _unknown_answer(error: KeyError, values: Any, question_ids: frozenset[str]) -> None:
    """Turn the KeyError of reading an answer that is not known into NeedsThreeValued; any other
    KeyError (a bug in generated code) is left to propagate."""
    key = error.args[0] if len(error.args) == 1 else None
    if type(key) is str and key in question_ids and key not in values:
        raise NeedsThreeValued(key) from None


class AnswersNeedFullCheck(Exception):
    """The answer check fused into ``decide_dict`` met something it does not accept on its own (an
    unknown key, an invalid value): :mod:`invictus_rules.answers` checks the case again,
    to accept it or to explain the rejection."""


_NEED_FULL_CHECK = AnswersNeedFullCheck()
MAX_NUMBER = 10**15
"""answers.MAX_NUMBER (fastpath comes before answers in the stages; a test holds the two equal)."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _check_multiple(raw: Any, options: frozenset[str]) -> frozenset[str]:
    if type(raw) is list or type(raw) is tuple:
        try:
            chosen = frozenset(raw)
        except TypeError:
            raise _NEED_FULL_CHECK from None
        if len(chosen) == len(raw) and chosen <= options and all(type(item) is str for item in raw):
            return chosen
    raise _NEED_FULL_CHECK


def _marker(raw: Any, question_id: str, declined: list[str], unknown: list[str]) -> None:
    """Note a declined or "don't know" marker; anything else goes to the full check."""
    if type(raw) is dict and len(raw) == 1:
        status = raw.get("status")
        if status == "declined":
            declined.append(question_id)
            return
        if status == "unknown":
            unknown.append(question_id)
            return
    raise _NEED_FULL_CHECK


def _check_date(raw: Any) -> dt.date:
    if type(raw) is str and _DATE.fullmatch(raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    raise _NEED_FULL_CHECK


# One template per question type, parsed once from this fixed text; QID, LOW, HIGH, OPTS and LIMIT
# are replaced by constants (never by ruleset text formatted into source). Each accepts exactly what
# answers._fast_checker accepts (a property test compares decide(dict) with the full check).
_CHECK_TEMPLATES = {
    kind: ast.parse(text).body
    for kind, text in {
        "boolean": "if x is True or x is False:\n    answers[QID] = x\nelse:\n    _marker(x, QID, d, u)",
        "integer": (
            "t = type(x)\n"
            "if t is int and LOW <= x <= HIGH:\n    answers[QID] = x\n"
            "elif t is float and LOW <= x <= HIGH and x.is_integer():\n    answers[QID] = int(x)\n"
            "else:\n    _marker(x, QID, d, u)"
        ),
        "number": "t = type(x)\nif (t is int or t is float) and LOW <= x <= HIGH:\n    answers[QID] = x\nelse:\n    _marker(x, QID, d, u)",
        "single_choice": "if type(x) is str and x in OPTS:\n    answers[QID] = x\nelse:\n    _marker(x, QID, d, u)",
        "multiple_choice": "if type(x) is dict:\n    _marker(x, QID, d, u)\nelse:\n    answers[QID] = _check_multiple(x, OPTS)",
        "date": "if type(x) is dict:\n    _marker(x, QID, d, u)\nelse:\n    answers[QID] = _check_date(x)",
        "text": "if type(x) is str and len(x) <= LIMIT:\n    answers[QID] = x\nelse:\n    _marker(x, QID, d, u)",
    }.items()
}


class _Fill(ast.NodeTransformer):
    def __init__(self, names: dict[str, ast.expr]):
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return self.names.get(node.id, node)


class _Constants:
    def __init__(self) -> None:
        self.constants: dict[str, Any] = {}

    def constant(self, value: Any) -> ast.expr:
        key = f"K{len(self.constants)}"
        self.constants[key] = value
        return _name(key)


def _build_dict_decider(questions: Sequence[CompiledQuestion]) -> tuple[ast.Module, _Constants]:
    """``decide_dict(raw, as_of)``: the answer checks below, then the fast decision function."""
    gen = _Constants()
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg("raw"), ast.arg("as_of")], kwonlyargs=[], kw_defaults=[], defaults=[])
    tail = ast.parse(
        "declined = frozenset(d) if d else NOTHING\n"
        "unknown = frozenset(u) if u else NOTHING\n"
        "try:\n    return decide(answers, declined, unknown, as_of)\nexcept NeedsThreeValued:\n    pass\n"
        "return three_valued(answers, declined, unknown, as_of)"
    ).body
    function = ast.FunctionDef("decide_dict", arguments, _answer_checks(gen, questions) + tail, [], None)
    return ast.fix_missing_locations(ast.Module([function], [])), gen


def generate_dict_decider(compiled: CompiledRuleset, three_valued: Callable[[Any, frozenset[str], frozenset[str], dt.date], Outcome]) -> Callable[[Any, dt.date], Outcome]:
    """The decision function for a plain dict of answers, each checked inline (built on first use, so
    that loading a ruleset does not pay for it): raises AnswersNeedFullCheck for anything the full
    check must see (unknown keys, invalid values, anything not a plain dict) and, for a case the fast
    path cannot decide, calls ``three_valued(values, declined, unknown, as_of)``."""
    module, gen = _build_dict_decider(compiled.questions)
    namespace: dict[str, Any] = {
        "__builtins__": {"int": int, "float": float, "str": str, "type": type, "len": len, "dict": dict, "frozenset": frozenset},
        "NeedsThreeValued": NeedsThreeValued,
        "three_valued": three_valued,
        "_marker": _marker,
        "NEED_FULL_CHECK": _NEED_FULL_CHECK,
        "NOTHING": frozenset(),
        "_check_multiple": _check_multiple,
        "_check_date": _check_date,
        "decide": getattr(compiled.fast, "function", lambda: compiled.fast)(),
        **gen.constants,
    }
    exec(compile(module, "<invictus-rules answer check>", "exec"), namespace)  # built from fixed templates and constants
    return namespace["decide_dict"]  # type: ignore[no-any-return]


def _answer_checks(gen: _Constants, questions: Sequence[CompiledQuestion]) -> list[ast.stmt]:
    """Statements that read each answer from ``raw``, check it and put its value in ``answers``,
    raising NEED_FULL_CHECK for anything else (markers and invalid values alike)."""
    body: list[ast.stmt] = [
        ast.If(
            ast.UnaryOp(ast.Not(), ast.Compare(ast.Call(ast.Attribute(_name("raw"), "keys", ast.Load()), [], []), [ast.LtE()], [gen.constant(frozenset(q.spec.id for q in questions))])),
            [ast.Raise(_name("NEED_FULL_CHECK"), None)],
            [],
        ),
        _assign("answers", ast.Dict([], [])),
        _assign("d", ast.List([], ast.Load())),
        _assign("u", ast.List([], ast.Load())),
        _assign("get", ast.Attribute(_name("raw"), "get", ast.Load())),
    ]
    for question in questions:
        spec = question.spec
        names: dict[str, ast.expr] = {"QID": _const(spec.id)}
        if spec.type in ("integer", "number"):
            low = spec.min if spec.min is not None else -MAX_NUMBER
            high = spec.max if spec.max is not None else MAX_NUMBER
            names["LOW"] = _const(max(low, -MAX_NUMBER))
            names["HIGH"] = _const(min(high, MAX_NUMBER))
        elif spec.type in ("single_choice", "multiple_choice"):
            names["OPTS"] = gen.constant(frozenset(option.value for option in spec.options or ()))
        elif spec.type == "text":
            names["LIMIT"] = _const(spec.max_length or 10_000)
        check = [_Fill(names).visit(copy.deepcopy(statement)) for statement in _CHECK_TEMPLATES[spec.type]]
        body.append(_assign("x", ast.Call(_name("get"), [_const(spec.id)], [])))
        body.append(ast.If(ast.Compare(_name("x"), [ast.IsNot()], [_const(None)]), check, []))
    return body


def _count_choices(value: Any) -> int:
    return 0 if value is ABSENT else len(value)


def _tidy(number: float) -> float:
    return int(number) if float(number).is_integer() else number


def _name(identifier: str, store: bool = False) -> ast.Name:
    return ast.Name(identifier, ast.Store() if store else ast.Load())


def _const(value: Any) -> ast.expr:
    return ast.Constant(value)


def _call(function: str, *args: ast.expr) -> ast.Call:
    return ast.Call(_name(function), list(args), [])


def _sum(terms: Sequence[ast.expr]) -> ast.expr:
    """``sum((a, b, ...))``: flat however many terms (a chain of '+' would nest one level per term, past
    the recursion limits of ``ast`` and of Python's compiler at about a thousand)."""
    return _call("sum", ast.Tuple(list(terms), ast.Load())) if terms else _const(0)


def _and(parts: Sequence[ast.expr]) -> ast.expr:
    return parts[0] if len(parts) == 1 else ast.BoolOp(ast.And(), list(parts))


class _Generator:
    """Builds the statements of the fast function; holds the constants it needs as globals."""

    def __init__(self, questions: Sequence[CompiledQuestion], scores: Sequence[CompiledScore]):
        self.types = {q.spec.id: q.spec.type for q in questions}
        self.hideable = {q.spec.id for q in questions if q.ask_if is not None}
        self.score_index = {s.spec.id: i for i, s in enumerate(scores)}
        self.level_ranks = {s.spec.id: {level: rank for rank, level in enumerate(s.level_ids)} for s in scores}
        self.gappy = {s.spec.id for s in scores if s.levels[0][1] is not None}
        self.constants: dict[str, Any] = {}

    def constant(self, value: Any) -> ast.expr:
        if isinstance(value, (bool, int, float, str)) or value is None:
            return _const(value)
        key = f"K{len(self.constants)}"
        self.constants[key] = value
        return _name(key)

    # -- answers ---------------------------------------------------------------------------
    def read(self, question: str) -> ast.expr:
        return ast.Subscript(_name("v"), _const(question), ast.Load())

    def present(self, question: str) -> ast.expr:
        return ast.Compare(self.read(question), [ast.IsNot()], [_name("ABSENT")])

    def guards(self, node: Node) -> list[ast.expr]:
        """'is not ABSENT' tests for the hideable questions a comparison operand reads."""
        found: list[str] = []
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, Name) and current.id in self.hideable and current.id not in found:
                found.append(current.id)
            elif isinstance(current, Call):
                # these read their argument themselves: count() counts a question not asked as no
                # (or as 0 values), and score()/critical()/level() take a score, not a question
                if current.function in ("answered", "declined", "count", "score", "critical", "level"):
                    continue
                stack.extend(current.args)
            elif isinstance(current, (Arith,)):
                stack.extend((current.left, current.right))
            elif isinstance(current, Negate):
                stack.append(current.operand)
        return [self.present(q) for q in found]

    def _is_choices(self, node: Node) -> TypeGuard[Name]:
        return isinstance(node, Name) and self.types.get(node.id) == "multiple_choice"

    # -- conditions ------------------------------------------------------------------------
    def condition(self, node: Node) -> ast.expr:
        if isinstance(node, Literal):
            return self.constant(node.value)
        if isinstance(node, Name):
            return ast.Compare(self.read(node.id), [ast.Is()], [_const(True)])
        if isinstance(node, Not):
            return ast.UnaryOp(ast.Not(), self.condition(node.operand))
        if isinstance(node, BoolOp):
            op = ast.And() if node.op == "and" else ast.Or()
            return ast.BoolOp(op, [self.condition(o) for o in node.operands])
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call) and node.function in ("answered", "declined"):
            return self.value(node)
        raise TypeError(f"not a condition: {node!r}")

    def compare(self, node: Compare) -> ast.expr:
        level_side = next((side for side in (node.left, node.right) if isinstance(side, Call) and side.function == "level"), None)
        if level_side is not None:
            return self.level_compare(node, level_side)
        op = node.op
        if op in ("in", "not in") and self._is_choices(node.right):
            test: ast.expr = ast.Compare(self.value(node.left), [ast.In()], [self.read(node.right.id)])
            test = ast.UnaryOp(ast.Not(), test) if op == "not in" else test
            guard = self.guards(node.right)
            return _and(guard + [test])
        if op in ("in", "not in"):
            assert isinstance(node.right, ListLiteral)
            values = frozenset(item.value for item in node.right.items if isinstance(item, Literal))
            left = self.value(node.left)
            test = ast.Compare(left, [ast.In() if op == "in" else ast.NotIn()], [self.constant(values)])
            guard = self.guards(node.left)
            # a hidden question is simply not in the list; 'not in' and computed values need the guard
            needs_guard = bool(guard) and (op == "not in" or not isinstance(node.left, Name))
            return _and(guard + [test]) if needs_guard else test
        operator = {"==": ast.Eq(), "!=": ast.NotEq(), "<": ast.Lt(), "<=": ast.LtE(), ">": ast.Gt(), ">=": ast.GtE()}[op]
        test = ast.Compare(self.value(node.left), [operator], [self.value(node.right)])
        guard = self.guards(node.left) + self.guards(node.right)
        return _and(guard + [test])

    def level_compare(self, node: Compare, level_side: Call) -> ast.expr:
        score = level_side.args[0].id  # type: ignore[union-attr]
        ranks = self.level_ranks[score]
        rank_var = _name(f"r{self.score_index[score]}")
        other = node.right if level_side is node.left else node.left
        if node.op in ("in", "not in"):
            assert isinstance(other, ListLiteral)
            wanted = frozenset(ranks[str(item.value)] for item in other.items if isinstance(item, Literal))
            test: ast.expr = ast.Compare(rank_var, [ast.In() if node.op == "in" else ast.NotIn()], [self.constant(wanted)])
        else:
            assert isinstance(other, Literal)
            op = node.op if level_side is node.left else {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}[node.op]
            operator = {"==": ast.Eq(), "!=": ast.NotEq(), "<": ast.Lt(), "<=": ast.LtE(), ">": ast.Gt(), ">=": ast.GtE()}[op]
            test = ast.Compare(rank_var, [operator], [_const(ranks[str(other.value)])])
        if score in self.gappy:
            return _and([ast.Compare(rank_var, [ast.IsNot()], [_const(None)]), test])
        return test

    def value(self, node: Node) -> ast.expr:
        if isinstance(node, Literal):
            return self.constant(node.value)
        if isinstance(node, Name):
            return self.read(node.id)
        if isinstance(node, Negate):
            return ast.UnaryOp(ast.USub(), self.value(node.operand))
        if isinstance(node, Arith):  # in floats, as the closures do
            operator = {"+": ast.Add(), "-": ast.Sub(), "*": ast.Mult(), "/": ast.Div()}[node.op]
            return ast.BinOp(_call("float", self.value(node.left)), operator, _call("float", self.value(node.right)))
        if isinstance(node, Call):
            return self.function(node)
        return self.condition(node)

    def function(self, node: Call) -> ast.expr:
        name = node.function
        arg = node.args[0] if node.args else None
        if name == "answered":
            assert isinstance(arg, Name)
            got = ast.Call(ast.Attribute(_name("v"), "get", ast.Load()), [_const(arg.id)], [])
            return _and([ast.Compare(got, [ast.IsNot()], [_const(None)]), ast.Compare(ast.Call(ast.Attribute(_name("v"), "get", ast.Load()), [_const(arg.id)], []), [ast.IsNot()], [_name("ABSENT")])])
        if name == "declined":  # and asked: a question not asked has no answer, declined or not
            assert isinstance(arg, Name)
            got = ast.Call(ast.Attribute(_name("v"), "get", ast.Load()), [_const(arg.id)], [])
            return _and([ast.Compare(_const(arg.id), [ast.In()], [_name("declined")]), ast.Compare(got, [ast.IsNot()], [_name("ABSENT")])])
        if name == "count":
            if len(node.args) == 1 and self._is_choices(node.args[0]):
                return _call("_count_choices", self.read(node.args[0].id))
            parts: list[ast.expr] = [ast.Call(_name("int"), [self.condition(a)], []) for a in node.args]
            return _sum(parts)
        assert isinstance(arg, Name)
        if name in ("score", "critical"):
            return _name(f"{'p' if name == 'score' else 'c'}{self.score_index[arg.id]}")
        if name == "days_since":
            return ast.Attribute(ast.BinOp(_name("as_of"), ast.Sub(), self.read(arg.id)), "days", ast.Load())
        if name == "years_since":
            return _call("age_in_years", self.read(arg.id), _name("as_of"))
        raise TypeError(f"no fast form for {name}()")


def _pair(name: str) -> ast.expr:
    return ast.Tuple([_name(name), _name(name)], ast.Load())


def _level_pair(name: str) -> ast.expr:
    return ast.IfExp(ast.Compare(_name(name), [ast.Is()], [_const(None)]), _const(None), _pair(name))


def _assign(target: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([_name(target, store=True)], value)


class _Deferred:
    """The fast decision function, generated on its first call (once, under a lock).

    Generating and compiling it is the costliest step of loading a large ruleset, in time and in
    memory, and a process that only lints, diffs or documents a ruleset never calls it. Should the
    generation ever fail, every call raises NeedsThreeValued, which sends evaluation to the
    three-valued closures: slower, never wrong.
    """

    __slots__ = ("_build", "_decide", "_lock", "_source", "question_ids")

    def __init__(self, build: Callable[[], FastDecide], source: Callable[[], str], question_ids: tuple[str, ...]):
        self._build: Callable[[], FastDecide] | None = build
        self._decide: FastDecide | None = None
        self._lock = threading.Lock()
        self._source = source
        self.question_ids = question_ids

    def __call__(self, answers: Any, declined: frozenset[str], unknown: frozenset[str], as_of: dt.date) -> Outcome:
        decide = self._decide
        if decide is None:
            decide = self._generate()
        return decide(answers, declined, unknown, as_of)

    def function(self) -> FastDecide:
        """The generated function itself (generating it now if need be), for callers that call it often."""
        decide = self._decide
        return decide if decide is not None else self._generate()

    def source(self) -> str:
        return self._source()

    def _generate(self) -> FastDecide:
        with self._lock:
            if self._decide is None:
                assert self._build is not None
                try:
                    self._decide = self._build()
                except (RecursionError, MemoryError, SyntaxError, ValueError):
                    self._decide = _no_fast_path
                self._build = None
        return self._decide


def _no_fast_path(answers: Any, declined: frozenset[str], unknown: frozenset[str], as_of: dt.date) -> Outcome:
    raise NeedsThreeValued("no fast path")


def _build(
    questions: Sequence[CompiledQuestion],
    ask_order: Iterable[str],
    scores: Sequence[CompiledScore],
    referrals: Sequence[CompiledReferral],
    information: Sequence[CompiledInformation],
    safety: CompiledSafety | None,
) -> tuple[ast.Module, _Generator]:
    """The syntax tree of the fast decision function, and the generator holding its constants.

    With a safety section, the function also decides whether it is safe to talk and which referrals
    ``defer`` (bound in its namespace) holds back; the safe channels answer is read with ``get``
    (unanswered means no channel).
    """
    gen = _Generator(questions, scores)
    by_id = {q.spec.id: (i, q) for i, q in enumerate(questions)}
    body: list[ast.stmt] = [
        _assign("v", ast.Call(_name("dict"), [_name("answers")], [])),
        _assign("ignored", ast.List([], ast.Load())),
    ]
    asked: list[ast.expr] = [_const(True)] * len(questions)
    for question_id in ask_order:
        index, question = by_id[question_id]
        if question.ask_if is None:
            continue
        flag = f"a{index}"
        body.append(_assign(flag, gen.condition(question.ask_if.node)))
        seen = ast.BoolOp(ast.Or(), [ast.Compare(_const(question_id), [ast.In()], [_name(n)]) for n in ("answers", "declined", "unknown")])
        record = ast.If(seen, [ast.Expr(ast.Call(ast.Attribute(_name("ignored"), "append", ast.Load()), [_const(question_id)], []))], [])
        hide = ast.Assign([ast.Subscript(_name("v"), _const(question_id), ast.Store())], _name("ABSENT"))
        body.append(ast.If(ast.UnaryOp(ast.Not(), _name(flag)), [record, hide], []))
        asked[index] = _name(flag)

    score_records: list[ast.expr] = []
    for s_index, score in enumerate(scores):
        items: list[ast.expr] = []
        points_terms: list[ast.expr] = []
        critical_terms: list[ast.expr] = []
        for i_index, item in enumerate(score.items):
            name = f"i{s_index}_{i_index}"
            body.append(_assign(name, gen.condition(item.condition.node)))
            items.append(_name(name))
            points_terms.append(ast.BinOp(_name(name), ast.Mult(), _const(item.spec.points)))
            if item.spec.critical:
                critical_terms.append(_name(name))
        points = _sum(points_terms)
        whole = all(float(item.spec.points).is_integer() and isinstance(item.spec.points, int) for item in score.items)
        body.append(_assign(f"p{s_index}", points if whole else _call("_tidy", points)))
        body.append(_assign(f"c{s_index}", _sum(critical_terms)))  # True + True == 2: the flags add up as numbers
        level_flags: list[ast.expr] = []
        for l_index, (_, condition) in enumerate(score.levels):
            if condition is None:
                level_flags.append(_const(True))
                continue
            name = f"l{s_index}_{l_index}"
            body.append(_assign(name, gen.condition(condition.node)))
            level_flags.append(_name(name))
        # the highest true level wins: one flat test per level, from the lowest up, each later true
        # one overriding (flat statements, so a score of many levels does not nest its code deeply)
        body.append(_assign(f"k{s_index}", _const(None)))
        for l_index, level_flag in enumerate(level_flags):
            take = _assign(f"k{s_index}", _const(l_index))
            body.append(take if isinstance(level_flag, ast.Constant) else ast.If(level_flag, [take], []))
        body.append(_assign(f"r{s_index}", _name(f"k{s_index}")))
        override: ast.expr = _const(None)
        if score.override_question is not None:
            ranks = gen.constant(gen.level_ranks[score.spec.id])
            chosen = ast.Call(ast.Attribute(ranks, "get", ast.Load()), [ast.Call(ast.Attribute(_name("v"), "get", ast.Load()), [_const(score.override_question)], [])], [])
            body.append(_assign(f"o{s_index}", chosen))
            raise_level = ast.If(
                ast.Compare(_name(f"o{s_index}"), [ast.IsNot()], [_const(None)]),
                [_assign(f"r{s_index}", ast.IfExp(ast.Compare(_name(f"k{s_index}"), [ast.Is()], [_const(None)]), _name(f"o{s_index}"), _call("max", _name(f"k{s_index}"), _name(f"o{s_index}"))))],
                [],
            )
            body.append(raise_level)
            override = _name(f"o{s_index}")
        score_records.append(
            _call(
                "ScoreOutcome",
                _pair(f"p{s_index}"),
                _pair(f"c{s_index}"),
                _level_pair(f"r{s_index}"),
                _level_pair(f"k{s_index}"),
                override,
                ast.Tuple(items, ast.Load()),
                ast.Tuple(level_flags, ast.Load()),
            )
        )
    body.append(_assign("R", ast.Tuple([gen.condition(r.condition.node) for r in referrals], ast.Load())))
    body.append(_assign("I", ast.Tuple([gen.condition(i.condition.node) for i in information], ast.Load())))
    body.append(_assign("asked", ast.Tuple(asked, ast.Load())))
    if safety is None:
        body.append(_assign("S", _const(True)))
        body.append(_assign("D", ast.Tuple([], ast.Load())))
    else:
        body.append(_assign("S", gen.condition(safety.condition.node)))
        channels = ast.Call(ast.Attribute(_name("v"), "get", ast.Load()), [_const(safety.spec.safe_channels)], [])
        body.append(_assign("D", _call("_defer", _name("R"), _name("S"), channels)))
    gen.constants["QUESTION_IDS"] = tuple(q.spec.id for q in questions)
    ignored_tuple = ast.IfExp(_name("ignored"), _call("_ignored", _name("ignored")), ast.Tuple([], ast.Load()))
    body.append(
        ast.Return(
            _call(
                "Outcome",
                _name("as_of"),
                _name("v"),
                _name("asked"),
                ast.Tuple(score_records, ast.Load()),
                _name("R"),
                _name("I"),
                ignored_tuple,
                _name("answers"),
                _name("declined"),
                _name("unknown"),
                _name("QUESTION_IDS"),
                _name("S"),
                _name("D"),
            )
        )
    )
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg(a) for a in ("answers", "declined", "unknown", "as_of")], kwonlyargs=[], kw_defaults=[], defaults=[])
    # a missing answer raises KeyError at its lookup (the fastest read there is); the handler turns
    # exactly that case into NeedsThreeValued and lets any other KeyError through
    handler = ast.ExceptHandler(
        _name("KeyError"),
        "error",
        [ast.Expr(_call("_unknown_answer", _name("error"), _name("v"))), ast.Raise(None, None)],
    )
    body = body[:2] + [ast.Try(body[2:], [handler], [], [])]
    function = ast.FunctionDef("decide", arguments, body, [], None)
    module = ast.fix_missing_locations(ast.Module([function], []))
    return module, gen


def generate(
    questions: Sequence[CompiledQuestion],
    ask_order: Iterable[str],
    scores: Sequence[CompiledScore],
    referrals: Sequence[CompiledReferral],
    information: Sequence[CompiledInformation],
    safety: CompiledSafety | None,
    defer: Defer,
) -> FastPath:
    """The fast decision function for a compiled ruleset's parts, generated when first called;
    its ``source()`` gives the generated code (rebuilt on demand, not kept)."""
    order = tuple(ask_order)

    def source() -> str:
        return _source(_build(questions, order, scores, referrals, information, safety)) + "\n" + _source(_build_dict_decider(questions))

    build = lambda: _generate(questions, order, scores, referrals, information, safety, defer)  # noqa: E731
    return _Deferred(build, source, tuple(q.spec.id for q in questions))


def _generate(
    questions: Sequence[CompiledQuestion],
    ask_order: tuple[str, ...],
    scores: Sequence[CompiledScore],
    referrals: Sequence[CompiledReferral],
    information: Sequence[CompiledInformation],
    safety: CompiledSafety | None,
    defer: Defer,
) -> FastDecide:
    """Build and compile the fast decision function (``defer`` is the safety engine's deferral)."""
    module, gen = _build(questions, ask_order, scores, referrals, information, safety)
    code = compile(module, "<invictus-rules fast path>", "exec")
    order = {q.spec.id: i for i, q in enumerate(questions)}
    known_ids = frozenset(order)
    namespace: dict[str, Any] = {
        "__builtins__": {"dict": dict, "int": int, "float": float, "max": max, "sum": sum},
        "KeyError": KeyError,
        "_unknown_answer": lambda error, values: _unknown_answer(error, values, known_ids),
        "ABSENT": ABSENT,
        "Outcome": Outcome,
        "ScoreOutcome": ScoreOutcome,
        "age_in_years": age_in_years,
        "_count_choices": _count_choices,
        "_tidy": _tidy,
        "_defer": defer,
        "_ignored": lambda names: tuple((q, "not_asked") for q in sorted(names, key=order.__getitem__)),
        **gen.constants,
    }
    exec(code, namespace)  # the module was built from checked syntax trees above, never from text
    return namespace["decide"]  # type: ignore[no-any-return]


def _source(built: tuple[ast.Module, Any]) -> str:
    module, gen = built
    constants = "".join(f"# {name} = {value!r}\n" for name, value in gen.constants.items())
    return f"# constants bound in the function's namespace:\n{constants}\n{ast.unparse(module)}\n"


def fast_path_source(compiled: Any) -> str:
    """The generated fast-path function of a compiled ruleset (or a Ruleset), as Python source,
    for reading and debugging; the constants it uses are listed first, as comments."""
    compiled = getattr(compiled, "compiled", compiled)
    return compiled.fast.source()  # type: ignore[no-any-return]
