"""Lint: what schema validation cannot catch, each finding positioned, with a code and a hint.

Checks are generators in a table (``CHECKS``): each yields problems for one concern; the runner
collects them all. Severities: ``error`` (the ruleset must not be published like this), ``warning``
(almost certainly a mistake), ``info`` (worth a look). A ruleset is lint-clean when it has no errors
and no warnings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes

from .._yaml import SourceMap
from ..compile import compile_with_source
from ..compiled import CompiledCondition, CompiledRuleset
from ..errors import InvictusError, Problem, TreePath, sort_problems
from ..expr.compile import ABSENT, Env
from ..expr.nodes import Literal
from ..load import MANIFEST, display_path, list_versions, read_bytes
from ..model import CONSENT_MODES
from ..refs import is_country_code
from ..templates import MAX_WORK, cost_growth, referenced_names, ruleset_texts
from ..texts import iter_texts
from . import manifest, smt
from .analysis import AS_OF, Analyzer, score_values
from .exact import Verdict


@dataclass
class LintContext:
    compiled: CompiledRuleset
    source: SourceMap
    path: Path
    analyzer: Analyzer
    rulesets_dir: Path | None
    _template_refs: dict[str, set[str]] | None = field(default=None)

    def problem(self, path: TreePath, code: str, message: str, hint: str, severity: str = "warning", *, key: bool = False) -> Problem:
        return self.source.problem(path, code, message, hint, key=key, severity=severity)

    def template_references(self) -> dict[str, set[str]]:
        """Services, answers and scores named in any template: they count as used."""
        if self._template_refs is None:
            self._template_refs = referenced_names(ruleset_texts(self.compiled.document))
        return self._template_refs


Check = Callable[[LintContext], Iterator[Problem]]


def _conditions(compiled: CompiledRuleset) -> Iterator[tuple[str, str, TreePath, CompiledCondition]]:
    """(kind, id, path, condition) for every condition in the ruleset."""
    for index, question in enumerate(compiled.questions):
        if question.ask_if is not None:
            yield "ask_if", question.spec.id, ("questions", index, "ask_if"), question.ask_if
    for s_index, score in enumerate(compiled.scores):
        for i_index, item in enumerate(score.items):
            yield "score_item", f"{score.spec.id}.{item.spec.id}", ("scores", s_index, "items", i_index, "when"), item.condition
        for l_index, (level_id, condition) in enumerate(score.levels):
            if condition is not None:
                yield "level", f"{score.spec.id}.{level_id}", ("scores", s_index, "levels", l_index, "when"), condition
    for index, rule in enumerate(compiled.referrals):
        yield "referral", rule.spec.id, ("referrals", index, "when"), rule.condition
    for index, info in enumerate(compiled.information):
        yield "information", info.spec.id, ("information", index, "when"), info.condition


_NEVER = {
    "ask_if": ("question-never-asked", 'the question "{id}" can never be asked: its ask_if is never true', "fix the ask_if, or remove the question"),
    "score_item": ("indicator-never-present", 'the indicator "{id}" can never be present', "fix its condition: it contradicts the questions' options or bounds"),
    "level": ("level-unreachable", 'the level "{id}" can never be reached', "fix its condition: no score the indicators can add up to meets it"),
    "referral": ("referral-never-fires", 'the referral "{id}" can never be made', "fix its condition: it contradicts the questions' options or bounds"),
    "information": ("information-never-given", 'the information item "{id}" can never be given', "fix its condition"),
}


def _locate(path: TreePath) -> Any:
    """Where an outcome holds the result of the condition at ``path``."""
    section, index = path[0], path[1]
    if section == "questions":
        return lambda out: out.asked[index]
    if section == "referrals":
        return lambda out: out.referrals[index]
    if section == "information":
        return lambda out: out.information[index]
    sub = path[3]
    if path[2] == "items":
        return lambda out: out.scores[index].items[sub]
    return lambda out: out.scores[index].levels[sub]


def _case(verdict: Verdict) -> str:
    return json.dumps(verdict.case, ensure_ascii=False, sort_keys=True)


def check_conditions(ctx: LintContext) -> Iterator[Problem]:
    """Conditions that can never be true, or are always true, over every case (proved by the solver);
    conditions the solver cannot decide are named, never passed as clean."""
    for kind, rule_id, path, condition in _conditions(ctx.compiled):
        outcomes = ctx.analyzer.outcomes(condition, _locate(path))
        unconfirmed = [v for v in (outcomes.true, outcomes.false, outcomes.unknown) if v.found and not v.confirmed]
        if unconfirmed:
            yield ctx.problem(path, "analysis-unconfirmed", f'the solver found a case for {kind.replace("_", " ")} "{rule_id}" that the engine does not confirm: {_case(unconfirmed[0])}', "this is a bug in the analysis; please report it with this ruleset", "error")
        if not outcomes.exact:
            reason = next(v.reason for v in (outcomes.true, outcomes.false, outcomes.unknown) if v.status == "undecided")
            yield ctx.problem(path, "condition-undecided", f'whether the condition of {kind.replace("_", " ")} "{rule_id}" can be true could not be decided: {reason}', "simplify the arithmetic (multiply or divide by numbers written out), or raise --timeout-ms", "info")
        if outcomes.never_true:
            code, message, hint = _NEVER[kind]
            yield ctx.problem(path, code, message.format(id=rule_id), hint, "warning")
        elif outcomes.always_true and not isinstance(condition.node, Literal):
            yield ctx.problem(
                path,
                "condition-always-true",
                f'the condition of {kind.replace("_", " ")} "{rule_id}" is always true, even when nothing is answered',
                "write 'true' if that is meant, or fix the condition",
                "warning",
            )


def check_levels(ctx: LintContext) -> Iterator[Problem]:
    """Score levels that leave a gap (some totals get no level, or a lower one) or overlap as ranges."""
    for s_index, score in enumerate(ctx.compiled.scores):
        conditions = [c for _, c in score.levels]
        if any(c is not None and c.reads for c in conditions):
            continue  # levels that read answers besides the score are not checked for ranges
        totals = [t for t in score_values(score) if not hasattr(t, "lo")]
        critical_max = sum(1 for item in score.items if item.spec.critical)
        path: TreePath = ("scores", s_index, "levels")
        reported: set[str] = set()
        for critical in range(critical_max + 1):
            chosen: list[tuple[float, int | None]] = []
            holds: list[list[int]] = []
            for total in totals:
                true_levels = [rank for rank, c in enumerate(conditions) if c is None or _run_level(c, score.spec.id, total, critical)]
                holds.append(true_levels)
                chosen.append((total, max(true_levels) if true_levels else None))
            for (t1, r1), (t2, r2) in zip(chosen, chosen[1:], strict=False):
                if r1 is not None and r2 is not None and r2 < r1 and "drop" not in reported:
                    reported.add("drop")
                    yield ctx.problem(path, "level-gap", f'the score "{score.spec.id}" gives {score.level_ids[r2]} at {t2:g} points but {score.level_ids[r1]} at {t1:g}: a higher score gets a lower level', "make each level's condition a lower bound (score >= N) so that higher scores never fall back", "warning")
            for index, true_levels in enumerate(holds):
                for rank in true_levels:
                    higher = [r for r in true_levels if r > rank]
                    if not higher or conditions[rank] is None:
                        continue
                    later_false = any(rank not in later for later in holds[index + 1 :])
                    if later_false and f"overlap{rank}" not in reported:
                        reported.add(f"overlap{rank}")
                        yield ctx.problem(
                            ("scores", s_index, "levels", rank, "when"),
                            "level-overlap",
                            f'the levels "{score.level_ids[rank]}" and "{score.level_ids[higher[-1]]}" of "{score.spec.id}" both hold at {totals[index]:g} points',
                            "the highest level wins; let ranges meet without overlapping, or write only lower bounds",
                            "warning",
                        )


def check_level_reach(ctx: LintContext) -> Iterator[Problem]:
    """Levels no case reaches (e.g. medium at >= 14 under high at >= 12) and cases with no level
    at all, over every case, critical counts and other answers included (the solver decides)."""
    for s_index, score in enumerate(ctx.compiled.scores):
        path: TreePath = ("scores", s_index, "levels")
        analysis = ctx.analyzer.analysis
        if score.levels[0][1] is not None:
            gap = analysis.computed_level(s_index, -1)
            if gap.found:
                yield ctx.problem(path, "level-gap", f'the score "{score.spec.id}" has no level in some cases, e.g. {_case(gap)}', "give the lowest level no condition, or cover every total", "warning")
        for rank, (level_id, condition) in enumerate(score.levels):
            if condition is None:
                continue
            reached = analysis.computed_level(s_index, rank)
            if reached.proved:
                outcomes = ctx.analyzer.outcomes(condition)
                if outcomes.never_true:
                    continue  # reported by check_conditions
                higher = [lid for lid, c in score.levels[rank + 1 :]]
                yield ctx.problem(
                    ("scores", s_index, "levels", rank, "when"),
                    "level-unreachable",
                    f'the level "{level_id}" of "{score.spec.id}" is never the level reached: whenever its condition holds, a higher level\'s does too ({", ".join(higher)})',
                    "the highest level whose condition holds wins: give each level a lower threshold than the one above it",
                    "warning",
                )
            elif reached.status == "undecided":
                yield ctx.problem(("scores", s_index, "levels", rank, "when"), "condition-undecided", f'whether the level "{level_id}" of "{score.spec.id}" can be reached could not be decided: {reached.reason}', "simplify the condition", "info")


_ANSWERS_GUARDS = ("default", "d")


def _printed_answers(text: str) -> set[str]:
    """Answers a template prints outside any {% if %} and without a default: empty when absent."""
    try:
        tree = jinja2.Environment().parse(text)
    except jinja2.TemplateSyntaxError:
        return set()
    found: set[str] = set()

    def visit(node: nodes.Node, guarded: bool, printed: bool) -> None:
        if isinstance(node, nodes.If):
            for part in (node.test,):
                visit(part, guarded, printed)
            for child in (*node.body, *node.elif_, *node.else_):
                visit(child, True, printed)
            return
        if isinstance(node, nodes.CondExpr):
            guarded = True
        if isinstance(node, nodes.Output):
            printed = True
        if isinstance(node, nodes.Filter) and node.name in _ANSWERS_GUARDS:
            return
        if printed and not guarded and isinstance(node, (nodes.Getattr, nodes.Getitem)) and isinstance(node.node, nodes.Name) and node.node.name == "answers":
            if isinstance(node, nodes.Getattr):
                found.add(node.attr)
            elif isinstance(node.arg, nodes.Const):
                found.add(str(node.arg.value))
        for child in node.iter_child_nodes():
            visit(child, guarded, printed)

    visit(tree, False, False)
    return found


def check_texts_read_absent_answers(ctx: LintContext) -> Iterator[Problem]:
    """Texts that print an answer which may be absent when the text is shown (the text comes out
    with a hole): the solver looks for a case where the rule holds and the answer is not given."""
    import z3

    analysis = ctx.analyzer.analysis
    rules = [("referrals", i, r.condition, {"reason": r.spec.reason}) for i, r in enumerate(ctx.compiled.referrals)]
    rules += [("information", i, item.condition, {"title": item.spec.title, "body": item.spec.body}) for i, item in enumerate(ctx.compiled.information)]
    for section, index, condition, texts in rules:
        for field_name, per_language in texts.items():
            printed = sorted({name for text in per_language.values() for name in _printed_answers(text)})
            for question in printed:
                if question not in analysis.encoder.vars:
                    continue
                located = _locate((section, index))

                def build(encoder: Any, q: str = question, c: Any = condition) -> Any:
                    value = encoder.value(q)
                    return z3.And(encoder.condition(c.node).t, z3.Or(value.absent, value.unknown))

                def shown_without(outcome: Any, q: str = question, at: Any = located) -> bool:
                    value = outcome.values.get(q)
                    return at(outcome) is True and (value is None or value is ABSENT)

                verdict = analysis.exists(build, shown_without)
                if verdict.found:
                    yield ctx.problem(
                        (section, index, field_name),
                        "text-reads-absent-answer",
                        f'the text prints answers.{question}, which may not be given when it is shown, e.g. {_case(verdict)}: the text then has a hole',
                        f"write {{{{ answers.{question} | default('...') }}}} or put it inside {{% if answers.{question} is defined %}}",
                        "warning",
                    )


def check_comment_cut_texts(ctx: LintContext) -> Iterator[Problem]:
    """An unquoted text with ' #' in it: YAML reads the rest of the line as a comment."""
    data = ctx.compiled.document.model_dump(by_alias=True)
    for path, per_language in iter_texts(data):
        for language in per_language:
            mark = ctx.source.mark(path + (language,))
            if mark is None or mark.style:
                continue
            line = ctx.source.line_text(mark.line)
            rest = line[mark.column - 1 :] if mark.column else line
            if " #" in rest:
                yield ctx.problem(
                    path + (language,),
                    "text-cut-by-comment",
                    "this unquoted text contains ' #': YAML reads everything after it as a comment, so the text is cut short",
                    "put the text in quotes, or use a block scalar (|)",
                    "warning",
                )


def _run_level(condition: CompiledCondition, score_id: str, total: float, critical: int) -> bool:
    env = Env({}, frozenset(), AS_OF)
    env.scores[score_id] = total
    env.criticals[score_id] = critical
    return condition.fn(env) is True


def _totals(values: list[float]) -> str:
    shown = ", ".join(f"{v:g}" for v in values[:6])
    return shown + (" ..." if len(values) > 6 else "")


def check_ask_if_order(ctx: LintContext) -> Iterator[Problem]:
    """ask_if conditions that read a question asked later."""
    order = {q.spec.id: i for i, q in enumerate(ctx.compiled.questions)}
    for index, question in enumerate(ctx.compiled.questions):
        if question.ask_if is None:
            continue
        later = [q for q in question.ask_if.reads if order[q] >= index]
        if later:
            yield ctx.problem(
                ("questions", index, "ask_if"),
                "ask-if-forward",
                f'the question "{question.spec.id}" is asked only depending on {", ".join(later)}, which come{"s" if len(later) == 1 else ""} later in the questionnaire',
                "move the question after the ones its ask_if reads",
                "warning",
            )


def check_unused(ctx: LintContext) -> Iterator[Problem]:
    """Questions no rule reads, and services no referral or text names."""
    compiled = ctx.compiled
    read: set[str] = set()
    for _, _, _, condition in _conditions(compiled):
        read.update(condition.reads)
    read.update(s.override_question for s in compiled.scores if s.override_question)
    routes: set[str] = set()
    if compiled.safety is not None:
        read.update(compiled.safety.condition.reads)
        read.add(compiled.safety.spec.safe_channels)
        routes.update(compiled.safety.spec.emergency + compiled.safety.spec.silent)
    refs = ctx.template_references()
    read.update(refs["answers"])
    for index, question in enumerate(compiled.questions):
        if question.spec.id not in read:
            yield ctx.problem(
                ("questions", index, "id"),
                "question-unused",
                f'no rule, score or text uses the answer to "{question.spec.id}"',
                "use it in a condition, or remove it if the assessment does not need it",
                "info" if question.spec.type == "text" else "warning",
            )
    referred = {r.spec.service for r in compiled.referrals} | refs["services"] | routes
    for index, service in enumerate(compiled.document.services):
        if service.id not in referred:
            yield ctx.problem(("services", index, "id"), "service-unused", f'no referral or text mentions the service "{service.id}"', "refer to it, mention it in an information text, or remove it", "warning")


_SKIP_IDENTICAL = {"name"}


def check_translations(ctx: LintContext) -> Iterator[Problem]:
    """Missing, empty or copied translations."""
    languages = ctx.compiled.metadata.languages
    for path, text in iter_texts(ctx.compiled.document.model_dump(by_alias=True)):
        for language in languages:
            if language not in text:
                yield ctx.problem(path, "translation-missing", f'the text has no "{language}" translation', f"add {language}: ... (until then the {ctx.compiled.metadata.default_language} text is shown)", "warning")
            elif not text[language].strip():
                yield ctx.problem(path + (language,), "translation-empty", f'the "{language}" text is empty', "write the text", "warning")
        if path[-1] in _SKIP_IDENTICAL:
            continue
        present = [(lang, value.strip()) for lang, value in text.items() if value.strip()]
        for (lang_a, a), (lang_b, b) in zip(present, present[1:], strict=False):
            if a == b and re.search(r"[^\W\d_]{3,}\s+[^\W\d_]{3,}", a):
                yield ctx.problem(path + (lang_b,), "translation-identical", f'the "{lang_b}" text is the same as the "{lang_a}" text', "translate it", "warning")


def check_implicit_defaults(ctx: LintContext) -> Iterator[Problem]:
    """Defaults that change what a rule means, left implicit."""
    for s_index, score in enumerate(ctx.compiled.scores):
        uses_critical = any(
            condition is not None and "critical(" in condition.text for _, condition in score.levels
        ) or any("critical(" in r.condition.text for r in ctx.compiled.referrals)
        if not uses_critical:
            continue
        for i_index, item in enumerate(score.items):
            path = ("scores", s_index, "items", i_index, "critical")
            if path not in ctx.source.keys:
                yield ctx.problem(
                    ("scores", s_index, "items", i_index, "id"),
                    "implicit-default",
                    f'the indicator "{item.spec.id}" does not say whether it is critical, and levels of "{score.spec.id}" count critical indicators',
                    "write critical: true or critical: false",
                    "warning",
                )


def check_versions(ctx: LintContext) -> Iterator[Problem]:
    """Changelog, overlapping dates of published versions, and the manifest."""
    meta = ctx.compiled.metadata
    if not any(entry.version == meta.version for entry in meta.changelog):
        yield ctx.problem(
            ("metadata", "changelog"),
            "changelog-missing",
            f"the changelog has no entry for version {meta.version}",
            f'add an entry: - {{version: "{meta.version}", date: ..., changes: [...]}}',
            "error" if meta.status == "published" else "warning",
        )
    if ctx.rulesets_dir is None or meta.status != "published":
        return
    published = [v for v in list_versions(meta.country, ctx.rulesets_dir) if v.status == "published"]
    for earlier, later in zip(published, published[1:], strict=False):
        if ctx.path.resolve() not in (earlier.path.resolve(), later.path.resolve()):
            continue
        assert earlier.effective_from is not None and later.effective_from is not None
        if later.effective_from <= earlier.effective_from:
            message = f"version {later.version} comes into force on {later.effective_from}, not after version {earlier.version} ({earlier.effective_from})"
        elif earlier.effective_until is not None and earlier.effective_until >= later.effective_from:
            message = f"version {earlier.version} is in force until {earlier.effective_until}, after version {later.version} starts ({later.effective_from})"
        else:
            continue
        yield ctx.problem(
            ("metadata", "effective_from"),
            "effective-overlap",
            message,
            "each version must start after the one before it ends; a version without effective_until ends when the next one starts",
            "error",
        )
    for problem in manifest.verify(ctx.rulesets_dir):
        if Path(problem.location.file).resolve() == ctx.path.resolve():
            yield ctx.problem(("metadata", "status"), problem.code, problem.message, problem.hint, "error")


def check_template_cost(ctx: LintContext) -> Iterator[Problem]:
    """Texts whose rendering cost grows with a free-text answer's length (a loop over it, or a read of
    it inside a loop): a long answer makes them stop at the work budget and go unshown."""
    text_ids = [q.spec.id for q in ctx.compiled.questions if q.spec.type == "text"]
    if not text_ids:
        return
    document = ctx.compiled.document
    places: list[tuple[TreePath, dict[str, str]]] = [(("referrals", i, "reason"), r.reason) for i, r in enumerate(document.referrals)]
    for index, item in enumerate(document.information):
        places += [(("information", index, "title"), item.title), (("information", index, "body"), item.body)]
    for path, texts in places:
        for language, source in texts.items():
            grows = cost_growth(source, text_ids)
            if grows:
                yield ctx.problem(
                    path + (language,),
                    "template-cost",
                    f"the text's rendering cost grows with the length of the answer to {', '.join(grows)}: it loops over it, or reads it inside a loop",
                    f"print the answer once, outside loops; past {MAX_WORK:,} steps the text is not shown",
                    "warning",
                )


def check_safe_contact(ctx: LintContext) -> Iterator[Problem]:
    """Hand-overs the engine cannot make safely, and reports written as if they needed safe contact."""
    compiled = ctx.compiled
    consent = [(index, rule) for index, rule in enumerate(compiled.referrals) if rule.spec.mode in CONSENT_MODES]
    if consent and compiled.safety is None:
        index, rule = consent[0]
        yield ctx.problem(
            ("referrals", index, "mode"),
            "safety-missing",
            f'the ruleset has {len(consent)} opt_in or opt_out referral(s) (first: "{rule.spec.id}") but no safety section, so the engine cannot hold them back while it is not safe to talk',
            "add a top-level safety: section with safe_to_talk, safe_channels, emergency, silent and advice",
            "error",
        )
    for index, rule in consent:
        service = compiled.services.get(rule.spec.service)
        if service is not None and not service.first_contact_channels:
            said = "first_contact: none" if service.first_contact is not None else "no first_contact"
            yield ctx.problem(
                ("referrals", index, "service"),
                "handover-without-first-contact",
                f'the {rule.spec.mode} referral "{rule.spec.id}" hands the victim over to "{service.id}", which has {said}: the engine cannot know whether its first contact is safe',
                f'add first_contact: (phone, sms, email, letter or in_person) to the service "{service.id}", or make the referral inform_only',
                "error",
            )
    if compiled.safety is None:
        return
    unsafe_reads = set(compiled.safety.condition.reads)
    for index, rule in enumerate(compiled.referrals):
        read = unsafe_reads & set(rule.condition.reads)
        if rule.spec.mode == "report" and read:
            yield ctx.problem(
                ("referrals", index, "when"),
                "report-reads-safety",
                f'the report "{rule.spec.id}" depends on {", ".join(sorted(read))}: a report the law requires is never gated on safe contact',
                "remove the safe-to-talk test from its when; the engine shows the safety block first when it is not safe",
                "warning",
            )


CHECKS: dict[str, Check] = {
    "conditions": check_conditions,
    "levels": check_levels,
    "level-reach": check_level_reach,
    "texts-absent-answers": check_texts_read_absent_answers,
    "texts-cut-by-comment": check_comment_cut_texts,
    "ask-if-order": check_ask_if_order,
    "unused": check_unused,
    "translations": check_translations,
    "implicit-defaults": check_implicit_defaults,
    "versions": check_versions,
    "template-cost": check_template_cost,
    "safe-contact": check_safe_contact,
}


def _rulesets_dir_of(path: Path) -> Path | None:
    """The rulesets folder a file sits in (``<dir>/<cc>/<version>.yaml``), if it looks like one."""
    country_dir = path.resolve().parent
    if is_country_code(country_dir.name) and (country_dir.parent / MANIFEST).exists():
        return country_dir.parent
    return None


def lint_file(path: Path, rulesets_dir: Path | None = None, *, timeout_ms: int = smt.DEFAULT_TIMEOUT_MS) -> list[Problem]:
    """Every finding for one ruleset file, sorted by position. ``timeout_ms`` bounds each solver
    question; past it the finding is "could not be decided" (info), never "clean"."""
    try:
        compiled, source = compile_with_source(read_bytes(path), display_path(path))
    except InvictusError as error:
        return sort_problems(error.problems)
    as_of = compiled.metadata.effective_from or AS_OF
    ctx = LintContext(compiled, source, path, Analyzer(compiled, as_of, timeout_ms), rulesets_dir or _rulesets_dir_of(path))
    problems = [problem for check in CHECKS.values() for problem in check(ctx)]
    return sort_problems(problems)


def is_clean(problems: list[Problem]) -> bool:
    return not any(p.severity in ("error", "warning") for p in problems)
