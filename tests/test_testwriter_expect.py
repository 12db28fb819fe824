"""`test add` writes every kind of result into the test's expect block, and the written test passes when run."""

from __future__ import annotations

import json
import shutil

import yaml

from .conftest import FIXTURES


def _written(cli, tmp_path, fixture: str, answers: dict) -> dict:
    ruleset = tmp_path / fixture
    shutil.copy(FIXTURES / fixture, ruleset)
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"case_id": "c-1", "as_of": "2026-03-01", "answers": answers}), encoding="utf-8")
    out = tmp_path / "written.yaml"
    result = cli("test", "add", str(ruleset), str(case), "--out", str(out))
    assert result.code == 0, result.err
    ran = cli("test", str(out))
    assert ran.code == 0, ran.out + ran.err
    (written,) = yaml.safe_load(out.read_text(encoding="utf-8"))["cases"]
    assert written["name"] == "c-1" and written["answers"] == answers
    return written["expect"]


def test_deferred_undecidable_and_ignored_results_are_expected(cli, tmp_path):
    """Deferred referrals, rules left open by declined answers and ignored answers are all pinned by the test."""
    expect = _written(
        cli, tmp_path, "safety.yaml",
        {"safe_to_talk": False, "crime_type": "domestic_violence", "lives_with_offender": True, "wants_shelter": True, "injured": {"status": "declined"}, "victim_age": 30, "children_at_home": False, "insecure_residence_status": True},
    )
    assert expect["safety"] is True
    assert expect["deferred"] and all(isinstance(rule, str) for rule in expect["deferred"])
    assert expect["undecidable"] == ["injuries"]
    assert expect["ignored"] == ["insecure_residence_status"]
    assert "levels" not in expect and "points" not in expect
    assert set(expect["no_referrals"]) >= {"shelter"}


def test_an_undecided_score_and_pending_rules_are_expected(cli, tmp_path):
    """A partial case pins the levels a score may still reach, its pending rules and what is not given."""
    expect = _written(cli, tmp_path, "mini.yaml", {"safe_to_talk": True, "crime_type": "domestic_violence"})
    assert expect["status"] == "in_progress"
    assert expect["possible_levels"] == {"dv_risk": ["standard", "high"]}
    assert "levels" not in expect
    assert set(expect["pending"]) >= {"high_risk", "minors"}
    assert expect["no_information"] == ["minors"]
    assert expect["referrals"] == ["helpline"] and expect["modes"] == {"helpline": "opt_out"}


def test_a_complete_case_pins_levels_and_points(cli, tmp_path):
    """A complete case pins each score's level and points."""
    expect = _written(cli, tmp_path, "mini.yaml", {"safe_to_talk": True, "crime_type": "domestic_violence", "strangulation": True, "threats": True, "age": 30, "judgement": "standard"})
    assert expect["levels"] == {"dv_risk": "high"}
    assert expect["points"] == {"dv_risk": 8}
    assert expect["status"] == "complete"
