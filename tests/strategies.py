"""The one set of hypothesis strategies that build cases from a ruleset's questionnaire, and the
example counts of the two hypothesis profiles.

Profiles (registered in ``conftest.py``): ``default`` runs each property quickly; ``slow`` (chosen by
``pytest --run-slow`` or ``HYPOTHESIS_PROFILE=slow``) runs the same properties with many more
examples. A property asks for ``examples(n)``: ``n`` examples by default, the slow count under ``slow``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from invictus_rules import Ruleset
from invictus_rules.answers import MAX_NUMBER
from invictus_rules.model import Question

SLOW_EXAMPLES = 1000
HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]


def slow_profile() -> bool:
    """Whether the slow profile was chosen (by --run-slow or HYPOTHESIS_PROFILE=slow)."""
    return os.environ.get("HYPOTHESIS_PROFILE") == "slow"


def examples(quick: int, slow: int = SLOW_EXAMPLES) -> settings:
    """Settings for a property: ``quick`` examples by default, ``slow`` under the slow profile."""
    return settings(max_examples=slow if slow_profile() else quick, deadline=None, suppress_health_check=HEALTH)


MARKERS = st.sampled_from([{"status": "declined"}, {"status": "unknown"}, None])
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["", "2026-02-30", "2026-W01-1", "１２", "NaN", "declined", "unknown", "true", "0o17"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)


def valid_answer(question: Question) -> st.SearchStrategy[Any]:
    """Any value the question accepts, bounds, lengths and options respected."""
    kind = question.type
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low = math.ceil(question.min) if question.min is not None else -MAX_NUMBER
        high = math.floor(question.max) if question.max is not None else MAX_NUMBER
        return st.one_of(st.integers(low, high), st.sampled_from([low, high]))
    if kind == "number":
        low = question.min if question.min is not None else -MAX_NUMBER
        high = question.max if question.max is not None else MAX_NUMBER
        return st.floats(low, high, allow_nan=False, allow_infinity=False) | st.integers(math.ceil(low), math.floor(high))
    values = [option.value for option in question.options or ()]
    if kind == "single_choice":
        return st.sampled_from(values)
    if kind == "multiple_choice":
        return st.lists(st.sampled_from(values), unique=True)
    if kind == "date":
        return st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat)
    return st.text(max_size=min(question.max_length or 10_000, 60))


_LEAVE_OUT = object()


def valid_answers(ruleset: Ruleset) -> st.SearchStrategy[dict[str, Any]]:
    """A partial case: each question answered, declined, unknown, null or left out."""
    parts = {q.id: st.one_of(st.just(_LEAVE_OUT), MARKERS, valid_answer(q), valid_answer(q)) for q in ruleset.questions}
    return st.fixed_dictionaries(parts).map(lambda d: {k: v for k, v in d.items() if v is not _LEAVE_OUT})


def any_answers(ruleset: Ruleset) -> st.SearchStrategy[Any]:
    """Whatever a broken case system might send: mostly real question ids with any JSON values."""
    ids = [q.id for q in ruleset.questions]
    keys = st.one_of(st.sampled_from(ids), st.text(max_size=12), st.sampled_from([i.upper() for i in ids]))
    values = st.one_of(JSON_VALUES, MARKERS, st.dictionaries(st.just("status"), JSON_SCALARS, max_size=1))
    mixed = st.tuples(valid_answers(ruleset), st.dictionaries(keys, values, max_size=6)).map(lambda pair: {**pair[0], **pair[1]})
    return st.one_of(mixed, st.dictionaries(keys, values, max_size=12), JSON_VALUES)


def answer_values(ruleset: Ruleset) -> st.SearchStrategy[Any]:
    """One answer value, valid for some question of ``ruleset`` or not: for comparing answer checks."""
    near = [st.just(q.min) for q in ruleset.questions if q.min is not None] + [st.just(q.max) for q in ruleset.questions if q.max is not None]
    valid = st.one_of(*(valid_answer(q) for q in ruleset.questions))
    edges = st.sampled_from([0.5, -0.0, 1e15, 1e15 + 1, 10**15, -(10**15) - 1, 2.0, "2026-01-31", "x" * 13, "no", "yes", ["yes", "yes"], [1]]
        # date texts other ISO forms, markers that are not quite markers
        + ["20260131", "2026-W05-6", "2026-01-31T00:00", "2026-01-31 ", {"status": "declined", "note": "x"}, {"status": "maybe"}, {}]
    )
    return st.one_of(valid, JSON_VALUES, edges, MARKERS, *near)
