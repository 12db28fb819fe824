"""A ruleset reference is a country code or country@version, written exactly; anything else is a path."""

from __future__ import annotations

import pytest

from invictus_rules.refs import RULESET_REFERENCE, is_country_code, is_ruleset_ref, is_version, parse_ruleset_ref, version_key


@pytest.mark.parametrize(("reference", "expected"), [("nl", ("nl", None)), ("nl@2026.1", ("nl", "2026.1")), ("hr@2027.12", ("hr", "2027.12"))])
def test_references(reference, expected):
    """A country code, or a country and a CalVer version."""
    assert parse_ruleset_ref(reference) == expected


@pytest.mark.parametrize(
    "reference",
    ["NL", " nl", "nl\n", "nld", "nl@2026", "nl@26.1", "nl@2026.1\n", "nl@\u0662\u0660\u0662\u0666.\u0661", "n\u0142", "nl/2026.1.yaml", "", None, 3],
)
def test_anything_else_is_not_a_reference(reference):
    """No capitals, spaces, newlines, other scripts' digits or partial versions."""
    assert parse_ruleset_ref(reference) is None
    assert not is_ruleset_ref(reference)


def test_the_pattern_for_schemas_says_the_same():
    """The JSON Schema pattern (used by the service's request model) accepts what the parser does."""
    import re

    pattern = re.compile(RULESET_REFERENCE, re.ASCII)
    for text in ("nl", "nl@2026.1", "NL", "nl@2026", "nl@x"):
        assert bool(pattern.search(text)) == is_ruleset_ref(text)


def test_folder_and_file_names():
    """Country folders are two letters; version files are named YYYY.N; versions sort by number."""
    assert is_country_code("nl") and not is_country_code("tests") and not is_country_code("NL")
    assert is_version("2026.1") and not is_version("2026.1.yaml")
    assert sorted(["2026.10", "2026.9", "2025.3"], key=version_key) == ["2025.3", "2026.9", "2026.10"]
