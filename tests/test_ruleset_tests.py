"""YAML ruleset tests: the test command, expected-versus-actual output, coverage, the pytest plugin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import jsonschema

from invictus_rules._yaml import read_yaml

from .conftest import FIXTURES, ROOT

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


TYPO_CASE = """\
as_of: 2026-02-01
cases:
  - name: Every id is checked
    answers: {safe_to_talk: true, crime_type: domestic_violence, strangulation: true}
    expect:
      {key}: {value}
"""

TYPOS = [
    ("no_referrals", "[helpline_]", "a service helpline_", 'did you mean "helpline"?'),
    ("referrals", "[helpine]", "a service helpine", 'did you mean "helpline"?'),
    ("no_information", "[suport]", "an information item suport", 'did you mean "support"?'),
    ("information", "[minor]", "an information item minor", 'did you mean "minors"?'),
    ("not_pending", "[minnors]", "a rule or score minnors", 'did you mean "minors"?'),
    ("pending", "[minnors]", "a rule or score minnors", 'did you mean "minors"?'),
    ("no_next_questions", "[strangulaton]", "a question strangulaton", 'did you mean "strangulation"?'),
    ("next_questions", "[threat]", "a question threat", 'did you mean "threats"?'),
    ("ignored", "[threat]", "a question threat", 'did you mean "threats"?'),
    ("levels", "{dv_risc: high}", "a score dv_risc", 'did you mean "dv_risk"?'),
    ("levels", "{dv_risk: hihg}", "a level hihg of dv_risk", 'did you mean "high"?'),
    ("possible_levels", "{dv_risk: [standard, hihg]}", "a level hihg of dv_risk", 'did you mean "high"?'),
    ("points", "{dv_risc: 5}", "a score dv_risc", 'did you mean "dv_risk"?'),
    ("priorities", "{helpine: immediate}", "a service helpine", 'did you mean "helpline"?'),
    ("modes", "{helpine: opt_in}", "a service helpine", 'did you mean "helpline"?'),
    ("deferred", "[high_risc]", "a referral rule or service high_risc", 'did you mean "high_risk"?'),
    ("no_deferred", "[helpine]", "a referral rule or service helpine", 'did you mean "helpline"?'),
    ("undecidable", "[minnors]", "a rule or score minnors", 'did you mean "minors"?'),
]


@pytest.mark.parametrize(("key", "value", "expected", "hint"), TYPOS, ids=[f"{t[0]}-{t[1]}" for t in TYPOS])
def test_a_misspelt_id_fails_with_did_you_mean(cli, folder, key, value, expected, hint):
    """A misspelt id fails the case with a did-you-mean under every key that names ids, negative ones included."""
    (folder / "tests" / "typo.yaml").write_text(TYPO_CASE.replace("{key}", key).replace("{value}", value))
    result = cli("test", str(folder / "tests" / "typo.yaml"))
    assert result.code == 1, result.out
    line = next(line for line in result.out.splitlines() if line.strip().startswith(key))
    assert f"expected {expected}, got no such" in line and hint in line, result.out


def test_a_misspelt_negative_id_fails_even_when_the_element_was_given(cli, folder):
    """no_referrals and no_information with a typo fail although the real service and item were given."""
    (folder / "tests" / "typo.yaml").write_text(TYPO_CASE.replace("{key}", "no_referrals").replace("{value}", "[helpline_]\n      no_information: [suport]"))
    result = cli("test", str(folder / "tests" / "typo.yaml"))
    assert result.code == 1
    assert 'no_referrals: expected a service helpline_, got no such service in xx@2026.1; did you mean "helpline"?' in result.out
    assert 'no_information: expected an information item suport, got no such information item in xx@2026.1; did you mean "support"?' in result.out


def test_yes_and_no_are_text_in_answers_and_in_expectations_alike(cli, folder):
    """yes/no are text in both parts of a test file (YAML 1.2, as in rulesets); each gets an error saying to write true or false."""
    (folder / "tests" / "yes.yaml").write_text(PASSING.replace("safe_to_talk: true, crime_type: domestic_violence", "safe_to_talk: yes, crime_type: domestic_violence"))
    answers = cli("test", str(folder / "tests" / "yes.yaml"))
    assert answers.code == 1
    assert 'error[test-yes-no]: the answer to "safe_to_talk" is written yes, which is text in test files, not true or false' in answers.out
    assert "fix: write safe_to_talk: true" in answers.out and "yes.yaml:5:29" in answers.out
    (folder / "tests" / "yes.yaml").write_text(PASSING.replace("complete: false", "complete: no"))
    expect = cli("test", str(folder / "tests" / "yes.yaml"))
    assert expect.code == 1 and "yes.yaml:15:17: error[invalid-test]" in expect.out
    assert "fix: write true or false: test files are read like rulesets (YAML 1.2), where yes, no, on and off are text" in expect.out


def test_an_option_called_no_stays_an_answer(cli, folder):
    """An unquoted no is still the option 'no' of a choice question: only yes/no questions get the error."""
    (folder / "tests" / "no.yaml").write_text(
        "as_of: 2026-02-01\ncases:\n  - name: option no\n    answers: {safe_to_talk: true, crime_type: no}\n    expect:\n      referrals: [helpline]\n"
    )
    result = cli("test", str(folder / "tests" / "no.yaml"))
    assert result.code == 0, result.out


def test_a_test_file_outside_a_country_folder_must_name_its_ruleset(cli, tmp_path):
    """Outside rulesets/<cc>/tests/ a file without 'ruleset:' gets one clear error, not a failure per case about countries."""
    (tmp_path / "loose.yaml").write_text(PASSING)
    result = cli("test", str(tmp_path / "loose.yaml"))
    assert result.code == 1
    assert "error[test-ruleset-missing]: this test file is not in a rulesets/<cc>/tests/ folder, so it must say which ruleset it tests" in result.out
    assert "shipped countries" not in result.out


SHIPPED_TEST_FILES = sorted((ROOT / "rulesets").glob("*/tests/*.yaml"))
MODELINE = "# yaml-language-server: $schema=../../../schema/ruleset-test.schema.json"


def _as_json(value: object) -> object:
    return json.loads(json.dumps(value, default=str))


@pytest.mark.parametrize("path", SHIPPED_TEST_FILES, ids=[f"{p.parent.parent.name}/{p.name}" for p in SHIPPED_TEST_FILES])
def test_shipped_test_files_name_their_schema_and_validate_against_it(path: Path) -> None:
    """Each shipped test file starts with the schema modeline, and the committed schema accepts it."""
    assert path.read_text(encoding="utf-8").splitlines()[0] == MODELINE
    assert (path.parent / MODELINE.split("$schema=")[1]).resolve() == (ROOT / "schema" / "ruleset-test.schema.json")
    schema = json.loads((ROOT / "schema" / "ruleset-test.schema.json").read_text(encoding="utf-8"))
    raw, _ = read_yaml(path.read_bytes(), str(path))
    jsonschema.Draft202012Validator(schema).validate(_as_json(raw))


def test_schema_rejects_what_the_runner_rejects() -> None:
    """The schema refuses an unknown expectation key and a yes where true or false belongs, as the runner does."""
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / "schema" / "ruleset-test.schema.json").read_text(encoding="utf-8")))
    case = {"name": "x", "answers": {}, "expect": {"complete": True}}
    assert validator.is_valid({"cases": [case]})
    assert not validator.is_valid({"cases": [{**case, "expect": {"complete": "no"}}]})
    assert not validator.is_valid({"cases": [{**case, "expect": {"no_referal": ["x"]}}]})
    assert not validator.is_valid({"cases": [{**case, "expect": {"modes": {"x": "opt-in"}}}]})
