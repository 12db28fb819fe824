"""Impact's fast run (generated cases made in workers, block tallies, decisions from the positional
outcome) against a plain per-case loop: the counts must be the same, for any number of processes.

Each test runs a few thousand cases at most; the million-case timing is ``benchmarks/impact.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from invictus_rules import load_ruleset
from invictus_rules.compiled import CompiledRuleset
from invictus_rules.errors import AnswersError
from invictus_rules.evaluate import decide_dict
from invictus_rules.model import PRIORITY_RANK
from invictus_rules.tools import impact
from invictus_rules.tools.impact import (
    GENERATOR,
    Decisions,
    ImpactReport,
    boundary_cases,
    compare_decisions,
    generate_cases,
    generated_digest,
    run_generated_impact,
    run_impact,
)
from invictus_rules.tools.smt import MODE_ORDER

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# nl: the drawn answers fit both versions (no answer check per case); pt: an option list changed (checked per case)
PAIRS = [("nl@2025.1", "nl@2026.1", dt.date(2026, 3, 1), True), ("pt@2025.1", "pt@2025.2", dt.date(2025, 7, 15), False)]


def merged_referrals(compiled: CompiledRuleset, outcome: Any) -> dict[str, tuple[str, str]]:
    """service -> (priority, mode) of the merged referral, as the assessment merges them."""
    merged: dict[str, tuple[str, str]] = {}
    for rule, fired in zip(compiled.referrals, outcome.referred, strict=True):
        if fired is not True:
            continue
        spec = rule.spec
        current = merged.get(spec.service)
        if current is None:
            merged[spec.service] = (spec.priority, spec.mode)
            continue
        priority = spec.priority if PRIORITY_RANK[spec.priority] < PRIORITY_RANK[current[0]] else current[0]
        if compiled.safety is not None:
            mode = spec.mode if MODE_ORDER.index(spec.mode) < MODE_ORDER.index(current[1]) else current[1]
        else:
            mode = spec.mode if PRIORITY_RANK[spec.priority] < PRIORITY_RANK[current[0]] else current[1]
        merged[spec.service] = (priority, mode)
    return merged


def _naive_decisions(compiled: CompiledRuleset, answers: dict[str, Any], as_of: dt.date) -> Decisions:
    """The decisions of one case, written plainly from the engine's outcome (the reference)."""
    outcome = decide_dict(compiled, answers, as_of, impact._checker(compiled).validate)
    levels = []
    for score, result in zip(compiled.scores, outcome.scores, strict=True):
        if result.level is None:
            levels.append((score.spec.id, "(no level)"))
        elif result.level[0] == result.level[1]:
            levels.append((score.spec.id, score.level_ids[result.level[0]]))
        else:
            levels.append((score.spec.id, "undecided"))
    pending = {r.spec.id for r, fired in zip(compiled.referrals, outcome.referrals, strict=True) if fired is None}
    pending |= {i.spec.id for i, fired in zip(compiled.information, outcome.information, strict=True) if fired is None}
    merged = merged_referrals(compiled, outcome)
    return Decisions(
        tuple(levels),
        tuple(sorted((service, priority) for service, (priority, _) in merged.items())),
        frozenset(i.spec.id for i, fired in zip(compiled.information, outcome.information, strict=True) if fired is True),
        frozenset(pending),
        tuple(sorted((service, mode) for service, (_, mode) in merged.items())),
        frozenset(compiled.referrals[index].spec.id for index, _ in outcome.deferred),
    )


def _naive_side(compiled: CompiledRuleset, answers: dict[str, Any], as_of: dt.date) -> tuple[Decisions, bool]:
    answers = {k: v for k, v in answers.items() if k in compiled.question_by_id}
    try:
        return _naive_decisions(compiled, answers, as_of), False
    except AnswersError as error:
        unfit = {problem.path.removeprefix("$.") for problem in error.problems}
        try:
            return _naive_decisions(compiled, {k: v for k, v in answers.items() if k not in unfit}, as_of), True
        except AnswersError:
            return _naive_decisions(compiled, {}, as_of), True


def _naive(old_ref: str, new_ref: str, cases: list[tuple[str, dict[str, Any], str]]) -> dict[str, Any]:
    """A plain loop over every case: two evaluations, two decisions, one comparison, one count."""
    old, new = load_ruleset(old_ref).compiled, load_ruleset(new_ref).compiled
    report = ImpactReport(old=old_ref, new=new_ref)
    for case_id, answers, day in cases:
        as_of = dt.date.fromisoformat(day)
        before, old_unfit = _naive_side(old, answers, as_of)
        after, new_unfit = _naive_side(new, answers, as_of)
        report.add(case_id, compare_decisions(before, after), old_unfit, new_unfit)
    return _counts(report)


def _counts(report: ImpactReport) -> dict[str, Any]:
    data = report.to_dict()
    return {key: data[key] for key in ("cases", "changed", "cases_with_answers_set_aside_under_old", "cases_with_answers_set_aside_under_new", "changes")}


FOCUS = [{"crime_type": "domestic_violence"}, {"safe_to_talk": False, "crime_type": "no_such_option"}]


@pytest.mark.parametrize(("old_ref", "new_ref", "as_of", "prevalidated"), PAIRS, ids=["nl", "pt"])
def test_generated_impact_counts_what_a_plain_loop_counts(old_ref, new_ref, as_of, prevalidated):
    """On 1,300 generated cases (two blocks) and two boundary cases with 13 variants each, the fast run's counts,
    kinds and example ids equal those of a plain per-case loop over the same cases."""
    old, new = load_ruleset(old_ref), load_ruleset(new_ref)
    assert impact.CaseGenerator(old, new, 1, 1, as_of).prevalidated is prevalidated
    cases = list(generate_cases(old, new, 1300, 5, as_of, FOCUS))
    assert len(cases) == 1300 + 2 * (1 + 13)
    fast = run_generated_impact(old_ref, new_ref, 1300, 5, as_of, FOCUS, workers=1)
    expected = _naive(old_ref, new_ref, cases)
    assert _counts(fast) == expected
    assert expected["changed"] > 0
    assert expected["cases_with_answers_set_aside_under_new"] >= 14  # the option neither version has


def test_cases_that_might_not_fit_a_version_are_checked_as_in_a_corpus(monkeypatch):
    """When drawn answers might not fit a version, every case goes through the answer check, with the same counts."""
    as_of = dt.date(2026, 3, 1)
    old, new = load_ruleset("nl@2025.1"), load_ruleset("nl@2026.1")
    cases = list(generate_cases(old, new, 300, 8, as_of))
    monkeypatch.setattr(impact, "_always_valid", lambda question: False)
    assert not impact.CaseGenerator(old, new, 1, 1, as_of).prevalidated
    assert _counts(run_generated_impact("nl@2025.1", "nl@2026.1", 300, 8, as_of, workers=1)) == _naive("nl@2025.1", "nl@2026.1", cases)


def test_generated_impact_is_the_same_for_any_number_of_processes(monkeypatch):
    """The report (digest, counts, examples, affected cases) is identical on 1, 2 and 3 processes."""
    monkeypatch.setattr(impact, "BLOCK", 100)  # several blocks, of different sizes, in a small run
    as_of = dt.date(2026, 3, 1)
    count = 5 * impact.BLOCK + 37
    runs = [run_generated_impact("nl@2025.1", "nl@2026.1", count, 9, as_of, FOCUS[:1], workers=workers, keep_affected=True) for workers in (1, 2, 3)]
    first = runs[0]
    assert first.cases == count + 1 + count // 100
    for other in runs[1:]:
        assert other.to_dict() == first.to_dict()
        assert other.affected == first.affected


def test_corpus_impact_counts_what_a_plain_loop_counts():
    """A corpus with answers that fit neither version, keys only one version has and several dates
    gives the plain loop's counts on one and on two processes."""
    old, new = load_ruleset("nl@2025.1"), load_ruleset("nl@2026.1")
    generated = list(generate_cases(old, new, 600, 11, dt.date(2026, 3, 1)))
    cases = [(case_id, answers, ("2026-03-01", "2025-06-30", "2030-01-01")[n % 3]) for n, (case_id, answers, _) in enumerate(generated)]
    cases[7][1]["crime_type"] = "no_such_option"
    cases[8][1]["victim_age"] = "twelve"
    expected = _naive("nl@2025.1", "nl@2026.1", cases)
    assert expected["cases_with_answers_set_aside_under_old"] >= 2
    for workers in (1, 2):
        assert _counts(run_impact("nl@2025.1", "nl@2026.1", iter(cases), workers=workers)) == expected


def test_generated_cases_follow_the_documented_shares():
    """About 15% of answers are left out and 5% marked declined or unknown; yes/no answers are true
    about 40% of the time; the same seed gives the same cases, another seed others."""
    old, new = load_ruleset("nl@2025.1"), load_ruleset("nl@2026.1")
    as_of = dt.date(2026, 3, 1)
    cases = [answers for _, answers, _ in generate_cases(old, new, 1000, 3, as_of)]
    questions = {q.id: q for q in [*old.questions, *new.questions]}
    slots = len(cases) * len(questions)
    left_out = sum(len(questions) - len(answers) for answers in cases) / slots
    marked = sum(isinstance(value, dict) for answers in cases for value in answers.values()) / slots
    booleans = [value for answers in cases for key, value in answers.items() if questions[key].type == "boolean" and not isinstance(value, dict)]
    assert 0.13 < left_out < 0.17
    assert 0.04 < marked < 0.06
    assert 0.37 < sum(booleans) / len(booleans) < 0.43
    assert all(old.validate_answers({k: v for k, v in answers.items() if k in {q.id for q in old.questions}}) for answers in cases[:50])
    again = [answers for _, answers, _ in generate_cases(old, new, 1000, 3, as_of)]
    other = [answers for _, answers, _ in generate_cases(old, new, 1000, 4, as_of)]
    assert json.dumps(again) == json.dumps(cases)
    assert json.dumps(other) != json.dumps(cases)


def test_the_generated_report_names_its_generator_and_digest(cli):
    """A generated run's JSON names the generator format and digests what made its cases; --jobs is --workers."""
    mini = str(FIXTURES / "mini.yaml")
    report = json.loads(cli("impact", mini, mini, "--generate", "40", "--seed", "1", "--jobs", "1", "--as-of", "2026-03-01", "--format", "json").out)
    assert report["generator"] == GENERATOR
    old = new = load_ruleset(FIXTURES / "mini.yaml")
    focus = boundary_cases(old, new, dt.date(2026, 3, 1))
    assert report["corpus_digest"] == generated_digest(old, new, 40, 1, dt.date(2026, 3, 1), focus)
    assert report["corpus_digest"] != generated_digest(old, new, 40, 2, dt.date(2026, 3, 1), focus)
