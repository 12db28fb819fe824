"""The API a host case system uses: questionnaire export, answers schema, registry, schemas, plugin opt-in."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import referencing
from hypothesis import given, settings
from hypothesis import strategies as st

from invictus_rules import Case, Registry, RulesetNotFoundError, load_ruleset
from invictus_rules.load import list_countries, list_versions
from invictus_rules.schemas import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [f"{cc}@{v.version}" for cc in list_countries() for v in list_versions(cc) if v.status == "published"]


def _validator(name: str) -> jsonschema.protocols.Validator:
    resources = [(schema["$id"], referencing.Resource.from_contents(schema)) for schema in (SCHEMAS[n]() for n in SCHEMAS) if "$id" in schema]
    registry: referencing.Registry = referencing.Registry().with_resources(resources)
    schema = SCHEMAS[name]()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=registry)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_files_match_the_code(name: str) -> None:
    """Every published schema is committed under schema/ exactly as the code generates it."""
    committed = (ROOT / "schema" / f"{name}.schema.json").read_text(encoding="utf-8")
    generated = json.dumps(SCHEMAS[name](), ensure_ascii=False, indent=2) + "\n"
    assert committed == generated, f"run: invictus-rules schema {name} > schema/{name}.schema.json"


@pytest.mark.parametrize("reference", SHIPPED)
def test_questionnaire_export_is_valid_and_complete(reference: str) -> None:
    """The export validates against its schema and holds every question in every language, in asking order."""
    ruleset = load_ruleset(reference)
    document = ruleset.questionnaire()
    _validator("questionnaire").validate(document)
    assert [q["id"] for q in document["questions"]] == list(ruleset.compiled.ask_order)
    assert document["ruleset"]["sha256"] == ruleset.sha256
    for question in document["questions"]:
        assert set(question["text"]) == set(document["languages"]), question["id"]
        spec = next(q for q in ruleset.questions if q.id == question["id"])
        if spec.ask_if is not None:
            assert question["ask_if"]["tree"], question["id"]
        if spec.type == "text":
            assert question["max_length"] >= 1


def _tree_truth(tree: dict, answers: dict) -> bool | None:
    """A tiny reference evaluator of the documented tree semantics, for answered boolean/choice questions."""
    if "const" in tree:
        return tree["const"]
    if "question" in tree:
        return answers.get(tree["question"])
    if "list" in tree:
        return [_tree_truth(item, answers) for item in tree["list"]]  # type: ignore[return-value]
    op, args = tree.get("op"), [_tree_truth(a, answers) for a in tree["args"]]
    if op == "not":
        return None if args[0] is None else not args[0]
    if op in ("and", "or"):
        if op == "and" and any(a is False for a in args):
            return False
        if op == "or" and any(a is True for a in args):
            return True
        return None if any(a is None for a in args) else op == "and"
    if any(a is None for a in args):
        return None
    left, right = args
    return {"==": left == right, "!=": left != right, "in": left in right, "not in": left not in right}[op]  # type: ignore[operator]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_ask_if_trees_agree_with_the_engine(data: st.DataObject) -> None:
    """An ask_if tree, evaluated as documented, asks a question exactly when the engine does."""
    ruleset = load_ruleset("nl@2026.1")
    document = ruleset.questionnaire()
    questions = {q.id: q for q in ruleset.questions}
    answers: dict[str, object] = {}
    for question in ruleset.questions:
        if question.type == "boolean":
            answers[question.id] = data.draw(st.booleans(), label=question.id)
        elif question.type == "single_choice":
            answers[question.id] = data.draw(st.sampled_from([o.value for o in question.options or ()]), label=question.id)
    for entry in document["questions"]:
        if entry["ask_if"] is None:
            continue
        tree = entry["ask_if"]["tree"]
        names = {part.split('"')[0] for part in json.dumps(tree).split('"question": "')[1:]}
        if not all(name in answers and questions[name].ask_if is None for name in names):
            continue  # only questions gated by always-asked boolean/choice answers are compared here
        expected = _tree_truth(tree, answers)
        without_it = {k: v for k, v in answers.items() if k != entry["id"]}
        asked = entry["id"] in {q.id for q in ruleset.next_questions(without_it, as_of="2026-03-01")}
        assert asked == bool(expected), entry["id"]


@pytest.mark.parametrize("case_file", sorted((ROOT / "examples").glob("*/*.json")))
def test_example_cases_match_the_answers_schema(case_file: Path) -> None:
    """The answers of every example case validate against the answers schema of the version they are assessed with."""
    case = json.loads(case_file.read_text(encoding="utf-8"))
    _validator("case").validate(case)
    ruleset = load_ruleset(case_file.parent.name, as_of=case.get("as_of"))
    schema = ruleset.answers_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(case["answers"])) == []


def test_answers_schema_rejects_what_the_engine_rejects() -> None:
    """Wrong types, options out of the list, unknown keys and numbers out of bounds fail the schema too."""
    ruleset = load_ruleset("nl@2026.1")
    validator = jsonschema.Draft202012Validator(ruleset.answers_schema())
    for bad in ({"safe_to_talk": "yes"}, {"crime_type": "arson"}, {"no_such_question": True}, {"victim_age": 500}, {"safe_contact_channels": ["phone", "phone"]}):
        assert list(validator.iter_errors(bad)), bad
    assert list(validator.iter_errors({"safe_to_talk": {"status": "declined"}, "crime_type": None})) == []


def test_cli_questions_json_is_the_questionnaire_export(cli) -> None:
    """`questions --format json` prints the versioned export, and with a case only the questions still to ask."""
    full = json.loads(cli("questions", "nl@2026.1", "--format", "json").out)
    assert full == load_ruleset("nl@2026.1").questionnaire()
    partial = json.loads(cli("questions", "nl@2026.1", str(ROOT / "examples" / "nl" / "partial-case.json"), "--format", "json").out)
    assert partial["format"] == full["format"]
    assert 0 < len(partial["questions"]) < len(full["questions"])


def test_cli_schema_answers(cli) -> None:
    """`schema --answers cc@version` prints that version's answers schema."""
    printed = json.loads(cli("schema", "--answers", "pt@2025.2").out)
    assert printed == load_ruleset("pt@2025.2").answers_schema()


def test_registry_lists_without_compiling_and_caches_compiled_versions() -> None:
    """Versions come from metadata; get() compiles a version once and picks versions by date."""
    registry = Registry()
    assert registry.countries() == list_countries()
    assert [v.version for v in registry.versions("nl")] == [v.version for v in list_versions("nl")]
    first = registry.get("nl", as_of="2025-06-01")
    assert first.version == "2025.1"
    assert registry.get("nl", as_of=dt.date(2025, 7, 1)) is first
    assert registry.get("nl", version="2026.1").version == "2026.1"
    assert registry.in_force("nl", "2026-02-01").version == "2026.1"


@pytest.mark.parametrize("country", ["xx", "../nl", "nl/..", "NL", "/etc"])
def test_registry_rejects_unknown_countries_without_touching_paths(country: str) -> None:
    """Anything but a known country code is an unknown-country error, never a path to read."""
    with pytest.raises(RulesetNotFoundError) as caught:
        Registry().get(country)
    assert caught.value.problems[0].code == "unknown-country"


def test_registry_sees_a_new_version_on_disk(tmp_path: Path) -> None:
    """A version added to the folder is listed and served without restarting."""
    (tmp_path / "nl").mkdir()
    (tmp_path / "manifest.json").write_bytes((ROOT / "rulesets" / "manifest.json").read_bytes())  # published files are served only when it vouches
    (tmp_path / "nl" / "2025.1.yaml").write_bytes((ROOT / "rulesets" / "nl" / "2025.1.yaml").read_bytes())
    registry = Registry(tmp_path)
    assert [v.version for v in registry.versions("nl")] == ["2025.1"]
    (tmp_path / "nl" / "2026.1.yaml").write_bytes((ROOT / "rulesets" / "nl" / "2026.1.yaml").read_bytes())
    os.utime(tmp_path / "nl", ns=(0, 1))  # a folder change, whatever the clock's resolution
    assert [v.version for v in registry.versions("nl")] == ["2025.1", "2026.1"]
    assert registry.get("nl", as_of="2026-06-01").version == "2026.1"


def _host_run(host: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=host,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_plugin_leaves_a_host_projects_tests_alone(tmp_path: Path) -> None:
    """With invictus-rules installed, a host project with ordinary YAML files runs exactly its own tests."""
    host = tmp_path / "host"
    (host / "tests").mkdir(parents=True)
    (host / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (host / "docker-compose.yaml").write_text("services:\n  db:\n    image: postgres\n", encoding="utf-8")
    (host / "tests" / "config.yaml").write_text("cases: [1, 2]\nruleset: nope\n", encoding="utf-8")
    (host / "tests" / "test_host.py").write_text("def test_host():\n    assert True\n", encoding="utf-8")
    run = _host_run(host)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout and "failed" not in run.stdout and "error" not in run.stdout.lower()


def test_plugin_collects_files_that_declare_themselves(tmp_path: Path) -> None:
    """A YAML file with `format: invictus-rules/test/v1` is collected and run, wherever it is."""
    host = tmp_path / "host"
    host.mkdir()
    (host / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (host / "nl_checks.yaml").write_text(
        "format: invictus-rules/test/v1\nruleset: nl@2026.1\nas_of: 2026-03-01\ncases:\n"
        "  - name: strangulation makes the risk high\n    answers: {safe_to_talk: true, in_immediate_danger: false, crime_type: domestic_violence, strangulation: true}\n"
        "    expect: {levels: {dv_risk: high}}\n",
        encoding="utf-8",
    )
    run = _host_run(host)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout


ACUTE = {"safe_to_talk": True, "in_immediate_danger": False, "safe_contact_channels": ["phone", "in_person"], "crime_type": "sexual_violence", "crime_date": "2026-12-08"}


@pytest.mark.parametrize("workers", [1, 2])
def test_batch_takes_each_cases_own_date(workers: int) -> None:
    """A Case's own as_of is used for that case (an archive of cases made on different days), on one worker or several."""
    ruleset = load_ruleset("nl@2026.2")
    cases = [Case(ACUTE, as_of=dt.date(2026, 12, 9)), Case(ACUTE, as_of=dt.date(2027, 3, 1)), ACUTE]
    results = list(ruleset.evaluate_batch(cases, as_of="2026-12-10", output="assessment", workers=workers))
    priorities = [next(r.priority for r in result.referrals if r.service == "centrum_seksueel_geweld") for result in results]
    assert priorities == ["immediate", "standard", "immediate"]
    assert [result.as_of for result in results] == [dt.date(2026, 12, 9), dt.date(2027, 3, 1), dt.date(2026, 12, 10)]


def test_evaluate_many_yields_errors_like_batch() -> None:
    """evaluate_many yields the AnswersError of an invalid case and goes on, as evaluate_batch does."""
    ruleset = load_ruleset("nl@2026.2")
    results = list(ruleset.evaluate_many([ACUTE, {"safe_to_talk": "no"}, Case(ACUTE, language="en")], as_of="2026-12-10"))
    assert [type(r).__name__ for r in results] == ["Assessment", "AnswersError", "Assessment"]
    assert results[2].language == "en"


def test_batch_output_is_checked() -> None:
    """An output the batch does not know is a ValueError, not silently an assessment."""
    with pytest.raises(ValueError, match="output must be one of"):
        load_ruleset("nl@2026.2").evaluate_batch([ACUTE], output="xml")  # type: ignore[call-overload]
