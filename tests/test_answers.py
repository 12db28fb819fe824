"""Answer validation: every problem at once, named by question, never echoing values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invictus_rules import AnswersError
from invictus_rules.answers import AnswerChecker, validate_answers

from .strategies import JSON_VALUES

SECRET = "Zx9-secret-marker"


def test_all_problems_reported_together(mini):
    """Unknown ids, wrong types, bad options and out-of-range numbers come in one error."""
    with pytest.raises(AnswersError) as info:
        mini.validate_answers({"agee": 3, "age": 300, "safe_to_talk": "yes", "crime_type": "robery"})
    found = {(p.path, p.code) for p in info.value.problems}
    assert found == {
        ("$.agee", "unknown-question"),
        ("$.age", "answer-range"),
        ("$.safe_to_talk", "answer-type"),
        ("$.crime_type", "answer-option"),
    }
    unknown = next(p for p in info.value.problems if p.code == "unknown-question")
    assert unknown.hint == 'did you mean "age"?'


@pytest.mark.parametrize(
    "answers",
    [
        {"crime_type": SECRET},
        {"age": SECRET},
        {"safe_to_talk": SECRET},
        {"crime_type": {"status": SECRET}},
        {"age": 1e308 * 10},
        {"age": 2.5},
        {"safe_to_talk": 1},
    ],
)
def test_values_are_never_echoed(mini, answers):
    """An invalid answer is described by its kind; the value sent never appears."""
    with pytest.raises(AnswersError) as info:
        mini.validate_answers(answers)
    text = str(info.value) + repr(info.value.to_dict())
    assert SECRET not in text
    assert "not shown" in text or info.value.problems[0].code == "answer-marker"


def test_markers_and_nulls(mini):
    """declined and unknown markers are recorded; null means not answered."""
    answers = mini.validate_answers({"age": {"status": "declined"}, "threats": {"status": "unknown"}, "safe_to_talk": None})
    assert answers.declined == {"age"} and answers.unknown == {"threats"}
    assert "safe_to_talk" not in answers.values


def test_integer_accepts_integral_floats_only(mini):
    """3.0 is a whole number; 3.5 is not."""
    assert mini.validate_answers({"age": 30.0}).values["age"] == 30
    with pytest.raises(AnswersError):
        mini.validate_answers({"age": 30.5})


def test_not_a_mapping(mini):
    """Answers that are not an object give one clear problem."""
    with pytest.raises(AnswersError) as info:
        mini.validate_answers(["age", 3])  # type: ignore[arg-type]
    assert info.value.problems[0].code == "answers-not-object"


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_quick_check_agrees_with_the_full_check(mini, data):
    """The quick path accepts exactly what the full check accepts, with the same values."""
    questions = {q.id: q for q in mini.questions}
    answers = data.draw(st.dictionaries(st.sampled_from(sorted(questions) + ["x"]), st.one_of(JSON_VALUES, st.integers(-200, 200), st.sampled_from(["robbery", "no", "2026-02-30", "2026-01-31"])), max_size=5))
    try:
        expected = validate_answers(answers, questions)
    except AnswersError as error:
        with pytest.raises(AnswersError) as info:
            AnswerChecker(questions).validate(answers)
        assert [p.to_dict() for p in info.value.problems] == [p.to_dict() for p in error.problems]
    else:
        assert AnswerChecker(questions).validate(answers) == expected
