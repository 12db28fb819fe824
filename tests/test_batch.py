"""Batch evaluation on several processes: same results as one process, in order, errors per case."""

from __future__ import annotations

import json
from pathlib import Path

from invictus_rules import AnswersError, load_ruleset

ROOT = Path(__file__).resolve().parents[1]
CASE = json.loads((ROOT / "examples" / "nl" / "dv-high-risk.json").read_text())["answers"]


def _cases(count: int) -> list[dict]:
    cases = [dict(CASE, victim_age=n % 90, strangulation=n % 3 == 0) for n in range(count)]
    if count > 11:
        cases[7] = {"victim_age": "not a number"}
        cases[11] = {"crime_type": "domestic_violence"}
    return cases


def test_parallel_batch_equals_sequential_evaluation():
    """Two workers give the same JSON, in the same order, as evaluating one case at a time."""
    ruleset = load_ruleset("nl@2026.1")
    cases = _cases(600)
    parallel = list(ruleset.evaluate_batch(cases, as_of="2026-03-01", output="json", workers=2))
    assert isinstance(parallel[7], AnswersError) and parallel[7].problems[0].path == "$.victim_age"
    for index, (case, result) in enumerate(zip(cases, parallel, strict=True)):
        if index == 7:
            continue
        assert result == ruleset.evaluate(case, as_of="2026-03-01", trace=False).model_dump_json()


def test_decisions_output_is_small_plain_data():
    """output='decisions' gives what decide() gives, as plain data: levels, referral rules and their
    services, information and pending rules, the same on one worker and on two."""
    ruleset = load_ruleset("nl@2026.1")
    cases = _cases(12)
    one = list(ruleset.evaluate_batch(cases, as_of="2026-03-01", output="decisions", workers=1))
    two = list(ruleset.evaluate_batch(cases, as_of="2026-03-01", output="decisions", workers=2))
    assert isinstance(one[7], AnswersError) and isinstance(two[7], AnswersError)  # the invalid case
    del cases[7], one[7], two[7]
    assert one == two == [ruleset.decide(case, as_of="2026-03-01").to_dict() for case in cases]
    first, partial = one[0], one[10]
    assert first["levels"]["dv_risk"] == "high"
    assert "veilig_thuis" in first["services"] and "support_available" in first["information"]
    assert set(first["referrals"]) <= {rule.spec.id for rule in ruleset.compiled.referrals}
    assert partial["pending"] and partial["levels"]["dv_risk"] is None


def test_batch_streams_lazily():
    """Results come as cases are consumed: an endless generator can be read a little at a time."""
    ruleset = load_ruleset("nl@2026.1")

    def endless():
        while True:
            yield CASE

    results = ruleset.evaluate_batch(endless(), as_of="2026-03-01", output="decisions", workers=2)
    assert [next(results)["levels"]["dv_risk"] for _ in range(1000)] == ["high"] * 1000
    results.close()
