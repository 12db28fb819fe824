"""Translations round trip: a ruleset's texts out to a PO file for translators, and back into the draft.

``export`` writes one PO entry per text of the ruleset: its place as ``msgctxt`` (keyed by ids, e.g.
``questions[safe_to_talk].text``), the text in the ruleset's default language as ``msgid``, the
current translation (if any) as ``msgstr``, and the template variables the text uses as comments
for the translator (``#.``). ``check`` reads a PO file against the ruleset and reports what import
would refuse (unknown entries, broken templates) and what it would skip (untranslated, fuzzy, and
stale entries whose source text has changed since the export). ``import`` does the same and writes
the translations into the draft's YAML in place (see :mod:`.yamledit`), refusing a published file.

Lint reports texts missing in a language of the ruleset itself (``translation-missing``); the PO
file's state (untranslated, fuzzy) is reported by ``check`` and ``import``: one report per file.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import polib
from jinja2 import nodes

from ..errors import InvictusError, Location, Problem, TreePath, format_problems
from ..expr.check import did_you_mean
from ..load import display_path
from ..templates import ENVIRONMENT, check_template
from .files import read_utf8
from .yamledit import (
    YamlEditor,
    published_problem,
    read_ruleset_file,
    ruleset_path,
    write_checked,
)

EXIT_OK, EXIT_INVALID = 0, 1
PO_WIDTH = 78
_TEXT_KEYS = ("text", "help", "label", "title", "description", "name", "hours", "reason", "action", "body", "advice", "basis")
_TEMPLATE_FIELDS = {("referrals", "reason"), ("referrals", "action"), ("information", "title"), ("information", "body"), ("safety", "advice")}


class TranslationError(InvictusError):
    """A PO file cannot be exported or imported."""

    code = "translations"


@dataclass(frozen=True)
class TextEntry:
    """One translatable text of a ruleset: where it is and what it says in each language."""

    context: str
    """The text's place, keyed by ids: ``questions[safe_to_talk].text``."""
    path: TreePath
    texts: dict[str, str]
    template: bool
    """Whether the text is a jinja2 template (reasons, actions, information, safety advice)."""


def iter_entries(data: Any) -> Iterator[TextEntry]:
    """Every per-language text of a ruleset's data, in the order of the file."""
    yield from _walk(data, (), "", None)


def _walk(data: Any, path: TreePath, context: str, section: str | None) -> Iterator[TextEntry]:
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{context}.{key}" if context else str(key)
            if key in _TEXT_KEYS and isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
                template = (section or str(key), str(key)) in _TEMPLATE_FIELDS
                yield TextEntry(here, path + (key,), dict(value), template)
            elif isinstance(value, (dict, list)):
                yield from _walk(value, path + (key,), here, section or str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            name = value.get("id", value.get("value")) if isinstance(value, dict) else None
            label = f"[{name}]" if isinstance(name, str) else f"[{index}]"
            yield from _walk(value, path + (index,), context + label, section)


# -- template variables ------------------------------------------------------------------------


def template_variables(text: str) -> set[str]:
    """The variables a template reads, written as in the text: ``services.veilig_thuis.phone``."""
    found: set[str] = set()
    stack: list[nodes.Node] = [ENVIRONMENT.parse(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, (nodes.Getattr, nodes.Getitem, nodes.Name)):
            dotted = _dotted(node)
            if dotted is not None:
                found.add(dotted)
                continue
        stack.extend(node.iter_child_nodes())
    return found


def _dotted(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name):
        return node.name if node.ctx == "load" else None
    if isinstance(node, nodes.Getattr):
        inner = _dotted(node.node)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        inner = _dotted(node.node)
        return f"{inner}.{node.arg.value}" if inner else None
    return None


def _comment(entry: TextEntry, source_text: str) -> str:
    if not entry.template or "{" not in source_text:
        return ""
    try:
        variables = sorted(template_variables(source_text))
    except jinja2.TemplateSyntaxError:  # pragma: no cover - a loaded ruleset's templates parse
        return ""
    lines = ["Keep every {{ ... }} and {% ... %} part exactly as it is."]
    if variables:
        lines.append("Variables: " + ", ".join(variables))
    return "\n".join(lines)


# -- export ------------------------------------------------------------------------------------


@dataclass
class ExportResult:
    text: str
    entries: int
    translated: int
    left_out: list[str] = field(default_factory=list)
    """Texts without a source-language text (lint reports them): they have no msgid."""


def _check_language(document: Any, language: str, file: str) -> None:
    meta = document.metadata
    if language == meta.default_language:
        raise TranslationError(
            [
                Problem(
                    "source-language",
                    f'"{language}" is the ruleset\'s default language, the one texts are translated from',
                    f"choose one of {', '.join(lang for lang in meta.languages if lang != language) or 'the other languages'}",
                    Location(file),
                )
            ]
        )
    if language not in meta.languages:
        raise TranslationError(
            [
                Problem(
                    "unknown-language",
                    f'"{language}" is not one of the ruleset\'s languages ({", ".join(meta.languages)})',
                    f"to add a language, add {language} to metadata.languages in the draft first",
                    Location(file),
                )
            ]
        )


def export_po(path: Path, language: str) -> ExportResult:
    """The PO file of ``language`` for the ruleset file at ``path``."""
    document, raw, source, _ = read_ruleset_file(path)
    file = display_path(path)
    _check_language(document, language, file)
    meta = document.metadata
    po = polib.POFile(wrapwidth=PO_WIDTH, check_for_duplicates=False)
    po.header = (
        f"Translations of {meta.id} {meta.version} ({meta.country}) from {meta.default_language} into {language}.\n"
        "msgctxt is the text's place in the ruleset: do not change it. Import into a draft with:\n"
        "  invictus-rules translations import DRAFT.yaml FILE.po"
    )
    po.metadata = {
        "Project-Id-Version": f"{meta.id} {meta.version}",
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "X-Ruleset": meta.id,
        "X-Ruleset-Version": meta.version,
        "X-Source-Language": meta.default_language,
    }
    result = ExportResult("", 0, 0)
    for entry in iter_entries(raw):
        source_text = entry.texts.get(meta.default_language)
        if not source_text:
            result.left_out.append(entry.context)
            continue
        mark = source.values.get(entry.path + (meta.default_language,))
        po.append(
            polib.POEntry(
                msgctxt=entry.context,
                msgid=source_text,
                msgstr=entry.texts.get(language, ""),
                comment=_comment(entry, source_text),
                occurrences=[(file, str(mark.line))] if mark else [],
            )
        )
        result.entries += 1
        result.translated += bool(entry.texts.get(language))
    result.text = str(po) + "\n"
    return result


# -- check and import --------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What a PO file holds for a ruleset, and what importing it does."""

    language: str = ""
    problems: list[Problem] = field(default_factory=list)
    changes: dict[TreePath, str] = field(default_factory=dict)
    unchanged: int = 0
    untranslated: int = 0
    fuzzy: int = 0
    stale: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _parse_po(po_path: Path) -> tuple[Any, list[str]]:
    file = display_path(po_path)
    text = read_utf8(po_path, file=file, error=TranslationError, what="the PO file", hint="save it as UTF-8 (PO editors do so by default)")
    try:
        po = polib.pofile(text, wrapwidth=PO_WIDTH)
    except (OSError, ValueError, IndexError, KeyError) as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = int(found.group(1)) if found else 0
        lines = text.splitlines()
        raise TranslationError(
            [
                Problem(
                    "po-syntax",
                    "this is not a valid PO file" + (f": {exc}" if not found else ""),
                    "check the quotes and the msgctxt / msgid / msgstr lines around it, or export the file again",
                    Location(file, line, 1 if line else 0),
                    source_line=lines[line - 1] if 0 < line <= len(lines) else "",
                )
            ]
        ) from None
    return po, text.splitlines()


def check_po(ruleset_path: Path, po_path: Path) -> ImportReport:
    """Read a PO file against the ruleset: every problem, and the translations import would write."""
    document, raw, _, _ = read_ruleset_file(ruleset_path)
    po, lines = _parse_po(po_path)
    file = display_path(po_path)
    meta = document.metadata
    report = ImportReport(language=_language(str(po.metadata.get("Language", "")), meta.languages))
    if not report.language:
        report.problems.append(
            Problem(
                "po-language",
                "the PO file does not say its language (no Language header)",
                'add "Language: en\\n" (with the right code) to the header entry, or export the file again',
                Location(file, 1, 1),
            )
        )
        return report
    _check_language(document, report.language, file)
    exported_from = str(po.metadata.get("X-Ruleset", "")).strip()
    if exported_from and exported_from != meta.id:
        report.problems.append(
            Problem("po-ruleset", f'the PO file was exported from the ruleset "{exported_from}", not "{meta.id}"', "import it into a version of the ruleset it came from", Location(file, 1, 1))
        )
        return report
    entries = {entry.context: entry for entry in iter_entries(raw)}
    known = {
        "services": [s["id"] for s in raw.get("services") or [] if isinstance(s, dict)],
        "answers": [q["id"] for q in raw.get("questions") or [] if isinstance(q, dict)],
        "scores": [s["id"] for s in raw.get("scores") or [] if isinstance(s, dict)],
    }
    seen: dict[str, int] = {}
    for po_entry in po:
        if po_entry.obsolete:
            continue
        line = _msgstr_line(lines, po_entry.linenum)
        where = Location(file, line, 1)
        quote = lines[line - 1] if 0 < line <= len(lines) else ""

        def problem(code: str, message: str, hint: str, severity: str = "error", *, _where: Location = where, _quote: str = quote) -> None:
            report.problems.append(Problem(code, message, hint, _where, severity=severity, source_line=_quote))

        context = po_entry.msgctxt
        if context is None or context not in entries:
            name = f'"{context}"' if context else "(none)"
            problem(
                "unknown-entry",
                f"the entry {name} is not a text of this ruleset",
                did_you_mean(context or "", list(entries)) or "keep msgctxt as it was exported; texts removed from the ruleset cannot be imported",
            )
            continue
        if context in seen:
            problem("duplicate-entry", f'the entry "{context}" appears twice (first at line {seen[context]})', "keep one of them")
            continue
        seen[context] = line
        entry = entries[context]
        if "fuzzy" in po_entry.flags:
            report.fuzzy += 1
            problem("fuzzy", f'the translation of "{context}" is marked fuzzy, so it is not imported', "review it and remove the fuzzy flag", "warning")
            continue
        if not po_entry.msgstr:
            report.untranslated += 1
            problem("untranslated", f'"{context}" is not translated', "write the translation in msgstr", "info")
            continue
        current_source = entry.texts.get(meta.default_language, "")
        if po_entry.msgid != current_source:
            report.stale += 1
            problem(
                "stale",
                f'the {meta.default_language} text of "{context}" has changed since the PO file was exported, so its translation is not imported',
                "export the file again (translations are kept) and review this entry",
                "warning",
            )
            continue
        current = entry.texts.get(report.language)
        if current == po_entry.msgstr:
            report.unchanged += 1
            continue
        if entry.template:
            issue = _template_issue(current_source, po_entry.msgstr, current, known)
            if issue is not None:
                problem("template-broken", f'the translation of "{context}" {issue[0]}', issue[1])
                continue
        report.changes[entry.path + (report.language,)] = po_entry.msgstr
    return report


def _language(header: str, languages: list[str]) -> str:
    """The ruleset language a PO header names: 'en', or 'en_GB' / 'en-GB' as translation tools write it."""
    code = header.strip()
    base = re.split(r"[_\-@.]", code, maxsplit=1)[0].lower()
    return code if code in languages or base not in languages else base


def _msgstr_line(lines: list[str], start: int) -> int:
    """The line of an entry's msgstr, searching from the entry's first line."""
    for number in range(max(start, 1), len(lines) + 1):
        if lines[number - 1].startswith("msgstr"):
            return number
    return start


def _template_issue(source: str, translation: str, current: str | None, known: dict[str, list[str]]) -> tuple[str, str] | None:
    """Why a translated template cannot replace its source text (message, hint), or None.

    A translation uses the variables of its source text, all of them and no others. Where the
    ruleset's current translation already differs (a Swedish text naming the Swedish-language
    line, say), the new one may differ in the same way.
    """
    try:
        wanted = template_variables(source)
        given = template_variables(translation)
        accepted = template_variables(current) if current else wanted
    except jinja2.TemplateSyntaxError as exc:
        return f"has a broken template: {exc.message}", "check that every '{{' has its '}}' and every '{% if %}' its '{% endif %}', as in msgid"
    extra, missing = sorted(given - wanted - accepted), sorted((wanted & accepted) - given)
    if extra or missing:
        parts = []
        if missing:
            parts.append("leaves out " + ", ".join("{{ " + name + " }}" for name in missing))
        if extra:
            parts.append("uses " + ", ".join("{{ " + name + " }}" for name in extra) + ", which the source text does not")
        return " and ".join(parts), "keep the template variables of msgid exactly as they are written there"
    _, issues = check_template(translation, known)
    if issues:
        return f"has a template problem: {issues[0].message}", issues[0].hint
    return None


def import_po(ruleset_path: Path, po_path: Path) -> ImportReport:
    """Write a PO file's translations into a draft ruleset file in place; refuse on any error."""
    file = display_path(ruleset_path)
    document, raw, source, text = read_ruleset_file(ruleset_path)
    if document.metadata.status == "published":
        raise TranslationError([published_problem(file, document.metadata.country, source)])
    report = check_po(ruleset_path, po_path)
    if report.errors:
        raise TranslationError(report.problems)
    if report.changes:
        editor = YamlEditor.from_parsed(text, raw, source, file)
        for path, value in report.changes.items():
            editor.set(path, value)
        write_checked(ruleset_path, editor.result())
    return report


# -- commands ----------------------------------------------------------------------------------


def _summary(report: ImportReport) -> str:
    return f"{len(report.changes)} to import, {report.unchanged} unchanged, {report.untranslated} untranslated, {report.fuzzy} fuzzy, {report.stale} stale"


def cmd_export(args: argparse.Namespace, io: Any) -> int:
    path = ruleset_path(args.ruleset)
    result = export_po(path, args.language)
    if args.out:
        from .files import write_atomic

        write_atomic(args.out, result.text)
        io.err.write(f"wrote {args.out}: {result.entries} texts, {result.translated} translated into {args.language}\n")
    else:
        io.out.write(result.text)
    if result.left_out:
        io.err.write(f"left out {len(result.left_out)} texts without a source-language text (lint lists them)\n")
    return EXIT_OK


def cmd_check(args: argparse.Namespace, io: Any) -> int:
    report = check_po(ruleset_path(args.ruleset), Path(args.po))
    if report.problems:
        io.out.write(format_problems(report.problems, limit=args.limit) + "\n")
    io.out.write(f"{display_path(Path(args.po))} ({report.language or '?'}): {_summary(report)}\n")
    return EXIT_INVALID if report.problems else EXIT_OK


def cmd_import(args: argparse.Namespace, io: Any) -> int:
    path = ruleset_path(args.ruleset)
    report = import_po(path, Path(args.po))
    shown = [p for p in report.problems if p.severity != "info"]
    if shown:
        io.err.write(format_problems(shown) + "\n")
    count = len(report.changes)
    written = f"wrote {count} translation{'s' if count != 1 else ''} into {display_path(path)}" if count else f"nothing to change in {display_path(path)}"
    io.out.write(f"{written} ({report.unchanged} unchanged, {report.untranslated} untranslated, {report.fuzzy} fuzzy and {report.stale} stale not imported)\n")
    return EXIT_OK


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    parser = add("translations", _dispatch, "translations round trip: export a ruleset's texts to a PO file, check one, import it into a draft")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(parser))
    export = actions.add_parser("export", help="write one PO entry per text (msgctxt = its place, msgid = the default-language text)")
    export.add_argument("ruleset", metavar="RULESET", help="a ruleset file, a country code or cc@version")
    export.add_argument("--language", required=True, help="the language to translate into (one of the ruleset's languages)")
    export.add_argument("--format", choices=("po",), default="po", help="file format (po)")
    export.add_argument("--out", metavar="FILE", help="write the file here instead of to standard output")
    export.set_defaults(run=cmd_export)
    check = actions.add_parser("check", help="report untranslated, fuzzy and stale entries, and translations import would refuse")
    check.add_argument("ruleset", metavar="RULESET", help="the ruleset file (or cc@version) the PO file is for")
    check.add_argument("po", metavar="FILE.po", help="the PO file")
    check.add_argument("--limit", type=int, default=50, help="show at most this many findings (default 50)")
    check.set_defaults(run=cmd_check)
    import_ = actions.add_parser("import", help="write a PO file's translations into a draft ruleset file, keeping its comments and layout")
    import_.add_argument("ruleset", metavar="RULESET", help="the draft ruleset file")
    import_.add_argument("po", metavar="FILE.po", help="the PO file")
    import_.set_defaults(run=cmd_import)


def _dispatch(args: argparse.Namespace, io: Any) -> int:
    run: Callable[[argparse.Namespace, Any], int] = args.run
    return run(args, io)
