"""The values of the condition language at evaluation time.

- an answer (bool, int, float, str, frozenset for multiple choice, datetime.date);
- ``None``: unknown: not answered yet, declined, or "don't know";
- :data:`ABSENT`: the question is not asked (its ``ask_if`` is false): every test on it is false;
- :class:`Interval` ``(lo, hi)``: a number not yet decided, e.g. a score over unanswered indicators.

:class:`Env` is what a compiled condition reads; :func:`age_in_years` is the one rule for ages.
Nothing here knows about syntax trees: the evaluator, the fast path and the tools share these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any


class _Absent:
    """The value of a question that is not asked."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"

    def __reduce__(self) -> str:
        return "ABSENT"  # unpickles as this module's one ABSENT, so identity tests still hold


ABSENT: Any = _Absent()


class Interval:
    """A number known to lie in [lo, hi]."""

    __slots__ = ("lo", "hi")

    def __init__(self, lo: float, hi: float):
        self.lo = lo
        self.hi = hi

    def __repr__(self) -> str:
        return f"Interval({self.lo}, {self.hi})"


def make_number(lo: float, hi: float) -> Any:
    """A plain number when decided, else an Interval."""
    return lo if lo == hi else Interval(lo, hi)


def bounds(value: Any) -> tuple[Any, Any]:
    """The ends of a number: an Interval's, or the number twice."""
    if type(value) is Interval:
        return value.lo, value.hi
    return value, value


class Env:
    """What a condition reads at evaluation time."""

    __slots__ = ("values", "declined", "scores", "criticals", "levels", "as_of")

    def __init__(self, values: dict[str, Any], declined: frozenset[str], as_of: dt.date):
        self.values = values
        self.declined = declined
        self.scores: dict[str, Any] = {}
        self.criticals: dict[str, Any] = {}
        self.levels: dict[str, Any] = {}
        self.as_of = as_of


Fn = Callable[[Env], Any]
"""A compiled condition or value: reads an Env, gives a value (True/False/None for a condition)."""


def age_in_years(born: dt.date, on: dt.date) -> int:
    """Whole years from ``born`` to ``on``.

    The anniversary is reached when the month and day are reached; someone born on 29 February
    therefore completes a year on 1 March in years without a 29 February.
    """
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


__all__ = ["ABSENT", "Env", "Fn", "Interval", "age_in_years", "bounds", "make_number"]
