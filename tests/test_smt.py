"""The solver's verdicts against brute force and the engine, on small random rulesets and pairs of
versions: every proof holds for every enumerated case, every case the solver finds is confirmed by
the engine. Run long with ``HYPOTHESIS_PROFILE=oracle-long``."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import os
import random
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invictus_rules import load_ruleset_text
from invictus_rules.api import decide_outcome
from invictus_rules.outcome import possible_level_ranks
from invictus_rules.tools.exact import Analysis, Comparison, run_case

from .random_rulesets import AS_OF, _atoms, _condition, answer_json, domain, load_document, random_document

settings.register_profile("oracle-long", max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
SOLVER = settings(max_examples=int(os.environ.get("SMT_EXAMPLES", "40")), deadline=None, suppress_health_check=list(HealthCheck))
if os.environ.get("HYPOTHESIS_PROFILE") == "oracle-long":
    SOLVER = settings.get_profile("oracle-long")


def all_cases(document: dict) -> list[dict]:
    """Every case over the questions' small domains: each answered with each value, declined, or left out."""
    questions = [q["id"] for q in document["questions"]]
    choices = [[("answer", answer_json(v)) for v in domain(document, q)] + [("declined", None), ("missing", None)] for q in questions]
    cases = []
    for combination in itertools.product(*choices):
        case = {}
        for question, (state, value) in zip(questions, combination, strict=True):
            if state == "answer":
                case[question] = value
            elif state == "declined":
                case[question] = {"status": "declined"}
        cases.append(case)
    return cases


def _small(rng: random.Random) -> dict:
    while True:
        document = random_document(rng)
        if len(document["questions"]) <= 4:
            return document


@SOLVER
@given(seed=st.integers(0, 2**32 - 1))
def test_solver_outcomes_agree_with_brute_force(seed):
    """Can each rule be true, false, unknown? A proof never meets a case that shows it; a case the
    solver finds is confirmed by the engine."""
    rng = random.Random(seed)
    document = _small(rng)
    ruleset = load_document(document)
    analysis = Analysis(ruleset, AS_OF)
    seen: list[set] = [set() for _ in ruleset.compiled.referrals]
    for case in all_cases(document):
        outcome = decide_outcome(ruleset, case, as_of=AS_OF)
        for index, result in enumerate(outcome.referrals):
            seen[index].add(result)
    for index, rule in enumerate(ruleset.compiled.referrals):
        outcomes = analysis.outcomes(rule.condition, locate=lambda out, i=index: out.referrals[i])
        for value, verdict in ((True, outcomes.true), (False, outcomes.false), (None, outcomes.unknown)):
            assert verdict.status != "undecided", (seed, rule.condition.text, verdict.reason)
            assert verdict.confirmed, (seed, rule.condition.text, value, verdict.case)
            if value in seen[index]:
                assert verdict.found, (seed, rule.condition.text, value)


def _mutate(rng: random.Random, document: dict) -> dict:
    new = copy.deepcopy(document)
    questions = [q["id"] for q in new["questions"]]
    levels = len(new["scores"][0]["levels"]) if new["scores"] else 0
    atoms = _atoms(questions, bool(new["scores"]), levels)
    for _ in range(rng.randint(1, 2)):
        roll = rng.random()
        rules = new["referrals"]
        if roll < 0.3:
            rng.choice(rules)["when"] = _condition(rng, atoms)
        elif roll < 0.45:
            rule = rng.choice(rules)
            rule["mode"] = rng.choice(["inform_only", "opt_in", "opt_out"])
            rule.pop("legal_basis", None)
            rule.pop("action", None)
        elif roll < 0.55:
            rng.choice(rules)["priority"] = rng.choice(["immediate", "urgent", "standard"])
        elif roll < 0.7:
            rng.shuffle(rules)
        elif roll < 0.85 and new["scores"]:
            level = rng.choice(new["scores"][0]["levels"][1:])
            level["when"] = rng.choice(["score(s1) >= 1", "score(s1) >= 2", "score(s1) > 2.5", "critical(s1) >= 1"])
        elif new["scores"]:
            item = rng.choice(new["scores"][0]["items"])
            item["points"] = rng.choice([1, 2, 0.5, -1])
    return new


@SOLVER
@given(seed=st.integers(0, 2**32 - 1))
def test_solver_effects_agree_with_brute_force(seed):
    """Two versions: every rule, level, merged referral and question the solver proves unchanged is
    unchanged in every enumerated case; every change it finds is confirmed by the engine."""
    rng = random.Random(seed)
    document = _small(rng)
    changed = _mutate(rng, document)
    old, new = load_document(document), load_document(changed)
    comparison = Comparison(old, new, AS_OF)
    effects = {(e.kind, e.id): e for e in comparison.effects()}
    for effect in effects.values():
        assert effect.verdict.status != "undecided", (seed, effect.kind, effect.id)
        assert effect.verdict.confirmed, (seed, effect.kind, effect.id, effect.verdict.case)
    differs: set = set()
    for case in all_cases(document):
        before, after = decide_outcome(old, case, as_of=AS_OF), decide_outcome(new, case, as_of=AS_OF)
        for kind, old_rules, new_rules, pick in (("referral", old.compiled.referrals, new.compiled.referrals, "referrals"), ("information", old.compiled.information, new.compiled.information, "information")):
            new_index = {r.spec.id: i for i, r in enumerate(new_rules)}
            for index, rule in enumerate(old_rules):
                if getattr(before, pick)[index] != getattr(after, pick)[new_index[rule.spec.id]]:
                    differs.add((kind, rule.spec.id))
        new_index = {r.spec.id: i for i, r in enumerate(new.compiled.referrals)}
        for index, rule in enumerate(old.compiled.referrals):
            if (index in dict(before.deferred)) != (new_index[rule.spec.id] in dict(after.deferred)):
                differs.add(("deferred", rule.spec.id))
        for score_index, score in enumerate(old.compiled.scores):
            a, b = before.scores[score_index], after.scores[score_index]
            if possible_level_ranks(a.levels, a.override) != possible_level_ranks(b.levels, b.override):
                differs.add(("level", score.spec.id))
        if {(r.service, r.mode, r.priority) for r in old.evaluate(case, as_of=AS_OF).referrals} != {(r.service, r.mode, r.priority) for r in new.evaluate(case, as_of=AS_OF).referrals}:
            old_refs = {r.service: (r.mode, r.priority) for r in old.evaluate(case, as_of=AS_OF).referrals}
            new_refs = {r.service: (r.mode, r.priority) for r in new.evaluate(case, as_of=AS_OF).referrals}
            for service in set(old_refs) | set(new_refs):
                if old_refs.get(service) != new_refs.get(service):
                    differs.add(("service", service))
    for key in differs:
        assert key in effects and effects[key].verdict.found, (seed, key)


def _two_questions(when: str, extra_questions: str = "", score: str = "") -> str:
    return f"""format: invictus-rules/v1
metadata: {{id: t, country: xx, version: "2026.1", effective_from: 2026-01-01, status: draft, languages: [en], default_language: en, title: {{en: t}}}}
questions:
  - {{id: x, type: integer, min: 0, max: 100, text: {{en: x}}}}
  - {{id: y, type: integer, min: 0, max: 100, text: {{en: y}}}}
{extra_questions}{score}services:
  - {{id: h1, category: general_support, name: {{en: h}}, phone: "1"}}
referrals:
  - {{id: r0, service: h1, when: '{when}', priority: standard, mode: opt_in, reason: {{en: r}}}}
"""


def test_a_product_of_two_answers_is_not_decided():
    """Non-linear arithmetic is reported as undecided, never as equivalent or never true."""
    ruleset = load_ruleset_text(_two_questions("x * y >= 10"))
    outcomes = Analysis(ruleset, AS_OF).outcomes(ruleset.compiled.referrals[0].condition)
    assert not outcomes.exact and not outcomes.never_true and not outcomes.always_true
    other = load_ruleset_text(_two_questions("x * y >= 11"))
    change = Comparison(ruleset, other, AS_OF).condition(ruleset.compiled.referrals[0].condition, other.compiled.referrals[0].condition)
    assert change.effect == "undecided"


def test_a_multiple_choice_with_22_options_is_cheap():
    """22 options are 22 booleans: a condition testing all of them is decided in well under a second."""
    options = ", ".join(f"{{value: o{i}, label: {{en: o{i}}}}}" for i in range(22))
    question = f"  - {{id: m, type: multiple_choice, text: {{en: m}}, options: [{options}]}}\n"
    when = " and ".join(f'\\"o{i}\\" in m' for i in range(22)).replace('\\"', '"')
    ruleset = load_ruleset_text(_two_questions(when, question))
    start = time.perf_counter()
    outcomes = Analysis(ruleset, AS_OF).outcomes(ruleset.compiled.referrals[0].condition, locate=lambda out: out.referrals[0])
    assert time.perf_counter() - start < 2
    assert outcomes.true.found and outcomes.true.confirmed and len(outcomes.true.case["m"]) == 22


def test_a_timeout_is_undecided():
    """A query that runs out of time says so: it is never read as a proof."""
    ruleset = load_ruleset_text(_two_questions("x >= 10"))
    analysis = Analysis(ruleset, AS_OF, timeout_ms=1)
    import z3

    hard = analysis.exists(lambda e: z3.And(*(z3.Int(f"h{i}", e.ctx) * z3.Int(f"h{i + 1}", e.ctx) == 7919 + i for i in range(30))))
    assert hard.status in ("undecided", "found", "proved")
    if hard.status == "undecided":
        assert "within" in hard.reason


def test_years_since_counts_anniversaries_as_the_engine_does():
    """years_since over a date is exact at the birthday, 29 February included."""
    text = _two_questions("years_since(born) >= 18", "  - {id: born, type: date, text: {en: b}}\n")
    ruleset = load_ruleset_text(text)
    for as_of in (dt.date(2026, 3, 1), dt.date(2028, 2, 29), dt.date(2027, 2, 28)):
        analysis = Analysis(ruleset, as_of)
        outcomes = analysis.outcomes(ruleset.compiled.referrals[0].condition, locate=lambda out: out.referrals[0])
        assert outcomes.true.confirmed and outcomes.false.confirmed
        assert run_case(ruleset, outcomes.true.case, as_of).referrals == (True,)
