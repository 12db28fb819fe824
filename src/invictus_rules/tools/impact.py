"""Impact analysis: run every case under two ruleset versions and count what changes for victims.

Cases stream from a folder of JSON files or a JSON Lines file (or are generated from the
questionnaire with a seed, with extra cases at the boundaries of the conditions that changed), are
evaluated in worker processes on all cores, in bounded batches so memory stays constant, and only
counts and case ids are kept: case contents are personal data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..api import Ruleset, load_ruleset
from ..batch import ordered_parallel_map
from ..compile import PRIORITY_RANK
from ..errors import AnswersError
from ..model import Question
from .analysis import Analyzer

EXAMPLES_PER_KIND = 5
BATCH = 512


@dataclass(frozen=True)
class Decisions:
    """What a victim gets under one version: levels, referrals with priority, information, pending."""

    levels: tuple[tuple[str, str], ...]
    referrals: tuple[tuple[str, str], ...]
    information: frozenset[str]
    pending: frozenset[str]


def decisions(ruleset: Ruleset, answers: dict[str, Any], as_of: dt.date) -> Decisions:
    """The decisions of one case, from the fast path (no texts rendered)."""
    compiled = ruleset.compiled
    known = {q.spec.id for q in compiled.questions}
    outcome = ruleset.decide({k: v for k, v in answers.items() if k in known}, as_of=as_of)
    levels = []
    for score, result in zip(compiled.scores, outcome.scores):
        if result.level is None:
            name = "(no level)"
        elif result.level[0] == result.level[1]:
            name = score.level_ids[result.level[0]]
        else:
            name = "undecided"
        levels.append((score.spec.id, name))
    priorities: dict[str, str] = {}
    pending = set()
    for rule, fired in zip(compiled.referrals, outcome.referred):
        if fired is True:
            current = priorities.get(rule.spec.service)
            if current is None or PRIORITY_RANK[rule.spec.priority] < PRIORITY_RANK[current]:
                priorities[rule.spec.service] = rule.spec.priority
        elif fired is None:
            pending.add(rule.spec.id)
    information = frozenset(item.spec.id for item, fired in zip(compiled.information, outcome.information) if fired is True)
    pending.update(item.spec.id for item, fired in zip(compiled.information, outcome.information) if fired is None)
    return Decisions(tuple(levels), tuple(sorted(priorities.items())), information, frozenset(pending))


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

    def add(self, case_id: str, kinds: list[str], old_invalid: bool, new_invalid: bool) -> None:
        self.cases += 1
        self.invalid_old += old_invalid
        self.invalid_new += new_invalid
        if kinds:
            self.changed += 1
        for kind in kinds:
            self.kinds[kind] += 1
            if len(self.examples[kind]) < EXAMPLES_PER_KIND:
                self.examples[kind].append(case_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "invictus-rules/impact/v1",
            "old": self.old,
            "new": self.new,
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
) -> ImpactReport:
    """Evaluate (case_id, answers, as_of ISO) triples under both versions, on ``workers`` processes."""
    report = ImpactReport(old_ref, new_ref)
    workers = workers or os.cpu_count() or 1
    chunks = _batches(cases, BATCH)
    if workers <= 1:
        _init_worker(old_ref, new_ref, rulesets_dir)
        for chunk in chunks:
            for result in _run_chunk(chunk):
                report.add(*result)
            if progress:
                progress(report.cases)
        return report
    for count, result in enumerate(ordered_parallel_map(_run_chunk, cases, workers=workers, initializer=_init_worker, initargs=(old_ref, new_ref, rulesets_dir), chunk_size=BATCH), 1):
        report.add(*result)
        if progress and count % BATCH == 0:
            progress(report.cases)
    if progress:
        progress(report.cases)
    return report


# -- generated cases --------------------------------------------------------------------------


def _random_answer(question: Question, rng: random.Random) -> Any:
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
    if kind == "date":
        return (dt.date(2026, 1, 1) - dt.timedelta(days=rng.randint(0, 365 * 80))).isoformat()
    return "generated note"


def generate_cases(
    old: Ruleset, new: Ruleset, count: int, seed: int, as_of: dt.date, focus: list[tuple[str, str]] = ()
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``count`` random partial cases over both questionnaires, then boundary cases for ``focus``.

    Boundary cases give the questions a changed condition depends on the representative values the
    static analysis uses (each option, each constant and its neighbours), so every side of a changed
    threshold is reached.
    """
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
            answers[question.id] = _random_answer(question, rng)
        return answers

    for number in range(count):
        yield f"generated-{number + 1:06d}", base(), day
    for kind, element_id in focus:
        depends: list[str] = []
        for ruleset in (old, new):
            condition = _condition_of(ruleset, kind, element_id)
            if condition is not None:
                depends.extend(condition.depends_on)
        if not depends:
            continue
        analyzer = Analyzer(new.compiled)
        constants = _constants(old, new, kind, element_id)
        values: dict[str, list[Any]] = {}
        for question_id in dict.fromkeys(depends):
            question = questions[question_id]
            representatives = analyzer.question_values(question, constants, [], set(), False)
            values[question_id] = [v for v in map(_as_json, representatives) if v is not None] or [_random_answer(question, rng)]
        for number in range(max(20, count // 10)):
            answers = base()
            for question_id, options in values.items():
                answers[question_id] = rng.choice(options)
            yield f"boundary-{kind}-{element_id}-{number + 1:04d}", answers, day




def _as_json(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bool, int, float, str)):
        return value
    return None


def _condition_of(ruleset: Ruleset, kind: str, element_id: str) -> Any:
    compiled = ruleset.compiled
    if kind == "referral":
        return next((r.condition for r in compiled.referrals if r.spec.id == element_id), None)
    if kind == "information":
        return next((i.condition for i in compiled.information if i.spec.id == element_id), None)
    if kind == "question":
        return next((q.ask_if for q in compiled.questions if q.spec.id == element_id), None)
    score_id, _, sub = element_id.partition(".")
    score = next((s for s in compiled.scores if s.spec.id == score_id), None)
    if score is None:
        return None
    if kind == "score_item":
        return next((i.condition for i in score.items if i.spec.id == sub), None)
    if kind == "level":
        return dict(score.levels).get(sub)
    return None


def _constants(old: Ruleset, new: Ruleset, kind: str, element_id: str) -> list[Any]:
    from ..expr.nodes import Literal, walk

    found = set()
    for ruleset in (old, new):
        condition = _condition_of(ruleset, kind, element_id)
        if condition is not None:
            found.update(n.value for n in walk(condition.node) if isinstance(n, Literal) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool))
    return sorted(found)


# -- rendering --------------------------------------------------------------------------------


def render_text(report: ImpactReport) -> str:
    share = f" ({100 * report.changed / report.cases:.1f}%)" if report.cases else ""
    lines = [
        f"Impact of {report.old} -> {report.new}",
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
        f"{report.cases} cases, **{report.changed} changed outcome**.",
        "",
        "| change | cases | example case ids |",
        "|---|---:|---|",
    ]
    for entry in report.to_dict()["changes"]:
        lines.append(f"| {entry['change']} | {entry['cases']} | {', '.join(entry['example_case_ids'])} |")
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": lambda r: json.dumps(r.to_dict(), ensure_ascii=False, indent=2) + "\n"}
