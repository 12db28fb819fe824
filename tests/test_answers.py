"""Answer validation: every problem at once, named by question, never echoing values."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invictus_rules import AnswersError
from invictus_rules.answers import AnswerChecker, validate_answers
from invictus_rules.load import list_countries, list_versions

from .conftest import FIXTURES
from .strategies import answer_values, examples

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


QUESTION_TYPES = {"boolean", "integer", "number", "single_choice", "multiple_choice", "date", "text"}
CHECKED = [FIXTURES / "every_type.yaml", FIXTURES / "mini.yaml", FIXTURES / "safety.yaml"] + [
    version.path for country in list_countries() for version in list_versions(country)
]


def test_the_every_type_fixture_has_every_question_type():
    """The fixture the quick and full answer checks are compared on holds all seven question types."""
    from invictus_rules import load_ruleset

    assert {q.type for q in load_ruleset(FIXTURES / "every_type.yaml").questions} == QUESTION_TYPES


@pytest.mark.parametrize("path", CHECKED, ids=[f"{p.parent.name}/{p.stem}" for p in CHECKED])
@examples(60, 1000)
@given(data=st.data())
def test_quick_check_agrees_with_the_full_check(path, data):
    """The quick check used by decide/evaluate accepts exactly what the full check accepts, with the same
    values, and rejects with the same AnswersError and the same problems, on every shipped ruleset and
    on a fixture with every question type."""
    ruleset = _loaded(path)
    questions = {q.id: q for q in ruleset.questions}
    keys = st.one_of(st.sampled_from(sorted(questions)), st.sampled_from(["x", "Age", "2x", ""]))
    answers = data.draw(st.dictionaries(keys, answer_values(ruleset), max_size=6))
    try:
        expected = validate_answers(answers, questions)
    except AnswersError as error:
        for check in (AnswerChecker(questions).validate, ruleset.validate_answers):
            with pytest.raises(AnswersError) as info:
                check(answers)
            assert [p.to_dict() for p in info.value.problems] == [p.to_dict() for p in error.problems]
        for as_of in ("2026-03-01", dt.date(2026, 3, 1)):  # a date object takes decide's shortest way
            with pytest.raises(AnswersError) as info:
                ruleset.decide(answers, as_of=as_of)
            assert [p.to_dict() for p in info.value.problems] == [p.to_dict() for p in error.problems]
    else:
        assert AnswerChecker(questions).validate(answers) == expected
        assert ruleset.validate_answers(answers) == expected
        for as_of in ("2026-03-01", dt.date(2026, 3, 1)):
            assert ruleset.decide(answers, as_of=as_of) == ruleset.decide(ruleset.validate_answers(answers), as_of=as_of)


_LOADED: dict = {}


def _loaded(path):
    from invictus_rules import load_ruleset

    if path not in _LOADED:
        _LOADED[path] = load_ruleset(path)
    return _LOADED[path]
