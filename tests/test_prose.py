"""Conditions in plain words: every node kind, every function, every shipped language, every shipped ruleset."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from invictus_rules import load_ruleset, load_ruleset_text
from invictus_rules.expr.language import FUNCTIONS
from invictus_rules.expr.nodes import Call, Node, walk
from invictus_rules.expr.parser import parse
from invictus_rules.labels import LABELS
from invictus_rules.tools.prose import FUNCTION_PHRASES, PHRASES, describe, outline

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(ROOT.glob("rulesets/*/*.yaml"))

RULESET = load_ruleset_text(
    """
format: invictus-rules/v1
metadata:
  id: prose
  country: xx
  version: "2026.1"
  effective_from: 2026-01-01
  status: draft
  languages: [en, nl]
  default_language: en
  title: {en: Prose, nl: Proza}
  changelog: [{version: "2026.1", date: 2025-12-01, changes: [First version.]}]
questions:
  - {id: safe, type: boolean, text: {en: Safe now?, nl: Nu veilig?}}
  - id: crime
    type: single_choice
    text: {en: What happened?, nl: Wat is er gebeurd?}
    options:
      - {value: assault, label: {en: Assault, nl: Mishandeling}}
      - {value: robbery, label: {en: Robbery, nl: Beroving}}
      - {value: fraud, label: {en: Fraud, nl: Fraude}}
  - id: channels
    type: multiple_choice
    text: {en: Safe channels?, nl: Veilige kanalen?}
    options:
      - {value: phone, label: {en: Phone, nl: Telefoon}}
      - {value: email, label: {en: E-mail, nl: E-mail}}
  - {id: age, type: integer, min: 0, max: 120, text: {en: Age?, nl: Leeftijd?}}
  - {id: loss, type: number, text: {en: Loss?, nl: Schade?}}
  - {id: crime_date, type: date, text: {en: When?, nl: Wanneer?}}
  - {id: birth, type: date, text: {en: Born?, nl: Geboren?}}
scores:
  - id: risk
    title: {en: Risk, nl: Risico}
    items:
      - {id: unsafe, label: {en: Unsafe, nl: Onveilig}, when: not safe, points: 2, critical: true}
    levels:
      - {id: low, label: {en: Low, nl: Laag}}
      - {id: high, label: {en: High, nl: Hoog}, when: score(risk) >= 2}
""",
    file="prose.yaml",
).compiled

SAFE = "the answer to “Safe now?”"
CRIME = "the answer to “What happened?”"
AGE = "the answer to “Age?”"

ENGLISH = {
    # literals and names
    "true": "always",
    "false": "never",
    "3": "3",
    '["assault", "robbery"]': "“assault” or “robbery”",
    "age": AGE,
    "safe": f"{SAFE} is yes",
    # not
    "not safe": f"{SAFE} is not yes",
    "not not safe": f"{SAFE} is yes",
    "not true": "never",
    "not (safe or age < 18)": f"it is not the case that ({SAFE} is yes or {AGE} is less than 18)",
    # and / or, grouped
    'safe and (age < 18 or crime == "fraud")': f"{SAFE} is yes and ({AGE} is less than 18 or {CRIME} is “Fraud”)",
    # choices
    'crime == "assault"': f"{CRIME} is “Assault”",
    'crime != "assault"': f"{CRIME} is not “Assault”",
    'not (crime == "assault")': f"{CRIME} is not “Assault”",
    'crime in ["assault"]': f"{CRIME} is “Assault”",
    'crime in ["assault", "robbery"]': f"{CRIME} is “Assault” or “Robbery”",
    'crime in ["assault", "robbery", "fraud"]': f"{CRIME} is one of “Assault”, “Robbery” or “Fraud”",
    'crime not in ["assault", "robbery"]': f"{CRIME} is not one of “Assault” or “Robbery”",
    # multiple choice
    '"phone" in channels': "the answer to “Safe channels?” includes “Phone”",
    '"phone" not in channels': "the answer to “Safe channels?” does not include “Phone”",
    'not ("phone" in channels)': "the answer to “Safe channels?” does not include “Phone”",
    # yes/no compared
    "safe == false": f"{SAFE} is no",
    "safe != true": f"{SAFE} is not yes",
    # numbers, both ways round
    "age >= 18": f"{AGE} is at least 18",
    "age > 17": f"{AGE} is more than 17",
    "age <= 17": f"{AGE} is at most 17",
    "age < 18": f"{AGE} is less than 18",
    "age == 18": f"{AGE} is 18",
    "age != 18": f"{AGE} is not 18",
    "18 <= age": f"{AGE} is at least 18",
    "not (age < 18)": f"{AGE} is at least 18",
    # dates
    "crime_date >= 2026-01-01": "the answer to “When?” is on or after 2026-01-01",
    "crime_date > 2026-01-01": "the answer to “When?” is after 2026-01-01",
    "crime_date <= 2026-01-01": "the answer to “When?” is on or before 2026-01-01",
    "crime_date < 2026-01-01": "the answer to “When?” is before 2026-01-01",
    # arithmetic
    "loss * 2 - 10 > 0": "(the answer to “Loss?” times 2) minus 10 is more than 0",
    "loss / 2 >= 1.5": "the answer to “Loss?” divided by 2 is at least 1.5",
    "loss + age < 100": "the answer to “Loss?” plus the answer to “Age?” is less than 100",
    "-loss < -5": "minus the answer to “Loss?” is less than -5",
    # functions
    "answered(age)": "“Age?” was answered",
    "not answered(age)": "“Age?” was not answered",
    "declined(age)": "the victim declined to answer “Age?”",
    "not declined(age)": "it is not the case that the victim declined to answer “Age?”",
    "count(safe, age < 18) >= 2": f"at least 2 of these are true: {SAFE} is yes; {AGE} is less than 18",
    "count(safe, age < 18) == 1": f"exactly 1 of these are true: {SAFE} is yes; {AGE} is less than 18",
    "count(safe, age < 18) > 0 or safe": f"(more than 0 of these are true: {SAFE} is yes; {AGE} is less than 18) or {SAFE} is yes",
    "count(safe, age < 18) != 1": f"the number of these that are true: {SAFE} is yes; {AGE} is less than 18 is not 1",
    "count(channels) >= 2": "the number of options chosen for “Safe channels?” is at least 2",
    "score(risk) >= 2": "the score of “Risk” is at least 2",
    "critical(risk) >= 1": "the number of critical indicators present in “Risk” is at least 1",
    'level(risk) == "high"': "the level of “Risk” is “High”",
    '"high" == level(risk)': "the level of “Risk” is “High”",
    'level(risk) != "high"': "the level of “Risk” is not “High”",
    'level(risk) >= "high"': "the level of “Risk” is “High” or higher",
    'level(risk) > "low"': "the level of “Risk” is higher than “Low”",
    'level(risk) <= "low"': "the level of “Risk” is “Low” or lower",
    'level(risk) < "high"': "the level of “Risk” is lower than “High”",
    'level(risk) in ["low", "high"]': "the level of “Risk” is “Low” or “High”",
    "days_since(crime_date) <= 7": "the number of days since the date given for “When?” is at most 7",
    "years_since(birth) < 18": "the number of whole years since the date given for “Born?” is less than 18",
}


@pytest.mark.parametrize("condition", list(ENGLISH))
def test_english_prose(condition):
    """Each kind of condition reads as a sentence built from the ruleset's own texts."""
    assert describe(parse(condition), RULESET, "en") == ENGLISH[condition]


def test_every_node_kind_and_function_is_covered():
    """The English examples use every node type of the language and every function it has."""
    nodes = [node for condition in ENGLISH for node in walk(parse(condition))]
    assert {type(node) for node in nodes} == set(typing.get_args(Node))
    assert {node.function for node in nodes if isinstance(node, Call)} == set(FUNCTIONS)
    assert set(FUNCTION_PHRASES) == set(FUNCTIONS)


IN_LIST = 'crime in ["assault", "robbery"]'
OTHER_LANGUAGES = {
    "nl": "het antwoord op “Wat is er gebeurd?” is “Mishandeling” of “Beroving”",
    "bg": "отговорът на „What happened?“ е „Assault“ или „Robbery“",
    "hr": "odgovor na „What happened?“ je „Assault“ ili „Robbery“",
    "fi": "vastaus kysymykseen ”What happened?” on ”Assault” tai ”Robbery”",
    "sv": "svaret på ”What happened?” är ”Assault” eller ”Robbery”",
    "fr": "la réponse à « What happened? » est « Assault » ou « Robbery »",
    "it": "la risposta a «What happened?» è «Assault» o «Robbery»",
    "pt": "a resposta a «What happened?» é «Assault» ou «Robbery»",
    "de": "the answer to “What happened?” is “Assault” or “Robbery”",
}


@pytest.mark.parametrize("language", list(OTHER_LANGUAGES))
def test_other_languages(language):
    """Each shipped language has its own connectives and quotes; the texts fall back to the default language; German falls back to English."""
    assert describe(parse(IN_LIST), RULESET, language) == OTHER_LANGUAGES[language]


def test_dutch_uses_dutch_texts_and_phrases():
    """A language of the ruleset gets both its question texts and its phrasing."""
    assert describe(parse("not answered(age) and days_since(crime_date) <= 7"), RULESET, "nl") == (
        "“Leeftijd?” is niet beantwoord en het aantal dagen sinds de datum bij “Wanneer?” is hoogstens 7"
    )


def test_phrase_tables_are_complete():
    """Every phrase table has every English phrase, with the same placeholders, and every page language has one."""
    for language, table in PHRASES.items():
        assert set(table) == set(PHRASES["en"]), language
        for key, text in table.items():
            for placeholder in ("{x}", "{q}", "{s}", "{v}", "{n}", "{items}", "{a}", "{b}"):
                assert (placeholder in text) == (placeholder in PHRASES["en"][key]), (language, key)
    assert set(LABELS) <= set(PHRASES)


def test_outline_lays_out_long_conditions():
    """Nested or long and/or groups become a tree; short conditions stay one sentence."""
    short = outline(parse("safe and age < 18"), RULESET, "en")
    assert short.text == f"{SAFE} is yes and {AGE} is less than 18" and short.parts == ()
    tree = outline(parse('safe and (age < 18 or crime == "fraud")'), RULESET, "en")
    assert tree.text == "all of these:"
    assert [part.text for part in tree.parts] == [f"{SAFE} is yes", "at least one of these:"]
    assert [part.text for part in tree.parts[1].parts] == [f"{AGE} is less than 18", f"{CRIME} is “Fraud”"]


def test_conditions_written_as_yaml_lists():
    """all:/any:/not: conditions read like the same conditions written as text."""
    mini = load_ruleset(ROOT / "tests" / "fixtures" / "mini.yaml").compiled
    yaml_form = load_ruleset_text(
        (ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8").replace(
            "when: not safe_to_talk\n", "when: {all: [{not: safe_to_talk}, {any: [threats, strangulation]}]}\n"
        )
    ).compiled
    rule = next(r for r in yaml_form.referrals if r.spec.id == "not_safe_now")
    assert describe(rule.condition.node, mini, "en") == (
        "the answer to “Is it safe to talk now?” is not yes and (the answer to “Has the person threatened to kill you?” is yes "
        "or the answer to “Has the person ever strangled you?” is yes)"
    )


@pytest.mark.parametrize("path", SHIPPED, ids=[f"{p.parent.name}@{p.stem}" for p in SHIPPED])
def test_every_condition_of_shipped_rulesets_reads_as_prose(path):
    """Every condition of every shipped ruleset reads without operators or function calls, in each of its languages."""
    compiled = load_ruleset(path).compiled
    conditions = [q.ask_if for q in compiled.questions if q.ask_if]
    conditions += [item.condition for score in compiled.scores for item in score.items]
    conditions += [c for score in compiled.scores for _, c in score.levels if c]
    conditions += [r.condition for r in compiled.referrals] + [i.condition for i in compiled.information]
    for language in compiled.metadata.languages:
        for condition in conditions:
            text = describe(condition.node, compiled, language)
            assert text and not any(mark in text for mark in ("==", "!=", ">=", "<=", "_since(", "level(", "score(")), (language, condition.text, text)
