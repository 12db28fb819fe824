"""Compile checked conditions into small Python closures with three-valued logic.

Every branch is settled at compile time (which operator, which types, which level a level name
means); evaluation only computes. The values seen at run time are those of :mod:`.values`: an
answer, ``None`` (unknown), ``ABSENT`` (not asked) or an ``Interval`` (a number not yet decided).
Boolean results are ``True``, ``False`` or ``None`` (unknown), combined with Kleene logic.

This module compiles the leaves (values written out, question ids); each operator and function
brings its own closure builder, its entry in :mod:`.language`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .language import FUNCTIONS, is_whole, operator_of
from .nodes import Call, ListLiteral, Literal, Name, Node
from .types import Type
from .values import ABSENT, Env, Fn


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
    return Compiler(types, level_index, whole_questions, fractional_scores).compile(node)


class Compiler:
    """Compiles the nodes of one checked condition; the operators and functions bring their own
    closure builders (.language)."""

    def __init__(self, types: dict[int, Type], level_index: dict[str, dict[str, int]], whole_questions: frozenset[str] = frozenset(), fractional_scores: frozenset[str] = frozenset()):
        self.types = types
        self.level_index = level_index
        self.whole_questions = whole_questions
        self.fractional_scores = fractional_scores

    def compile(self, node: Node) -> Fn:
        handler = _DISPATCH.get(type(node))
        # an operator's builder is called from here, not through a method: each level of nesting
        # costs as few stack frames as before the table
        return handler(self, node) if handler is not None else operator_of(node).compile(self, node)

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

    def call(self, node: Call) -> Fn:
        return FUNCTIONS[node.function].compile(self, node)


_DISPATCH: dict[type, Callable[[Compiler, Any], Fn]] = {
    Literal: Compiler.literal,
    ListLiteral: Compiler.list_literal,
    Name: Compiler.name,
    Call: Compiler.call,
}

__all__ = ["Compiler", "Fn", "compile_condition", "is_whole"]
