"""The decisions of one evaluation, positionally aligned with the compiled ruleset.

Plain frozen records with slots: cheap to build on the hot path, explained later by ``result``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ScoreOutcome:
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


@dataclass(frozen=True, slots=True)
class Outcome:
    """Every decision of one evaluation, positionally aligned with the compiled ruleset."""

    as_of: dt.date
    values: dict[str, Any]
    asked: tuple[bool | None, ...]
    scores: tuple[ScoreOutcome, ...]
    referrals: tuple[bool | None, ...]
    information: tuple[bool | None, ...]
    ignored: tuple[tuple[str, str], ...]
    next_questions: tuple[str, ...]
    declined: frozenset[str]
    unknown: frozenset[str]
