"""Evaluate many cases on all cores, streaming: results come back in input order, in bounded memory.

Each worker process compiles the ruleset once from its source text (compiled rulesets hold
generated code and are not sent between processes), then evaluates chunks of cases. Only a bounded
window of chunks is in flight at a time, so a corpus of any size streams through in constant memory.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import multiprocessing
import os
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, TypeVar

from .answers import AnswerChecker
from .cases import Case
from .compile import CompiledRuleset
from .errors import AnswersError
from .evaluate import evaluate
from .load import compile_source
from .result import build_assessment

Output = Literal["decisions", "outcome", "assessment", "json"]
CHUNK = 256
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
    answers: Mapping[str, Any] = case
    if isinstance(case, Case):
        answers, as_of, language = case.answers, case.as_of or as_of, case.language or language
    checker = compiled.cache.get("answer-checker") or compiled.cache.setdefault("answer-checker", AnswerChecker({q.spec.id: q.spec for q in compiled.questions}))
    try:
        outcome = evaluate(compiled, checker.validate(answers), as_of)
    except AnswersError as error:
        return error
    if output == "outcome":
        return outcome
    if output == "decisions":
        return decisions(compiled, outcome)
    assessment = build_assessment(compiled, outcome, language=language, trace=trace)
    return assessment if output == "assessment" else assessment.model_dump_json()


def decisions(compiled: CompiledRuleset, outcome: Any) -> dict[str, Any]:
    """The decisions of one case as plain data: level per score (None while undecided), services
    referred, referral rules deferred for safety, information items given, rules pending. Small, so it
    travels cheaply between processes."""
    levels = {}
    for score, result in zip(compiled.scores, outcome.scores):
        level = result.level
        levels[score.spec.id] = score.level_ids[level[0]] if level is not None and level[0] == level[1] else None
    referred = list(dict.fromkeys(rule.spec.service for rule, fired in zip(compiled.referrals, outcome.referred) if fired is True))
    deferred = [compiled.referrals[index].spec.id for index, _ in outcome.deferred]
    information = [item.spec.id for item, given in zip(compiled.information, outcome.information) if given is True]
    pending = [rule.spec.id for rule, fired in zip((*compiled.referrals, *compiled.information), (*outcome.referrals, *outcome.information)) if fired is None]
    return {"levels": levels, "referrals": referred, "deferred": deferred, "information": information, "pending": pending}


def _chunk(cases: list[Mapping[str, Any]]) -> list[Any]:
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
) -> Iterator[R]:
    """``function`` over chunks of ``items`` in worker processes, results in order, a bounded window at a time."""
    chunks = _chunks(items, chunk_size)
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with context.Pool(workers, initializer=initializer, initargs=initargs) as pool:
        in_flight: collections.deque[Any] = collections.deque()
        for chunk in itertools.islice(chunks, workers * 4):
            in_flight.append(pool.apply_async(function, (chunk,)))
        while in_flight:
            results = in_flight.popleft().get()
            following = next(chunks, None)  # keep the workers busy while results are handed back
            if following is not None:
                in_flight.append(pool.apply_async(function, (following,)))
            yield from results


def evaluate_batch(
    source: bytes | str,
    file: str,
    cases: Iterable[Mapping[str, Any]],
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
    yield from ordered_parallel_map(_chunk, cases, workers=workers, initializer=_init, initargs=(source, file, as_of, language, output, trace))
