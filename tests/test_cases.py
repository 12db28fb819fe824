"""Case files as the CLI reads them: strict JSON, a fixed shape, every problem named without the case's values."""

from __future__ import annotations

import json

import pytest

from invictus_rules.cases import MAX_CASE_BYTES

from .conftest import FIXTURES

MINI = str(FIXTURES / "mini.yaml")
SECRET = "Zx9-secret-marker"


def _problems(result) -> list[dict]:
    assert result.code == 1, result.err
    return json.loads(result.out)["problems"]


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (b'{"answers": {"age": 3, "age": 4}}', "case-json", 'the key "age" appears twice'),
        (b'{"answers": {"' + SECRET.encode() + b' x": 1, "' + SECRET.encode() + b' x": 2}}', "case-json", "a key appears twice in the same object"),
        (b'{"answers": {"age": NaN}}', "case-json", "NaN is not allowed"),
        (b'{"answers": {"age": 1e999}}', "case-json", "a number is too large"),
        (b'{"answers": {"age": 3,}}', "case-json", "the case is not valid JSON: "),
        (b'{"answers": {"notes": "\xff' + SECRET.encode() + b'"}}', "case-encoding", "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "case-json", "a value cannot be read"),
        (b'["answers"]', "case-shape", 'a case must be a JSON object with an "answers" object'),
        (b'{"case_id": "c-1"}', "case-shape", 'a case must be a JSON object with an "answers" object'),
        (b'{"answers": {}, "anwsers": {}}', "case-key", '"anwsers" is not a key of a case'),
        (b'{"answers": {}, "' + SECRET.encode() + b' !": 1}', "case-key", "it is not shown: it may hold the victim's data"),
        (b'{"answers": {}, "as_of": "2026-02-30"}', "case-date", "as_of must be a date written YYYY-MM-DD"),
        (b'{"answers": {}, "as_of": 20260301}', "case-date", "as_of must be a date written YYYY-MM-DD"),
        (b'{"answers": {}, "case_id": 17}', "case-key", "case_id must be text"),
        (b'{"answers": {}, "language": ["en"]}', "case-key", "language must be text"),
        (b'{"answers": ["age", 3]}', "answers-not-object", "answers must be an object keyed by question id"),
    ],
)
def test_a_bad_case_file_is_refused_with_its_own_code(cli, tmp_path, data, code, message):
    """Each way a case file can be wrong has its own code and message, with the file named and no value shown."""
    path = tmp_path / "case.json"
    path.write_bytes(data)
    problems = _problems(cli("assess", MINI, str(path), "--as-of", "2026-02-01", "--format", "json"))
    assert [p["code"] for p in problems][:1] == [code]
    assert message in problems[0]["message"]
    assert problems[0]["file"] == str(path)
    assert SECRET not in json.dumps(problems)


def test_a_json_syntax_error_has_line_and_column(cli, tmp_path):
    """A syntax error points at its line and column, like a compiler."""
    path = tmp_path / "case.json"
    path.write_text('{\n  "answers": {\n    "age": 3,\n  }\n}\n', encoding="utf-8")
    result = cli("assess", MINI, str(path), "--as-of", "2026-02-01")
    assert result.code == 1
    assert f"{path}:4:3: error[case-json]" in result.err


def test_several_shape_problems_come_together(cli, tmp_path):
    """Unknown keys, a bad date and a non-text id are all reported at once."""
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"answers": {}, "zzz": 1, "as_of": "soon", "case_id": 3}), encoding="utf-8")
    problems = _problems(cli("assess", MINI, str(path), "--format", "json"))
    assert sorted((p["code"], p["path"]) for p in problems) == [("case-date", "$.as_of"), ("case-key", "$.case_id"), ("case-key", "$.zzz")]


def test_a_case_larger_than_the_limit_is_refused_unread(cli, tmp_path):
    """A case over the size limit is refused before it is parsed, from a file or from stdin."""
    path = tmp_path / "big.json"
    data = b'{"answers": {}, "pad": "' + b"x" * MAX_CASE_BYTES + b'"}'
    path.write_bytes(data)
    assert [p["code"] for p in _problems(cli("assess", MINI, str(path), "--format", "json"))] == ["case-too-large"]
    assert [p["code"] for p in _problems(cli("assess", MINI, "-", "--format", "json", stdin=data))] == ["case-too-large"]


def test_a_missing_case_file_is_an_error_not_a_traceback(cli, tmp_path):
    """A case path that cannot be read is a case-not-readable error naming the file."""
    missing = tmp_path / "nope.json"
    problems = _problems(cli("assess", MINI, str(missing), "--format", "json"))
    assert [p["code"] for p in problems] == ["case-not-readable"]
    assert "cannot read the case file" in problems[0]["message"]


def test_a_case_from_stdin_with_a_byte_order_mark(cli):
    """A case piped in as UTF-8 with a byte order mark is read; its own as_of is used."""
    case = {"as_of": "2026-02-01", "answers": {"safe_to_talk": True, "crime_type": "robbery"}}
    result = cli("assess", MINI, "-", "--format", "json", stdin=b"\xef\xbb\xbf" + json.dumps(case).encode())
    assert result.code == 0, result.err
    assert json.loads(result.out)["as_of"] == "2026-02-01"
