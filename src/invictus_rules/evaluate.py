"""Evaluation: a pure function of (compiled ruleset, validated answers, as-of date).

No I/O, no clock, no globals: the same inputs always give the same ``Outcome``. The outcome holds
decisions only (tuples of results per rule); turning it into an explained, rendered ``Assessment``
is :mod:`invictus_rules.result`'s job, so callers that need decisions alone pay for nothing else.

Semantics (see README, "Unanswered questions"):
- a question whose ``ask_if`` is false is *not asked*: its answer is ignored and every test on it is
  false; a question whose ``ask_if`` is unknown counts its answer if one was given (an answer shows it
  was asked) and is unknown otherwise;
- declined and "don't know" answers are unknown in the logic;
- a score over unknown indicators is a range; its level is decided when the range allows only one;
- a professional override raises a level, never lowers it, and counts only when answered;
- an opt_in or opt_out referral that holds is deferred while it is not safe to talk or no safe channel
  reaches the service (:mod:`invictus_rules.safety`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .answers import Answers
from .compiled import CompiledRuleset, CompiledScore
from .expr.values import ABSENT, Env, Interval, make_number
from .fastpath import AnswersNeedFullCheck, NeedsThreeValued, generate_dict_decider
from .numbers import tidy_number
from .outcome import Outcome, ScoreOutcome, level_value, possible_level_ranks

IGNORED_NOT_ASKED = "not_asked"
DICT_DECIDER = "decide-dict"
"""The key of the generated ``decide_dict`` function in a compiled ruleset's cache."""


def evaluate(ruleset: CompiledRuleset, answers: Answers, as_of: dt.date) -> Outcome:
    """Decide every rule of ``ruleset`` for validated ``answers`` on the date ``as_of``.

    The generated fast path (two-valued, see :mod:`invictus_rules.fastpath`) handles cases where every
    answer a rule reads is known; anything unknown sends the case down the three-valued path.
    """
    try:
        return ruleset.fast(answers.values, answers.declined, answers.unknown, as_of)
    except NeedsThreeValued:
        return evaluate_three_valued(ruleset, answers, as_of)


def decide_dict(ruleset: CompiledRuleset, raw: Any, as_of: dt.date, validate: Callable[[Any], Answers]) -> Outcome:
    """Decide a plain dict of answers, checking them inside generated code (built on first use); for
    anything that check does not accept on its own, ``validate`` (the full check) accepts the case or
    raises the AnswersError that explains the rejection, and the case is evaluated as usual."""
    if type(raw) is dict:
        decide = ruleset.cache.get(DICT_DECIDER)
        if decide is None:
            three_valued = lambda values, declined, unknown, day: evaluate_three_valued(ruleset, Answers(values, declined, unknown), day)  # noqa: E731
            decide = ruleset.cache.setdefault(DICT_DECIDER, generate_dict_decider(ruleset, three_valued))
        try:
            return decide(raw, as_of)  # type: ignore[no-any-return]
        except AnswersNeedFullCheck:
            pass
        # outside the except block, so that an AnswersError does not carry the fast path's exception
    return evaluate(ruleset, validate(raw), as_of)


def evaluate_three_valued(ruleset: CompiledRuleset, answers: Answers, as_of: dt.date) -> Outcome:
    """The general path: Kleene logic over unknown answers, ranges for scores and levels."""
    given = answers.values
    values: dict[str, Any] = dict(given)
    env = Env(values, answers.declined, as_of)

    asked: dict[str, bool | None] = {}
    ignored: list[tuple[str, str]] = []
    by_id = ruleset.question_by_id
    for question_id in ruleset.ask_order:
        question = by_id[question_id]
        if question.ask_if is None:
            asked[question_id] = True
            continue
        result = question.ask_if.fn(env)
        asked[question_id] = result
        if result is False:
            if question_id in given or question_id in answers.declined or question_id in answers.unknown:
                ignored.append((question_id, IGNORED_NOT_ASKED))
            values[question_id] = ABSENT

    scores = tuple(_score(compiled, env) for compiled in ruleset.scores)
    referrals = tuple(rule.condition.fn(env) for rule in ruleset.referrals)
    information = tuple(item.condition.fn(env) for item in ruleset.information)
    safety = ruleset.safety
    safe = safety.condition.fn(env) if safety is not None else True
    deferred = ruleset.defer(referrals, safe, values.get(safety.spec.safe_channels) if safety is not None else None)

    order = ruleset.question_order
    return Outcome(
        as_of,
        values,
        tuple(asked[q.spec.id] for q in ruleset.questions),
        scores,
        referrals,
        information,
        tuple(sorted(ignored, key=lambda pair: order[pair[0]])),
        given,
        answers.declined,
        answers.unknown,
        ruleset.question_ids,
        safe,
        deferred,
    )


def _score(compiled: CompiledScore, env: Env) -> ScoreOutcome:
    score_id = compiled.spec.id
    low = high = 0.0
    critical_low = critical_high = 0
    results = []
    for item in compiled.items:
        result = item.condition.fn(env)
        results.append(result)
        points = item.spec.points
        if result is True:
            low += points
            high += points
            if item.spec.critical:
                critical_low += 1
                critical_high += 1
        elif result is None:
            if points >= 0:
                high += points
            else:
                low += points
            if item.spec.critical:
                critical_high += 1
    env.scores[score_id] = make_number(tidy_number(low), tidy_number(high))
    env.criticals[score_id] = make_number(critical_low, critical_high)

    level_results = tuple(condition.fn(env) if condition is not None else True for _, condition in compiled.levels)
    override_rank = None
    if compiled.override_question is not None:
        chosen = env.values.get(compiled.override_question)
        if isinstance(chosen, str) and chosen in compiled.level_ids:
            override_rank = compiled.level_ids.index(chosen)
    computed = _span(possible_level_ranks(level_results, None))
    outcome = ScoreOutcome(
        points=(tidy_number(low), tidy_number(high)),
        critical=(critical_low, critical_high),
        level=_span(possible_level_ranks(level_results, override_rank)),
        computed_level=computed,
        override=override_rank,
        items=tuple(results),
        levels=level_results,
    )
    env.levels[score_id] = level_value(outcome)
    return outcome




def _span(ranks: tuple[int, ...]) -> tuple[int, int] | None:
    """(lowest, highest) possible rank, lowest -1 when no level is possible too; None for no level."""
    return None if ranks == (-1,) else (ranks[0], ranks[-1])


__all__ = ["Outcome", "ScoreOutcome", "evaluate", "Interval"]
