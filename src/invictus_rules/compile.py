"""Ruleset document -> CompiledRuleset: every condition parsed, type-checked and compiled once.

``compile_source`` and ``compile_file`` run the front of the pipeline on ruleset text or a file:
read (``load``), validate (``validate``), then build here.

``compile_document`` runs every semantic check on a validated document and collects all problems
before raising one :class:`RulesetError`: duplicate ids, references between elements, question
bounds and options, ``ask_if`` cycles, condition types, score order, and templates. What it returns
is immutable and holds everything evaluation needs, plus the source and syntax trees that
explanations, lint, diff and docs read.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ._yaml import SourceMap
from .compiled import (
    CompiledCondition,
    CompiledInformation,
    CompiledItem,
    CompiledQuestion,
    CompiledReferral,
    CompiledRuleset,
    CompiledSafety,
    CompiledScore,
)
from .errors import Problem, RulesetError, TreePath
from .expr.check import Catalogue, QuestionInfo, check, did_you_mean
from .expr.compile import compile_condition
from .expr.nodes import BoolOp, Literal, Node, Not, Span, unparse
from .expr.parser import ExprSyntaxError, parse
from .fastpath import generate as generate_fast_path
from .load import display_path, read_bytes, read_document
from .model import CHANNELS, Condition, Question, Referral, RulesetDocument, Safety, Score, Service
from .safety import make_deferral
from .templates import CheckedText, TemplateIssue, check_template
from .texts import iter_texts


def compile_document(document: RulesetDocument, source: SourceMap, digest: str) -> CompiledRuleset:
    """Check and compile a validated document, or raise RulesetError with every problem found."""
    builder = _Builder(document, source)
    compiled = builder.build(digest)
    if builder.problems:
        raise RulesetError(builder.problems)
    assert compiled is not None
    return compiled


def compile_source(data: bytes | str, file: str = "<string>") -> CompiledRuleset:
    """Read, validate and compile ruleset text, reporting every problem found on the way at once."""
    return compile_with_source(data, file)[0]


def compile_with_source(data: bytes | str, file: str = "<string>") -> tuple[CompiledRuleset, SourceMap]:
    """Like ``compile_source``, also returning the positions (for tools that point into the file)."""
    with _without_gc():
        document, source, digest = read_document(data, file)
        try:
            compiled = compile_document(document, source, digest)
        except RulesetError as error:
            raise RulesetError(source.problems + error.problems) from None
    if source.problems:
        raise RulesetError(source.problems)
    return compiled, source


@contextlib.contextmanager
def _without_gc() -> Iterator[None]:
    """Loading builds many objects that all live on: the cycle collector, run again and again over
    a growing heap, found nothing to free and took a quarter of the time of loading a large ruleset."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compile_file(path: str | os.PathLike[str]) -> CompiledRuleset:
    """Read, validate and compile a ruleset file."""
    return compile_source(read_bytes(Path(path)), display_path(Path(path)))



class _Builder:
    def __init__(self, document: RulesetDocument, source: SourceMap):
        self.document = document
        self.source = source
        self.problems: list[Problem] = []
        self.level_index: dict[str, dict[str, int]] = {}
        self.whole_questions = frozenset(q.id for q in document.questions if q.type == "integer")
        self.fractional_scores = frozenset(
            s.id for s in document.scores if any(not float(item.points).is_integer() for item in s.items)
        )
        self.questions = {
            q.id: QuestionInfo(
                q.id,
                q.type,
                tuple(o.value for o in q.options or ()),
                (source.mark(("questions", i)) or _NO_MARK).line,
            )
            for i, q in enumerate(document.questions)
        }

    def problem(self, path: TreePath, code: str, message: str, hint: str = "", **kwargs: Any) -> None:
        self.problems.append(self.source.problem(path, code, message, hint, **kwargs))

    def build(self, digest: str) -> CompiledRuleset | None:
        doc = self.document
        self.check_metadata()
        self.check_unique("questions", [q.id for q in doc.questions], "question")
        self.check_unique("scores", [s.id for s in doc.scores], "score")
        self.check_unique("services", [s.id for s in doc.services], "service")
        self.check_unique("referrals", [r.id for r in doc.referrals], "referral")
        self.check_unique("information", [i.id for i in doc.information], "information item")
        self.check_texts()
        for index, question in enumerate(doc.questions):
            self.check_question(index, question)
        for score in doc.scores:
            self.level_index[score.id] = {level.id: rank for rank, level in enumerate(score.levels)}
        all_scores = {s.id: tuple(level.id for level in s.levels) for s in doc.scores}

        questions = tuple(
            CompiledQuestion(q, self.condition(q.ask_if, ("questions", i, "ask_if"), Catalogue(self.questions, {}, frozenset())) if q.ask_if is not None else None)
            for i, q in enumerate(doc.questions)
        )
        ask_order = self.ask_order(questions)
        depends = _Dependencies(questions)

        scores: list[CompiledScore] = []
        for index, score in enumerate(doc.scores):
            scores.append(self.score(index, score, all_scores, depends))
        score_catalogue = Catalogue(self.questions, all_scores, frozenset(all_scores))
        services = {s.id: s for s in doc.services}
        known = {"services": list(services), "answers": list(self.questions), "scores": list(all_scores)}

        referrals = []
        for index, rule in enumerate(doc.referrals):
            path: TreePath = ("referrals", index)
            if rule.service not in services:
                self.problem(
                    path + ("service",),
                    "unknown-service",
                    f'referral "{rule.id}" refers to the service "{rule.service}", which is not in the catalogue',
                    did_you_mean(rule.service, services) or "add the service under 'services:' or fix the id",
                )
            self.check_report(path, rule)
            condition = self.condition(rule.when, path + ("when",), score_catalogue, depends)
            reason = self.templates(rule.reason, path + ("reason",), known)
            action = self.templates(rule.action, path + ("action",), known) if rule.action else {}
            referrals.append(CompiledReferral(rule, condition, reason, action))

        information = []
        for index, item in enumerate(doc.information):
            path = ("information", index)
            condition = self.condition(item.when, path + ("when",), score_catalogue, depends)
            title = self.templates(item.title, path + ("title",), known)
            body = self.templates(item.body, path + ("body",), known)
            information.append(CompiledInformation(item, condition, title, body))

        for index, service in enumerate(doc.services):
            self.check_first_contact(index, service)
        safety = self.safety(doc.safety, services, known, depends) if doc.safety is not None else None

        if self.problems:
            return None
        defer = make_deferral(doc.referrals, services, gated=safety is not None)
        return CompiledRuleset(
            document=doc,
            digest=digest,
            file=self.source.file,
            questions=questions,
            ask_order=ask_order,
            scores=tuple(scores),
            services=services,
            referrals=tuple(referrals),
            information=tuple(information),
            safety=safety,
            defer=defer,
            fast=generate_fast_path(questions, ask_order, scores, referrals, information, safety, defer),
            trace_plan=_trace_plan(questions, safety, scores, referrals, information),
        )

    # -- metadata and ids -------------------------------------------------------------------
    def check_metadata(self) -> None:
        meta = self.document.metadata
        if meta.default_language not in meta.languages:
            self.problem(
                ("metadata", "default_language"),
                "unknown-language",
                f'the default language "{meta.default_language}" is not one of the ruleset\'s languages',
                f"add it to 'languages' or choose one of {', '.join(meta.languages)}",
            )
        if len(set(meta.languages)) != len(meta.languages):
            self.problem(("metadata", "languages"), "duplicate-id", "a language is listed twice", "list each language once")
        if meta.effective_until and meta.effective_from and meta.effective_until < meta.effective_from:
            self.problem(
                ("metadata", "effective_until"),
                "date-order",
                "effective_until is before effective_from",
                "the version must be in force for at least one day",
            )

    def check_unique(self, section: str, ids: list[str], kind: str) -> None:
        seen: dict[str, int] = {}
        folded: dict[str, str] = {}
        for index, item_id in enumerate(ids):
            if item_id in seen:
                first = self.source.mark((section, seen[item_id]))
                self.problem(
                    (section, index, "id"),
                    "duplicate-id",
                    f'the {kind} id "{item_id}" is used twice' + (f" (first at line {first.line})" if first else ""),
                    "give each one its own id",
                )
            seen.setdefault(item_id, index)
            folded.setdefault(item_id.replace("_", ""), item_id)
            if folded[item_id.replace("_", "")] != item_id:
                self.problem(
                    (section, index, "id"),
                    "confusable-id",
                    f'the {kind} id "{item_id}" differs from "{folded[item_id.replace("_", "")]}" only by underscores',
                    "use ids that are clearly different",
                )

    def check_texts(self) -> None:
        languages = set(self.document.metadata.languages)
        data = self.document.model_dump(by_alias=True)
        for path, text in iter_texts(data):
            for language in text:
                if language not in languages:
                    self.problem(
                        path + (language,),
                        "unknown-language",
                        f'the text has a "{language}" translation, but "{language}" is not one of the ruleset\'s languages',
                        f"use one of {', '.join(sorted(languages))} or add the language to metadata.languages",
                        key=True,
                    )

    # -- safety, consent and legal duty --------------------------------------------------------
    def check_report(self, path: TreePath, rule: Referral) -> None:
        """A report needs the law that allows it without consent, and what the worker does."""
        if rule.mode != "report":
            return
        if not rule.legal_basis or not all(basis.strip() for basis in rule.legal_basis):
            self.problem(
                path + ("mode",),
                "report-without-legal-basis",
                f'the report rule "{rule.id}" has no legal basis: a report without the victim\'s consent needs the law that requires or allows it',
                "add legal_basis: a list of the provisions, e.g. legal_basis: [\"Child Protection Act art. 7\"], "
                "or use mode: opt_in if the victim's consent is needed",
            )
        if not rule.action:
            self.problem(
                path + ("mode",),
                "report-without-action",
                f'the report rule "{rule.id}" has no action: the worker must be told what to report to whom, how and how fast',
                "add action: with a text per language, e.g. action: {en: \"Report to the child protection service today by phone.\"}",
            )

    def check_first_contact(self, index: int, service: Service) -> None:
        declared = service.first_contact
        if isinstance(declared, list) and ("none" in declared and len(declared) > 1 or len(set(declared)) != len(declared) or not declared):
            self.problem(
                ("services", index, "first_contact"),
                "first-contact-list",
                f'the first_contact of "{service.id}" must list each channel once, and "none" only on its own',
                "e.g. first_contact: [phone, letter], or first_contact: none when the victim makes contact",
            )

    def safety(self, safety: Safety, services: dict[str, Service], known: dict[str, list[str]], depends: _Dependencies) -> CompiledSafety:
        path: TreePath = ("safety",)
        condition = self.condition(safety.safe_to_talk, path + ("safe_to_talk",), Catalogue(self.questions, {}, frozenset()), depends)
        question = next((q for q in self.document.questions if q.id == safety.safe_channels), None)
        qpath = path + ("safe_channels",)
        if question is None:
            self.problem(qpath, "unknown-question", f'the safe channels question "{safety.safe_channels}" is not a question in this ruleset', did_you_mean(safety.safe_channels, self.questions) or "add a multiple_choice question whose options are channels")
        elif question.type != "multiple_choice":
            self.problem(qpath, "safe-channels-type", f'the safe channels question "{question.id}" must be a multiple_choice question, not {question.type}', "change its type to multiple_choice, with channels as options")
        else:
            for option in question.options or ():
                if option.value not in CHANNELS:
                    self.problem(
                        qpath,
                        "safe-channels-options",
                        f'the safe channels question "{question.id}" has the option "{option.value}", which is not a channel',
                        f"its option values must be channels: {', '.join(CHANNELS)}",
                    )
        for key in ("emergency", "silent"):
            for i, service_id in enumerate(getattr(safety, key)):
                if service_id not in services:
                    self.problem(
                        path + (key, i),
                        "unknown-service",
                        f'the {key} route "{service_id}" is not a service in the catalogue',
                        did_you_mean(service_id, services) or "add the service under 'services:' or fix the id",
                    )
        advice = self.templates(safety.advice, path + ("advice",), known)
        return CompiledSafety(safety, condition, advice)

    # -- questions ----------------------------------------------------------------------------
    def check_question(self, index: int, question: Question) -> None:
        path: TreePath = ("questions", index)
        choice = question.type in ("single_choice", "multiple_choice")
        numeric = question.type in ("integer", "number")
        if choice and not question.options:
            self.problem(path + ("type",), "missing-options", f'the {question.type} question "{question.id}" has no options', "add 'options:' with a value and a label for each choice")
        if not choice and question.options is not None:
            self.problem(path + ("options",), "unexpected-field", f'options belong to choice questions, but "{question.id}" is {question.type}', "remove 'options:' or change the type", key=True)
        if question.options:
            self.check_unique_options(path, [o.value for o in question.options])
        for bound in ("min", "max"):
            value = getattr(question, bound)
            if value is not None and not numeric:
                self.problem(path + (bound,), "unexpected-field", f"'{bound}' belongs to integer and number questions", f"remove '{bound}:'", key=True)
            if value is not None and question.type == "integer" and not float(value).is_integer():
                self.problem(path + (bound,), "bound-type", f"the bound '{bound}' of an integer question must be a whole number", "e.g. 0 or 120")
        if question.min is not None and question.max is not None and question.min > question.max:
            self.problem(path + ("max",), "bound-order", f'the question "{question.id}" has max below min', "swap the bounds")
        if question.max_length is not None and question.type != "text":
            self.problem(path + ("max_length",), "unexpected-field", "'max_length' belongs to text questions", "remove it", key=True)

    def check_unique_options(self, path: TreePath, values: list[str]) -> None:
        seen: set[str] = set()
        for index, value in enumerate(values):
            if value in seen:
                self.problem(path + ("options", index, "value"), "duplicate-id", f'the option "{value}" is listed twice', "list each option once")
            seen.add(value)

    def ask_order(self, questions: tuple[CompiledQuestion, ...]) -> tuple[str, ...]:
        """Questions in an order where each ask_if reads only questions placed before it."""
        reads = {q.spec.id: (q.ask_if.reads if q.ask_if else ()) for q in questions}
        order: list[str] = []
        state: dict[str, int] = {}
        for question in questions:
            stack: list[tuple[str, Iterator[str]]] = [(question.spec.id, iter(reads[question.spec.id]))]
            if state.get(question.spec.id):
                continue
            state[question.spec.id] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    state[node] = 2
                    order.append(node)
                    continue
                if state.get(child) == 1:
                    cycle = [name for name, _ in stack] + [child]
                    cycle = cycle[cycle.index(child):]
                    position = next(i for i, q in enumerate(questions) if q.spec.id == node)
                    self.problem(
                        ("questions", position, "ask_if"),
                        "ask-if-cycle",
                        "these questions are asked only if each other is answered: " + " -> ".join(cycle),
                        "break the cycle: a question's ask_if should read questions asked before it",
                    )
                    return tuple(q.spec.id for q in questions)
                if not state.get(child):
                    state[child] = 1
                    stack.append((child, iter(reads.get(child, ()))))
        return tuple(order)

    # -- scores -------------------------------------------------------------------------------
    def score(self, index: int, score: Score, all_scores: dict[str, tuple[str, ...]], depends: _Dependencies) -> CompiledScore:
        path: TreePath = ("scores", index)
        earlier = frozenset(s.id for s in self.document.scores[:index])
        item_catalogue = Catalogue(self.questions, all_scores, earlier, own_score=score.id)
        seen: dict[str, int] = {}
        for i, item in enumerate(score.items):
            if item.id in seen:
                self.problem(path + ("items", i, "id"), "duplicate-id", f'the indicator id "{item.id}" is used twice in the score "{score.id}"', "give each indicator its own id")
            seen[item.id] = i
        items = tuple(
            CompiledItem(item, self.condition(item.when, path + ("items", i, "when"), item_catalogue, depends))
            for i, item in enumerate(score.items)
        )
        level_ids: list[str] = []
        levels: list[tuple[str, CompiledCondition | None]] = []
        for i, level in enumerate(score.levels):
            if level.id in level_ids:
                self.problem(path + ("levels", i, "id"), "duplicate-id", f'the level "{level.id}" is listed twice', "list each level once")
            level_ids.append(level.id)
            if level.when is None and i > 0:
                self.problem(
                    path + ("levels", i),
                    "missing-condition",
                    f'the level "{level.id}" has no condition; only the lowest level may leave it out',
                    "add 'when:', e.g. when: score(" + score.id + ") >= 10",
                )
            condition = None
            if level.when is not None:
                condition = self.condition(level.when, path + ("levels", i, "when"), item_catalogue, depends)
            levels.append((level.id, condition))
        override = None
        if score.override is not None:
            override = score.override.question
            question = next((q for q in self.document.questions if q.id == override), None)
            opath = path + ("override", "question")
            if question is None:
                self.problem(opath, "unknown-question", f'the override question "{override}" is not a question in this ruleset', did_you_mean(override, self.questions) or "add the question")
            elif question.type != "single_choice":
                self.problem(opath, "override-type", f'the override question "{override}" must be a single_choice question whose options are level ids', "change its type to single_choice")
            else:
                for option in question.options or ():
                    if option.value not in level_ids:
                        self.problem(
                            opath,
                            "override-options",
                            f'the override question "{override}" has the option "{option.value}", which is not a level of "{score.id}"',
                            f"its options must be level ids: {', '.join(level_ids)}",
                        )
        depends.add_score(score.id, [item.condition for item in items] + [c for _, c in levels if c is not None])
        score_depends = depends.for_score(score.id)
        return CompiledScore(score, items, tuple(levels), tuple(level_ids), override, score_depends)

    # -- conditions and templates ------------------------------------------------------------
    def condition(self, condition: Condition, path: TreePath, catalogue: Catalogue, depends: _Dependencies | None = None) -> CompiledCondition:
        node = self.parse_condition(condition, path)
        if node is None:
            return _BROKEN
        checked = check(node, catalogue)
        for issue in checked.problems:
            self.problem(
                issue.span.path,
                issue.code,
                issue.message,
                issue.hint,
                offset=issue.span.start,
                span=max(issue.span.end - issue.span.start, 1),
            )
        if checked.problems:
            return _BROKEN
        fn = compile_condition(node, checked.types, self.level_index, self.whole_questions, self.fractional_scores)
        deps = depends.closure(checked.questions, checked.scores) if depends else checked.questions
        part = functools.partial(compile_condition, types=checked.types, level_index=self.level_index)
        return CompiledCondition(unparse(node), node, fn, checked.questions, checked.scores, deps, part)

    def parse_condition(self, condition: Condition, path: TreePath) -> Node | None:
        if isinstance(condition, bool):
            return Literal(condition, Span(path, 0, 0))
        if isinstance(condition, str):
            try:
                return parse(condition, path)
            except ExprSyntaxError as exc:
                self.problem(path, exc.code, exc.message, exc.hint, offset=exc.start, span=exc.end - exc.start)
                return None
        if hasattr(condition, "all") or hasattr(condition, "any"):
            key = "all" if hasattr(condition, "all") else "any"
            parts = [self.parse_condition(part, path + (key, i)) for i, part in enumerate(getattr(condition, key))]
            if any(part is None for part in parts):
                return None
            if len(parts) == 1:
                return parts[0]
            op = "and" if key == "all" else "or"
            flat: list[Node] = []
            for part in parts:
                assert part is not None
                flat.extend(part.operands if isinstance(part, BoolOp) and part.op == op else (part,))
            return BoolOp(op, tuple(flat), Span(path, 0, 0))
        inner = self.parse_condition(condition.not_, path + ("not",))
        return None if inner is None else Not(inner, Span(path, 0, 0))

    def templates(self, texts: dict[str, str], path: TreePath, known: dict[str, list[str]]) -> dict[str, CheckedText]:
        compiled: dict[str, CheckedText] = {}
        for language, text in texts.items():
            template, issues = check_template(text, known)
            for issue in issues:
                self.template_problem(path + (language,), issue)
            if template is not None:
                compiled[language] = template
        return compiled

    def template_problem(self, path: TreePath, issue: TemplateIssue) -> None:
        mark = self.source.mark(path)
        problem = self.source.problem(path, issue.code, issue.message, issue.hint)
        if mark is not None and issue.line > 1 or (mark is not None and mark.style in ("|", ">")):
            assert mark is not None
            line = mark.line + issue.line - (0 if mark.style in ("|", ">") else 1)
            location = type(problem.location)(problem.location.file, line, 1)
            problem = Problem(
                problem.code,
                problem.message,
                problem.hint,
                location,
                problem.path,
                source_line=self.source.line_text(line),
            )
        self.problems.append(problem)


def _trace_plan(
    questions: Iterable[CompiledQuestion],
    safety: CompiledSafety | None,
    scores: Iterable[CompiledScore],
    referrals: Iterable[CompiledReferral],
    information: Iterable[CompiledInformation],
) -> tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...]:
    """(kind, id, condition text, questions read, scores used) of every rule, in trace order."""
    plan: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]] = []

    def add(kind: str, rule_id: str, condition: CompiledCondition | None) -> None:
        plan.append((kind, rule_id, condition.text if condition else "true", condition.reads if condition else (), condition.scores if condition else ()))

    for question in questions:
        if question.ask_if is not None:
            add("question", question.spec.id, question.ask_if)
    if safety is not None:
        add("safety", "safe_to_talk", safety.condition)
    for score in scores:
        for item in score.items:
            add("score_item", f"{score.spec.id}.{item.spec.id}", item.condition)
        for level_id, condition in score.levels:
            add("level", f"{score.spec.id}.{level_id}", condition)
    for rule in referrals:
        add("referral", rule.spec.id, rule.condition)
    for info in information:
        add("information", info.spec.id, info.condition)
    return tuple(plan)


class _NoMark:
    line = 0


_NO_MARK = _NoMark()
_BROKEN = CompiledCondition("false", Literal(False), lambda env: False, (), (), ())


class _Dependencies:
    """Which questions can change a condition's result: those it reads, those behind the scores it
    uses, and the questions their ``ask_if`` conditions read, transitively."""

    def __init__(self, questions: tuple[CompiledQuestion, ...]):
        self.order = {q.spec.id: i for i, q in enumerate(questions)}
        self.ask_reads = {q.spec.id: (q.ask_if.reads if q.ask_if else ()) for q in questions}
        self.scores: dict[str, set[str]] = {}

    def add_score(self, score_id: str, conditions: Iterable[CompiledCondition]) -> None:
        found: set[str] = set()
        for condition in conditions:
            found.update(condition.depends_on)
        self.scores[score_id] = found

    def for_score(self, score_id: str) -> tuple[str, ...]:
        return self._sorted(self.scores.get(score_id, set()))

    def closure(self, questions: Iterable[str], scores: Iterable[str]) -> tuple[str, ...]:
        found: set[str] = set()
        pending = list(questions)
        for score_id in scores:
            pending.extend(self.scores.get(score_id, ()))
        while pending:
            name = pending.pop()
            if name in found:
                continue
            found.add(name)
            pending.extend(self.ask_reads.get(name, ()))
        return self._sorted(found)

    def _sorted(self, names: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=lambda n: self.order.get(n, 0)))


__all__ = ["compile_document", "compile_file", "compile_source", "compile_with_source"]
