"""Evaluation semantics through the public API, on the small fixture ruleset."""

from __future__ import annotations

import copy

import pytest

from invictus_rules import load_ruleset_text
from invictus_rules.api import decide_outcome

from .conftest import FIXTURES

AS_OF = "2026-02-01"
DV = {"safe_to_talk": True, "crime_type": "domestic_violence"}


def level(assessment, score_id="dv_risk"):
    return next(s for s in assessment.scores if s.id == score_id)


def test_unanswered_indicators_give_a_range_and_a_pending_level(mini):
    """With indicators unanswered, points are a range and the level is undecided."""
    result = mini.evaluate(DV, as_of=AS_OF)
    score = level(result)
    assert (score.points, score.points_min, score.points_max) == (None, 0, 8)
    assert score.level is None and score.possible_levels == ["standard", "high"]
    pending = {(p.kind, p.id): p.questions for p in result.pending}
    assert pending[("level", "dv_risk")] == ["strangulation", "threats", "judgement"]  # judgement can raise it
    assert pending[("referral", "high_risk")] == ["strangulation", "threats", "judgement"]
    assert not result.complete and result.status == "in_progress"


def test_a_critical_indicator_decides_the_level_despite_unknowns(mini):
    """true or unknown is true: strangulation alone makes the level high."""
    result = mini.evaluate({**DV, "strangulation": True}, as_of=AS_OF)
    assert level(result).level == "high"
    assert [r.service for r in result.referrals] == ["helpline"]


def test_declined_never_counts_as_no_and_never_blocks(mini):
    """A declined indicator keeps the range open; other answers still decide."""
    declined = mini.evaluate({**DV, "strangulation": {"status": "declined"}, "threats": False}, as_of=AS_OF)
    assert level(declined).possible_levels == ["standard", "high"]
    assert declined.declined == ["strangulation"]
    still = next(p for p in declined.pending if p.id == "high_risk")
    assert (still.questions, still.declined_or_unknown) == (["judgement"], ["strangulation"])
    decided = mini.evaluate({**DV, "strangulation": {"status": "declined"}, "threats": True, "judgement": "high"}, as_of=AS_OF)
    assert level(decided).level == "high"


def test_override_raises_but_never_lowers(mini):
    """Professional judgement can raise the level and cannot lower it."""
    raised = mini.evaluate({**DV, "strangulation": False, "threats": False, "judgement": "high"}, as_of=AS_OF)
    assert level(raised).level == "high" and level(raised).overridden
    kept = mini.evaluate({**DV, "strangulation": True, "threats": False, "judgement": "standard"}, as_of=AS_OF)
    assert level(kept).level == "high" and not level(kept).overridden


def test_answers_to_questions_not_asked_are_ignored(mini):
    """A hidden question's answer is ignored, listed, and never counts."""
    result = mini.evaluate({"safe_to_talk": True, "crime_type": "robbery", "strangulation": True}, as_of=AS_OF)
    assert [a.question for a in result.ignored_answers] == ["strangulation"]
    assert level(result).level == "standard" and level(result).points == 0
    assert "strangulation" not in result.next_questions


def test_referrals_to_one_service_merge(mini):
    """Two rules for one service give one referral: highest priority, every reason."""
    result = mini.evaluate({**DV, "strangulation": True, "threats": True}, as_of=AS_OF, language="en")
    [referral] = result.referrals
    assert referral.priority == "immediate" and referral.mode == "opt_in"
    assert [r.rule for r in referral.reasons] == ["everyone", "high_risk"]
    assert referral.reasons[0].text == "Everyone can get support: call 116 006."


def test_next_questions_follow_the_questionnaire(mini):
    """Questions still to ask come in order, hidden ones left out."""
    assert [q.id for q in mini.next_questions({})] == ["safe_to_talk", "crime_type", "age"]
    assert [q.id for q in mini.next_questions(DV)] == ["strangulation", "threats", "age", "judgement"]


def test_translation_fallback_is_reported():
    """A missing translation falls back to the default language, with a warning."""
    text = (FIXTURES / "mini.yaml").read_text().replace(
        "title: {en: Support, nl: Steun}", "title: {en: Support}"
    )
    result = load_ruleset_text(text).evaluate({}, as_of=AS_OF, language="nl")
    support = next(i for i in result.information if i.id == "support")
    assert support.title == "Support"
    assert any(w.code == "translation-missing" and "support" in w.message for w in result.warnings)


def test_unknown_language_falls_back_with_a_warning(mini):
    """Asking for a language the ruleset lacks gives the default language and says so."""
    result = mini.evaluate({}, as_of=AS_OF, language="fi")
    assert result.language == "en"
    assert result.warnings[0].code == "language-not-offered"


def test_assessment_identifies_its_ruleset(mini):
    """The assessment names ruleset, version, hash, engine version, date and language."""
    result = mini.evaluate({}, as_of=AS_OF, language="nl")
    assert (result.ruleset.id, result.ruleset.version, result.ruleset.sha256) == ("mini", "2026.1", mini.sha256)
    assert result.as_of.isoformat() == AS_OF and result.language == "nl" and result.engine_version


def test_json_is_deterministic_and_input_untouched(mini):
    """Same input, same bytes; the answers dict is not modified."""
    answers = {**DV, "strangulation": True, "age": 15}
    before = copy.deepcopy(answers)
    first = mini.evaluate(answers, as_of=AS_OF).model_dump_json()
    second = mini.evaluate(dict(reversed(list(answers.items()))), as_of=AS_OF).model_dump_json()
    assert first == second and answers == before


def test_trace_explains_every_rule_without_values(mini):
    """The trace lists each rule with its result and what it read; values only on request."""
    result = mini.evaluate({**DV, "age": 15}, as_of=AS_OF, trace=True)
    entries = {(e["kind"], e["id"]): e for e in result.trace.entries}
    assert entries[("information", "minors")]["result"] == "true"
    assert entries[("information", "minors")]["read"] == ("age",)
    assert entries[("level", "dv_risk.high")]["uses"] == ("dv_risk",)
    assert entries[("referral", "high_risk")]["result"] == "unknown"
    assert all("values" not in e for e in result.trace.entries)
    with_values = mini.evaluate({**DV, "age": 15}, as_of=AS_OF, trace_values=True)
    minors = next(e for e in with_values.trace.entries if e["id"] == "minors")
    assert minors["values"] == {"age": 15}


def test_results_do_not_depend_on_tracing(mini):
    """Turning the trace off changes nothing else."""
    answers = {**DV, "strangulation": True}
    traced = mini.evaluate(answers, as_of=AS_OF).model_dump(exclude={"trace"})
    untraced = mini.evaluate(answers, as_of=AS_OF, trace=False).model_dump(exclude={"trace"})
    assert traced == untraced


def test_complete_cases_take_the_fast_path_with_the_same_result(mini):
    """A case with every read answer known is decided by the generated code, identically."""
    import datetime as dt

    from invictus_rules.evaluate import evaluate_three_valued
    from invictus_rules.fastpath import NeedsThreeValued

    answers = mini.validate_answers({**DV, "strangulation": False, "threats": True, "age": 30, "judgement": "high"})
    day = dt.date(2026, 2, 1)
    assert mini.compiled.fast(answers.values, answers.declined, answers.unknown, day) == evaluate_three_valued(mini.compiled, answers, day)
    partial = mini.validate_answers(DV)
    try:
        mini.compiled.fast(partial.values, partial.declined, partial.unknown, day)
    except NeedsThreeValued:
        pass
    else:
        raise AssertionError("an unanswered indicator must send the case to the three-valued path")


def test_built_assessment_is_what_validation_gives(mini):
    """Records built without re-validation serialise exactly like fully validated ones."""
    from invictus_rules import Assessment

    for answers in ({}, {**DV, "strangulation": True, "age": 12}, {"crime_type": "robbery", "strangulation": {"status": "declined"}}):
        built = mini.evaluate(answers, as_of=AS_OF, language="nl", trace_values=True)
        validated = Assessment.model_validate_json(built.model_dump_json())
        assert validated.model_dump_json() == built.model_dump_json()
        assert validated == Assessment.model_validate(built.model_dump())


def _mini_with(*replacements):
    text = (FIXTURES / "mini.yaml").read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return load_ruleset_text(text)


def test_a_level_that_may_not_be_reached_is_not_decided():
    """When the lowest level has a condition that is still unknown, 'no level' stays possible."""
    ruleset = _mini_with(("      - id: standard\n        label: {en: Standard, nl: Standaard}\n", "      - id: standard\n        label: {en: Standard, nl: Standaard}\n        when: threats\n"))
    answers = {**DV, "strangulation": False, "threats": {"status": "declined"}, "age": 30}
    score = level(ruleset.evaluate(answers, as_of=AS_OF))
    assert score.level is None and score.possible_levels == ["standard"]
    assert any(p.id == "dv_risk" for p in ruleset.evaluate(answers, as_of=AS_OF).pending)


def test_levels_ruled_out_do_not_keep_a_comparison_open():
    """A level skipped between the one reached and an undecided higher one is not 'possible'."""
    ruleset = _mini_with(
        ("      - id: high\n", "      - id: medium\n        label: {en: Medium, nl: Midden}\n        when: threats\n      - id: high\n"),
        ("when: score(dv_risk) >= 6 or critical(dv_risk) >= 1", "when: strangulation"),
        ("    override:\n      question: judgement\n", ""),
        ("when: level(dv_risk) == \"high\"", "when: level(dv_risk) == \"medium\""),
    )
    result = ruleset.evaluate({**DV, "threats": False, "strangulation": {"status": "declined"}}, as_of=AS_OF)
    assert level(result).possible_levels == ["standard", "high"]
    assert "high_risk" not in [p.id for p in result.pending]


def test_comparing_a_question_not_asked_is_false_on_both_paths():
    """strangulation == false and declined(strangulation) are false when the question is not asked."""
    import datetime as dt

    from invictus_rules.evaluate import evaluate_three_valued

    ruleset = _mini_with(("when: age < 18", "when: strangulation == false or strangulation != true or declined(strangulation)"))
    for answers in ({"crime_type": "robbery", "age": 30, "safe_to_talk": True, "strangulation": {"status": "declined"}}, {"crime_type": "robbery", "age": 30, "safe_to_talk": True, "strangulation": False}):
        result = ruleset.evaluate(answers, as_of=AS_OF)
        assert "minors" not in [i.id for i in result.information]
        assert result.declined == []
        validated = ruleset.validate_answers(answers)
        assert evaluate_three_valued(ruleset.compiled, validated, dt.date(2026, 2, 1)).information == decide_outcome(ruleset, validated, as_of=AS_OF).information


def test_count_counts_questions_not_asked_as_no_on_both_paths():
    """count() of a hidden yes/no question counts it as no, in the fast path too."""
    ruleset = _mini_with(("when: age < 18", "when: count(strangulation, safe_to_talk) >= 1"))
    answers = {"crime_type": "robbery", "safe_to_talk": True, "age": 30}
    assert "minors" in [i.id for i in ruleset.evaluate(answers, as_of=AS_OF).information]


def test_membership_of_a_count_range_is_decided_when_every_value_agrees():
    """count(...) in [1, 2, 3] is true when the count can only be 1, 2 or 3."""
    ruleset = _mini_with(("when: age < 18", "when: count(strangulation, threats, safe_to_talk) in [1, 2, 3]"))
    result = ruleset.evaluate({**DV, "age": 30}, as_of=AS_OF)
    assert "minors" in [i.id for i in result.information]


def test_fast_path_source_is_printable_and_names_the_answers_it_reads(mini, cli):
    """The generated fast path can be read as Python source (ast.unparse), from code and the CLI."""
    import ast

    from invictus_rules.fastpath import fast_path_source

    source = fast_path_source(mini)
    ast.parse(source)
    assert "def decide(answers, declined, unknown, as_of):" in source
    assert "v['strangulation']" in source
    result = cli("validate", str(FIXTURES / "mini.yaml"), "--show-fast-path")
    assert result.code == 0 and "def decide(" in result.out


def test_a_key_error_inside_generated_code_is_not_taken_for_an_unknown_answer(mini):
    """Only NeedsThreeValued sends a case down the three-valued path: any other error surfaces."""
    import datetime as dt

    import invictus_rules.evaluate as evaluate_module

    def broken(*args):
        raise KeyError("a bug")

    compiled = mini.compiled
    answers = mini.validate_answers(DV)
    original = object.__getattribute__(compiled, "fast")
    object.__setattr__(compiled, "fast", broken)
    try:
        with pytest.raises(KeyError, match="a bug"):
            evaluate_module.evaluate(compiled, answers, dt.date(2026, 2, 1))
    finally:
        object.__setattr__(compiled, "fast", original)


def test_only_a_missing_answer_becomes_needs_three_valued():
    """The generated code's KeyError handler turns a missing answer into NeedsThreeValued, nothing else."""
    from invictus_rules.fastpath import NeedsThreeValued, _unknown_answer

    ids = frozenset({"age", "threats"})
    with pytest.raises(NeedsThreeValued):
        _unknown_answer(KeyError("age"), {"threats": True}, ids)
    for error, values in ((KeyError("not_a_question"), {}), (KeyError("age"), {"age": 3}), (KeyError(("age",)), {})):
        assert _unknown_answer(error, values, ids) is None  # the handler then re-raises the KeyError


def test_the_fused_check_uses_the_answer_checks_number_limit():
    from invictus_rules import answers, fastpath

    assert fastpath.MAX_NUMBER == answers.MAX_NUMBER
