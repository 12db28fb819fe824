"""Benchmarks for invictus-rules: print one table of figures, each next to its target.

    python benchmarks/run.py               # the full run (one to three minutes on 2 cores)
    python benchmarks/run.py --quick       # a short run, for the smoke test (figures are rough)
    python benchmarks/run.py --cases 50000 # the batch size (default 200000)

Figures: load + validate + compile time per ruleset; single-process throughput on the benchmark
ruleset and on nl (decisions only, with answer validation, with the trace, full JSON, and the
three-valued path on partial cases); the hand-written twin of the benchmark ruleset, checked equal
to the engine on every case, and the engine's speed relative to it; batch throughput on all cores
with peak memory; memory held by one compiled ruleset. See benchmarks/README.md.

The batch runs in a fresh interpreter (``--batch-only``, which prints its figures as JSON) so that
its peak memory is not the memory of everything measured before it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import inspect
import itertools
import json
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:  # imported from the tests rather than run as a script
    sys.path.insert(0, str(HERE))

import cases  # noqa: E402
import handwritten  # noqa: E402
import invictus_rules  # noqa: E402
from invictus_rules import Decisions, Ruleset, load_ruleset  # noqa: E402

AS_OF = cases.AS_OF
LANGUAGE = "en"

# targets
DECIDE_TARGET = 100_000  # decisions per second, one core
TRACE_TARGET = 25_000  # assessments with the full trace per second
JSON_TARGET = 10_000  # full assessments serialised to JSON per second
RATIO_TARGET = 3.0  # engine time / hand-written time, decisions only (aim 1.5)
DICT_RATIO_AIM = 2
RATIO_AIM = 1.5
COMPILE_TARGET_MS = 50.0
MEMORY_TARGET_MB = 5.0


@dataclass(frozen=True)
class Settings:
    quick: bool
    batch_cases: int
    load_runs: int
    runs: int  # timed runs per throughput figure (the median is reported)
    run_seconds: float  # rough length of one timed run
    benchmark_cases: int  # distinct cases for single-process figures
    nl_cases: int

    @classmethod
    def make(cls, quick: bool, batch_cases: int | None) -> Settings:
        if quick:
            return cls(True, batch_cases or 2_000, 3, 3, 0.05, 1_000, 300)
        return cls(False, batch_cases or 200_000, 7, 5, 0.5, 20_000, 5_000)


# ------------------------------------------------------------------------------------------- table
class Table:
    """Rows of (figure, value, target, status), printed with aligned columns as they come."""

    WIDTHS = (60, 16, 20)

    def __init__(self, out: Any = sys.stdout):
        self.out = out
        self.targets: list[tuple[str, str, str, str]] = []

    def section(self, title: str) -> None:
        print(f"\n{title}", file=self.out, flush=True)

    def note(self, text: str) -> None:
        print(f"  {text}", file=self.out, flush=True)

    def row(self, figure: str, value: str, target: str = "", met: bool | None = None) -> None:
        status = "" if met is None else ("MET" if met else "NOT MET")
        a, b, c = self.WIDTHS
        print(f"  {figure:<{a}} {value:>{b}}   {target:<{c}} {status}".rstrip(), file=self.out, flush=True)
        if met is not None:
            self.targets.append((figure, value, target, status))

    def header(self) -> None:
        a, b, c = self.WIDTHS
        print(f"\n  {'figure':<{a}} {'value':>{b}}   {'target':<{c}} status", file=self.out)
        print(f"  {'-' * a} {'-' * b}   {'-' * c} -------", file=self.out)


def per_second(value: float) -> str:
    return f"{value:,.0f}/s"


# --------------------------------------------------------------------------------------- machine
def machine() -> dict[str, str]:
    """Platform, CPU model, cores and Python version of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": f"{os.cpu_count()} ({usable} usable by this process)",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def engine_identity() -> str:
    """The engine version and the git commit of the working tree (read only)."""
    text = f"invictus-rules {invictus_rules.__version__}"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "--no-optional-locks", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        if commit.returncode == 0:
            text += f", git {commit.stdout.strip()}" + (" + uncommitted changes under src/ (the working tree was measured)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return text


def max_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MB (ru_maxrss is in KB on Linux, in bytes on macOS)."""
    value = resource.getrusage(who).ru_maxrss
    return value / (1024 * 1024) if sys.platform == "darwin" else value / 1024


# ------------------------------------------------------------------------------------- measuring
def median_time(action: Callable[[], Any], runs: int) -> float:
    """The median wall time of ``runs`` calls, in seconds."""
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rate(call: Callable[[Any], Any], items: Sequence[Any], settings: Settings) -> float:
    """Items per second: the median of timed runs over consecutive slices of ``items``, after a warm-up.

    The warm-up also sizes the runs to about ``settings.run_seconds`` each.
    """
    warm = items[: min(len(items), 50 if settings.quick else 300)]
    start = time.perf_counter()
    for item in warm:
        call(item)
    per_item = (time.perf_counter() - start) / len(warm)
    size = max(20, int(settings.run_seconds / max(per_item, 1e-9)))
    rates = []
    offset = 0
    for _ in range(settings.runs):
        chunk = [items[(offset + i) % len(items)] for i in range(size)]
        offset += size
        gc.collect()
        start = time.perf_counter()
        for item in chunk:
            call(item)
        rates.append(size / (time.perf_counter() - start))
    return statistics.median(rates)


# ------------------------------------------------------------------------------ engine vs twin
def engine_decisions(ruleset: Ruleset, decisions: Decisions) -> handwritten.Decisions:
    """The engine's decisions for the benchmark ruleset in the hand-written function's shape."""
    dv, vulnerability = decisions.scores["dv_risk"], decisions.scores["vulnerability"]
    return handwritten.Decisions(
        dv.points[0],
        dv.critical[0],
        dv.level,
        vulnerability.points[0],
        vulnerability.critical[0],
        vulnerability.level,
        decisions.referrals,
        decisions.information,
    )


def compare_with_twin(ruleset: Ruleset, validated: Sequence[Any]) -> list[tuple[int, handwritten.Decisions, handwritten.Decisions]]:
    """Every case where the engine and the hand-written function disagree: (index, engine, twin)."""
    differences = []
    for index, answers in enumerate(validated):
        engine = engine_decisions(ruleset, ruleset.decide(answers, as_of=AS_OF))
        twin = handwritten.decide(answers.values, AS_OF)
        if engine != twin:
            differences.append((index, engine, twin))
    return differences


# ----------------------------------------------------------------------------------------- batch
_WORKER_RULESET: Ruleset | None = None


def _init_worker(path: str) -> None:
    global _WORKER_RULESET
    _WORKER_RULESET = load_ruleset(Path(path))


def _decide_chunk(chunk: list[dict[str, Any]]) -> list[Any]:
    ruleset = _WORKER_RULESET
    assert ruleset is not None
    return [decisions_of(ruleset, ruleset.decide(answers, as_of=AS_OF)) for answers in chunk]


def _assess_chunk(chunk: list[dict[str, Any]]) -> list[str]:
    ruleset = _WORKER_RULESET
    assert ruleset is not None
    return [ruleset.evaluate(answers, as_of=AS_OF, language=LANGUAGE, trace=True).model_dump_json() for answers in chunk]


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def pool_batch(path: Path, items: Iterable[dict[str, Any]], *, decisions_only: bool, workers: int) -> Iterator[Any]:
    """A plain process pool, each worker loading the ruleset once, ``imap`` over chunks of cases, in order.

    The stream is read only a little ahead (``imap``'s feeder thread blocks on the pipe to the
    workers), but results wait in the parent when the consumer is slower than the workers.
    """
    pool = multiprocessing.Pool(workers, initializer=_init_worker, initargs=(str(path),))
    try:
        work = _decide_chunk if decisions_only else _assess_chunk
        for results in pool.imap(work, _chunks(items, 256)):
            yield from results
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _batch_outputs(method: Any) -> tuple[str, ...]:
    """The values ``evaluate_batch``'s ``output`` keyword accepts, read from its type hints."""
    try:
        hint = typing.get_type_hints(method).get("output")
    except Exception:  # unresolvable hints: assume the values the engine documented first
        return ("outcome", "assessment", "json")
    return tuple(str(value) for value in typing.get_args(hint)) or ("outcome", "assessment", "json")


def api_batch(ruleset: Ruleset, items: Iterable[dict[str, Any]], *, decisions_only: bool) -> tuple[Iterator[Any], str] | None:
    """``Ruleset.evaluate_batch`` on all cores if the engine has it (whichever keywords it takes), with
    the call made, else None. Decisions only asks for the smallest decisions output it offers."""
    method = getattr(ruleset, "evaluate_batch", None)
    if method is None:
        return None
    parameters = inspect.signature(method).parameters
    if "output" in parameters:  # evaluate_batch(cases, *, as_of, language, output, trace, workers)
        output = ("decisions" if "decisions" in _batch_outputs(method) else "outcome") if decisions_only else "json"
        call = f'evaluate_batch(output="{output}"{"" if decisions_only else ", trace=True"})'
        return method(items, workers=None, as_of=AS_OF, language=LANGUAGE, output=output, trace=not decisions_only), call
    call = f"evaluate_batch(decisions_only={decisions_only})"
    return method(items, workers=None, as_of=AS_OF, language=LANGUAGE, decisions_only=decisions_only), call


def decisions_of(ruleset: Ruleset, result: Any) -> Any:
    """Levels by score, services referred and information given, from Decisions, an Outcome or a
    decisions mapping; None for anything else (an AnswersError, say)."""
    compiled = ruleset.compiled
    if isinstance(result, Decisions):
        return (dict(result.levels), result.services, result.information)
    if isinstance(result, Mapping) and {"levels", "services", "information"} <= set(result):  # decide(...).to_dict()
        return (dict(result["levels"]), tuple(result["services"]), tuple(result["information"]))
    if not hasattr(result, "scores") or not hasattr(result, "referrals"):
        return None
    levels = {
        score.spec.id: score.level_ids[outcome.level[0]] if outcome.level is not None and outcome.level[0] == outcome.level[1] else None
        for score, outcome in zip(compiled.scores, result.scores, strict=True)
    }
    services = tuple(dict.fromkeys(rule.spec.service for rule, fired in zip(compiled.referrals, result.referrals, strict=True) if fired is True))
    information = tuple(item.spec.id for item, given in zip(compiled.information, result.information, strict=True) if given is True)
    return (levels, services, information)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _timed(results: Iterator[Any], keep: int) -> tuple[int, float, list[Any], float, float]:
    """Consume ``results``: how many, how long, the first ``keep`` of them, and the CPU seconds
    spent by this process and by the worker processes that ended meanwhile."""
    start, own, workers = time.perf_counter(), _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    done = 0
    first: list[Any] = []
    for result in results:
        if done < keep:
            first.append(result)
        done += 1
    return done, time.perf_counter() - start, first, _cpu(resource.RUSAGE_SELF) - own, _cpu(resource.RUSAGE_CHILDREN) - workers


def high_water_mb() -> float | None:
    """This process's own peak resident memory (VmHWM, Linux): unlike ru_maxrss, not inherited across fork and exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def batch_figures(count: int) -> dict[str, Any]:
    """Stream ``count`` generated cases through the batch API (or a pool) on all cores. Runs in its own process."""
    path = cases.BENCHMARK_RULESET
    ruleset = load_ruleset(path)
    workers = os.cpu_count() or 1
    figures: dict[str, Any] = {"cases": count, "workers": workers}

    start = time.perf_counter()
    for _ in cases.iter_benchmark_cases(count):
        pass
    figures["generation_rate"] = count / (time.perf_counter() - start)
    full = max(count // 20, min(count, 200))
    check = min(count, 1_000)

    made = api_batch(ruleset, cases.iter_benchmark_cases(count), decisions_only=True)
    if made is None:
        figures["method"] = "multiprocessing.Pool fallback (no Ruleset.evaluate_batch)"
        results = pool_batch(path, cases.iter_benchmark_cases(count), decisions_only=True, workers=workers)
    else:
        results, figures["method"] = made
    done, seconds, first, own_cpu, workers_cpu = _timed(results, check)
    figures.update(
        decisions_done=done,
        decisions_rate=done / seconds,
        decisions_type=type(first[0]).__name__ if first else "",
        parent_cpu_us=own_cpu / done * 1e6,
        workers_cpu_us=workers_cpu / done * 1e6,
    )
    serial = min(count, 20_000)
    done, seconds, _, own_cpu, _ = _timed((ruleset.decide(answers, as_of=AS_OF) for answers in cases.iter_benchmark_cases(serial)), 0)
    figures.update(serial_rate=done / seconds, serial_cpu_us=own_cpu / done * 1e6)

    expected = [decisions_of(ruleset, ruleset.decide(answers, as_of=AS_OF)) for answers in cases.iter_benchmark_cases(check)]
    figures["checked"] = len(first)
    figures["mismatches"] = sum(1 for result, wanted in zip(first, expected, strict=True) if decisions_of(ruleset, result) != wanted)

    made = api_batch(ruleset, cases.iter_benchmark_cases(full), decisions_only=False)
    if made is None:
        results = pool_batch(path, cases.iter_benchmark_cases(full), decisions_only=False, workers=workers)
    else:
        results, figures["full_method"] = made
    done, seconds, first, _, _ = _timed(results, 1)
    figures.update(full_done=done, full_rate=done / seconds, full_type=type(first[0]).__name__ if first else "")
    serial = min(full, 2_000)
    assess = (ruleset.evaluate(answers, as_of=AS_OF, language=LANGUAGE, trace=True).model_dump_json() for answers in cases.iter_benchmark_cases(serial))
    done, seconds, *_ = _timed(assess, 0)
    figures["full_serial_rate"] = done / seconds
    figures["rss_self_mb"] = max_rss_mb()
    figures["hwm_self_mb"] = high_water_mb()
    figures["rss_children_mb"] = max_rss_mb(resource.RUSAGE_CHILDREN)

    if hasattr(Ruleset, "evaluate_batch"):  # for comparison: the same stream through a plain Pool.imap
        done, seconds, *_ = _timed(pool_batch(path, cases.iter_benchmark_cases(count), decisions_only=True, workers=workers), 0)
        figures["pool_decisions_rate"] = done / seconds
    return figures


# ---------------------------------------------------------------------------------------- memory
def _held_mb(before: tracemalloc.Snapshot) -> float:
    gc.collect()
    after = tracemalloc.take_snapshot()
    return sum(stat.size_diff for stat in after.compare_to(before, "filename")) / (1024 * 1024)


def compiled_size_mb(path: Path, use: Sequence[dict[str, Any]]) -> tuple[float, float]:
    """Memory held by one compiled ruleset (traced allocations still alive): just after
    ``load_ruleset``, and after assessing ``use`` in each of its languages (caches filled)."""
    gc.collect()
    before = tracemalloc.take_snapshot()
    ruleset = load_ruleset(path)
    loaded = _held_mb(before)
    for language in ruleset.languages:
        for answers in use:
            ruleset.evaluate(answers, as_of=AS_OF, language=language).model_dump_json()
    used = _held_mb(before)
    del ruleset
    return loaded, used


# ------------------------------------------------------------------------------------------- run
def shipped_rulesets() -> list[Path]:
    return sorted((ROOT / "rulesets").glob("*/*.yaml"))


def single_process(table: Table, name: str, ruleset: Ruleset, complete: list[dict[str, Any]], partial: list[dict[str, Any]], settings: Settings) -> float:
    """Throughput rows for one ruleset; returns the decisions-only rate."""
    validated = [ruleset.validate_answers(answers) for answers in complete]
    validated_partial = [ruleset.validate_answers(answers) for answers in partial]
    table.note(f"{name}: {len(complete):,} complete cases, {len(partial):,} partial cases, as of {AS_OF}")

    decide = rate(lambda answers: ruleset.decide(answers, as_of=AS_OF), validated, settings)
    table.row("(a) decisions only: decide(validated answers)", per_second(decide), f">= {DECIDE_TARGET:,}/s", decide >= DECIDE_TARGET)
    with_validation = rate(lambda answers: ruleset.decide(answers, as_of=AS_OF), complete, settings)
    table.row("(a) decisions with answer validation: decide(dict)", per_second(with_validation))
    three_valued = rate(lambda answers: ruleset.decide(answers, as_of=AS_OF), validated_partial, settings)
    table.row("(a) three-valued path: decide(validated partial)", per_second(three_valued))
    no_trace = rate(lambda answers: ruleset.evaluate(answers, as_of=AS_OF, trace=False), validated, settings)
    table.row("    evaluate(validated, trace=False)", per_second(no_trace))
    traced = rate(lambda answers: ruleset.evaluate(answers, as_of=AS_OF, trace=True), validated, settings)
    table.row("(b) full trace: evaluate(validated, trace=True)", per_second(traced), f">= {TRACE_TARGET:,}/s", traced >= TRACE_TARGET)
    if hasattr(ruleset, "trace"):  # the trace alone, no texts rendered (not the target's definition)
        trace_only = rate(lambda answers: ruleset.trace(answers, as_of=AS_OF), validated, settings)
        table.row("    trace(validated): the trace without texts", per_second(trace_only))
    as_json = rate(lambda answers: ruleset.evaluate(answers, as_of=AS_OF, language=LANGUAGE, trace=True).model_dump_json(), validated, settings)
    table.row(f"(c) full JSON: evaluate(validated, '{LANGUAGE}').model_dump_json()", per_second(as_json), f">= {JSON_TARGET:,}/s", as_json >= JSON_TARGET)
    built = [ruleset.evaluate(answers, as_of=AS_OF, language=LANGUAGE, trace=True) for answers in validated[:1_000]]
    dump = rate(lambda assessment: assessment.model_dump_json(), built, settings)
    table.row("    of which serialising: model_dump_json() of a built assessment", per_second(dump))
    return decide


def run_batch_process(settings: Settings) -> dict[str, Any] | str:
    """The batch figures from a fresh interpreter, or the reason it failed."""
    command = [sys.executable, str(Path(__file__).resolve()), "--batch-only", "--cases", str(settings.batch_cases)]
    finished = subprocess.run(command + (["--quick"] if settings.quick else []), capture_output=True, text=True, cwd=ROOT)
    if finished.returncode != 0:
        lines = finished.stderr.strip().splitlines()
        return lines[-1] if lines else f"exit code {finished.returncode}"
    return json.loads(finished.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def print_batch(table: Table, batch: dict[str, Any] | str, settings: Settings) -> None:
    table.section(f"Batch on all cores, {settings.batch_cases:,} generated cases streamed (fresh process, run first)")
    if isinstance(batch, str):
        table.row("batch run", "FAILED")
        table.note(batch)
        return
    table.note(f"method: {batch['method']}, {batch['workers']} workers; times include starting the workers")
    if batch.get("full_method"):
        table.note(f"full JSON: {batch['full_method']}")
    table.note(f"case generation alone: {per_second(batch['generation_rate'])} (in the parent, as the cases stream)")
    table.row(f"decisions, with validation ({batch['decisions_done']:,} x {batch['decisions_type']})", per_second(batch["decisions_rate"]))
    table.row("  per worker", per_second(batch["decisions_rate"] / batch["workers"]))
    table.row(f"  in order and equal to decide() (first {batch['checked']:,} checked)", "yes" if batch["mismatches"] == 0 else f"{batch['mismatches']:,} differ")
    table.row("  CPU per case: parent / all workers", f"{batch['parent_cpu_us']:,.0f} / {batch['workers_cpu_us']:,.0f} us")
    table.row("  for comparison: one process, decide(dict), same stream", per_second(batch["serial_rate"]))
    if "pool_decisions_rate" in batch:
        table.row("  for comparison: plain Pool.imap, same stream", per_second(batch["pool_decisions_rate"]))
    table.row(f"full JSON with trace, {LANGUAGE} ({batch['full_done']:,} x {batch['full_type']})", per_second(batch["full_rate"]))
    table.row("  for comparison: one process, same stream", per_second(batch["full_serial_rate"]))
    table.row("peak memory, batch parent process (ru_maxrss)", f"{batch['rss_self_mb']:,.0f} MB")
    if batch.get("hwm_self_mb") is not None:
        table.row("  its own high-water mark (VmHWM, not inherited)", f"{batch['hwm_self_mb']:,.0f} MB")
    table.row("peak memory, largest worker (ru_maxrss children)", f"{batch['rss_children_mb']:,.0f} MB")
    table.note("ru_maxrss starts from the parent's at fork; a forked worker's resident memory includes pages it shares")


def load_average() -> str:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark invictus-rules and print a table of figures with their targets.")
    parser.add_argument("--quick", action="store_true", help="a short run for the smoke test; figures are rough")
    parser.add_argument("--cases", type=int, default=None, metavar="N", help="cases in the batch run (default 200000; 2000 with --quick)")
    parser.add_argument("--batch-only", action="store_true", help=argparse.SUPPRESS)  # internal: the batch in a fresh process
    args = parser.parse_args(argv)
    if args.cases is not None and args.cases < 1:
        parser.error("--cases must be at least 1")
    settings = Settings.make(args.quick, args.cases)
    if args.batch_only:
        print(json.dumps(batch_figures(settings.batch_cases)))
        return 0

    table = Table()
    started = dt.datetime.now(dt.UTC)
    print(f"invictus-rules benchmarks, {started:%Y-%m-%d %H:%M} UTC" + (" (--quick: short runs, rough figures)" if settings.quick else ""))
    for key, value in machine().items():
        print(f"  {key:<9} {value}")
    print(f"  {'engine':<9} {engine_identity()}")
    print(f"  {'load avg':<9} {load_average()} (1, 5, 15 min) at the start: other work on the machine lowers every figure")

    # the batch first, while this process is small: a child's ru_maxrss starts from its parent's
    batch = run_batch_process(settings)
    table.header()

    # ---- load + validate + compile
    table.section(f"Load + validate + compile, load_ruleset(Path(...)), median of {settings.load_runs} runs")
    load_ruleset(cases.BENCHMARK_RULESET)  # warm-up: first-use costs (imports, caches) are not per ruleset
    if load_ruleset(cases.BENCHMARK_RULESET).compiled is load_ruleset(cases.BENCHMARK_RULESET).compiled:
        table.note("load_ruleset returned the same compiled object twice: a cache, so these are cache hits, not compile times")
    for path in shipped_rulesets() + [cases.BENCHMARK_RULESET]:
        seconds = median_time(lambda path=path: load_ruleset(path), settings.load_runs)
        table.row(str(path.relative_to(ROOT)), f"{seconds * 1000:,.1f} ms", f"< {COMPILE_TARGET_MS:.0f} ms", seconds * 1000 < COMPILE_TARGET_MS)

    # ---- single process
    benchmark = load_ruleset(cases.BENCHMARK_RULESET)
    nl_path = ROOT / "rulesets" / "nl" / "2026.1.yaml"
    nl = load_ruleset(nl_path)
    bench_complete = cases.benchmark_cases(settings.benchmark_cases)
    bench_partial = cases.partial_cases(bench_complete)
    nl_complete = cases.generic_cases(nl, settings.nl_cases)
    nl_partial = cases.partial_cases(nl_complete, keep_out=[q.id for q in nl.questions if q.ask_if is None])

    table.section(f"Single process, benchmark ruleset (median of {settings.runs} runs)")
    engine_rate = single_process(table, "benchmark", benchmark, bench_complete, bench_partial, settings)
    table.section(f"Single process, nl 2026.1 (median of {settings.runs} runs)")
    single_process(table, "nl", nl, nl_complete, nl_partial, settings)

    # ---- hand-written twin
    table.section("Hand-written twin (benchmarks/handwritten.py), benchmark ruleset, decisions only")
    validated = [benchmark.validate_answers(answers) for answers in bench_complete]
    differences = compare_with_twin(benchmark, validated)
    table.row(f"engine == hand-written on every case ({len(validated):,} cases)", "yes" if not differences else f"{len(differences):,} differ", "all equal", not differences)
    for index, engine, twin in differences[:3]:
        table.note(f"case {index}: engine {engine}")
        table.note(f"{'':>{len(str(index)) + 5}} twin   {twin}")
    values = [answers.values for answers in validated]
    twin_rate = rate(lambda answers: handwritten.decide(answers, AS_OF), values, settings)
    table.row("hand-written decide(answers, as_of)", per_second(twin_rate))
    ratio = twin_rate / engine_rate
    table.row("engine time / hand-written time (decisions only)", f"{ratio:.2f}x", f"<= {RATIO_TARGET:.0f}x (aim {RATIO_AIM}x)", ratio <= RATIO_TARGET)
    plain = [handwritten.decide_plain(answers, AS_OF) for answers in bench_complete]
    same = all(engine_decisions(benchmark, benchmark.decide(answers, as_of=AS_OF)) == twin for answers, twin in zip(bench_complete, plain, strict=True))
    table.row("engine decide(dict) == hand-written on plain dicts, every case", "yes" if same else "no", "all equal", same)
    plain_rate = rate(lambda answers: handwritten.decide_plain(answers, AS_OF), bench_complete, settings)
    dict_rate = rate(lambda answers: benchmark.decide(answers, as_of=AS_OF), bench_complete, settings)
    table.row("hand-written decide_plain(dict, as_of)", per_second(plain_rate))
    table.row("engine decide(dict)", per_second(dict_rate))
    dict_ratio = plain_rate / dict_rate
    table.row("engine decide(dict) time / hand-written on plain dicts", f"{dict_ratio:.2f}x", f"<= {RATIO_TARGET:.0f}x (aim {DICT_RATIO_AIM}x)", dict_ratio <= RATIO_TARGET)

    print_batch(table, batch, settings)

    # ---- memory per compiled ruleset
    table.section("Memory held by one compiled ruleset (tracemalloc, after a warm-up load)")
    use_count = 20 if settings.quick else 100
    tracemalloc.start()
    try:
        for name, path, use in (("nl 2026.1", nl_path, nl_complete[:use_count]), ("benchmark", cases.BENCHMARK_RULESET, bench_complete[:use_count])):
            loaded, used = compiled_size_mb(path, use)
            table.row(f"{name}: just after load_ruleset", f"{loaded:,.2f} MB", f"< {MEMORY_TARGET_MB:.0f} MB", loaded < MEMORY_TARGET_MB)
            table.row(f"{name}: after {use_count} JSON assessments in each language", f"{used:,.2f} MB", f"< {MEMORY_TARGET_MB:.0f} MB", used < MEMORY_TARGET_MB)
    finally:
        tracemalloc.stop()
    table.row("peak memory of this process (ru_maxrss)", f"{max_rss_mb():,.0f} MB")

    # ---- summary
    met = sum(1 for *_, status in table.targets if status == "MET")
    elapsed = (dt.datetime.now(dt.UTC) - started).total_seconds()
    print(f"\n{met} of {len(table.targets)} targets met; run took {elapsed:,.0f} s; load average at the end {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
