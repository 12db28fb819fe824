"""Impact analysis: run every case under two ruleset versions and count what changes for victims.

Cases stream from a folder of JSON files or a JSON Lines file (or are generated: random cases
anchored on the as-of date, plus, for every condition and outcome that changed, the solver's
counterexample cases; generated cases are *synthetic*, not a sample of real cases, and every output
says so), are evaluated in worker processes on all cores, in bounded batches so memory stays
constant, and only counts and case ids are kept: case contents are personal data.

Compared per case: levels, referrals per service with mode and priority, information items, and
pending rules. The summary names both versions' hashes, the as-of date and a digest of the corpus,
counts unknown answer keys, duplicate case ids and unreadable files (reported, not fatal).

How it is made fast (every count equals a plain per-case loop; ``tests/test_impact.py`` checks it):

- each version's decisions come from the engine's positional ``Outcome`` (the two-valued fast path
  where the case is complete, straight to the three-valued path otherwise), read through ids
  prepared once per version: no texts, no trace, no ``Assessment``;
- generated cases are made *in the worker processes*, in fixed blocks of ``BLOCK`` cases, each block
  with its own random stream seeded by (generator version, seed, block): the cases, and so the
  report, are the same for any number of processes, and blocks are merged in their order;
- the random cases' answers are drawn in the form the answer check gives them (dates, sets of
  options) when every drawn answer fits both versions, so they are not checked again per case;
- workers send back one tally per block (counts and the first example ids), not one result per case.

Cases are not deduplicated: generated cases almost never coincide on the questions the rules read
(on nl, 20,000 cases gave 20,000 distinct answer sets over the 50 questions either version reads,
and 18,700 distinct decisions per version), so the two evaluations per case are the cost.

Generated cases, format ``GENERATOR`` (``invictus-rules/generate/v2``): every question of either
version is left out with probability 0.15, marked declined or unknown with 0.025 each, and otherwise
answered: yes/no true with probability 0.4; numbers uniform over the question's range (0 to 100
without one), whole numbers rounded, others to 2 decimals; one option uniformly; each option of a
multiple choice with probability 0.3; dates 0 to 60 days before the as-of date half of the time,
else 0 to 80 years before; text a fixed note. Block ``k`` of the ``N`` random cases holds cases
``k * BLOCK + 1`` onwards; then, for each boundary case of the solver, the case as it is and
``max(2, N // 100)`` variants with the other questions filled at random. The corpus digest of a
generated run is the digest of what determines every case (generator, seed, count, as-of date, both
versions' hashes and the boundary cases). Version 1 (before 2026.12) drew every case from one
random stream in the main process; its reports differ from version 2's for the same seed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ..answers import AnswerChecker, Answers
from ..api import Ruleset, load_ruleset
from ..batch import ordered_parallel_map
from ..compiled import CompiledRuleset
from ..errors import AnswersError
from ..evaluate import decide_dict, evaluate, evaluate_three_valued
from ..model import PRIORITY_RANK, Question
from ..outcome import Outcome

EXAMPLES_PER_KIND = 5
BATCH = 512
BLOCK = 1000
"""Generated cases per block: fixed, so that the cases do not depend on the number of processes."""
GENERATOR = "invictus-rules/generate/v2"


@dataclass(frozen=True)
class Decisions:
    """What a victim gets under one version: levels, referrals with priority, information, pending."""

    levels: tuple[tuple[str, str], ...]
    referrals: tuple[tuple[str, str], ...]
    information: frozenset[str]
    pending: frozenset[str]
    modes: tuple[tuple[str, str], ...] = ()
    deferred: frozenset[str] = frozenset()


def _checker(compiled: CompiledRuleset) -> AnswerChecker:
    found = compiled.cache.get("answer-checker")
    if found is None:
        found = compiled.cache.setdefault("answer-checker", AnswerChecker({q.spec.id: q.spec for q in compiled.questions}))
    return found  # type: ignore[no-any-return]


def decisions(ruleset: Ruleset | CompiledRuleset, answers: dict[str, Any], as_of: dt.date) -> Decisions:
    """The decisions of one case (answers to questions the version does not have are left out), from
    the engine's decisions-only path: no texts rendered. Raises AnswersError for answers that do not fit."""
    compiled = ruleset.compiled if isinstance(ruleset, Ruleset) else ruleset
    known = compiled.question_by_id
    outcome = decide_dict(compiled, {k: v for k, v in answers.items() if k in known}, as_of, _checker(compiled).validate)
    return decisions_of(compiled, outcome)


class _Positions:
    """A version's ids and referral settings by position, read once for many outcomes."""

    def __init__(self, compiled: CompiledRuleset):
        from ..tools.smt import MODE_ORDER

        self.scores = tuple((score.spec.id, score.level_ids) for score in compiled.scores)
        self.referral_ids = tuple(rule.spec.id for rule in compiled.referrals)
        self.information_ids = tuple(item.spec.id for item in compiled.information)
        # per referral rule: service, priority, mode, and the ranks that decide a merge
        self.referrals = tuple(
            (rule.spec.service, rule.spec.priority, rule.spec.mode, PRIORITY_RANK[rule.spec.priority], MODE_ORDER.index(rule.spec.mode)) for rule in compiled.referrals
        )
        self.by_mode = compiled.safety is not None


def decisions_of(compiled: CompiledRuleset, outcome: Outcome) -> Decisions:
    """The decisions of an evaluated case."""
    plan: _Positions | None = compiled.cache.get("impact-positions")
    if plan is None:
        plan = compiled.cache.setdefault("impact-positions", _Positions(compiled))
    levels = []
    for (score_id, level_ids), result in zip(plan.scores, outcome.scores, strict=True):
        level = result.level
        levels.append((score_id, "(no level)" if level is None else level_ids[level[0]] if level[0] == level[1] else "undecided"))
    pending = [rule for rule, fired in zip(plan.referral_ids, outcome.referrals, strict=True) if fired is None]
    pending.extend(item for item, fired in zip(plan.information_ids, outcome.information, strict=True) if fired is None)
    merged = _merged(plan, outcome)
    return Decisions(
        tuple(levels),
        tuple(sorted((service, priority) for service, (priority, _) in merged.items())),
        frozenset([item for item, fired in zip(plan.information_ids, outcome.information, strict=True) if fired is True]),
        frozenset(pending),
        tuple(sorted((service, mode) for service, (_, mode) in merged.items())),
        frozenset([plan.referral_ids[index] for index, _ in outcome.deferred]),
    )


def _merged(plan: _Positions, outcome: Outcome) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    ranks: dict[str, tuple[int, int]] = {}
    for (service, priority, mode, priority_rank, mode_rank), fired in zip(plan.referrals, outcome.referred, strict=True):
        if fired is not True:
            continue
        current = ranks.get(service)
        if current is None:
            merged[service], ranks[service] = (priority, mode), (priority_rank, mode_rank)
            continue
        (old_priority, old_mode), (old_priority_rank, old_mode_rank) = merged[service], current
        higher = priority_rank < old_priority_rank
        if plan.by_mode:
            new_mode, new_mode_rank = (mode, mode_rank) if mode_rank < old_mode_rank else (old_mode, old_mode_rank)
        else:  # the mode of the highest-priority rule, the first listed on a tie
            new_mode, new_mode_rank = (mode, mode_rank) if higher else (old_mode, old_mode_rank)
        merged[service] = (priority if higher else old_priority, new_mode)
        ranks[service] = (priority_rank if higher else old_priority_rank, new_mode_rank)
    return merged


def compare_decisions(old: Decisions, new: Decisions) -> list[str]:
    """The kinds of change between two outcomes, e.g. 'referral gained: veilig_thuis'."""
    kinds = []
    old_levels, new_levels = dict(old.levels), dict(new.levels)
    for score in dict.fromkeys([*old_levels, *new_levels]):
        before, after = old_levels.get(score, "(no score)"), new_levels.get(score, "(no score)")
        if before != after:
            kinds.append(f"level {score}: {before} -> {after}")
    old_refs, new_refs = dict(old.referrals), dict(new.referrals)
    for service in sorted(set(new_refs) - set(old_refs)):
        kinds.append(f"referral gained: {service}")
    for service in sorted(set(old_refs) - set(new_refs)):
        kinds.append(f"referral lost: {service}")
    for service in sorted(set(old_refs) & set(new_refs)):
        if old_refs[service] != new_refs[service]:
            kinds.append(f"referral priority {service}: {old_refs[service]} -> {new_refs[service]}")
    old_modes, new_modes = dict(old.modes), dict(new.modes)
    for service in sorted(set(old_modes) & set(new_modes)):
        if old_modes[service] != new_modes[service]:
            kinds.append(f"referral mode {service}: {old_modes[service]} -> {new_modes[service]}")
    for rule in sorted(new.deferred - old.deferred):
        kinds.append(f"deferred now: {rule}")
    for rule in sorted(old.deferred - new.deferred):
        kinds.append(f"no longer deferred: {rule}")
    for rule in sorted(new.pending - old.pending):
        kinds.append(f"pending now: {rule}")
    for rule in sorted(old.pending - new.pending):
        kinds.append(f"no longer pending: {rule}")
    for item in sorted(new.information - old.information):
        kinds.append(f"information gained: {item}")
    for item in sorted(old.information - new.information):
        kinds.append(f"information lost: {item}")
    return kinds


@dataclass
class Tally:
    """Counts over some cases, in case order: what a worker sends back for a block of cases."""

    cases: int = 0
    changed: int = 0
    invalid_old: int = 0
    invalid_new: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    affected: list[tuple[str, list[str]]] | None = None

    def add(self, case_id: str, kinds: Sequence[str], old_invalid: bool, new_invalid: bool) -> None:
        self.cases += 1
        self.invalid_old += old_invalid
        self.invalid_new += new_invalid
        if kinds:
            self.changed += 1
            if self.affected is not None:
                self.affected.append((case_id, list(kinds)))
            for kind in kinds:
                self.kinds[kind] += 1
                if len(self.examples[kind]) < EXAMPLES_PER_KIND:
                    self.examples[kind].append(case_id)

    def merge(self, later: Tally) -> None:
        """Add the counts of cases that come after these (the first example ids are kept)."""
        self.cases += later.cases
        self.changed += later.changed
        self.invalid_old += later.invalid_old
        self.invalid_new += later.invalid_new
        self.kinds.update(later.kinds)
        for kind, ids in later.examples.items():
            kept = self.examples[kind]
            kept.extend(ids[: EXAMPLES_PER_KIND - len(kept)])
        if self.affected is not None and later.affected is not None:
            self.affected.extend(later.affected)


@dataclass
class ImpactReport(Tally):
    old: str = ""
    new: str = ""
    old_sha256: str = ""
    new_sha256: str = ""
    as_of: str = ""
    corpus_digest: str = ""
    synthetic: bool = False
    generator: str = ""
    """The format of generated cases (``GENERATOR``), empty for a corpus of cases."""
    unknown_keys: Counter[str] = field(default_factory=Counter)
    cases_with_unknown_keys: int = 0
    duplicate_ids: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": "invictus-rules/impact/v1",
            "old": self.old,
            "new": self.new,
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
            "as_of": self.as_of,
            "corpus_digest": self.corpus_digest,
            "synthetic": self.synthetic,
        }
        if self.generator:
            data["generator"] = self.generator
        data.update(
            {
                "unknown_answer_keys": {"cases": self.cases_with_unknown_keys, "keys": dict(sorted(self.unknown_keys.items()))},
                "duplicate_case_ids": self.duplicate_ids,
                "unreadable": [{"file": file, "problem": code} for file, code in self.unreadable],
                "cases": self.cases,
                "changed": self.changed,
                "cases_with_answers_set_aside_under_old": self.invalid_old,
                "cases_with_answers_set_aside_under_new": self.invalid_new,
                "changes": [
                    {"change": kind, "cases": count, "example_case_ids": self.examples[kind]}
                    for kind, count in sorted(self.kinds.items(), key=lambda pair: (-pair[1], pair[0]))
                ],
            }
        )
        return data


# -- evaluating ---------------------------------------------------------------------------------


class _Version:
    """One version ready to decide many cases: its answer check, and its rules' ids by position."""

    def __init__(self, compiled: CompiledRuleset):
        self.compiled = compiled
        self.known = frozenset(compiled.question_by_id)
        self.validate = _checker(compiled).validate
        self.questions = len(compiled.questions)

    def view(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The answers to this version's questions."""
        if self.known.issuperset(answers):
            return answers
        known = self.known
        return {k: v for k, v in answers.items() if k in known}

    def checked(self, values: dict[str, Any], declined: frozenset[str], unknown: frozenset[str]) -> Answers:
        """Checked answers, keeping this version's questions."""
        known = self.known
        if known.issuperset(values) and known.issuperset(declined) and known.issuperset(unknown):
            return Answers(values, declined, unknown)
        return Answers({k: v for k, v in values.items() if k in known}, declined & known, unknown & known)

    def decide(self, answers: dict[str, Any], as_of: dt.date) -> tuple[Decisions, bool]:
        """The case's decisions, and whether answers that do not fit this version were set aside
        (e.g. an option the version does not have): the rest of the case is still assessed."""
        try:
            validated = self.validate(answers)
        except AnswersError as error:
            unfit = {problem.path.removeprefix("$.") for problem in error.problems}
            kept = {key: value for key, value in answers.items() if key not in unfit}
            try:
                validated = self.validate(kept)
            except AnswersError:
                validated = self.validate({})
            return self.decisions(validated, as_of), True
        return self.decisions(validated, as_of), False

    def decisions(self, answers: Answers, as_of: dt.date) -> Decisions:
        """A case with an answer left out, declined or unknown goes straight to the three-valued
        path, where ``evaluate`` would go after trying the fast path; a complete case takes the fast path."""
        if answers.declined or answers.unknown or len(answers.values) < self.questions:
            return decisions_of(self.compiled, evaluate_three_valued(self.compiled, answers, as_of))
        return decisions_of(self.compiled, evaluate(self.compiled, answers, as_of))


class _Pair:
    """Both versions of an impact run."""

    def __init__(self, old: CompiledRuleset, new: CompiledRuleset):
        self.old = _Version(old)
        self.new = _Version(new)

    def compare(self, answers: dict[str, Any], as_of: dt.date) -> tuple[list[str], bool, bool]:
        """The kinds of change for one case, and whether answers were set aside under each version."""
        old, old_unfit = self.old.decide(self.old.view(answers), as_of)
        new, new_unfit = self.new.decide(self.new.view(answers), as_of)
        return (compare_decisions(old, new) if old != new else []), old_unfit, new_unfit

    def compare_checked(self, values: dict[str, Any], declined: frozenset[str], unknown: frozenset[str], as_of: dt.date) -> tuple[list[str], bool, bool]:
        """``compare`` for answers already checked against both versions (each keeps its own questions)."""
        old = self.old.decisions(self.old.checked(values, declined, unknown), as_of)
        new = self.new.decisions(self.new.checked(values, declined, unknown), as_of)
        return (compare_decisions(old, new) if old != new else []), False, False


# -- running ------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(key: tuple[Any, ...], old_ref: str, new_ref: str, rulesets_dir: str | None, generation: dict[str, Any] | None = None) -> None:
    """Ready a worker process: both versions compiled (inherited from the parent when forked)."""
    if _WORKER.get("key") == key:
        return
    old, new = _load(old_ref, rulesets_dir), _load(new_ref, rulesets_dir)
    _prepare(key, old, new, generation)


def _prepare(key: tuple[Any, ...], old: Ruleset, new: Ruleset, generation: dict[str, Any] | None) -> None:
    _WORKER.clear()
    _WORKER.update(key=key, pair=_Pair(old.compiled, new.compiled), dates={})
    if generation is not None:
        _WORKER["keep_affected"] = generation["keep_affected"]
        _WORKER["generator"] = CaseGenerator(old, new, generation["count"], generation["seed"], dt.date.fromisoformat(generation["as_of"]), generation["focus"])


def _load(reference: str, rulesets_dir: str | None) -> Ruleset:
    path = Path(reference)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return load_ruleset(path)
    return load_ruleset(reference, rulesets_dir=rulesets_dir)


def _run_chunk(chunk: list[tuple[str, dict[str, Any], str]]) -> list[tuple[str, list[str], bool, bool]]:
    pair: _Pair = _WORKER["pair"]
    dates: dict[str, dt.date] = _WORKER["dates"]
    results = []
    for case_id, answers, as_of in chunk:
        date = dates.get(as_of)
        if date is None:
            date = dates[as_of] = dt.date.fromisoformat(as_of)
        results.append((case_id, *pair.compare(answers, date)))
    return results


def _run_blocks(blocks: list[Block]) -> list[Tally]:
    pair: _Pair = _WORKER["pair"]
    generator: CaseGenerator = _WORKER["generator"]
    as_of = generator.as_of
    keep: bool = _WORKER["keep_affected"]
    tallies = []
    for block in blocks:
        tally = Tally(affected=[] if keep else None)
        if block.focus == 0 and generator.prevalidated:
            for case_id, values, declined, unknown in generator.checked_block(block):
                tally.add(case_id, *pair.compare_checked(values, frozenset(declined), frozenset(unknown), as_of))
        else:
            for case_id, answers in generator.block(block):
                tally.add(case_id, *pair.compare(answers, as_of))
        tallies.append(tally)
    return tallies


def _batches(cases: Iterable[tuple[str, dict[str, Any], str]], size: int) -> Iterator[list[tuple[str, dict[str, Any], str]]]:
    batch: list[tuple[str, dict[str, Any], str]] = []
    for case in cases:
        batch.append(case)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_impact(
    old_ref: str,
    new_ref: str,
    cases: Iterable[tuple[str, dict[str, Any], str]],
    *,
    workers: int | None = None,
    rulesets_dir: str | None = None,
    progress: Callable[[int], None] | None = None,
    as_of: dt.date | None = None,
    synthetic: bool = False,
    keep_affected: bool = False,
) -> ImpactReport:
    """Evaluate (case_id, answers, as_of ISO) triples under both versions, on ``workers`` processes.

    ``unreadable`` entries of the stream (see :class:`Unreadable`) are counted and named, not fatal."""
    report = ImpactReport(old=old_ref, new=new_ref, as_of=as_of.isoformat() if as_of else "", synthetic=synthetic)
    if keep_affected:
        report.affected = []
    old_rs, new_rs = _load(old_ref, rulesets_dir), _load(new_ref, rulesets_dir)
    report.old_sha256, report.new_sha256 = old_rs.sha256, new_rs.sha256
    known = {q.id for q in old_rs.questions} | {q.id for q in new_rs.questions}
    workers = workers or os.cpu_count() or 1
    accounted = _account(cases, report, known)
    key = ("corpus", old_ref, new_ref, rulesets_dir, old_rs.sha256, new_rs.sha256)
    _prepare(key, old_rs, new_rs, None)  # forked workers inherit the compiled versions
    try:
        if workers <= 1:
            for chunk in _batches(accounted, BATCH):
                for result in _run_chunk(chunk):
                    report.add(*result)
                if progress:
                    progress(report.cases)
            return report
        results = ordered_parallel_map(_run_chunk, accounted, workers=workers, initializer=_init_worker, initargs=(key, old_ref, new_ref, rulesets_dir), chunk_size=BATCH)
        for count, result in enumerate(results, 1):
            report.add(*result)
            if progress and count % BATCH == 0:
                progress(report.cases)
        if progress:
            progress(report.cases)
        return report
    finally:
        _WORKER.clear()


def run_generated_impact(
    old_ref: str,
    new_ref: str,
    count: int,
    seed: int,
    as_of: dt.date,
    focus: Sequence[dict[str, Any]] = (),
    *,
    workers: int | None = None,
    rulesets_dir: str | None = None,
    progress: Callable[[int], None] | None = None,
    keep_affected: bool = False,
) -> ImpactReport:
    """The impact on ``count`` generated cases and the variants of the ``focus`` (boundary) cases,
    made and evaluated in blocks on ``workers`` processes: the same report for any number of them."""
    report = ImpactReport(old=old_ref, new=new_ref, as_of=as_of.isoformat(), synthetic=True, generator=GENERATOR)
    if keep_affected:
        report.affected = []
    old_rs, new_rs = _load(old_ref, rulesets_dir), _load(new_ref, rulesets_dir)
    report.old_sha256, report.new_sha256 = old_rs.sha256, new_rs.sha256
    focus = [dict(case) for case in focus]
    generation = {"count": count, "seed": seed, "as_of": as_of.isoformat(), "focus": focus, "keep_affected": keep_affected}
    report.corpus_digest = generated_digest(old_rs, new_rs, count, seed, as_of, focus)
    key = ("generated", old_ref, new_ref, rulesets_dir, report.corpus_digest, keep_affected)
    _prepare(key, old_rs, new_rs, generation)  # forked workers inherit the compiled versions
    try:
        blocks = _WORKER["generator"].blocks()
        workers = workers or os.cpu_count() or 1
        if workers <= 1:
            tallies: Iterator[Tally] = (tally for block in blocks for tally in _run_blocks([block]))
        else:
            tallies = ordered_parallel_map(_run_blocks, blocks, workers=workers, initializer=_init_worker, initargs=(key, old_ref, new_ref, rulesets_dir, generation), chunk_size=1)
        for tally in tallies:
            report.merge(tally)
            if progress:
                progress(report.cases)
        return report
    finally:
        _WORKER.clear()


@dataclass(frozen=True)
class Unreadable:
    """A corpus entry that could not be read: the stream yields it in place of a case."""

    file: str
    code: str


_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _account(cases: Iterable[Any], report: ImpactReport, known: set[str]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Pass cases on, keeping the corpus digest, duplicate ids, unknown keys and unreadable files."""
    digest = hashlib.sha256()
    seen: set[str] = set()
    for entry in cases:
        if isinstance(entry, Unreadable):
            report.unreadable.append((entry.file, entry.code))
            continue
        case_id, answers, as_of = entry
        digest.update(json.dumps([case_id, answers, as_of], sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
        digest.update(b"\n")
        if case_id in seen:
            report.duplicate_ids += 1
        seen.add(case_id)
        unknown = [key for key in answers if key not in known]
        if unknown:
            report.cases_with_unknown_keys += 1
            for key in unknown:  # a key that is not an identifier may hold the victim's data: not named
                report.unknown_keys[key if isinstance(key, str) and _IDENTIFIER.fullmatch(key) else "(not shown)"] += 1
        yield entry
    report.corpus_digest = digest.hexdigest()


# -- generated cases --------------------------------------------------------------------------

_LEFT_OUT, _DECLINED, _UNKNOWN, _ANSWERED = 0.15, 0.175, 0.2, 0.8
"""Thresholds of one draw per question: left out below 0.15, declined below 0.175, unknown below 0.2;
above, ``(draw - 0.2) / 0.8`` is a fresh uniform number that picks the answer."""
_YES = _UNKNOWN + _ANSWERED * 0.4


class Block(NamedTuple):
    """A run of generated cases: ``size`` cases from number ``first`` (1-based) of a stream, which
    is the random cases (``focus`` 0) or the variants of boundary case ``focus``."""

    focus: int
    first: int
    size: int


_NOTE = "generated note"


def _answer_maker(question: Question, as_of: dt.date) -> Callable[[random.Random, float], Any] | None:
    """How to draw an answer, given the question's draw ``u`` (uniform in [0, 1)), in the form the
    answer check gives it (a date, a set of options); None for yes/no."""
    kind = question.type
    if kind == "boolean":
        return None
    if kind in ("integer", "number"):
        low = question.min if question.min is not None else 0
        high = question.max if question.max is not None else 100
        if kind == "integer":
            return lambda rng, u: int(round(low + (high - low) * u))
        return lambda rng, u: round(low + (high - low) * u, 2)
    options = [o.value for o in question.options or ()]
    if kind == "single_choice":
        last = len(options) - 1
        return lambda rng, u: options[min(last, int(u * len(options)))]
    if kind == "multiple_choice":
        return lambda rng, u: frozenset([o for o in options if rng.random() < 0.3])
    if kind == "date":  # anchored on the as-of date: recent dates as often as old ones
        ordinal = as_of.toordinal()
        return lambda rng, u: dt.date.fromordinal(ordinal - (rng.randint(0, 60) if u < 0.5 else rng.randint(0, 365 * 80)))
    return lambda rng, u: _NOTE


def _raw_form(question: Question) -> Callable[[Any], Any] | None:
    """How a drawn answer is written in a case's JSON (None: as it is)."""
    if question.type == "multiple_choice":
        options = [o.value for o in question.options or ()]
        return lambda chosen: [o for o in options if o in chosen]
    if question.type == "date":
        return lambda day: day.isoformat()
    return None


def _always_valid(question: Question) -> bool:
    """Whether every answer ``_answer_maker`` draws passes the question's answer check, and is
    what the check would give for its raw form."""
    if question.type == "integer":
        return all(bound is None or float(bound).is_integer() for bound in (question.min, question.max))
    if question.type == "number":
        return all(bound is None or round(bound, 2) == bound for bound in (question.min, question.max))
    if question.type in ("single_choice", "multiple_choice"):
        return bool(question.options) and len({o.value for o in question.options or ()}) == len(question.options or ())
    if question.type == "text":
        return question.max_length is None or question.max_length >= len(_NOTE)
    return True


def _check_key(question: Question) -> tuple[Any, ...]:
    return (question.type, question.min, question.max, tuple(o.value for o in question.options or ()), question.max_length)


class CaseGenerator:
    """Generated cases (format ``GENERATOR``, see the module docstring), block by block."""

    def __init__(self, old: Ruleset, new: Ruleset, count: int, seed: int, as_of: dt.date, focus: Sequence[dict[str, Any]] = ()):
        in_old = {q.id: q for q in old.questions}
        questions = dict(in_old)
        questions.update({q.id: q for q in new.questions})
        self.plan = [(question.id, _answer_maker(question, as_of)) for question in questions.values()]
        self.raw_forms = [(question.id, form) for question in questions.values() if (form := _raw_form(question)) is not None]
        self.count, self.seed, self.as_of, self.focus = count, seed, as_of, list(focus)
        self.variants = max(2, count // 100)
        self.prevalidated = all(_always_valid(q) for q in questions.values()) and all(
            _check_key(in_old[q.id]) == _check_key(q) for q in new.questions if q.id in in_old
        )
        """Whether the random cases' answers need no answer check: every drawn answer fits both
        versions (the same answer checks where both have the question), so they are made checked."""

    def blocks(self) -> list[Block]:
        """Every block, in case order."""
        blocks = [Block(0, first, min(BLOCK, self.count - first + 1)) for first in range(1, self.count + 1, BLOCK)]
        for index in range(1, len(self.focus) + 1):
            blocks.extend(Block(index, first, min(BLOCK, self.variants - first + 1)) for first in range(0, self.variants + 1, BLOCK))
        return blocks

    def block(self, block: Block) -> Iterator[tuple[str, dict[str, Any]]]:
        """The block's (case id, answers as in a case's JSON); variant 0 of a boundary case is the case as it is."""
        rng = self._stream(block)
        raw = self._raw
        if block.focus == 0:
            for number in range(block.first, block.first + block.size):
                yield f"synthetic-{number:06d}", raw(*self._draw(rng))
            return
        case = self.focus[block.focus - 1]
        for variant in range(block.first, block.first + block.size):
            if variant == 0:
                yield f"synthetic-boundary-{block.focus:04d}", dict(case)
                continue
            filled = raw(*self._draw(rng))
            filled.update(case)
            yield f"synthetic-boundary-{block.focus:04d}-{variant:03d}", filled

    def checked_block(self, block: Block) -> Iterator[tuple[str, dict[str, Any], list[str], list[str]]]:
        """A block of random cases (``focus`` 0) as (case id, checked values, declined, unknown): the
        answers of :meth:`block`, as the answer check gives them (only when ``prevalidated``)."""
        rng = self._stream(block)
        for number in range(block.first, block.first + block.size):
            yield (f"synthetic-{number:06d}", *self._draw(rng))

    def cases(self) -> Iterator[tuple[str, dict[str, Any], str]]:
        """Every case, in order, as (case id, answers, as-of date) triples."""
        day = self.as_of.isoformat()
        for block in self.blocks():
            for case_id, answers in self.block(block):
                yield case_id, answers, day

    def _stream(self, block: Block) -> random.Random:
        return random.Random(f"{GENERATOR} {self.seed} {block.focus} {block.first}")

    def _draw(self, rng: random.Random) -> tuple[dict[str, Any], list[str], list[str]]:
        draw = rng.random
        values: dict[str, Any] = {}
        declined: list[str] = []
        unknown: list[str] = []
        for question_id, make in self.plan:
            roll = draw()
            if roll < _LEFT_OUT:
                continue
            if roll < _UNKNOWN:
                (declined if roll < _DECLINED else unknown).append(question_id)
            elif make is None:
                values[question_id] = roll < _YES
            else:
                values[question_id] = make(rng, (roll - _UNKNOWN) / _ANSWERED)
        return values, declined, unknown

    def _raw(self, values: dict[str, Any], declined: list[str], unknown: list[str]) -> dict[str, Any]:
        answers = dict(values)
        for question_id, form in self.raw_forms:
            if question_id in answers:
                answers[question_id] = form(answers[question_id])
        for question_id in declined:
            answers[question_id] = {"status": "declined"}
        for question_id in unknown:
            answers[question_id] = {"status": "unknown"}
        return answers


def generate_cases(
    old: Ruleset, new: Ruleset, count: int, seed: int, as_of: dt.date, focus: Iterable[dict[str, Any]] = ()
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``count`` random partial cases over both questionnaires, dated ``as_of``, then boundary cases:
    each case in ``focus`` (the solver's counterexamples for changed conditions and outcomes) as it
    is and with the other questions filled at random. Every generated case is synthetic. These are
    the cases :func:`run_generated_impact` assesses, in the same order."""
    return CaseGenerator(old, new, count, seed, as_of, list(focus)).cases()


def generated_digest(old: Ruleset, new: Ruleset, count: int, seed: int, as_of: dt.date, focus: Sequence[dict[str, Any]]) -> str:
    """The corpus digest of generated cases: of everything that determines them."""
    inputs = {"generator": GENERATOR, "seed": seed, "count": count, "as_of": as_of.isoformat(), "old_sha256": old.sha256, "new_sha256": new.sha256, "boundary_cases": list(focus)}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")).hexdigest()


def boundary_cases(old: Ruleset, new: Ruleset, as_of: dt.date) -> list[dict[str, Any]]:
    """The solver's cases for every changed condition and every outcome decided differently."""
    from .diff import diff_rulesets

    report = diff_rulesets(old.compiled, new.compiled, as_of=as_of)
    cases = [case for change in report.changes for detail in change.details for _, case in detail.cases]
    cases.extend(effect.verdict.case for effect in report.effects if effect.verdict.found and effect.verdict.case is not None)
    unique: dict[str, dict[str, Any]] = {}
    for case in cases:
        unique.setdefault(json.dumps(case, sort_keys=True), case)
    return list(unique.values())


def _as_json(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bool, int, float, str)):
        return value
    return None


# -- rendering --------------------------------------------------------------------------------


def _summary_lines(report: ImpactReport) -> list[str]:
    lines = [
        f"old: {report.old} (sha256 {report.old_sha256}); new: {report.new} (sha256 {report.new_sha256})",
        f"as of {report.as_of or 'each case its own date'}; corpus digest sha256 {report.corpus_digest}",
    ]
    if report.synthetic:
        made = f"generated ({report.generator})" if report.generator else "generated"
        lines.append(f"SYNTHETIC cases ({made}, with the solver's boundary cases): not a sample of real cases; counts say where outcomes change, not how often")
    if report.cases_with_unknown_keys:
        keys = ", ".join(f"{k} ({n})" for k, n in sorted(report.unknown_keys.items()))
        lines.append(f"{report.cases_with_unknown_keys} cases answer questions neither version has: {keys}")
    if report.duplicate_ids:
        lines.append(f"{report.duplicate_ids} case ids appear more than once")
    for file, code in report.unreadable:
        lines.append(f"unreadable, skipped: {file} ({code})")
    return lines


def render_text(report: ImpactReport) -> str:
    share = f" ({100 * report.changed / report.cases:.1f}%)" if report.cases else ""
    lines = [
        f"Impact of {report.old} -> {report.new}",
        *_summary_lines(report),
        f"{report.cases} cases, {report.changed} changed outcome{share}",
    ]
    if report.invalid_old or report.invalid_new:
        lines.append(f"cases with answers that do not fit a version, set aside for that version: {report.invalid_old} under the old, {report.invalid_new} under the new")
    if report.kinds:
        lines.append("")
        width = max(len(kind) for kind in report.kinds)
        for entry in report.to_dict()["changes"]:
            examples = ", ".join(entry["example_case_ids"])
            lines.append(f"  {entry['change']:<{width}}  {entry['cases']:>7}  e.g. {examples}")
    return "\n".join(lines) + "\n"


def render_markdown(report: ImpactReport) -> str:
    lines = [
        f"# Impact of {report.old} -> {report.new}",
        "",
        *[f"- {line}" for line in _summary_lines(report)],
        "",
        f"{report.cases} cases, **{report.changed} changed outcome**.",
        "",
        "| change | cases | example case ids |",
        "|---|---:|---|",
    ]
    for entry in report.to_dict()["changes"]:
        lines.append(f"| {entry['change']} | {entry['cases']} | {', '.join(entry['example_case_ids'])} |")
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[ImpactReport], str]] = {"text": render_text, "markdown": render_markdown, "json": lambda r: json.dumps(r.to_dict(), ensure_ascii=False, indent=2) + "\n"}


def affected_jsonl(report: ImpactReport) -> str:
    """One JSON line per affected case: its id and the kinds of change (no answers)."""
    return "".join(json.dumps({"case_id": case_id, "changes": kinds}, ensure_ascii=False) + "\n" for case_id, kinds in report.affected or ())
