"""Loading rulesets: every broken fixture gives exactly its stored message; files, countries, dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from invictus_rules import RulesetError, RulesetNotFoundError, load_ruleset, load_ruleset_text
from invictus_rules.compile import compile_source
from invictus_rules.errors import format_problems
from invictus_rules.load import find_ruleset

from .conftest import FIXTURES

BAD = Path(__file__).resolve().parent / "bad_rulesets"
BAD_FILES = sorted(BAD.glob("*.yaml"))


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_broken_ruleset_gives_its_stored_message(path: Path):
    """Each tiny broken ruleset fails with exactly the message stored beside it."""
    with pytest.raises(RulesetError) as info:
        compile_source(path.read_bytes(), f"tests/bad_rulesets/{path.name}")
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").rstrip("\n")
    assert format_problems(info.value.problems) == expected


def test_all_problems_are_reported_at_once():
    """A duplicate key, an unknown question, a type mismatch and a template error come together."""
    with pytest.raises(RulesetError) as info:
        compile_source((BAD / "several_problems.yaml").read_bytes(), "several.yaml")
    found = {(p.code, p.location.line) for p in info.value.problems}
    assert {code for code, _ in found} == {"duplicate-key", "unknown-question", "type-mismatch", "template-syntax"}
    assert all(line > 0 for _, line in found)


def test_option_called_no_is_text(mini):
    """An option spelled no (unquoted) stays the text 'no'."""
    text = (FIXTURES / "mini.yaml").read_text().replace('- value: "no"', "- value: no")
    ruleset = load_ruleset_text(text)
    options = [o.value for o in ruleset.questions[1].options]
    assert options == ["domestic_violence", "robbery", "no"]
    assert ruleset.evaluate({"crime_type": "no"}, as_of="2026-02-01").referrals


def test_digest_ignores_layout_and_comments(mini):
    """The content hash is of the canonical form: comments and layout do not change it."""
    text = (FIXTURES / "mini.yaml").read_text()
    reformatted = "# a new comment\n" + text.replace("title: {en: Mini ruleset, nl: Mini-regelset}", "title:\n    en: Mini ruleset\n    nl: Mini-regelset")
    assert load_ruleset_text(reformatted).sha256 == mini.sha256
    assert load_ruleset_text(text.replace("points: 5", "points: 6")).sha256 != mini.sha256


def test_loading_by_country_picks_the_version_in_force(tmp_path: Path):
    """A country code picks the published version in force on the date; drafts are never picked."""
    base = (FIXTURES / "mini.yaml").read_text().replace("status: draft", "status: published")
    folder = tmp_path / "xx"
    folder.mkdir()
    (folder / "2025.1.yaml").write_text(
        base.replace('version: "2026.1"', 'version: "2025.1"').replace("effective_from: 2026-01-01", "effective_from: 2025-01-01\n  effective_until: 2025-12-31")
    )
    (folder / "2026.1.yaml").write_text(base)
    (folder / "2026.2.yaml").write_text(base.replace('version: "2026.1"', 'version: "2026.2"').replace("status: published", "status: draft"))
    from invictus_rules.load import read_document
    from invictus_rules.tools.manifest import record

    for name in ("2025.1.yaml", "2026.1.yaml"):
        record(folder / name, read_document((folder / name).read_bytes(), name)[2], tmp_path)
    assert load_ruleset("xx", as_of="2025-06-01", rulesets_dir=tmp_path).version == "2025.1"
    assert load_ruleset("xx", as_of=dt.date(2026, 6, 1), rulesets_dir=tmp_path).version == "2026.1"
    assert load_ruleset("xx@2026.2", rulesets_dir=tmp_path).version == "2026.2"
    with pytest.raises(RulesetNotFoundError) as info:
        load_ruleset("xx", as_of="2024-01-01", rulesets_dir=tmp_path)
    assert info.value.problems[0].code == "no-version-in-force"
    with pytest.raises(RulesetNotFoundError) as info:
        find_ruleset("yy", as_of=dt.date(2026, 1, 1), rulesets_dir=tmp_path)
    assert info.value.problems[0].code == "unknown-country"
    with pytest.raises(RulesetNotFoundError):
        load_ruleset("xx@2030.1", rulesets_dir=tmp_path)


def test_missing_file_is_a_clear_error(tmp_path: Path):
    """A path that does not exist is an error naming the file, not a traceback."""
    with pytest.raises(RulesetNotFoundError) as info:
        load_ruleset(tmp_path / "nope.yaml")
    assert info.value.problems[0].code == "file-not-readable"


@pytest.mark.parametrize(
    "old, new, hint",
    [
        ("    required: true\n    text: {en: Is it", "    required: yes\n    text: {en: Is it", "write true or false"),
        ("points: 5", 'points: "5"', "write a number without quotes"),
        ("        critical: true\n", "        critical: on\n", "write true or false"),
    ],
)
def test_yes_on_and_quoted_numbers_are_not_coerced(old, new, hint):
    """yes/on stay text and a quoted number stays text: each is an error with a fix, not a guess."""
    text = (FIXTURES / "mini.yaml").read_text()
    assert old in text
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text.replace(old, new, 1))
    assert info.value.problems[0].hint.startswith(hint)


# codes raised when a ruleset file is found, listed or checked against the manifest: they are about the
# rulesets folder, not a ruleset's content, and have their own tests (test_loading, test_publication,
# test_signing); and two limits whose fixture would be megabytes (test_adversarial covers them)
NOT_ABOUT_CONTENT = {
    "file-not-readable", "unknown-country", "unknown-version", "no-version-in-force", "draft-skipped",
    "wrong-country-folder", "file-name-mismatch", "duplicate-version", "not-in-manifest", "published-changed",
    "bad-signature", "unknown-signing-key", "manifest-unreadable", "not-checked",
    "file-too-large", "too-many-nodes", "invalid-reference",
}
LOADER_MODULES = ["_yaml.py", "load.py", "compile.py", "templates.py", "expr/check.py", "expr/parser.py"]
_CODE = r'"([a-z]+(?:-[a-z]+)+)"'


def loader_error_codes() -> set[str]:
    """Every problem code the loader can raise, found in its source: a code literal on its own line
    inside a Problem(...) call, or the first string argument of Problem/problem/fail/TemplateIssue."""
    import re

    source_dir = Path(__file__).resolve().parents[1] / "src" / "invictus_rules"
    codes: set[str] = set()
    for name in LOADER_MODULES:
        text = (source_dir / name).read_text(encoding="utf-8")
        codes.update(re.findall(r"^\s+" + _CODE + r",\s*$", text, re.M))
        codes.update(re.findall(r"\b(?:Problem|TemplateIssue|fail)\(\s*" + _CODE, text))
        codes.update(re.findall(r"\bproblem\([^\n]*?, " + _CODE + r", ", text))
    return codes - NOT_ABOUT_CONTENT


def test_every_loader_error_code_has_a_golden_file():
    """Each problem code a ruleset's content can cause has a broken ruleset in tests/bad_rulesets whose
    stored message (.expected, checked above) shows it."""
    shown = {code for path in BAD.glob("*.expected") for code in __import__("re").findall(r"error\[([a-z-]+)\]", path.read_text(encoding="utf-8"))}
    codes = loader_error_codes()
    assert len(codes) > 40, "the scan of the loader's source found too few codes: check loader_error_codes"
    assert sorted(codes - shown) == []


@pytest.mark.parametrize("reference", ["nl\n", "nl@\u0662\u0660\u0662\u0666.\u0661"])
def test_a_reference_with_a_newline_or_other_digits_is_refused(reference):
    """Only ASCII 'cc' or 'cc@YYYY.N', written exactly, names a country's ruleset (one rule, in refs)."""
    with pytest.raises(RulesetNotFoundError) as raised:
        load_ruleset(reference)
    assert [p.code for p in raised.value.problems] == ["invalid-reference"]
