"""One case under every country's ruleset, and the Directive coverage matrix."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*/*.json"))


@pytest.mark.parametrize("case", EXAMPLES[:4], ids=[p.stem for p in EXAMPLES[:4]])
def test_compare_prints_a_side_by_side_table(cli, case):
    """compare shows every country's levels, referrals and information for a sample case."""
    result = cli("compare", str(case))
    assert result.code == 0, result.err
    header = result.out.splitlines()[2]
    for country in ("bg@", "fi@", "fr@", "hr@", "it@", "nl@", "pt@"):
        assert country in header
    assert "level dv_risk" in result.out and "info Art. 4(1)(a)" in result.out


def test_compare_sets_aside_unknown_and_invalid_answers(cli, tmp_path):
    """Answers a ruleset does not know or accept are listed, never silently used."""
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"as_of": "2026-03-01", "answers": {"crime_type": "domestic_violence", "no_such_question": True, "victim_age": 300}}))
    payload = json.loads(cli("compare", str(case), "--countries", "nl,fi", "--format", "json").out)
    by_country = {c["country"]: c for c in payload["countries"]}
    assert by_country["nl"]["answers_not_used"] == ["no_such_question"]
    assert by_country["nl"]["answers_not_valid"] == ["victim_age"]
    markdown = cli("compare", str(case), "--countries", "nl,fi", "--format", "markdown").out
    assert markdown.count("|") > 20


def test_coverage_matrix(cli):
    """The matrix lists Art. 4(1)(a)-(k) and Art. 22 elements for every country."""
    result = cli("coverage-matrix", "--format", "json")
    payload = json.loads(result.out)
    articles = [row["article"] for row in payload["rows"]]
    assert [a for a in articles if a.startswith("4(1)")] == [f"4(1)({letter})" for letter in "abcdefghijk"]
    for row in payload["rows"]:
        if row["article"].startswith("4(1)"):
            assert all(row["covered_by"].values()), row
    text = cli("coverage-matrix").out
    assert "Art. 22(4)" in text and "nl@" in text


def test_coverage_matrix_runs_canonical_cases_through_the_engine(safety, mini):
    """The emergency, child-protection and trafficking-residence rows come from real assessments."""
    from invictus_rules.tools.compare import coverage_matrix

    rows = {label: cells for _, label, cells in coverage_matrix([safety, mini], dt.date(2027, 2, 1))}
    assert rows["safety first: emergency route when every answer is declined"] == [["emergency"], []]
    assert rows["statutory child-protection route for a child victim (a report)"] == [["child_protection"], []]
    assert rows["trafficking: reflection period and residence information"] == [["trafficking_residence"], []]
