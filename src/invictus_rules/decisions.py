"""``Decisions``: what ``Ruleset.decide()`` returns, keyed by the ruleset's ids.

Evaluation yields a positional :class:`~invictus_rules.outcome.Outcome` (one result per rule, in
ruleset order), which is cheap to build but needs the compiled ruleset to read. ``Decisions`` wraps
that outcome with the ruleset's id tuples, worked out once per ruleset (:class:`DecisionIds`), and
builds each keyed view only when it is first read, so ``decide()`` pays for one small object.

Nothing here holds or shows an answer value: ``repr`` and ``to_dict`` give ids, levels and points.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from .compiled import CompiledRuleset
from .outcome import Outcome, ScoreOutcome


class ScoreDecision(NamedTuple):
    """One score: points and critical indicators as (min, max), equal once every indicator is
    decided, and its level (None while undecided or when no level applies)."""

    points: tuple[float, float]
    critical: tuple[int, int]
    level: str | None


@dataclass(frozen=True, slots=True)
class DecisionIds:
    """The ids that key a ruleset's decisions, in ruleset order; built once per ruleset."""

    scores: tuple[str, ...]
    level_ids: tuple[tuple[str, ...], ...]
    referrals: tuple[str, ...]
    services: tuple[str, ...]
    """The service of each referral rule, aligned with ``referrals``."""
    information: tuple[str, ...]

    @classmethod
    def of(cls, compiled: CompiledRuleset) -> DecisionIds:
        return cls(
            scores=tuple(score.spec.id for score in compiled.scores),
            level_ids=tuple(score.level_ids for score in compiled.scores),
            referrals=tuple(rule.spec.id for rule in compiled.referrals),
            services=tuple(rule.spec.service for rule in compiled.referrals),
            information=tuple(item.spec.id for item in compiled.information),
        )


def _level(score: ScoreOutcome, level_ids: tuple[str, ...]) -> str | None:
    level = score.level
    return level_ids[level[0]] if level is not None and level[0] == level[1] else None


class Decisions:
    """The decisions of one case, keyed by the ruleset's ids; immutable and JSON-friendly.

    - ``levels``: score id -> level id, None while undecided (or when no level applies);
    - ``scores``: score id -> :class:`ScoreDecision` (points and critical count as ranges, level);
    - ``referrals``: ids of the referral rules made (they hold and are not deferred);
    - ``services``: the services those rules refer to, each once, in rule order;
    - ``deferred``: referral rule id -> why the engine deferred it (``not_safe_to_talk``, ...);
    - ``information``: ids of the information items given;
    - ``pending``: ids of the referral and information rules still undecided;
    - ``next_questions``: ids of the questions still to ask;
    - ``ignored``: question id -> why its answer was not used (``not_asked``: its ``ask_if`` is false);
    - ``safe``: whether it is safe to talk now (None while unanswered);
    - ``as_of``: the date the case was decided on.

    ``to_dict()`` and ``to_json()`` give the same as plain data. Two ``Decisions`` are equal when
    their ``to_dict()`` is.
    """

    __slots__ = ("_outcome", "_ids", "_views")

    def __init__(self, outcome: Outcome, ids: DecisionIds) -> None:
        self._outcome = outcome
        self._ids = ids
        self._views: dict[str, Any] = {}

    @property
    def as_of(self) -> dt.date:
        return self._outcome.as_of

    @property
    def safe(self) -> bool | None:
        return self._outcome.safe

    @property
    def levels(self) -> Mapping[str, str | None]:
        views = self._views
        if "levels" not in views:
            views["levels"] = MappingProxyType(
                {score_id: _level(score, level_ids) for score_id, score, level_ids in zip(self._ids.scores, self._outcome.scores, self._ids.level_ids, strict=True)}
            )
        return views["levels"]  # type: ignore[no-any-return]

    @property
    def scores(self) -> Mapping[str, ScoreDecision]:
        views = self._views
        if "scores" not in views:
            views["scores"] = MappingProxyType(
                {
                    score_id: ScoreDecision(score.points, score.critical, _level(score, level_ids))
                    for score_id, score, level_ids in zip(self._ids.scores, self._outcome.scores, self._ids.level_ids, strict=True)
                }
            )
        return views["scores"]  # type: ignore[no-any-return]

    @property
    def referrals(self) -> tuple[str, ...]:
        return tuple(rule for rule, made in zip(self._ids.referrals, self._outcome.referred, strict=True) if made is True)

    @property
    def services(self) -> tuple[str, ...]:
        made = self._outcome.referred
        return tuple(dict.fromkeys(service for service, result in zip(self._ids.services, made, strict=True) if result is True))

    @property
    def deferred(self) -> Mapping[str, str]:
        views = self._views
        if "deferred" not in views:
            views["deferred"] = MappingProxyType({self._ids.referrals[index]: why for index, why in self._outcome.deferred})
        return views["deferred"]  # type: ignore[no-any-return]

    @property
    def information(self) -> tuple[str, ...]:
        return tuple(item for item, given in zip(self._ids.information, self._outcome.information, strict=True) if given is True)

    @property
    def pending(self) -> tuple[str, ...]:
        outcome, ids = self._outcome, self._ids
        return tuple(rule for rule, result in zip(ids.referrals + ids.information, outcome.referrals + outcome.information, strict=True) if result is None)

    @property
    def next_questions(self) -> tuple[str, ...]:
        return self._outcome.next_questions

    @property
    def ignored(self) -> Mapping[str, str]:
        views = self._views
        if "ignored" not in views:
            views["ignored"] = MappingProxyType(dict(self._outcome.ignored))
        return views["ignored"]  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        """The decisions as plain JSON data (lists for tuples, the date as YYYY-MM-DD)."""
        return {
            "as_of": self.as_of.isoformat(),
            "safe": self.safe,
            "levels": dict(self.levels),
            "scores": {
                score_id: {"points": list(score.points), "critical": list(score.critical), "level": score.level}
                for score_id, score in self.scores.items()
            },
            "referrals": list(self.referrals),
            "services": list(self.services),
            "deferred": dict(self.deferred),
            "information": list(self.information),
            "pending": list(self.pending),
            "next_questions": list(self.next_questions),
            "ignored": dict(self.ignored),
        }

    def to_json(self) -> str:
        """``to_dict()`` as compact JSON."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decisions):
            return NotImplemented
        return self._outcome is other._outcome or self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Decisions, (self._outcome, self._ids))

    def __repr__(self) -> str:
        data = self.to_dict()
        parts = ", ".join(f"{name}={data[name]!r}" for name in ("levels", "referrals", "deferred", "information", "pending"))
        return f"Decisions({parts})"
