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
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, ClassVar, Final, Literal, NotRequired, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
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
from .templates import RenderError, render
from .texts import text_language

ASSESSMENT_FORMAT: Final = "invictus-rules/assessment/v1"
TRACE_FORMAT: Final = "invictus-rules/trace/v1"

Tri = Literal["true", "false", "unknown"]


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
        object.__setattr__(record, "__dict__", values)
        object.__setattr__(record, "__pydantic_fields_set__", set(values))
        object.__setattr__(record, "__pydantic_extra__", None)
        object.__setattr__(record, "__pydantic_private__", dict(cls._private_defaults) if cls._private_defaults else None)
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


def _service_texts(ruleset: CompiledRuleset, language: str) -> tuple[dict[str, Any], dict[str, list[tuple[str, ...]]], _Record]:
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
        for_templates = _Record(**{sid: _Record(**fields) for sid, fields in services.items()})
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
    return Trace._make(format=TRACE_FORMAT, entries=_trace(ruleset, outcome, trace_values))


_SCALARS = frozenset({bool, int, float, str})


class _Record(SimpleNamespace):
    """Fields a text reads (``services.x.phone``): attributes, so jinja2 finds them at the first try;
    also indexable and iterable by name, like the mapping it replaces."""

    def __getitem__(self, name: str) -> Any:
        return self.__dict__[name]

    def __iter__(self) -> Any:
        return iter(self.__dict__)


class _Context(dict):  # type: ignore[type-arg]
    """What texts see. The services are ready; the answers and scores are filled in only when a
    text that reads them is rendered (most texts read only services, or nothing)."""

    def __init__(self, ruleset: CompiledRuleset, outcome: Outcome, texts: _Texts, language: str):
        self.services, _, for_templates = _service_texts(ruleset, language)
        super().__init__(services=for_templates, as_of=outcome.as_of.isoformat(), language=language)
        self.ruleset = ruleset
        self.outcome = outcome
        self.texts = texts

    def complete(self) -> _Context:
        if "answers" not in self:
            order = self.ruleset.question_order
            given = [(key, value) for key, value in self.outcome.values.items() if value is not None and value is not ABSENT]
            given.sort(key=lambda pair: order[pair[0]])  # the same order whatever order the case came in
            self["answers"] = {key: value if type(value) in _SCALARS else _json_value(value) for key, value in given}
            self["scores"] = _Record(**{k: _Record(**v) for k, v in _score_context(self.ruleset, self.outcome, self.texts).items()})
        return self


def _score_context(ruleset: CompiledRuleset, outcome: Outcome, texts: _Texts) -> dict[str, Any]:
    scores = {}
    for index, score in enumerate(ruleset.scores):
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


def _render(templates: Mapping[str, Any], texts: _Texts, context: _Context, where: tuple[str, ...], warnings: list[Notice]) -> str:
    template = texts.pick(templates, where)
    if template is None:
        return ""
    if template.plain is not None:
        return template.plain  # type: ignore[no-any-return]
    try:
        return render(template, context if template.static else context.complete())
    except RenderError as exc:
        warnings.append(Notice._make(code="text-not-rendered", message=f"{' '.join(where)} could not be rendered ({exc}); check the ruleset text"))
        return ""


def _score_result(ruleset: CompiledRuleset, index: int, outcome: Outcome, texts: _Texts, detail: bool) -> ScoreResult:
    score = ruleset.scores[index]
    result = outcome.scores[index]
    low, high = result.points
    possible = [score.level_ids[rank] for rank in _possible_ranks(result)]
    possible_labels = [texts.pick(score.level_specs[level].label, ("level", level, "label")) for level in possible]
    level_id = possible[0] if result.decided else None
    level_spec = score.level_specs.get(level_id) if level_id is not None else None
    computed_top = result.computed_level[1] if result.computed_level else -1
    items = result.items
    return ScoreResult._make(
        id=score.spec.id,
        title=texts.pick(score.spec.title, ("score", score.spec.id, "title")),
        points=low if low == high else None,
        points_min=low,
        points_max=high,
        critical_min=result.critical[0],
        critical_max=result.critical[1],
        level=level_id,
        level_label=texts.pick(level_spec.label, ("level", level_spec.id, "label")) if level_spec else None,
        possible_levels=possible,
        possible_level_labels=possible_labels,
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


def _trace_variants(ruleset: CompiledRuleset) -> list[dict[Any, TraceEntry]]:
    """Per rule, its trace entry for each result: copied per case, which is cheaper than building it."""
    variants = ruleset.cache.get("trace")
    if variants is None:
        variants = ruleset.cache["trace"] = [
            {result: {"kind": kind, "id": rule_id, "condition": text, "result": tri, "read": reads, "uses": uses} for result, tri in _TRI.items()}
            for kind, rule_id, text, reads, uses in ruleset.trace_plan
        ]
    return variants


def _trace(ruleset: CompiledRuleset, outcome: Outcome, with_values: bool) -> list[TraceEntry]:
    """Every rule with its result, in the order of ``CompiledRuleset.trace_plan``."""
    results: list[Any] = [flag for flag, question in zip(outcome.asked, ruleset.questions, strict=True) if question.ask_if is not None]
    if ruleset.safety is not None:
        results.append(outcome.safe)
    for score in outcome.scores:
        results.extend(score.items)
        results.extend(score.levels)
    first_referral = len(results)
    results.extend(outcome.referrals)
    results.extend(outcome.information)
    entries: list[TraceEntry] = [variants[result].copy() for variants, result in zip(_trace_variants(ruleset), results, strict=True)]
    for index, why in outcome.deferred:
        entries[first_referral + index]["deferred"] = why
    if with_values:
        for entry in entries:
            entry["values"] = {q: _json_value(outcome.values.get(q)) for q in entry["read"]}
    return entries


def _json_value(value: Any) -> Any:
    if value is ABSENT:
        return "(not asked)"
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
