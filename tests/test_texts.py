"""One rule picks the language of a text, everywhere: the requested one, the default, then any."""

from __future__ import annotations

import pytest

from invictus_rules.texts import iter_texts, pick_text, text_language


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ({"nl": "Hallo", "en": "Hello", "fr": "Bonjour"}, "fr"),
        ({"nl": "Hallo", "en": "Hello"}, "nl"),
        ({"en": "Hello", "de": "Hallo"}, "en"),
        ({"fr": "", "nl": "Hallo", "en": "Hello"}, "nl"),
        ({"fr": "", "nl": "", "en": "Hello"}, "en"),
        ({"fr": "", "nl": ""}, None),
        ({}, None),
        (None, None),
    ],
)
def test_the_requested_language_then_the_default_then_the_first_written(texts, expected):
    """An empty text counts as missing; the default language comes before the others."""
    assert text_language(texts, "fr", "nl") == expected


def test_pick_text_gives_the_text_or_nothing():
    """pick_text gives the text the rule chooses, and '' when no language has one."""
    assert pick_text({"nl": "Hallo", "en": "Hello"}, "en", "nl") == "Hello"
    assert pick_text({"nl": "Hallo", "en": ""}, "en", "nl") == "Hallo"
    assert pick_text({"nl": ""}, "en", "nl") == ""
    assert pick_text(None, "en", "nl") == ""


def test_the_rule_holds_for_compiled_templates_too():
    """Any value counts as a text except None and '' (compiled templates are objects)."""
    template = object()
    assert text_language({"en": template}, "nl", "nl") == "en"


def test_iter_texts_finds_every_text_with_its_path():
    """Texts are found by key, at any depth, with the path that locates them in the document."""
    data = {"metadata": {"title": {"nl": "T"}}, "questions": [{"id": "q", "text": {"nl": "Q?"}, "options": [{"label": {"nl": "Ja"}}]}]}
    assert list(iter_texts(data)) == [
        (("metadata", "title"), {"nl": "T"}),
        (("questions", 0, "text"), {"nl": "Q?"}),
        (("questions", 0, "options", 0, "label"), {"nl": "Ja"}),
    ]
