"""Building and serialising the Assessment: what is remembered between cases never changes a byte."""

from __future__ import annotations

import pickle

import pytest
from pydantic import BaseModel

from invictus_rules import Assessment, load_ruleset_text
from invictus_rules.templates import check_template

from .conftest import FIXTURES

AS_OF = "2026-02-01"
KNOWN = {"answers": ["age", "amount", "note"], "services": ["helpline"], "scores": ["dv_risk"]}

AMOUNT = """  - id: amount
    type: number
    text: {en: How much?, nl: Hoeveel?}
  - id: note
    type: text
    text: {en: Anything else?, nl: Nog iets?}
  - id: judgement
"""
READING = """    body: {en: "Age {{ answers.age }}, {{ answers.amount }}{% if scores.dv_risk.level == 'high' %}, high ({{ scores.dv_risk.points }}){% endif %}{% if answers.note is defined %}: {{ answers.note }}{% endif %}", nl: "Leeftijd {{ answers.age }}."}
"""


def _ruleset_text():
    text = (FIXTURES / "mini.yaml").read_text()
    text = text.replace("  - id: judgement\n", AMOUNT, 1)
    old = '    body: {en: "You can get support from {{ services.helpline.name }}.", nl: "U kunt steun krijgen van {{ services.helpline.name }}."}\n'
    assert old in text
    return text.replace(old, READING, 1)


def _ruleset():
    return load_ruleset_text(_ruleset_text())


CASES = [
    {"crime_type": "robbery"},  # no age: the text fails to render, with a warning
    {"crime_type": "robbery", "age": 30, "amount": 1},
    {"crime_type": "robbery", "age": 30, "amount": 1.0},
    {"crime_type": "robbery", "age": 30, "amount": 0.0},
    {"crime_type": "robbery", "age": 30, "amount": -0.0},
    {"crime_type": "robbery", "age": 30, "amount": 2.5, "note": "private words"},
    {"crime_type": "domestic_violence", "age": 30, "amount": 2.5, "strangulation": True, "threats": True},
    {"crime_type": "domestic_violence", "age": 30, "amount": 2.5, "strangulation": True, "threats": False},
    {"crime_type": "domestic_violence", "age": 30, "amount": 2.5, "strangulation": {"status": "declined"}},
]


@pytest.mark.parametrize("language", ["en", "nl", "fr"])
def test_remembered_renderings_give_the_bytes_of_fresh_ones(language):
    """Texts rendered from memory (second pass) equal those rendered by a ruleset that remembers nothing yet."""
    warm = _ruleset()
    for _ in range(2):
        for answers in CASES:
            fresh = _ruleset().evaluate(answers, as_of=AS_OF, language=language, trace=True)
            again = warm.evaluate(answers, as_of=AS_OF, language=language, trace=True)
            assert again.model_dump_json() == fresh.model_dump_json()
    texts = {a.information[0].body for a in (warm.evaluate(c, as_of=AS_OF, language="en") for c in CASES[1:5])}
    assert len(texts) == 4  # 1, 1.0, 0.0 and -0.0 print differently


def test_a_text_that_fails_is_reported_every_time():
    """A rendering that failed is remembered as a failure: the warning comes back on every case."""
    ruleset = _ruleset()
    for _ in range(3):
        warnings = ruleset.evaluate(CASES[0], as_of=AS_OF, language="en").warnings
        assert [w.code for w in warnings if w.code == "text-not-rendered"] == ["text-not-rendered"]


def test_free_text_and_number_answers_are_never_remembered():
    """A text that reads a free-text or number answer (an age, an amount) is rendered every time: no
    victim's words or figures stay in memory between cases."""
    ruleset = _ruleset()
    for answers in CASES:
        ruleset.evaluate(answers, as_of=AS_OF, language="en")
    body = ruleset.compiled.information[0].body["en"]
    assert body.reads() is not None and "note" in body.reads().answers
    assert not body._memo  # internal: the renderings remembered for this text
    assert all("private words" not in repr(key) for key in body._memo)
    numbers_only = load_ruleset_text(_ruleset_text().replace("{% if answers.note is defined %}: {{ answers.note }}{% endif %}", ""))
    for answers in CASES:
        numbers_only.evaluate(answers, as_of=AS_OF, language="en")
    body = numbers_only.compiled.information[0].body["en"]
    assert body.reads() is not None and set(body.reads().answers) == {"age", "amount"}
    assert not body._memo


def test_what_a_text_reads_is_found_from_its_syntax():
    """Named answers and score fields are listed; a text that reads the answers as a whole lists nothing."""
    text, issues = check_template("{{ answers.age }} {% if scores.dv_risk.level == 'high' %}{{ as_of }}{% endif %}", KNOWN)
    assert not issues and text is not None
    reads = text.reads()
    assert reads is not None
    assert (reads.answers, reads.scores, reads.as_of) == (("age",), (("dv_risk", "level"),), True)
    whole, issues = check_template("{% for q in answers %}{{ q }}{% endfor %}", KNOWN)
    assert not issues and whole is not None and whole.reads() is None


def test_trace_json_is_pydantics_json_and_follows_changes():
    """The JSON joined from pre-serialised entries is pydantic's own; an edited entry is serialised as edited."""
    ruleset = _ruleset()
    assessment = ruleset.evaluate(CASES[6], as_of=AS_OF, language="en", trace=True)
    assert assessment.model_dump_json() == BaseModel.model_dump_json(assessment)
    assert assessment.trace is not None
    assert assessment.trace.model_dump_json() == BaseModel.model_dump_json(assessment.trace)
    assert assessment.model_dump_json(indent=2) == BaseModel.model_dump_json(assessment, indent=2)
    before = assessment.model_dump_json()
    assessment.trace.entries[0]["result"] = "unknown" if assessment.trace.entries[0]["result"] != "unknown" else "true"
    assert assessment.model_dump_json() == BaseModel.model_dump_json(assessment) != before


def test_a_pickled_assessment_is_equal_and_serialises_the_same():
    """Pickling leaves the pre-serialised trace behind; the copy is equal and gives the same JSON."""
    ruleset = _ruleset()
    assessment = ruleset.evaluate(CASES[6], as_of=AS_OF, language="en", trace=True)
    copy = pickle.loads(pickle.dumps(assessment))
    assert copy == assessment
    assert copy.model_dump_json() == assessment.model_dump_json()
    assert Assessment.model_validate_json(assessment.model_dump_json()).trace == assessment.trace
