"""Small builders of Python ``ast`` nodes, for the code the fast path generates.

Ruleset ids and values only ever enter generated code as ``ast.Constant`` nodes or as names bound to
constants, never as source text.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any


def name(identifier: str, store: bool = False) -> ast.Name:
    return ast.Name(identifier, ast.Store() if store else ast.Load())


def const(value: Any) -> ast.expr:
    return ast.Constant(value)


def call(function: str, *args: ast.expr) -> ast.Call:
    return ast.Call(name(function), list(args), [])


def method(target: ast.expr, method_name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(ast.Attribute(target, method_name, ast.Load()), list(args), [])


def compare(left: ast.expr, op: ast.cmpop, right: ast.expr) -> ast.Compare:
    return ast.Compare(left, [op], [right])


def sum_of(terms: Sequence[ast.expr]) -> ast.expr:
    """``sum((a, b, ...))``: flat however many terms (a chain of '+' would nest one level per term, past
    the recursion limits of ``ast`` and of Python's compiler at about a thousand)."""
    return call("sum", ast.Tuple(list(terms), ast.Load())) if terms else const(0)


def and_(parts: Sequence[ast.expr]) -> ast.expr:
    return parts[0] if len(parts) == 1 else ast.BoolOp(ast.And(), list(parts))


def assign(target: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([name(target, store=True)], value)


__all__ = ["and_", "assign", "call", "compare", "const", "method", "name", "sum_of"]
