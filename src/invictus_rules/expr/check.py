"""Type checking of conditions against the questionnaire, before any case arrives.

Names are checked against the catalogue of questions and scores ("did you mean"), choice values
against the question's options, level names against the score's levels, and operands against the
operators' types. A condition that passes cannot fail at evaluation time on validated answers.
The checker records each node's type for the compiler and the set of questions and scores read.
"""

from __future__ import annotations

import difflib
import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Iterable, NoReturn

from .nodes import Arith, BoolOp, Call, Compare, ListLiteral, Literal, Name, Negate, Node, Not, Span


_YAML_11_BOOLEANS = {"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false", "off": "false"}
"""Words older YAML read as booleans; in a condition they would be unknown question ids."""


@dataclass(frozen=True)
class Type:
    """The type of a condition part.

    ``kind`` is one of bool, number, string, set (a multiple-choice answer), date, level, list, text.
    ``options`` are the values a string or set can take (from a choice question); ``score`` names the
    score of a level; ``item`` is the element type of a list literal.
    """

    kind: str
    options: tuple[str, ...] | None = None
    score: str | None = None
    item: "Type | None" = None
    question: str | None = None

    def describe(self) -> str:
        return {
            "bool": "yes/no",
            "number": "a number",
            "string": "a choice",
            "set": "a multiple choice",
            "date": "a date",
            "level": "a level",
            "list": "a list",
            "text": "free text",
        }[self.kind]


BOOL = Type("bool")
NUMBER = Type("number")
DATE = Type("date")

QUESTION_TYPES = {
    "boolean": "bool",
    "integer": "number",
    "number": "number",
    "single_choice": "string",
    "multiple_choice": "set",
    "date": "date",
    "text": "text",
}


@dataclass(frozen=True)
class QuestionInfo:
    id: str
    type: str
    options: tuple[str, ...] = ()
    line: int = 0


@dataclass
class Catalogue:
    """What a condition may refer to: questions, and the scores visible from where it stands."""

    questions: dict[str, QuestionInfo]
    scores: dict[str, tuple[str, ...]]
    visible_scores: frozenset[str] = frozenset()
    own_score: str | None = None


@dataclass(frozen=True)
class TypeProblem:
    code: str
    message: str
    hint: str
    span: Span


@dataclass
class Checked:
    """The result of checking one condition."""

    node: Node
    types: dict[int, Type] = field(default_factory=dict)
    questions: tuple[str, ...] = ()
    scores: tuple[str, ...] = ()
    problems: list[TypeProblem] = field(default_factory=list)


class _Fail(Exception):
    pass


def check(node: Node, catalogue: Catalogue, *, expect_bool: bool = True) -> Checked:
    """Type-check ``node``; problems are collected in the result rather than raised."""
    checker = _Checker(catalogue)
    result = Checked(node)
    try:
        node_type = checker.type_of(node)
        if expect_bool and node_type.kind != "bool":
            checker.problem(
                "not-a-condition",
                f"this is {node_type.describe()}, not a yes/no condition",
                _comparison_hint(node_type),
                node,
            )
    except _Fail:
        pass
    result.types = checker.types
    result.questions = tuple(dict.fromkeys(checker.questions))
    result.scores = tuple(dict.fromkeys(checker.scores))
    result.problems = checker.problems
    return result


def _comparison_hint(node_type: Type) -> str:
    if node_type.kind == "string":
        return 'compare it with a value, e.g. crime_type == "domestic_violence"'
    if node_type.kind == "number":
        return "compare it with a number, e.g. age >= 18"
    if node_type.kind == "set":
        return 'test one of its values, e.g. "children" in household'
    return "write a comparison"


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f'did you mean "{matches[0]}"?' if matches else ""


class _Checker:
    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self.types: dict[int, Type] = {}
        self.questions: list[str] = []
        self.scores: list[str] = []
        self.problems: list[TypeProblem] = []

    def problem(self, code: str, message: str, hint: str, node: Node) -> None:
        self.problems.append(TypeProblem(code, message, hint, node.span))

    def fail(self, code: str, message: str, hint: str, node: Node) -> NoReturn:
        self.problem(code, message, hint, node)
        raise _Fail

    def type_of(self, node: Node) -> Type:
        handler = _HANDLERS[type(node)]
        result = handler(self, node)
        self.types[id(node)] = result
        return result

    # -- leaves -----------------------------------------------------------------------------
    def literal(self, node: Literal) -> Type:
        value = node.value
        if isinstance(value, bool):
            return BOOL
        if isinstance(value, (int, float)):
            return NUMBER
        if isinstance(value, dt.date):
            return DATE
        return Type("string", options=None)

    def list_literal(self, node: ListLiteral) -> Type:
        if not node.items:
            self.fail("empty-list", "the list is empty", "list at least one value", node)
        item_types = [self.type_of(item) for item in node.items]
        kinds = {t.kind for t in item_types}
        if len(kinds) > 1 or not all(isinstance(item, Literal) for item in node.items):
            self.fail(
                "list-values",
                "a list must hold values of one kind written out in full (all texts or all numbers)",
                'e.g. ["domestic_violence", "stalking"]',
                node,
            )
        return Type("list", item=item_types[0])

    def name(self, node: Name) -> Type:
        question = self.catalogue.questions.get(node.id)
        if question is None:
            if node.id in self.catalogue.scores:
                self.fail(
                    "score-as-name",
                    f'"{node.id}" is a score, not a question',
                    f"use score({node.id}) for its points or level({node.id}) for its level",
                    node,
                )
            word = _YAML_11_BOOLEANS.get(node.id.lower())
            if word is not None:
                self.fail(
                    "unknown-question",
                    f'"{node.id}" is not a question in this ruleset: conditions write yes and no as true and false',
                    f"write {word} instead of {node.id}, without quotes" + ("; for a yes/no question 'q == true' can also be written as just 'q'" if word == "true" else ""),
                    node,
                )
            hint = did_you_mean(node.id, self.catalogue.questions)
            self.fail(
                "unknown-question",
                f'"{node.id}" is not a question in this ruleset',
                hint or "check the spelling against the question ids",
                node,
            )
        self.questions.append(node.id)
        kind = QUESTION_TYPES[question.type]
        options = question.options if kind in ("string", "set") else None
        return Type(kind, options=options, question=question.id)

    # -- operators --------------------------------------------------------------------------
    def not_(self, node: Not) -> Type:
        self.expect(node.operand, "bool", "'not' applies to a yes/no condition")
        return BOOL

    def negate(self, node: Negate) -> Type:
        self.expect(node.operand, "number", "'-' applies to a number")
        return NUMBER

    def bool_op(self, node: BoolOp) -> Type:
        failed = False
        for operand in node.operands:
            try:
                self.expect(operand, "bool", f"each side of '{node.op}' must be a yes/no condition")
            except _Fail:
                failed = True
        if failed:
            raise _Fail
        return BOOL

    def arith(self, node: Arith) -> Type:
        self.expect(node.left, "number", f"'{node.op}' works on numbers")
        self.expect(node.right, "number", f"'{node.op}' works on numbers")
        if node.op == "/" and not (isinstance(node.right, Literal) and node.right.value != 0):
            self.fail(
                "division",
                "division is only allowed by a number written out, other than 0",
                "e.g. score(needs) / 2",
                node.right,
            )
        return NUMBER

    def expect(self, node: Node, kind: str, message: str) -> Type:
        node_type = self.type_of(node)
        if node_type.kind != kind:
            hint = _comparison_hint(node_type) if kind == "bool" else ""
            self.fail("type-mismatch", f"{message}, but this is {node_type.describe()}", hint, node)
        return node_type

    def compare(self, node: Compare) -> Type:
        left = self.type_of(node.left)
        right = self.type_of(node.right)
        if left.kind == "text" or right.kind == "text":
            self.fail(
                "text-compared",
                "free-text answers cannot be compared",
                "use answered(question) to test whether it was answered",
                node.left if left.kind == "text" else node.right,
            )
        if node.op in ("in", "not in"):
            self.membership(node, left, right)
        elif node.op in ("==", "!="):
            self.equality(node, left, right)
        else:
            self.ordering(node, left, right)
        return BOOL

    def equality(self, node: Compare, left: Type, right: Type) -> None:
        if left.kind == "level" or right.kind == "level":
            level, other_node, other = (left, node.right, right) if left.kind == "level" else (right, node.left, left)
            self.level_literal(level, other_node, other)
            return
        if left.kind == "string" and right.kind == "string":
            self.choice_value(left, node.right)
            self.choice_value(right, node.left)
            return
        if left.kind == "set" or right.kind == "set":
            self.fail(
                "type-mismatch",
                "a multiple-choice answer cannot be compared with '==': it can hold several values",
                'test one value with "value" in question, or count(question)',
                node,
            )
        if left.kind != right.kind:
            self.mismatch(node, left, right)

    def ordering(self, node: Compare, left: Type, right: Type) -> None:
        if left.kind == "level" or right.kind == "level":
            level, other_node, other = (left, node.right, right) if left.kind == "level" else (right, node.left, left)
            self.level_literal(level, other_node, other)
            return
        if left.kind != right.kind or left.kind not in ("number", "date"):
            if left.kind == right.kind:
                self.fail(
                    "type-mismatch",
                    f"'{node.op}' compares numbers, dates or levels, but these are {left.describe()}",
                    "use == or 'in' for choices",
                    node,
                )
            self.mismatch(node, left, right)

    def mismatch(self, node: Compare, left: Type, right: Type) -> None:
        question = left.question or right.question
        about = f' (the question "{question}" is {(left if left.question else right).describe()})' if question else ""
        self.fail(
            "type-mismatch",
            f"'{node.op}' compares {left.describe()} with {right.describe()}{about}",
            "compare values of the same kind",
            node,
        )

    def membership(self, node: Compare, left: Type, right: Type) -> None:
        if right.kind == "set":
            if left.kind != "string" or not isinstance(node.left, Literal):
                self.fail(
                    "type-mismatch",
                    f"'{node.op}' with a multiple-choice answer needs a value written out on its left",
                    '"children" in household',
                    node.left,
                )
            self.choice_value(right, node.left)
            return
        if right.kind != "list":
            self.fail(
                "type-mismatch",
                f"'{node.op}' needs a list or a multiple-choice answer on its right, but this is {right.describe()}",
                'e.g. crime_type in ["domestic_violence", "stalking"]',
                node.right,
            )
        assert right.item is not None
        assert isinstance(node.right, ListLiteral)
        if left.kind == "level":
            for item in node.right.items:
                self.level_literal(left, item, right.item)
            return
        if left.kind != right.item.kind or left.kind not in ("string", "number"):
            self.fail(
                "type-mismatch",
                f"'{node.op}' looks for {left.describe()} in a list of {right.item.describe()} values",
                "compare values of the same kind",
                node,
            )
        if left.kind == "string":
            for item in node.right.items:
                self.choice_value(left, item)

    def choice_value(self, choice: Type, value_node: Node) -> None:
        if choice.options is None or not isinstance(value_node, Literal):
            return
        value = value_node.value
        if value not in choice.options:
            hint = did_you_mean(str(value), choice.options)
            listed = ", ".join(f'"{o}"' for o in choice.options[:12])
            self.problem(
                "unknown-option",
                f'"{value}" is not an option of the question "{choice.question}"',
                hint or f"its options are {listed}",
                value_node,
            )

    def level_literal(self, level: Type, value_node: Node, value_type: Type) -> None:
        if not (isinstance(value_node, Literal) and value_type.kind == "string"):
            self.fail(
                "type-mismatch",
                "a level can only be compared with a level name written out",
                'e.g. level(dv_risk) == "high"',
                value_node,
            )
        assert isinstance(value_node, Literal)
        levels = self.catalogue.scores.get(level.score or "", ())
        if value_node.value not in levels:
            hint = did_you_mean(str(value_node.value), levels)
            self.problem(
                "unknown-level",
                f'"{value_node.value}" is not a level of the score "{level.score}"',
                hint or f"its levels are {', '.join(levels)}",
                value_node,
            )

    # -- functions --------------------------------------------------------------------------
    def call(self, node: Call) -> Type:
        spec = FUNCTIONS.get(node.function)
        if spec is None:
            hint = did_you_mean(node.function, FUNCTIONS)
            self.fail(
                "unknown-function",
                f"'{node.function}' is not a function of the condition language",
                hint or f"the functions are {', '.join(sorted(FUNCTIONS))}",
                node,
            )
        return spec.check(self, node)

    def arity(self, node: Call, count: int) -> None:
        if len(node.args) != count:
            spec = FUNCTIONS[node.function]
            self.fail(
                "wrong-arguments",
                f"{node.function}() takes {count} argument{'s' if count != 1 else ''}, but {len(node.args)} were given",
                f"e.g. {spec.example}",
                node,
            )

    def question_arg(self, node: Call, kinds: tuple[str, ...] | None = None) -> Type:
        self.arity(node, 1)
        arg = node.args[0]
        if not isinstance(arg, Name):
            self.fail("wrong-arguments", f"{node.function}() takes a question id", f"e.g. {FUNCTIONS[node.function].example}", arg)
        arg_type = self.type_of(arg)
        if kinds and arg_type.kind not in kinds:
            self.fail(
                "type-mismatch",
                f"{node.function}() needs {' or '.join(Type(k).describe() for k in kinds)} question, but \"{arg.id}\" is {arg_type.describe()}",
                f"e.g. {FUNCTIONS[node.function].example}",
                arg,
            )
        return arg_type

    def score_arg(self, node: Call, *, own_allowed: bool) -> str:
        self.arity(node, 1)
        arg = node.args[0]
        if not isinstance(arg, Name) or arg.id not in self.catalogue.scores:
            name = arg.id if isinstance(arg, Name) else ""
            hint = did_you_mean(name, self.catalogue.scores) if name else ""
            shown = f'"{name}"' if name else "this"
            self.fail(
                "unknown-score",
                f"{node.function}() takes a score id, but {shown} is not a score",
                hint or f"the scores are {', '.join(self.catalogue.scores) or '(none)'}",
                arg,
            )
        assert isinstance(arg, Name)
        own = arg.id == self.catalogue.own_score
        if own and not own_allowed:
            self.fail(
                "score-cycle",
                f"the score \"{arg.id}\" cannot use its own {node.function}() here",
                "a score's indicators cannot depend on the score itself",
                arg,
            )
        if not own and arg.id not in self.catalogue.visible_scores:
            self.fail(
                "score-order",
                f"the score \"{arg.id}\" is defined later, so it cannot be used here",
                "move the score that is used above the one that uses it",
                arg,
            )
        self.scores.append(arg.id)
        self.types[id(arg)] = NUMBER
        return arg.id


@dataclass(frozen=True)
class FunctionSpec:
    check: Callable[[_Checker, Call], Type]
    example: str
    description: str


def _answered(checker: _Checker, node: Call) -> Type:
    checker.question_arg(node)
    return BOOL


def _count(checker: _Checker, node: Call) -> Type:
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


def _score(checker: _Checker, node: Call) -> Type:
    checker.score_arg(node, own_allowed=True)
    return NUMBER


def _level(checker: _Checker, node: Call) -> Type:
    score = checker.score_arg(node, own_allowed=False)
    return Type("level", score=score)


def _date_function(checker: _Checker, node: Call) -> Type:
    checker.question_arg(node, ("date",))
    return NUMBER


FUNCTIONS: dict[str, FunctionSpec] = {
    "answered": FunctionSpec(_answered, "answered(safe_contact_phone)", "true when the question has an answer (not declined, not 'don't know', not hidden)"),
    "declined": FunctionSpec(_answered, "declined(dependants)", "true when the victim declined to answer the question"),
    "count": FunctionSpec(_count, "count(strangulation, threat_to_kill, weapon)", "how many of the yes/no conditions are true, or how many values a multiple-choice answer holds"),
    "score": FunctionSpec(_score, "score(dv_risk) >= 14", "the points of a score"),
    "critical": FunctionSpec(_score, "critical(dv_risk) >= 1", "how many critical indicators of a score are present"),
    "level": FunctionSpec(_level, 'level(dv_risk) == "high"', "the level of a score"),
    "days_since": FunctionSpec(_date_function, "days_since(crime_date) <= 7", "whole days from a date answer to the assessment date"),
    "years_since": FunctionSpec(_date_function, "years_since(date_of_birth) < 18", "whole years from a date answer to the assessment date (an age)"),
}

_HANDLERS: dict[type, Callable[[_Checker, Node], Type]] = {
    Literal: _Checker.literal,
    ListLiteral: _Checker.list_literal,
    Name: _Checker.name,
    Not: _Checker.not_,
    Negate: _Checker.negate,
    BoolOp: _Checker.bool_op,
    Arith: _Checker.arith,
    Compare: _Checker.compare,
    Call: _Checker.call,
}
