"""The caseworker's text report, read through the CLI: safety first, then every part in its order."""

from __future__ import annotations

import json

from .conftest import FIXTURES

SAFETY = str(FIXTURES / "safety.yaml")
MINI = str(FIXTURES / "mini.yaml")


def _report(cli, tmp_path, ruleset: str, answers: dict) -> list[str]:
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"answers": answers}), encoding="utf-8")
    result = cli("assess", ruleset, str(path), "--as-of", "2026-03-01")
    assert result.code == 0, result.err
    return result.out.splitlines()


def _after(lines: list[str], heading: str) -> list[str]:
    """The indented lines under ``heading``, up to the next blank line."""
    start = lines.index(heading) + 1
    end = lines.index("", start) if "" in lines[start:] else len(lines)
    return lines[start:end]


def test_not_safe_to_talk_comes_first_with_routes_and_what_is_deferred(cli, tmp_path):
    """When it is not safe to talk, the report opens with the safety block: what to do, silent and emergency routes, deferred referrals."""
    lines = _report(
        cli, tmp_path, SAFETY,
        {"safe_to_talk": False, "crime_type": "domestic_violence", "lives_with_offender": True, "children_at_home": True, "wants_shelter": True},
    )
    assert lines[0] == lines[2] == "!" * len(lines[1]) and lines[1] == "NOT SAFE TO TALK NOW"
    assert lines[3].startswith("What to do now: ")
    assert lines[4] == "In danger: Emergency number (112)"
    assert lines[5] == "Without speaking: Emergency SMS (112)"
    deferred = lines[lines.index("Deferred until it is safe (not offered now)") + 1 : lines.index("", 6)]
    assert [line.split("]")[1].split(" (")[0].strip() for line in deferred if line.startswith("  - ")] == ["Victim support", "Domestic violence centre", "Shelter"]
    assert all(line.startswith("      why: ") for line in deferred[1::2])
    assert sum("Deferred until it is safe" in line for line in lines) == 1, "deferred referrals are listed once, in the safety block"


def test_a_report_referral_shows_its_action_and_legal_basis(cli, tmp_path):
    """A referral the law requires shows its mode explained, the action to take and the legal basis."""
    lines = _report(cli, tmp_path, SAFETY, {"safe_to_talk": False, "crime_type": "domestic_violence", "lives_with_offender": True, "children_at_home": True, "victim_age": 30})
    referrals = _after(lines, "Referrals")
    first = referrals.index("  1. [IMMEDIATE] Child protection service (0800 0456)")
    assert referrals[first + 1].startswith("     report: ")
    assert referrals[first + 3] == "     what to do: Report to the child protection service today by phone."
    assert referrals[first + 4] == "     Legal basis: Child Protection Act art. 7"


def test_declined_unknown_and_ignored_answers_are_listed_by_question(cli, tmp_path):
    """Declined, not known and ignored answers are each named by question id, and a rule they leave open is undecidable."""
    lines = _report(
        cli, tmp_path, SAFETY,
        {"safe_to_talk": True, "safe_contact_channels": ["phone"], "crime_type": "robbery", "injured": {"status": "declined"}, "victim_age": {"status": "unknown"}, "insecure_residence_status": True},
    )
    assert "Declined: injured" in lines
    assert "Not known: victim_age" in lines
    assert "Ignored (question not asked): insecure_residence_status" in lines
    assert "  - referral injuries -> doctor: depends on declined or unknown: victim_age, injured" in _after(lines, "Undecidable by the victim's choice (declined or not known)")


def test_deferred_referrals_have_their_own_part_when_it_is_safe_to_talk(cli, tmp_path):
    """Safe to talk but no safe channel known: no safety block, and the deferred referrals come after the referrals."""
    lines = _report(cli, tmp_path, SAFETY, {"safe_to_talk": True, "crime_type": "domestic_violence", "lives_with_offender": True, "wants_shelter": True})
    assert lines[0].startswith("Assessment with safety_fixture 2027.1")
    assert lines.index("Deferred until it is safe (not offered now)") > lines.index("Referrals")
    assert _after(lines, "Pending (decided once these questions are answered)") == [
        "  - referral child_protection_report -> child_protection: ask victim_age, children_at_home",
        "  - referral injuries -> doctor: ask injured",
    ]
    assert "Next questions: safe_contact_channels, victim_age, children_at_home, injured" in lines


def test_an_undecided_score_shows_its_possible_levels_and_range(cli, tmp_path):
    """A score over unanswered indicators shows the levels it may reach and its range of points."""
    lines = _report(cli, tmp_path, MINI, {"safe_to_talk": True, "crime_type": "domestic_violence"})
    assert _after(lines, "Scores") == ["  Domestic violence risk: undecided: Standard to High; 0 to 8 points, 0 to 1 critical"]
    assert "  - level dv_risk: ask strangulation, threats, judgement" in _after(lines, "Pending (decided once these questions are answered)")
    warnings = _after(lines, "Warnings")
    assert warnings and warnings[0].startswith("  - [safe-contact-not-checked] ")


def test_nothing_found_says_none(cli, tmp_path):
    """A part with nothing in it says so instead of being left out."""
    lines = _report(cli, tmp_path, SAFETY, {"safe_to_talk": True, "safe_contact_channels": ["phone"], "crime_type": "robbery", "victim_age": 40, "injured": False})
    assert _after(lines, "Scores") == ["  (none)"]
