"""Each lint check fires on a small bad ruleset and stays silent on the good one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from invictus_rules.tools.lint import is_clean, lint_file

from .conftest import FIXTURES

SAFETY = """safety:
  safe_to_talk: safe_to_talk
  safe_channels: channels
  emergency: [helpline]
  silent: []  # none in this fixture
  advice: {en: End the call calmly., nl: Beëindig het gesprek rustig.}
"""
CHANNELS = """  - id: channels
    type: multiple_choice
    text: {en: How can we reach you safely?, nl: Hoe kunnen wij u veilig bereiken?}
    options:
      - value: phone
        label: {en: Phone, nl: Telefoon}
"""
# the fixture, with the safe contact a new version must declare (mini.yaml itself predates it)
MINI = (
    (FIXTURES / "mini.yaml")
    .read_text(encoding="utf-8")
    .replace('    phone: "116 006"\n', '    phone: "116 006"\n    first_contact: phone\n', 1)
    .replace("  - id: crime_type\n", CHANNELS + "  - id: crime_type\n", 1)
    .replace("referrals:\n", SAFETY + "referrals:\n", 1)
)


def lint_text(tmp_path: Path, text: str) -> list[tuple[str, str, int]]:
    path = tmp_path / "ruleset.yaml"
    path.write_text(text, encoding="utf-8")
    return [(p.code, p.severity, p.location.line) for p in lint_file(path)]


def variant(old: str, new: str) -> str:
    assert old in MINI, old
    return MINI.replace(old, new, 1)


def test_good_ruleset_is_clean(tmp_path):
    """The fixture ruleset has no findings at all."""
    assert lint_text(tmp_path, MINI) == []


CASES = {
    "question-never-asked": ('ask_if: crime_type == "domestic_violence"\n    text: {en: Has the person ever', 'ask_if: crime_type == "robbery" and crime_type == "domestic_violence"\n    text: {en: Has the person ever'),
    "indicator-never-present": ("when: threats\n", "when: threats and age > 200\n"),
    "level-unreachable": ("when: score(dv_risk) >= 6 or critical(dv_risk) >= 1", "when: score(dv_risk) >= 50"),
    "referral-never-fires": ("when: not safe_to_talk", "when: not safe_to_talk and age < 0"),
    "information-never-given": ("when: age < 18", "when: age > 120"),
    "condition-always-true": ("when: age < 18", "when: age <= 120 or not answered(age)"),
    "ask-if-forward": ('ask_if: crime_type == "domestic_violence"\n    text: {en: Has the person ever', "ask_if: age > 3\n    text: {en: Has the person ever"),
    "service-unused": ("services:\n", "services:\n  - id: unused_line\n    category: helpline\n    name: {en: Unused line, nl: Ongebruikte lijn}\n"),
    "translation-missing": ("title: {en: Support, nl: Steun}", "title: {en: Support}"),
    "translation-empty": ("title: {en: Support, nl: Steun}", 'title: {en: Support, nl: ""}'),
    "translation-identical": ("body: {en: Children get extra protection., nl: Kinderen krijgen extra bescherming.}", "body: {en: Children get extra protection., nl: Children get extra protection.}"),
    "implicit-default": ("        points: 3\n        critical: false\n", "        points: 3\n"),
    "changelog-missing": ('  changelog:\n    - version: "2026.1"', '  changelog:\n    - version: "2025.9"'),
    "safety-missing": (SAFETY, ""),
    "handover-without-first-contact": ("    first_contact: phone\n", "    first_contact: none\n"),
    "report-reads-safety": (
        "    mode: inform_only\n",
        '    mode: report\n    legal_basis: ["Child Protection Act art. 7"]\n    action: {en: Report today., nl: Meld vandaag.}\n',
    ),
}


@pytest.mark.parametrize("code", list(CASES))
def test_each_check_fires(tmp_path, code):
    """A ruleset with exactly one mistake gets that finding, positioned on a line."""
    old, new = CASES[code]
    found = lint_text(tmp_path, variant(old, new))
    matching = [f for f in found if f[0] == code]
    assert matching, found
    assert all(line > 0 for _, _, line in matching)


def test_question_never_used(tmp_path):
    """A yes/no question no rule reads is a warning; an unused free-text note only info."""
    text = variant("  - id: age\n", "  - id: spare\n    type: boolean\n    text: {en: Spare question, nl: Extra vraag}\n  - id: notes\n    type: text\n    text: {en: Notes, nl: Notities}\n  - id: age\n")
    found = {(code, severity) for code, severity, _ in lint_text(tmp_path, text)}
    assert ("question-unused", "warning") in found and ("question-unused", "info") in found


@pytest.mark.parametrize(
    "levels, code",
    [
        ("      - id: standard\n        label: {en: Standard, nl: Standaard}\n        when: score(dv_risk) >= 1\n", "level-gap"),
        (
            "      - id: standard\n        label: {en: Standard, nl: Standaard}\n"
            "      - id: medium\n        label: {en: Medium, nl: Midden}\n        when: score(dv_risk) >= 3 and score(dv_risk) < 5\n",
            "level-gap",
        ),
        (
            "      - id: standard\n        label: {en: Standard, nl: Standaard}\n"
            "      - id: medium\n        label: {en: Medium, nl: Midden}\n        when: score(dv_risk) >= 3 and score(dv_risk) <= 5\n",
            "level-overlap",
        ),
    ],
)
def test_level_gaps_and_overlaps(tmp_path, levels, code):
    """Totals without a level, falling levels and overlapping ranges are found."""
    base = "      - id: standard\n        label: {en: Standard, nl: Standaard}\n"
    text = variant(base, levels)
    if code == "level-overlap":
        text = text.replace("when: score(dv_risk) >= 6 or critical(dv_risk) >= 1", "when: score(dv_risk) >= 3")
        text = text.replace("    override:\n      question: judgement\n", "")
        text = text.replace("      - value: standard\n        label: {en: Standard, nl: Standaard}\n      - value: high", "      - value: high")
    found = {c for c, _, _ in lint_text(tmp_path, text)}
    assert code in found


def _published_folder(tmp_path: Path, *, overlap: bool, hashed: bool) -> Path:
    from invictus_rules import load_ruleset

    folder = tmp_path / "rules"
    (folder / "xx").mkdir(parents=True)
    current = MINI.replace("status: draft", "status: published")
    (folder / "xx" / "2026.1.yaml").write_text(current)
    older = current.replace('version: "2026.1"', 'version: "2025.1"').replace("effective_from: 2026-01-01", "effective_from: 2025-01-01\n  effective_until: " + ("2026-06-30" if overlap else "2025-12-31"))
    older = older.replace('  changelog:\n    - version: "2026.1"', '  changelog:\n    - version: "2025.1"')
    (folder / "xx" / "2025.1.yaml").write_text(older)
    entries = {}
    for name in ("2025.1.yaml", "2026.1.yaml"):
        digest = load_ruleset(folder / "xx" / name).sha256
        entries[f"xx/{name}"] = digest if hashed else "0" * 64
    (folder / "manifest.json").write_text(json.dumps({"format": "invictus-rules/manifest/v1", "published": entries}))
    return folder


def test_version_checks_against_other_versions_and_manifest(tmp_path):
    """Overlapping dates and a published file that no longer matches the manifest are errors."""
    folder = _published_folder(tmp_path, overlap=True, hashed=False)
    codes = {p.code for p in lint_file(folder / "xx" / "2026.1.yaml")}
    assert {"effective-overlap", "published-changed"} <= codes
    clean = _published_folder(tmp_path / "ok", overlap=False, hashed=True)
    assert is_clean(lint_file(clean / "xx" / "2026.1.yaml"))


def test_lint_cli_json_and_exit_code(cli, tmp_path):
    """lint exits 1 with findings and gives JSON on request; 0 when clean."""
    path = tmp_path / "bad.yaml"
    path.write_text(variant("when: age < 18", "when: age > 120"))
    result = cli("lint", str(path), "--format", "json")
    assert result.code == 1
    assert json.loads(result.out)["files"][0]["problems"][0]["code"] == "information-never-given"
    assert cli("lint", str(FIXTURES / "safety.yaml")).code == 0


def test_invalid_ruleset_reports_its_errors(tmp_path):
    """A ruleset that does not compile gets its compile errors from lint."""
    found = lint_text(tmp_path, variant("when: age < 18", "when: ag < 18"))
    assert found[0][:2] == ("unknown-question", "error")


@pytest.mark.parametrize(
    "old, new, code",
    [
        ("  - id: age\n    type: integer\n", "  - id: age\n    type: integer\n    ask_if: age > 3\n", "ask-if-cycle"),
        ("    service: helpline\n    when: level", "    service: helpine\n    when: level", "unknown-service"),
        ("{{ services.helpline.phone }}.", "{{ services.helpline.fax }}.", "template-reference"),
        ("{{ services.helpline.name }}.", "{{ victim_name }}.", "template-variable"),
    ],
)
def test_structural_mistakes_are_lint_errors(tmp_path, old, new, code):
    """Cycles, references to missing services and unknown template names are errors in lint too."""
    found = lint_text(tmp_path, variant(old, new))
    assert (code, "error") in {(c, s) for c, s, _ in found}


def test_a_level_under_a_lower_threshold_is_unreachable(tmp_path):
    """medium at >= 14 under high at >= 12 is never reached, though its own condition can hold."""
    text = MINI.replace(
        "      - id: high\n        label: {en: High, nl: Hoog}\n        when: score(dv_risk) >= 6 or critical(dv_risk) >= 1\n",
        "      - id: medium\n        label: {en: Medium, nl: Midden}\n        when: score(dv_risk) >= 14\n"
        "      - id: high\n        label: {en: High, nl: Hoog}\n        when: score(dv_risk) >= 12\n",
    ).replace("        points: 5\n", "        points: 9\n").replace("        points: 3\n", "        points: 7\n")
    text = text.replace("    override:\n      question: judgement\n", "")
    found = lint_text(tmp_path, text)
    assert ("level-unreachable", "warning") in {(c, s) for c, s, _ in found}
    assert not is_clean(lint_file(tmp_path / "ruleset.yaml"))


def test_a_gap_that_only_critical_counts_open_is_found_with_a_case(tmp_path):
    """Levels 'score >= 1' and 'critical >= 1': a case with no indicator has no level, shown as a case."""
    text = variant("      - id: standard\n        label: {en: Standard, nl: Standaard}\n", "      - id: standard\n        label: {en: Standard, nl: Standaard}\n        when: score(dv_risk) >= 1 or critical(dv_risk) >= 1\n")
    problems = [p for p in lint_file(_write(tmp_path, text)) if p.code == "level-gap"]
    assert problems and '"strangulation": false' in problems[0].message


def test_a_text_printing_an_answer_that_may_be_absent(tmp_path):
    """{{ answers.age }} in a rule that holds without an age is found, with a case."""
    text = MINI.replace("reason: {en: \"Everyone can get support: call {{ services.helpline.phone }}.\"", "reason: {en: \"Everyone can get support at {{ answers.age }}: call {{ services.helpline.phone }}.\"")
    assert text != MINI
    codes = {c for c, _, _ in lint_text(tmp_path, text)}
    assert "text-reads-absent-answer" in codes
    guarded = text.replace("at {{ answers.age }}", "{% if answers.age is defined %}at {{ answers.age }}{% endif %}")
    assert "text-reads-absent-answer" not in {c for c, _, _ in lint_text(tmp_path, guarded)}


def test_an_unquoted_text_cut_by_a_comment(tmp_path):
    """A plain text with ' #' loses the rest of the line to YAML: lint warns from the source."""
    text = MINI.replace("    text: {en: How old are you?, nl: Hoe oud bent u?}\n", "    text:\n      en: How old are you? #years\n      nl: Hoe oud bent u?\n")
    assert ("text-cut-by-comment", "warning") in {(c, s) for c, s, _ in lint_text(tmp_path, text)}


def test_a_product_of_answers_is_named_as_undecided(tmp_path):
    """A condition the solver cannot decide is named (info), never passed silently as clean."""
    text = MINI.replace("when: age < 18", "when: age * age < 18")
    assert ("condition-undecided", "info") in {(c, s) for c, s, _ in lint_text(tmp_path, text)}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ruleset.yaml"
    path.write_text(text, encoding="utf-8")
    return path
