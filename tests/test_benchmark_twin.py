"""The benchmark's hand-written twin decides exactly as the engine does, and the benchmark runs."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from invictus_rules import Ruleset, load_ruleset
from invictus_rules.api import decide_outcome

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import cases  # noqa: E402
import handwritten  # noqa: E402
from run import engine_decisions  # noqa: E402

CASES = 2_000


@pytest.fixture(scope="module")
def benchmark() -> Ruleset:
    return load_ruleset(cases.BENCHMARK_RULESET)


@pytest.fixture(scope="module")
def validated(benchmark: Ruleset) -> list:
    return [benchmark.validate_answers(answers) for answers in cases.benchmark_cases(CASES)]


def test_cases_are_deterministic():
    """The same seed gives the same cases, and another seed gives other cases."""
    assert cases.benchmark_cases(50) == cases.benchmark_cases(50)
    assert cases.benchmark_cases(50, seed=1) != cases.benchmark_cases(50)
    assert list(cases.iter_benchmark_cases(50)) == cases.benchmark_cases(50)


def test_twin_agrees_with_the_engine_on_every_case(benchmark: Ruleset, validated: list):
    """On each generated case, the hand-written function gives the engine's points, criticals, levels and rules."""
    for index, answers in enumerate(validated):
        engine = engine_decisions(benchmark, benchmark.decide(answers, as_of=cases.AS_OF))
        twin = handwritten.decide(answers.values, cases.AS_OF)
        assert twin == engine, f"case {index} of cases.benchmark_cases({CASES})"


def test_cases_exercise_every_rule_and_level(benchmark: Ruleset, validated: list):
    """Every rule fires on some generated cases and not on others, and every level is reached, so agreement means something."""
    fired: Counter[str] = Counter()
    levels: set[tuple[str, str]] = set()
    for answers in validated:
        decisions = engine_decisions(benchmark, benchmark.decide(answers, as_of=cases.AS_OF))
        fired.update(decisions.referrals + decisions.information)
        levels.add(("dv_risk", decisions.dv_level))
        levels.add(("vulnerability", decisions.vulnerability_level))
    compiled = benchmark.compiled
    rules = [rule.spec.id for rule in compiled.referrals] + [item.spec.id for item in compiled.information]
    assert len(rules) == 32
    always = {"rights"}  # written `when: true`
    assert {rule: fired[rule] for rule in rules if not 0 < fired[rule] < len(validated) and rule not in always} == {}
    assert levels == {(score.spec.id, level) for score in compiled.scores for level in score.level_ids}


def test_complete_cases_take_the_fast_path(benchmark: Ruleset, validated: list):
    """Complete cases never leave a rule undecided; partial cases do, so they measure the three-valued path."""
    for answers in validated[:200]:
        assert benchmark.decide(answers, as_of=cases.AS_OF).pending == ()
    partial = cases.partial_cases(cases.benchmark_cases(200))
    undecided = 0
    for answers in partial:
        outcome = decide_outcome(benchmark, answers, as_of=cases.AS_OF)
        assert set(outcome.declined | outcome.unknown) | set(outcome.next_questions)
        undecided += bool(benchmark.decide(answers, as_of=cases.AS_OF).pending)
    assert undecided > 100


def test_quick_benchmark_prints_the_table():
    """`python benchmarks/run.py --quick` runs to the end and prints every section with targets."""
    finished = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--quick"], capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    out = finished.stdout
    for heading in ("Load + validate + compile", "Single process, benchmark ruleset", "Single process, nl 2026.1", "Hand-written twin", "Batch on all cores", "Memory held"):
        assert heading in out
    assert "rulesets/nl/2026.1.yaml" in out and "benchmarks/benchmark_ruleset.yaml" in out
    assert "engine == hand-written on every case" in out
    twin_row = next(line for line in out.splitlines() if "engine == hand-written" in line)
    assert twin_row.split()[-2:] == ["equal", "MET"]
    assert "targets met" in out and "FAILED" not in out
