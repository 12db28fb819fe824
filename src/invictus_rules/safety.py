"""Safe contact, by construction: which referrals the engine defers, whatever the rules say.

An ``opt_in`` or ``opt_out`` referral needs a conversation or a first contact that may be overheard,
read or intercepted. It is *deferred* (listed apart, never made) unless it is safe to talk now and a
safe channel that matches the service's ``first_contact`` is known. ``inform_only`` and ``report``
referrals are never deferred. A ruleset without a ``safety`` section defers nothing (the versions
published before the engine checked safe contact keep their results).

``make_deferral`` is prepared once per ruleset; the function it returns runs on the hot path of both
evaluation paths (the generated fast path and the three-valued closures), so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from .model import CONSENT_MODES, Referral, Service

NOT_SAFE_TO_TALK = "not_safe_to_talk"
NO_SAFE_CHANNEL = "no_safe_channel"
DeferReason = Literal["not_safe_to_talk", "no_safe_channel"]

Deferred = tuple[tuple[int, str], ...]
"""(index of the referral rule, why) for every deferred rule, in rule order."""

Defer = Callable[[Sequence[bool | None], bool | None, Any], Deferred]
"""(rule results, safe to talk, the safe channels answer) -> the deferred rules."""


def _defer_nothing(results: Sequence[bool | None], safe: bool | None, channels: Any) -> Deferred:
    return ()


def make_deferral(referrals: Sequence[Referral], services: dict[str, Service], gated: bool) -> Defer:
    """The deferral function of a ruleset; ``gated`` is whether it has a safety section."""
    plan = tuple(
        (index, services[rule.service].first_contact_channels if rule.service in services else frozenset())
        for index, rule in enumerate(referrals)
        if rule.mode in CONSENT_MODES
    )
    if not gated or not plan:
        return _defer_nothing

    def defer(results: Sequence[bool | None], safe: bool | None, channels: Any) -> Deferred:
        known = channels if isinstance(channels, frozenset) else frozenset()
        deferred = []
        for index, reaches in plan:
            if results[index] is not True:
                continue
            if safe is not True:
                deferred.append((index, NOT_SAFE_TO_TALK))
            elif not reaches & known:
                deferred.append((index, NO_SAFE_CHANNEL))
        return tuple(deferred)

    return defer


__all__ = ["NOT_SAFE_TO_TALK", "NO_SAFE_CHANNEL", "Defer", "DeferReason", "Deferred", "make_deferral"]
