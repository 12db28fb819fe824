"""Parser of the condition language.

Grammar (lowest precedence first)::

    condition  := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := sum (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in") sum)?
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | atom
    atom       := NUMBER | STRING | DATE | "true" | "false" | NAME | NAME "(" args ")"
                | "[" [condition ("," condition)*] "]" | "(" condition ")"

Comparisons do not chain (``1 < a < 3`` is an error: write ``a > 1 and a < 3``). Dates are written
``2025-06-01``. Strings use double or single quotes. Nesting and length are bounded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import TreePath
from .language import COMPARISONS, OPERATORS
from .nodes import (
    Arith,
    BoolOp,
    Call,
    Compare,
    ListLiteral,
    Literal,
    Name,
    Negate,
    Node,
    Not,
    Span,
)

MAX_LENGTH = 4000
MAX_DEPTH = 40
MAX_DIGITS = 30
"""Digits of a number written in a condition: the limit of numbers in the YAML itself."""

KEYWORDS = {"and", "or", "not", "in", "true", "false"}

SYMBOLS = frozenset(name for name in OPERATORS if name != "neg" and not set(name.split()) <= KEYWORDS)
"""The operators written as symbols (``==``, ``+``...), from the table: all but the keyword ones
(``and``, ``not in``...) and ``neg``, the unary minus, which is written ``-``."""

RELATIONS = SYMBOLS & frozenset(COMPARISONS)
"""The comparison operators written as symbols; ``in`` and ``not in`` are read as keywords."""

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}(?![\w.]))
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?![\w]))
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>{symbols}|\(|\)|\[|\]|,)
    """.replace("{symbols}", "|".join(re.escape(symbol) for symbol in sorted(SYMBOLS, key=lambda s: (-len(s), s)))),
    re.VERBOSE,
)
"""The tokens; the operators' symbols come from the table, the longest first (``<=`` before ``<``)."""

_LOOKALIKES = {
    "=": ("'=' alone is not an operator", 'to compare, write "==", e.g. crime_type == "robbery"'),
    "&&": ("'&&' is not an operator", "write 'and'"),
    "||": ("'||' is not an operator", "write 'or'"),
    "!": ("'!' is not an operator", "write 'not' (or '!=' for 'is not equal to')"),
    ".": ("attribute access with '.' is not part of the condition language", "use a question id or a function such as level(score_id)"),
}


class ExprSyntaxError(Exception):
    """A syntax error at character ``start`` (0-based) of the condition text."""

    def __init__(self, message: str, start: int, end: int, hint: str = "", code: str = "condition-syntax"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.start = start
        self.end = max(end, start + 1)
        self.hint = hint


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            for bad, (message, hint) in _LOOKALIKES.items():
                if text.startswith(bad, position):
                    raise ExprSyntaxError(message, position, position + len(bad), hint)
            char = text[position]
            foreign = re.match(r"[0-9]*([^\W0-9_])?", text[position:])
            if char.isdigit() or (foreign and foreign.group(1) and foreign.group(1).isdigit()):
                at = position if char.isdigit() and not char.isascii() else position + (foreign.start(1) if foreign else 0)
                raise ExprSyntaxError(
                    f"{text[at]!r} (U+{ord(text[at]):04X}) is a digit of another script",
                    at,
                    at + 1,
                    "write numbers with the digits 0-9",
                )
            if char in "\"'":
                raise ExprSyntaxError("this text is not closed with a matching quote", position, len(text), f"add {char} at the end of the text")
            raise ExprSyntaxError(f"unexpected character {char!r}", position, position + 1, "conditions use question ids, numbers, \"text\", and/or/not, comparisons and functions")
        kind = match.lastgroup or ""
        if kind != "space":
            token_text = match.group()
            if kind == "name" and token_text in KEYWORDS:
                kind = token_text
            tokens.append(Token(kind, token_text, match.start(), match.end()))
        position = match.end()
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens


MAX_TREE_DEPTH = 250
"""Levels of a condition's tree. Brackets, 'not' and '-' are limited to MAX_DEPTH, but a chain of
'+' or '*' adds a level per operator (``a + b + c`` is ``(a + b) + c``): the stages that walk the
tree recursively (type checks, closures, explanations) must stay within Python's recursion limit."""


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (Arith, Compare)):
        return (node.left, node.right)
    if isinstance(node, BoolOp):
        return node.operands
    if isinstance(node, Call):
        return node.args
    if isinstance(node, (Not, Negate)):
        return (node.operand,)
    if isinstance(node, ListLiteral):
        return node.items
    return ()


def _too_deep(root: Node) -> Node | None:
    """The lowest node of ``root``'s tree that lies more than MAX_TREE_DEPTH levels deep, if any."""
    depths: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, visited = stack.pop()
        children = _children(node)
        if not visited:
            stack.append((node, True))
            stack.extend((child, False) for child in children)
            continue
        depth = 1 + max((depths[id(child)] for child in children), default=0)
        if depth > MAX_TREE_DEPTH:
            return node
        depths[id(node)] = depth
    return None


def parse(text: str, path: TreePath = ()) -> Node:
    """Parse condition text into a tree, or raise ExprSyntaxError."""
    if len(text) > MAX_LENGTH:
        raise ExprSyntaxError(
            f"the condition is {len(text)} characters long; the limit is {MAX_LENGTH}",
            0,
            1,
            "split it with 'all:' or 'any:' lists, or move parts into score items",
        )
    if not text.strip():
        raise ExprSyntaxError("the condition is empty", 0, 1, "write a condition, or 'true' to always apply")
    tokens = tokenize(text)
    tree = _Parser(text, tokens, path).parse()
    deepest = _too_deep(tree) if len(tokens) > MAX_TREE_DEPTH else None  # each level takes a token
    if deepest is not None:
        start = deepest.span.start
        raise ExprSyntaxError(
            f"the condition nests more than {MAX_TREE_DEPTH} levels deep: each '+', '-', '*' or '/' in a row adds one",
            start,
            start + 1,
            "add many answers up in a score instead, or split the condition with 'all:' / 'any:' lists",
        )
    return tree


class _Parser:
    def __init__(self, text: str, tokens: list[Token], path: TreePath):
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.path = path
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def span(self, start: int) -> Span:
        end = self.tokens[self.index - 1].end if self.index else start
        return Span(self.path, start, end)

    def expect(self, kind: str, what: str) -> Token:
        if self.token.kind != kind:
            self.fail(f"expected {what}", self.token)
        return self.advance()

    def fail(self, message: str, token: Token, hint: str = "") -> None:
        found = "the end of the condition" if token.kind == "end" else f"'{token.text}'"
        raise ExprSyntaxError(f"{message}, but found {found}", token.start, token.end, hint)

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprSyntaxError(
                f"the condition nests more than {MAX_DEPTH} levels deep",
                token.start,
                token.end,
                "simplify it, or split it with 'all:' / 'any:' lists",
            )

    def parse(self) -> Node:
        node = self.or_expr()
        if self.token.kind != "end":
            hint = ""
            if self.token.kind in ("name", "string", "number", "date"):
                hint = "did you forget 'and', 'or' or a comparison between two parts?"
            self.fail("expected the end of the condition", self.token, hint)
        return node

    def or_expr(self) -> Node:
        return self._bool_chain("or", self.and_expr)

    def and_expr(self) -> Node:
        return self._bool_chain("and", self.not_expr)

    def _bool_chain(self, op: str, operand: Callable[[], Node]) -> Node:
        start = self.token.start
        operands = [operand()]
        while self.token.kind == op:
            self.advance()
            operands.append(operand())
        if len(operands) == 1:
            return operands[0]
        flat: list[Node] = []
        for item in operands:
            flat.extend(item.operands if isinstance(item, BoolOp) and item.op == op else (item,))
        return BoolOp(op, tuple(flat), self.span(start))

    def not_expr(self) -> Node:
        if self.token.kind == "not":
            token = self.advance()
            self.enter(token)
            operand = self.not_expr()
            self.depth -= 1
            return Not(operand, self.span(token.start))
        return self.comparison()

    def comparison(self) -> Node:
        start = self.token.start
        left = self.sum()
        token = self.token
        op = None
        if token.kind == "op" and token.text in RELATIONS:
            op = token.text
            self.advance()
        elif token.kind == "in":
            op = "in"
            self.advance()
        elif token.kind == "not" and self.tokens[self.index + 1].kind == "in":
            op = "not in"
            self.advance()
            self.advance()
        if op is None:
            return left
        right = self.sum()
        after = self.token
        if after.kind == "op" and after.text in RELATIONS or after.kind == "in":
            self.fail(
                "comparisons cannot be chained",
                after,
                "write two comparisons joined by 'and', e.g. age >= 12 and age < 18",
            )
        return Compare(op, left, right, self.span(start))

    def sum(self) -> Node:
        start = self.token.start
        node = self.product()
        while self.token.kind == "op" and self.token.text in ("+", "-"):
            op = self.advance().text
            node = Arith(op, node, self.product(), self.span(start))
        return node

    def product(self) -> Node:
        start = self.token.start
        node = self.unary()
        while self.token.kind == "op" and self.token.text in ("*", "/"):
            op = self.advance().text
            node = Arith(op, node, self.unary(), self.span(start))
        return node

    def unary(self) -> Node:
        if self.token.kind == "op" and self.token.text == "-":
            token = self.advance()
            self.enter(token)
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, Literal) and isinstance(operand.value, (int, float)) and not isinstance(operand.value, bool):
                return Literal(-operand.value, self.span(token.start))
            return Negate(operand, self.span(token.start))
        return self.atom()

    def atom(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.advance()
            digits = len(token.text) - ("." in token.text)
            if digits > MAX_DIGITS:
                raise ExprSyntaxError(
                    f"the number has {digits} digits; numbers in rulesets are limited to {MAX_DIGITS}",
                    token.start,
                    token.end,
                    "use a realistic value",
                    code="number-too-large",
                )
            value = float(token.text) if "." in token.text else int(token.text)
            return Literal(value, Span(self.path, token.start, token.end))
        if token.kind == "string":
            self.advance()
            return Literal(_unquote(token.text), Span(self.path, token.start, token.end))
        if token.kind == "date":
            self.advance()
            try:
                day = dt.date.fromisoformat(token.text)
            except ValueError:
                raise ExprSyntaxError(f"'{token.text}' is not a real date", token.start, token.end, "write dates as YYYY-MM-DD") from None
            return Literal(day, Span(self.path, token.start, token.end))
        if token.kind in ("true", "false"):
            self.advance()
            return Literal(token.kind == "true", Span(self.path, token.start, token.end))
        if token.kind == "name":
            self.advance()
            if self.token.kind == "op" and self.token.text == "(":
                return self.call(token)
            return Name(token.text, Span(self.path, token.start, token.end))
        if token.kind == "op" and token.text == "(":
            self.advance()
            self.enter(token)
            node = self.or_expr()
            self.depth -= 1
            self.expect_close(")", token)
            return node
        if token.kind == "op" and token.text == "[":
            self.advance()
            self.enter(token)
            items: list[Node] = []
            if not (self.token.kind == "op" and self.token.text == "]"):
                items.append(self.or_expr())
                while self.token.kind == "op" and self.token.text == ",":
                    self.advance()
                    items.append(self.or_expr())
            self.depth -= 1
            self.expect_close("]", token)
            return ListLiteral(tuple(items), self.span(token.start))
        self.fail("expected a value, a question id or '('", token)
        raise AssertionError("unreachable")

    def call(self, name: Token) -> Node:
        open_token = self.advance()
        self.enter(open_token)
        args: list[Node] = []
        if not (self.token.kind == "op" and self.token.text == ")"):
            args.append(self.or_expr())
            while self.token.kind == "op" and self.token.text == ",":
                self.advance()
                args.append(self.or_expr())
        self.depth -= 1
        self.expect_close(")", open_token)
        return Call(name.text, tuple(args), self.span(name.start))

    def expect_close(self, char: str, opened: Token) -> None:
        if self.token.kind == "op" and self.token.text == char:
            self.advance()
            return
        self.fail(
            f"expected '{char}' to close the '{opened.text}' at character {opened.start + 1}",
            self.token,
            f"add '{char}'" if self.token.kind == "end" else "check the brackets and commas",
        )


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)
