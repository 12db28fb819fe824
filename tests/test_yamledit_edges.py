"""YamlEditor at its edges: what it refuses to edit (saying where), deletions in flow and block style, overlapping edits."""

from __future__ import annotations

import pytest

from invictus_rules._yaml import read_yaml
from invictus_rules.tools.yamledit import EditError, YamlEditor

DOCUMENT = """a:
  flow: {nl: Hallo, en: Hello, fr: Salut}
  only: {nl: Alleen}
  block:
    nl: Blok
    en: Block
  list: [x, y]
  inline: {nested: {deep: 1}}
b: kept
"""


def _edited(editor: YamlEditor) -> dict:
    text = editor.result()
    data, _ = read_yaml(text, "<edited>")
    return data


def _refused(action) -> str:
    with pytest.raises(EditError) as info:
        action()
    (problem,) = info.value.problems
    assert problem.code == "edit-failed" and problem.hint == "edit this value by hand"
    return problem.message


@pytest.mark.parametrize("key", ["nl", "en", "fr"])
def test_deleting_from_a_flow_mapping_keeps_it_well_formed(key):
    """The first, a middle or the last entry of a flow mapping is removed with its comma."""
    editor = YamlEditor(DOCUMENT)
    editor.delete(("a", "flow", key))
    data = _edited(editor)
    assert key not in data["a"]["flow"] and len(data["a"]["flow"]) == 2
    assert data["b"] == "kept"


def test_deleting_the_only_entry_and_a_block_key():
    """The only entry of a flow mapping and a key of a block mapping go with their line; absent keys are a no-op."""
    editor = YamlEditor(DOCUMENT)
    editor.delete(("a", "only", "nl"))
    editor.delete(("a", "block", "en"))
    editor.delete(("a", "block", "missing"))
    data = _edited(editor)
    assert data["a"]["only"] == {} and data["a"]["block"] == {"nl": "Blok"}
    assert "    en: Block\n" not in editor.result()


def test_adding_a_mapping_to_a_block_mapping():
    """set_mapping adds a new key holding a mapping, indented under its parent, after its last key."""
    editor = YamlEditor(DOCUMENT)
    editor.set_mapping(("a", "title"), {"nl": "Titel", "en": "Title"})
    data = _edited(editor)
    assert data["a"]["title"] == {"nl": "Titel", "en": "Title"}
    assert "  title:\n    nl: Titel\n    en: Title\nb: kept\n" in editor.result()


def test_what_cannot_be_edited_is_refused_at_its_place():
    """Writing into a list, replacing a mapping by a value, adding an existing mapping: each an edit-failed error."""
    editor = YamlEditor(DOCUMENT)
    assert "not a mapping" in _refused(lambda: editor.set(("a", "list", "x"), "v"))
    assert "a mapping cannot be replaced by a single value" in _refused(lambda: editor.set(("a", "block"), "flat"))
    assert "the mapping cannot be added here" in _refused(lambda: editor.set_mapping(("a", "block"), {"nl": "x"}))
    assert not editor.changed


def test_setting_the_same_value_changes_nothing():
    """Setting a value to what it already is makes no edit."""
    editor = YamlEditor(DOCUMENT)
    editor.set(("b",), "kept")
    assert not editor.changed and editor.result() == DOCUMENT


def test_two_edits_of_the_same_place_are_refused():
    """Deleting a mapping's key and also replacing its value would overlap: refused, the text is not written."""
    editor = YamlEditor(DOCUMENT)
    editor.set(("a", "block", "en"), "Changed")
    editor.delete(("a", "block", "en"))
    with pytest.raises(EditError) as info:
        editor.result()
    assert info.value.problems[0].code == "edit-overlap"


def test_windows_line_ends_are_kept():
    """A file saved with CR LF gets CR LF on the lines an edit adds."""
    editor = YamlEditor(DOCUMENT.replace("\n", "\r\n"))
    editor.set(("a", "block", "fr"), "Bloc")
    text = editor.result()
    assert "\n" not in text.replace("\r\n", "")
    assert read_yaml(text, "<edited>")[0]["a"]["block"]["fr"] == "Bloc"
