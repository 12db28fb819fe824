"""The command line, as users run it: exit codes, formats, streams, help."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT

MINI = str(FIXTURES / "mini.yaml")
BAD = str(Path(__file__).resolve().parent / "bad_rulesets" / "several_problems.yaml")


def case(tmp_path: Path, answers: dict, **extra) -> str:
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"answers": answers, **extra}))
    return str(path)


def test_assess_text(cli, tmp_path):
    """assess prints scores, referrals and information as text."""
    result = cli("assess", MINI, case(tmp_path, {"safe_to_talk": True, "crime_type": "domestic_violence", "strangulation": True}, as_of="2026-02-01"))
    assert result.code == 0, result.err
    assert "[IMMEDIATE] Victim helpline (116 006)" in result.out
    assert "Domestic violence risk: High" in result.out


def test_assess_json_from_stdin_is_deterministic(cli):
    """CASE '-' reads standard input; JSON output is byte-identical across runs."""
    data = json.dumps({"answers": {"crime_type": "robbery"}}).encode()
    first = cli("assess", MINI, "-", "--format", "json", "--as-of", "2026-02-01", stdin=data)
    second = cli("assess", MINI, "-", "--format", "json", "--as-of", "2026-02-01", stdin=data)
    assert first.code == 0 and first.out == second.out
    assert json.loads(first.out)["ruleset"]["version"] == "2026.1"


def test_assess_invalid_answers_exit_1_without_values(cli):
    """Invalid answers: exit 1, every problem listed, no value echoed."""
    data = json.dumps({"answers": {"age": "Qq-private-17", "agee": 4}}).encode()
    result = cli("assess", MINI, "-", stdin=data)
    assert result.code == 1
    assert "$.answers.age: error[answer-type]" in result.err
    assert 'did you mean "age"?' in result.err
    assert "Qq-private-17" not in result.err + result.out


def test_assess_json_errors_are_machine_readable(cli):
    """With --format json, errors come as JSON on standard output."""
    result = cli("assess", MINI, "-", "--format", "json", stdin=b'{"answers": {"age": -1}}')
    assert result.code == 1
    payload = json.loads(result.out)
    assert payload["error"] == "invalid-answers"
    assert payload["problems"][0]["code"] == "answer-range"


@pytest.mark.parametrize("stdin", [b"", b"not json", b"[1, 2]", b'{"answers": 3}', b"\xff\xfe", b'{"answers": {}, "answers": {}}', b'{"answers": {"age": NaN}}'])
def test_bad_case_input_exit_1(cli, stdin):
    """Anything that is not a well-formed case gives exit 1 and a message."""
    result = cli("assess", MINI, "-", stdin=stdin)
    assert result.code == 1 and "error[" in result.err


def test_validate_reports_positions_and_exits_1(cli):
    """validate prints file:line:col: error[code] for every problem and exits 1."""
    result = cli("validate", BAD)
    assert result.code == 1
    assert ":42:5: error[duplicate-key]" in result.err
    assert ":102:11: error[unknown-question]" in result.err
    assert "4 errors in" in result.err


def test_validate_ok_and_json(cli):
    """A valid ruleset validates; JSON output lists each file."""
    result = cli("validate", MINI, "--format", "json")
    assert result.code == 0
    assert json.loads(result.out)["files"][0]["valid"] is True


def test_questions_full_and_partial(cli, tmp_path):
    """questions lists the questionnaire, or only what is still to ask."""
    full = cli("questions", MINI, "--language", "nl")
    assert full.code == 0 and "Kunt u nu veilig praten?" in full.out
    partial = cli("questions", MINI, case(tmp_path, {"safe_to_talk": True, "crime_type": "robbery"}), "--format", "json")
    assert [q["id"] for q in json.loads(partial.out)["questions"]] == ["age"]


def test_usage_errors_exit_2(cli):
    """Missing arguments and unknown commands are usage errors (exit 2)."""
    assert cli("assess").code == 2
    assert cli("frobnicate").code == 2
    assert cli("assess", MINI, "x.json", "--as-of", "yesterday").code == 2
    assert cli().code == 2


@pytest.mark.parametrize("command", ["assess", "questions", "validate", "schema"])
def test_help_on_every_command(cli, command):
    """Every command has --help."""
    result = cli(command, "--help")
    assert result.code == 0 and "usage: invictus-rules" in result.out


def test_unknown_country_exit_1(cli, tmp_path):
    """An unknown country code is an error with the list of countries."""
    result = cli("assess", "zz", case(tmp_path, {}))
    assert result.code == 1 and "error[unknown-country]" in result.err


def test_console_script_and_module_run(tmp_path):
    """The installed console script and python -m both work."""
    path = case(tmp_path, {"crime_type": "robbery"})
    script = shutil.which("invictus-rules") or str(Path(sys.executable).parent / "invictus-rules")
    for command in ([script], [sys.executable, "-m", "invictus_rules"]):
        done = subprocess.run([*command, "assess", MINI, path, "--as-of", "2026-02-01"], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        assert "Assessment with mini 2026.1" in done.stdout


def test_schema_matches_committed_file(cli):
    """The committed JSON Schema is what the code generates (regenerate with 'invictus-rules schema')."""
    committed = (ROOT / "schema" / "ruleset.schema.json").read_text(encoding="utf-8")
    assert cli("schema").out == committed, "run: invictus-rules schema > schema/ruleset.schema.json"


def test_schema_documents_every_field():
    """Every field of the format has a description and an example, for editors' hover help."""
    from invictus_rules import json_schema

    schema = json_schema()
    missing = []
    for name, definition in [("ruleset", schema), *schema["$defs"].items()]:
        for key, field in definition.get("properties", {}).items():
            if "description" not in field or "examples" not in field:
                missing.append(f"{name}.{key}")
    assert not missing


def test_schema_validates_shipped_rulesets_with_jsonschema():
    """The committed schema, used by an external validator, accepts every shipped ruleset."""
    import jsonschema

    from invictus_rules._yaml import read_yaml

    schema = json.loads((ROOT / "schema" / "ruleset.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((ROOT / "rulesets").glob("*/*.yaml")):
        data, _ = read_yaml(path.read_bytes(), str(path))
        data = json.loads(json.dumps(data, default=str))
        errors = list(validator.iter_errors(data))
        assert not errors, (path, errors[0].message)
