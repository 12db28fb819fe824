"""The benchmark ruleset's decisions written by hand in plain Python: the baseline for the engine.

This is what a careful developer would write instead of a rules engine, for ``benchmark_ruleset.yaml``
only: straight-line code over one dictionary of complete, valid answers, no engine imports. It takes
the answers as Python values (booleans, numbers, option values as text, multiple choice as a set or
list, dates as ``datetime.date``), which is what the engine's ``Ruleset.validate_answers`` hands to
``Ruleset.decide``; parsing and checking JSON is left out on both sides of the comparison.

It knows the one piece of the engine's semantics that complete cases need: a question whose
``ask_if`` is false is not asked, so its answer (if any) does not count. Unanswered, declined and
unknown answers (three-valued logic) are out of scope: the engine's fast path is what it is
compared with. tests/test_benchmark_twin.py checks it against the engine case by case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

DV_LEVELS = ("standard", "medium", "high", "very_high")
VULNERABILITY_LEVELS = ("standard", "elevated", "high")
_DV_RANK = {level: rank for rank, level in enumerate(DV_LEVELS)}

_PARTNER_OR_FAMILY = frozenset({"partner", "ex_partner", "family_member"})
_PARTNERS = frozenset({"partner", "ex_partner"})
_PROPERTY = frozenset({"fraud", "burglary_theft", "robbery"})
_SERIOUS = frozenset({"sexual_violence", "trafficking", "hate_crime", "homicide_bereavement"})
_VIOLENT = frozenset({"physical_assault", "sexual_violence", "domestic_violence", "robbery", "trafficking", "homicide_bereavement"})
_RELATIONSHIP_CRIMES = frozenset({"stalking", "physical_assault", "sexual_violence"})
_EVIDENCE_CRIMES = frozenset({"sexual_violence", "physical_assault", "domestic_violence"})


class Decisions(NamedTuple):
    """Both scores (points, critical count, level) and the rules that fire, in ruleset order."""

    dv_points: float
    dv_critical: int
    dv_level: str
    vulnerability_points: float
    vulnerability_critical: int
    vulnerability_level: str
    referrals: tuple[str, ...]
    information: tuple[str, ...]


def decide(a: Mapping[str, Any], as_of: dt.date) -> Decisions:
    """Decide every rule of the benchmark ruleset for one complete case."""
    crime = a["crime_type"]
    safe = a["safe_to_talk"]
    phone = "phone" in a["safe_contact_channels"]
    needs = a["needs"]
    age = a["victim_age"]
    loss = a["financial_loss"]
    relationship = a["offender_relationship"]
    lives_with = a["lives_with_offender"]
    children = a["children_in_household"]
    reported = a["reported_to_police"]
    compensation = a["wants_compensation"]
    strangulation = a["strangulation"]
    days = (as_of - a["crime_date"]).days
    # asked only when children live with the victim / when the victim does not live with the offender
    witnessed = children and a["children_witnessed"]
    knows_address = not lives_with and a["offender_knows_address"]

    # dv_risk: True counts as 1
    dv_critical = strangulation + a["threats_to_kill"] + a["weapon_access"] + a["victim_fears_being_killed"] + a["threats_to_children"]
    dv_points = (
        4 * strangulation
        + 3 * (a["threats_to_kill"] + a["weapon_access"] + a["victim_fears_being_killed"] + a["threats_to_children"])
        + 2
        * (
            a["escalation"] + a["recent_separation"] + a["sexual_violence_by_offender"] + a["coercive_control"]
            + a["stalking_behaviour"] + a["violence_in_pregnancy"] + a["confinement"] + a["breach_of_protection_order"]
            + a["honour_based_violence"] + a["offender_suicide_threats"] + a["offender_prior_violence"] + witnessed
        )
        + a["offender_substance_misuse"] + a["victim_isolated"] + a["financial_control"] + a["damage_to_property"]
        + a["harm_to_pets"] + a["offender_mental_health"] + a["jealousy"] + a["previous_police_callouts"]
        + a["offender_unemployed"] + knows_address
    )
    if lives_with and relationship in _PARTNERS:
        dv_points += 1
    if strangulation + a["confinement"] + ("medical" in needs) >= 2:
        dv_points += 2
    if dv_points >= 22 or dv_critical >= 4:
        dv = 3
    elif dv_points >= 14 or dv_critical >= 2:
        dv = 2
    elif dv_points >= 7 or dv_critical >= 1:
        dv = 1
    else:
        dv = 0
    judged = _DV_RANK.get(a.get("professional_judgement"), 0)  # professional judgement raises, never lowers
    if judged > dv:
        dv = judged

    # vulnerability
    child = age < 18
    vulnerability_points = 3 * child + 2 * (age >= 70) + 2 * a["disability"] + ("interpreter" in needs) + lives_with
    if crime in _SERIOUS:
        vulnerability_points += 2
    if len(needs) >= 3:
        vulnerability_points += 1
    if dv >= 2:
        vulnerability_points += 2
    if loss >= 10000:
        vulnerability_points += 1.5
    if vulnerability_points >= 6 or child:
        vulnerability = 2
    elif vulnerability_points >= 3:
        vulnerability = 1
    else:
        vulnerability = 0

    referrals = []
    if a["in_immediate_danger"]:
        referrals.append("emergency_now")
    if dv == 3 and safe:
        referrals.append("very_high_risk_to_police")
    if dv >= 2 and safe and phone:
        referrals.append("high_risk_to_dv_service")
    if (crime == "domestic_violence" or (crime in _RELATIONSHIP_CRIMES and relationship in _PARTNER_OR_FAMILY)) and safe and phone:
        referrals.append("dv_to_dv_service")
    if (crime == "domestic_violence" or crime == "stalking") and (not safe or not phone):
        referrals.append("dv_unsafe_contact")
    if "shelter" in needs or (lives_with and dv >= 2):
        referrals.append("shelter_needed")
    if crime == "sexual_violence":
        referrals.append("sexual_violence_acute" if days <= 7 else "sexual_violence_later")
    if child:
        referrals.append("child_victim")
    if witnessed or (children and dv >= 2):
        referrals.append("children_exposed")
    if crime == "trafficking":
        referrals.append("trafficking")
    if crime == "hate_crime":
        referrals.append("hate_crime_support")
        if not reported and safe:
            referrals.append("hate_crime_report")
    if compensation and crime in _VIOLENT:
        referrals.append("compensation")
    if loss >= 5000 and crime in _PROPERTY:
        referrals.append("large_loss_legal_aid")
    if "legal_advice" in needs:
        referrals.append("legal_advice")
    if "medical" in needs or strangulation:
        referrals.append("medical_care")
    if age >= 70 and crime in _PROPERTY:
        referrals.append("older_victim")
    if safe and phone and crime != "fraud":
        referrals.append("general_support")
    if vulnerability == 2 and safe:
        referrals.append("high_vulnerability")

    information = ["rights"]
    if not a["in_immediate_danger"] or safe:
        information.append("support_available")
    if compensation or loss > 0:
        information.append("compensation_info")
    if not reported and crime != "fraud":
        information.append("reporting")
    if reported:
        information.append("case_information")
    if dv >= 1 and (crime == "domestic_violence" or crime == "stalking"):
        information.append("protection_measures")
    if "interpreter" in needs:
        information.append("interpreter")
    if child or children:
        information.append("children_rights")
    if crime in _EVIDENCE_CRIMES and days <= 3:
        information.append("evidence_preservation")
    if days / 365 >= 2 and compensation:
        information.append("limitation_period")
    if not phone or not safe:
        information.append("safe_contact")
    if knows_address and dv != 0:
        information.append("address_shielding")

    return Decisions(
        dv_points,
        dv_critical,
        DV_LEVELS[dv],
        vulnerability_points,
        int(child),
        VULNERABILITY_LEVELS[vulnerability],
        tuple(referrals),
        tuple(information),
    )


def decide_plain(raw: Mapping[str, Any], as_of: dt.date) -> Decisions:
    """The same decisions on the plain dict a caller receives as JSON (the date as text, multiple
    choice as a list): what a developer writing it by hand would do, trusting the input."""
    return decide({**raw, "crime_date": dt.date.fromisoformat(raw["crime_date"])}, as_of)
