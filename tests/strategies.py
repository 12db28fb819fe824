"""Hypothesis strategies that build cases from a ruleset's questionnaire."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from invictus_rules import Ruleset
from invictus_rules.model import Question

MARKERS = st.sampled_from([{"status": "declined"}, {"status": "unknown"}, None])


def valid_answer(question: Question) -> st.SearchStrategy[Any]:
    """Any value the question accepts."""
    kind = question.type
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        low = int(question.min) if question.min is not None else -1000
        high = int(question.max) if question.max is not None else 1000
        if kind == "integer":
            return st.integers(low, high)
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    values = [o.value for o in question.options or ()]
    if kind == "single_choice":
        return st.sampled_from(values)
    if kind == "multiple_choice":
        return st.lists(st.sampled_from(values), unique=True).map(list)
    if kind == "date":
        return st.dates(dt.date(1920, 1, 1), dt.date(2027, 12, 31)).map(dt.date.isoformat)
    return st.text(max_size=40)


def valid_answers(ruleset: Ruleset) -> st.SearchStrategy[dict[str, Any]]:
    """A partial case: each question answered, marked declined/unknown, or left out."""
    parts = {
        q.id: st.one_of(st.just(_MISSING), MARKERS, valid_answer(q), valid_answer(q))
        for q in ruleset.questions
    }
    return st.fixed_dictionaries(parts).map(lambda d: {k: v for k, v in d.items() if v is not _MISSING})


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)


def any_answers(ruleset: Ruleset) -> st.SearchStrategy[dict[str, Any]]:
    """Anything a broken case system might send, keyed mostly by real question ids."""
    keys = st.one_of(st.sampled_from([q.id for q in ruleset.questions]), st.text(max_size=12))
    return st.dictionaries(keys, st.one_of(JSON_VALUES, valid_answers(ruleset).flatmap(lambda d: st.sampled_from(list(d.values()) or [None]))), max_size=12)


_MISSING = object()
