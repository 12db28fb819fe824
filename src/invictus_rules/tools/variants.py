"""The variants of a ruleset text: what every victim reads, and what only some read, and when.

A text may hold jinja2 branches on a victim's answers (``{% if answers.lives_with_offender ... %}``).
Rendered without answers those branches vanish, so a reader of the documentation would never see
the sentences some victims receive. ``split_branches`` cuts a text's source at its ``if`` / ``elif``
/ ``else`` / ``endif`` tags (honouring ``{%-`` and ``-%}``) into pieces, each with the branches that
lead to it; ``condition_words`` says a branch's condition in plain words by reading it as a
condition of the rule language and describing it with :mod:`.prose`. A text with any other tag
(a loop, an assignment) is not split: the caller shows it as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..compiled import CompiledRuleset
from ..expr.parser import ExprSyntaxError, parse
from .prose import describe

_TAG = re.compile(r"\{%(-?)\s*(\w+)(.*?)\s*(-?)%\}", re.S)
_BRANCH_TAGS = frozenset({"if", "elif", "else", "endif"})


@dataclass(frozen=True)
class Branch:
    """One open ``if`` on the way to a piece: the test of the branch taken, and the tests before it."""

    test: str
    """The jinja2 expression of this branch ('' for an ``else``)."""
    earlier: tuple[str, ...] = ()
    """The expressions of the branches before it, all false when this one is taken."""


@dataclass(frozen=True)
class Piece:
    """A stretch of a text's source and the branches under which a victim reads it (none: always)."""

    source: str
    branches: tuple[Branch, ...] = ()


def split_branches(source: str) -> list[Piece] | None:
    """The text's source in pieces by branch, or None when it holds a tag other than if/elif/else/endif."""
    pieces: list[Piece] = []
    open_ifs: list[Branch] = []
    position, strip_next = 0, False
    for tag in _TAG.finditer(source):
        keyword, expression = tag.group(2), tag.group(3).strip()
        if keyword not in _BRANCH_TAGS or (keyword != "if" and not open_ifs):
            return None
        text = source[position : tag.start()]
        text = text.lstrip() if strip_next else text
        _add(pieces, text.rstrip() if tag.group(1) else text, open_ifs)
        strip_next, position = bool(tag.group(4)), tag.end()
        if keyword == "if":
            open_ifs.append(Branch(expression))
        elif keyword == "endif":
            open_ifs.pop()
        else:
            before = open_ifs.pop()
            open_ifs.append(Branch(expression if keyword == "elif" else "", (*before.earlier, before.test)))
    if open_ifs:
        return None
    tail = source[position:]
    _add(pieces, tail.lstrip() if strip_next else tail, open_ifs)
    return pieces


def _add(pieces: list[Piece], text: str, open_ifs: list[Branch]) -> None:
    if not text.strip():
        return
    branches = tuple(open_ifs)
    if pieces and pieces[-1].branches == branches:
        pieces[-1] = Piece(pieces[-1].source + text, branches)
    else:
        pieces.append(Piece(text, branches))


# jinja2 tests on answers, read as conditions of the rule language (the forms rulesets use)
_REWRITES = (
    (re.compile(r"answers\.(\w+)\s+is\s+not\s+defined"), r"not answered(\1)"),
    (re.compile(r"answers\.(\w+)\s+is\s+defined"), r"answered(\1)"),
    (re.compile(r"answers\.(\w+)\s*\|\s*default\((?:[^()'\"]|'[^']*'|\"[^\"]*\")*\)"), r"\1"),
    (re.compile(r"answers\.(\w+)"), r"\1"),
    (re.compile(r"\b(\w+)\s+is\s+(?:number|string)\b"), r"answered(\1)"),
    (re.compile(r"scores\.(\w+)\.level\b"), r"level(\1)"),
    (re.compile(r"scores\.(\w+)\.points\b"), r"score(\1)"),
    (re.compile(r"\bis\s+not\s+true\b"), "!= true"),
    (re.compile(r"\bis\s+not\s+false\b"), "!= false"),
    (re.compile(r"\bis\s+true\b"), "== true"),
    (re.compile(r"\bis\s+false\b"), "== false"),
    (re.compile(r"'([^'\"]*)'"), r'"\1"'),
)


def as_rule_language(expression: str) -> str:
    """A jinja2 test on answers written as a condition of the rule language (best effort)."""
    for pattern, replacement in _REWRITES:
        expression = pattern.sub(replacement, expression)
    return expression


def condition_words(expression: str, ruleset: CompiledRuleset, language: str) -> str | None:
    """A branch's test in plain words, or None when it is not a condition the rule language can read."""
    try:
        node = parse(as_rule_language(expression))
        return describe(node, ruleset, language)
    except (ExprSyntaxError, KeyError, AttributeError, TypeError, ValueError):
        return None


__all__ = ["Branch", "Piece", "as_rule_language", "condition_words", "split_branches"]
