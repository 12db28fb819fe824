"""Generate one Python function per ruleset for the common case: every answer a rule reads is known.

Evaluation first runs this function, built at compile time with the ``ast`` module from the checked
condition trees (never by formatting ruleset text into source: ruleset ids and values only ever
appear as constants). It uses two-valued logic and plain Python operators; the moment it reads an
answer that is not known (not answered, declined, or "don't know"), the lookup's KeyError is turned
into :class:`NeedsThreeValued` (its own class; a KeyError for anything but a missing answer, i.e. a bug
in generated code, propagates and is never mistaken for an unknown answer) and evaluation falls back to the three-valued closures of
:mod:`invictus_rules.expr.compile`. Each operator and function brings its own emitter (its entry in
:mod:`invictus_rules.expr.language`). :func:`fast_path_source` gives the generated source for debugging.
Both paths give the same ``Outcome`` where the fast path applies, which a property test checks.

Semantics mirrored from the closures: a question that is not asked (``ABSENT``) makes every test on it
false; ``not`` of such a test is true; ``count`` of a hidden multiple choice is 0.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from types import CodeType
from typing import Any, TypeGuard

from .compiled import CompiledInformation, CompiledQuestion, CompiledReferral, CompiledRuleset, CompiledSafety, CompiledScore, FastDecide, FastPath
from .expr import pyast
from .expr.language import FUNCTIONS, RUNTIME, operator_of
from .expr.nodes import Arith, BoolOp, Call, Compare, Literal, Name, Negate, Node, Not
from .outcome import Outcome, ScoreOutcome
from .safety import Defer

_name = pyast.name
_const = pyast.const
_call = pyast.call
_sum = pyast.sum_of
_and = pyast.and_
_assign = pyast.assign


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


class _NotGiven:
    """The type of what ``decide_dict`` reads for a question the case leaves out."""

    __slots__ = ()


_NOT_GIVEN = _NotGiven()
MAX_NUMBER = 10**15
"""answers.MAX_NUMBER (fastpath comes before answers in the stages; a test holds the two equal)."""


def _check_multiple(raw: list[Any] | tuple[Any, ...], options: frozenset[str]) -> frozenset[str]:
    try:
        chosen = frozenset(raw)
    except TypeError:
        raise _NEED_FULL_CHECK from None
    if len(chosen) != len(raw) or not chosen <= options:
        raise _NEED_FULL_CHECK
    for item in raw:  # a loop, not all(...): the lists are short and a generator costs more
        if type(item) is not str:
            raise _NEED_FULL_CHECK
    return chosen


def _check_date(raw: str) -> dt.date:
    """``YYYY-MM-DD`` in ASCII digits, a real day: exactly the texts a date prints back as."""
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise _NEED_FULL_CHECK from None
    if day.isoformat() != raw:  # fromisoformat also takes other ISO forms (20260101, 2026-W01-1)
        raise _NEED_FULL_CHECK
    return day


def _other(raw: Any, question_id: str, answers: dict[str, Any], declined: list[str], unknown: list[str]) -> None:
    """An answer that is not a plain valid value: ``None`` (not answered) and a declined or "don't
    know" marker are taken out of ``answers`` (the marker noted); anything else goes to the full check."""
    if raw is not None:
        if type(raw) is not dict or len(raw) != 1:
            raise _NEED_FULL_CHECK
        status = raw.get("status")
        if status == "declined":
            declined.append(question_id)
        elif status == "unknown":
            unknown.append(question_id)
        else:
            raise _NEED_FULL_CHECK
    del answers[question_id]


# One template per question type, parsed once from this fixed text; QID, LOW, HIGH, OPTS and LIMIT
# are replaced by constants (never by ruleset text formatted into source). ``answers`` starts as a
# copy of the case and ``x`` is the case's value (NOT_GIVEN when the case leaves the question out):
# a valid value stays as it is (or is replaced by its converted form), anything else goes to
# ``_other``. Each accepts exactly what answers._fast_checker accepts (a property test compares
# decide(dict) with the full check).
_CHECK_TEMPLATES = {
    kind: ast.parse(text).body
    for kind, text in {
        "boolean": "if x is not True and x is not False and x is not NOT_GIVEN:\n    _other(x, QID, answers, d, u)",
        "integer": (
            "t = type(x)\n"
            "if t is int and LOW <= x <= HIGH:\n    pass\n"
            "elif t is float and LOW <= x <= HIGH and x.is_integer():\n    answers[QID] = int(x)\n"
            "elif x is not NOT_GIVEN:\n    _other(x, QID, answers, d, u)"
        ),
        "number": "t = type(x)\nif (t is not int and t is not float or not LOW <= x <= HIGH) and x is not NOT_GIVEN:\n    _other(x, QID, answers, d, u)",
        "single_choice": "if (type(x) is not str or x not in OPTS) and x is not NOT_GIVEN:\n    _other(x, QID, answers, d, u)",
        "multiple_choice": (
            "t = type(x)\n"
            "if t is list or t is tuple:\n    answers[QID] = _check_multiple(x, OPTS)\n"
            "elif x is not NOT_GIVEN:\n    _other(x, QID, answers, d, u)"
        ),
        "date": "if type(x) is str:\n    answers[QID] = _check_date(x)\nelif x is not NOT_GIVEN:\n    _other(x, QID, answers, d, u)",
        "text": "if (type(x) is not str or len(x) > LIMIT) and x is not NOT_GIVEN:\n    _other(x, QID, answers, d, u)",
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


GENERATION_LOCK = threading.RLock()
"""Held while code is generated: parsing to a syntax tree (``ast.parse``) and compiling one.

CPython before 3.12 converts between its internal syntax trees and Python's ``ast`` objects with an
interpreter-wide recursion counter, which two threads doing it at once corrupt ("AST constructor
recursion depth mismatch", a SystemError): two rulesets generating their fast paths in two threads
hit it. Generation happens once per ruleset, so serialising it costs nothing that matters. The lock
guards those calls only; it holds no state of ours.
"""


def compile_tree(module: ast.Module, name: str) -> CodeType:
    """``compile`` a generated syntax tree under :data:`GENERATION_LOCK`."""
    with GENERATION_LOCK:
        return compile(module, name, "exec")


def _build_dict_decider(questions: Sequence[CompiledQuestion]) -> tuple[ast.Module, _Constants]:
    """``decide_dict(raw, as_of)``: the answer checks below, then the fast decision function.

    Unknown keys are found by one set comparison; ``answers`` starts as a copy of the case, and each
    answer is then read once and checked by identity and type, in generated code: a valid value
    stays, is converted (multiple choice, dates, whole floats) or is taken out (unanswered, markers).
    """
    gen = _Constants()
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg("raw"), ast.arg("as_of")], kwonlyargs=[], kw_defaults=[], defaults=[])
    head = ast.parse(
        "if not KNOWN.issuperset(raw):\n    raise NEED_FULL_CHECK\n"
        "answers = raw.copy()\n"
        "d = []\n"
        "u = []\n"
        "get = raw.get"
    ).body
    head = [_Fill({"KNOWN": gen.constant(frozenset(q.spec.id for q in questions))}).visit(statement) for statement in head]
    tail = ast.parse(
        "declined = frozenset(d) if d else NOTHING\n"
        "unknown = frozenset(u) if u else NOTHING\n"
        "try:\n    return decide(answers, declined, unknown, as_of)\nexcept NeedsThreeValued:\n    pass\n"
        "return three_valued(answers, declined, unknown, as_of)"
    ).body
    function = ast.FunctionDef("decide_dict", arguments, head + _answer_checks(gen, questions) + tail, [], None)
    return ast.fix_missing_locations(ast.Module([function], [])), gen


def generate_dict_decider(compiled: CompiledRuleset, three_valued: Callable[[Any, frozenset[str], frozenset[str], dt.date], Outcome]) -> Callable[[Any, dt.date], Outcome]:
    """The decision function for a plain dict of answers, each checked inline (built on first use, so
    that loading a ruleset does not pay for it): raises AnswersNeedFullCheck for anything the full
    check must see (unknown keys, invalid values, anything not a plain dict) and, for a case the fast
    path cannot decide, calls ``three_valued(values, declined, unknown, as_of)``."""
    with GENERATION_LOCK:
        module, gen = _build_dict_decider(compiled.questions)
    namespace: dict[str, Any] = {
        "__builtins__": {"int": int, "float": float, "str": str, "type": type, "len": len, "dict": dict, "frozenset": frozenset, "list": list, "tuple": tuple},
        "NeedsThreeValued": NeedsThreeValued,
        "three_valued": three_valued,
        "_other": _other,
        "NOT_GIVEN": _NOT_GIVEN,
        "NEED_FULL_CHECK": _NEED_FULL_CHECK,
        "NOTHING": frozenset(),
        "_check_multiple": _check_multiple,
        "_check_date": _check_date,
        "decide": getattr(compiled.fast, "function", lambda: compiled.fast)(),
        **gen.constants,
    }
    exec(compile_tree(module, "<invictus-rules answer check>"), namespace)  # built from fixed templates and constants
    return namespace["decide_dict"]  # type: ignore[no-any-return]


def _answer_checks(gen: _Constants, questions: Sequence[CompiledQuestion]) -> list[ast.stmt]:
    """Statements that read each answer from ``raw`` and check it, leaving its value in ``answers``
    (converted where need be), taking out what is not an answer (``None``, markers) and raising
    NEED_FULL_CHECK for anything else."""
    body: list[ast.stmt] = []
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
        body.append(_assign("x", ast.Call(_name("get"), [_const(spec.id), _name("NOT_GIVEN")], [])))
        body.extend(_Fill(names).visit(copy.deepcopy(statement)) for statement in _CHECK_TEMPLATES[spec.type])
    return body


def _tidy(number: float) -> float:
    return int(number) if float(number).is_integer() else number


class Generator:
    """Builds the statements of the fast function; holds the constants it needs as globals. Each
    operator and function brings its own emitter (``expr.language``)."""

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
                # some read their argument themselves: count() counts a question not asked as no
                # (or as 0 values), and score()/critical()/level() take a score, not a question
                if FUNCTIONS[current.function].reads_own_argument:
                    continue
                stack.extend(current.args)
            elif isinstance(current, (Arith,)):
                stack.extend((current.left, current.right))
            elif isinstance(current, Negate):
                stack.append(current.operand)
        return [self.present(q) for q in found]

    def is_choices(self, node: Node) -> TypeGuard[Name]:
        return isinstance(node, Name) and self.types.get(node.id) == "multiple_choice"

    # -- conditions and values: leaves here, operators and functions by their own emitters ----------
    def condition(self, node: Node) -> ast.expr:
        if isinstance(node, Literal):
            return self.constant(node.value)
        if isinstance(node, Name):
            return ast.Compare(self.read(node.id), [ast.Is()], [_const(True)])
        if isinstance(node, (Not, BoolOp, Compare)):
            return operator_of(node).emit(self, node)
        if isinstance(node, Call) and FUNCTIONS[node.function].result == "bool":
            return FUNCTIONS[node.function].emit(self, node)
        raise TypeError(f"not a condition: {node!r}")

    def value(self, node: Node) -> ast.expr:
        if isinstance(node, Literal):
            return self.constant(node.value)
        if isinstance(node, Name):
            return self.read(node.id)
        if isinstance(node, (Negate, Arith)):
            return operator_of(node).emit(self, node)
        if isinstance(node, Call):
            return FUNCTIONS[node.function].emit(self, node)
        return self.condition(node)


def _whole_points(weights: Sequence[int], flags: Sequence[ast.expr]) -> ast.expr:
    """``sum((w1 * sum((flags...)), ...))`` for whole-number weights (True adds up as 1)."""
    groups: dict[int, list[ast.expr]] = {}
    for weight, flag in zip(weights, flags, strict=True):
        groups.setdefault(weight, []).append(flag)
    terms: list[ast.expr] = []
    for weight, group in groups.items():
        total = group[0] if len(group) == 1 else _sum(group)
        terms.append(total if weight == 1 else ast.BinOp(total, ast.Mult(), _const(weight)))
    return _sum(terms)  # an int even for one flag: sum((True,)) == 1


def _record(cls: type[Outcome] | type[ScoreOutcome], *fields: ast.expr) -> ast.expr:
    """``_new(cls, (fields...))``: a named tuple built without the Python-level ``__new__`` it brings
    (a frame per record); ``_new`` is ``tuple.__new__``, so every field must be given, in order."""
    if len(fields) != len(cls._fields):
        raise TypeError(f"{cls.__name__} has {len(cls._fields)} fields, {len(fields)} given")
    return _call("_new", _name(cls.__name__), ast.Tuple(list(fields), ast.Load()))


def _pair(name: str) -> ast.expr:
    return ast.Tuple([_name(name), _name(name)], ast.Load())


def _level_pair(name: str) -> ast.expr:
    return ast.IfExp(ast.Compare(_name(name), [ast.Is()], [_const(None)]), _const(None), _pair(name))


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
                    with GENERATION_LOCK:
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
) -> tuple[ast.Module, Generator]:
    """The syntax tree of the fast decision function, and the generator holding its constants.

    With a safety section, the function also decides whether it is safe to talk and which referrals
    ``defer`` (bound in its namespace) holds back; the safe channels answer is read with ``get``
    (unanswered means no channel).
    """
    gen = Generator(questions, scores)
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
        whole = all(float(item.spec.points).is_integer() and isinstance(item.spec.points, int) for item in score.items)
        if whole:
            # whole points add up exactly in any order: one multiplication per distinct weight
            body.append(_assign(f"p{s_index}", _whole_points([item.spec.points for item in score.items], items)))
        else:
            body.append(_assign(f"p{s_index}", _call("_tidy", _sum(points_terms))))
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
            _record(
                ScoreOutcome,
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
            _record(
                Outcome,
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
        with GENERATION_LOCK:
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
    code = compile_tree(module, "<invictus-rules fast path>")
    order = {q.spec.id: i for i, q in enumerate(questions)}
    known_ids = frozenset(order)
    namespace: dict[str, Any] = {
        "__builtins__": {"dict": dict, "int": int, "float": float, "max": max, "sum": sum},
        "KeyError": KeyError,
        "_unknown_answer": lambda error, values: _unknown_answer(error, values, known_ids),
        **RUNTIME,
        "Outcome": Outcome,
        "ScoreOutcome": ScoreOutcome,
        "_new": tuple.__new__,
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
