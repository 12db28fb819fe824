"""Replaying decision records: identical, short differences, and refusals of anything that is not the recorded case."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from invictus_rules import load_ruleset
from invictus_rules.record import RECORD_KEY_ENV, ReplayError

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "nl" / "dv-high-risk.json"
KEY = "a-deployment-key-of-32-characters"


def _answers() -> dict:
    return json.loads(CASE.read_text(encoding="utf-8"))["answers"]


@pytest.fixture(scope="module")
def nl():
    return load_ruleset("nl@2026.1")


@pytest.fixture
def record(nl):
    answers = _answers()
    return nl.evaluate(answers, as_of="2026-03-01").record(answers, case_id="c-17", key=KEY)


def test_replay_with_the_recorded_answers_is_identical(nl, record):
    """The same answers on the same version give the recorded decisions."""
    result = nl.replay(record, _answers(), key=KEY)
    assert result.identical and result.summary().startswith("IDENTICAL")
    assert [w.code for w in result.warnings] == []
    assert result.record.ruleset.manifest == "match"


def test_replay_refuses_another_victims_answers(nl, record):
    """Answers whose digest differs are refused: these are not the recorded answers."""
    other = dict(_answers(), strangulation=False, threats_to_kill=False)
    with pytest.raises(ReplayError) as refused:
        nl.replay(record, other, key=KEY)
    assert refused.value.problems[0].code == "not-the-recorded-answers"
    assert "these are not the recorded answers" in str(refused.value)


def test_replay_needs_the_deployment_key_that_made_the_record(nl, record, monkeypatch):
    """A keyed record cannot be replayed without its key, or with another deployment's key."""
    monkeypatch.delenv(RECORD_KEY_ENV, raising=False)
    with pytest.raises(ReplayError, match="record-key-needed"):
        nl.replay(record, _answers())
    with pytest.raises(ReplayError, match="record-key-differs"):
        nl.replay(record, _answers(), key="another-deployment-key-32-chars!!")
    monkeypatch.setenv(RECORD_KEY_ENV, KEY)
    assert nl.replay(record, _answers()).identical


def test_replay_refuses_another_ruleset(record):
    """A record made with one version is not replayed on another."""
    with pytest.raises(ReplayError, match="different-ruleset"):
        load_ruleset("nl@2025.1").replay(record, _answers(), key=KEY)


def test_replay_warns_on_another_engine_build_naming_both(nl, record):
    """A record from another engine build replays with a warning that names both builds."""
    data = record.model_dump(mode="json")
    data["engine"]["build"] = "f" * 64
    result = nl.replay(data, _answers(), key=KEY)
    warning = next(w for w in result.warnings if w.code == "engine-build-differs")
    assert "ffffffffffff" in warning.message and result.record.engine.build[:12] in warning.message
    from invictus_rules import engine_build

    assert engine_build()[:12] in warning.message


def test_replay_and_evaluation_warn_outside_the_versions_dates(nl):
    """Evaluating a pinned version outside its dates warns; so does replaying a record made that way."""
    answers = _answers()
    assessment = nl.evaluate(answers, as_of="2025-06-01")
    warning = next(w for w in assessment.warnings if w.code == "version-not-in-force")
    assert "2025-06-01" in warning.message
    result = nl.replay(assessment.record(answers, key=KEY), answers, key=KEY)
    assert result.identical and "as-of-outside-version" in [w.code for w in result.warnings]
    assert "version-not-in-force" not in [w.code for w in nl.evaluate(answers, as_of=dt.date(2026, 3, 1)).warnings]


def test_differences_are_summarised_briefly(nl, record):
    """Changed decisions come back as counts by kind and the first few paths, never a dump."""
    data = record.model_dump(mode="json")
    data["decisions"]["levels"]["dv_risk"] = "medium"
    data["decisions"]["referrals"] = data["decisions"]["referrals"][:1]
    data["decisions"]["information"] = []
    result = nl.replay(data, _answers(), key=KEY)
    summary = result.summary()
    assert not result.identical and len(result.differences) > 5
    assert summary.startswith(f"DIFFERENT: {len(result.differences)} differences (levels 1, referrals 5, information 7)")
    assert 'decisions.levels.dv_risk: recorded "medium", replayed "high"' in summary
    assert "more" in summary and len(summary) < 600


def test_replay_on_the_command_line(cli, tmp_path, monkeypatch):
    """replay RECORD CASE: identical exits 0; other answers are refused with exit 1 and the reason."""
    monkeypatch.setenv(RECORD_KEY_ENV, KEY)
    made = cli("assess", "nl", str(CASE), "--format", "record")
    record = tmp_path / "record.json"
    record.write_text(made.out)
    same = cli("replay", str(record), str(CASE))
    assert same.code == 0 and "IDENTICAL" in same.out and "answers verified: hmac-sha256" in same.out
    other = tmp_path / "other.json"
    case = json.loads(CASE.read_text())
    case["answers"]["strangulation"] = False
    other.write_text(json.dumps(case))
    refused = cli("replay", str(record), str(other))
    assert refused.code == 1 and "error[not-the-recorded-answers]" in refused.err
    payload = json.loads(cli("replay", str(record), str(CASE), "--format", "json").out)
    assert payload["identical"] is True and payload["differences"] == 0


def test_replay_names_a_changed_priority_and_a_changed_order(nl):
    """A record whose referral priority or referral order differs from the replay names exactly that difference."""
    answers = _answers()
    recorded = nl.evaluate(answers, as_of="2026-03-01").record(answers, case_id="c-18").model_dump(mode="json")
    first = recorded["decisions"]["referrals"][0]["service"]
    edited = json.loads(json.dumps(recorded))
    edited["decisions"]["referrals"][0]["priority"] = "standard" if edited["decisions"]["referrals"][0]["priority"] != "standard" else "urgent"
    result = nl.replay(edited, answers)
    assert not result.identical and [path for path, _, _ in result.differences] == [f"decisions.referrals.{first}.priority"]
    reordered = json.loads(json.dumps(recorded))
    reordered["decisions"]["referrals"].reverse()
    result = nl.replay(reordered, answers)
    assert [path for path, _, _ in result.differences] == ["decisions.referrals.(order)"]
    assert result.summary().startswith("DIFFERENT: 1 difference")


def test_a_record_needs_an_aware_clock(nl):
    """A clock without a time zone is refused: records are stamped in an unambiguous time."""
    answers = _answers()
    assessment = nl.evaluate(answers, as_of="2026-03-01")
    with pytest.raises(ValueError, match="aware datetime"):
        assessment.record(answers, clock=lambda: dt.datetime(2026, 3, 1, 12, 0))
