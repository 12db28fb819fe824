"""The types the checker gives the parts of a condition (see :mod:`.check` and :mod:`.language`)."""

from __future__ import annotations

from dataclasses import dataclass


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
    item: Type | None = None
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


class CheckFailed(Exception):
    """Raised by a type rule after it reported a problem: this part of the condition has no type."""


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
"""The kind of value each question type gives a condition."""

__all__ = ["BOOL", "DATE", "NUMBER", "QUESTION_TYPES", "CheckFailed", "Type"]
