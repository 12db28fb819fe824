"""Brute force as the oracle: on small random rulesets, every value the engine decides for a partial
case holds in every completion of the questions still open, and the fast path agrees with the
three-valued path. Run long with ``HYPOTHESIS_PROFILE=oracle-long``."""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invictus_rules.api import decide_outcome
from invictus_rules.evaluate import evaluate_three_valued

from .random_rulesets import AS_OF, Reference, answer_json, completions, domain, load_document, random_document

settings.register_profile("oracle-long", max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
ORACLE = settings(max_examples=int(os.environ.get("ORACLE_EXAMPLES", "150")), deadline=None, suppress_health_check=list(HealthCheck))
if os.environ.get("HYPOTHESIS_PROFILE") == "oracle-long":
    ORACLE = settings.get_profile("oracle-long")

STATES = ("answered", "answered", "declined", "unknown", "missing")


def _partial(rng: random.Random, document: dict, questions: list[str]) -> tuple[dict, dict, set, set]:
    """A case with at most three questions left open: (answers JSON, values given, answered, declined)."""
    answers: dict = {}
    values: dict = {}
    answered: set = set()
    declined: set = set()
    open_count = 0
    for question in questions:
        state = rng.choice(STATES) if open_count < 3 else "answered"
        if state == "answered":
            value = rng.choice(domain(document, question))
            answers[question] = answer_json(value)
            values[question] = value
            answered.add(question)
            continue
        open_count += 1
        if state == "declined":
            answers[question] = {"status": "declined"}
            declined.add(question)
        elif state == "unknown":
            answers[question] = {"status": "unknown"}
    return answers, values, answered, declined


def _within(span, value) -> bool:
    low, high = span if span is not None else (-1, -1)
    return low <= (-1 if value is None else value) <= high


def check_against_brute_force(seed: int) -> int:
    """Check one random ruleset and partial case; return the number of completions tried."""
    rng = random.Random(seed)
    document = random_document(rng)
    ruleset = load_document(document)
    questions = [q["id"] for q in document["questions"]]
    answers, values, answered, declined = _partial(rng, document, questions)
    checked = ruleset.validate_answers(answers)
    slow = evaluate_three_valued(ruleset.compiled, checked, AS_OF)
    fast = decide_outcome(ruleset, checked, as_of=AS_OF)
    assert fast == slow, "the fast path and the three-valued path disagree"
    given_ids = {q for q in questions if q in answers}
    tried = 0
    for completion in completions(document, questions, values):
        ref = Reference(ruleset, completion, answered, declined)
        # an answer (or a declined / unknown mark) shows the question was asked: completions that
        # would hide it contradict the case
        if any(slow.asked[i] is None and not ref.asked[q] for i, q in enumerate(questions) if q in given_ids):
            continue
        tried += 1
        where = f"seed {seed}, answers {answers}, completion {completion}"
        for i, result in enumerate(slow.referrals):
            assert result is None or result == ref.referrals[i], f"referral r{i}: {where}"
        for i, result in enumerate(slow.information):
            assert result is None or result == ref.information[i], f"information n{i}: {where}"
        for score_out, score in zip(slow.scores, ruleset.compiled.scores, strict=True):
            sid = score.spec.id
            assert score_out.points[0] <= ref.scores[sid] + 1e-9 and ref.scores[sid] <= score_out.points[1] + 1e-9, where
            assert score_out.critical[0] <= ref.criticals[sid] <= score_out.critical[1], where
            assert _within(score_out.level, ref.levels[sid]), f"level: {where}"
        for i, q in enumerate(questions):
            if slow.asked[i] is not None:
                assert slow.asked[i] == ref.asked[q], f"ask_if of {q}: {where}"
    return tried


@ORACLE
@given(seed=st.integers(0, 2**32 - 1))
def test_decided_values_hold_in_every_completion(seed):
    """Whatever the engine decides (referrals, information, score ranges, levels, ask_if) holds in
    every completion of the open questions, and the fast path agrees with the three-valued path."""
    check_against_brute_force(seed)


def test_level_not_in_is_unknown_while_no_level_is_possible():
    """`level(s) not in [...]` is not decided true while "no level" is still possible (regression)."""
    from invictus_rules import load_ruleset_text

    from .random_rulesets import SPECS  # noqa: F401

    text = _ruleset_text(
        items='[{id: i0, label: {en: i}, when: b1, points: 1}]',
        levels='[{id: lo, label: {en: l}, when: "score(s1) >= 1"}, {id: hi, label: {en: h}, when: "score(s1) >= 2"}]',
        when='level(s1) not in ["hi"]',
    )
    ruleset = load_ruleset_text(text)
    assert ruleset.decide({}, as_of=AS_OF).pending == ("r0",)
    assert _made(ruleset, {"b1": False}) is False
    assert _made(ruleset, {"b1": True}) is True


def test_membership_of_a_fractional_score_is_not_enumerated_as_whole_numbers():
    """`score(s) in [1, 2]` over points 1.5 and 0.5 stays pending, never false, while open (regression)."""
    from invictus_rules import load_ruleset_text

    text = _ruleset_text(
        items='[{id: i0, label: {en: i}, when: b1, points: 1.5}, {id: i1, label: {en: i}, when: b2, points: 0.5}]',
        levels='[{id: lo, label: {en: l}}]',
        when="score(s1) in [1, 2]",
    )
    ruleset = load_ruleset_text(text)
    assert _made(ruleset, {"b1": True}) is None
    assert _made(ruleset, {"b1": True, "b2": True}) is True
    assert _made(ruleset, {"b1": True, "b2": False}) is False


def test_membership_of_count_halves_is_pending_not_dropped():
    """`count(...) / 2 in [0.5]` is pending while a counted answer is open (regression)."""
    from invictus_rules import load_ruleset_text

    text = _ruleset_text(items=None, levels=None, when="count(b1, b2) / 2 in [0.5]")
    ruleset = load_ruleset_text(text)
    assert _made(ruleset, {"b1": False}) is None
    assert _made(ruleset, {"b1": False, "b2": True}) is True


def _made(ruleset, answers: dict) -> bool | None:
    """Whether the one referral rule r0 is made (True), pending (None) or not (False)."""
    decisions = ruleset.decide(answers, as_of=AS_OF)
    return None if "r0" in decisions.pending else "r0" in decisions.referrals


def _ruleset_text(items: str | None, levels: str | None, when: str) -> str:
    score = f"scores:\n  - id: s1\n    title: {{en: s}}\n    items: {items}\n    levels: {levels}\n" if items else ""
    return f"""format: invictus-rules/v1
metadata: {{id: t, country: xx, version: "2026.1", effective_from: 2026-01-01, status: draft, languages: [en], default_language: en, title: {{en: t}}}}
questions:
  - {{id: b1, type: boolean, text: {{en: b1}}}}
  - {{id: b2, type: boolean, text: {{en: b2}}}}
{score}services:
  - {{id: h1, category: general_support, name: {{en: h}}, phone: "1"}}
referrals:
  - {{id: r0, service: h1, when: '{when}', priority: standard, mode: opt_in, reason: {{en: r}}}}
"""
