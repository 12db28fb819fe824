"""Impact analysis, audit report and replay through the CLI, on the shipped Dutch versions."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from invictus_rules import load_ruleset
from invictus_rules.tools.impact import compare_decisions, decisions, run_impact

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "nl" / "dv-high-risk.json"


def _cases(tmp_path: Path, count: int = 30) -> Path:
    folder = tmp_path / "cases"
    folder.mkdir()
    for number in range(count):
        answers = {
            "safe_to_talk": True,
            "safe_contact_channels": ["phone"],
            "crime_type": "domestic_violence",
            "offender_relationship": "ex_partner",
            "threats_to_kill": number % 3 == 0,
            "escalation": True,
            "recent_separation": number % 2 == 0,
            "coercive_control": True,
            "stalking_behaviour": number % 5 == 0,
        }
        (folder / f"case-{number:03d}.json").write_text(json.dumps({"case_id": f"c{number}", "as_of": "2026-03-01", "answers": answers}))
    return folder


def test_impact_counts_changes_and_shows_only_ids(cli, tmp_path):
    """impact reports changed cases per kind of change with example ids, never answers."""
    result = cli("impact", "nl@2025.1", "nl@2026.1", "--cases", str(_cases(tmp_path)), "--workers", "1", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["cases"] == 30
    kinds = {entry["change"]: entry for entry in report["changes"]}
    assert "referral priority veilig_thuis: standard -> urgent" in kinds
    assert all(case_id.startswith("c") for entry in report["changes"] for case_id in entry["example_case_ids"])
    assert "threats_to_kill" not in result.out


def test_impact_is_the_same_on_one_and_many_workers(tmp_path):
    """Parallel and sequential runs count the same."""
    triples = [(f"g{n}", {"crime_type": "domestic_violence", "escalation": n % 2 == 0, "strangulation": n % 7 == 0}, "2026-03-01") for n in range(1500)]
    one = run_impact("nl@2025.1", "nl@2026.1", iter(triples), workers=1)
    two = run_impact("nl@2025.1", "nl@2026.1", iter(triples), workers=2)
    assert one.to_dict() == two.to_dict()


def test_generated_cases_reach_the_changed_threshold(cli):
    """--generate adds boundary cases: the lowered dv_risk threshold changes some levels to high."""
    result = cli("impact", "nl@2025.1", "nl@2026.1", "--generate", "300", "--seed", "3", "--workers", "1", "--format", "json")
    report = json.loads(result.out)
    assert report["cases"] > 300
    assert any(entry["change"].startswith("level dv_risk") and entry["change"].endswith("high") for entry in report["changes"])
    again = cli("impact", "nl@2025.1", "nl@2026.1", "--generate", "300", "--seed", "3", "--workers", "1", "--format", "json")
    assert again.out == result.out


def test_compare_decisions_names_each_change():
    """Gained and lost referrals and information, and level moves, are named."""
    ruleset = load_ruleset("nl@2026.1")
    base = decisions(ruleset, {"crime_type": "domestic_violence", "strangulation": False}, __import__("datetime").date(2026, 3, 1))
    high = decisions(ruleset, {"crime_type": "domestic_violence", "strangulation": True}, __import__("datetime").date(2026, 3, 1))
    kinds = compare_decisions(base, high)
    assert any(kind.startswith("level dv_risk:") for kind in kinds)


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and value.startswith(("http:", "https:", "//")) and tag != "a":
                self.external.append(value)


def test_audit_report_is_self_contained(cli, tmp_path):
    """The audit report is one HTML file with hashes, changelog, diff and impact, and no external resources."""
    out = tmp_path / "report.html"
    result = cli("audit-report", "nl@2025.1", "nl@2026.1", "--generate", "200", "--workers", "1", "--out", str(out))
    assert result.code == 0, result.err
    page = out.read_text(encoding="utf-8")
    parser = _Structure()
    parser.feed(page)
    assert not parser.external and "script" not in parser.tags
    for text in (load_ruleset("nl@2025.1").sha256, load_ruleset("nl@2026.1").sha256, "threshold lowered by 2", "Impact on cases", "New in 2026.1"):
        assert text in page


def test_replay_identical_and_tampered(cli, tmp_path):
    """replay verifies the hash and reproduces the assessment; a changed ruleset is detected."""
    recorded = tmp_path / "assessment.json"
    assessed = cli("assess", "nl", str(CASE), "--format", "json")
    assert assessed.code == 0, assessed.err
    recorded.write_text(assessed.out)
    same = cli("replay", str(recorded), str(CASE))
    assert same.code == 0 and "IDENTICAL" in same.out
    data = json.loads(assessed.out)
    data["ruleset"]["sha256"] = "0" * 64
    recorded.write_text(json.dumps(data))
    tampered = cli("replay", str(recorded), str(CASE))
    assert tampered.code == 1 and "DIFFERENT RULESET" in tampered.out
    data = json.loads(assessed.out)
    data["referrals"] = data["referrals"][1:]
    recorded.write_text(json.dumps(data))
    edited = cli("replay", str(recorded), str(CASE), "--format", "json")
    assert edited.code == 1 and json.loads(edited.out)["differences"]


def test_answers_a_version_does_not_know_are_set_aside_not_the_case():
    """A case answering a question or option only the new version has is still assessed under the old."""
    case = {"crime_type": "domestic_violence", "offender_relationship": "partner", "professional_judgement": "extreme", "strangulation": True}
    report = run_impact("pt@2025.1", "pt@2025.2", iter([("c1", case, "2025-07-15")]), workers=1)
    assert report.invalid_old == 1 and report.invalid_new == 0
    assert report.kinds == {"level dv_risk: high -> extreme": 1}


def test_replay_of_an_assessment_recorded_before_the_safety_fields(cli, tmp_path):
    """A recording without the fields added for safe contact still loads and replays identical."""
    data = json.loads(cli("assess", "nl", str(CASE), "--format", "json").out)
    for key in ("safety", "deferred", "status", "undecidable"):
        del data[key]
    for score in data["scores"]:
        del score["possible_level_labels"]
    for referral in data["referrals"]:
        for reason in referral["reasons"]:
            del reason["legal_basis"], reason["action"]
    recorded = tmp_path / "old-assessment.json"
    recorded.write_text(json.dumps(data))
    replayed = cli("replay", str(recorded), str(CASE))
    assert replayed.code == 0 and "IDENTICAL" in replayed.out, replayed.out
