"""Deterministic cases for the benchmarks: the same seed always gives the same cases.

Cases are answers as a case system sends them (JSON values: dates as "YYYY-MM-DD" text, multiple
choice as lists). Complete cases answer every question that is asked, so the engine's two-valued fast
path applies; partial cases leave some answers out or mark them declined or unknown, which sends
evaluation down the three-valued path.

- ``benchmark_cases``: complete cases for ``benchmark_ruleset.yaml``, with made-up but plausible
  distributions (domestic violence cases carry more risk indicators than fraud cases);
- ``generic_cases``: complete cases for any ruleset, built from its questionnaire (used for ``nl``);
- ``partial_cases``: the same cases with answers missing, declined or not known.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

AS_OF = dt.date(2026, 3, 1)
"""The as-of date of every benchmark evaluation."""

BENCHMARK_RULESET = Path(__file__).resolve().with_name("benchmark_ruleset.yaml")
SEED = 20260301

CRIME_TYPES = {
    "domestic_violence": 30,
    "stalking": 8,
    "sexual_violence": 10,
    "physical_assault": 14,
    "robbery": 8,
    "burglary_theft": 12,
    "fraud": 10,
    "hate_crime": 4,
    "trafficking": 2,
    "homicide_bereavement": 2,
}
RELATIONSHIPS = ["partner", "ex_partner", "family_member", "acquaintance", "stranger", "not_known"]
CHANNELS = ["phone", "sms", "email", "letter", "in_person"]
NEEDS = ["medical", "shelter", "legal_advice", "interpreter", "financial", "counselling", "childcare"]
JUDGEMENTS = ["standard", "medium", "high", "very_high"]
INDICATORS = [
    "strangulation", "threats_to_kill", "weapon_access", "victim_fears_being_killed", "threats_to_children",
    "escalation", "recent_separation", "sexual_violence_by_offender", "coercive_control", "stalking_behaviour",
    "violence_in_pregnancy", "confinement", "breach_of_protection_order", "honour_based_violence",
    "offender_suicide_threats", "offender_prior_violence", "offender_substance_misuse", "victim_isolated",
    "financial_control", "damage_to_property", "harm_to_pets", "offender_mental_health", "jealousy",
    "previous_police_callouts", "offender_unemployed",
]
PARTNER_CRIMES = {"domestic_violence", "stalking"}
PROPERTY_CRIMES = {"robbery", "burglary_theft", "fraud"}
ALWAYS_ASKED = ["safe_to_talk", "in_immediate_danger", "crime_type", "crime_date", "victim_age", "needs", "strangulation"]
"""Questions without ask_if that every partial case leaves open, so it cannot take the fast path."""


def benchmark_case(rng: random.Random) -> dict[str, Any]:
    """One complete case for the benchmark ruleset: every question that is asked is answered."""
    crime = rng.choices(list(CRIME_TYPES), weights=list(CRIME_TYPES.values()))[0]
    partner = crime in PARTNER_CRIMES
    risk = 0.3 if partner else 0.06
    lives_with = rng.random() < (0.45 if partner else 0.1)
    children = rng.random() < 0.35
    answers: dict[str, Any] = {
        "safe_to_talk": rng.random() < 0.85,
        "in_immediate_danger": rng.random() < 0.05,
        "safe_contact_channels": rng.sample(CHANNELS, rng.randint(0, 3)),
        "crime_type": crime,
        "crime_date": (AS_OF - dt.timedelta(days=rng.choice([rng.randint(0, 14), rng.randint(0, 1500)]))).isoformat(),
        "victim_age": _age(rng),
        "financial_loss": round(rng.uniform(0, 40000), 2) if crime in PROPERTY_CRIMES else 0,
        "offender_relationship": rng.choice(RELATIONSHIPS[:3] if partner else RELATIONSHIPS),
        "needs": rng.sample(NEEDS, rng.choice([0, 0, 1, 1, 2, 3, 4])),
        "reported_to_police": rng.random() < 0.6,
        "lives_with_offender": lives_with,
        "children_in_household": children,
        "disability": rng.random() < 0.1,
        "wants_compensation": rng.random() < 0.4,
        "professional_judgement": rng.choices(JUDGEMENTS, weights=[85, 8, 5, 2])[0],
    }
    if children:  # asked only when children live with the victim
        answers["children_witnessed"] = rng.random() < (0.5 if partner else 0.1)
    if not lives_with:  # asked only when the victim does not live with the offender
        answers["offender_knows_address"] = rng.random() < 0.5
    for indicator in INDICATORS:
        answers[indicator] = rng.random() < risk
    return answers


def _age(rng: random.Random) -> int:
    draw = rng.random()
    return rng.randint(12, 17) if draw < 0.12 else rng.randint(70, 95) if draw > 0.85 else rng.randint(18, 69)


def benchmark_cases(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """``count`` complete cases for the benchmark ruleset."""
    rng = random.Random(seed)
    return [benchmark_case(rng) for _ in range(count)]


def iter_benchmark_cases(count: int, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """The same cases as ``benchmark_cases``, one at a time (constant memory)."""
    rng = random.Random(seed)
    for _ in range(count):
        yield benchmark_case(rng)


def _answer(question: Any, rng: random.Random) -> Any:
    kind = question.type
    if kind == "boolean":
        return rng.random() < 0.3
    if kind in ("integer", "number"):
        low = question.min if question.min is not None else 0
        high = question.max if question.max is not None else 100
        return rng.randint(int(low), int(high)) if kind == "integer" else round(rng.uniform(low, high), 2)
    values = [option.value for option in question.options or ()]
    if kind == "single_choice":
        return rng.choice(values)
    if kind == "multiple_choice":
        return rng.sample(values, rng.randint(0, min(3, len(values))))
    if kind == "date":
        return (AS_OF - dt.timedelta(days=rng.randint(0, 3650))).isoformat()
    return rng.choice(["", "see notes", "interpreter arranged"])


def generic_cases(ruleset: Any, count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """``count`` complete cases for any ruleset, from its questionnaire.

    Every question gets a valid answer; answers to questions that are then not asked (their
    ``ask_if`` is false) are dropped, as a case system that follows the questionnaire would.
    """
    rng = random.Random(seed)
    questions = ruleset.questions
    cases = []
    for _ in range(count):
        answers = {question.id: _answer(question, rng) for question in questions}
        for question_id in ruleset.decide(answers, as_of=AS_OF).ignored:
            del answers[question_id]
        cases.append(answers)
    return cases


def partial_case(answers: dict[str, Any], rng: random.Random, keep_out: list[str] | None = None) -> dict[str, Any]:
    """A copy of a complete case with answers missing (15%), declined (5%) or not known (5%).

    One question of ``keep_out`` (default: questions every case is asked) is always left open, so
    that the case cannot take the fast path.
    """
    partial: dict[str, Any] = {}
    forced = rng.choice([q for q in (keep_out or ALWAYS_ASKED) if q in answers])
    for question_id, value in answers.items():
        draw = rng.random()
        if question_id == forced:
            draw = rng.uniform(0, 0.25)
        if draw < 0.15:
            continue
        if draw < 0.20:
            partial[question_id] = {"status": "declined"}
        elif draw < 0.25:
            partial[question_id] = {"status": "unknown"}
        else:
            partial[question_id] = value
    return partial


def partial_cases(complete: list[dict[str, Any]], seed: int = SEED, keep_out: list[str] | None = None) -> list[dict[str, Any]]:
    """A partial case for each complete case."""
    rng = random.Random(seed + 1)
    return [partial_case(answers, rng, keep_out) for answers in complete]
