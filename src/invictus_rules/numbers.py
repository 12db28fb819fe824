"""Numbers as people read them: one rule for every text the library writes.

A whole number is written without a decimal point (``3``, not ``3.0``); any other number as Python
writes it (``2.5``). Scores, bounds and points read the same in assessments, docs and messages.
"""

from __future__ import annotations


def format_number(value: float) -> str:
    """``value`` as text: 3 for 3.0, 2.5 for 2.5."""
    return str(int(value)) if float(value).is_integer() else str(value)


def tidy_number(value: float) -> float:
    """``value`` as an int when it is whole (3.0 -> 3), so it prints and serialises like one."""
    return int(value) if float(value).is_integer() else value


__all__ = ["format_number", "tidy_number"]
