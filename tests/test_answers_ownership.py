"""Validated Answers belong to the ruleset that checked them: others, and hand-made ones, are refused."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from invictus_rules import Answers, AnswersError, Case, load_ruleset, load_ruleset_text

from .conftest import FIXTURES

AS_OF = "2026-03-01"
CASE = {"safe_to_talk": True, "crime_type": "domestic_violence", "age": 30}


def _codes(error: AnswersError) -> list[str]:
    return [problem.code for problem in error.problems]


@pytest.fixture(scope="module")
def other_version(tmp_path_factory):
    """The mini ruleset as another version: same questionnaire, another digest."""
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
    assert 'version: "2026.1"' in text
    return load_ruleset_text(text.replace('version: "2026.1"', 'version: "2026.2"'), file="mini-2026.2.yaml")


def test_answers_checked_here_are_evaluated(mini):
    """Answers a ruleset validated decide, evaluate and trace exactly like the raw mapping."""
    checked = mini.validate_answers(CASE)
    assert mini.decide(checked, as_of=AS_OF) == mini.decide(CASE, as_of=AS_OF)
    assert mini.evaluate(checked, as_of=AS_OF).model_dump() == mini.evaluate(CASE, as_of=AS_OF).model_dump()
    assert mini.trace(checked, as_of=AS_OF) == mini.trace(CASE, as_of=AS_OF)


def test_the_same_content_loaded_twice_accepts_each_others_answers(mini):
    """A second load of the same file has the same digest, so its Answers are accepted (not just the same object)."""
    again = load_ruleset(FIXTURES / "mini.yaml")
    assert again is not mini and again.sha256 == mini.sha256
    assert again.decide(mini.validate_answers(CASE), as_of=AS_OF) == mini.decide(CASE, as_of=AS_OF)


@pytest.mark.parametrize("entry", ["decide", "evaluate", "trace", "next_questions"])
def test_answers_built_by_hand_are_refused(mini, entry):
    """Answers made with the constructor were never checked: every entry point refuses them with answers-not-validated."""
    forged = Answers({"age": 10**30, "crime_type": "not an option"}, frozenset(), frozenset())
    with pytest.raises(AnswersError) as info:
        getattr(mini, entry)(forged, as_of=AS_OF)
    assert _codes(info.value) == ["answers-not-validated"]
    problem = info.value.problems[0]
    assert "built by hand" in problem.message and mini.sha256[:12] in problem.message
    assert "validate_answers" in problem.hint


@pytest.mark.parametrize("entry", ["decide", "evaluate", "trace"])
def test_answers_checked_by_another_version_are_refused(mini, other_version, entry):
    """Answers validated by another version are refused with answers-other-ruleset naming both versions."""
    theirs = other_version.validate_answers(CASE)
    with pytest.raises(AnswersError) as info:
        getattr(mini, entry)(theirs, as_of=AS_OF)
    assert _codes(info.value) == ["answers-other-ruleset"]
    message = info.value.problems[0].message
    assert "@2026.2" in message and "@2026.1" in message
    assert other_version.sha256[:12] in message and mini.sha256[:12] in message
    assert other_version.decide(theirs, as_of=AS_OF) == mini.decide(CASE, as_of=AS_OF)


def test_answers_checked_by_another_country_are_refused(mini):
    """A shipped country's validated answers are no good for another ruleset, even for a question both share."""
    nl = load_ruleset("nl", as_of="2026-12-07")
    with pytest.raises(AnswersError) as info:
        mini.decide(nl.validate_answers({"safe_to_talk": True}), as_of=AS_OF)
    assert _codes(info.value) == ["answers-other-ruleset"]
    assert "nl_victim_assessment@" in info.value.problems[0].message


def test_refusal_never_shows_answer_values(mini, other_version):
    """The refusal names rulesets, never the answers it refuses."""
    secret = "Zx9-secret-marker"
    for answers in (Answers({"crime_type": secret}, frozenset(), frozenset()), other_version.validate_answers({**CASE, "crime_type": "robbery"})):
        with pytest.raises(AnswersError) as info:
            mini.decide(answers, as_of=AS_OF)
        text = str(info.value) + repr(info.value.to_dict())
        assert secret not in text and "robbery" not in text


def test_copies_keep_the_stamp_and_replace_drops_it(mini):
    """A copy or a pickle round trip of checked answers is still checked; dataclasses.replace makes new, unchecked answers."""
    checked = mini.validate_answers(CASE)
    for same in (copy.copy(checked), copy.deepcopy(checked), pickle.loads(pickle.dumps(checked))):
        assert mini.decide(same, as_of=AS_OF) == mini.decide(checked, as_of=AS_OF)
    changed = dataclasses.replace(checked, values={**checked.values, "age": -5})
    with pytest.raises(AnswersError) as info:
        mini.decide(changed, as_of=AS_OF)
    assert _codes(info.value) == ["answers-not-validated"]


def test_equality_and_repr_are_about_the_answers(mini, other_version):
    """Two rulesets' checks of the same answers compare equal; the repr shows no stamp."""
    assert mini.validate_answers(CASE) == other_version.validate_answers(CASE)
    assert "CheckedBy" not in repr(mini.validate_answers({"safe_to_talk": True}))


def test_invalid_answers_still_report_their_own_problems(mini):
    """The ownership check does not hide problems in the answers themselves: the check that makes Answers reports them."""
    with pytest.raises(AnswersError) as info:
        mini.validate_answers({"age": "thirty"})
    assert _codes(info.value) == ["answer-type"]


@pytest.mark.parametrize("workers", [1, 2])
def test_batch_evaluates_own_answers_and_refuses_others(mini, other_version, workers):
    """A batch accepts the ruleset's own checked Answers and yields an AnswersError for foreign or hand-made ones, in order."""
    own = mini.validate_answers(CASE)
    foreign = other_version.validate_answers(CASE)
    forged = Answers(dict(own.values), frozenset(), frozenset())
    results = list(mini.evaluate_batch([own, foreign, CASE, forged], as_of=AS_OF, output="decisions", workers=workers))
    assert isinstance(results[0], dict) and results[0] == results[2]
    assert isinstance(results[1], AnswersError) and _codes(results[1]) == ["answers-other-ruleset"]
    assert isinstance(results[3], AnswersError) and _codes(results[3]) == ["answers-not-validated"]


def test_evaluate_many_refuses_foreign_answers(mini, other_version):
    """evaluate_many yields the refusal for a foreign case and goes on with the rest."""
    results = list(mini.evaluate_many([other_version.validate_answers(CASE), Case(answers=CASE)], as_of=AS_OF))
    assert isinstance(results[0], AnswersError) and _codes(results[0]) == ["answers-other-ruleset"]
    assert not isinstance(results[1], AnswersError)


def test_replay_refuses_answers_checked_elsewhere(mini, other_version):
    """Replaying a record with the recorded answers checked by another version is refused, not silently trusted."""
    record = mini.evaluate(CASE, as_of=AS_OF).record(CASE, case_id="c-1")
    assert mini.replay(record, mini.validate_answers(CASE)).identical
    with pytest.raises(AnswersError) as info:
        mini.replay(record, other_version.validate_answers(CASE))
    assert _codes(info.value) == ["answers-other-ruleset"]


def test_batch_evaluates_here_a_case_that_cannot_be_sent_to_a_worker(mini):
    """A case holding something that cannot be pickled is checked in this process, giving its own AnswersError, in order."""
    unpicklable = {"safe_to_talk": True, "crime_type": lambda: "robbery"}
    results = list(mini.evaluate_batch([CASE, unpicklable, CASE], as_of=AS_OF, output="decisions", workers=2))
    assert results[0] == results[2] and isinstance(results[0], dict)
    assert isinstance(results[1], AnswersError) and _codes(results[1]) == ["answer-type"]
