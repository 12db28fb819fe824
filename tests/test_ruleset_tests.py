"""YAML ruleset tests: the test command, expected-versus-actual output, coverage, the pytest plugin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES

PASSING = """\
as_of: 2026-02-01
language: en
cases:
  - name: Strangulation makes the risk high
    answers: {safe_to_talk: true, crime_type: domestic_violence, strangulation: true}
    expect:
      levels: {dv_risk: high}
      referrals: [helpline]
      priorities: {helpline: immediate}
      modes: {helpline: opt_in}
      information: [support]
      pending: [minors]
      next_questions: [threats]
      no_next_questions: [strangulation]
      complete: false
  - name: A robbery hides the risk questions
    answers: {safe_to_talk: false, crime_type: robbery, strangulation: true, age: 15}
    expect:
      levels: {dv_risk: standard}
      points: {dv_risk: 0}
      ignored: [strangulation]
      information: [support, minors]
      no_information: []
"""

FAILING = """\
as_of: 2026-02-01
cases:
  - name: Wrong expectations
    answers: {safe_to_talk: true, crime_type: domestic_violence, strangulation: false, threats: false}
    expect:
      levels: {dv_risk: high}
      no_referrals: [helpline]
      information: [minors]
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    country = tmp_path / "rules" / "xx"
    (country / "tests").mkdir(parents=True)
    (country / "2026.1.yaml").write_text((FIXTURES / "mini.yaml").read_text().replace("status: draft", "status: published"))
    from invictus_rules.load import read_document
    from invictus_rules.tools.manifest import record

    record(country / "2026.1.yaml", read_document((country / "2026.1.yaml").read_bytes(), "2026.1.yaml")[2], country.parent)  # loaded only as published
    return country


def test_passing_tests(cli, folder):
    """Passing cases report a summary line and exit 0."""
    (folder / "tests" / "ok.yaml").write_text(PASSING)
    result = cli("test", str(folder / "tests" / "ok.yaml"), "-v")
    assert result.code == 0, result.out
    assert result.out.splitlines()[-1] == "2 passed, 0 failed"


def test_failures_read_like_a_diff(cli, folder):
    """A failing case lists each expectation with what was expected and what came out."""
    (folder / "tests" / "bad.yaml").write_text(FAILING)
    result = cli("test", str(folder))
    assert result.code == 1
    assert "FAIL" in result.out and "Wrong expectations" in result.out
    assert "levels.dv_risk: expected high, got standard" in result.out
    assert "no_referrals: expected no referral to helpline, got a referral by rule(s) everyone" in result.out
    assert "information: expected the item minors, got items support" in result.out
    payload = json.loads(cli("test", str(folder), "--format", "json").out)
    assert payload["failed"] == 1 and payload["cases"][0]["mismatches"][0]["what"] == "levels.dv_risk"


def test_coverage_lists_rules_never_made_true_or_false(cli, folder):
    """--coverage names each rule no case makes true, or false, and exits 1 until all are covered."""
    (folder / "tests" / "ok.yaml").write_text(PASSING)
    result = cli("test", str(folder), "--coverage")
    assert result.code == 1
    assert "referral not_safe_now: never false" not in result.out
    assert "score_item dv_risk.threats: never true" in result.out
    assert "referral everyone: never false" not in result.out  # written 'when: true'


def test_broken_test_file_is_reported_with_position(cli, folder):
    """A test file with an unknown key fails with its line."""
    (folder / "tests" / "broken.yaml").write_text("as_of: 2026-02-01\ncases:\n  - name: x\n    answers: {}\n    expct: {}\n")
    result = cli("test", str(folder))
    assert result.code == 1 and "broken.yaml:5:5" in result.out


def test_pytest_plugin_collects_cases(folder):
    """With the plugin's collection switched on, pytest collects each YAML case and shows the same diff on failure."""
    (folder / "tests" / "ok.yaml").write_text(PASSING)
    (folder / "tests" / "bad.yaml").write_text(FAILING)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(folder / "tests"), "-q", "-p", "no:cacheprovider", "-W", "ignore", "--rootdir", str(folder), "--invictus-rules-tests"],
        capture_output=True,
        text=True,
    )
    assert "1 failed, 2 passed" in done.stdout, done.stdout
    assert "levels.dv_risk: expected high, got standard" in done.stdout


SAFETY_CASES = """\
as_of: 2027-02-01
language: en
ruleset: ../2027.1.yaml
cases:
  - name: Not safe to talk, a child at home - a report, consent referrals deferred
    answers: {safe_to_talk: false, crime_type: domestic_violence, lives_with_offender: true, children_at_home: true, victim_age: 30, wants_shelter: false, injured: false}
    expect:
      safety: true
      deferred: [dv_centre_consent, support]
      no_deferred: [child_protection_report]
      modes: {child_protection: report, support: inform_only}
      status: complete
  - name: The gate declined - the rule it guards is undecidable
    answers: {safe_to_talk: true, safe_contact_channels: [phone], crime_type: domestic_violence, lives_with_offender: {status: declined}, victim_age: {status: declined}, wants_shelter: false, injured: false}
    expect:
      safety: false
      status: complete_with_declined
      undecidable: [child_protection_report]
"""


def test_safety_expectations(cli, tmp_path):
    """deferred, no_deferred, safety, status and undecidable are checked, and unknown ids are named."""
    country = tmp_path / "rules" / "xx"
    (country / "tests").mkdir(parents=True)
    (country / "2027.1.yaml").write_text((FIXTURES / "safety.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (country / "tests" / "safety.yaml").write_text(SAFETY_CASES, encoding="utf-8")
    result = cli("test", str(country / "tests" / "safety.yaml"))
    assert result.code == 0, result.out
    (country / "tests" / "safety.yaml").write_text(SAFETY_CASES.replace("deferred: [dv_centre_consent, support]", "deferred: [dv_centre_consnt]").replace("safety: false", "safety: true"), encoding="utf-8")
    failed = cli("test", str(country / "tests" / "safety.yaml"))
    assert failed.code == 1
    assert "deferred: expected a referral rule or service dv_centre_consnt, got no such referral rule or service in xx@2027.1" in failed.out
    assert "safety: expected a safety block, got none" in failed.out
