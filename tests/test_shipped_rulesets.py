"""Every shipped ruleset: valid, lint-clean, tested by policy staff with full rule coverage, in the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from invictus_rules.load import list_countries, list_versions, shipped_rulesets_dir
from invictus_rules.tools.lint import is_clean, lint_file
from invictus_rules.tools.manifest import verify
from invictus_rules.tools.testing import Runner, find_test_files
from invictus_rules.errors import format_problems

ROOT = Path(__file__).resolve().parents[1]
COUNTRIES = ["bg", "fi", "fr", "hr", "it", "nl", "pt"]
OFFICIAL = {"bg": {"bg"}, "fi": {"fi", "sv"}, "fr": {"fr"}, "hr": {"hr"}, "it": {"it"}, "nl": {"nl"}, "pt": {"pt"}}
FILES = [v.path for c in list_countries() for v in list_versions(c)]
PREDATE_SAFETY = {"bg/2026.1", "fi/2026.1", "fr/2026.1", "hr/2026.1", "it/2026.1", "nl/2025.1", "nl/2026.1", "pt/2025.1", "pt/2025.2"}
"""The versions published before the safety section (immutable): exempt from the safe-contact errors only."""
SAFE_CONTACT_CODES = {"safety-missing", "handover-without-first-contact"}


def test_all_seven_countries_ship_a_ruleset():
    """bg, hr, fi, fr, it, pt and nl each have a published ruleset; two ship two versions."""
    assert list_countries() == sorted(COUNTRIES)
    versions = {c: [v for v in list_versions(c) if v.status == "published"] for c in COUNTRIES}
    assert all(versions.values())
    assert sum(1 for v in versions.values() if len(v) >= 2) >= 2


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}@{p.stem}" for p in FILES])
def test_ruleset_is_lint_clean_and_multilingual(path: Path):
    """No lint errors or warnings; texts in the official language(s) and English."""
    problems = lint_file(path)
    if f"{path.parent.name}/{path.stem}" in PREDATE_SAFETY:
        problems = [p for p in problems if p.code not in SAFE_CONTACT_CODES]
    assert is_clean(problems), format_problems(problems)
    from invictus_rules import load_ruleset

    ruleset = load_ruleset(path)
    assert OFFICIAL[ruleset.country] | {"en"} <= set(ruleset.languages)


@pytest.mark.parametrize("country", COUNTRIES)
def test_yaml_tests_pass_with_full_rule_coverage(country: str):
    """At least 20 cases per country, all passing, every rule made true and false."""
    runner = Runner()
    results = [r for path in find_test_files([shipped_rulesets_dir() / country]) for r in runner.run_file(path)]
    failures = [r for r in results if not r.passed]
    assert len(results) >= 20
    assert not failures, "\n".join(str(f.error or f.mismatches) for f in failures[:5])
    for version in list_versions(country):
        covered = [c for c in runner.coverage.values() if c.ruleset.version == version.version]
        assert covered, f"no test runs {country}@{version.version}"
        assert covered[0].cases >= 20, f"{country}@{version.version} has {covered[0].cases} cases"
        assert not covered[0].gaps(), covered[0].gaps()


def test_published_versions_match_the_manifest():
    """No published file was edited after publication."""
    problems = verify()
    assert not problems, format_problems(problems)


def test_readme_lists_every_ruleset():
    """The README's ruleset table names every country and version."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for country in COUNTRIES:
        for version in list_versions(country):
            assert f"| {country} " in readme and version.version in readme
