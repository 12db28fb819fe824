"""Exact questions about one ruleset or two versions, answered by the solver and confirmed by the engine.

Every claim is a proof or a case: "never true", "unreachable", "always" and "no effect" are claimed
only when the solver proves them (:mod:`.smt`); otherwise the solver's model becomes a case (answers
JSON), which is run through the real engine. A case the engine does not confirm is an encoding bug:
it is reported as such (``confirmed`` False), never silently dropped, and the tests fail on it.
A query that runs out of time is "could not be decided".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import z3

from ..api import Ruleset, decide_outcome
from ..compiled import CompiledCondition, CompiledInformation, CompiledReferral, CompiledRuleset
from ..errors import AnswersError
from ..model import PRIORITY_RANK
from ..outcome import Outcome, possible_level_ranks
from . import smt
from .smt import Answer, Encoder, NotEncodable, Session, Tri, Variables

RuleList = Sequence[CompiledReferral | CompiledInformation]

TRI_NAMES = {True: "true", False: "false", None: "unknown"}
PRIORITIES = {rank: name for name, rank in PRIORITY_RANK.items()}


@dataclass(frozen=True)
class Verdict:
    """A claim about the cases: ``status`` proved (none exists), found (``case``), or undecided."""

    status: str
    case: dict[str, Any] | None = None
    reason: str = ""
    confirmed: bool = True

    @property
    def found(self) -> bool:
        return self.status == "found"

    @property
    def proved(self) -> bool:
        return self.status == "proved"

    @classmethod
    def of(cls, answer: Answer) -> Verdict:
        return cls(answer.status, answer.case, answer.reason)


UNDECIDED_NONLINEAR = "undecided"


def _as_ruleset(ruleset: Ruleset | CompiledRuleset) -> Ruleset:
    return ruleset if isinstance(ruleset, Ruleset) else Ruleset(ruleset)


def run_case(ruleset: Ruleset, answers: dict[str, Any], as_of: dt.date) -> Outcome | None:
    """The engine's outcome for the case (answers to questions the version lacks left out)."""
    known = {q.id for q in ruleset.questions}
    try:
        return decide_outcome(ruleset, {k: v for k, v in answers.items() if k in known}, as_of=as_of)
    except AnswersError:
        return None


def minimise(case: dict[str, Any], holds: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """A smaller case for which ``holds`` is still true: answers that do not matter are left out,
    so the case shows what makes the difference (checked by the engine at every step)."""
    current = dict(case)
    for key in list(current):
        trial = {k: v for k, v in current.items() if k != key}
        if holds(trial):
            current = trial
    return current


# -- one ruleset -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcomes:
    """The results a condition can take over all cases, each a proof or a witness case."""

    true: Verdict
    false: Verdict
    unknown: Verdict

    @property
    def exact(self) -> bool:
        return all(v.status != "undecided" for v in (self.true, self.false, self.unknown))

    @property
    def can_be_true(self) -> bool:
        return not self.true.proved

    @property
    def can_be_false(self) -> bool:
        return not self.false.proved

    @property
    def can_be_unknown(self) -> bool:
        return not self.unknown.proved

    @property
    def never_true(self) -> bool:
        return self.true.proved

    @property
    def always_true(self) -> bool:
        return self.false.proved and self.unknown.proved and self.true.found


class Analysis:
    """Solver questions about one ruleset on one as-of date."""

    def __init__(self, ruleset: Ruleset | CompiledRuleset, as_of: dt.date, timeout_ms: int = smt.DEFAULT_TIMEOUT_MS):
        self.ruleset = _as_ruleset(ruleset)
        self.as_of = as_of
        self.encoder = Encoder(self.ruleset.compiled, Variables(), as_of)
        self.session = Session([self.encoder], timeout_ms)

    def exists(self, build: Callable[[Encoder], Any], confirm: Callable[[Outcome], bool] | None = None) -> Verdict:
        try:
            formula = build(self.encoder)
        except NotEncodable as reason:
            return Verdict("undecided", reason=str(reason))
        verdict = Verdict.of(self.session.exists(formula))
        if verdict.found and confirm is not None:

            def holds(case: dict[str, Any]) -> bool:
                outcome = run_case(self.ruleset, case, self.as_of)
                return outcome is not None and confirm(outcome)

            if not holds(verdict.case or {}):
                return Verdict("found", verdict.case, "the engine does not confirm the solver's case", confirmed=False)
            return Verdict("found", minimise(verdict.case or {}, holds))
        return verdict

    def outcomes(self, condition: CompiledCondition, locate: Callable[[Outcome], Any] | None = None) -> Outcomes:
        """Can the condition be true, false, unknown? ``locate`` reads its result from an outcome."""
        def verdict(pick: Callable[[Tri], Any], wanted: Any) -> Verdict:
            confirm = None if locate is None else (lambda outcome: locate(outcome) is wanted)
            return self.exists(lambda e: pick(e.condition(condition.node)), confirm)

        return Outcomes(verdict(lambda r: r.t, True), verdict(lambda r: r.f, False), verdict(lambda r: r.unknown, None))

    def computed_level(self, score_index: int, rank: int) -> Verdict:
        """Is there a case whose level, before any override, is decided as ``rank`` (-1: no level)?"""
        score = self.ruleset.compiled.scores[score_index]

        def build(encoder: Encoder) -> Any:
            results = encoder.level_results(score.spec.id)
            count = len(results)
            possible = encoder._possible(_without_override(score), results)
            return z3.And([p if index == rank + 1 else z3.Not(p) for index, p in enumerate(possible)]) if count else z3.BoolVal(False, encoder.ctx)

        def confirm(outcome: Outcome) -> bool:
            computed = outcome.scores[score_index].computed_level
            return (computed is None and rank == -1) or computed == (rank, rank)

        return self.exists(build, confirm)


class _NoOverride:
    def __init__(self, score: Any):
        self.override_question = None
        self.spec = score.spec
        self.level_ids = score.level_ids


def _without_override(score: Any) -> Any:
    return _NoOverride(score)


# -- two versions --------------------------------------------------------------------------------


@dataclass
class Effect:
    """One outcome that some case decides differently under the two versions."""

    kind: str  # referral, information, level, service, question
    id: str
    verdict: Verdict
    old: str = ""
    new: str = ""

    @property
    def changed(self) -> bool:
        return self.verdict.found

    def describe(self) -> str:
        if self.verdict.proved:
            return "no case is decided differently (proved)"
        if self.verdict.status == "undecided":
            return f"could not be decided: {self.verdict.reason}"
        confirmed = "" if self.verdict.confirmed else " (NOT confirmed by the engine: an encoding bug, please report it)"
        return f"under OLD {self.old}, under NEW {self.new}{confirmed}"


@dataclass
class ConditionChange:
    """How a changed condition's set of true cases moved, each direction a proof or a case."""

    broader: Verdict
    narrower: Verdict

    @property
    def effect(self) -> str:
        if self.broader.status == "undecided" or self.narrower.status == "undecided":
            if self.broader.found and self.narrower.found:
                return "neither"
            return "undecided"
        if self.broader.found and self.narrower.found:
            return "neither"
        if self.broader.found:
            return "broader"
        if self.narrower.found:
            return "narrower"
        return "equivalent"


# Closures over one element each (not lambdas with default arguments, which mypy cannot type).
def _both_asked(question: str) -> Callable[[Encoder, Encoder], tuple[Tri, Tri]]:
    return lambda o, n: (o.asked(question), n.asked(question))


def _both_conditions(old: CompiledCondition, new: CompiledCondition) -> Callable[[Encoder, Encoder], tuple[Tri, Tri]]:
    return lambda o, n: (o.condition(old.node), n.condition(new.node))


def _nth(pick: Callable[[Outcome], Any], index: int) -> Callable[[Outcome], Any]:
    return lambda out: pick(out)[index]


def _tri_differs(a: Tri, b: Tri) -> Any:
    return z3.Or(a.t != b.t, a.f != b.f)


class Comparison:
    """Solver questions about two versions read by the same case on one as-of date."""

    def __init__(self, old: Ruleset | CompiledRuleset, new: Ruleset | CompiledRuleset, as_of: dt.date, timeout_ms: int = smt.DEFAULT_TIMEOUT_MS):
        self.old = _as_ruleset(old)
        self.new = _as_ruleset(new)
        self.as_of = as_of
        variables = Variables()
        self.old_enc = Encoder(self.old.compiled, variables, as_of)
        self.new_enc = Encoder(self.new.compiled, variables, as_of)
        old_types = {q.id: q.type for q in self.old.questions}
        self.retyped = sorted(q.id for q in self.new.questions if q.id in old_types and old_types[q.id] != q.type)
        for question_id in self.retyped:  # no answer fits both versions: only cases without one compare
            for encoder in (self.old_enc, self.new_enc):
                encoder.domain.append(encoder.vars[question_id].state != smt.ANSWERED)
        self.session = Session([self.old_enc, self.new_enc], timeout_ms)

    def run(self, case: dict[str, Any]) -> tuple[Outcome | None, Outcome | None]:
        return run_case(self.old, case, self.as_of), run_case(self.new, case, self.as_of)

    def exists(self, build: Callable[[Encoder, Encoder], Any]) -> Verdict:
        try:
            formula = build(self.old_enc, self.new_enc)
        except NotEncodable as reason:
            return Verdict("undecided", reason=str(reason))
        return Verdict.of(self.session.exists(formula))

    def condition(self, old: CompiledCondition | None, new: CompiledCondition | None, locate: tuple[Callable[[Outcome], Any], Callable[[Outcome], Any]] | None = None) -> ConditionChange:
        """Cases true under NEW and not under OLD (broader), and the other way (narrower)."""
        reads = set(old.depends_on if old else ()) | set(new.depends_on if new else ())
        retyped = [q for q in self.retyped if q in reads]
        if retyped:
            why = Verdict("undecided", reason=f'the question "{retyped[0]}" changed type: no answer to it fits both versions')
            return ConditionChange(why, why)

        def verdict(gained: bool) -> Verdict:
            def build(o: Encoder, n: Encoder) -> Any:
                a, b = smt.condition_of(o, old), smt.condition_of(n, new)
                return z3.And(b.t, z3.Not(a.t)) if gained else z3.And(a.t, z3.Not(b.t))

            found = self.exists(build)
            if found.found and locate is not None:

                def holds(case: dict[str, Any]) -> bool:
                    before, after = self.run(case)
                    if before is None or after is None:
                        return False
                    old_true, new_true = locate[0](before) is True, locate[1](after) is True
                    return (new_true and not old_true) if gained else (old_true and not new_true)

                if not holds(found.case or {}):
                    return Verdict("found", found.case, "the engine does not confirm the solver's case", confirmed=False)
                return Verdict("found", minimise(found.case or {}, holds))
            return found

        return ConditionChange(verdict(True), verdict(False))

    def effects(self) -> list[Effect]:
        """Every rule, level, merged referral and question whose outcome some case decides
        differently (or a proof that none does), for the elements both versions have."""
        found: list[Effect] = []
        old_c, new_c = self.old.compiled, self.new.compiled
        new_questions = {q.spec.id: i for i, q in enumerate(new_c.questions)}
        for index, question in enumerate(old_c.questions):
            other = new_questions.get(question.spec.id)
            if other is None or (question.ask_if is None and new_c.questions[other].ask_if is None):
                continue
            qid = question.spec.id
            found.append(self._tri_effect("question", qid, _both_asked(qid), _nth(lambda out: out.asked, index), _nth(lambda out: out.asked, other)))
        new_scores = {s.spec.id: i for i, s in enumerate(new_c.scores)}
        for index, score in enumerate(old_c.scores):
            other = new_scores.get(score.spec.id)
            if other is not None:
                found.append(self._level_effect(score.spec.id, index, other))
        rule_lists: tuple[tuple[str, RuleList, RuleList, Callable[[Outcome], Any]], ...] = (
            ("referral", old_c.referrals, new_c.referrals, lambda out: out.referrals),
            ("information", old_c.information, new_c.information, lambda out: out.information),
        )
        for kind, old_rules, new_rules, pick in rule_lists:
            new_index = {r.spec.id: i for i, r in enumerate(new_rules)}
            for index, rule in enumerate(old_rules):
                other = new_index.get(rule.spec.id)
                if other is None:
                    continue
                old_cond, new_cond = rule.condition, new_rules[other].condition
                found.append(
                    self._tri_effect(
                        kind,
                        rule.spec.id,
                        _both_conditions(old_cond, new_cond),
                        _nth(pick, index),
                        _nth(pick, other),
                    )
                )
        new_referrals = {r.spec.id: i for i, r in enumerate(new_c.referrals)}
        for index, rule in enumerate(old_c.referrals):
            other = new_referrals.get(rule.spec.id)
            if other is None or (getattr(old_c, "safety", None) is None and getattr(new_c, "safety", None) is None):
                continue
            found.append(self._deferred_effect(rule.spec.id, index, other))
        services = list(dict.fromkeys([r.spec.service for r in old_c.referrals] + [r.spec.service for r in new_c.referrals]))
        for service in services:
            found.append(self._service_effect(service))
        return found

    def _tri_effect(self, kind: str, element: str, build: Callable[[Encoder, Encoder], tuple[Tri, Tri]], old_at: Callable[[Outcome], Any], new_at: Callable[[Outcome], Any]) -> Effect:
        verdict = self.exists(lambda o, n: _tri_differs(*build(o, n)))

        def observe(case: dict[str, Any]) -> tuple[str, str] | None:
            before, after = self.run(case)
            if before is None or after is None or old_at(before) == new_at(after):
                return None
            return TRI_NAMES[old_at(before)], TRI_NAMES[new_at(after)]

        return self._confirmed(Effect(kind, element, verdict), observe)

    def _confirmed(self, effect: Effect, observe: Callable[[dict[str, Any]], tuple[str, str] | None]) -> Effect:
        """Run the solver's case through the engine; keep it only as small as still shows the change."""
        verdict = effect.verdict
        if not verdict.found:
            return effect
        if observe(verdict.case or {}) is None:
            effect.verdict = Verdict("found", verdict.case, "the engine does not confirm the solver's case", confirmed=False)
            return effect
        case = minimise(verdict.case or {}, lambda c: observe(c) is not None)
        effect.verdict = Verdict("found", case)
        effect.old, effect.new = observe(case)  # type: ignore[misc]
        return effect

    def _deferred_effect(self, rule_id: str, old_index: int, new_index: int) -> Effect:
        def observe(case: dict[str, Any]) -> tuple[str, str] | None:
            before, after = self.run(case)
            if before is None or after is None:
                return None
            was, now = dict(before.deferred).get(old_index), dict(after.deferred).get(new_index)
            if (was is None) == (now is None):
                return None
            return (f"deferred ({was})" if was else "not deferred", f"deferred ({now})" if now else "not deferred")

        verdict = self.exists(lambda o, n: smt.deferred(o, old_index) != smt.deferred(n, new_index))
        return self._confirmed(Effect("deferred", rule_id, verdict), observe)

    def _level_effect(self, score_id: str, old_index: int, new_index: int) -> Effect:
        def build(o: Encoder, n: Encoder) -> Any:
            a, b = o.score(score_id)[2], n.score(score_id)[2]
            names_a = {"(no level)": a.possible[0], **{name: a.possible[i + 1] for i, name in enumerate(a.ids)}}
            names_b = {"(no level)": b.possible[0], **{name: b.possible[i + 1] for i, name in enumerate(b.ids)}}
            return z3.Or([names_a.get(name, z3.BoolVal(False, o.ctx)) != names_b.get(name, z3.BoolVal(False, o.ctx)) for name in dict.fromkeys([*names_a, *names_b])])

        def observe(case: dict[str, Any]) -> tuple[str, str] | None:
            before, after = self.run(case)
            old_levels = _level_names(self.old.compiled, before, old_index) if before else None
            new_levels = _level_names(self.new.compiled, after, new_index) if after else None
            if old_levels is None or new_levels is None or old_levels == new_levels:
                return None
            return " or ".join(old_levels), " or ".join(new_levels)

        return self._confirmed(Effect("level", score_id, self.exists(build)), observe)

    def _service_effect(self, service: str) -> Effect:
        def build(o: Encoder, n: Encoder) -> Any:
            a = smt.merged_services(o).get(service)
            b = smt.merged_services(n).get(service)
            none = (z3.BoolVal(False, o.ctx), z3.IntVal(0, o.ctx), z3.IntVal(0, o.ctx))
            a, b = a or none, b or none
            return z3.Or(a[0] != b[0], z3.And(a[0], b[0], z3.Or(a[1] != b[1], a[2] != b[2])))

        def observe(case: dict[str, Any]) -> tuple[str, str] | None:
            old_text = _service_outcome(self.old, case, self.as_of, service)
            new_text = _service_outcome(self.new, case, self.as_of, service)
            if old_text is None or new_text is None or old_text == new_text:
                return None
            return old_text, new_text

        return self._confirmed(Effect("service", service, self.exists(build)), observe)


def _level_names(compiled: CompiledRuleset, outcome: Outcome, index: int) -> list[str]:
    result = outcome.scores[index]
    ranks = possible_level_ranks(result.levels, result.override)
    return ["(no level)" if rank < 0 else compiled.scores[index].level_ids[rank] for rank in ranks]


def _service_outcome(ruleset: Ruleset, answers: dict[str, Any], as_of: dt.date, service: str) -> str | None:
    """The merged referral to ``service`` as the engine's assessment states it."""
    known = {q.id for q in ruleset.questions}
    try:
        assessment = ruleset.evaluate({k: v for k, v in answers.items() if k in known}, as_of=as_of)
    except AnswersError:
        return None
    for referral in assessment.referrals:
        if referral.service == service:
            return f"referred ({referral.mode}, {referral.priority})"
    return "not referred"


__all__ = ["Analysis", "Comparison", "ConditionChange", "Effect", "Outcomes", "Verdict", "run_case"]
