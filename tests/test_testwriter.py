"""`invictus-rules test add`: a case with its current results written as a YAML test case that passes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from invictus_rules._yaml import read_yaml
from invictus_rules.cli import main
from invictus_rules.tools.testwriter import render_new_file

from .test_workbench import STRANGULATION_CASE, make_folder


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    folder, draft = make_folder(tmp_path)
    case = tmp_path / "case.json"
    answers = dict(STRANGULATION_CASE, children_in_household={"status": "declined"})
    case.write_text(json.dumps({"as_of": "2026-12-07", "language": "en", "answers": answers}), encoding="utf-8")
    return folder, draft, case


def test_a_new_test_pinned_to_the_draft(setup: tuple[Path, Path, Path]) -> None:
    """'test add DRAFT CASE' writes a file in the country's tests folder, pinned to the draft, that passes."""
    folder, draft, case = setup
    code, out, err = run("test", "add", str(draft), str(case), "--name", "Strangulation, children declined")
    assert (code, err) == (0, ""), err
    written = folder / "nl" / "tests" / "2026_3_strangulation_children_declined.yaml"
    assert "pinned to nl@2026.3" in out and written.name in out
    text = written.read_text(encoding="utf-8")
    assert "ruleset: nl@2026.3" in text and text.startswith("# Written by 'invictus-rules test add' from case.json")
    raw, _ = read_yaml(text, "t.yaml")
    expect = raw["cases"][0]["expect"]
    assert raw["cases"][0]["answers"]["children_in_household"] == {"status": "declined"}
    assert expect["levels"] == {"dv_risk": "high", "vulnerability": "high"}
    assert expect["referrals"] == ["veilig_thuis", "politie"] and expect["priorities"]["politie"] == "urgent"
    assert "slachtofferhulp" in expect["no_referrals"] and "cross_border" in expect["no_information"]
    assert expect["status"] == "in_progress" and expect["safety"] is False
    assert "exposed_children_to_kindertelefoon" in expect["undecidable"]
    assert run("test", str(written))[0] == 0


def test_a_country_reference_and_appending(setup: tuple[Path, Path, Path]) -> None:
    """With cc@version and --rulesets the same happens; --out on that file appends a second case, and both pass."""
    folder, _, case = setup
    assert run("test", "add", "nl@2026.2", str(case), "--rulesets", str(folder), "--name", "first")[0] == 0
    written = folder / "nl" / "tests" / "2026_2_first.yaml"
    code, out, _ = run("test", "add", "nl@2026.2", str(case), "--rulesets", str(folder), "--name", "second", "--out", str(written))
    assert code == 0 and out.startswith("added a case to")
    code, out, _ = run("test", str(written), "-v")
    assert code == 0 and "2 passed, 0 failed" in out


def test_appending_to_a_file_of_another_ruleset_is_refused(setup: tuple[Path, Path, Path]) -> None:
    """A test file that tests another version (or the version in force) is left as it was."""
    folder, draft, case = setup
    existing = folder / "nl" / "tests" / "dv_risk.yaml"
    before = existing.read_bytes()
    code, _, err = run("test", "add", str(draft), str(case), "--out", str(existing))
    assert code == 1 and "test-file-other-ruleset" in err
    assert existing.read_bytes() == before


def test_outside_a_country_folder_the_ruleset_is_named_by_path(setup: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """A test written elsewhere names the ruleset by a relative path, and runs."""
    _, draft, case = setup
    out_file = tmp_path / "elsewhere" / "mine.yaml"
    assert run("test", "add", str(draft), str(case), "--out", str(out_file))[0] == 0
    assert "ruleset: ../rulesets/nl/2026.3.yaml" in out_file.read_text(encoding="utf-8")
    assert run("test", str(out_file))[0] == 0


def test_invalid_answers_write_nothing_and_are_not_echoed(setup: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """Answers that do not fit the questionnaire are an error naming the question, never the value; no file appears."""
    folder, draft, _ = setup
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"as_of": "2026-12-07", "answers": {"crime_type": "SECRET-VALUE-42"}}), encoding="utf-8")
    before = sorted((folder / "nl" / "tests").iterdir())
    code, out, err = run("test", "add", str(draft), str(bad))
    assert code == 1 and "crime_type" in err and "SECRET-VALUE-42" not in out + err
    assert sorted((folder / "nl" / "tests").iterdir()) == before


def test_words_yaml_1_1_reads_as_booleans_stay_strings() -> None:
    """Answers such as "yes", "no" or "on" are quoted, so the test reads them back as the same text."""
    text = render_new_file("nl@2026.3", {"name": "n", "answers": {"a": "yes", "b": "no", "c": "on", "d": "2020-02-29", "e": "nl"}, "expect": {}})
    raw, _ = read_yaml(text, "t.yaml")
    assert raw["cases"][0]["answers"] == {"a": "yes", "b": "no", "c": "on", "d": "2020-02-29", "e": "nl"}


def test_running_tests_still_takes_paths(setup: tuple[Path, Path, Path]) -> None:
    """'test' without 'add' still runs the test files and folders it is given, and its help names 'test add'."""
    code, out, _ = run("test", "--help")
    assert code == 0 and "test add RULESET CASE.json" in " ".join(out.split())
    code, out, _ = run("test", str(setup[0] / "nl" / "tests" / "dv_risk.yaml"))
    assert code == 0 and ", 0 failed" in out


def test_shared_values_are_written_out_not_aliased() -> None:
    """A value used twice is written twice: the project's YAML reader refuses anchors and aliases."""
    shared = {"status": "declined"}
    text = render_new_file("nl@2026.3", {"name": "n", "answers": {"a": shared, "b": shared}, "expect": {}})
    assert "&" not in text and "*" not in text
    raw, _ = read_yaml(text, "t.yaml")
    assert raw["cases"][0]["answers"] == {"a": shared, "b": shared}
