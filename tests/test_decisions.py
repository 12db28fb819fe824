"""Decisions: what Ruleset.decide() returns, keyed by ids, checked against the full assessment."""

from __future__ import annotations

import json
import pickle

import pytest

from invictus_rules import Decisions, ScoreDecision, load_ruleset_text

from .conftest import FIXTURES

SAFETY = load_ruleset_text((FIXTURES / "safety.yaml").read_text(encoding="utf-8"))
AS_OF = "2027-02-01"
BASE = {"crime_type": "domestic_violence", "wants_shelter": True, "victim_age": 30, "lives_with_offender": False, "injured": False}
CASES = [
    {},
    BASE,
    {**BASE, "safe_to_talk": False},
    {**BASE, "safe_to_talk": True, "safe_contact_channels": ["phone"]},
    {**BASE, "safe_to_talk": True, "safe_contact_channels": ["phone"], "victim_age": 15},
    {**BASE, "injured": {"status": "declined"}, "safe_to_talk": {"status": "unknown"}},
]


@pytest.mark.parametrize("answers", CASES)
def test_keyed_views_agree_with_the_assessment(answers):
    """Levels, referrals, services, deferred, information and pending say what the assessment says."""
    decisions = SAFETY.decide(answers, as_of=AS_OF)
    assessment = SAFETY.evaluate(answers, as_of=AS_OF)
    assert isinstance(decisions, Decisions)
    assert dict(decisions.levels) == {score.id: score.level for score in assessment.scores}
    assert {score_id: score.level for score_id, score in decisions.scores.items()} == dict(decisions.levels)
    assert set(decisions.services) == {referral.service for referral in assessment.referrals}
    assert set(decisions.referrals) == {reason.rule for referral in assessment.referrals for reason in referral.reasons}
    assert dict(decisions.deferred) == {item.rule: item.why for item in assessment.deferred}
    assert list(decisions.information) == [item.id for item in assessment.information]
    open_rules = {item.id for item in assessment.pending + assessment.undecidable}
    assert set(decisions.pending) == open_rules - {score.id for score in assessment.scores}
    assert list(decisions.next_questions) == assessment.next_questions
    assert decisions.as_of.isoformat() == AS_OF


def test_deferred_referrals_are_not_made():
    """A referral held back while it is not safe to talk is in deferred, never in referrals."""
    decisions = SAFETY.decide({**BASE, "safe_to_talk": False}, as_of=AS_OF)
    assert decisions.safe is False and decisions.deferred
    assert not set(decisions.referrals) & set(decisions.deferred)


def test_decisions_are_immutable():
    """Neither the attributes nor the mappings can be changed."""
    decisions = SAFETY.decide(BASE, as_of=AS_OF)
    with pytest.raises(AttributeError):
        decisions.levels = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        decisions.levels["x"] = "high"  # type: ignore[index]
    with pytest.raises(TypeError):
        decisions.deferred["x"] = "why"  # type: ignore[index]
    with pytest.raises(AttributeError):
        decisions.extra = 1  # type: ignore[attr-defined]


def test_to_dict_is_json_and_keeps_every_view():
    """to_json() is to_dict() as JSON; equality follows to_dict(); a pickled copy is equal."""
    decisions = SAFETY.decide({**BASE, "safe_to_talk": True, "safe_contact_channels": ["phone"]}, as_of=AS_OF)
    data = decisions.to_dict()
    assert json.loads(decisions.to_json()) == data
    assert data["levels"] == dict(decisions.levels) and data["referrals"] == list(decisions.referrals)
    assert set(data) == {"as_of", "safe", "levels", "scores", "referrals", "services", "deferred", "information", "pending", "next_questions", "ignored"}
    assert decisions == SAFETY.decide({**BASE, "safe_to_talk": True, "safe_contact_channels": ["phone"]}, as_of=AS_OF)
    assert decisions != SAFETY.decide(BASE, as_of=AS_OF)
    assert pickle.loads(pickle.dumps(decisions)) == decisions
    for score in decisions.scores.values():
        assert isinstance(score, ScoreDecision)


def test_repr_and_json_show_no_answer_value():
    """Free answers (an age here) appear nowhere in repr or JSON: ids and levels only."""
    decisions = SAFETY.decide({**BASE, "victim_age": 87}, as_of=AS_OF)
    assert "87" not in repr(decisions) and "87" not in decisions.to_json()

