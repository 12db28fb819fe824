"""Which open questions can still decide an undecided rule: exact for and/or/not, no solver."""

from __future__ import annotations

import pytest

from invictus_rules import load_ruleset_text

RULESET = """\
format: invictus-rules/v1
metadata:
  id: relevance
  country: xx
  version: "2027.1"
  effective_from: 2027-01-01
  status: draft
  languages: [en]
  default_language: en
  title: {en: Relevance}
questions:
  - {id: a, type: boolean, text: {en: A?}}
  - {id: b, type: boolean, text: {en: B?}}
  - {id: c, type: boolean, text: {en: C?}}
  - {id: d, type: boolean, text: {en: D?}}
  - {id: gate, type: boolean, text: {en: Gate?}}
  - {id: gated, type: boolean, ask_if: gate, text: {en: Gated?}}
  - {id: age, type: integer, min: 0, max: 120, text: {en: Age?}}
information:
  - {id: rule, legal_basis: [x], when: "CONDITION", title: {en: T}, body: {en: B}}
"""


def _waiting(condition: str, answers: dict) -> tuple[str, list[str]]:
    ruleset = load_ruleset_text(RULESET.replace("CONDITION", condition))
    result = ruleset.evaluate(answers, as_of="2027-02-01")
    if result.pending:
        return "pending", result.pending[0].questions
    return ("undecidable", []) if result.undecidable else ("decided", [])


@pytest.mark.parametrize(
    "condition, answers, expected",
    [
        ("a or (b and c)", {"b": False}, ("pending", ["a"])),
        ("a or (b and c)", {}, ("pending", ["a", "b", "c"])),
        ("(a and b) or (c and d)", {}, ("pending", ["a", "b", "c", "d"])),
        ("(a and b) or (c and d)", {"a": False}, ("pending", ["c", "d"])),
        ("not (a and b) and c", {"b": False}, ("pending", ["c"])),
        ("a or (b and c)", {"b": False, "a": {"status": "declined"}}, ("undecidable", [])),
        ("a and age < 18", {"a": True}, ("pending", ["age"])),
        ("gated or a", {"a": False}, ("pending", ["gate", "gated"])),
        ("gated or a", {"a": False, "gate": {"status": "unknown"}}, ("undecidable", [])),
        ("gated or a", {"a": False, "gate": False}, ("decided", [])),
    ],
)
def test_only_questions_that_can_change_the_result_are_listed(condition, answers, expected):
    """A decided sub-condition rules out the questions under it; a declined gate closes the question it guards."""
    assert _waiting(condition, answers) == expected
