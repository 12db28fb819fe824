"""Safety, consent and legal duty: the format checks at load, deferral, merging and the safety block."""

from __future__ import annotations

import pytest

from invictus_rules import RulesetError, load_ruleset_text

from .conftest import FIXTURES

SOURCE = (FIXTURES / "safety.yaml").read_text(encoding="utf-8")


def _problems(text: str) -> list[tuple[str, int]]:
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text, file="draft.yaml")
    return [(p.code, p.location.line) for p in info.value.problems]


def test_report_needs_an_action():
    """A report rule without an action text fails at load, pointing at its mode."""
    text = SOURCE.replace("    action: {en: Report to the child protection service today by phone., nl: Meld vandaag telefonisch bij Jeugdbescherming.}\n", "")
    assert [code for code, _ in _problems(text)] == ["report-without-action"]


def test_report_with_an_empty_legal_basis_fails():
    """An empty legal_basis list is no legal basis."""
    text = SOURCE.replace('legal_basis: ["Child Protection Act art. 7"]', "legal_basis: []")
    assert [code for code, _ in _problems(text)] == ["report-without-legal-basis"]


def test_safe_channels_must_be_a_channel_question():
    """The safe channels question must exist, be multiple choice and offer only channel names."""
    assert [c for c, _ in _problems(SOURCE.replace("safe_channels: safe_contact_channels", "safe_channels: safe_contact_chanels"))] == ["unknown-question"]
    assert [c for c, _ in _problems(SOURCE.replace("safe_channels: safe_contact_channels", "safe_channels: crime_type"))] == ["safe-channels-type"]
    assert [c for c, _ in _problems(SOURCE.replace("- value: letter", "- value: post"))] == ["safe-channels-options"]


def test_safety_routes_must_be_services():
    """Emergency and silent routes name services in the catalogue."""
    text = SOURCE.replace("emergency: [emergency]", "emergency: [emergancy]").replace("silent: [emergency_sms]", "silent: [sms]")
    assert [c for c, _ in _problems(text)] == ["unknown-service", "unknown-service"]


def test_first_contact_values_are_checked():
    """first_contact takes channel names or none; none only on its own."""
    assert [c for c, _ in _problems(SOURCE.replace("first_contact: [phone, letter]", "first_contact: [phone, none]"))] == ["first-contact-list"]
    assert [c for c, _ in _problems(SOURCE.replace("first_contact: [phone, letter]", "first_contact: pigeon"))] == ["invalid-value"]


def test_safe_to_talk_condition_is_type_checked():
    """The safe-to-talk condition is checked against the questionnaire like any other."""
    assert [c for c, _ in _problems(SOURCE.replace("safe_to_talk: safe_to_talk", "safe_to_talk: safe_to_tlak"))] == ["unknown-question"]
