"""The ruleset format, v1, as pydantic models.

These models are the single source of truth for the format: the loader validates YAML against them,
the JSON Schema that editors use is generated from them (``invictus-rules schema``), and the README's
format reference describes them. Semantic checks that need the whole ruleset (conditions, references
between elements, templates) happen in :mod:`invictus_rules.compile`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StringConstraints, field_validator, model_validator

FORMAT_VERSION = "invictus-rules/v1"
MAX_BOUND = 10**15  # integers up to here are exact as floats too, and answers stay far from overflow
MAX_POINTS = 10**6


def _finite_within(value: int | float | None, limit: int, what: str) -> int | float | None:
    """Reject NaN, infinity (which pydantic reads from text such as 'nan') and absurd magnitudes."""
    if value is not None and not (math.isfinite(value) and -limit <= value <= limit):
        raise ValueError(f"{what} must be a finite number from -{limit:,} to {limit:,}")
    return value


def _date_is_text(value: object) -> object:
    """Refuse a date written as a number, which pydantic would read as seconds since 1970 (20260101 is
    23 August 1970)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("write the date as YYYY-MM-DD, e.g. 2026-01-01")
    return value

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$"),
    Field(
        description="An identifier: lower-case ASCII letters, digits and underscores, starting with a letter.",
    ),
]
LanguageCode = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2,3}$"),
    Field(description="An ISO 639 language code in lower case."),
]
Text = Annotated[
    dict[LanguageCode, str],
    Field(
        description="A text per language: a mapping from language code to the text in that language.",
    ),
]
TemplateText = Annotated[
    dict[LanguageCode, str],
    Field(
        description=(
            "A text per language that may use jinja2 template syntax, e.g. "
            "'{{ services.slachtofferhulp.phone }}'. Rendered in a sandbox with the answers, services and scores."
        ),
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class AllCondition(_Model):
    """True when every listed condition is true."""

    all: list[Condition] = Field(
        min_length=1,
        description="Conditions that must all be true.",
        examples=[["crime_type == \"domestic_violence\"", "lives_with_offender"]],
    )


class AnyCondition(_Model):
    """True when at least one listed condition is true."""

    any: list[Condition] = Field(
        min_length=1,
        description="Conditions of which at least one must be true.",
        examples=[["strangulation", "threats_to_kill"]],
    )


class NotCondition(_Model):
    """True when the inner condition is false."""

    not_: Condition = Field(
        alias="not",
        description="A condition that must be false.",
        examples=["safe_to_talk"],
    )
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Condition = Annotated[
    str | bool | AllCondition | AnyCondition | NotCondition,
    Field(
        description=(
            "A condition in the expression language, e.g. 'crime_type in [\"domestic_violence\", \"stalking\"] "
            "and level(dv_risk) == \"high\"', or a YAML 'all:' / 'any:' / 'not:' over such conditions."
        ),
    ),
]
AllCondition.model_rebuild()
AnyCondition.model_rebuild()
NotCondition.model_rebuild()


class ChangelogEntry(_Model):
    """What changed in one version, in words an auditor can read."""

    version: str = Field(
        pattern=r"^\d{4}\.\d+$", description="The version this entry describes.", examples=["2026.1"]
    )
    date: dt.date = Field(description="When the change was decided.", examples=["2025-11-15"])
    changes: list[str | Text] = Field(
        min_length=1,
        description="One line per change: a text per language, or one plain text read as English.",
        examples=[["Lowered the high-risk threshold from 14 to 12 points."]],
    )

    _date_is_text = field_validator("date", mode="before")(_date_is_text)


class Metadata(_Model):
    """Which ruleset this is, for which country, and when it is in force."""

    id: Identifier = Field(description="A stable identifier of the ruleset, the same across versions.", examples=["nl_victim_assessment"])
    country: str = Field(pattern=r"^[a-z]{2}$", description="ISO 3166 country code in lower case.", examples=["nl"])
    version: str = Field(
        pattern=r"^\d{4}\.\d+$",
        description="Calendar version YYYY.N, written in quotes so YAML keeps it as text.",
        examples=["2026.1"],
    )
    effective_from: dt.date | None = Field(
        description="First day this version is in force. A draft may leave it empty (null) until it is decided.",
        examples=["2026-01-01"],
    )
    effective_until: dt.date | None = Field(
        default=None,
        description="Last day this version is in force; empty while it has no successor.",
        examples=["2026-06-30"],
    )
    status: Literal["draft", "published"] = Field(
        description="Drafts are never picked by date; published versions are immutable.", examples=["published"]
    )
    languages: list[LanguageCode] = Field(
        min_length=1, description="Languages the texts are written in.", examples=[["nl", "en"]]
    )
    default_language: LanguageCode = Field(
        description="Language used when a text is missing in the requested language.", examples=["nl"]
    )
    title: Text = Field(
        description="The ruleset's name as people say it.",
        examples=[{"nl": "Individuele beoordeling, doorverwijzing en informatie voor slachtoffers (Nederland)", "en": "Individual assessment, referral and information for victims (Netherlands)"}],
    )
    description: Text | None = Field(
        default=None,
        description="What the ruleset is for and who uses it.",
        examples=[{"en": "Needs assessment of victims of crime, used by the police and Slachtofferhulp Nederland."}],
    )
    legal_basis: list[str | Text] = Field(
        default_factory=list,
        description="Laws and regulations the ruleset implements: each a citation, or a citation per language.",
        examples=[["Directive 2012/29/EU Art. 22", "Wetboek van Strafvordering art. 51aa"]],
    )
    sources: list[str] = Field(
        default_factory=list,
        description="Where the content comes from (instruments, guidance, service directories).",
        examples=[["https://www.slachtofferhulp.nl/"]],
    )
    changelog: list[ChangelogEntry] = Field(
        default_factory=list,
        description="What changed, newest first. A published version needs an entry for itself.",
        examples=[[{"version": "2026.1", "date": "2025-11-15", "changes": ["Lowered the high-risk threshold from 14 to 12."]}]],
    )

    @model_validator(mode="after")
    def _published_has_a_date(self) -> Metadata:
        if self.status == "published" and self.effective_from is None:
            raise ValueError("a published version needs effective_from: the first day it is in force")
        return self

    _dates_are_text = field_validator("effective_from", "effective_until", mode="before")(_date_is_text)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_text(cls, value: object) -> object:
        if isinstance(value, float):
            raise ValueError("write the version in quotes, e.g. version: \"2026.1\", so YAML keeps it as text")
        return value


class Option(_Model):
    """One choice of a single- or multiple-choice question."""

    value: Identifier = Field(description="The value stored in a case and used in conditions.", examples=["domestic_violence"])
    label: Text = Field(
        description="What the caseworker or victim reads.",
        examples=[{"nl": "Huiselijk geweld (door partner, ex-partner of familielid)", "en": "Domestic violence (by a partner, ex-partner or family member)"}],
    )


QuestionType = Literal["boolean", "integer", "number", "single_choice", "multiple_choice", "date", "text"]


class Question(_Model):
    """One question of the needs assessment."""

    id: Identifier = Field(description="The question's identifier, used in cases and conditions.", examples=["safe_to_talk"])
    type: QuestionType = Field(description="What kind of answer the question takes.", examples=["boolean"])
    text: Text = Field(description="The question as it is asked.", examples=[{"nl": "Woont u samen met de pleger?", "en": "Do you live with the offender?"}])
    help: Text | None = Field(
        default=None,
        description="Guidance for the caseworker asking it.",
        examples=[{"en": "Ask only when the victim is alone; agree a code word first."}],
    )
    section: Identifier | None = Field(
        default=None, description="A group the question belongs to, for display.", examples=["safety"]
    )
    required: StrictBool = Field(
        default=False, description="Whether the assessment is incomplete without an answer.", examples=[True]
    )
    options: list[Option] | None = Field(
        default=None,
        description="The choices, for single_choice and multiple_choice questions.",
        examples=[[{"value": "domestic_violence", "label": {"nl": "Huiselijk geweld", "en": "Domestic violence"}}]],
    )
    min: StrictInt | StrictFloat | None = Field(default=None, description="Smallest allowed answer, for integer and number questions.", examples=[0])
    max: StrictInt | StrictFloat | None = Field(default=None, description="Largest allowed answer, for integer and number questions.", examples=[120])
    max_length: StrictInt | None = Field(
        default=None, ge=1, le=100_000, description="Longest allowed answer in characters, for text questions.", examples=[500]
    )
    ask_if: Condition | None = Field(
        default=None,
        description="Ask the question only when this condition is true; otherwise its answer is ignored.",
        examples=['crime_type in ["domestic_violence", "stalking"]'],
    )

    @field_validator("min", "max")
    @classmethod
    def _bound_is_finite(cls, value: int | float | None) -> int | float | None:
        return _finite_within(value, MAX_BOUND, "a bound")


class ScoreItem(_Model):
    """A weighted indicator: when its condition is true, it adds its points to the score."""

    id: Identifier = Field(description="The indicator's identifier.", examples=["strangulation"])
    label: Text = Field(description="What the indicator means, in words.", examples=[{"nl": "Wurging of ademhaling geblokkeerd", "en": "Strangulation or breathing blocked"}])
    when: Condition = Field(description="When the indicator is present.", examples=["strangulation", {"any": ["threats_to_kill", "threats_to_children"]}])
    points: StrictInt | StrictFloat = Field(description="Points added when the indicator is present.", examples=[3])
    critical: StrictBool = Field(
        default=False,
        description="Whether the indicator is critical; levels can count critical indicators with critical(score).",
        examples=[True],
    )

    @field_validator("points")
    @classmethod
    def _points_are_finite(cls, value: int | float) -> int | float | None:
        return _finite_within(value, MAX_POINTS, "points")


class Level(_Model):
    """A named level of a score. Levels are listed from lowest to highest."""

    id: Identifier = Field(description="The level's identifier.", examples=["high"])
    label: Text = Field(description="The level's name as people read it.", examples=[{"nl": "Hoog", "en": "High"}])
    when: Condition | None = Field(
        default=None,
        description=(
            "When the score reaches this level. The score's level is the highest listed level whose condition "
            "is true; the first (lowest) level may leave it out to mean 'otherwise'."
        ),
        examples=["score(dv_risk) >= 14 or critical(dv_risk) >= 2"],
    )


class Override(_Model):
    """A professional-judgement question that can raise a score's level but never lower it."""

    question: Identifier = Field(
        description="A single_choice question whose option values are this score's level ids.",
        examples=["professional_judgement"],
    )


class Score(_Model):
    """A risk or needs score: weighted indicators and the levels they lead to."""

    id: Identifier = Field(description="The score's identifier, used in score(), level() and critical().", examples=["dv_risk"])
    title: Text = Field(description="The score's name.", examples=[{"nl": "Risico op huiselijk geweld en stalking", "en": "Risk of domestic violence and stalking"}])
    description: Text | None = Field(
        default=None,
        description="What the score measures and how to read it.",
        examples=[{"en": "Risk of serious harm from a partner or ex-partner; decision support, not a prediction."}],
    )
    basis: str | Text | None = Field(
        default=None,
        description=(
            "Where the score's structure comes from, and a caution that thresholds are not validated cut-offs: "
            "a text per language, or one plain text read as English."
        ),
        examples=[{"en": "Themes common to published intimate-partner risk checklists, paraphrased; example thresholds.", "nl": "Thema's uit gepubliceerde risicotaxatie-instrumenten, in eigen woorden; voorbeelddrempels."}],
    )
    items: list[ScoreItem] = Field(
        min_length=1,
        description="The weighted indicators.",
        examples=[[{"id": "strangulation", "label": {"en": "Strangulation"}, "when": "strangulation", "points": 4, "critical": True}]],
    )
    levels: list[Level] = Field(
        min_length=1,
        description="The levels, lowest first.",
        examples=[[{"id": "standard", "label": {"en": "Standard"}}, {"id": "high", "label": {"en": "High"}, "when": "score(dv_risk) >= 12"}]],
    )
    override: Override | None = Field(
        default=None,
        description="Professional judgement that may raise the level.",
        examples=[{"question": "professional_judgement"}],
    )


CHANNELS: tuple[str, ...] = ("phone", "sms", "email", "letter", "in_person")
FirstContact = Literal["phone", "sms", "email", "letter", "in_person", "none"]

ServiceCategory = Literal[
    "general_support",
    "helpline",
    "domestic_violence",
    "sexual_violence",
    "child_protection",
    "trafficking",
    "hate_crime",
    "compensation",
    "legal_aid",
    "case_information",
    "police",
    "emergency",
    "health",
    "shelter",
    "other",
]


class Service(_Model):
    """An organisation a victim can be referred to."""

    id: Identifier = Field(description="The service's identifier, used by referrals and templates.", examples=["veilig_thuis"])
    category: ServiceCategory = Field(description="What kind of service it is, for comparison across countries.", examples=["domestic_violence"])
    name: Text = Field(description="The organisation's name.", examples=[{"nl": "Veilig Thuis", "en": "Veilig Thuis"}])
    description: Text | None = Field(
        default=None,
        description="What the service does for a victim.",
        examples=[{"en": "Advice and reporting centre for domestic violence and child abuse."}],
    )
    phone: str | None = Field(default=None, description="The number to call, as it is dialled in the country.", examples=["0800-2000"])
    url: str | None = Field(default=None, pattern=r"^https://\S+$", description="The service's website (https).", examples=["https://veiligthuis.nl"])
    email: str | None = Field(default=None, description="An e-mail address, where one is published.", examples=["info@example.org"])
    hours: Text | None = Field(default=None, description="When the service can be reached.", examples=[{"en": "24 hours a day, 7 days a week"}])
    free_of_charge: StrictBool | None = Field(default=None, description="Whether calling or using the service is free.", examples=[True])
    languages: list[LanguageCode] = Field(default_factory=list, description="Languages the service works in.", examples=[["nl", "en"]])
    notes: str | None = Field(
        default=None,
        description="Sources and caveats for maintainers (not shown to victims).",
        examples=["Phone number from the service's website, checked 2025-11; hours not verified."],
    )
    first_contact: FirstContact | list[FirstContact] | None = Field(
        default=None,
        description=(
            "How the service's first contact reaches the victim after a referral: phone (a call-back), sms, "
            "email, letter, in_person (the service meets the victim), or none (the victim makes contact). "
            "One value or a list. An opt_in or opt_out referral is made only when one of them is a safe channel."
        ),
        examples=["phone", ["phone", "letter"]],
    )

    @property
    def first_contact_channels(self) -> frozenset[str]:
        """The channels the service's first contact uses (empty for none or when not declared)."""
        declared = self.first_contact if isinstance(self.first_contact, list) else [self.first_contact]
        return frozenset(value for value in declared if value is not None and value != "none")


Priority = Literal["immediate", "urgent", "standard"]
PRIORITY_RANK = {"immediate": 0, "urgent": 1, "standard": 2}
"""Priorities from the most pressing (rank 0) down: a service's merged referral takes the lowest rank."""
ReferralMode = Literal["inform_only", "opt_in", "opt_out", "report"]
MODE_RANK = {"report": 0, "opt_out": 1, "opt_in": 2, "inform_only": 3}
"""The order in which a service's referral modes merge: the strongest (lowest rank) wins."""
CONSENT_MODES = frozenset({"opt_in", "opt_out"})
"""Modes the engine defers while it is not safe to talk or no safe channel is known."""


class Referral(_Model):
    """A rule that recommends referring the victim to a service."""

    id: Identifier = Field(description="The rule's identifier.", examples=["dv_to_veilig_thuis"])
    service: Identifier = Field(description="The service referred to.", examples=["veilig_thuis"])
    when: Condition = Field(
        description="When the referral is recommended.",
        examples=['crime_type == "domestic_violence" and (victim_age >= 18 or not answered(victim_age))', {"all": ['crime_type == "domestic_violence"', "lives_with_offender"]}],
    )
    priority: Priority = Field(description="How soon: immediate (now), urgent (within days) or standard.", examples=["urgent"])
    mode: ReferralMode = Field(
        description=(
            "inform_only: give the victim the contact; opt_in: refer with the victim's consent; "
            "opt_out: refer unless the victim declines; report: a report the law requires or allows without "
            "the victim's consent (needs legal_basis and action). opt_in and opt_out are deferred by the engine "
            "while it is not safe to talk or no safe channel matches the service's first_contact."
        ),
        examples=["opt_in"],
    )
    reason: TemplateText = Field(
        description="Why, in plain words, to the victim (\"you\").",
        examples=[{"en": "Violence by a partner or family member often does not stop by itself. {{ services.veilig_thuis.name }} helps you and your family."}],
    )
    legal_basis: list[str] | None = Field(
        default=None,
        description="The provisions behind the referral; required and non-empty for a report.",
        examples=[["Wet maatschappelijke ondersteuning 2015 art. 5.2.6"]],
    )
    action: TemplateText | None = Field(
        default=None,
        description="What the worker does: for a report, what to report to whom, how and how fast. Required for a report.",
        examples=[{"en": "Report to Veilig Thuis (0800-2000) today; tell the victim, when it is safe, that you do."}],
    )


class Information(_Model):
    """An information item a victim is entitled to (Directive 2012/29/EU Art. 4)."""

    id: Identifier = Field(description="The item's identifier.", examples=["compensation"])
    legal_basis: list[str] = Field(
        min_length=1,
        description="The provisions that give the right, e.g. 'Directive 2012/29/EU Art. 4(1)(e)'.",
        examples=[["Directive 2012/29/EU Art. 4(1)(e)"]],
    )
    when: Condition = Field(
        description="When the item is given; write 'true' for every victim.",
        examples=["true"],
    )
    title: TemplateText = Field(description="The item's heading.", examples=[{"nl": "Vergoeding van schade", "en": "Compensation"}])
    body: TemplateText = Field(
        description="The information itself.",
        examples=[{"en": "If the offender is prosecuted, you can ask for your damage to be paid in the criminal case. {{ services.schadefonds.name }} can help ({{ services.schadefonds.phone }})."}],
    )


class Safety(_Model):
    """When it is safe to talk, how the victim can be reached safely, and what to do when it is not."""

    safe_to_talk: Condition = Field(
        description="True only when it is safe to talk now; false, declined, unknown and unanswered all mean not safe.",
        examples=["safe_to_talk"],
    )
    safe_channels: Identifier = Field(
        description="A multiple_choice question whose option values are channels: phone, sms, email, letter, in_person.",
        examples=["safe_contact_channels"],
    )
    emergency: list[Identifier] = Field(
        min_length=1,
        description="Services to use now in danger (e.g. the emergency number).",
        examples=[["noodnummer_112"]],
    )
    silent: list[Identifier] = Field(
        description="Services that work without speaking (SMS to 112, chat, text relay); [] when the country has none.",
        examples=[["noodnummer_112_app", "veilig_thuis_chat"]],
    )
    advice: TemplateText = Field(
        description="What the worker does now when it is not safe to talk; shown first in every output.",
        examples=[{"en": "End the conversation calmly and agree a safe time and channel. In danger: call 112."}],
    )


class RulesetDocument(_Model):
    """A ruleset file: metadata, the questionnaire, scores, services, referral rules and information items."""

    format: Literal["invictus-rules/v1"] = Field(
        description="The format version of this file.", examples=[FORMAT_VERSION]
    )
    metadata: Metadata = Field(
        description="Which ruleset this is, for which country, and when it is in force.",
        examples=[{"id": "nl_victim_assessment", "country": "nl", "version": "2026.1", "effective_from": "2026-01-01", "status": "published", "languages": ["nl", "en"], "default_language": "nl", "title": {"nl": "Behoefteninventarisatie", "en": "Needs assessment"}}],
    )
    questions: list[Question] = Field(
        min_length=1,
        description="The questionnaire, in the order it is asked.",
        examples=[[{"id": "safe_to_talk", "type": "boolean", "required": True, "text": {"en": "Is it safe to talk now?"}}]],
    )
    scores: list[Score] = Field(
        default_factory=list,
        description="Risk and needs scores.",
        examples=[[{"id": "dv_risk", "title": {"en": "Risk"}, "items": [{"id": "strangulation", "label": {"en": "Strangulation"}, "when": "strangulation", "points": 4, "critical": True}], "levels": [{"id": "standard", "label": {"en": "Standard"}}]}]],
    )
    services: list[Service] = Field(
        default_factory=list,
        description="The catalogue of services.",
        examples=[[{"id": "veilig_thuis", "category": "domestic_violence", "name": {"nl": "Veilig Thuis", "en": "Veilig Thuis"}, "phone": "0800-2000"}]],
    )
    referrals: list[Referral] = Field(
        default_factory=list,
        description="Referral rules.",
        examples=[[{"id": "dv_to_veilig_thuis", "service": "veilig_thuis", "when": 'crime_type == "domestic_violence"', "priority": "urgent", "mode": "opt_in", "reason": {"en": "Veilig Thuis helps with domestic violence."}}]],
    )
    safety: Safety | None = Field(
        default=None,
        description="Safe contact, declared once: required for a ruleset with opt_in or opt_out referrals.",
        examples=[{"safe_to_talk": "safe_to_talk", "safe_channels": "safe_contact_channels", "emergency": ["noodnummer_112"], "silent": [], "advice": {"en": "End the call calmly; agree a safe time."}}],
    )
    information: list[Information] = Field(
        default_factory=list,
        description="Information items.",
        examples=[[{"id": "compensation", "legal_basis": ["Directive 2012/29/EU Art. 4(1)(e)"], "when": "true", "title": {"en": "Compensation"}, "body": {"en": "You may be able to get compensation."}}]],
    )


def json_schema() -> dict[str, object]:
    """The JSON Schema of the ruleset format, for editors and external validators."""
    schema = RulesetDocument.model_json_schema(by_alias=True)
    definitions = schema.get("$defs", {})
    for holder in [schema, *definitions.values()]:
        for field in holder.get("properties", {}).values():
            reference = field.get("$ref", "").rpartition("/")[2]
            if reference and "description" not in field and "description" in definitions.get(reference, {}):
                field["description"] = definitions[reference]["description"]  # hover help on the key itself
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "invictus-rules ruleset (format v1)"
    return schema
