"""Safety, consent and legal duty: the format checks at load, deferral, merging and the safety block."""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invictus_rules import Ruleset, RulesetError, load_ruleset, load_ruleset_text
from invictus_rules._yaml import read_yaml
from invictus_rules.load import list_countries, list_versions

from .conftest import FIXTURES
from .strategies import valid_answers

SOURCE = (FIXTURES / "safety.yaml").read_text(encoding="utf-8")


def _problems(text: str) -> list[tuple[str, int]]:
    with pytest.raises(RulesetError) as info:
        load_ruleset_text(text, file="draft.yaml")
    return [(p.code, p.location.line) for p in info.value.problems]


def test_report_needs_an_action():
    """A report rule without an action text fails at load, pointing at its mode."""
    text = SOURCE.replace("    action: {en: Report to the child protection service today by phone., nl: Meld vandaag telefonisch bij Jeugdbescherming.}\n", "")
    assert [code for code, _ in _problems(text)] == ["report-without-action"]


def test_report_with_an_empty_legal_basis_fails():
    """An empty legal_basis list is no legal basis."""
    text = SOURCE.replace('legal_basis: ["Child Protection Act art. 7"]', "legal_basis: []")
    assert [code for code, _ in _problems(text)] == ["report-without-legal-basis"]


def test_safe_channels_must_be_a_channel_question():
    """The safe channels question must exist, be multiple choice and offer only channel names."""
    assert [c for c, _ in _problems(SOURCE.replace("safe_channels: safe_contact_channels", "safe_channels: safe_contact_chanels"))] == ["unknown-question"]
    assert [c for c, _ in _problems(SOURCE.replace("safe_channels: safe_contact_channels", "safe_channels: crime_type"))] == ["safe-channels-type"]
    assert [c for c, _ in _problems(SOURCE.replace("- value: letter", "- value: post"))] == ["safe-channels-options"]


def test_safety_routes_must_be_services():
    """Emergency and silent routes name services in the catalogue."""
    text = SOURCE.replace("emergency: [emergency]", "emergency: [emergancy]").replace("silent: [emergency_sms]", "silent: [sms]")
    assert [c for c, _ in _problems(text)] == ["unknown-service", "unknown-service"]


def test_first_contact_values_are_checked():
    """first_contact takes channel names or none; none only on its own."""
    assert [c for c, _ in _problems(SOURCE.replace("first_contact: [phone, letter]", "first_contact: [phone, none]"))] == ["first-contact-list"]
    assert [c for c, _ in _problems(SOURCE.replace("first_contact: [phone, letter]", "first_contact: pigeon"))] == ["invalid-value"]


def test_safe_to_talk_condition_is_type_checked():
    """The safe-to-talk condition is checked against the questionnaire like any other."""
    assert [c for c, _ in _problems(SOURCE.replace("safe_to_talk: safe_to_talk", "safe_to_talk: safe_to_tlak"))] == ["unknown-question"]


AS_OF = "2027-02-01"
SAFE_BY_PHONE = {"safe_to_talk": True, "safe_contact_channels": ["phone"]}
BASE = {"crime_type": "domestic_violence", "wants_shelter": True, "victim_age": 30, "lives_with_offender": False, "injured": False}


def _deferred(assessment) -> dict[str, str]:
    return {d.rule: d.why for d in assessment.deferred}


def _modes(assessment) -> dict[str, str]:
    return {r.service: r.mode for r in assessment.referrals}


@pytest.mark.parametrize("unsafe", [False, {"status": "declined"}, {"status": "unknown"}, None], ids=["false", "declined", "unknown", "unanswered"])
def test_not_safe_to_talk_defers_every_consent_referral(safety, unsafe):
    """False, declined, don't know or unanswered: opt_in and opt_out are deferred, never referred."""
    answers = {**BASE, "safe_contact_channels": ["phone", "letter", "in_person"]}
    if unsafe is not None:
        answers["safe_to_talk"] = unsafe
    result = safety.evaluate(answers, as_of=AS_OF)
    assert _deferred(result) == {"everyone_support": "not_safe_to_talk", "dv_centre_consent": "not_safe_to_talk", "shelter_place": "not_safe_to_talk"}
    assert set(_modes(result).values()) <= {"inform_only", "report"}
    assert result.safety is not None and result.safety.safe_to_talk == ("false" if unsafe is False else "unknown")
    assert [r.service for r in result.safety.emergency] == ["emergency"] and [r.service for r in result.safety.silent] == ["emergency_sms"]
    assert result.safety.deferred == ["everyone_support", "dv_centre_consent", "shelter_place"]


def test_a_safe_channel_must_reach_the_service(safety):
    """Safe to talk, but only a phone is safe: services reached by letter or in person wait."""
    result = safety.evaluate({**BASE, **SAFE_BY_PHONE}, as_of=AS_OF)
    assert result.safety is None
    assert _deferred(result) == {"shelter_place": "no_safe_channel"}
    deferred = result.deferred[0]
    assert (deferred.channels, deferred.service, deferred.mode) == (["in_person"], "shelter", "opt_in")
    assert "in person" in deferred.possible_when
    assert _modes(result) == {"dv_centre": "opt_in", "support": "opt_out"}
    in_person = safety.evaluate({**BASE, "safe_to_talk": True, "safe_contact_channels": ["in_person"]}, as_of=AS_OF)
    assert _deferred(in_person) == {"everyone_support": "no_safe_channel", "dv_centre_consent": "no_safe_channel"}
    declined = safety.evaluate({**BASE, "safe_to_talk": True, "safe_contact_channels": {"status": "declined"}}, as_of=AS_OF)
    assert set(_deferred(declined).values()) == {"no_safe_channel"} and len(declined.deferred) == 3


def test_report_and_inform_only_are_never_deferred(safety):
    """A report needs neither consent nor safe contact; it keeps its legal basis and the worker's action."""
    result = safety.evaluate({**BASE, "victim_age": 12, "safe_to_talk": False}, as_of=AS_OF)
    report = next(r for r in result.referrals if r.service == "child_protection")
    assert report.mode == "report" and report.priority == "immediate"
    assert report.reasons[0].legal_basis == ["Child Protection Act art. 7"]
    assert report.reasons[0].action == "Report to the child protection service today by phone."
    assert _modes(result)["support"] == "inform_only"


def test_merge_takes_the_strongest_mode_whatever_the_rule_order(safety):
    """opt_out beats inform_only for one service; reasons by mode, priority, rule id; rule order never counts."""
    result = safety.evaluate({**BASE, **SAFE_BY_PHONE}, as_of=AS_OF)
    support = next(r for r in result.referrals if r.service == "support")
    assert support.mode == "opt_out" and [r.rule for r in support.reasons] == ["everyone_support", "support_number"]
    data = json.loads(json.dumps(_raw(SOURCE), default=str))
    data["referrals"].reverse()
    reversed_rules = load_ruleset_text(json.dumps(data), file="reversed.json")
    again = reversed_rules.evaluate({**BASE, **SAFE_BY_PHONE}, as_of=AS_OF)
    assert [r.model_dump() for r in again.referrals] == [r.model_dump() for r in result.referrals]


def test_decisions_and_trace_show_what_is_deferred(safety):
    """decide() carries the deferred rules; the trace marks them and records the safety condition."""
    answers = {**BASE, "safe_to_talk": False}
    decisions = safety.decide(answers, as_of=AS_OF)
    assert decisions.safe is False
    assert dict(decisions.deferred) == dict.fromkeys(["everyone_support", "dv_centre_consent", "shelter_place"], "not_safe_to_talk")
    assert not set(decisions.referrals) & set(decisions.deferred)
    entries = {e["id"]: e for e in safety.trace(answers, as_of=AS_OF).entries}
    assert entries["safe_to_talk"]["kind"] == "safety" and entries["safe_to_talk"]["result"] == "false"
    assert entries["dv_centre_consent"]["result"] == "true" and entries["dv_centre_consent"]["deferred"] == "not_safe_to_talk"
    assert "deferred" not in entries["support_number"]
    decisions = next(safety.evaluate_batch([answers], as_of=AS_OF, output="decisions", workers=1))
    assert decisions["deferred"] == dict.fromkeys(["everyone_support", "dv_centre_consent", "shelter_place"], "not_safe_to_talk")
    assert "dv_centre" not in decisions["referrals"]


def test_the_safety_block_comes_first_in_the_language_asked(cli, tmp_path):
    """The text output opens with the safety block, translated, and lists consent referrals only as deferred."""
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"answers": {**BASE, "safe_to_talk": False}, "as_of": AS_OF}))
    out = cli("assess", str(FIXTURES / "safety.yaml"), str(case), "--language", "nl").out
    lines = out.splitlines()
    assert lines[1] == "NU NIET VEILIG OM TE PRATEN"
    assert lines[3].startswith("Wat nu te doen: Beëindig het gesprek rustig")
    deferred_at = out.index("Uitgesteld")
    assert out.index("Veilig Thuis") > deferred_at and out.index("Veilig Thuis") < out.index("Beoordeling met")
    referrals = out[out.index("Doorverwijzingen"):]
    assert "Veilig Thuis" not in referrals and "Opvang" not in referrals


def test_rulesets_without_a_safety_section_keep_their_results(mini):
    """A version published before the safety section defers nothing and says so in a warning."""
    result = mini.evaluate({"safe_to_talk": False, "crime_type": "robbery"}, as_of="2026-02-01")
    assert result.safety is None and result.deferred == []
    helpline = result.referrals[0]  # merged as published: the mode of the highest-priority rule
    assert (helpline.mode, helpline.priority, [r.rule for r in helpline.reasons]) == ("inform_only", "urgent", ["everyone", "not_safe_now"])
    assert [w.code for w in result.warnings] == ["safe-contact-not-checked"]


def test_status_and_rules_undecidable_by_the_victims_choice(safety):
    """A question gated by a declined answer is not asked; rules only it could decide are undecidable."""
    answers = {**BASE, **SAFE_BY_PHONE, "victim_age": {"status": "declined"}, "lives_with_offender": {"status": "declined"}}
    result = safety.evaluate(answers, as_of=AS_OF)
    assert result.status == "complete_with_declined" and result.complete
    assert result.pending == [] and [u.id for u in result.undecidable] == ["child_protection_report"]
    assert result.undecidable[0].declined_or_unknown == ["victim_age", "lives_with_offender"]
    assert "children_at_home" not in result.next_questions
    assert safety.evaluate({**BASE, **SAFE_BY_PHONE}, as_of=AS_OF).status == "complete"
    assert safety.evaluate({**SAFE_BY_PHONE, "crime_type": "robbery"}, as_of=AS_OF).status == "in_progress"


def test_pending_lists_only_questions_that_can_still_change_the_result(safety):
    """injured or (sexual violence and under 18) with the crime a robbery waits for 'injured' only."""
    result = safety.evaluate({**SAFE_BY_PHONE, "crime_type": "robbery", "wants_shelter": False}, as_of=AS_OF)
    injuries = next(p for p in result.pending if p.id == "injuries")
    assert injuries.questions == ["injured"]
    gated = next(p for p in result.pending if p.id == "child_protection_report")
    assert gated.questions == ["victim_age"]  # children_at_home is not asked: the crime is not domestic violence
    open_gate = safety.evaluate({**SAFE_BY_PHONE, "crime_type": "domestic_violence", "victim_age": 30}, as_of=AS_OF)
    assert next(p for p in open_gate.pending if p.id == "child_protection_report").questions == ["lives_with_offender", "children_at_home"]


def test_questions_command_skips_questions_gated_by_a_declined_answer(cli, tmp_path):
    """The CLI's questions agree with the assessment: nothing behind a declined gate is asked."""
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"answers": {**SAFE_BY_PHONE, "crime_type": "domestic_violence", "lives_with_offender": {"status": "declined"}}, "as_of": AS_OF}))
    listed = json.loads(cli("questions", str(FIXTURES / "safety.yaml"), str(case), "--format", "json").out)["questions"]
    assert [q["id"] for q in listed] == ["victim_age", "wants_shelter", "injured"]


def _raw(text: str) -> object:
    return read_yaml(text, "ruleset.yaml")[0]


def _rulesets_with_safety() -> list[Ruleset]:
    found = [load_ruleset(FIXTURES / "safety.yaml")]
    for country in list_countries():
        for version in list_versions(country):
            ruleset = load_ruleset(version.path)
            if ruleset.compiled.safety is not None:
                found.append(ruleset)
    return found


WITH_SAFETY = _rulesets_with_safety()
PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NOT_SAFE = st.sampled_from([False, {"status": "declined"}, {"status": "unknown"}, None])


@pytest.mark.parametrize("ruleset", WITH_SAFETY, ids=[f"{r.country}@{r.version}" for r in WITH_SAFETY])
@PROPERTY
@given(data=st.data())
def test_no_consent_referral_while_not_safe_or_unreachable(ruleset, data):
    """Whenever it is not safe to talk, no opt_in or opt_out referral is made; when it is, only through a safe channel."""
    answers = data.draw(valid_answers(ruleset))
    safety_spec = ruleset.compiled.safety.spec
    for question in ruleset.compiled.safety.condition.reads:  # mostly unsafe, so the property is not vacuous
        if data.draw(st.booleans()):
            answers.pop(question, None)
            value = data.draw(NOT_SAFE)
            if value is not None and (value is not False or ruleset.compiled.question_by_id[question].spec.type == "boolean"):
                answers[question] = value
    language = data.draw(st.sampled_from(ruleset.languages))
    result = ruleset.evaluate(answers, as_of=data.draw(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31))), language=language)
    outcome = ruleset.decide(answers, as_of=result.as_of)
    consent = [r for r in result.referrals if r.mode in ("opt_in", "opt_out")]
    assert (result.safety is None) == (outcome.safe is True)
    if result.safety is not None:
        assert not consent
    safe = answers.get(safety_spec.safe_channels)
    safe = set(safe) if isinstance(safe, list) else set()
    for referral in consent:
        reasons = {r.rule for r in referral.reasons}
        rules = [r for r in ruleset.compiled.referrals if r.spec.id in reasons and r.spec.mode in ("opt_in", "opt_out")]
        assert all(ruleset.compiled.services[r.spec.service].first_contact_channels & safe for r in rules)
    modes = {rule.spec.id: rule.spec.mode for rule in ruleset.compiled.referrals}
    held = {rule for rule in (*outcome.referrals, *outcome.deferred) if modes[rule] in ("opt_in", "opt_out")}
    made = {reason.rule for r in result.referrals for reason in r.reasons}
    assert held == (held & made) | {d.rule for d in result.deferred}


@functools.cache
def _permuted(ruleset: Ruleset) -> tuple[Ruleset, ...]:
    """The ruleset with its referral rules reversed, and in two shuffled orders (compiled once)."""
    raw = json.loads(json.dumps(_raw(Path(ruleset.compiled.file).read_text(encoding="utf-8")), default=str))
    orders = [raw["referrals"][::-1], *(random.Random(seed).sample(raw["referrals"], len(raw["referrals"])) for seed in (1, 2))]
    return tuple(load_ruleset_text(json.dumps({**raw, "referrals": order}), file="permuted.json") for order in orders)


@pytest.mark.parametrize("ruleset", WITH_SAFETY, ids=[f"{r.country}@{r.version}" for r in WITH_SAFETY])
@PROPERTY
@given(data=st.data())
def test_merging_does_not_depend_on_rule_order(ruleset, data):
    """Permuting the referral rules changes no referral: mode, priority, reasons and their order stay."""
    permuted = data.draw(st.sampled_from(_permuted(ruleset)))
    answers = data.draw(valid_answers(ruleset))
    first = ruleset.evaluate(answers, as_of="2027-02-01", trace=False)
    again = permuted.evaluate(answers, as_of="2027-02-01", trace=False)
    assert [r.model_dump() for r in again.referrals] == [r.model_dump() for r in first.referrals]
    assert sorted(d.rule for d in again.deferred) == sorted(d.rule for d in first.deferred)


@pytest.mark.parametrize("country", list_countries())
def test_the_newest_version_of_every_country_has_a_safety_section(country):
    """Every country's newest version declares safe contact, so the engine can defer for safety."""
    newest = list_versions(country)[-1]
    ruleset = load_ruleset(newest.path)
    if ruleset.compiled.safety is None:
        pytest.skip(f"{country}@{newest.version} predates the safety section; passes once the country's new version lands (issue 10)")
    assert ruleset.compiled.safety.spec.emergency
