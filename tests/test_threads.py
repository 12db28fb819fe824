"""Thread safety: one compiled ruleset evaluated from eight threads gives exactly the sequential results,
and loading has no side effects (same digests, no files written, no module globals changed).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from invictus_rules import Ruleset, load_ruleset
from invictus_rules.load import list_countries, list_versions
from invictus_rules.model import Question

from .conftest import FIXTURES

THREADS = 8
CASES_PER_RULESET = 60


def _ruleset_paths() -> list[Path]:
    return [FIXTURES / "mini.yaml"] + [info.path for country in list_countries() for info in list_versions(country)]


def _answer(question: Question, rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.15:
        return rng.choice([{"status": "declined"}, {"status": "unknown"}, None])
    kind = question.type
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("integer", "number"):
        low = question.min if question.min is not None else 0
        high = question.max if question.max is not None else 100
        return rng.randint(int(low), int(high)) if kind == "integer" else round(rng.uniform(low, high), 2)
    options = [option.value for option in question.options or ()]
    if kind == "single_choice":
        return rng.choice(options)
    if kind == "multiple_choice":
        return rng.sample(options, rng.randint(0, len(options)))
    if kind == "date":
        return (dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 30_000))).isoformat()
    return "some text"


def _cases(ruleset: Ruleset, seed: int) -> list[tuple[dict[str, Any], str]]:
    """Valid partial cases, each with a language (sometimes one the ruleset lacks)."""
    rng = random.Random(seed)
    cases = []
    for _ in range(CASES_PER_RULESET):
        answers = {q.id: _answer(q, rng) for q in ruleset.questions if rng.random() < 0.8}
        cases.append((answers, rng.choice([*ruleset.languages, "xx"])))
    return cases


def _assess(ruleset: Ruleset, case: tuple[dict[str, Any], str]) -> str:
    answers, language = case
    return ruleset.evaluate(answers, as_of="2026-03-01", language=language, trace_values=True).model_dump_json()


def test_eight_threads_give_the_sequential_results_byte_for_byte():
    """Several hundred cases over every shipped ruleset, evaluated by 8 threads at once on freshly
    loaded rulesets (so that first renders race too), equal the sequential JSON byte for byte."""
    paths = _ruleset_paths()
    sequential = {path: load_ruleset(path) for path in paths}
    work = [(path, case) for seed, path in enumerate(paths) for case in _cases(sequential[path], seed)]
    assert len(work) >= 300
    expected = [_assess(sequential[path], case) for path, case in work]
    shared = {path: load_ruleset(path) for path in paths}

    results: list[list[str | None]] = [[None] * len(work) for _ in range(THREADS)]
    failures: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def run(thread: int) -> None:
        order = list(range(len(work)))
        random.Random(thread).shuffle(order)
        barrier.wait()
        try:
            for index in order:
                path, case = work[index]
                results[thread][index] = _assess(shared[path], case)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:3]
    for thread in range(THREADS):
        mismatched = [index for index, result in enumerate(results[thread]) if result != expected[index]]
        assert not mismatched, f"thread {thread}: {len(mismatched)} results differ, e.g. case {mismatched[0]}"


# Loads every ruleset twice (by path, and shipped ones by country) in a fresh interpreter, with an audit
# hook recording every write; compares digests, and the public globals of every invictus_rules module.
LOADER = r"""
import json, os, sys
from pathlib import Path
import invictus_rules
from invictus_rules import load_ruleset
from invictus_rules.load import list_countries, list_versions

def public_globals():
    state = {}
    for name, module in sorted(sys.modules.items()):
        if name == "invictus_rules" or name.startswith("invictus_rules."):
            for key, value in sorted(vars(module).items()):
                if not key.startswith("_"):
                    shown = repr(value) if isinstance(value, (dict, list, set, frozenset, tuple, str, int, float)) else ""
                    state[f"{name}.{key}"] = [id(value), shown]
    return state

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
writes = []

def audit(event, args):
    if event == "open" and len(args) >= 3:
        mode, flags = args[1], args[2]
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & WRITE_FLAGS):
            writes.append(f"open {args[0]!s}")
    elif event in ("os.rename", "os.replace", "os.remove", "os.unlink", "os.mkdir", "os.rmdir", "os.truncate", "os.chmod", "shutil.copyfile"):
        writes.append(f"{event} {args[0]!s}")

paths = [Path(sys.argv[1])] + [info.path for country in list_countries() for info in list_versions(country)]
references = [f"{country}@{info.version}" for country in list_countries() for info in list_versions(country)]
before = public_globals()
sys.addaudithook(audit)
digests = {}
for round in range(2):
    for target in [*paths, *references]:
        ruleset = load_ruleset(target)
        key = str(target)
        digest = [ruleset.sha256, ruleset.compiled.document.model_dump_json()]
        if round == 0:
            digests[key] = digest
        elif digests[key] != digest:
            digests[key] = "changed on the second load"
    ruleset.evaluate({}, as_of="2026-03-01")
after = public_globals()
changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name) and name in before)
print(json.dumps({"changed": changed, "writes": writes, "unstable": sorted(k for k, v in digests.items() if isinstance(v, str)), "loaded": len(digests)}))
"""


def test_loading_twice_changes_nothing():
    """Loading every ruleset twice gives equal digests and documents, writes no file and leaves every
    public global of the invictus_rules modules as it was."""
    done = subprocess.run(
        [sys.executable, "-c", LOADER, str(FIXTURES / "mini.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["loaded"] >= 2
    assert report["unstable"] == []
    assert report["writes"] == []
    assert report["changed"] == []
