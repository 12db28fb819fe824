"""The services directory as a spreadsheet: export a ruleset's services to CSV, import them back.

One row per service, in the order of the file. Columns: ``id``, ``category``, ``phone``, ``url``,
``email``, ``free_of_charge`` (true/false), ``first_contact`` and ``languages`` (values separated by
commas), then ``name_<lang>``, ``description_<lang>`` and ``hours_<lang>`` for each of the ruleset's
languages, and ``notes`` (for maintainers). An empty cell means the field is not set.

The file is UTF-8 with a byte-order mark and CRLF line ends, which spreadsheet programs open as
UTF-8; import also reads files saved with semicolons (as spreadsheets do in most of Europe). Import
changes only the values that differ, in place in the draft's YAML (see :mod:`.yamledit`), so
importing an unchanged export leaves the file byte for byte as it was. Rows cannot add or remove
services (a service comes with the rules that refer to it); columns left out are left as they are.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from ..errors import InvictusError, Location, Problem, TreePath
from ..expr.check import did_you_mean
from ..load import display_path
from ..model import FirstContact, ServiceCategory
from .files import read_utf8
from .yamledit import (
    YamlEditor,
    published_problem,
    read_ruleset_file,
    ruleset_path,
    write_checked,
)

EXIT_OK = 0
FIELDS = ("id", "category", "phone", "url", "email", "free_of_charge", "first_contact", "languages")
TEXT_FIELDS = ("name", "description", "hours")
CATEGORIES = frozenset(get_args(ServiceCategory))
CONTACTS = frozenset(get_args(FirstContact))
_URL = re.compile(r"^https://\S+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class ServicesError(InvictusError):
    """A services spreadsheet cannot be imported."""

    code = "services"


def columns(languages: list[str]) -> list[str]:
    """The spreadsheet's columns for a ruleset with these languages."""
    return [*FIELDS, *(f"{name}_{lang}" for name in TEXT_FIELDS for lang in languages), "notes"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _row(service: dict[str, Any], languages: list[str]) -> list[str]:
    cells = [_cell(service.get(name)) for name in FIELDS]
    for name in TEXT_FIELDS:
        texts = service.get(name) or {}
        cells += [texts.get(lang, "") for lang in languages]
    return [*cells, _cell(service.get("notes"))]


def export_csv(path: Path) -> str:
    """The services of the ruleset file at ``path`` as CSV text."""
    document, raw, _, _ = read_ruleset_file(path)
    languages = list(document.metadata.languages)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns(languages))
    for service in raw.get("services") or []:
        writer.writerow(_row(service, languages))
    return "\ufeff" + out.getvalue()


# -- import ------------------------------------------------------------------------------------


@dataclass
class ServicesReport:
    problems: list[Problem] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    """Service id -> the columns whose values changed."""
    not_in_file: list[str] = field(default_factory=list)
    """Services of the ruleset without a row: left as they are."""


@dataclass
class _Sheet:
    file: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    """(first line, cells) of each non-empty row."""


def _read_sheet(csv_path: Path, report: ServicesReport) -> _Sheet | None:
    file = display_path(csv_path)
    text = read_utf8(csv_path, file=file, error=ServicesError, hint="save it as 'CSV UTF-8' (spreadsheets offer it under Save as)")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        report.problems.append(
            Problem("csv-syntax", f"this is not valid CSV: {exc}", "check the quotes in this row: a quote inside a cell is written twice", Location(file, reader.line_num or start, 1))
        )
        return None
    if not rows:
        report.problems.append(Problem("csv-empty", "the file has no rows", "export the services first: invictus-rules services export RULESET", Location(file, 1, 1)))
        return None
    (_, header), *body = rows
    return _Sheet(file, [name.strip() for name in header], body)


def _check_header(sheet: _Sheet, languages: list[str], report: ServicesReport) -> bool:
    allowed = columns(languages)
    ok = True
    for index, name in enumerate(sheet.header, 1):
        where = Location(sheet.file, 1, index)
        if name not in allowed:
            text_column = re.fullmatch(r"(name|description|hours)_([a-z]{2,3})", name)
            hint = f"add {text_column.group(2)} to metadata.languages first" if text_column else did_you_mean(name, allowed) or f"the columns are {', '.join(allowed)}"
            report.problems.append(Problem("csv-column", f'column {index} "{name}" is not a column of the services directory', hint, where))
            ok = False
        elif sheet.header.index(name) != index - 1:
            report.problems.append(Problem("csv-column", f'the column "{name}" appears twice', "keep one of them", where))
            ok = False
    if "id" not in sheet.header:
        report.problems.append(Problem("csv-column", "the file has no id column", "keep the id column as it was exported: it says which service a row is", Location(sheet.file, 1, 1)))
        ok = False
    return ok


def check_csv(ruleset_path: Path, csv_path: Path) -> tuple[ServicesReport, YamlEditor | None]:
    """Read a services spreadsheet against the ruleset: every problem, and the edits import would make."""
    document, raw, source, text = read_ruleset_file(ruleset_path)
    meta = document.metadata
    languages = list(meta.languages)
    report = ServicesReport()
    sheet = _read_sheet(csv_path, report)
    if sheet is None or not _check_header(sheet, languages, report):
        return report, None
    services = {s["id"]: (index, s) for index, s in enumerate(raw.get("services") or [])}
    editor = YamlEditor.from_parsed(text, raw, source, display_path(ruleset_path))
    seen: dict[str, int] = {}
    for line, cells in sheet.rows:
        if len(cells) != len(sheet.header):
            report.problems.append(
                Problem(
                    "csv-row", f"the row has {len(cells)} cells, but the header has {len(sheet.header)} columns", "check for a missing or extra separator in this row", Location(sheet.file, line, 1)
                )
            )
            continue
        row = dict(zip(sheet.header, cells, strict=True))
        service_id = row["id"].strip()
        id_column = sheet.header.index("id") + 1
        if service_id not in services:
            hint = did_you_mean(service_id, list(services)) or "a row cannot add a service: add it to the YAML with the rules that refer to it, then export again"
            report.problems.append(Problem("unknown-service", f'there is no service "{service_id}" in this ruleset', hint, Location(sheet.file, line, id_column)))
            continue
        if service_id in seen:
            report.problems.append(
                Problem("duplicate-service", f'the service "{service_id}" has two rows (first at line {seen[service_id]})', "keep one of them", Location(sheet.file, line, id_column))
            )
            continue
        seen[service_id] = line
        index, service = services[service_id]
        _Row(sheet, line, service_id, ("services", index), service, meta.default_language, languages, editor, report).apply(row)
    report.not_in_file = [service_id for service_id in services if service_id not in seen]
    return report, editor


@dataclass
class _Row:
    sheet: _Sheet
    line: int
    service_id: str
    path: TreePath
    service: dict[str, Any]
    default_language: str
    languages: list[str]
    editor: YamlEditor
    report: ServicesReport

    def problem(self, column: str, message: str, hint: str) -> None:
        where = Location(self.sheet.file, self.line, self.sheet.header.index(column) + 1)
        self.report.problems.append(Problem("csv-value", f'{column} of "{self.service_id}": {message}', hint, where))

    def changed(self, column: str) -> None:
        self.report.changed.setdefault(self.service_id, []).append(column)

    def apply(self, row: dict[str, str]) -> None:
        for name in FIELDS[1:]:
            if name in row and row[name] != _cell(self.service.get(name)):
                value = self.parse(name, row[name].strip())
                if value is not _INVALID:
                    self.set(name, value)
        if "notes" in row and row["notes"] != _cell(self.service.get("notes")):
            self.set("notes", row["notes"].strip() or None)
        for name in TEXT_FIELDS:
            self.apply_text(name, row)

    def parse(self, name: str, cell: str) -> Any:
        if not cell:
            if name == "category":
                self.problem(name, "the category is empty", f"use one of {', '.join(sorted(CATEGORIES))}")
                return _INVALID
            return None
        if name == "category" and cell not in CATEGORIES:
            self.problem(name, f'"{cell}" is not a category', did_you_mean(cell, sorted(CATEGORIES)) or f"use one of {', '.join(sorted(CATEGORIES))}")
            return _INVALID
        if name == "url" and not _URL.match(cell):
            self.problem(name, "the address must start with https:// and contain no spaces", "write the full address, e.g. https://www.example.org/help")
            return _INVALID
        if name == "email" and not _EMAIL.match(cell):
            self.problem(name, "this is not an e-mail address", "write it as name@example.org")
            return _INVALID
        if name == "free_of_charge":
            if cell.lower() not in ("true", "false"):
                self.problem(name, "write true or false", "true: using the service costs the victim nothing; leave the cell empty when it is not known")
                return _INVALID
            return cell.lower() == "true"
        if name in ("first_contact", "languages"):
            values = [part.strip() for part in re.split(r"[,;\s]+", cell) if part.strip()]
            if name == "first_contact":
                wrong = [v for v in values if v not in CONTACTS]
                if wrong:
                    self.problem(name, f'"{wrong[0]}" is not a way of first contact', f"use {', '.join(sorted(CONTACTS))}, separated by commas")
                    return _INVALID
                return values[0] if len(values) == 1 else values
            wrong = [v for v in values if not _LANGUAGE.match(v)]
            if wrong:
                self.problem(name, f'"{wrong[0]}" is not a language code', "use ISO 639 codes in lower case, separated by commas, e.g. nl, en")
                return _INVALID
            return values
        return cell

    def set(self, name: str, value: Any) -> None:
        current = self.service.get(name)
        if value == current or (name == "first_contact" and _as_list(value) == _as_list(current)):
            return
        if value is None or value == []:
            if name in self.service:
                self.editor.delete(self.path + (name,))
                self.changed(name)
            return
        self.editor.set(self.path + (name,), value)
        self.changed(name)

    def apply_text(self, name: str, row: dict[str, str]) -> None:
        current: dict[str, str] = dict(self.service.get(name) or {})
        wanted = dict(current)
        for lang in self.languages:
            column = f"{name}_{lang}"
            if column not in row or row[column] == current.get(lang, ""):
                continue
            cell = row[column].strip()
            if cell:
                wanted[lang] = cell
            else:
                wanted.pop(lang, None)
            self.changed(column)
        if wanted == current:
            return
        if name == "name" and not wanted.get(self.default_language):
            self.problem(f"name_{self.default_language}", "a service needs a name in the default language", "write the service's name")
            return
        path = self.path + (name,)
        if not current:
            self.editor.set_mapping(path, {lang: wanted[lang] for lang in self.languages if lang in wanted})
        elif not wanted:
            self.editor.delete(path)
        else:
            for lang in self.languages:
                if lang in wanted:
                    self.editor.set(path + (lang,), wanted[lang])
                elif lang in current:
                    self.editor.delete(path + (lang,))


_INVALID: Any = object()


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def import_csv(ruleset_path: Path, csv_path: Path) -> ServicesReport:
    """Write a services spreadsheet into a draft ruleset file in place; refuse on any error."""
    document, _, source, _ = read_ruleset_file(ruleset_path)
    if document.metadata.status == "published":
        raise ServicesError([published_problem(display_path(ruleset_path), document.metadata.country, source)])
    report, editor = check_csv(ruleset_path, csv_path)
    if report.problems or editor is None:
        raise ServicesError(report.problems)
    if editor.changed:
        write_checked(ruleset_path, editor.result())
    return report


# -- commands ----------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace, io_: Any) -> int:
    text = export_csv(ruleset_path(args.ruleset))
    if args.out:
        from .files import write_atomic

        write_atomic(args.out, text)
        io_.err.write(f"wrote {args.out}\n")
    else:
        io_.out.write(text)
    return EXIT_OK


def cmd_import(args: argparse.Namespace, io_: Any) -> int:
    path = ruleset_path(args.ruleset)
    report = import_csv(path, Path(args.csv))
    if report.changed:
        io_.out.write(f"changed {sum(len(c) for c in report.changed.values())} values of {len(report.changed)} services in {display_path(path)}:\n")
        for service_id, changed in report.changed.items():
            io_.out.write(f"  {service_id}: {', '.join(changed)}\n")
    else:
        io_.out.write(f"nothing to change in {display_path(path)}\n")
    if report.not_in_file:
        io_.out.write(f"left as they are (no row): {', '.join(report.not_in_file)}\n")
    return EXIT_OK


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    parser = add("services", _dispatch, "the services directory as a spreadsheet: export a ruleset's services to CSV, import them into a draft")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(parser))
    export = actions.add_parser("export", help="write one CSV row per service, with a name, description and hours column per language")
    export.add_argument("ruleset", metavar="RULESET", help="a ruleset file, a country code or cc@version")
    export.add_argument("--out", metavar="FILE", help="write the file here instead of to standard output")
    export.set_defaults(run=cmd_export)
    import_ = actions.add_parser("import", help="write a services CSV into a draft ruleset file, changing only what differs and keeping comments")
    import_.add_argument("ruleset", metavar="RULESET", help="the draft ruleset file")
    import_.add_argument("csv", metavar="FILE.csv", help="the CSV file")
    import_.set_defaults(run=cmd_import)


def _dispatch(args: argparse.Namespace, io_: Any) -> int:
    run: Callable[[argparse.Namespace, Any], int] = args.run
    return run(args, io_)
