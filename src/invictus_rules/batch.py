"""Evaluate many cases on all cores, streaming: results come back in input order, in bounded memory.

Each worker process compiles the ruleset once from its source text (compiled rulesets hold
generated code and are not sent between processes), then evaluates chunks of cases. Only a bounded
window of chunks is in flight at a time, so a corpus of any size streams through in constant memory.
A worker that dies stops the run with a BatchError; a case that cannot be sent to a worker is
evaluated here, giving the same result (usually its AnswersError) as with one worker.
"""

from __future__ import annotations

import collections
import concurrent.futures
import concurrent.futures.process
import datetime as dt
import itertools
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, Literal, TypeVar

from .answers import AnswerChecker, Answers, CheckedBy, refuse_foreign
from .cases import Case
from .compile import compile_source
from .compiled import CompiledRuleset
from .decisions import DecisionIds, Decisions
from .errors import AnswersError, BatchError, Problem
from .evaluate import evaluate
from .outcome import Outcome
from .result import build_assessment

Output = Literal["decisions", "outcome", "assessment", "json"]
CHUNK = 256
MAX_WORKERS = max(64, 4 * (os.cpu_count() or 1))
"""Worker processes one run may start; more are not started (each costs a process and memory)."""
T = TypeVar("T")
R = TypeVar("R")

_WORKER: dict[str, Any] = {}


def _init(source: bytes | str, file: str, as_of: dt.date, language: str | None, output: Output, trace: bool) -> None:
    compiled = compile_source(source, file)
    _WORKER.update(compiled=compiled, as_of=as_of, language=language or compiled.metadata.default_language, output=output, trace=trace)


def evaluate_one(compiled: CompiledRuleset, case: Mapping[str, Any] | Case, as_of: dt.date, language: str, output: Output, trace: bool) -> Any:
    """One case's result, or the AnswersError it raised (returned, so one bad case stops nothing).

    ``case`` is an answers mapping, or a :class:`Case` whose own ``as_of`` and ``language`` (when
    set) take the place of the run's.
    """
    answers: Mapping[str, Any] | Answers = case.answers if isinstance(case, Case) else case
    if isinstance(case, Case):
        as_of, language = case.as_of or as_of, case.language or language
    checker = answer_checker(compiled)
    try:
        if type(answers) is Answers:
            if answers._checker is not checker.stamp:
                refuse_foreign(answers, checker.stamp)
            outcome = evaluate(compiled, answers, as_of)
        else:
            outcome = evaluate(compiled, checker.validate(answers), as_of)
    except AnswersError as error:
        return error
    if output == "outcome":
        return outcome
    if output == "decisions":
        return decisions(compiled, outcome)
    assessment = build_assessment(compiled, outcome, language=language, trace=trace)
    return assessment if output == "assessment" else assessment.model_dump_json()


def answer_checker(compiled: CompiledRuleset) -> AnswerChecker:
    """The compiled ruleset's answer checker, made once: it stamps the answers it accepts with the
    ruleset's name and digest, so that only this ruleset (or one with the same digest) evaluates them."""
    checker = compiled.cache.get("answer-checker")
    if checker is None:
        stamp = CheckedBy(f"{compiled.metadata.id}@{compiled.metadata.version}", compiled.digest)
        checker = compiled.cache.setdefault("answer-checker", AnswerChecker({q.spec.id: q.spec for q in compiled.questions}, stamp))
    return checker  # type: ignore[no-any-return]


def decisions(compiled: CompiledRuleset, outcome: Outcome) -> dict[str, Any]:
    """The decisions of one case as plain data, the same as ``Ruleset.decide(...).to_dict()``: small,
    so it travels cheaply between processes."""
    return Decisions(outcome, DecisionIds.of(compiled)).to_dict()


def _chunk(cases: list[Mapping[str, Any] | Case]) -> list[Any]:
    w = _WORKER
    return [evaluate_one(w["compiled"], answers, w["as_of"], w["language"], w["output"], w["trace"]) for answers in cases]


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def ordered_parallel_map(
    function: Callable[[list[T]], list[R]],
    items: Iterable[T],
    *,
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
    chunk_size: int = CHUNK,
    local: Callable[[T], R] | None = None,
) -> Iterator[R]:
    """``function`` over chunks of ``items`` in worker processes, results in order, a bounded window at a time.

    An item that cannot be sent to a worker (it cannot be pickled) is handed to ``local`` in this
    process instead, so it gives the result it would give with one worker. A worker that dies (killed
    by a signal or by the system for lack of memory) stops the run with a BatchError instead of
    leaving it waiting forever for the lost chunk. At most ``MAX_WORKERS`` processes are started.
    """
    workers = max(1, min(workers, MAX_WORKERS))
    chunks = _chunks(items, chunk_size)
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, initargs=initargs) as pool:
        in_flight: collections.deque[_Job[R]] = collections.deque()
        done = 0
        waiting_for = chunk_size
        try:
            for chunk in itertools.islice(chunks, workers * 4):
                in_flight.append(_submit(pool, function, chunk, local))
            while in_flight:
                job = in_flight.popleft()
                waiting_for = job.size
                results = job.results()
                following = next(chunks, None)  # keep the workers busy while results are handed back
                if following is not None:
                    in_flight.append(_submit(pool, function, following, local))
                done += job.size
                yield from results
        except concurrent.futures.process.BrokenProcessPool:
            # raised while waiting for a result, or by submit() once the pool has seen the death
            raise BatchError([_worker_died(done, waiting_for)]) from None
        finally:
            for job in in_flight:
                job.future.cancel()


def _worker_died(done: int, size: int) -> Problem:
    return Problem(
        "worker-died",
        f"a worker process ended without answering (killed by a signal, or by the system for lack of memory) while it had cases {done + 1} to {done + size}; the run is stopped",
        "run again, with fewer --workers or more memory; results given before this point are complete",
    )


class _Job(Generic[R]):
    """One chunk in flight: the worker's future, and the results of items computed here instead."""

    __slots__ = ("future", "size", "here")

    def __init__(self, future: concurrent.futures.Future[list[R]], size: int, here: dict[int, R]):
        self.future = future
        self.size = size
        self.here = here

    def results(self) -> list[R]:
        remote = iter(self.future.result())
        return [self.here[index] if index in self.here else next(remote) for index in range(self.size)]


def _submit(pool: concurrent.futures.Executor, function: Callable[[list[T]], list[R]], chunk: list[T], local: Callable[[T], R] | None) -> _Job[R]:
    here: dict[int, R] = {}
    try:
        payload = pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL)
    except Exception:  # some item cannot be pickled: PicklingError, TypeError, AttributeError, ...
        remote = []
        for index, item in enumerate(chunk):
            try:
                pickle.dumps(item, pickle.HIGHEST_PROTOCOL)
            except Exception:
                if local is None:
                    raise BatchError([Problem("not-picklable", f"item {index + 1} of a chunk cannot be sent to a worker process", "use plain data (dicts, lists, text, numbers), or workers=1")]) from None
                here[index] = local(item)
            else:
                remote.append(item)
        payload = pickle.dumps(remote, pickle.HIGHEST_PROTOCOL)
    return _Job(pool.submit(_unpickled, function, payload), len(chunk), here)


def _unpickled(function: Callable[[list[T]], list[R]], payload: bytes) -> list[R]:
    return function(pickle.loads(payload))


def evaluate_batch(
    source: bytes | str,
    file: str,
    cases: Iterable[Mapping[str, Any] | Case],
    *,
    as_of: dt.date,
    language: str | None,
    output: Output,
    trace: bool,
    workers: int | None,
    local: CompiledRuleset,
) -> Iterator[Any]:
    """Results for ``cases`` in order: Outcome, Assessment or JSON text per case, or its AnswersError."""
    workers = workers or os.cpu_count() or 1
    if workers <= 1:
        lang = language or local.metadata.default_language
        for answers in cases:
            yield evaluate_one(local, answers, as_of, lang, output, trace)
        return
    lang = language or local.metadata.default_language
    yield from ordered_parallel_map(
        _chunk,
        cases,
        workers=workers,
        initializer=_init,
        initargs=(source, file, as_of, language, output, trace),
        local=lambda answers: evaluate_one(local, answers, as_of, lang, output, trace),
    )
