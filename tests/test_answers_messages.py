"""What an answers error says about each kind of wrong value: the expected form, the kind sent, never the value."""

from __future__ import annotations

import pytest

from invictus_rules import AnswersError, load_ruleset, load_ruleset_text

from .conftest import FIXTURES

EVERY_TYPE = FIXTURES / "every_type.yaml"


@pytest.fixture(scope="module")
def every_type():
    return load_ruleset(EVERY_TYPE)


def _only_problem(ruleset, answers):
    with pytest.raises(AnswersError) as info:
        ruleset.validate_answers(answers)
    (problem,) = info.value.problems
    return problem


@pytest.mark.parametrize(
    ("answers", "code", "given"),
    [
        ({"safe_to_talk": (True,)}, "answer-type", "a list was given"),
        ({"safe_to_talk": 1.5}, "answer-type", "a number was given"),
        ({"safe_to_talk": float("nan")}, "answer-type", "a non-finite number was given"),
        ({"safe_to_talk": b"yes"}, "answer-type", "a value of another kind was given"),
        ({"crime_type": True}, "answer-type", "true/false was given"),
        ({"crime_type": 3}, "answer-type", "a whole number was given"),
        ({"incident_date": 20260314}, "answer-type", "a whole number was given"),
        ({"incident_date": "14-03-2026"}, "answer-format", "text of another form was given"),
        ({"incident_date": "2026-02-30"}, "answer-format", "text that is not a real date was given"),
        ({"needs": ["shelter", "shelter"]}, "answer-duplicate", "a list with a value twice was given"),
        ({"needs": ["shelter", 3]}, "answer-type", "a list holding something other than text was given"),
        ({"weight": 600}, "answer-range", "a number outside that range was given"),
        ({"weight": 10**16}, "answer-range", "beyond"),
    ],
)
def test_each_wrong_kind_is_named(every_type, answers, code, given):
    """Each wrong value is described by its kind, with the problem's own code, by the quick check and the full one alike."""
    problem = _only_problem(every_type, answers)
    assert problem.code == code
    assert given in problem.message
    assert "not shown" in problem.hint
    with pytest.raises(AnswersError) as decided:
        every_type.decide(answers, as_of="2026-03-01")
    assert [p.to_dict() for p in decided.value.problems] == [problem.to_dict()]


def test_a_real_date_is_accepted(every_type):
    """A date written YYYY-MM-DD becomes a date, including 29 February of a leap year."""
    assert str(every_type.validate_answers({"incident_date": "2024-02-29"}).values["incident_date"]) == "2024-02-29"


@pytest.mark.parametrize(("value", "kind"), [(None, "null"), (42, "a whole number"), ("text", "text"), ([1], "a list"), (object(), "a value of another kind")])
def test_answers_that_are_not_an_object(every_type, value, kind):
    """Answers that are not an object are refused whole, naming only the kind sent."""
    problem = _only_problem(every_type, value)
    assert problem.code == "answers-not-object"
    assert f"but {kind} was given" in problem.message


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ("min: 0\n    max: 120", "must be a whole number from 0 to 120"),
        ("min: 0", "must be a whole number of at least 0"),
        ("max: 120", "must be a whole number of at most 120"),
    ],
)
def test_the_expected_range_is_spelt_out(bounds, expected):
    """An out-of-range number's message states the bounds the question has: both, a minimum only or a maximum only."""
    text = EVERY_TYPE.read_text(encoding="utf-8")
    assert "min: 0\n    max: 120" in text
    ruleset = load_ruleset_text(text.replace("min: 0\n    max: 120", bounds), file="bounds.yaml")
    answers = {"age": -1} if "min" in bounds else {"age": 121}
    problem = _only_problem(ruleset, answers)
    assert problem.code == "answer-range"
    assert problem.message.startswith(f'the answer to "age" {expected}, but ')
