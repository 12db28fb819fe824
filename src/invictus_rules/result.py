"""The Assessment: decisions explained, texts rendered, serialised deterministically.

``build_assessment`` turns an :class:`~invictus_rules.evaluate.Outcome` into the public pydantic
model. Output order is stable and documented:
- scores, information items and pending items in ruleset order;
- referrals by priority (immediate, urgent, standard), then mode (report, opt_out, opt_in,
  inform_only), then the service's place in the catalogue; several rules for one service merge into
  one referral: the strongest mode and the highest priority of the rules that hold and are not
  deferred, every reason kept in the order (mode, priority, rule id). Rule order never matters.
  Rulesets without a ``safety`` section (published before the engine checked safe contact) keep the
  merge they were published with: the mode of the highest-priority rule, reasons and ties in rule
  order;
- deferred referrals in rule order; the safety block, when it is not safe to talk, first;
- next questions in questionnaire order.
The trace and the indicators present are left out unless ``trace`` is asked for (their results read
back answers); the trace never holds answer values unless ``trace_values`` is asked for.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Container, Hashable, Mapping
from typing import Any, ClassVar, Final, Literal, NotRequired, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter
from typing_extensions import TypedDict

from ._version import __version__
from .compiled import CompiledCondition, CompiledReferral, CompiledRuleset
from .evaluate import Outcome
from .expr.compile import ABSENT
from .labels import labels
from .model import CHANNELS, MODE_RANK, PRIORITY_RANK, Priority
from .model import ReferralMode as Mode
from .outcome import possible_level_ranks
from .record import NOT_CHECKED, Clock, DecisionRecord, Provenance, make_record, outside_dates
from .relevance import OpenQuestions
from .safety import DeferReason
from .templates import SCORE_FIELDS, CheckedText, RenderError, TextReads, TextRecord, render, render_keyed
from .texts import text_language

ASSESSMENT_FORMAT: Final = "invictus-rules/assessment/v1"
TRACE_FORMAT: Final = "invictus-rules/trace/v1"

Tri = Literal["true", "false", "unknown"]


_set = object.__setattr__


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def _make(cls, **values: Any) -> Self:
        """Build a record from values this module computed, without re-validating them.

        Like ``model_construct``, which is a measurable part of every assessment's cost, but for
        records given every field: the engine builds tens of these per case. A test checks that
        the JSON equals that of a fully validated Assessment.
        """
        record = cls.__new__(cls)
        _set(record, "__dict__", values)
        _set(record, "__pydantic_fields_set__", set(values))
        _set(record, "__pydantic_extra__", None)
        _set(record, "__pydantic_private__", dict(cls._private_defaults) if cls._private_defaults else None)
        return record

    _private_defaults: ClassVar[dict[str, Any]] = {}


class RulesetRef(_Result):
    """Exactly which ruleset produced an assessment."""

    id: str
    country: str
    version: str
    status: str
    effective_from: dt.date | None
    sha256: str = Field(description="sha256 of the ruleset's canonical JSON form")


class ScoreResult(_Result):
    id: str
    title: str
    points: float | None = Field(description="the points, when decided; else null and see points_min/points_max")
    points_min: float
    points_max: float
    critical_min: int
    critical_max: int
    level: str | None = Field(description="the level, when decided")
    level_label: str | None
    possible_levels: list[str] = Field(description="every level still possible, lowest first")
    possible_level_labels: list[str] = Field(default_factory=list, description="their names, in the assessment's language")
    overridden: bool = Field(description="true when professional judgement raised the level")
    present: list[str] | None = Field(
        description="indicators present; only with the trace (detail that reads back answers: special-category personal data), else null"
    )
    undecided: list[str] = Field(description="indicators that depend on unanswered questions")


class ReferralReason(_Result):
    rule: str
    text: str
    legal_basis: list[str] = Field(default_factory=list, description="the provisions the rule names; always given for a report")
    action: str | None = Field(default=None, description="what the worker does (for a report: what to report to whom, how, how fast)")


class ReferralResult(_Result):
    service: str
    name: str
    category: str
    phone: str | None
    url: str | None
    hours: str | None
    priority: Priority
    mode: Mode
    reasons: list[ReferralReason]


class DeferredResult(_Result):
    """A consent referral (opt_in, opt_out) that holds but that the engine holds back for safety."""

    rule: str
    service: str
    name: str
    mode: Mode
    priority: Priority
    why: DeferReason = Field(description="not_safe_to_talk, or no_safe_channel: no safe channel reaches the service")
    channels: list[str] = Field(description="the service's first-contact channels: one must be safe")
    possible_when: str = Field(description="what makes the referral possible, in the assessment's language")
    reason: str


class SafetyRoute(_Result):
    """A service to use now: an emergency route or a silent one (works without speaking)."""

    service: str
    name: str
    phone: str | None
    url: str | None


class SafetyBlock(_Result):
    """What the worker does first when it is not safe to talk (false, declined, unknown or unanswered)."""

    safe_to_talk: Literal["false", "unknown"]
    advice: str
    emergency: list[SafetyRoute]
    silent: list[SafetyRoute]
    deferred: list[str] = Field(description="ids of the referral rules deferred (details under deferred)")


class InformationResult(_Result):
    id: str
    legal_basis: list[str]
    title: str
    body: str


Status = Literal["complete", "complete_with_declined", "in_progress"]


class PendingResult(_Result):
    """A rule left undecided: pending (open questions can decide it) or undecidable (none can)."""

    kind: Literal["referral", "information", "level"]
    id: str
    service: str | None = None
    questions: list[str] = Field(description="the unanswered questions that can still change its result, in questionnaire order")
    declined_or_unknown: list[str] = Field(description="questions it depends on that were declined or not known")


class IgnoredAnswer(_Result):
    question: str
    reason: Literal["not_asked"]


class Notice(_Result):
    code: str
    message: str


class TraceEntry(TypedDict):
    """One rule's explanation. A plain dict: a trace has one per rule, and is built for every case.

    ``read`` are the questions the condition reads, ``uses`` the scores it uses; ``values`` (the
    answers read) is present only when the trace was asked for with values.
    """

    kind: Literal["question", "safety", "score_item", "level", "referral", "information"]
    id: str
    condition: str
    result: Tri
    read: tuple[str, ...]
    uses: tuple[str, ...]
    deferred: NotRequired[str]
    values: NotRequired[dict[str, Any]]


class Trace(_Result):
    format: Literal["invictus-rules/trace/v1"] = TRACE_FORMAT
    entries: list[TraceEntry]

    _written: _Written | None = PrivateAttr(default=None)
    _private_defaults: ClassVar[dict[str, Any]] = {"_written": None}

    def model_dump_json(self, **options: Any) -> str:
        """The JSON form (pydantic's, byte for byte); without options, from pre-serialised entries
        when every entry is still the one the engine built (pydantic is asked otherwise)."""
        if not options:
            written = self._json()
            if written is not None:
                return written
        return super().model_dump_json(**options)

    def _json(self) -> str | None:
        """The default JSON form from the engine's pre-serialised entries, or None if there are none
        (the trace was read from JSON or has values) or an entry is no longer the one built."""
        written = self.__pydantic_private__["_written"] if self.__pydantic_private__ else None
        if written is None or self.entries != [source for source, _ in written]:
            return None
        return _TRACE_HEAD + ",".join([text for _, text in written]) + _TRACE_TAIL

    def __eq__(self, other: object) -> bool:
        """Equal when the fields are: how the JSON form is kept does not count."""
        if isinstance(other, Trace):
            return self.format == other.format and self.entries == other.entries
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self) -> dict[Any, Any]:
        """Pickled without the pre-serialised entries (a worker process sends less)."""
        state = super().__getstate__()
        private = state.get("__pydantic_private__")
        if private and private.get("_written") is not None:
            state = {**state, "__pydantic_private__": {**private, "_written": None}}
        return state


_Written = list[tuple["TraceEntry", str]]
"""Per trace entry, the entry the engine built it from and its JSON text."""
_ENTRY_JSON: Final = TypeAdapter(TraceEntry)
_TRACE_HEAD, _TRACE_TAIL = Trace._make(format=TRACE_FORMAT, entries=[]).model_dump_json().split("[]")
_TRACE_HEAD += "["
_TRACE_TAIL = "]" + _TRACE_TAIL


class Assessment(_Result):
    """The result of assessing one case against one ruleset version.

    Special-category personal data (EU GDPR Art. 9): its decisions and texts say what happened to a
    victim. Keep it where the case is kept; logs and case files keep the decision record instead.

    Fields added since the first engine (safety, deferred, status, undecidable, ...) have defaults,
    so that assessments recorded earlier still load (and replay compares only what they hold).
    """

    format: Literal["invictus-rules/assessment/v1"] = ASSESSMENT_FORMAT
    ruleset: RulesetRef
    engine_version: str
    as_of: dt.date
    language: str
    safety: SafetyBlock | None = Field(default=None, description="present when it is not safe to talk: read it first")
    status: Status = Field(
        default="in_progress",
        description=(
            "complete: nothing left to ask; complete_with_declined: nothing left to ask, and some rules cannot be "
            "decided because the victim declined or did not know (see undecidable); in_progress: see pending"
        )
    )
    complete: bool = Field(description="true when nothing is left to ask: no rule is pending and no required question is unanswered")
    scores: list[ScoreResult]
    referrals: list[ReferralResult]
    deferred: list[DeferredResult] = Field(default_factory=list, description="consent referrals held back until it is safe; never under referrals")
    information: list[InformationResult]
    pending: list[PendingResult]
    undecidable: list[PendingResult] = Field(default_factory=list, description="rules no open question can decide: undecidable by the victim's choice")
    next_questions: list[str]
    declined: list[str]
    unknown: list[str]
    ignored_answers: list[IgnoredAnswer]
    warnings: list[Notice]
    trace: Trace | None = Field(description="the rule-by-rule trace, only when asked for: its results read back answers (special-category personal data)")

    _provenance: Provenance = PrivateAttr(default=NOT_CHECKED)
    _private_defaults: ClassVar[dict[str, Any]] = {"_provenance": NOT_CHECKED}

    def model_dump_json(self, **options: Any) -> str:
        """The JSON form (pydantic's, byte for byte); without options, the trace is joined from the
        engine's pre-serialised entries (see :meth:`Trace.model_dump_json`)."""
        trace = self.trace
        if not options and trace is not None:
            written = trace._json()
            if written is not None:
                head = super().model_dump_json(exclude={"trace"})
                return f'{head[:-1]},"trace":{written}}}'  # the trace is the last field
        return super().model_dump_json(**options)

    def record(
        self,
        answers: Mapping[str, Any] | Any,
        *,
        case_id: str | None = None,
        key: bytes | str | None = None,
        clock: Clock | None = None,
        record_id: str | None = None,
    ) -> DecisionRecord:
        """The decision record of this assessment, for case files and logs: no answer values.

        ``answers`` are the answers it was made from (only their digest is kept); ``key`` the
        deployment key for that digest (default: ``INVICTUS_RECORD_KEY``; without one the digest is
        a weaker salted SHA-256); ``clock`` gives the creation time (default: now, in UTC).
        """
        return make_record(self, answers, provenance=self._provenance, case_id=case_id, key=key, clock=clock, record_id=record_id)

    def with_provenance(self, provenance: Provenance) -> Assessment:
        """This assessment, noting where its ruleset came from (for its record). Returns self."""
        private = self.__pydantic_private__
        if private is None:
            object.__setattr__(self, "__pydantic_private__", {"_provenance": provenance})
        else:
            private["_provenance"] = provenance
        return self


def ruleset_ref(ruleset: CompiledRuleset) -> RulesetRef:
    meta = ruleset.metadata
    return RulesetRef._make(
        id=meta.id,
        country=meta.country,
        version=meta.version,
        status=meta.status,
        effective_from=meta.effective_from,
        sha256=ruleset.digest,
    )


class _Texts:
    """Picks a text in the requested language (the rule of :mod:`invictus_rules.texts`), noting each fallback."""

    def __init__(self, language: str, default: str):
        self.language = language
        self.default = default
        self.fallbacks: list[tuple[str, ...]] = []

    def pick(self, texts: Mapping[str, Any] | None, where: tuple[str, ...]) -> Any:
        """The text in the language, else the default language's; ``where`` names it in the warning."""
        if not texts:
            return None
        text = texts.get(self.language)
        if text is not None and text != "":
            return text  # the common case, checked inline: it is the rule's first step
        self.fallbacks.append(where)
        shown = text_language(texts, self.language, self.default)
        return texts[shown] if shown is not None else next(iter(texts.values()))  # every text is ''


def build_assessment(
    ruleset: CompiledRuleset,
    outcome: Outcome,
    *,
    language: str,
    trace: bool = False,
    trace_values: bool = False,
) -> Assessment:
    """Explain and render an outcome in ``language``.

    ``trace`` adds the detail from which answers can be read back (the rule-by-rule trace and each
    score's indicators present); ``trace_values`` the answers themselves. Both are opt-in.
    """
    meta = ruleset.metadata
    warnings: list[Notice] = []
    if language not in meta.languages:
        warnings.append(
            Notice._make(
                code="language-not-offered",
                message=f'the ruleset has no texts in {_shown_language(language)}; texts are in "{meta.default_language}"',
            )
        )
        language = meta.default_language
    if outside_dates(outcome.as_of, meta.effective_from, meta.effective_until):
        until = f" until {meta.effective_until.isoformat()}" if meta.effective_until else ""
        warnings.append(
            Notice._make(
                code="version-not-in-force",
                message=f"{meta.country}@{meta.version} is in force from {meta.effective_from}{until}, not on {outcome.as_of.isoformat()}: "
                "this assessment applies it outside its dates",
            )
        )
    texts = _Texts(language, meta.default_language)
    context = _Context(ruleset, outcome, texts, language)

    scores = [_score_result(ruleset, index, outcome, texts, trace) for index in range(len(ruleset.scores))]
    waiting: list[_Waiting] = [
        ("level", score.spec.id, None, score.depends_on, score.spec.id)
        for score, result in zip(ruleset.scores, outcome.scores, strict=True)
        if not result.decided and result.level is not None
    ]
    referrals, deferred = _referrals(ruleset, outcome, texts, context, warnings, waiting)
    if ruleset.safety is None:
        warnings.append(Notice._make(code="safe-contact-not-checked", message=labels(language)["out.predates_safety"]))
    information: list[InformationResult] = []
    for index, item in enumerate(ruleset.information):
        result = outcome.information[index]
        if result is True:
            information.append(
                InformationResult._make(
                    id=item.spec.id,
                    legal_basis=list(item.spec.legal_basis),
                    title=_render(item.title, texts, context, ("information", item.spec.id, "title"), warnings),
                    body=_render(item.body, texts, context, ("information", item.spec.id, "body"), warnings),
                )
            )
        elif result is None:
            waiting.append(("information", item.spec.id, None, item.condition.depends_on, item.condition))
    pending, undecidable = _pending(ruleset, outcome, waiting)

    for place in dict.fromkeys(texts.fallbacks):
        where = " ".join(place)
        warnings.append(
            Notice._make(code="translation-missing", message=f'{where} has no "{language}" text; shown in "{meta.default_language}"')
        )
    next_questions = outcome.next_questions
    required = ruleset.required_questions
    required_missing = bool(required) and any(q in required for q in next_questions)
    status: Status = "in_progress" if pending or required_missing else "complete_with_declined" if undecidable else "complete"
    return Assessment._make(
        format=ASSESSMENT_FORMAT,
        ruleset=ruleset.cache.get("ref") or ruleset.cache.setdefault("ref", ruleset_ref(ruleset)),
        engine_version=__version__,
        as_of=outcome.as_of,
        language=language,
        safety=_safety_block(ruleset, outcome, texts, context, deferred, warnings),
        status=status,
        complete=status != "in_progress",
        scores=scores,
        referrals=referrals,
        deferred=deferred,
        information=information,
        pending=pending,
        undecidable=undecidable,
        next_questions=list(next_questions),
        declined=[q for q in ruleset.question_ids if q in outcome.declined and outcome.values.get(q) is not ABSENT] if outcome.declined else [],
        unknown=[q for q in ruleset.question_ids if q in outcome.unknown and outcome.values.get(q) is not ABSENT] if outcome.unknown else [],
        ignored_answers=[IgnoredAnswer._make(question=q, reason=reason) for q, reason in outcome.ignored],
        warnings=warnings,
        trace=build_trace(ruleset, outcome, trace_values=trace_values) if trace else None,
    )


def _service_texts(ruleset: CompiledRuleset, language: str) -> tuple[dict[str, Any], dict[str, list[tuple[str, ...]]], TextRecord]:
    """The services as texts see them in ``language``, and per service the fields shown in the
    default language instead; computed once per ruleset and language."""
    key = ("services", language)
    cached = ruleset.cache.get(key)
    if cached is None:
        picker = _Texts(language, ruleset.metadata.default_language)
        services: dict[str, Any] = {}
        fallbacks: dict[str, list[tuple[str, ...]]] = {}
        for service in ruleset.services.values():
            before = len(picker.fallbacks)
            services[service.id] = {
                "name": picker.pick(service.name, ("service", service.id, "name")),
                "description": picker.pick(service.description, ("service", service.id, "description")),
                "phone": service.phone,
                "url": service.url,
                "email": service.email,
                "hours": picker.pick(service.hours, ("service", service.id, "hours")),
                "category": service.category,
            }
            fallbacks[service.id] = picker.fallbacks[before:]
        # what templates read: attributes found at the first try (jinja2 looks for an attribute
        # before a key, so plain dicts cost a failed lookup for every field a text prints)
        for_templates = TextRecord(**{sid: TextRecord(**fields) for sid, fields in services.items()})
        cached = ruleset.cache[key] = (services, fallbacks, for_templates)
    return cached


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}")


def _shown_language(language: object) -> str:
    """A requested language as a warning may repeat it: only a plain language tag (``nl``, ``pt-BR``);
    anything else (control or bidi characters, lone surrogates, pages of text) is not repeated."""
    if isinstance(language, str) and _LANGUAGE_TAG.fullmatch(language):
        return f'"{language}"'
    return "the language asked for (not a language code, so not shown)"


def build_trace(ruleset: CompiledRuleset, outcome: Outcome, *, trace_values: bool = False) -> Trace:
    """The rule-by-rule explanation of an outcome, without the texts."""
    entries, written = _trace(ruleset, outcome, trace_values)
    trace = Trace._make(format=TRACE_FORMAT, entries=entries)
    if written is not None:
        trace.__pydantic_private__["_written"] = written  # type: ignore[index]
    return trace


_SCALARS = frozenset({bool, int, float, str})


class _Context(dict):  # type: ignore[type-arg]
    """What texts see. The services are ready; the answers and scores are filled in only when a
    text that reads them is rendered (most texts read only services, or nothing)."""

    def __init__(self, ruleset: CompiledRuleset, outcome: Outcome, texts: _Texts, language: str):
        self.services, _, for_templates = _service_texts(ruleset, language)
        super().__init__(services=for_templates, as_of=outcome.as_of.isoformat(), language=language)
        self.ruleset = ruleset
        self.outcome = outcome
        self.texts = texts
        self.prepared, self.failures, self.plans, _ = _language_tables(ruleset, language)

    def key_for(self, text: CheckedText) -> Hashable | None:
        """What the rendering of ``text`` depends on in this case, when that is small and safe to
        remember (:func:`~invictus_rules.templates.render_keyed`), else None.

        The language, then per answer read its type and value (as texts see it: not given, not asked,
        and null are one), per score field read the score's points and decided level, and the as-of
        date if read. Only answers of closed types (yes/no and options) are remembered: never free text, dates or
        numbers (an age, an amount lost), which say most about a victim and rarely repeat.
        """
        plan = self.plans.get(text, False)
        if plan is False:
            plan = self.plans.setdefault(text, _memo_plan(self.ruleset, text.reads()))
        if plan is None:
            return None
        answers, scores, as_of = plan
        values = self.outcome.values
        key: list[Hashable] = [self["language"]]
        for question in answers:
            value = values.get(question)
            if value is None or value is ABSENT:
                key.append(None)
            elif type(value) is float:
                key.append((float, repr(value)))  # -0.0 == 0.0, yet they print differently
            else:
                key.append((type(value), value))
        outcomes = self.outcome.scores
        for index, points in scores:
            result = outcomes[index]
            if points:
                low, high = result.points
                key.append((type(low), repr(low)) if low == high else None)
            else:
                key.append(result.level[0] if result.decided and result.level else None)
        if as_of:
            key.append(self.outcome.as_of)
        return tuple(key)

    def reading(self, text: CheckedText) -> Mapping[str, Any]:
        """The context ``text`` renders in: the services, the date and the language, and the
        answers and scores it reads by name (a text that reads them otherwise gets them all)."""
        reads = text.reads()
        if reads is None:
            return self.complete()
        values = self.outcome.values
        answers = {}
        for question in reads.answers:
            value = values.get(question)
            if value is not None and value is not ABSENT:
                answers[question] = value if type(value) in _SCALARS else _json_value(value)
        only = {score_id for score_id, _ in reads.scores}
        scores = _score_context(self.ruleset, self.outcome, self.texts, only) if only else {}
        return {**self, "answers": answers, "scores": TextRecord(**{k: TextRecord(**v) for k, v in scores.items()})}

    def complete(self) -> _Context:
        if "answers" not in self:
            order = self.ruleset.question_order
            given = [(key, value) for key, value in self.outcome.values.items() if value is not None and value is not ABSENT]
            given.sort(key=lambda pair: order[pair[0]])  # the same order whatever order the case came in
            self["answers"] = {key: value if type(value) in _SCALARS else _json_value(value) for key, value in given}
            self["scores"] = TextRecord(**{k: TextRecord(**v) for k, v in _score_context(self.ruleset, self.outcome, self.texts).items()})
        return self


_KEYABLE_TYPES = frozenset({"boolean", "single_choice", "multiple_choice"})


_MemoPlan = tuple[tuple[str, ...], tuple[tuple[int, bool], ...], bool]
"""What keys a text's remembered renderings: the answers it reads, (score index, points or level)
per score field it reads (not the title, which does not change), and whether it reads the date."""


def _memo_plan(ruleset: CompiledRuleset, reads: TextReads | None) -> _MemoPlan | None:
    """How to key a text's renderings, or None when they are not to be remembered."""
    if reads is None:
        return None
    by_id = ruleset.question_by_id
    if any(q not in by_id or by_id[q].spec.type not in _KEYABLE_TYPES for q in reads.answers):
        return None
    order = ruleset.score_order
    scores = []
    for score_id, field in reads.scores:
        if score_id not in order or field not in SCORE_FIELDS:
            return None
        if field != "title":
            scores.append((order[score_id], field == "points"))
    return reads.answers, tuple(scores), reads.as_of


def _language_tables(ruleset: CompiledRuleset, language: str) -> tuple[dict[Any, Any], dict[Any, str], dict[Any, Any], dict[Any, Any]]:
    """Per ruleset and language, filled as cases need them: prepared texts by place, why a text
    that no case changes failed to render, memo plans by text, and the words of a score result by
    its level results (bounded: three values per level condition)."""
    key = ("texts", language)
    tables = ruleset.cache.get(key)
    if tables is None:
        tables = ruleset.cache.setdefault(key, ({}, {}, {}, {}))
    return tables  # type: ignore[no-any-return]


def _score_context(ruleset: CompiledRuleset, outcome: Outcome, texts: _Texts, only: Container[str] | None = None) -> dict[str, Any]:
    """The scores as texts see them (all, or ``only`` these)."""
    scores = {}
    for index, score in enumerate(ruleset.scores):
        if only is not None and score.spec.id not in only:
            continue
        result = outcome.scores[index]
        decided = result.decided and result.level is not None
        level_id = score.level_ids[result.level[0]] if decided and result.level else None
        level_spec = next((lv for lv in score.spec.levels if lv.id == level_id), None)
        scores[score.spec.id] = {
            "points": result.points[0] if result.points[0] == result.points[1] else None,
            "level": level_id,
            "level_label": texts.pick(level_spec.label, ("level", level_spec.id, "label")) if level_spec else None,
            "title": texts.pick(score.spec.title, ("score", score.spec.id, "title")),
        }
    return scores


_Prepared = tuple["str | None", "CheckedText | None", "tuple[str, ...] | None"]
"""A text as every case in one language starts it: the text itself when no case changes it (None
when that failed to render), else the template to render; and where it fell back to the default
language, if it did."""


def _render(templates: Mapping[str, Any], texts: _Texts, context: _Context, where: tuple[str, ...], warnings: list[Notice]) -> str:
    """The text at ``where`` in this case, noting a fallback to the default language or a failure.

    What does not change from case to case (which language's text is shown; a text without
    template syntax, or that reads only the services) is worked out once per language."""
    prepared = context.prepared.get(where)
    if prepared is None:
        prepared = context.prepared.setdefault(where, _prepare(templates, texts, context, where))
    text: str | None
    template: CheckedText | None
    text, template, fallback = prepared
    if fallback is not None:
        texts.fallbacks.append(fallback)
    try:
        if template is None:
            if text is None:
                raise RenderError(context.failures[where])
            return text
        key = context.key_for(template)
        if key is None:
            return render(template, context.reading(template))
        return render_keyed(template, key, lambda: context.reading(template))
    except RenderError as exc:
        warnings.append(Notice._make(code="text-not-rendered", message=f"{' '.join(where)} could not be rendered ({exc}); check the ruleset text"))
        return ""


def _prepare(templates: Mapping[str, Any], texts: _Texts, context: _Context, where: tuple[str, ...]) -> _Prepared:
    picker = _Texts(texts.language, texts.default)
    template = picker.pick(templates, where)
    fallback = picker.fallbacks[0] if picker.fallbacks else None
    if template is None:
        return "", None, fallback
    if template.plain is not None:
        return template.plain, None, fallback
    if not template.static:
        return None, template, fallback
    try:
        return render(template, context), None, fallback
    except RenderError as exc:
        context.failures.setdefault(where, str(exc))
        return None, None, fallback


def _score_result(ruleset: CompiledRuleset, index: int, outcome: Outcome, texts: _Texts, detail: bool) -> ScoreResult:
    score = ruleset.scores[index]
    result = outcome.scores[index]
    low, high = result.points
    table = _language_tables(ruleset, texts.language)[3]
    where = (index, result.level, result.levels, result.override)
    words = table.get(where)
    if words is None:  # the same for every case with these level results: worked out once
        picker = _Texts(texts.language, texts.default)
        possible = [score.level_ids[rank] for rank in _possible_ranks(result)]
        possible_labels = [picker.pick(score.level_specs[level].label, ("level", level, "label")) for level in possible]
        level_id = possible[0] if result.decided else None
        level_spec = score.level_specs.get(level_id) if level_id is not None else None
        words = table.setdefault(
            where,
            (
                picker.pick(score.spec.title, ("score", score.spec.id, "title")),
                level_id,
                picker.pick(level_spec.label, ("level", level_spec.id, "label")) if level_spec else None,
                tuple(possible),
                tuple(possible_labels),
                tuple(picker.fallbacks),
            ),
        )
    title, level_id, level_label, possible, possible_labels, fallbacks = words
    texts.fallbacks.extend(fallbacks)
    computed_top = result.computed_level[1] if result.computed_level else -1
    items = result.items
    return ScoreResult._make(
        id=score.spec.id,
        title=title,
        points=low if low == high else None,
        points_min=low,
        points_max=high,
        critical_min=result.critical[0],
        critical_max=result.critical[1],
        level=level_id,
        level_label=level_label,
        possible_levels=list(possible),
        possible_level_labels=list(possible_labels),
        overridden=result.override is not None and result.override > computed_top,
        present=[item for item, r in zip(score.item_ids, items, strict=True) if r is True] if detail else None,
        undecided=[item for item, r in zip(score.item_ids, items, strict=True) if r is None] if None in items else [],
    )


def _possible_ranks(result: Any) -> list[int]:
    """Levels still possible (not counting 'no level')."""
    if result.level is None:
        return []
    return [rank for rank in possible_level_ranks(result.levels, result.override) if rank >= 0]


Held = dict[str, list[tuple[int, CompiledReferral, ReferralReason]]]
Merged = list[tuple[str, Mode, Priority, list[ReferralReason]]]


def _referrals(
    ruleset: CompiledRuleset,
    outcome: Outcome,
    texts: _Texts,
    context: _Context,
    warnings: list[Notice],
    waiting: list[_Waiting],
) -> tuple[list[ReferralResult], list[DeferredResult]]:
    held: Held = {}
    deferred: list[DeferredResult] = []
    why = dict(outcome.deferred)
    for index, (rule, result) in enumerate(zip(ruleset.referrals, outcome.referrals, strict=True)):
        spec = rule.spec
        if result is None:
            waiting.append(("referral", spec.id, spec.service, rule.condition.depends_on, rule.condition))
            continue
        if result is not True:
            continue
        text = _render(rule.reason, texts, context, ("referral", spec.id, "reason"), warnings)
        if index in why:
            deferred.append(_deferred(ruleset, rule, why[index], text, texts.language, context))
            continue
        action = _render(rule.action, texts, context, ("referral", spec.id, "action"), warnings) if rule.action else None
        reason = ReferralReason._make(rule=spec.id, text=text, legal_basis=list(spec.legal_basis or ()), action=action)
        held.setdefault(spec.service, []).append((index, rule, reason))
    merged = _merge_as_published(held) if ruleset.safety is None else _merge(held, ruleset)
    referrals = []
    service_fallbacks = _service_texts(ruleset, texts.language)[1]
    for service_id, mode, priority, reasons in merged:
        texts.fallbacks.extend(service_fallbacks[service_id])
        service = ruleset.services[service_id]
        service_text = context.services[service_id]
        referrals.append(
            ReferralResult._make(
                service=service_id,
                name=service_text["name"],
                category=service.category,
                phone=service.phone,
                url=service.url,
                hours=service_text["hours"],
                priority=priority,
                mode=mode,
                reasons=reasons,
            )
        )
    return referrals, deferred


def _merge(held: Held, ruleset: CompiledRuleset) -> Merged:
    """One referral per service: the strongest mode (report > opt_out > opt_in > inform_only) and the
    highest priority among its rules, reasons by (mode, priority, rule id). Rule order never counts."""
    merged = []
    for service_id, rules in held.items():
        rules.sort(key=lambda r: (MODE_RANK[r[1].spec.mode], PRIORITY_RANK[r[1].spec.priority], r[1].spec.id))
        priority = min((r[1].spec.priority for r in rules), key=PRIORITY_RANK.__getitem__)
        merged.append((service_id, rules[0][1].spec.mode, priority, [r[2] for r in rules]))
    place = ruleset.service_order
    merged.sort(key=lambda m: (PRIORITY_RANK[m[2]], MODE_RANK[m[1]], place[m[0]]))
    return merged


def _merge_as_published(held: Held) -> Merged:
    """The merge of rulesets published before the safety section: the mode of the highest-priority
    rule (the first on a tie), reasons in rule order, services by priority then first rule."""
    merged = []
    for service_id, rules in held.items():
        top = min(rules, key=lambda r: (PRIORITY_RANK[r[1].spec.priority], r[0]))
        merged.append((rules[0][0], service_id, top[1].spec.mode, top[1].spec.priority, [r[2] for r in rules]))
    merged.sort(key=lambda m: (PRIORITY_RANK[m[3]], m[0]))
    return [m[1:] for m in merged]


def _deferred(ruleset: CompiledRuleset, rule: CompiledReferral, why: str, reason: str, language: str, context: _Context) -> DeferredResult:
    spec = rule.spec
    service = ruleset.services[spec.service]
    words = labels(language)
    channels = [c for c in CHANNELS if c in service.first_contact_channels]
    named = f" {words['out.or']} ".join(words[f"channel.{c}"] for c in channels) or words["none"]
    return DeferredResult._make(
        rule=spec.id,
        service=spec.service,
        name=context.services[spec.service]["name"],
        mode=spec.mode,
        priority=spec.priority,
        why=why,
        channels=channels,
        possible_when=words[f"out.possible.{why}"].format(channels=named),
        reason=reason,
    )


def _safety_block(
    ruleset: CompiledRuleset, outcome: Outcome, texts: _Texts, context: _Context, deferred: list[DeferredResult], warnings: list[Notice]
) -> SafetyBlock | None:
    """The block shown first when it is not safe to talk; None when it is, or without a safety section."""
    safety = ruleset.safety
    if safety is None or outcome.safe is True:
        return None

    def routes(ids: list[str]) -> list[SafetyRoute]:
        return [
            SafetyRoute._make(service=s, name=context.services[s]["name"], phone=ruleset.services[s].phone, url=ruleset.services[s].url)
            for s in ids
        ]

    return SafetyBlock._make(
        safe_to_talk="false" if outcome.safe is False else "unknown",
        advice=_render(safety.advice, texts, context, ("safety", "advice"), warnings),
        emergency=routes(safety.spec.emergency),
        silent=routes(safety.spec.silent),
        deferred=[d.rule for d in deferred],
    )


_Waiting = tuple[str, str, "str | None", tuple[str, ...], "CompiledCondition | str"]
"""An undecided rule: (kind, id, service, questions it depends on, its condition or its score's id)."""


def _pending(ruleset: CompiledRuleset, outcome: Outcome, waiting: list[_Waiting]) -> tuple[list[PendingResult], list[PendingResult]]:
    """Split undecided rules into pending (open questions can decide them) and undecidable."""
    if not waiting:
        return [], []
    finder = OpenQuestions(ruleset, outcome)
    not_answered = outcome.declined | outcome.unknown
    pending: list[PendingResult] = []
    undecidable: list[PendingResult] = []
    for kind, rule_id, service, depends_on, what in waiting:
        questions = finder.for_score(what) if isinstance(what, str) else finder.deciding(what)
        record = PendingResult._make(
            kind=kind,
            id=rule_id,
            service=service,
            questions=list(questions),
            declined_or_unknown=[q for q in depends_on if q in not_answered],
        )
        (pending if questions else undecidable).append(record)
    return pending, undecidable


_TRI = {True: "true", False: "false", None: "unknown"}


def _trace_variants(ruleset: CompiledRuleset) -> list[dict[Any, tuple[TraceEntry, str]]]:
    """Per rule, for each result, its trace entry and the entry's JSON text: the entry is copied per
    case, which is cheaper than building it, and the text is joined into the JSON form."""
    variants = ruleset.cache.get("trace")
    if variants is None:
        variants = []
        for kind, rule_id, text, reads, uses in ruleset.trace_plan:
            by_result = {}
            for result, tri in _TRI.items():
                entry: TraceEntry = {"kind": kind, "id": rule_id, "condition": text, "result": tri, "read": reads, "uses": uses}  # type: ignore[typeddict-item]
                by_result[result] = (entry, _ENTRY_JSON.dump_json(entry).decode())
            variants.append(by_result)
        variants = ruleset.cache.setdefault("trace", variants)
    return variants  # type: ignore[no-any-return]


def _deferred_variant(ruleset: CompiledRuleset, position: int, why: str) -> tuple[TraceEntry, str]:
    """The trace entry of a referral that holds and is deferred, and its JSON text."""
    cache = ruleset.cache.get("trace-deferred")
    if cache is None:
        cache = ruleset.cache.setdefault("trace-deferred", {})
    variant = cache.get((position, why))
    if variant is None:
        entry: TraceEntry = {**_trace_variants(ruleset)[position][True][0], "deferred": why}
        variant = cache.setdefault((position, why), (entry, _ENTRY_JSON.dump_json(entry).decode()))
    return variant  # type: ignore[no-any-return]


def _trace(ruleset: CompiledRuleset, outcome: Outcome, with_values: bool) -> tuple[list[TraceEntry], _Written | None]:
    """Every rule with its result, in the order of ``CompiledRuleset.trace_plan``; and, without
    values, per entry the entry it was copied from and its JSON text."""
    results: list[Any] = [flag for flag, question in zip(outcome.asked, ruleset.questions, strict=True) if question.ask_if is not None]
    if ruleset.safety is not None:
        results.append(outcome.safe)
    for score in outcome.scores:
        results.extend(score.items)
        results.extend(score.levels)
    first_referral = len(results)
    results.extend(outcome.referrals)
    results.extend(outcome.information)
    written = [variants[result] for variants, result in zip(_trace_variants(ruleset), results, strict=True)]
    for index, why in outcome.deferred:
        written[first_referral + index] = _deferred_variant(ruleset, first_referral + index, why)
    entries: list[TraceEntry] = [source.copy() for source, _ in written]
    if with_values:
        for entry in entries:
            entry["values"] = {q: _json_value(outcome.values.get(q)) for q in entry["read"]}
        return entries, None
    return entries, written


def _json_value(value: Any) -> Any:
    if value is ABSENT:
        return "(not asked)"
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
