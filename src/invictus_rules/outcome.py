"""The decisions of one evaluation, positionally aligned with the compiled ruleset.

Named tuples: built on the hot path for every case, so they must be cheap to create (a frozen
dataclass costs several times more); explained later by ``result``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from .expr.values import ABSENT


class ScoreOutcome(NamedTuple):
    """A score's points and critical count as (min, max), and its level as ranks (min, max)."""

    points: tuple[float, float]
    critical: tuple[int, int]
    level: tuple[int, int] | None
    computed_level: tuple[int, int] | None
    override: int | None
    items: tuple[bool | None, ...]
    levels: tuple[bool | None, ...]

    @property
    def decided(self) -> bool:
        return self.level is not None and self.level[0] == self.level[1]


class Outcome(NamedTuple):
    """Every decision of one evaluation, positionally aligned with the compiled ruleset.

    ``next_questions`` is worked out when first read: many callers never need it.
    """

    as_of: dt.date
    values: dict[str, Any]
    asked: tuple[bool | None, ...]
    scores: tuple[ScoreOutcome, ...]
    referrals: tuple[bool | None, ...]
    information: tuple[bool | None, ...]
    ignored: tuple[tuple[str, str], ...]
    answered: Any
    declined: frozenset[str]
    unknown: frozenset[str]
    question_ids: tuple[str, ...]
    safe: bool | None
    """Whether it is safe to talk now (the safety section's condition); True when there is none."""
    deferred: tuple[tuple[int, str], ...]
    """(referral rule index, why) of the rules that hold but are deferred by the engine."""

    @property
    def referred(self) -> tuple[bool | None, ...]:
        """Per referral rule: whether it is made (True), pending (None) or not (False, also when deferred)."""
        if not self.deferred:
            return self.referrals
        held = {index for index, _ in self.deferred}
        return tuple(False if index in held else result for index, result in enumerate(self.referrals))

    @property
    def next_questions(self) -> tuple[str, ...]:
        """Questions asked (their ask_if is true) and not yet answered, declined or marked unknown."""
        answered, declined, unknown = self.answered, self.declined, self.unknown
        return tuple(
            q for q, asked in zip(self.question_ids, self.asked, strict=True)
            if asked is True and q not in answered and q not in declined and q not in unknown
        )


def level_value(score: ScoreOutcome) -> Any:
    """What conditions see as a score's level: its rank when decided, the set of ranks still possible
    (-1: perhaps no level), or ``ABSENT`` when no level is possible."""
    if score.level is None:
        return ABSENT
    possible = possible_level_ranks(score.levels, score.override)
    return possible[0] if len(possible) == 1 else frozenset(possible)


def possible_level_ranks(results: tuple[bool | None, ...], override: int | None) -> tuple[int, ...]:
    """The level ranks still possible: the highest level whose condition holds (-1 when none does
    yet: perhaps no level at all), each higher level still undecided, all raised to the override."""
    floor = max((rank for rank, result in enumerate(results) if result is True), default=-1)
    ranks = {floor} | {rank for rank, result in enumerate(results) if result is None and rank > floor}
    if override is not None:
        ranks = {max(rank, override) for rank in ranks}
    return tuple(sorted(ranks))
