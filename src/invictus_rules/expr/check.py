"""Type checking of conditions against the questionnaire, before any case arrives.

Names are checked against the catalogue of questions and scores ("did you mean"), choice values
against the question's options, level names against the score's levels, and operands against the
operators' types (each operator's and function's type rule is its entry in :mod:`.language`). A condition that passes cannot fail at evaluation time on validated answers.
The checker records each node's type for the compiler and the set of questions and scores read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ..suggest import did_you_mean
from .language import FUNCTIONS, operator_of
from .nodes import Call, ListLiteral, Literal, Name, Node, Span
from .types import BOOL, DATE, NUMBER, QUESTION_TYPES, CheckFailed, Type

_YAML_11_BOOLEANS = {"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false", "off": "false"}
"""Words older YAML read as booleans; in a condition they would be unknown question ids."""


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


def check(node: Node, catalogue: Catalogue, *, expect_bool: bool = True) -> Checked:
    """Type-check ``node``; problems are collected in the result rather than raised."""
    checker = Checker(catalogue)
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
    except CheckFailed:
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


class Checker:
    """Types the nodes of one condition; the operators and functions bring their own rules (.language)."""

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
        raise CheckFailed

    def type_of(self, node: Node) -> Type:
        handler = _HANDLERS.get(type(node))
        # an operator's rule is called from here, not through a method: each level of nesting costs
        # as few stack frames as before the table (long chains of '+' must not hit the recursion limit)
        result = handler(self, node) if handler is not None else operator_of(node).check(self, node)
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

    # -- operators and functions: each brings its own type rule (.language) ---------------------
    def expect(self, node: Node, kind: str, message: str) -> Type:
        node_type = self.type_of(node)
        if node_type.kind != kind:
            hint = _comparison_hint(node_type) if kind == "bool" else ""
            self.fail("type-mismatch", f"{message}, but this is {node_type.describe()}", hint, node)
        return node_type

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


# the leaves and calls, keyed by node class (operators go to their entry), so each handler gets the subclass it names (Any: a dict cannot say so)
_HANDLERS: dict[type, Callable[[Checker, Any], Type]] = {
    Literal: Checker.literal,
    ListLiteral: Checker.list_literal,
    Name: Checker.name,
    Call: Checker.call,
}

__all__ = ["BOOL", "DATE", "NUMBER", "QUESTION_TYPES", "Catalogue", "Checked", "Checker", "QuestionInfo", "Type", "TypeProblem", "check"]
