"""Replaying an older assessment JSON through the CLI: what the text report says when it differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "nl" / "dv-high-risk.json"


@pytest.fixture
def assessment(cli) -> dict:
    assessed = cli("assess", "nl", str(CASE), "--format", "json")
    assert assessed.code == 0, assessed.err
    return json.loads(assessed.out)


def _replay(cli, tmp_path: Path, data: dict):
    recorded = tmp_path / "assessment.json"
    recorded.write_text(json.dumps(data), encoding="utf-8")
    return cli("replay", str(recorded), str(CASE))


def test_an_older_engine_is_named_and_the_replay_is_still_identical(cli, tmp_path, assessment):
    """An assessment made by another engine version replays identical, with a warning naming both versions."""
    assessment["engine_version"] = "0.0.1"
    result = _replay(cli, tmp_path, assessment)
    assert result.code == 0, result.out + result.err
    assert "warning[answers-not-verified]" in result.out
    assert "warning[engine-version-differs]: engine version recorded 0.0.1, now " in result.out
    assert "IDENTICAL" in result.out


def test_differences_are_counted_by_kind_and_listed_by_path(cli, tmp_path, assessment):
    """Edited decisions are reported as DIFFERENT with a count per part of the assessment and the paths, never values."""
    assert assessment["referrals"] and assessment["scores"]
    assessment["referrals"][0]["name"] = "edited-name"
    assessment["scores"][0]["level_label"] = "edited-label"
    result = _replay(cli, tmp_path, assessment)
    assert result.code == 1
    assert "DIFFERENT: 2 difference(s) (scores 1, referrals 1); the first:" in result.out
    assert "  $.referrals[0].name" in result.out and "  $.scores[0].level_label" in result.out
    assert "edited-" not in result.out


def test_a_long_list_of_differences_is_capped(cli, tmp_path, assessment):
    """Past the first few differences, the report says how many more there are."""
    for score in assessment["scores"]:
        score["level_label"] = "x"
        score["title"] = "x"
    for referral in assessment["referrals"]:
        referral["name"] = "x"
        referral["category"] = "x"
    for item in assessment["information"]:
        item["title"] = "x"
        item["body"] = "x"
    assert len(assessment["scores"]) * 2 + len(assessment["referrals"]) * 2 + len(assessment["information"]) * 2 > 12
    result = _replay(cli, tmp_path, assessment)
    assert result.code == 1
    assert "more" in result.out.splitlines()[-1] and result.out.splitlines()[-1].startswith("  ... and ")
