"""In-place YAML edits: values keep their style, new keys fit the layout, the result reads back exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from invictus_rules._yaml import read_yaml
from invictus_rules.tools.translations import iter_entries
from invictus_rules.tools.yamledit import YamlEditor

ROOT = Path(__file__).resolve().parents[1]
LATEST = [sorted(folder.glob("*.yaml"))[-1] for folder in sorted((ROOT / "rulesets").iterdir()) if folder.is_dir()]

DOCUMENT = """\ufeff# a comment that stays
a:
  text: {nl: Hallo, en: Hello}   # flow
  help:
    nl: >-
      Een lange tekst
      over twee regels.
    en: 'Quoted'
  list: [x, y]
  block:
    - one
    - two
b: "kept"
"""


def test_edits_keep_style_comments_and_the_byte_order_mark():
    """A flow value stays in its braces, a folded text stays folded, quotes stay, comments and BOM stay."""
    editor = YamlEditor(DOCUMENT)
    editor.set(("a", "text", "en"), "Hello: world")
    editor.set(("a", "text", "fr"), "Bonjour")
    editor.set(("a", "help", "nl"), "Korter")
    editor.set(("a", "help", "en"), "It's")
    editor.set(("a", "list"), ["z"])
    editor.set(("a", "block"), "single")
    editor.set(("a", "new"), True)
    editor.delete(("b",))
    assert editor.result() == (
        "\ufeff# a comment that stays\n"
        "a:\n"
        '  text: {nl: Hallo, en: "Hello: world", fr: Bonjour}   # flow\n'
        "  help:\n"
        "    nl: >-\n"
        "      Korter\n"
        "    en: 'It''s'\n"
        "  list: [z]\n"
        "  block: single\n"
        "  new: true\n"
    )


def test_windows_line_ends_are_kept():
    """In a file saved with CR LF line ends, new and rewritten lines end with CR LF too."""
    editor = YamlEditor(DOCUMENT.replace("\n", "\r\n"))
    editor.set(("a", "help", "en"), "one\ntwo")
    editor.set(("a", "new"), "value")
    result = editor.result()
    assert "\n" not in result.replace("\r\n", "")
    assert "    en: |-\r\n      one\r\n      two\r\n" in result and "  new: value\r\nb:" in result


def test_unchanged_values_make_no_edit():
    """Setting a value to what it already is leaves the text untouched."""
    editor = YamlEditor(DOCUMENT)
    editor.set(("a", "help", "nl"), "Een lange tekst over twee regels.")
    editor.set(("b",), "kept")
    assert not editor.changed and editor.result() == DOCUMENT


@pytest.mark.parametrize("ruleset", LATEST, ids=lambda p: p.parent.name)
def test_rewriting_every_text_reads_back_exactly(ruleset):
    """Every per-language text of a shipped ruleset rewritten with awkward content reads back as written."""
    text = ruleset.read_text(encoding="utf-8")
    data, _ = read_yaml(text)
    editor = YamlEditor(text)
    awkward = ["{x}: it's #1", "two\nlines", "  spaced  ", "plain words " * 12, "- dash", "true", "012", ""]
    expected = []
    number = 0
    for entry in iter_entries(data):
        for language in entry.texts:
            value = awkward[number % len(awkward)] + str(number)
            editor.set((*entry.path, language), value)
            expected.append(((*entry.path, language), value))
            number += 1
    result, _ = read_yaml(editor.result())
    for path, value in expected:
        node = result
        for part in path:
            node = node[part]
        assert node == value
