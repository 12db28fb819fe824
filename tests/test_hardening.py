"""Hostile inputs found by an attacker's review: each is bounded, each failure is an InvictusError
with a position or a path, and no error repeats a value from the input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from invictus_rules import AnswersError, RulesetError, RulesetNotFoundError, load_ruleset, load_ruleset_text
from invictus_rules.fastpath import _no_fast_path
from invictus_rules.tools.lint import lint_file

from .conftest import FIXTURES, ROOT

SECRET = "Secret Victim Name"


def _with_text_question(template: str) -> str:
    """mini.yaml with a free-text question ``note`` and ``template`` as a referral's English reason."""
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
    question = "  - id: note\n    type: text\n    max_length: 100000\n    text: {en: Note, nl: Notitie}\n"
    text = text.replace("questions:\n", "questions:\n" + question, 1)
    old = 'reason: {en: "Everyone can get support: call {{ services.helpline.phone }}."'
    return text.replace(old, "reason: {en: '" + template.replace("'", "''") + "'")


def _not_rendered(template: str, note: str) -> list[str]:
    assessment = load_ruleset_text(_with_text_question(template)).evaluate({"note": note}, as_of="2026-02-01", language="en")
    dumped = assessment.model_dump_json()
    assert note[:40] not in dumped or len(note) < 40
    return [w.message for w in assessment.warnings if w.code == "text-not-rendered"]


# -- 1. rendering is bounded in work, not only in iterations -----------------------------------------

QUADRATIC = "{% for c in answers.note %}{% if (answers.note|sort|first) == 'z' %}z{% endif %}{% endfor %}"


@pytest.mark.parametrize(
    "template",
    [
        QUADRATIC,
        "{% for c in answers.note %}{% if c in answers.note %}z{% endif %}{% endfor %}",
        "{% for c in answers.note %}{{ answers.note|unique|list|length }}{% endfor %}",
    ],
    ids=["sort-in-loop", "in-in-loop", "unique-in-loop"],
)
def test_a_text_whose_cost_grows_with_an_answer_stops_at_its_work_budget(template):
    """A loop that sorts a 100,000-character answer at every turn stops after the work budget, in well
    under a second, with a text-not-rendered warning (it took minutes before)."""
    start = time.perf_counter()
    [message] = _not_rendered(template, "x" * 100_000)
    assert time.perf_counter() - start < 5
    assert "steps" in message


def test_the_work_budget_leaves_ordinary_texts_alone():
    """A text that prints a long answer once, its length and a service's phone still renders."""
    assessment = load_ruleset_text(_with_text_question("{{ answers.note|length }} {{ services.helpline.phone }}")).evaluate(
        {"note": "x" * 100_000}, as_of="2026-02-01", language="en"
    )
    assert "100000 116 006" in [r.text for referral in assessment.referrals for r in referral.reasons]


def test_lint_names_texts_whose_cost_grows_with_an_answer(tmp_path):
    """lint's template-cost check points at the text that loops over a free-text answer."""
    path = tmp_path / "growth.yaml"
    path.write_text(_with_text_question(QUADRATIC), encoding="utf-8")
    [problem] = [p for p in lint_file(path) if p.code == "template-cost"]
    assert problem.severity == "warning" and "note" in problem.message
    assert problem.location.line > 0 and problem.location.column > 0
    clean = tmp_path / "clean.yaml"
    clean.write_text(_with_text_question("{{ answers.note|length }}"), encoding="utf-8")
    assert not [p for p in lint_file(clean) if p.code == "template-cost"]


# -- 7. texts print values, never internal objects -----------------------------------------------


@pytest.mark.parametrize(
    "template",
    ["{{ answers.note.upper }}", "{{ as_of.replace }}", "{{ services.helpline }}", "{{ answers }}", "{{ 'a' ~ scores }}", "{{ answers|string }}", "{{ services.helpline.phone.split }}"],
)
def test_printing_an_internal_object_is_refused_at_load(template):
    """A method, a record of fields or the answers mapping in a text is a positioned template-unsafe error."""
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(_with_text_question(template), file="hostile.yaml")
    [problem] = info.value.problems
    assert problem.code == "template-unsafe" and problem.location.line > 0 and problem.location.column > 0


@pytest.mark.parametrize(
    "template",
    [
        "{% for s in [services.helpline] %}{{ s }}{% endfor %}",
        "{% for s in [answers] %}{{ s }}{% endfor %}",
        "{% for s in [answers.note] %}{{ s.upper }}{% endfor %}",
        "{% for s in [answers] %}{{ 'a' ~ s }}{% endfor %}",
        "{{ [answers]|string }}",
        "{{ answers.age|default(answers) }}",
    ],
)
def test_printing_an_internal_object_another_way_is_a_warning(template):
    """Where the template hides it from the load-time check, rendering refuses: no repr, no address,
    no answer in the output."""
    [message] = _not_rendered(template, SECRET)
    assert "not a value" in message or "method" in message
    assert "0x" not in message and SECRET not in message


# -- 2 and 8. numbers in conditions: bounded, ASCII digits only -------------------------------------


def _with_condition(condition: str) -> str:
    return (FIXTURES / "mini.yaml").read_text(encoding="utf-8").replace("when: age < 18", "when: " + condition)


@pytest.mark.parametrize("number", ["1" + "0" * 400, "1" + "0" * 30, "1" + "0" * 400 + ".5", "0." + "1" * 30])
def test_a_huge_number_in_a_condition_is_a_positioned_error(number):
    """A number of more than 30 digits in a condition is number-too-large at its line and column,
    as in the YAML itself, instead of an OverflowError in every assessment and lint run."""
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(_with_condition(f"age * {number} > 5"), file="hostile.yaml")
    [problem] = info.value.problems
    assert (problem.code, problem.location.line, problem.location.column) == ("number-too-large", 108, 17)


def test_the_largest_numbers_allowed_in_conditions_evaluate_and_lint(tmp_path):
    """Products of many 30-digit numbers evaluate and lint without OverflowError."""
    big = " * ".join(["999999999999999999999999999999"] * 12)
    text = _with_condition(f"age * {big} > 1.5 and age / 999999999999999999999999999999 < 3")
    assert load_ruleset_text(text).evaluate({"age": 120}, as_of="2026-01-01").information
    path = tmp_path / "big.yaml"
    path.write_text(text, encoding="utf-8")
    problems = lint_file(path)  # runs the solver over the huge products: no OverflowError
    assert not [p for p in problems if p.code in ("condition-syntax", "number-too-large") or "Overflow" in p.message]


@pytest.mark.parametrize("condition, column", [("age < 1\u09ea", 18), ("age < \u0661\u0668", 17), ("age < 2026-0\u0661-01", 23)])
def test_digits_of_other_scripts_are_refused(condition, column):
    """'age < 1৪' was read as 'age < 14': only the ASCII digits 0-9 make numbers and dates."""
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(_with_condition(condition), file="hostile.yaml")
    [problem] = info.value.problems
    assert (problem.code, problem.location.line, problem.location.column) == ("condition-syntax", 108, column)
    assert "digit" in problem.message


# -- 3. batches: a dead worker stops the run, an unpicklable case gives its own error ---------------

KILL_A_WORKER = r"""
import multiprocessing, os, signal, sys
from invictus_rules import BatchError, load_ruleset
case = {"safe_to_talk": True, "crime_type": "robbery", "age": 30}
results = load_ruleset(sys.argv[1]).evaluate_batch(iter([case] * 20_000), as_of="2026-01-01", output="decisions", workers=2)
next(results)
os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)
try:
    for _ in results:
        pass
except BatchError as error:
    print("BatchError", error.problems[0].code)
else:
    print("finished")
"""


def test_a_killed_worker_stops_the_batch_with_a_clear_error():
    """SIGKILL of a worker (as the OOM killer would) ends the run with a BatchError within seconds;
    it used to wait forever for the lost chunk."""
    done = subprocess.run([sys.executable, "-c", KILL_A_WORKER, str(FIXTURES / "mini.yaml")], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout.split() == ["BatchError", "worker-died"], done.stdout


class _Unpicklable(dict):  # type: ignore[type-arg]
    """Answers carrying something no process boundary can carry."""

    def __reduce__(self):
        raise TypeError("cannot pickle this")


def test_unpicklable_answers_give_the_same_error_with_several_workers(mini):
    """An answer that cannot be pickled gives, with two workers, the same AnswersError as with one."""
    cases = [{"age": 30}, _Unpicklable(age=lambda: 1), {"age": 40}, {"age": object()}]
    one = list(mini.evaluate_batch(cases, as_of="2026-01-01", output="decisions", workers=1))
    two = list(mini.evaluate_batch(cases, as_of="2026-01-01", output="decisions", workers=2))
    assert [type(r) for r in one] == [type(r) for r in two] == [dict, AnswersError, dict, AnswersError]
    assert [r.to_dict() if isinstance(r, AnswersError) else r for r in one] == [r.to_dict() if isinstance(r, AnswersError) else r for r in two]


# -- 4. an answers file where a ruleset or a test file belongs: nothing of it is quoted ---------------

ANSWERS_FILE = '{\n  "full_name": "' + SECRET + '",\n  "date_of_birth": "1990-02-03",\n  "note": "he hit me\\tat home"\n}\n'


@pytest.mark.parametrize(
    "argv",
    [["validate", "{answers}"], ["lint", "{answers}"], ["assess", "{answers}", "{case}"], ["test", "{answers}"], ["test", "{case}"]],
    ids=["validate", "lint", "assess", "test-answers", "test-case"],
)
def test_an_answers_file_in_the_wrong_place_is_never_quoted(cli, tmp_path, argv):
    """Answers (not wrapped in {"answers": ...}) given as a ruleset or a test file fail at 1:1 with
    not-a-ruleset or not-a-test-file, and no line, key or value of the file is shown."""
    answers = tmp_path / "answers.json"
    answers.write_text(ANSWERS_FILE, encoding="utf-8")
    case = tmp_path / "case.json"
    case.write_text('{"answers": {"full_name": "' + SECRET + '"}}', encoding="utf-8")
    result = cli(*[a.format(answers=answers, case=case) for a in argv])
    output = result.out + result.err
    assert result.code == 1 and ("error[not-a-ruleset]" in output or "error[not-a-test-file]" in output), output
    assert ":1:1: error[" in output
    for leak in (SECRET, "1990", "full_name", "date_of_birth", "hit me"):
        assert leak not in output
    assert "Traceback" not in output


# -- 5. verify: a hostile rulesets folder or manifest ------------------------------------------------


def _rulesets(tmp_path: Path, manifest: bytes | None = None) -> Path:
    """A rulesets folder with one published Dutch version and its manifest (or ``manifest`` instead)."""
    folder = tmp_path / "rulesets"
    (folder / "nl").mkdir(parents=True)
    shutil.copy(ROOT / "rulesets" / "nl" / "2026.1.yaml", folder / "nl" / "2026.1.yaml")
    entry = json.loads((ROOT / "rulesets" / "manifest.json").read_text(encoding="utf-8"))["published"]["nl/2026.1.yaml"]
    default = json.dumps({"format": "invictus-rules/manifest/v1", "published": {"nl/2026.1.yaml": entry}}, indent=2).encode()
    (folder / "manifest.json").write_bytes(default if manifest is None else manifest)
    return folder


def test_verify_of_a_clean_folder_is_ok(cli, tmp_path):
    """The fixture itself verifies: the hostile variants below differ from it in one way each."""
    result = cli("verify", "--rulesets", str(_rulesets(tmp_path)))
    assert result.code == 0 and result.out.startswith("ok")


def test_verify_of_a_missing_folder_fails(cli, tmp_path):
    """verify --rulesets /missing/dir used to print ok and exit 0."""
    result = cli("verify", "--rulesets", str(tmp_path / "missing"))
    assert result.code == 1 and "error[rulesets-not-found]" in result.err


@pytest.mark.parametrize(
    "manifest, line, column",
    [
        (b'{"published": {"nl/2026.1.yaml": "ab"', 1, 38),
        (b"[]", 1, 1),
        (b'{\n  "published": {\n    "nl/2026.1.yaml": 12345678901234567890\n  }\n}', 3, 5),
        (b'{\n  "published": {"nl/2026.1.yaml": "\xff\xfe' + SECRET.encode() + b'"}}', 2, 36),
        (b'{"published": {"../../etc/' + SECRET.encode() + b'": "00"}}', 1, 16),
        (b"[" * 100_000, 1, 1),
    ],
    ids=["invalid-json", "list", "number-hash", "not-utf8", "odd-key", "deep"],
)
def test_verify_reports_a_broken_manifest_at_its_position(cli, tmp_path, manifest, line, column):
    """Invalid JSON, a list, a number for a hash, bytes that are not UTF-8: a positioned
    manifest-invalid error, no traceback, no value of the manifest repeated."""
    folder = _rulesets(tmp_path, manifest)
    result = cli("verify", "--rulesets", str(folder))
    assert result.code == 1 and "Traceback" not in result.err, result.err
    assert f"manifest.json:{line}:{column}: error[manifest-invalid]" in result.err, result.err
    assert SECRET not in result.err and "12345678901234567890" not in result.err


@pytest.mark.parametrize("target", ["outside", "/dev/zero", "loop"])
def test_verify_does_not_follow_links_out_of_the_folder(cli, tmp_path, target):
    """A link to a file outside the folder, to /dev/zero, or a link loop is reported, never read."""
    folder = _rulesets(tmp_path)
    outside = tmp_path / "outside.yaml"
    outside.write_text("format: invictus-rules/v1\nsecret: " + SECRET + "\n", encoding="utf-8")
    link = folder / "nl" / "2027.1.yaml"
    if target == "loop":
        link.symlink_to(link)
    else:
        link.symlink_to(outside if target == "outside" else Path(target))
    result = cli("verify", "--rulesets", str(folder))
    assert result.code == 1 and "Traceback" not in result.err, result.err
    assert "error[outside-folder]" in result.err or "error[not-a-file]" in result.err
    assert SECRET not in result.err


# -- 6. large but legal rulesets load, and fast ------------------------------------------------------

BENCHMARKS = ROOT / "benchmarks"


def _wide(condition: str, items: int = 0) -> str:
    """mini.yaml with ``condition`` on the 'minors' item and ``items`` more indicators in dv_risk."""
    text = _with_condition(condition).replace("questions:\n", "questions:\n  - {id: x, type: boolean, text: {en: X, nl: X}}\n", 1)
    extra = "".join(f"      - {{id: w{i}, label: {{en: W, nl: W}}, when: threats, points: 1}}\n" for i in range(items))
    return text.replace("    levels:\n      - id: standard\n", "".join(["", extra]) + "    levels:\n      - id: standard\n", 1)


@pytest.mark.parametrize("text", [_wide("count(" + ", ".join(["x"] * 1000) + ") >= 1"), _wide("age < 18", items=1000)], ids=["count-1000", "score-1000"])
def test_a_thousand_arguments_or_score_items_load_and_evaluate(text):
    """count() of 1,000 arguments and a score of 1,000 items load and evaluate on both the fast and the
    three-valued path, to the same outcome (both ended in RecursionError)."""
    ruleset = load_ruleset_text(text)
    full = ruleset.evaluate({"safe_to_talk": True, "crime_type": "domestic_violence", "threats": True, "strangulation": False, "age": 9, "judgement": "standard", "x": True}, as_of="2026-01-01")
    partial = ruleset.evaluate({"crime_type": "domestic_violence", "threats": True, "x": True}, as_of="2026-01-01")
    assert "minors" in [i.id for i in full.information]
    assert ruleset.compiled.fast._decide is not _no_fast_path  # the generated function, not the fallback
    assert partial.scores[0].points_min is not None and partial.scores[0].points_min >= 3


LARGEST = r"""
import resource, sys
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.path.insert(0, sys.argv[1])
from largest_ruleset import generate
from invictus_rules import load_ruleset_text
text = generate()
ruleset = load_ruleset_text(text)
ruleset.evaluate({"safe_to_talk": True, "b1": True}, as_of="2026-02-01")
print(len(text.encode()), len(ruleset.compiled.referrals) + len(ruleset.compiled.information) + sum(len(s.items) for s in ruleset.compiled.scores))
"""


def test_the_largest_legal_ruleset_loads_in_bounded_memory():
    """The benchmark's largest ruleset (about 1.2 MB, 3,300 rules) loads and evaluates in a process
    limited to 1 GiB of address space (the time is the benchmark's to print, not a test's to assert)."""
    done = subprocess.run([sys.executable, "-c", LARGEST, str(BENCHMARKS), str(1 << 30)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    size, rules = map(int, done.stdout.split())
    assert size > 1_000_000 and rules >= 3300


# -- 9. load_ruleset(str) is not a file reader -------------------------------------------------------


@pytest.mark.parametrize("reference", ["/etc/passwd", "../../" + SECRET, "nl/../../etc/hostname", "a\0b.yaml", "NL", "nl ", "\uff2e\uff2c@2026.1", "x" * 100_000])
def test_a_string_reference_is_a_country_or_a_yaml_path_only(reference, monkeypatch):
    """Any string but cc, cc@YYYY.N or a path ending in .yaml/.yml is refused before any file is
    opened, without repeating it; 'NL' and 'nl ' are told the code they probably meant."""
    opened: list[str] = []
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: opened.append(str(self)) or (_ for _ in ()).throw(AssertionError("opened")))
    with pytest.raises(RulesetNotFoundError) as info:
        load_ruleset(reference)
    [problem] = info.value.problems
    assert problem.code == "invalid-reference" and not opened
    assert SECRET not in str(info.value) and "passwd" not in str(info.value) and "x" * 50 not in str(info.value)
    if reference.strip().lower() in ("nl",) or reference.startswith("\uff2e"):
        assert '"nl' in problem.hint


def test_paths_and_yaml_file_names_still_load(tmp_path):
    """A pathlib.Path, or a string ending in .yaml, is read as a file."""
    target = tmp_path / "mini.yaml"
    shutil.copy(FIXTURES / "mini.yaml", target)
    assert load_ruleset(target).id == load_ruleset(str(target)).id == "mini"


# -- 10 and 11. the command line: disks, missing paths, endless files, absurd numbers ----------------


def _draft(cli, tmp_path: Path, effective_from: str | None = None) -> tuple[Path, Path]:
    """A copy of the Dutch rulesets with a fresh draft (effective_from: null unless given)."""
    folder = tmp_path / "rulesets"
    shutil.copytree(ROOT / "rulesets" / "nl", folder / "nl")
    entries = json.loads((ROOT / "rulesets" / "manifest.json").read_text(encoding="utf-8"))["published"]
    (folder / "manifest.json").write_text(json.dumps({"format": "invictus-rules/manifest/v1", "published": {k: v for k, v in entries.items() if k.startswith("nl/")}}))
    assert cli("new-version", "nl", "--rulesets", str(folder)).code == 0
    draft = sorted((folder / "nl").glob("*.yaml"))[-1]
    if effective_from:
        text = draft.read_text(encoding="utf-8").replace("effective_from: null  # set the first day this version is in force", f"effective_from: {effective_from}")
        text = text.replace("  changelog:\n", f'  changelog:\n    - version: "{draft.stem}"\n      date: 2029-12-01\n      changes: [Again.]\n', 1)
        draft.write_text(text, encoding="utf-8")
    return folder, draft


def _no_traceback(result) -> str:
    output = result.out + result.err
    assert "Traceback" not in output
    return output


@pytest.mark.parametrize("errno_code", [28, 30], ids=["disk-full", "read-only"])
@pytest.mark.parametrize("command", ["publish", "docs", "audit-report", "diff"])
def test_a_full_or_read_only_disk_is_an_error_not_a_traceback(cli, tmp_path, monkeypatch, command, errno_code):
    """Writing on a full or read-only disk (os.replace failing as it would) exits 1 with a
    cannot-write error saying what to do; the old file is left as it was."""
    import os as os_module

    folder, draft = _draft(cli, tmp_path, effective_from="2030-01-01")
    before = draft.read_bytes()

    def refuse(*args, **kwargs):
        raise OSError(errno_code, os_module.strerror(errno_code))

    monkeypatch.setattr("invictus_rules.tools.files.os.replace", refuse)
    from invictus_rules.tools import workflow

    # the draft's lint and tests are not what this test is about: publish goes straight to writing
    monkeypatch.setattr(workflow, "check_publication", lambda path, folder: types.SimpleNamespace(ok=True))
    argv = {
        "publish": ["publish", str(draft), "--rulesets", str(folder)],
        "docs": ["docs", str(draft), "--out", str(tmp_path / "docs")],
        "audit-report": ["audit-report", "nl@2026.1", str(draft), "--rulesets", str(folder), "--out", str(tmp_path / "audit.html")],
        "diff": ["diff", "nl@2026.1", str(draft), "--rulesets", str(folder), "--out", str(tmp_path / "diff.txt")],
    }[command]
    result = cli(*argv)
    output = _no_traceback(result)
    assert result.code == 1 and "error[cannot-write]" in output, output
    assert ("disk is full" if errno_code == 28 else "read-only") in output
    assert draft.read_bytes() == before


@pytest.mark.parametrize(
    "argv, code",
    [
        (["replay", "{missing}", "{case}"], "file-not-readable"),
        (["replay", "{folder}", "{case}"], "file-not-readable"),
        (["replay", "/dev/zero", "{case}"], "file-too-large"),
        (["impact", "nl@2025.1", "nl@2026.1", "--cases", "{missing}"], "case-not-readable"),
        (["impact", "nl@2025.1", "nl@2026.1", "--cases", "/dev/zero", "--workers", "1"], "case-too-large"),
        (["diff", "nl@2025.1", "nl@2026.1", "--out", "{folder}"], "cannot-write"),
        (["docs", "nl", "--out", "/dev/null"], "cannot-write"),
    ],
    ids=["replay-missing", "replay-folder", "replay-dev-zero", "impact-missing", "impact-dev-zero", "diff-out-folder", "docs-dev-null"],
)
def test_missing_files_folders_and_endless_inputs_are_errors(cli, tmp_path, argv, code):
    """Missing paths, folders where files belong and /dev/zero are read with a bound and reported
    with a code, never a traceback or a MemoryError."""
    case = tmp_path / "case.json"
    case.write_text('{"answers": {}}', encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    result = cli(*[a.format(missing=tmp_path / "missing.json", folder=folder, case=case) for a in argv])
    output = _no_traceback(result)
    if argv[0] == "impact" and result.code == 0:  # impact counts and names unreadable entries of a corpus
        assert f"({code})" in output and "0 cases" in output, output
    else:
        assert result.code == 1 and f"error[{code}]" in output, output
    assert not list(folder.iterdir()) and not list(Path("/").glob(".tmp.*.tmp"))


@pytest.mark.parametrize("command", ["docs", "audit-report"])
def test_docs_and_audit_report_of_a_fresh_draft(cli, tmp_path, command):
    """A draft straight from new-version (effective_from: null) documents and audits."""
    folder, draft = _draft(cli, tmp_path)
    out = tmp_path / ("docs" if command == "docs" else "audit.html")
    argv = ["docs", str(draft), "--out", str(out)] if command == "docs" else ["audit-report", "nl@2026.1", str(draft), "--rulesets", str(folder), "--out", str(out)]
    result = cli(*argv)
    assert result.code == 0 and "Traceback" not in result.err, result.err
    assert out.exists()


@pytest.mark.parametrize("option, value", [("--workers", "100000"), ("--workers", "0"), ("--workers", "-3"), ("--generate", "-5"), ("--generate", "10000000000")])
def test_absurd_numbers_of_workers_or_cases_are_usage_errors(cli, option, value):
    """--workers 100000 would fork 100,000 processes and --generate -5 was accepted: both are usage
    errors (exit 2) naming the allowed range, before anything runs."""
    result = cli("impact", "nl@2025.1", "nl@2026.1", "--generate", "5", option, value)
    assert result.code == 2 and option in result.err and "must be from" in result.err


def test_the_api_starts_at_most_max_workers(mini, monkeypatch):
    """evaluate_batch(workers=100000) starts no more than MAX_WORKERS processes."""
    from invictus_rules import batch

    started = []
    real = batch.concurrent.futures.ProcessPoolExecutor

    def counting(workers, **kwargs):
        started.append(workers)
        return real(2, **kwargs)

    monkeypatch.setattr(batch.concurrent.futures, "ProcessPoolExecutor", counting)
    assert len(list(mini.evaluate_batch([{"age": 3}] * 3, as_of="2026-01-01", output="decisions", workers=100_000))) == 3
    assert started == [batch.MAX_WORKERS]


# -- 12. no raw HTML from a ruleset in Markdown outputs ----------------------------------------------

RAW_HTML = re.compile(r"(?<!\\)<(?:script|img|/a|b>)")  # a tag not escaped with a backslash


def _outside_code(markdown: str) -> str:
    """The Markdown without its code spans, where HTML is shown as text."""
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", markdown)


def test_a_service_url_with_html_is_escaped_in_the_docs_markdown(cli, tmp_path):
    """A service URL the schema allows, https://a.example/<script>..., is not an autolink with raw
    HTML in the docs' Markdown: it is shown as escaped text."""
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8").replace('    phone: "116 006"\n', '    phone: "116 006"\n    url: "https://a.example/<script>alert(1)</script>"\n', 1)
    ruleset = tmp_path / "mini.yaml"
    ruleset.write_text(text, encoding="utf-8")
    result = cli("docs", str(ruleset), "--out", str(tmp_path / "docs"))
    assert result.code == 0, result.err
    pages = list((tmp_path / "docs").rglob("*.md"))
    assert pages
    for page in pages:
        shown = _outside_code(page.read_text(encoding="utf-8"))
        assert not RAW_HTML.search(shown), page


@pytest.mark.parametrize("label", ["<b>x</b>", "<script>alert(1)</script> " + "long " * 20, "`<img src=x onerror=alert(1)>`"])
def test_a_changed_label_with_html_is_escaped_in_the_markdown_diff(cli, tmp_path, label):
    """An option label changed to text with HTML in it shows as text in diff --format markdown."""
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
    old.write_text(text, encoding="utf-8")
    new.write_text(text.replace("label: {en: Robbery, nl: Beroving}", "label: {en: '" + label.replace("'", "''") + "', nl: Beroving}"), encoding="utf-8")
    result = cli("diff", str(old), str(new), "--format", "markdown")
    assert result.code == 0, result.err
    assert "Robbery" in result.out
    assert not RAW_HTML.search(_outside_code(result.out)), result.out


# -- 13. errors do not carry the case in their chain -----------------------------------------------


def _chain(error: BaseException) -> str:
    """Everything an error's chain holds: each exception's args, attributes and repr."""
    seen, parts, todo = set(), [], [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        parts += [repr(current), repr(current.args), repr(vars(current))]
        todo += [current.__context__, current.__cause__]
    return "\n".join(parts)


@pytest.mark.parametrize(
    "data",
    [
        b'{"answers": {"name": "' + SECRET.encode() + b'"',
        b'{"answers": {"name": "' + SECRET.encode() + b'\xff"}}',
        b'{"answers": {"name": "' + SECRET.encode() + b'", "name": 1}}',
        b'{"answers": {"name": "' + SECRET.encode() + b'", "n": NaN}}',
        b'{"answers": {"name": "' + SECRET.encode() + b'", "n": ' + b"[" * 100_000 + b"}}",
    ],
    ids=["json", "utf8", "duplicate", "nan", "deep"],
)
def test_a_case_error_chain_holds_no_case_text(data):
    """CaseError.__context__ and __cause__ are empty: JSONDecodeError.doc and UnicodeDecodeError.object
    held the whole case."""
    from invictus_rules.cases import parse_json
    from invictus_rules.errors import CaseError

    with pytest.raises(CaseError) as info:
        parse_json(data, "case.json")
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert SECRET not in _chain(info.value)


def test_an_answers_error_chain_holds_no_answer(mini):
    """An impossible date answer gives an AnswersError whose chain does not hold the text sent."""
    text = _with_condition("age < 18").replace("questions:\n", "questions:\n  - {id: born, type: date, text: {en: Born, nl: Geboren}}\n", 1)
    with pytest.raises(AnswersError) as info:
        load_ruleset_text(text).evaluate({"born": "2026-02-31"}, as_of="2026-03-01")
    assert "2026-02-31" not in _chain(info.value)


# -- 14. a hostile language code -------------------------------------------------------------------


@pytest.mark.parametrize("language", ["\ud800", "\u202eevil", "nl\x00", "x" * 10_000, "<b>en</b>"])
def test_a_hostile_language_is_neither_echoed_nor_fatal(cli, tmp_path, language):
    """A lone surrogate, bidi control, NUL or 10,000 characters as the case's language: the JSON
    output is written (no PydanticSerializationError), in the default language, and the warning does
    not repeat the language."""
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"language": language, "answers": {"safe_to_talk": True, "crime_type": "robbery"}}), encoding="utf-8")
    for fmt in ("json", "text"):
        result = cli("assess", str(FIXTURES / "mini.yaml"), str(case), "--format", fmt)
        output = _no_traceback(result)
        assert result.code == 0, output
        assert language not in output and "\u202e" not in output and "\\u202e" not in output and "\\ud800" not in output
    assert json.loads(cli("assess", str(FIXTURES / "mini.yaml"), str(case), "--format", "json").out)["language"] == "en"


# -- 15. replay of a tampered record -----------------------------------------------------------------


@pytest.mark.parametrize("tamper", ["extra-key", "wrong-type", "missing"])
def test_replay_of_a_tampered_record_names_no_key_or_value(cli, tmp_path, tamper):
    """A record with an added key, a changed type or a removed field is invalid-assessment, without
    repeating the added key's name or any value, and without pydantic's error in the chain."""
    from invictus_rules.errors import CaseError
    from invictus_rules.tools.replay import read_assessment

    case = tmp_path / "case.json"
    case.write_text(json.dumps({"answers": {"safe_to_talk": True, "crime_type": "robbery"}}), encoding="utf-8")
    record = json.loads(cli("assess", str(FIXTURES / "mini.yaml"), str(case), "--format", "json", "--as-of", "2026-02-01").out)
    if tamper == "extra-key":
        record[SECRET] = SECRET
        record["ruleset"]["x" + SECRET] = 1
    elif tamper == "wrong-type":
        record["as_of"] = SECRET
    else:
        del record["ruleset"]
    recorded = tmp_path / "record.json"
    recorded.write_text(json.dumps(record), encoding="utf-8")
    result = cli("replay", str(recorded), str(case))
    output = _no_traceback(result)
    assert result.code == 1 and "error[invalid-assessment]" in output
    assert SECRET not in output
    with pytest.raises(CaseError) as info:
        read_assessment(record, "record.json")
    assert SECRET not in _chain(info.value)


# -- 16. a NUL byte in a ruleset ---------------------------------------------------------------------


@pytest.mark.parametrize("char, name", [("\x00", "NUL"), ("\x1b", "ESCAPE"), ("\ud800", "does not allow")])
def test_a_character_yaml_refuses_is_reported_at_its_line_and_column(char, name):
    """A NUL byte (or an escape, or a lone surrogate in text given as str) is control-character at
    file:line:col, not "position 19 in <unicode string>"."""
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8").replace("name: {en: Victim helpline,", "name: {en: Victim" + char + "helpline,", 1)
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text, file="hostile.yaml")
    [problem] = info.value.problems
    assert (problem.code, problem.location.line, problem.location.column) == ("control-character", 79, 22)
    assert name in problem.message and "position" not in str(info.value)
    assert str(info.value).startswith("hostile.yaml:79:22: error[control-character]")


KILL_AN_IMPACT_WORKER = r"""
import os, signal
from invictus_rules import BatchError
from invictus_rules.tools.impact import run_impact


def die():
    os.kill(os.getpid(), signal.SIGKILL)


class Deadly(dict):
    # answers that kill the worker process that unpickles them, as the OOM killer would
    def __reduce__(self):
        return (die, ())


cases = [(f"c{n}", {"safe_to_talk": True}, "2026-03-01") for n in range(300)] + [("deadly", Deadly(), "2026-03-01")]
try:
    run_impact("nl@2025.1", "nl@2026.1", iter(cases), workers=2)
except BatchError as error:
    print("BatchError", error.problems[0].code)
else:
    print("finished")
"""


def test_a_killed_worker_stops_impact_with_a_clear_error():
    """impact, like evaluate_batch, stops with BatchError when a worker dies (it used to hang)."""
    done = subprocess.run([sys.executable, "-c", KILL_AN_IMPACT_WORKER], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout.split() == ["BatchError", "worker-died"], done.stdout


@pytest.mark.parametrize(
    "source",
    ["Call {{ services.helpline.phone }}.", "{{{ services.helpline.phone }}", "{{ services.helpline.phone }}}", "{{ answers.age }} {{ as_of }}", "{{ services.helpline.nope }}", "{{ scores.dv_risk.level }} {{ language }}", "a { b } {{ services.helpline.name }}", "{{- services.helpline.phone }}"],
)
def test_the_quick_check_of_plain_fields_agrees_with_the_full_check(source, monkeypatch):
    """Texts that only print fields skip jinja2's parser at load time; the verdict is the full check's."""
    from invictus_rules import templates

    known = {"services": ["helpline"], "answers": ["age"], "scores": ["dv_risk"]}
    quick, quick_issues = templates.check_template(source, known)
    monkeypatch.setattr(templates, "_simple_reads", lambda source, known: None)
    full, full_issues = templates.check_template(source, known)
    assert (quick is None, [i.code for i in quick_issues]) == (full is None, [i.code for i in full_issues])
    if quick is not None and full is not None:
        assert quick.static == full.static


@pytest.mark.parametrize("terms, loads", [(240, True), (251, False), (2000, False)])
def test_long_chains_of_arithmetic_load_or_fail_with_a_position(terms, loads):
    """'a + a + ...' nests one level per operator: up to 250 levels load and evaluate on both paths;
    more is condition-syntax at the condition's first column, not a RecursionError (400 terms was)."""
    text = _with_condition(" + ".join(["age"] * terms) + " < 18")
    if loads:
        ruleset = load_ruleset_text(text)
        assert ruleset.evaluate({"age": 0}, as_of="2026-01-01").information
        assert ruleset.evaluate({}, as_of="2026-01-01") is not None
        return
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text, file="hostile.yaml")
    [problem] = info.value.problems
    assert (problem.code, problem.location.line, problem.location.column) == ("condition-syntax", 108, 11)


def test_a_path_with_a_nul_byte_is_an_error_with_a_code():
    """A pathlib.Path holding a NUL byte is invalid-reference, not open()'s ValueError."""
    with pytest.raises(RulesetNotFoundError) as info:
        load_ruleset(Path("rules\0" + SECRET + ".yaml"))
    assert info.value.problems[0].code == "invalid-reference" and SECRET not in str(info.value)


@pytest.mark.parametrize("command", [["coverage-matrix"], ["compare", "{case}"]])
def test_a_missing_rulesets_folder_is_an_error_for_cross_country_commands(cli, tmp_path, command):
    """coverage-matrix --rulesets /missing printed '0 gaps' and exited 0, as verify printed ok."""
    case = tmp_path / "case.json"
    case.write_text('{"answers": {}}', encoding="utf-8")
    result = cli(*[a.format(case=case) for a in command], "--rulesets", str(tmp_path / "missing"))
    assert result.code == 1 and "error[rulesets-not-found]" in result.err


@pytest.mark.parametrize("tamper", ["extra-key", "wrong-type"])
def test_replay_of_a_tampered_decision_record_names_no_key_or_value(cli, tmp_path, tamper):
    """A decision record with an added key or a changed type is invalid-record, through the CLI and
    the API, without the key's name, any value, or pydantic's error in the chain."""
    from invictus_rules.errors import CaseError

    case = tmp_path / "case.json"
    case.write_text(json.dumps({"answers": {"safe_to_talk": True, "crime_type": "robbery"}}), encoding="utf-8")
    made = cli("assess", str(FIXTURES / "mini.yaml"), str(case), "--format", "record", "--as-of", "2026-02-01")
    assert made.code == 0, made.err
    record = json.loads(made.out)
    if tamper == "extra-key":
        record[SECRET] = SECRET
    else:
        record["as_of"] = SECRET
    recorded = tmp_path / "record.json"
    recorded.write_text(json.dumps(record), encoding="utf-8")
    result = cli("replay", str(recorded), str(case))
    output = _no_traceback(result)
    assert result.code == 1 and "error[invalid-record]" in output, output
    assert SECRET not in output
    with pytest.raises(CaseError) as info:
        load_ruleset(FIXTURES / "mini.yaml").replay(record, {"safe_to_talk": True, "crime_type": "robbery"})
    assert SECRET not in _chain(info.value)
