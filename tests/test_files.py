"""Reading UTF-8 text for the tools: a byte-order mark dropped, and a positioned error for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from invictus_rules.errors import InvictusError
from invictus_rules.tools.files import read_utf8
from invictus_rules.tools.services_csv import ServicesError, check_csv
from invictus_rules.tools.translations import TranslationError, check_po

SHIPPED = Path(__file__).resolve().parent.parent / "rulesets" / "nl" / "2026.1.yaml"


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    """Spreadsheets start a UTF-8 file with a BOM; the text read does not."""
    path = tmp_path / "sheet.csv"
    path.write_bytes("\ufeffname;phone\nZoë;1\n".encode())
    assert read_utf8(path, file="sheet.csv") == "name;phone\nZoë;1\n"


def test_bytes_that_are_not_utf8_are_pointed_at_by_line_and_column(tmp_path: Path) -> None:
    """The error names line and column (in characters) of the first bad byte, and never quotes the bytes."""
    path = tmp_path / "sheet.csv"
    path.write_bytes("\ufeffa;b\nZoë;1\nZoë\xff;2\n".encode().replace("\xff".encode(), b"\xff"))
    with pytest.raises(InvictusError) as caught:
        read_utf8(path, file="sheet.csv", what="the sheet", hint="save it as UTF-8")
    [problem] = caught.value.problems
    assert (problem.code, problem.message, problem.hint) == ("encoding", "the sheet is not valid UTF-8", "save it as UTF-8")
    assert (problem.location.file, problem.location.line, problem.location.column) == ("sheet.csv", 3, 4)
    assert "Zo" not in str(caught.value)


def test_a_bad_first_line_counts_columns_after_the_byte_order_mark(tmp_path: Path) -> None:
    """On the first line the BOM is not a column."""
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"\xef\xbb\xbfab\xff")
    with pytest.raises(InvictusError) as caught:
        read_utf8(path, file="sheet.csv")
    assert (caught.value.problems[0].location.line, caught.value.problems[0].location.column) == (1, 3)


def test_a_missing_file_is_file_not_readable_of_the_callers_error_class(tmp_path: Path) -> None:
    """The caller's error class carries the problem."""
    with pytest.raises(TranslationError) as caught:
        read_utf8(tmp_path / "none.po", file="none.po", error=TranslationError, what="the PO file")
    assert caught.value.problems[0].code == "file-not-readable" and caught.value.problems[0].message.startswith("cannot read the PO file")


@pytest.mark.parametrize(("check", "name", "error"), [(check_csv, "services.csv", ServicesError), (check_po, "nl.po", TranslationError)])
def test_both_tools_report_the_position_of_a_bad_byte(tmp_path: Path, check, name: str, error: type[InvictusError]) -> None:
    """The services spreadsheet and the PO import read through the one helper: same code, same position."""
    path = tmp_path / name
    path.write_bytes(b"first line\nsecond \xff line\n")
    with pytest.raises(error) as caught:
        check(SHIPPED, path)
    [problem] = caught.value.problems
    assert (problem.code, problem.location.line, problem.location.column) == ("encoding", 2, 8)
