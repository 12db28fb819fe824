"""Impact analysis: run every case under two ruleset versions and count what changes for victims.

Cases stream from a folder of JSON files or a JSON Lines file (or are generated: random cases
anchored on the as-of date, plus, for every condition and outcome that changed, the solver's
counterexample cases; generated cases are *synthetic*, not a sample of real cases, and every output
says so), are evaluated in worker processes on all cores, in bounded batches so memory stays
constant, and only counts and case ids are kept: case contents are personal data.

Compared per case: levels, referrals per service with mode and priority, information items, and
pending rules. The summary names both versions' hashes, the as-of date and a digest of the corpus,
counts unknown answer keys, duplicate case ids and unreadable files (reported, not fatal).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import Ruleset, load_ruleset
from ..batch import ordered_parallel_map
from ..errors import AnswersError
from ..model import PRIORITY_RANK, Question

EXAMPLES_PER_KIND = 5
BATCH = 512


@dataclass(frozen=True)
class Decisions:
    """What a victim gets under one version: levels, referrals with priority, information, pending."""

    levels: tuple[tuple[str, str], ...]
    referrals: tuple[tuple[str, str], ...]
    information: frozenset[str]
    pending: frozenset[str]
    modes: tuple[tuple[str, str], ...] = ()
    deferred: frozenset[str] = frozenset()


def decisions(ruleset: Ruleset, answers: dict[str, Any], as_of: dt.date) -> Decisions:
    """The decisions of one case, from the fast path (no texts rendered)."""
    compiled = ruleset.compiled
    known = {q.spec.id for q in compiled.questions}
    outcome = ruleset.decide({k: v for k, v in answers.items() if k in known}, as_of=as_of)
    levels = []
    for score, result in zip(compiled.scores, outcome.scores, strict=True):
        if result.level is None:
            name = "(no level)"
        elif result.level[0] == result.level[1]:
            name = score.level_ids[result.level[0]]
        else:
            name = "undecided"
        levels.append((score.spec.id, name))
    pending = {rule.spec.id for rule, fired in zip(compiled.referrals, outcome.referrals, strict=True) if fired is None}
    deferred = frozenset(compiled.referrals[index].spec.id for index, _ in outcome.deferred)
    merged = merged_referrals(ruleset, outcome)
    information = frozenset(item.spec.id for item, fired in zip(compiled.information, outcome.information, strict=True) if fired is True)
    pending.update(item.spec.id for item, fired in zip(compiled.information, outcome.information, strict=True) if fired is None)
    return Decisions(
        tuple(levels),
        tuple(sorted((service, priority) for service, (priority, _) in merged.items())),
        information,
        frozenset(pending),
        tuple(sorted((service, mode) for service, (_, mode) in merged.items())),
        deferred,
    )


def merged_referrals(ruleset: Ruleset, outcome: Any) -> dict[str, tuple[str, str]]:
    """service -> (priority, mode) of the merged referral, as the engine's assessment merges them
    (the rules that hold and are not deferred)."""
    from ..tools.smt import MODE_ORDER

    by_mode = getattr(ruleset.compiled, "safety", None) is not None
    merged: dict[str, tuple[str, str]] = {}
    for rule, fired in zip(ruleset.compiled.referrals, outcome.referred, strict=True):
        if fired is not True:
            continue
        spec = rule.spec
        current = merged.get(spec.service)
        if current is None:
            merged[spec.service] = (spec.priority, spec.mode)
            continue
        priority = spec.priority if PRIORITY_RANK[spec.priority] < PRIORITY_RANK[current[0]] else current[0]
        if by_mode:
            mode = spec.mode if MODE_ORDER.index(spec.mode) < MODE_ORDER.index(current[1]) else current[1]
        else:  # the mode of the highest-priority rule, the first listed on a tie
            mode = spec.mode if PRIORITY_RANK[spec.priority] < PRIORITY_RANK[current[0]] else current[1]
        merged[spec.service] = (priority, mode)
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
class ImpactReport:
    old: str
    new: str
    cases: int = 0
    changed: int = 0
    invalid_old: int = 0
    invalid_new: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    old_sha256: str = ""
    new_sha256: str = ""
    as_of: str = ""
    corpus_digest: str = ""
    synthetic: bool = False
    unknown_keys: Counter[str] = field(default_factory=Counter)
    cases_with_unknown_keys: int = 0
    duplicate_ids: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    affected: list[tuple[str, list[str]]] | None = None

    def add(self, case_id: str, kinds: list[str], old_invalid: bool, new_invalid: bool) -> None:
        self.cases += 1
        self.invalid_old += old_invalid
        self.invalid_new += new_invalid
        if kinds:
            self.changed += 1
            if self.affected is not None:
                self.affected.append((case_id, kinds))
        for kind in kinds:
            self.kinds[kind] += 1
            if len(self.examples[kind]) < EXAMPLES_PER_KIND:
                self.examples[kind].append(case_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "invictus-rules/impact/v1",
            "old": self.old,
            "new": self.new,
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
            "as_of": self.as_of,
            "corpus_digest": self.corpus_digest,
            "synthetic": self.synthetic,
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


# -- running ----------------------------------------------------------------------------------

_WORKER: dict[str, Ruleset] = {}


def _init_worker(old_ref: str, new_ref: str, rulesets_dir: str | None) -> None:
    _WORKER["old"] = _load(old_ref, rulesets_dir)
    _WORKER["new"] = _load(new_ref, rulesets_dir)


def _load(reference: str, rulesets_dir: str | None) -> Ruleset:
    path = Path(reference)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return load_ruleset(path)
    return load_ruleset(reference, rulesets_dir=rulesets_dir)


def _evaluate(ruleset: Ruleset, answers: dict[str, Any], as_of: dt.date) -> tuple[Decisions, bool]:
    """The case's decisions, and whether answers that do not fit this version were set aside
    (e.g. an option the version does not have): the rest of the case is still assessed."""
    try:
        return decisions(ruleset, answers, as_of), False
    except AnswersError as error:
        unfit = {problem.path.removeprefix("$.") for problem in error.problems}
        kept = {key: value for key, value in answers.items() if key not in unfit}
        try:
            return decisions(ruleset, kept, as_of), True
        except AnswersError:
            return decisions(ruleset, {}, as_of), True


def _run_chunk(chunk: list[tuple[str, dict[str, Any], str]]) -> list[tuple[str, list[str], bool, bool]]:
    results = []
    for case_id, answers, as_of in chunk:
        date = dt.date.fromisoformat(as_of)
        old, old_unfit = _evaluate(_WORKER["old"], answers, date)
        new, new_unfit = _evaluate(_WORKER["new"], answers, date)
        results.append((case_id, compare_decisions(old, new), old_unfit, new_unfit))
    return results


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
    report = ImpactReport(old_ref, new_ref, as_of=as_of.isoformat() if as_of else "", synthetic=synthetic)
    if keep_affected:
        report.affected = []
    old_rs, new_rs = _load(old_ref, rulesets_dir), _load(new_ref, rulesets_dir)
    report.old_sha256, report.new_sha256 = old_rs.sha256, new_rs.sha256
    known = {q.id for q in old_rs.questions} | {q.id for q in new_rs.questions}
    workers = workers or os.cpu_count() or 1
    accounted = _account(cases, report, known)
    chunks = _batches(accounted, BATCH)
    if workers <= 1:
        _init_worker(old_ref, new_ref, rulesets_dir)
        for chunk in chunks:
            for result in _run_chunk(chunk):
                report.add(*result)
            if progress:
                progress(report.cases)
        return report
    for count, result in enumerate(ordered_parallel_map(_run_chunk, accounted, workers=workers, initializer=_init_worker, initargs=(old_ref, new_ref, rulesets_dir), chunk_size=BATCH), 1):
        report.add(*result)
        if progress and count % BATCH == 0:
            progress(report.cases)
    if progress:
        progress(report.cases)
    return report


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


def _random_answer(question: Question, rng: random.Random, as_of: dt.date) -> Any:
    kind = question.type
    if kind == "boolean":
        return rng.random() < 0.4
    if kind in ("integer", "number"):
        low = question.min if question.min is not None else 0
        high = question.max if question.max is not None else 100
        value = rng.uniform(low, high)
        return int(round(value)) if kind == "integer" else round(value, 2)
    options = [o.value for o in question.options or ()]
    if kind == "single_choice":
        return rng.choice(options)
    if kind == "multiple_choice":
        return [o for o in options if rng.random() < 0.3]
    if kind == "date":  # anchored on the as-of date: recent dates as often as old ones
        days = rng.randint(0, 60) if rng.random() < 0.5 else rng.randint(0, 365 * 80)
        return (as_of - dt.timedelta(days=days)).isoformat()
    return "generated note"


def generate_cases(
    old: Ruleset, new: Ruleset, count: int, seed: int, as_of: dt.date, focus: Iterable[dict[str, Any]] = ()
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``count`` random partial cases over both questionnaires, dated ``as_of``, then boundary cases:
    each case in ``focus`` (the solver's counterexamples for changed conditions and outcomes) as it
    is and with the other questions filled at random. Every generated case is synthetic."""
    rng = random.Random(seed)
    questions = {q.id: q for q in old.questions}
    questions.update({q.id: q for q in new.questions})
    day = as_of.isoformat()

    def base() -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for question in questions.values():
            roll = rng.random()
            if roll < 0.15:
                continue
            if roll < 0.2:
                answers[question.id] = {"status": rng.choice(["declined", "unknown"])}
                continue
            answers[question.id] = _random_answer(question, rng, as_of)
        return answers

    for number in range(count):
        yield f"synthetic-{number + 1:06d}", base(), day
    for index, case in enumerate(focus, 1):
        yield f"synthetic-boundary-{index:04d}", dict(case), day
        for variant in range(max(2, count // 100)):
            filled = base()
            filled.update(case)
            yield f"synthetic-boundary-{index:04d}-{variant + 1:03d}", filled, day


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
        lines.append("SYNTHETIC cases (generated, with the solver's boundary cases): not a sample of real cases; counts say where outcomes change, not how often")
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
