"""Syntax tree of the condition language.

Every node records where it came from (the YAML path of the scalar and the character offsets inside
it) so that type errors, lint findings and diffs can point at the source. Nodes are frozen and compare
by structure only, never by position: two conditions that differ only in layout are equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import TreePath


@dataclass(frozen=True)
class Span:
    """The YAML path of the condition text and character offsets [start, end) inside it."""

    path: TreePath = ()
    start: int = 0
    end: int = 0


_SPAN = field(default=Span(), compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class Literal:
    value: bool | int | float | str | dt.date
    span: Span = _SPAN


@dataclass(frozen=True)
class ListLiteral:
    items: tuple[Node, ...]
    span: Span = _SPAN


@dataclass(frozen=True)
class Name:
    id: str
    span: Span = _SPAN


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]
    span: Span = _SPAN


@dataclass(frozen=True)
class Not:
    operand: Node
    span: Span = _SPAN


@dataclass(frozen=True)
class Negate:
    operand: Node
    span: Span = _SPAN


@dataclass(frozen=True)
class BoolOp:
    """``and`` / ``or`` over two or more operands (flattened: ``a and b and c`` is one node)."""

    op: str
    operands: tuple[Node, ...]
    span: Span = _SPAN


@dataclass(frozen=True)
class Compare:
    """``==  !=  <  <=  >  >=  in  not in``."""

    op: str
    left: Node
    right: Node
    span: Span = _SPAN


@dataclass(frozen=True)
class Arith:
    """``+  -  *  /`` on numbers."""

    op: str
    left: Node
    right: Node
    span: Span = _SPAN


Node = Literal | ListLiteral | Name | Call | Not | Negate | BoolOp | Compare | Arith

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7, "atom": 8}


def unparse(node: Node) -> str:
    """The condition as canonical text: one spelling of each operator, minimal parentheses."""
    return _unparse(node, 0)


def _wrap(text: str, own: int, outer: int) -> str:
    return f"({text})" if own < outer else text


def _unparse(node: Node, outer: int) -> str:
    if isinstance(node, Literal):
        return format_literal(node.value)
    if isinstance(node, ListLiteral):
        return "[" + ", ".join(_unparse(item, 0) for item in node.items) + "]"
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Call):
        return f"{node.function}(" + ", ".join(_unparse(arg, 0) for arg in node.args) + ")"
    if isinstance(node, Not):
        own = _PRECEDENCE["not"]
        return _wrap("not " + _unparse(node.operand, own), own, outer)
    if isinstance(node, Negate):
        own = _PRECEDENCE["neg"]
        return _wrap("-" + _unparse(node.operand, own), own, outer)
    if isinstance(node, BoolOp):
        own = _PRECEDENCE[node.op]
        return _wrap(f" {node.op} ".join(_unparse(o, own + 1) for o in node.operands), own, outer)
    if isinstance(node, Compare):
        own = _PRECEDENCE["compare"]
        return _wrap(f"{_unparse(node.left, own + 1)} {node.op} {_unparse(node.right, own + 1)}", own, outer)
    if isinstance(node, Arith):
        own = _PRECEDENCE[node.op]
        return _wrap(f"{_unparse(node.left, own)} {node.op} {_unparse(node.right, own + 1)}", own, outer)
    raise TypeError(f"not a condition node: {node!r}")


def format_literal(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, ListLiteral):
            stack.extend(reversed(current.items))
        elif isinstance(current, Call):
            stack.extend(reversed(current.args))
        elif isinstance(current, (Not, Negate)):
            stack.append(current.operand)
        elif isinstance(current, BoolOp):
            stack.extend(reversed(current.operands))
        elif isinstance(current, (Compare, Arith)):
            stack.extend((current.right, current.left))
