"""The public façade: load a ruleset once, then evaluate many cases with it.

This module only wires the pipeline stages together (load -> compile -> validate answers ->
evaluate -> build assessment); each stage lives in its own module.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, get_args, overload

from .answers import Answers, refuse_foreign
from .batch import Output, answer_checker, evaluate_batch, evaluate_one
from .cases import Case, validate_model
from .compile import compile_source
from .compiled import CompiledRuleset
from .decisions import DecisionIds, Decisions
from .errors import AnswersError, InvictusError, Problem
from .evaluate import DICT_DECIDER, Outcome, decide_dict, evaluate
from .fastpath import AnswersNeedFullCheck
from .load import Located, display_path, locate_ruleset, read_bytes, rulesets_folder_of, usable_path, vouch_for
from .model import Question
from .questionnaire import answers_schema, questionnaire
from .record import NOT_CHECKED, DecisionRecord, Provenance, ReplayResult, check_replayable, compare_decisions, decisions_of, replay_warnings
from .result import Assessment, RulesetRef, Trace, build_assessment, build_trace, ruleset_ref

DateLike = dt.date | str | None


def to_date(value: DateLike, *, default: dt.date | None = None, what: str = "as_of") -> dt.date:
    """A date from a date, an ISO string or None (``default``)."""
    if value is None:
        if default is None:
            raise ValueError(f"{what} is required")
        return default
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvictusError(
            [Problem("invalid-date", f"{what} must be a date written YYYY-MM-DD", "e.g. 2026-03-14")]
        ) from None


class Ruleset:
    """A compiled ruleset version. Immutable; safe to share between threads; evaluate many times."""

    def __init__(self, compiled: CompiledRuleset, source: bytes | str | None = None, provenance: Provenance = NOT_CHECKED):
        self._compiled = compiled
        self._provenance = provenance
        self.load_warnings: tuple[Problem, ...] = ()
        self._questions = {q.spec.id: q.spec for q in compiled.questions}
        self._checker = answer_checker(compiled)
        self._checked_by = self._checker.stamp
        self._ids = DecisionIds.of(compiled)
        self._source = source

    # -- identity ---------------------------------------------------------------------------
    @property
    def compiled(self) -> CompiledRuleset:
        """The compiled form, for tools (lint, diff, docs) that read conditions and trees."""
        return self._compiled

    @property
    def ref(self) -> RulesetRef:
        """Id, country, version, status, effective date and content hash."""
        return ruleset_ref(self._compiled)

    @property
    def provenance(self) -> Provenance:
        """Whether the manifest vouched for this version when it was loaded, and by which signing key."""
        return self._provenance

    @property
    def id(self) -> str:
        return self._compiled.metadata.id

    @property
    def country(self) -> str:
        return self._compiled.metadata.country

    @property
    def version(self) -> str:
        return self._compiled.metadata.version

    @property
    def sha256(self) -> str:
        return self._compiled.digest

    @property
    def languages(self) -> list[str]:
        return list(self._compiled.metadata.languages)

    @property
    def questions(self) -> list[Question]:
        """The questionnaire in order."""
        return [q.spec for q in self._compiled.questions]

    def __repr__(self) -> str:
        return f"<Ruleset {self.country}@{self.version} {self.sha256[:12]}>"

    # -- evaluation -------------------------------------------------------------------------
    def validate_answers(self, answers: Mapping[str, Any], *, file: str = "", path_prefix: str = "$") -> Answers:
        """Check answers against the questionnaire; raises AnswersError listing every problem."""
        return self._checker.validate(answers, file=file, path_prefix=path_prefix)

    def decide(self, answers: Mapping[str, Any] | Answers, *, as_of: DateLike = None) -> Decisions:
        """Decisions only (levels, scores, referrals, information, pending, deferred), keyed by id: the fast path.

        ``as_of`` defaults to today. Raises ``AnswersError`` for invalid answers, like :meth:`evaluate`.
        """
        if type(answers) is dict and type(as_of) is dt.date:
            # the common call, straight to the generated decider once it exists (see decide_dict)
            decide = self._compiled.cache.get(DICT_DECIDER)
            if decide is not None:
                try:
                    return Decisions(decide(answers, as_of), self._ids)
                except AnswersNeedFullCheck:
                    pass  # decide_dict below gives the case to the full check
        return Decisions(self._outcome(answers, as_of), self._ids)

    def _outcome(self, answers: Mapping[str, Any] | Answers, as_of: DateLike) -> Outcome:
        """The positional outcome of ``answers`` (for the stages and tools built on it)."""
        if type(as_of) is dt.date:
            day = as_of
        else:
            try:
                day = to_date(as_of, default=dt.date.today())
            except InvictusError:
                if not isinstance(answers, Answers):
                    self.validate_answers(answers)  # invalid answers are reported before an invalid date
                raise
        if type(answers) is Answers:
            if answers._checker is not self._checked_by:
                refuse_foreign(answers, self._checked_by)
            return evaluate(self._compiled, answers, day)
        return decide_dict(self._compiled, answers, day, self._checker.validate)

    def evaluate(
        self,
        answers: Mapping[str, Any] | Answers,
        *,
        as_of: DateLike = None,
        language: str | None = None,
        trace: bool = False,
        trace_values: bool = False,
    ) -> Assessment:
        """Assess one case: validated answers in, explained Assessment out.

        ``as_of`` defaults to today (the only place the clock is read); ``language`` to the
        ruleset's default language. ``trace`` adds the rule-by-rule trace and each score's
        indicators present, from which answers can be read back; ``trace_values`` (which implies
        ``trace``) puts the answer values in the trace. Ask for either only where the output is
        protected like the case itself.
        """
        outcome = self._outcome(answers, as_of)
        return build_assessment(
            self._compiled,
            outcome,
            language=language or self._compiled.metadata.default_language,
            trace=trace or trace_values,
            trace_values=trace_values,
        ).with_provenance(self._provenance)

    def replay(self, record: DecisionRecord | Mapping[str, Any], answers: Mapping[str, Any] | Answers, *, key: bytes | str | None = None) -> ReplayResult:
        """Re-run a decision record with its answers; identical, or a short summary of what differs.

        Refuses (``ReplayError``) a record made with another ruleset, with another deployment key
        (``key``, default ``INVICTUS_RECORD_KEY``), or answers whose digest is not the record's
        ("these are not the recorded answers"). Warns when the engine build differs from the
        record's (naming both) and when the record's ``as_of`` is outside this version's dates.
        """
        recorded = record if isinstance(record, DecisionRecord) else validate_model(DecisionRecord, record, "<record>", "invalid-record", "a decision record", "pass the record as it was written, unchanged")
        check_replayable(recorded, self.sha256, answers, key)
        validated = answers if isinstance(answers, Answers) else self.validate_answers(answers)
        meta = self._compiled.metadata
        warnings = replay_warnings(recorded, meta.effective_from, meta.effective_until)
        replayed = decisions_of(self.evaluate(validated, as_of=recorded.as_of))
        return ReplayResult(recorded, replayed, compare_decisions(recorded.decisions, replayed), tuple(warnings))

    def trace(self, answers: Mapping[str, Any] | Answers, *, as_of: DateLike = None, trace_values: bool = False) -> Trace:
        """Decisions explained rule by rule, without rendering any text."""
        outcome = self._outcome(answers, as_of)
        return build_trace(self._compiled, outcome, trace_values=trace_values)

    def evaluate_many(
        self, cases: Iterable[Mapping[str, Any] | Case], *, as_of: DateLike = None, language: str | None = None, trace: bool = False
    ) -> Iterator[Assessment | AnswersError]:
        """Assess cases one after another in this process, lazily (constant memory).

        Like :meth:`evaluate_batch`: a case is an answers mapping or a :class:`Case` (its own
        ``as_of`` and ``language`` win), and a case whose answers are invalid yields its
        ``AnswersError`` instead of stopping the run.
        """
        day = to_date(as_of, default=dt.date.today())
        default_language = language or self._compiled.metadata.default_language
        for case in cases:
            yield evaluate_one(self._compiled, case, day, default_language, "assessment", trace)

    @overload
    def evaluate_batch(self, cases: Iterable[Mapping[str, Any] | Case], *, as_of: DateLike = ..., language: str | None = ..., output: Literal["assessment"] = ..., trace: bool = ..., workers: int | None = ...) -> Iterator[Assessment | AnswersError]: ...
    @overload
    def evaluate_batch(self, cases: Iterable[Mapping[str, Any] | Case], *, as_of: DateLike = ..., language: str | None = ..., output: Literal["json"], trace: bool = ..., workers: int | None = ...) -> Iterator[str | AnswersError]: ...
    @overload
    def evaluate_batch(self, cases: Iterable[Mapping[str, Any] | Case], *, as_of: DateLike = ..., language: str | None = ..., output: Literal["decisions"], trace: bool = ..., workers: int | None = ...) -> Iterator[dict[str, Any] | AnswersError]: ...
    @overload
    def evaluate_batch(self, cases: Iterable[Mapping[str, Any] | Case], *, as_of: DateLike = ..., language: str | None = ..., output: Literal["outcome"], trace: bool = ..., workers: int | None = ...) -> Iterator[Outcome | AnswersError]: ...

    def evaluate_batch(
        self,
        cases: Iterable[Mapping[str, Any] | Case],
        *,
        as_of: DateLike = None,
        language: str | None = None,
        output: Output = "assessment",
        trace: bool = False,
        workers: int | None = None,
    ) -> Iterator[Any]:
        """Assess a stream of cases on all cores (``workers``), yielding results in input order.

        A case is an answers mapping, or a :class:`Case` whose own ``as_of`` and ``language`` take
        the place of the run's (an archive of cases made on different days). ``output`` picks what
        each case gives: ``"decisions"`` (``decide(...).to_dict()``: plain data keyed by
        id, small to send between processes), ``"outcome"``, ``"assessment"`` or ``"json"``; anything
        else is a ValueError. A case whose answers are invalid yields its ``AnswersError`` instead of
        raising, so one bad case does not stop a run. Memory stays constant however long the stream is.
        """
        if output not in get_args(Output):
            raise ValueError(f"output must be one of {', '.join(get_args(Output))}, not {output!r}")
        source = self._source if self._source is not None else ""
        if not source and (workers or 2) > 1:
            raise ValueError("this Ruleset was built without its source text; load it with load_ruleset")
        return evaluate_batch(
            source,
            self._compiled.file,
            cases,
            as_of=to_date(as_of, default=dt.date.today()),
            language=language,
            output=output,
            trace=trace,
            workers=workers,
            local=self._compiled,
        )

    def questionnaire(self) -> dict[str, Any]:
        """The questionnaire as a versioned JSON document: every language, ``ask_if`` as a tree."""
        return questionnaire(self._compiled)

    def answers_schema(self) -> dict[str, Any]:
        """A JSON Schema (2020-12) of the answers this version accepts."""
        return answers_schema(self._compiled)

    def next_questions(self, answers: Mapping[str, Any] | Answers | None = None, *, as_of: DateLike = None) -> list[Question]:
        """The questions still to ask, in order: asked (their ask_if is true) and not yet answered."""
        outcome = self._outcome(answers or {}, as_of)
        return [self._questions[q] for q in outcome.next_questions]


def decide_outcome(ruleset: Ruleset, answers: Mapping[str, Any] | Answers, *, as_of: DateLike = None) -> Outcome:
    """The positional :class:`Outcome` behind ``ruleset.decide()``, for internal tools (exact analysis) and tests."""
    return ruleset._outcome(answers, as_of)


def load_ruleset(
    reference: str | os.PathLike[str],
    *,
    as_of: DateLike = None,
    version: str | None = None,
    rulesets_dir: str | os.PathLike[str] | None = None,
) -> Ruleset:
    """Load and compile a ruleset.

    ``reference`` is a file path, a country code (``"nl"``: the published version in force on
    ``as_of``, default today) or ``"nl@2026.1"`` for an exact version. ``rulesets_dir`` points at a
    deployment's own rulesets folder instead of the shipped one.

    A published file is used only when the manifest vouches for it (``published-changed``,
    ``not-in-manifest``, ``bad-signature`` otherwise); a file outside a rulesets folder is loaded
    unchecked, which its records say. Drafts skipped on the way are in ``load_warnings``.
    """
    folder = Path(rulesets_dir) if rulesets_dir is not None else None
    if isinstance(reference, os.PathLike):
        path = usable_path(Path(reference))
        located = Located(path, rulesets_folder_of(path, folder))
    else:
        located = locate_ruleset(reference, as_of=to_date(as_of, default=dt.date.today()), version=version, rulesets_dir=folder)
    data = read_bytes(located.path)
    compiled = compile_source(data, display_path(located.path))
    state, signed_by = vouch_for(located.path, compiled.metadata, compiled.digest, located.rulesets_dir)
    ruleset = Ruleset(compiled, data, Provenance(state, signed_by))  # type: ignore[arg-type]
    ruleset.load_warnings = located.warnings
    return ruleset


def load_ruleset_text(text: str, *, file: str = "<string>") -> Ruleset:
    """Compile a ruleset from YAML text (for editors, tests and services that hold rulesets in memory)."""
    return Ruleset(compile_source(text, file), text)
