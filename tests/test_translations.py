"""Translations round trip: PO export keyed by element path, check, and import into a draft in place."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest

from invictus_rules._yaml import read_yaml
from invictus_rules.compile import compile_file
from invictus_rules.tools.translations import TranslationError, check_po, export_po, import_po, iter_entries

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "rulesets").glob("*/*.yaml"))


def draft_copy(source: Path, folder: Path) -> Path:
    """A copy of a shipped ruleset marked draft (the only change: the status line)."""
    text = source.read_text(encoding="utf-8")
    assert text.count("\n  status: published\n") == 1
    target = folder / f"{source.parent.name}-{source.stem}.yaml"
    target.write_text(text.replace("\n  status: published\n", "\n  status: draft\n"), encoding="utf-8")
    return target


def _pairs() -> list[tuple[Path, str]]:
    pairs = []
    for path in SHIPPED:
        meta = read_yaml(path.read_bytes(), str(path))[0]["metadata"]
        pairs += [(path, language) for language in meta["languages"] if language != meta["default_language"]]
    return pairs


@pytest.fixture
def nl(tmp_path: Path) -> Path:
    return draft_copy(ROOT / "rulesets" / "nl" / "2026.2.yaml", tmp_path)


def _edit_po(text: str, edits: dict[str, str], fuzzy: tuple[str, ...] = ()) -> str:
    po = polib.pofile(text)
    for entry in po:
        if entry.msgctxt in edits:
            entry.msgstr = edits[entry.msgctxt]
        if entry.msgctxt in fuzzy:
            entry.flags.append("fuzzy")
    return str(po)


@pytest.mark.parametrize(("ruleset", "language"), _pairs(), ids=lambda v: v if isinstance(v, str) else f"{v.parent.name}/{v.stem}")
def test_po_round_trip_is_byte_identical(tmp_path, ruleset, language):
    """Export, import into a draft copy and export again: the YAML and the PO file are byte for byte the same."""
    draft = draft_copy(ruleset, tmp_path)
    before = draft.read_bytes()
    exported = export_po(draft, language).text
    po_file = tmp_path / "texts.po"
    po_file.write_text(exported, encoding="utf-8")
    report = import_po(draft, po_file)
    assert report.errors == [] and report.changes == {}
    assert draft.read_bytes() == before
    assert export_po(draft, language).text == exported


def test_every_text_has_one_entry_keyed_by_ids(nl):
    """msgctxt names each text by the ids on its way (never list positions), msgid is the default language."""
    po = polib.pofile(export_po(nl, "en").text)
    contexts = [entry.msgctxt for entry in po]
    assert len(contexts) == len(set(contexts)) == len(list(iter_entries(read_yaml(nl.read_bytes())[0])))
    assert "questions[safe_to_talk].text" in contexts
    assert "questions[safe_contact_channels].options[phone].label" in contexts
    assert "scores[dv_risk].levels[high].label" in contexts
    assert "services[veilig_thuis].hours" in contexts
    assert "referrals[emergency_112].reason" in contexts
    assert "safety.advice" in contexts and "metadata.title" in contexts
    assert not any("[0]" in context or "[1]" in context for context in contexts)
    first = po.find("questions[safe_to_talk].text", by="msgctxt")
    assert (first.msgid, first.msgstr) == ("Kunt u op dit moment veilig praten?", "Is it safe for you to talk right now?")
    assert po.metadata["Language"] == "en" and po.metadata["X-Source-Language"] == "nl"


def test_template_variables_are_translator_comments(nl):
    """A template text tells the translator which variables to keep, as an extracted comment (#.)."""
    text = export_po(nl, "en").text
    entry = polib.pofile(text).find("safety.advice", by="msgctxt")
    assert "services.noodnummer_112.phone" in entry.comment
    assert "#. Variables: services.noodnummer_112.phone" in text


def test_a_translation_changes_that_text_and_nothing_else(tmp_path, nl):
    """Importing one new translation changes exactly that value, on its own lines; comments and layout stay."""
    before = nl.read_text(encoding="utf-8")
    po_file = tmp_path / "en.po"
    po_file.write_text(_edit_po(export_po(nl, "en").text, {"questions[safe_to_talk].text": "Can you talk safely at the moment?"}), encoding="utf-8")
    report = import_po(nl, po_file)
    after = nl.read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == [("      en: Is it safe for you to talk right now?", "      en: Can you talk safely at the moment?")]
    assert list(report.changes) == [("questions", 0, "text", "en")]
    assert compile_file(nl).document.questions[0].text["en"] == "Can you talk safely at the moment?"


def test_texts_that_need_quotes_or_lines_are_written_safely(tmp_path, nl):
    """A colon, a quote or a line break in a translation is written so that YAML reads it back exactly."""
    edits = {
        "questions[safe_to_talk].text": "Safe: can you 'talk' now? #1",
        "questions[safe_contact_channels].options[phone].label": "Phone, {calls}",
        "questions[safe_to_talk].help": "First line.\nSecond line.",
        "services[veilig_thuis].hours": "x " * 80,
    }
    po_file = tmp_path / "en.po"
    po_file.write_text(_edit_po(export_po(nl, "en").text, edits), encoding="utf-8")
    import_po(nl, po_file)
    document = compile_file(nl).document
    assert document.questions[0].text["en"] == edits["questions[safe_to_talk].text"]
    assert document.questions[0].help is not None and document.questions[0].help["en"] == "First line.\nSecond line."
    assert document.questions[2].options is not None and document.questions[2].options[0].label["en"] == "Phone, {calls}"
    hours = next(s for s in document.services if s.id == "veilig_thuis").hours
    assert hours is not None and hours["en"] == "x " * 80


def test_published_file_is_refused(tmp_path):
    """Import never writes into a published version: it says to create a new version first."""
    published = tmp_path / "2026.2.yaml"
    published.write_bytes((ROOT / "rulesets" / "nl" / "2026.2.yaml").read_bytes())
    po_file = tmp_path / "en.po"
    po_file.write_text(export_po(published, "en").text, encoding="utf-8")
    with pytest.raises(TranslationError) as caught:
        import_po(published, po_file)
    problem = caught.value.problems[0]
    assert problem.code == "published"
    assert "published versions are never edited" in problem.message
    assert problem.hint == "create a new version first: invictus-rules new-version nl, then import into the new draft"


def test_broken_template_variable_is_refused_at_the_entry(tmp_path, nl):
    """A translation that changes a template variable is refused, positioned at its msgstr, naming the entry."""
    before = nl.read_bytes()
    text = export_po(nl, "en").text
    advice = polib.pofile(text).find("safety.advice", by="msgctxt").msgstr
    po_file = tmp_path / "en.po"
    po_file.write_text(_edit_po(text, {"safety.advice": advice.replace("noodnummer_112.phone", "noodnummer_112.phon")}), encoding="utf-8")
    with pytest.raises(TranslationError) as caught:
        import_po(nl, po_file)
    [problem] = caught.value.problems
    assert problem.code == "template-broken"
    assert problem.message == (
        'the translation of "safety.advice" leaves out {{ services.noodnummer_112.phone }} and uses {{ services.noodnummer_112.phon }}, which the source text does not'
    )
    lines = po_file.read_text(encoding="utf-8").splitlines()
    assert problem.location.file.endswith("en.po") and lines[problem.location.line - 1].startswith("msgstr")
    context = next(line for line in reversed(lines[: problem.location.line]) if line.startswith("msgctxt"))
    assert context == 'msgctxt "safety.advice"'
    assert nl.read_bytes() == before


def test_broken_template_syntax_is_refused(tmp_path, nl):
    """A translation whose {{ ... }} is not closed is refused with the template error."""
    po_file = tmp_path / "en.po"
    po_file.write_text(_edit_po(export_po(nl, "en").text, {"safety.advice": "Call {{ services.noodnummer_112.phone now."}), encoding="utf-8")
    with pytest.raises(TranslationError) as caught:
        import_po(nl, po_file)
    [problem] = caught.value.problems
    assert problem.code == "template-broken" and problem.message.startswith('the translation of "safety.advice" has a broken template:')


def test_unknown_msgctxt_is_refused_with_did_you_mean(tmp_path, nl):
    """An entry whose context is not a text of the ruleset is refused, with the nearest context."""
    text = export_po(nl, "en").text.replace('msgctxt "questions[safe_to_talk].text"', 'msgctxt "questions[safe_to_tlak].text"')
    po_file = tmp_path / "en.po"
    po_file.write_text(text, encoding="utf-8")
    with pytest.raises(TranslationError) as caught:
        import_po(nl, po_file)
    [problem] = caught.value.problems
    assert problem.code == "unknown-entry"
    assert problem.message == 'the entry "questions[safe_to_tlak].text" is not a text of this ruleset'
    assert "questions[safe_to_talk].text" in problem.hint


def test_fuzzy_and_stale_entries_are_reported_not_imported(tmp_path, nl):
    """Fuzzy entries and entries whose source text changed are skipped and reported; the rest is imported."""
    text = _edit_po(
        export_po(nl, "en").text,
        {"questions[safe_to_talk].text": "Fuzzy guess", "questions[in_immediate_danger].text": "Are you in danger right now?"},
        fuzzy=("questions[safe_to_talk].text",),
    )
    text = text.replace('msgid "Heeft u nu medische zorg nodig?"', 'msgid "Heeft u medische zorg nodig?"')
    po_file = tmp_path / "en.po"
    po_file.write_text(text, encoding="utf-8")
    report = import_po(nl, po_file)
    assert (report.fuzzy, report.stale, len(report.changes)) == (1, 1, 1)
    assert {p.code for p in report.problems} == {"fuzzy", "stale"}
    questions = compile_file(nl).document.questions
    assert questions[0].text["en"] == "Is it safe for you to talk right now?"
    assert questions[1].text["en"] == "Are you in danger right now?"


def test_check_lists_untranslated_and_fuzzy_entries(cli, tmp_path, nl):
    """translations check reports untranslated and fuzzy entries and exits 1 until there are none."""
    text = _edit_po(export_po(nl, "en").text, {"questions[safe_to_talk].text": ""}, fuzzy=("metadata.title",))
    po_file = tmp_path / "en.po"
    po_file.write_text(text, encoding="utf-8")
    result = cli("translations", "check", str(nl), str(po_file))
    assert result.code == 1
    assert 'info[untranslated]: "questions[safe_to_talk].text" is not translated' in result.out
    assert 'warning[fuzzy]: the translation of "metadata.title" is marked fuzzy, so it is not imported' in result.out
    assert result.out.rstrip().endswith("0 to import, 251 unchanged, 1 untranslated, 1 fuzzy, 0 stale")
    clean = tmp_path / "clean.po"
    clean.write_text(export_po(nl, "en").text, encoding="utf-8")
    assert cli("translations", "check", str(nl), str(clean)).code == 0
    report = check_po(nl, clean)
    assert report.problems == []


@pytest.mark.parametrize(
    "content",
    ['msgid "unclosed\nmsgstr ""\n', "\x00\x01garbage", 'msgctxt "a"\nmsgid "x"\nmsgstr "y"\nmsgstr "z"\n', b"\xff\xfe not utf-8"],
    ids=["unclosed-quote", "binary", "two-msgstr", "not-utf8"],
)
def test_malformed_po_gives_a_positioned_error_not_a_traceback(cli, tmp_path, nl, content):
    """A broken PO file is reported as a problem with its file and line; nothing is written."""
    before = nl.read_bytes()
    po_file = tmp_path / "broken.po"
    po_file.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = cli("translations", "import", str(nl), str(po_file))
    assert result.code == 1
    assert "Traceback" not in result.err and "broken.po" in result.err and "error[" in result.err
    assert nl.read_bytes() == before


def test_language_header_as_translation_tools_write_it(tmp_path, nl):
    """A PO file whose Language header says en_GB (as Poedit writes it) is read as English."""
    po_file = tmp_path / "en.po"
    text = _edit_po(export_po(nl, "en").text, {"metadata.title": "Assessment (Netherlands)"})
    po_file.write_text(text.replace('"Language: en\\n"', '"Language: en_GB\\n"'), encoding="utf-8")
    assert "Language: en_GB" in po_file.read_text(encoding="utf-8")
    report = check_po(nl, po_file)
    assert report.language == "en" and len(report.changes) == 1


def test_export_refuses_the_source_language_and_unknown_languages(cli, nl):
    """Exporting into the default language or a language the ruleset lacks is a clear error."""
    result = cli("translations", "export", str(nl), "--language", "nl")
    assert result.code == 1 and "error[source-language]" in result.err
    result = cli("translations", "export", str(nl), "--language", "de")
    assert result.code == 1 and "add de to metadata.languages in the draft first" in result.err


def test_cli_round_trip_writes_and_reports(cli, tmp_path, nl):
    """The commands as policy staff run them: export to a file, import, a one-line report."""
    po_file = tmp_path / "en.po"
    assert cli("translations", "export", str(nl), "--language", "en", "--out", str(po_file)).code == 0
    po_file.write_text(_edit_po(po_file.read_text(encoding="utf-8"), {"metadata.title": "Assessment (Netherlands)"}), encoding="utf-8")
    result = cli("translations", "import", str(nl), str(po_file))
    assert result.code == 0, result.err
    assert result.out.startswith(f"wrote 1 translation into {nl}")
    assert compile_file(nl).metadata.title["en"] == "Assessment (Netherlands)"
