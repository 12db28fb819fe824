"""Semantic diff: meaning, not text; thresholds; broader and narrower; every kind of element."""

from __future__ import annotations

import json

import pytest

from invictus_rules import load_ruleset_text
from invictus_rules.tools.diff import diff_rulesets, normalize, render_markdown, render_text, word_diff
from invictus_rules.expr.parser import parse

from .conftest import FIXTURES

MINI = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
OLD = load_ruleset_text(MINI).compiled


def diff_with(*replacements: tuple[str, str]):
    text = MINI
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return diff_rulesets(OLD, load_ruleset_text(text).compiled)


def changes(report) -> dict[tuple[str, str], object]:
    return {(c.kind, c.id): c for c in report.changes}


def test_reformatting_and_reordering_is_no_change():
    """Layout, quotes, comments and the order of and/or operands and list items change nothing."""
    report = diff_with(
        ("when: score(dv_risk) >= 6 or critical(dv_risk) >= 1", "when: (critical(dv_risk) >= 1)  or  6 <= score(dv_risk)"),
        ('ask_if: crime_type == "domestic_violence"\n    text: {en: Has the person ever', "ask_if: \"'domestic_violence' == crime_type\"\n    text: {en: Has the person ever"),
        ("title: {en: Mini ruleset, nl: Mini-regelset}", "# a comment\n  title:\n    en: Mini ruleset\n    nl: Mini-regelset"),
        ("when: not safe_to_talk", "when: {not: safe_to_talk}"),
    )
    assert not report.changed, render_text(report)


def test_equivalent_rewrite_is_no_change():
    """A condition rewritten with the same meaning (decided by analysis) is no change."""
    report = diff_with(("when: age < 18", "when: not (age >= 18)"))
    assert not report.changed, render_text(report)


def test_threshold_change_is_reported_with_direction():
    """score >= 6 becoming score >= 3 is a threshold lowered by 3, and broader, with a case."""
    report = diff_with(("when: score(dv_risk) >= 6 or critical(dv_risk) >= 1", "when: score(dv_risk) >= 3 or critical(dv_risk) >= 1"))
    [detail] = changes(report)[("level", "dv_risk.high")].details
    assert "score(dv_risk) >= 6 -> 3: threshold lowered by 3" in detail.note
    assert "broader" in detail.note
    [(shows, case)] = detail.cases
    assert shows == "true under NEW, not under OLD" and case["threats"] is True


def test_a_threshold_no_total_can_tell_apart_is_listed_without_effect():
    """score >= 6 -> >= 4 where no total lies between (3, then 5 with a critical indicator) is shown,
    with the proof that no case is decided differently, among the changes without effect."""
    report = diff_with(("when: score(dv_risk) >= 6 or critical(dv_risk) >= 1", "when: score(dv_risk) >= 4 or critical(dv_risk) >= 1"))
    [detail] = changes(report)[("level", "dv_risk.high")].details
    assert "no case is decided differently" in detail.note and not detail.cases
    assert ("level", "dv_risk.high") in {(c.kind, c.id) for c in report.without_effect()}


def test_narrower_and_neither():
    """A stricter condition is narrower; an unrelated one is neither."""
    narrower = diff_with(("when: age < 18", "when: age < 16"))
    assert "narrower" in changes(narrower)[("information", "minors")].details[0].note
    neither = diff_with(("when: age < 18", "when: age > 65"))
    assert "neither" in changes(neither)[("information", "minors")].details[0].note


@pytest.mark.parametrize(
    "replacement, key, field",
    [
        (("points: 5", "points: 7"), ("score_item", "dv_risk.strangulation"), "points"),
        (("priority: urgent", "priority: immediate"), ("referral", "not_safe_now"), "priority"),
        (("mode: inform_only", "mode: opt_in"), ("referral", "not_safe_now"), "mode"),
        (('phone: "116 006"', 'phone: "0800-1234"'), ("service", "helpline"), "phone"),
        (("max: 120", "max: 110"), ("question", "age"), "max"),
        (("{en: Is it safe to talk now?,", "{en: Can you talk safely now?,"), ("question", "safe_to_talk"), "text.en"),
        (('legal_basis: ["Directive 2012/29/EU Art. 22(4)"]', 'legal_basis: ["Directive 2012/29/EU Art. 24"]'), ("information", "minors"), "legal_basis"),
        (("label: {en: High, nl: Hoog}\n        when:", "label: {en: Very high, nl: Zeer hoog}\n        when:"), ("level", "dv_risk.high"), "label.en"),
        (("effective_from: 2026-01-01", "effective_from: 2026-02-01"), ("metadata", "mini"), "effective_from"),
    ],
)
def test_field_changes_by_kind(replacement, key, field):
    """Each kind of element reports the field that changed, before and after."""
    report = diff_with(replacement)
    change = changes(report)[key]
    assert change.status == "changed"
    assert field in [d.field for d in change.details]


def test_added_and_removed_elements():
    """Elements are matched by id: new ids are added, missing ones removed."""
    report = diff_with(
        ("  - id: minors\n", "  - id: minors_renamed\n"),
        ("      - value: robbery\n        label: {en: Robbery, nl: Beroving}\n", ""),
    )
    found = changes(report)
    assert ("information", "minors") not in found
    assert found[("information", "minors_renamed")].status == "renamed"
    assert [d.field for d in found[("question", "crime_type")].details] == ["options"]
    gone = changes(diff_with(("  - id: minors\n", "  - id: minors_renamed\n"), ("when: age < 18", "when: age < 16")))
    assert gone[("information", "minors")].status == "removed"
    added = gone[("information", "minors_renamed")]
    assert added.status == "added" and [d.field for d in added.details] == ["legal_basis", "when"]


def test_a_renamed_question_warns_that_stored_cases_are_rejected():
    """A question with the same content under a new id is a rename, with the consequence for stored cases."""
    report = diff_with(("  - id: age\n", "  - id: victim_age\n"), ("when: age < 18", "when: victim_age < 18"))
    change = changes(report)[("question", "victim_age")]
    assert change.status == "renamed"
    assert "now rejected" in change.details[0].note


def test_normalize_is_idempotent_and_order_free():
    """Normalising twice changes nothing; operand order does not matter."""
    a = normalize(parse('b and (a or c) and crime in ["y", "x"]'))
    assert normalize(a) == a
    assert a == normalize(parse('crime in ["x", "y"] and (c or a) and b'))


def test_word_diff_shows_only_the_edit():
    """Long texts show removed and added words with a little context."""
    old = "Call the victim line on weekdays between nine and five for support and advice about your rights."
    new = "Call the victim line every day between nine and five for support and advice about your rights."
    assert "[-on weekdays-] [+every day+]" in word_diff(old, new)


def test_renderers_and_cli(cli, tmp_path):
    """diff prints text, Markdown, JSON and HTML; --exit-code makes a change exit 1."""
    changed = tmp_path / "new.yaml"
    changed.write_text(MINI.replace("points: 5", "points: 7"))
    mini = str(FIXTURES / "mini.yaml")
    text = cli("diff", mini, str(changed))
    assert text.code == 0 and "points: 5 -> 7" in text.out and "(+2 points)" in text.out
    assert cli("diff", mini, str(changed), "--exit-code").code == 1
    assert cli("diff", mini, mini, "--exit-code").code == 0
    payload = json.loads(cli("diff", mini, str(changed), "--format", "json").out)
    assert payload["changes"][0]["details"][0] == {"field": "points", "old": 5, "new": 7, "note": "+2 points"}
    assert "**dv_risk.strangulation**: changed" in render_markdown(diff_with(("points: 5", "points: 7")))
    html = cli("diff", mini, str(changed), "--format", "html").out
    assert html.startswith("<!DOCTYPE html>") and "<th scope=\"col\">" in html


def test_shipped_versions_diff():
    """The two shipped Dutch versions differ by the changes their changelog lists."""
    from invictus_rules import load_ruleset

    report = diff_rulesets(load_ruleset("nl@2025.1").compiled, load_ruleset("nl@2026.1").compiled)
    found = changes(report)
    assert "threshold lowered by 2" in found[("level", "dv_risk.high")].details[0].note
    assert found[("referral", "dv_to_veilig_thuis")].details[0].note == "priority raised"
    assert found[("question", "offender_has_access_to_victim_address")].status == "added"


def test_changed_question_type_is_reported_without_crashing():
    """A question that changes type makes the verdict 'undecided', not a crash."""
    text = MINI.replace("  - id: age\n    type: integer\n    min: 0\n    max: 120\n", "  - id: age\n    type: single_choice\n    options:\n      - value: child\n        label: {en: Child, nl: Kind}\n      - value: adult\n        label: {en: Adult, nl: Volwassene}\n").replace("when: age < 18", 'when: age == "child"')
    report = diff_rulesets(OLD, load_ruleset_text(text).compiled)
    note = changes(report)[("information", "minors")].details[0].note
    assert "could not be decided" in note


def test_reordered_levels_are_a_change():
    """Swapping two levels changes which level a score reaches: it is reported."""
    text = MINI.replace("  - id: standard\n        label: {en: Standard, nl: Standaard}\n      - id: high\n", "  - id: standard\n        label: {en: Standard, nl: Standaard}\n      - id: high\n")
    swapped = text.replace(
        "      - id: standard\n        label: {en: Standard, nl: Standaard}\n      - id: high\n        label: {en: High, nl: Hoog}\n        when: score(dv_risk) >= 6 or critical(dv_risk) >= 1\n",
        "      - id: high\n        label: {en: High, nl: Hoog}\n      - id: standard\n        label: {en: Standard, nl: Standaard}\n        when: score(dv_risk) >= 6 or critical(dv_risk) >= 1\n",
    )
    assert swapped != text
    swapped = swapped.replace("      - value: standard\n        label: {en: Standard, nl: Standaard}\n      - value: high\n        label: {en: High, nl: Hoog}\n", "      - value: high\n        label: {en: High, nl: Hoog}\n      - value: standard\n        label: {en: Standard, nl: Standaard}\n")
    report = diff_rulesets(OLD, load_ruleset_text(swapped).compiled)
    assert "level order" in [d.field for d in changes(report)[("score", "dv_risk")].details]


def test_numbers_between_constants_are_tried():
    """age > 17.5 and age < 18.5 can be true (age 18): never 'equivalent' to false."""
    report = diff_with(("when: age < 18", "when: age > 17.5 and age < 18.5"))
    assert "neither" in changes(report)[("information", "minors")].details[0].note or "narrower" in changes(report)[("information", "minors")].details[0].note


def test_ambiguous_thresholds_are_not_paired():
    """Two numbers changing on the same comparison are not reported as a pairing that may be wrong."""
    report = diff_with(("when: age < 18", "when: age > 20 or age > 50"))
    base = load_ruleset_text(MINI.replace("when: age < 18", "when: age > 20 or age > 50")).compiled
    again = diff_rulesets(base, load_ruleset_text(MINI.replace("when: age < 18", "when: age > 10 or age > 20")).compiled)
    note = changes(again)[("information", "minors")].details[0].note
    assert "threshold" not in note and "broader" in note
    assert report.changed
