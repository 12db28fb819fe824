"""Hostile rulesets: each is refused with its own positioned error, quickly, in bounded memory, without
a traceback and without reading any file but itself.

The corpus is ``tests/adversarial/*.yaml`` (the first line of each file says what it tries) with the
expected code and position of each in ``tests/adversarial/expected.yaml``; files over the size limit
are generated at test time. The files are loaded in separate Python processes limited to 1 GiB of
address space, through the public API and through ``invictus-rules validate``; an audit hook in those
processes records every file opened while each one loads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from invictus_rules import AnswersError, RulesetError, load_ruleset, load_ruleset_text

from .conftest import FIXTURES

CORPUS = Path(__file__).resolve().parent / "adversarial"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
SECONDS = 5.0
MAX_BYTES = 2 * 1024 * 1024  # the documented limits of a ruleset file (README, "YAML dialect")
MAX_DEPTH = 64
MEMORY_LIMIT = 1 << 30
RSS_GROWTH_KB = 256 * 1024

# Runs in a fresh interpreter limited to 1 GiB: loads each ruleset named on the command line through
# the API and the CLI, recording the files opened meanwhile; prints one JSON line per ruleset.
CHILD = r"""
import io, json, os, resource, sys, time, traceback
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from invictus_rules import InvictusError, load_ruleset
from invictus_rules.cli import main
from pathlib import Path

opened, spawned = [], []
MODULES = (".py", ".pyc", ".so")

def audit(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        name = os.fsdecode(args[0])
        if not name.endswith(MODULES):
            opened.append(name)
    elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork"):
        spawned.append(event)

sys.addaudithook(audit)
for target in map(Path, sys.argv[2:]):
    del opened[:], spawned[:]
    result = {"path": str(target)}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        load_ruleset(target)
        result["accepted"] = True
    except InvictusError as error:
        result["problems"] = [p.to_dict() for p in error.problems]
        result["text"] = str(error)
    except BaseException:
        result["crash"] = traceback.format_exc()
    result["seconds"] = time.perf_counter() - start
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    try:
        result["cli_code"] = main(["validate", str(target)], stdout=out, stderr=err)
    except BaseException:
        result["cli_code"] = None
        result["crash"] = traceback.format_exc()
    result["cli_seconds"] = time.perf_counter() - start
    result["cli_output"] = out.getvalue() + err.getvalue()
    result["rss_growth_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss
    result["opened"] = sorted(set(opened))
    result["spawned"] = list(spawned)
    print(json.dumps(result), flush=True)
"""
BATCH = 10


def _run_batch(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """Results by path; a batch that hangs or dies fails every file it had not answered for."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(MEMORY_LIMIT), *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        stdout, stderr, failure = done.stdout, done.stderr, f"the loader process ended with {done.returncode}"
    except subprocess.TimeoutExpired as timeout:
        stdout, stderr, failure = (timeout.stdout or b"").decode(), (timeout.stderr or b"").decode(), "no answer within 120 s: the loader hangs"
    results = {}
    for line in stdout.splitlines():
        result = json.loads(line)
        result["stderr"] = stderr
        results[result["path"]] = result
    for path in paths:
        results.setdefault(str(path), {"crash": f"{failure}\n{stderr[-3000:]}"})
    return results


def _generated(folder: Path) -> dict[str, Path]:
    """Hostile files too big to keep in the repository."""
    mini = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
    huge = folder / "over_10_mb.yaml"
    with huge.open("w", encoding="utf-8") as handle:
        handle.write(mini)
        line = "# " + "padding " * 12 + "\n"
        handle.write(line * (10 * 1024 * 1024 // len(line) + 1))
    deep = folder / "nesting_block_mapping_1500.yaml"
    deep.write_text(mini + "extra:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(1500)) + " " * 1501 + "x\n", encoding="utf-8")
    return {path.name: path for path in (huge, deep)}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every hostile file loaded in a separate, memory-limited process, ten files to a process."""
    files = {name: CORPUS / name for name in EXPECTED}
    files.update(_generated(tmp_path_factory.mktemp("adversarial")))
    paths = list(files.values())
    results: dict[str, dict[str, Any]] = {}
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        for batch in pool.map(_run_batch, [paths[i : i + BATCH] for i in range(0, len(paths), BATCH)]):
            results.update(batch)
    return {name: results[str(path)] for name, path in files.items()}


def _assert_refused(result: dict[str, Any], code: str) -> dict[str, Any]:
    """The checks every hostile file must pass; returns the first problem with ``code``."""
    assert "crash" not in result, result["crash"]
    assert not result.get("accepted"), "the hostile file was accepted"
    problems = result["problems"]
    assert code in [p["code"] for p in problems], problems
    for problem in problems:
        assert problem["message"], problem
        assert problem["line"] > 0 and problem["column"] > 0, f"no position: {problem}"
    first = next(p for p in problems if p["code"] == code)
    assert f":{first['line']}:{first['column']}: error[{code}]" in result["text"]
    assert result["seconds"] < SECONDS and result["cli_seconds"] < SECONDS, (result["seconds"], result["cli_seconds"])
    assert result["rss_growth_kb"] < RSS_GROWTH_KB, f"memory grew by {result['rss_growth_kb']} kB"
    assert result["cli_code"] == 1 and f"error[{code}]" in result["cli_output"]
    assert "Traceback" not in result["cli_output"] + result["stderr"]
    target = os.path.realpath(result["path"])
    assert {os.path.realpath(p) for p in result["opened"]} <= {target}, result["opened"]
    assert not result["spawned"], result["spawned"]
    return first


def test_the_corpus_is_complete():
    """At least 32 hostile files, each with its expectation, and no expectation without its file."""
    files = {p.name for p in CORPUS.glob("*.yaml")} - {"expected.yaml"}
    assert files == set(EXPECTED)
    assert len(files) >= 32


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_ruleset_is_refused_with_its_positioned_error(outcomes, name):
    """The file fails with its expected code at its expected line and column, fast, without a traceback."""
    expected = EXPECTED[name]
    first = _assert_refused(outcomes[name], expected["code"])
    assert (first["line"], first["column"]) == (expected["line"], expected["column"])


def test_file_over_10_mb_is_refused_where_it_passes_the_limit(outcomes):
    """A 10 MB file fails with file-too-large, pointing at the line where it passes the size limit."""
    result = outcomes["over_10_mb.yaml"]
    first = _assert_refused(result, "file-too-large")
    data = Path(result["path"]).read_bytes()[:MAX_BYTES]
    assert first["line"] == data.count(b"\n") + 1


def test_block_mapping_nested_1500_deep_is_refused(outcomes):
    """Block mappings nested 1500 levels deep stop at the level past the limit."""
    first = _assert_refused(outcomes["nesting_block_mapping_1500.yaml"], "too-deep")
    assert first["column"] == MAX_DEPTH + 1


# -- accepted on purpose --------------------------------------------------------------------------


def test_byte_order_mark_alone_is_accepted(mini, tmp_path):
    """A UTF-8 byte-order mark, as some editors write, changes neither the result nor the digest."""
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "mini.yaml").read_bytes())
    assert load_ruleset(path).sha256 == mini.sha256


def test_yaml_1_1_booleans_stay_text_where_text_is_expected(tmp_path):
    """no, off and yes are text (the Norway problem does not exist here): a country, an option, an id."""
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
    text = text.replace("country: xx", "country: no").replace('- value: "no"', "- value: off").replace("  id: mini", "  id: yes")
    path = tmp_path / "norway.yaml"
    path.write_text(text, encoding="utf-8")
    ruleset = load_ruleset(path)
    assert (ruleset.country, ruleset.id) == ("no", "yes")
    assert "off" in [o.value for o in ruleset.questions[1].options]


# -- hostile texts that load, and must stay bounded when rendered ----------------------------------


def _with_text_question(template: str) -> str:
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
    question = "  - id: note\n    type: text\n    max_length: 100000\n    text: {en: Note, nl: Notitie}\n"
    text = text.replace("questions:\n", "questions:\n" + question, 1)
    old = 'reason: {en: "Everyone can get support: call {{ services.helpline.phone }}."'
    return text.replace(old, "reason: {en: '" + template.replace("'", "''") + "'")


@pytest.mark.parametrize(
    "template, warning",
    [
        ("{{ answers.note|join(answers.note) }}", "too long"),
        ("{% for c in answers.note %}{% endfor %}" * 400, "loops more than"),
        ("{% for c in answers.note %}{{ c }}{% endfor %}", "loops more than"),
        ("{{ answers.note ~ answers.note ~ answers.note }}", "too long"),
    ],
    ids=["join-bomb", "400-loops", "loop-output", "concat"],
)
def test_texts_that_would_loop_or_grow_stop_with_a_warning(template, warning):
    """A text that would loop millions of times or build a huge string stops early: the assessment
    carries a text-not-rendered warning instead."""
    ruleset = load_ruleset_text(_with_text_question(template))
    assessment = ruleset.evaluate({"note": "x" * 100_000}, as_of="2026-02-01", language="en")
    [notice] = [w for w in assessment.warnings if w.code == "text-not-rendered"]
    assert warning in notice.message
    assert "x" * 100 not in assessment.model_dump_json()


def test_short_loops_and_joins_still_render():
    """The limits leave ordinary loops, joins and concatenations alone."""
    template = "{% for c in ['a', 'b'] %}{{ c }}{% endfor %} {{ ['x', 'y']|join(', ') }} {{ 'p' ~ 'q' }}"
    assessment = load_ruleset_text(_with_text_question(template)).evaluate({}, as_of="2026-02-01", language="en")
    reasons = [reason.text for referral in assessment.referrals for reason in referral.reasons]
    assert "ab x, y pq" in reasons


def test_arithmetic_on_valid_answers_never_raises():
    """A product of many integer answers, divided, evaluates instead of raising OverflowError."""
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
    ruleset = load_ruleset_text(text.replace("when: age < 18", "when: " + " * ".join(["age"] * 200) + " / 2 > 1"))
    assert ruleset.evaluate({"age": 120}, as_of="2026-01-01").information


def test_huge_integer_answers_are_refused_before_evaluation():
    """An integer answer beyond 10^15 is an answer-range error, not an overflow in a condition."""
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8").replace("    min: 0\n    max: 120\n", "")
    ruleset = load_ruleset_text(text.replace("when: age < 18", "when: age / 2 < 9"))
    assert ruleset.evaluate({"age": 10**15}, as_of="2026-01-01").information
    for value in (10**15 + 1, -(10**400), 10**4000):
        with pytest.raises(AnswersError) as info:
            ruleset.evaluate({"age": value}, as_of="2026-01-01")
        assert info.value.problems[0].code == "answer-range"


def test_hostile_file_errors_are_ruleset_errors_in_process():
    """In the test process too, a few hostile files raise RulesetError and nothing else."""
    for name in ("alias_bomb.yaml", "template_deep.yaml", "template_loop_variable.yaml", "nesting_flow_sequence.yaml"):
        with pytest.raises(RulesetError):
            load_ruleset(CORPUS / name)
