"""The questionnaire export and the answers schema, as a host's form builder reads them."""

from __future__ import annotations

import jsonschema
import pytest

from invictus_rules import AnswersError, load_ruleset, load_ruleset_text

from .conftest import FIXTURES

EVERY_TYPE = FIXTURES / "every_type.yaml"
ASK_IF = 'not free_count > 3 and -weight < 2 * 3 + 1 / 2 - 1 and crime_type in ["domestic_violence", "robbery"] or incident_date < 2026-01-01 and answered(age)'


@pytest.fixture(scope="module")
def every_type():
    return load_ruleset(EVERY_TYPE)


@pytest.fixture(scope="module")
def with_tree():
    """every_type with one ask_if that uses every kind of node of the condition language."""
    text = EVERY_TYPE.read_text(encoding="utf-8")
    anchor = "  - id: notes\n"
    assert anchor in text
    return load_ruleset_text(text.replace(anchor, anchor + f"    ask_if: '{ASK_IF}'\n"), file="tree.yaml")


def test_an_ask_if_is_exported_as_its_rule_and_a_json_tree(with_tree):
    """The export gives the rule as written and a tree with ops, calls, questions, constants, lists and dates."""
    (notes,) = [q for q in with_tree.questionnaire()["questions"] if q["id"] == "notes"]
    assert notes["ask_if"]["rule"] == ASK_IF
    tree = notes["ask_if"]["tree"]
    assert tree["op"] == "or"
    left, right = tree["args"]
    negated, compared, member = left["args"]
    assert negated == {"op": "not", "args": [{"op": ">", "args": [{"question": "free_count"}, {"const": 3}]}]}
    assert compared["op"] == "<" and compared["args"][0] == {"op": "neg", "args": [{"question": "weight"}]}
    assert compared["args"][1]["op"] == "-"
    assert member == {"op": "in", "args": [{"question": "crime_type"}, {"list": [{"const": "domestic_violence"}, {"const": "robbery"}]}]}
    assert right["args"] == [{"op": "<", "args": [{"question": "incident_date"}, {"date": "2026-01-01"}]}, {"call": "answered", "args": [{"question": "age"}]}]


def test_each_question_type_carries_what_a_form_needs(every_type):
    """Choices carry options with labels, numbers their bounds, text its length limit; every language is there."""
    export = every_type.questionnaire()
    questions = {q["id"]: q for q in export["questions"]}
    assert export["languages"] == every_type.languages
    assert [o["value"] for o in questions["needs"]["options"]][:2] == ["shelter", "legal"]
    assert set(questions["needs"]["options"][0]["label"]) <= set(every_type.languages)
    assert (questions["weight"]["min"], questions["weight"]["max"]) == (-2.5, 500.5)
    assert (questions["free_count"]["min"], questions["free_count"]["max"]) == (None, None)
    assert questions["notes"]["max_length"] == 12
    assert questions["safe_to_talk"]["ask_if"] is None
    assert questions["strangulation"]["ask_if"]["tree"] == {"op": "==", "args": [{"question": "crime_type"}, {"const": "domestic_violence"}]}


@pytest.mark.parametrize(
    "answers",
    [
        {"safe_to_talk": True, "crime_type": "domestic_violence", "needs": ["shelter"], "incident_date": "2026-03-14", "notes": "short", "weight": -2.5, "free_count": 10**15},
        {"safe_to_talk": {"status": "declined"}, "age": {"status": "unknown"}, "judgement": None},
        {"safe_to_talk": "yes"},
        {"age": 121},
        {"free_count": 10**15 + 1},
        {"weight": 600},
        {"needs": ["shelter", "shelter"]},
        {"needs": ["nothing"]},
        {"notes": "far too long for it"},
        {"incident_date": "14-03-2026"},
        {"crime_type": "other"},
        {"unknown_question": 1},
        {"age": {"status": "maybe"}},
    ],
)
def test_the_answers_schema_accepts_what_the_engine_accepts(every_type, answers):
    """An external validator with the answers schema accepts exactly the answers the engine accepts."""
    validator = jsonschema.Draft202012Validator(every_type.answers_schema())
    try:
        every_type.validate_answers(answers)
    except AnswersError:
        accepted = False
    else:
        accepted = True
    assert validator.is_valid(answers) == accepted


def test_the_answers_schema_names_its_version(every_type):
    """The schema's id and title name the ruleset version it belongs to."""
    schema = every_type.answers_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f":{every_type.country}:{every_type.version}")
    assert every_type.version in schema["title"]
