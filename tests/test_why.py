"""Each example from the exact-analysis issue ("Why"), as a regression test: diff reports it with
``--exit-code`` 1 (and a case the engine confirms), lint finds it, impact counts it."""

from __future__ import annotations

import json

from invictus_rules import load_ruleset_text
from invictus_rules.tools.diff import diff_rulesets
from invictus_rules.tools.exact import run_case

from .conftest import FIXTURES

MINI = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
CRIME_DATE = """  - id: crime_date
    type: date
    text: {en: When did it happen?, nl: Wanneer is het gebeurd?}
  - id: age
"""


def variant(*replacements: tuple[str, str], base: str = MINI) -> str:
    text = base
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def write_pair(tmp_path, old: str, new: str) -> tuple[str, str]:
    (tmp_path / "old.yaml").write_text(old, encoding="utf-8")
    (tmp_path / "new.yaml").write_text(new, encoding="utf-8")
    return str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml")


def effects(old: str, new: str) -> dict:
    report = diff_rulesets(load_ruleset_text(old).compiled, load_ruleset_text(new).compiled)
    return {(e.kind, e.id): e for e in report.effects if e.verdict.found}


def test_a_date_window_divided_into_weeks_is_a_change(cli, tmp_path):
    """days_since(crime_date) / 7 <= 2 -> <= 3 is reported, with a case 15 to 21 days after the crime."""
    with_date = variant(("  - id: age\n", CRIME_DATE), ("when: age < 18", "when: days_since(crime_date) / 7 <= 2"))
    wider = with_date.replace("days_since(crime_date) / 7 <= 2", "days_since(crime_date) / 7 <= 3")
    old, new = write_pair(tmp_path, with_date, wider)
    result = cli("diff", old, new, "--exit-code", "--format", "json", "--as-of", "2026-03-01")
    assert result.code == 1, result.out + result.err
    report = json.loads(result.out)
    [minors] = [c for c in report["changes"] if c["id"] == "minors"]
    [case] = minors["details"][0]["cases"]
    assert case["shows"] == "true under NEW, not under OLD" and case["synthetic"]
    import datetime as dt

    days = (dt.date(2026, 3, 1) - dt.date.fromisoformat(case["answers"]["crime_date"])).days
    assert 15 <= days <= 21


def test_an_age_with_arithmetic_is_a_change(cli, tmp_path):
    """victim_age + 10 < 28 -> < 27 is reported: age 17 is no longer covered."""
    old_text = variant(("when: age < 18", "when: age + 10 < 28"))
    new_text = old_text.replace("age + 10 < 28", "age + 10 < 27")
    old, new = write_pair(tmp_path, old_text, new_text)
    result = cli("diff", old, new, "--exit-code")
    assert result.code == 1
    assert "narrower" in result.out and '{"age": 17}' in result.out


def test_a_direct_mode_change_changes_the_merged_referral(cli, tmp_path):
    """opt_in -> opt_out on the rule that decides the merged referral is an effect on the service."""
    new_text = MINI.replace("priority: immediate\n    mode: opt_in", "priority: immediate\n    mode: opt_out")
    found = effects(MINI, new_text)
    assert ("service", "helpline") in found
    assert "opt_in" in found[("service", "helpline")].old and "opt_out" in found[("service", "helpline")].new
    old, new = write_pair(tmp_path, MINI, new_text)
    assert cli("diff", old, new, "--exit-code").code == 1


def test_moving_a_rule_changes_the_merged_mode_where_rule_order_decides_a_tie(tmp_path):
    """Two rules of one priority and different modes, swapped, in a ruleset without a safety section
    (merged as published: the first listed wins a tie): the merged mode changes, and diff says so."""
    tie = MINI.replace("priority: urgent\n    mode: inform_only", "priority: standard\n    mode: inform_only")
    first, second = tie.index("  - id: everyone"), tie.index("  - id: not_safe_now")
    third = tie.index("  - id: high_risk")
    swapped = tie[:first] + tie[second:third] + tie[first:second] + tie[third:]
    report = diff_rulesets(load_ruleset_text(tie).compiled, load_ruleset_text(swapped).compiled)
    assert ("order", "referrals") in {(c.kind, c.id) for c in report.changes}
    service = next(e for e in report.effects if e.kind == "service" and e.id == "helpline")
    assert service.verdict.found and service.verdict.confirmed
    assert report.changed


def test_moving_rules_never_changes_a_merged_referral_with_a_safety_section():
    """With a safety section the engine merges by mode, priority and rule id: reversing the rules is
    proved to change no merged referral, deferral or rule."""
    text = (FIXTURES / "safety.yaml").read_text(encoding="utf-8")
    ruleset = load_ruleset_text(text)
    start = text.index("referrals:\n") + len("referrals:\n")
    end = text.index("\ninformation:") if "\ninformation:" in text else len(text)
    body = text[start:end]
    rules = ["  - id:" + part for part in body.split("  - id:")[1:]]
    reversed_text = text[:start] + "".join(reversed([r if r.endswith("\n") else r + "\n" for r in rules])) + text[end:]
    report = diff_rulesets(ruleset.compiled, load_ruleset_text(reversed_text).compiled)
    assert report.effects and all(e.verdict.proved for e in report.effects), [(e.kind, e.id, e.describe()) for e in report.outcome_effects]


def test_an_added_level_narrows_an_unchanged_level_condition(cli, tmp_path):
    """Adding "very_high" above "high" changes the unchanged rule level(dv_risk) == "high"."""
    new_text = MINI.replace(
        "        when: score(dv_risk) >= 6 or critical(dv_risk) >= 1\n",
        "        when: score(dv_risk) >= 6 or critical(dv_risk) >= 1\n      - id: very_high\n        label: {en: Very high, nl: Zeer hoog}\n        when: score(dv_risk) >= 8\n",
    )
    found = effects(MINI, new_text)
    rule = found[("referral", "high_risk")]
    assert rule.old == "true" and rule.new in ("false", "unknown")
    outcome = run_case(load_ruleset_text(new_text), rule.verdict.case, __import__("datetime").date(2026, 1, 1))
    assert outcome is not None and outcome.referrals[2] is not True
    old, new = write_pair(tmp_path, MINI, new_text)
    assert cli("diff", old, new, "--exit-code").code == 1


def test_impact_counts_a_mode_change(cli, tmp_path):
    """A direct opt_in -> opt_out change is counted by impact (it compares modes, not only priorities)."""
    new_text = MINI.replace("priority: immediate\n    mode: opt_in", "priority: immediate\n    mode: opt_out")
    old, new = write_pair(tmp_path, MINI, new_text)
    result = cli("impact", old, new, "--generate", "50", "--workers", "1", "--as-of", "2026-03-01", "--format", "json")
    report = json.loads(result.out)
    assert any(entry["change"] == "referral mode helpline: opt_in -> opt_out" for entry in report["changes"]), report["changes"]


def test_impact_of_a_date_window_counts_generated_cases_anchored_on_the_as_of_date(cli, tmp_path):
    """days_since(crime_date) <= 7 -> <= 8: generated cases are dated on the as-of date and some change."""
    with_date = variant(("  - id: age\n", CRIME_DATE), ("when: age < 18", "when: days_since(crime_date) <= 7"))
    old, new = write_pair(tmp_path, with_date, with_date.replace("days_since(crime_date) <= 7", "days_since(crime_date) <= 8"))
    out = tmp_path / "affected.jsonl"
    result = cli("impact", old, new, "--generate", "100", "--workers", "1", "--as-of", "2030-06-01", "--format", "text", "--affected-out", str(out))
    assert result.code == 0, result.err
    assert "SYNTHETIC" in result.out and "as of 2030-06-01" in result.out
    assert "information gained: minors" in result.out
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines and all(line["case_id"].startswith("synthetic-") for line in lines)


def test_impact_summary_counts_unknown_keys_duplicates_and_unreadable_files(cli, tmp_path):
    """The summary names both hashes and a corpus digest; unknown keys, duplicate ids and an
    unreadable file are counted and named, and the rest of the corpus is still assessed."""
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps({"case_id": "c1", "answers": {"age": 10, "not_a_question": 1}}))
    (folder / "b.json").write_text(json.dumps({"case_id": "c1", "answers": {"age": 30}}))
    (folder / "c.json").write_text("{not json")
    result = cli("impact", "tests/fixtures/mini.yaml", "tests/fixtures/mini.yaml", "--cases", str(folder), "--workers", "1", "--format", "json", "--as-of", "2026-03-01")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["cases"] == 2 and report["duplicate_case_ids"] == 1
    assert report["unknown_answer_keys"] == {"cases": 1, "keys": {"not_a_question": 1}}
    assert report["unreadable"] == [{"file": "c.json", "problem": "case-json"}]
    assert len(report["old_sha256"]) == 64 and len(report["corpus_digest"]) == 64 and report["as_of"] == "2026-03-01"
