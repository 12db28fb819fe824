"""The services directory as CSV: export, import into a draft in place, exact round trips, refusals."""

from __future__ import annotations

import csv
import difflib
import io
from pathlib import Path

import pytest

from invictus_rules.compile import compile_file
from invictus_rules.tools.services_csv import ServicesError, export_csv, import_csv

from .test_translations import ROOT, SHIPPED, draft_copy


@pytest.fixture
def nl(tmp_path: Path) -> Path:
    return draft_copy(ROOT / "rulesets" / "nl" / "2026.2.yaml", tmp_path)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def _write(path: Path, rows: list[dict[str, str]], delimiter: str = ",") -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n", delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    path.write_text("\ufeff" + out.getvalue(), encoding="utf-8")
    return path


@pytest.mark.parametrize("ruleset", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_csv_round_trip_is_byte_identical(tmp_path, ruleset):
    """Export, import into a draft copy and export again: the YAML and the CSV are byte for byte the same."""
    draft = draft_copy(ruleset, tmp_path)
    before = draft.read_bytes()
    exported = export_csv(draft)
    sheet = tmp_path / "services.csv"
    sheet.write_text(exported, encoding="utf-8")
    report = import_csv(draft, sheet)
    assert report.changed == {} and report.not_in_file == []
    assert draft.read_bytes() == before
    assert export_csv(draft) == exported


def test_columns_and_cells(nl):
    """One row per service with the documented columns; lists joined by commas, booleans as true/false."""
    rows = _rows(export_csv(nl))
    assert list(rows[0]) == [
        "id", "category", "phone", "url", "email", "free_of_charge", "first_contact", "languages",
        "name_nl", "name_en", "description_nl", "description_en", "hours_nl", "hours_en", "notes",
    ]  # fmt: skip
    veilig_thuis = next(row for row in rows if row["id"] == "veilig_thuis")
    assert veilig_thuis["phone"] == "0800-2000" and veilig_thuis["free_of_charge"] == "true"
    assert len(rows) == len(compile_file(nl).document.services)


def test_changed_cells_change_those_values_and_nothing_else(tmp_path, nl):
    """Editing cells rewrites only those values in the YAML; the changes read back on the next export."""
    before = nl.read_text(encoding="utf-8")
    rows = _rows(export_csv(nl))
    row = next(r for r in rows if r["id"] == "veilig_thuis")
    row["phone"] = "0800 2000"
    row["hours_en"] = "Day and night"
    row["email"] = "info@veiligthuis.example"
    report = import_csv(nl, _write(tmp_path / "s.csv", rows))
    assert report.changed == {"veilig_thuis": ["phone", "email", "hours_en"]}
    after = nl.read_text(encoding="utf-8")
    diff = [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0) if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert diff == [
        "-    phone: 0800-2000",
        "+    phone: 0800 2000",
        "-      en: 24 hours a day, 7 days a week",
        "+      en: Day and night",
        "+    email: info@veiligthuis.example",
    ]
    service = next(s for s in compile_file(nl).document.services if s.id == "veilig_thuis")
    assert (service.phone, service.email, service.hours and service.hours["en"]) == ("0800 2000", "info@veiligthuis.example", "Day and night")
    assert _rows(export_csv(nl)) == rows


def test_emptied_cells_remove_fields_and_semicolons_are_read(tmp_path, nl):
    """An empty cell removes the field; a file saved with semicolons (European spreadsheets) imports the same."""
    rows = _rows(export_csv(nl))
    row = next(r for r in rows if r["id"] == "veilig_thuis")
    row["url"] = ""
    row["description_en"] = ""
    row["first_contact"] = "phone; letter"
    import_csv(nl, _write(tmp_path / "s.csv", rows, delimiter=";"))
    service = next(s for s in compile_file(nl).document.services if s.id == "veilig_thuis")
    assert service.url is None and service.description is not None and "en" not in service.description
    assert service.first_contact == ["phone", "letter"]


def test_published_file_is_refused(tmp_path):
    """Import never writes into a published version."""
    published = tmp_path / "2026.2.yaml"
    published.write_bytes((ROOT / "rulesets" / "nl" / "2026.2.yaml").read_bytes())
    sheet = tmp_path / "s.csv"
    sheet.write_text(export_csv(published), encoding="utf-8")
    with pytest.raises(ServicesError) as caught:
        import_csv(published, sheet)
    assert caught.value.problems[0].code == "published"
    assert caught.value.problems[0].hint.startswith("create a new version first: invictus-rules new-version nl")


def test_bad_rows_are_refused_with_line_and_column(tmp_path, nl):
    """Unknown ids, categories, bad URLs and e-mail addresses are all reported at once, at their cells."""
    before = nl.read_bytes()
    rows = _rows(export_csv(nl))
    rows[0]["id"] = "slachtofferhulpp"
    rows[1]["category"] = "helpine"
    rows[2]["url"] = "http://slachtofferloket.nl"
    rows[3]["email"] = "not an address"
    rows[4]["free_of_charge"] = "maybe"
    with pytest.raises(ServicesError) as caught:
        import_csv(nl, _write(tmp_path / "s.csv", rows))
    found = [(p.location.line, p.location.column, p.code, p.message) for p in caught.value.problems]
    assert found == [
        (2, 1, "unknown-service", 'there is no service "slachtofferhulpp" in this ruleset'),
        (3, 2, "csv-value", 'category of "helpline_116006": "helpine" is not a category'),
        (4, 4, "csv-value", 'url of "slachtofferloket": the address must start with https:// and contain no spaces'),
        (5, 5, "csv-value", 'email of "slachtofferwijzer": this is not an e-mail address'),
        (6, 6, "csv-value", f'free_of_charge of "{rows[4]["id"]}": write true or false'),
    ]
    assert 'did you mean "slachtofferhulp"' in caught.value.problems[0].hint
    assert nl.read_bytes() == before


def test_unknown_column_is_refused(tmp_path, nl):
    """A column for a language the ruleset does not have says to add the language first."""
    rows = [{**row, "name_de": ""} for row in _rows(export_csv(nl))]
    with pytest.raises(ServicesError) as caught:
        import_csv(nl, _write(tmp_path / "s.csv", rows))
    [problem] = caught.value.problems
    assert (problem.location.line, problem.location.column, problem.hint) == (1, 16, "add de to metadata.languages first")


@pytest.mark.parametrize(
    "content",
    ['id,category\n"veilig_thuis,helpline\n', "id,category\nveilig_thuis\n", "", "\x00\x00", b"id,name_nl\n\xff\xfe\n"],
    ids=["unclosed-quote", "short-row", "empty", "binary", "not-utf8"],
)
def test_malformed_csv_gives_a_positioned_error_not_a_traceback(cli, tmp_path, nl, content):
    """A broken CSV file is reported as a problem with its file and line; nothing is written."""
    before = nl.read_bytes()
    sheet = tmp_path / "broken.csv"
    sheet.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = cli("services", "import", str(nl), str(sheet))
    assert result.code == 1
    assert "Traceback" not in result.err and "broken.csv" in result.err and "error[" in result.err
    assert nl.read_bytes() == before


def test_cli_export_and_import(cli, tmp_path, nl):
    """The commands as policy staff run them."""
    sheet = tmp_path / "services.csv"
    assert cli("services", "export", str(nl), "--out", str(sheet)).code == 0
    rows = _rows(sheet.read_text(encoding="utf-8"))
    rows[0]["hours_en"] = "Office hours (Monday to Friday)"
    _write(sheet, rows)
    result = cli("services", "import", str(nl), str(sheet))
    assert result.code == 0, result.err
    assert result.out == f"changed 1 values of 1 services in {nl}:\n  slachtofferhulp: hours_en\n"
