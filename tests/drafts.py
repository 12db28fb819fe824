"""Helpers for tests of the publication workflow: a rulesets folder and publishable drafts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATE_LINE = "effective_from: null  # set the first day this version is in force"


def copy_rulesets(target: Path, countries: tuple[str, ...] = ("nl",)) -> Path:
    """A rulesets folder with the shipped versions of ``countries`` and their manifest entries."""
    target.mkdir(parents=True, exist_ok=True)
    for country in countries:
        shutil.copytree(ROOT / "rulesets" / country, target / country)
    entries = json.loads((ROOT / "rulesets" / "manifest.json").read_text())["published"]
    kept = {k: v for k, v in entries.items() if k.split("/")[0] in countries}
    (target / "manifest.json").write_text(json.dumps({"format": "invictus-rules/manifest/v1", "published": kept}, indent=2) + "\n")
    return target


def make_publishable(draft: Path, effective_from: str = "2030-01-01", change: str = "Republished without changes.") -> None:
    """Give a draft made by new-version a start date and a changelog entry, so that it can be published."""
    text = draft.read_text(encoding="utf-8").replace(DATE_LINE, f"effective_from: {effective_from}")
    entry = f'  changelog:\n    - version: "{draft.stem}"\n      date: {effective_from}\n      changes: [{change}]\n'
    draft.write_text(text.replace("  changelog:\n", entry, 1), encoding="utf-8")


FIXTURE = ROOT / "tests" / "fixtures" / "safety.yaml"
FIXTURE_AS_OF = "2027-03-01"


def fixture_rulesets(target: Path, countries: tuple[str, ...] = ("xx",)) -> Path:
    """A rulesets folder of small made-up countries, each with the safety fixture published as 2027.1,
    at least 20 test cases covering every rule (expectations taken from the engine), and a manifest.

    Publication tests run on it, so that they do not depend on what the shipped rulesets hold.
    """
    from invictus_rules import load_ruleset_text
    from invictus_rules.load import read_document
    from invictus_rules.tools.manifest import record

    target.mkdir(parents=True, exist_ok=True)
    (target / "manifest.json").write_text(json.dumps({"format": "invictus-rules/manifest/v1", "published": {}}) + "\n")
    source = FIXTURE.read_text(encoding="utf-8").replace("status: draft", "status: published")
    for country in countries:
        text = source.replace("country: xx", f"country: {country}")
        path = target / country / "2027.1.yaml"
        (path.parent / "tests").mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        cases = _covering_cases(load_ruleset_text(text))
        tests = {"ruleset": f"{country}@2027.1", "as_of": FIXTURE_AS_OF, "language": "en", "cases": cases}
        (path.parent / "tests" / "cases.yaml").write_text(json.dumps(tests, indent=1) + "\n", encoding="utf-8")  # JSON is YAML
        record(path, read_document(text, path.name)[2], target)
    return target


def _covering_cases(ruleset, minimum: int = 24) -> list[dict]:
    """Random cases (fixed seed) until every rule was made true and false, with what the engine says as expectations."""
    import random

    from invictus_rules.tools.testing import Coverage

    rng = random.Random(7)
    coverage = Coverage(ruleset)
    cases: list[dict] = []
    for number in range(2000):
        answers = {q.id: _answer(q, rng) for q in ruleset.questions}
        assessment = ruleset.evaluate(answers, as_of=FIXTURE_AS_OF, trace=True)
        gaps = len(coverage.gaps())
        coverage.record(assessment)
        if len(coverage.gaps()) < gaps or len(cases) < minimum:
            cases.append(
                {
                    "name": f"Generated case {number}",
                    "answers": answers,
                    "expect": {
                        "referrals": [r.service for r in assessment.referrals],
                        "priorities": {r.service: r.priority for r in assessment.referrals},
                        "modes": {r.service: r.mode for r in assessment.referrals},
                        "information": [i.id for i in assessment.information],
                    },
                }
            )
        if not coverage.gaps() and len(cases) >= minimum:
            return cases
    raise AssertionError(f"no covering cases: {coverage.gaps()}")


def _answer(question, rng):
    if question.type == "boolean":
        return rng.random() < 0.5
    if question.type == "single_choice":
        return rng.choice([o.value for o in question.options])
    if question.type == "multiple_choice":
        return [o.value for o in question.options if rng.random() < 0.5]
    if question.type == "integer":
        return rng.choice([5, 12, 17, 18, 30, 70])
    raise AssertionError(f"no generator for {question.type}")
