"""`translations check` on edited PO files: template mistakes, entries it does not know, and a file of another ruleset."""

from __future__ import annotations

import shutil

import pytest

from .conftest import FIXTURES

REASON = 'msgstr "Iedereen kan steun krijgen: bel {{ services.helpline.phone }}."'
BODY = 'msgstr "U kunt steun krijgen van {{ services.helpline.name }}."'


@pytest.fixture
def exported(cli, tmp_path):
    """The mini fixture and its Dutch PO export, as files a translator edits."""
    ruleset = tmp_path / "mini.yaml"
    shutil.copy(FIXTURES / "mini.yaml", ruleset)
    po = tmp_path / "nl.po"
    result = cli("translations", "export", str(ruleset), "--language", "nl", "--out", str(po))
    assert result.code == 0, result.err
    assert "texts" in result.err and "translated into nl" in result.err
    return ruleset, po


def _check(cli, exported, *edits: tuple[str, str]):
    ruleset, po = exported
    text = po.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    po.write_text(text, encoding="utf-8")
    return cli("translations", "check", str(ruleset), str(po))


def test_the_export_checks_clean(cli, exported):
    """The file as exported has nothing to report."""
    result = _check(cli, exported)
    assert result.code == 0, result.out


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        ((REASON, 'msgstr "Iedereen kan steun krijgen."'), "leaves out {{ services.helpline.phone }}"),
        ((REASON, 'msgstr "Bel {{ services.helpline.phone }} of {{ services.helpline.url }}."'), "uses {{ services.helpline.url }}, which the source text does not"),
        ((REASON, 'msgstr "Bel {{ services.helpline.phone }."'), "has a broken template: "),
        ((BODY, 'msgstr "U kunt steun krijgen van {{ services.helpline.name }} {% if x %}."'), "has a broken template: "),
    ],
)
def test_a_broken_template_translation_is_refused(cli, exported, edit, said):
    """A translation that drops, adds or breaks template parts is a template-broken error on its msgstr line."""
    result = _check(cli, exported, edit)
    assert result.code != 0
    assert "error[template-broken]" in result.out and said in result.out


def test_an_entry_the_ruleset_does_not_have(cli, exported):
    """A changed msgctxt is an unknown entry, with a did-you-mean when one is close."""
    result = _check(cli, exported, ('msgctxt "referrals[everyone].reason"', 'msgctxt "referrals[everyon].reason"'))
    assert result.code != 0
    assert 'error[unknown-entry]: the entry "referrals[everyon].reason" is not a text of this ruleset' in result.out
    assert 'did you mean "referrals[everyone].reason"' in result.out


def test_an_entry_twice(cli, exported):
    """The same entry twice is a duplicate-entry error naming the first line."""
    ruleset, po = exported
    text = po.read_text(encoding="utf-8")
    block = text[text.index('msgctxt "referrals[everyone].reason"') :]
    block = block[: block.index("\n\n") + 2]
    po.write_text(text + "\n" + block.replace('msgstr "Iedereen', 'msgstr "Ook iedereen'), encoding="utf-8")
    result = cli("translations", "check", str(ruleset), str(po))
    assert result.code != 0 and "error[duplicate-entry]" in result.out and "appears twice (first at line" in result.out


def test_a_po_file_of_another_ruleset(cli, exported):
    """A PO file exported from another ruleset is refused whole, naming both."""
    result = _check(cli, exported, ('"X-Ruleset: mini\\n"', '"X-Ruleset: other_ruleset\\n"'))
    assert result.code != 0
    assert 'the PO file was exported from the ruleset "other_ruleset", not "mini"' in result.out


def test_a_missing_po_file(cli, exported):
    """A PO path that cannot be read is a file-not-readable error."""
    ruleset, po = exported
    result = cli("translations", "check", str(ruleset), str(po.with_name("missing.po")))
    assert result.code != 0
    assert "file-not-readable" in result.out + result.err
