"""Numbers read the same in every text: whole numbers without a decimal point."""

from __future__ import annotations

import pytest

from invictus_rules.numbers import format_number, tidy_number


@pytest.mark.parametrize(("value", "expected"), [(3, "3"), (3.0, "3"), (-2.0, "-2"), (2.5, "2.5"), (0.1, "0.1"), (0, "0")])
def test_format_number(value, expected):
    """3.0 is written 3; other numbers as Python writes them."""
    assert format_number(value) == expected


def test_tidy_number_makes_whole_floats_ints():
    """A whole float becomes an int (so JSON shows 3, not 3.0); others are left alone."""
    assert tidy_number(3.0) == 3 and type(tidy_number(3.0)) is int
    assert tidy_number(2.5) == 2.5
