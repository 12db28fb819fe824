"""The schemas' hover examples: every field has its own, each validates against its field and names only real ids.

The examples are drawn from the Dutch ruleset (nl 2026.2): an id an example names (a question in a
condition, a service in a template, a level, an option) must exist there, so an editor's hover help
never shows a condition that would fail to load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from invictus_rules import load_ruleset
from invictus_rules.expr.nodes import Call, Name, Node
from invictus_rules.expr.parser import parse
from invictus_rules.schemas import SCHEMAS

NL = load_ruleset("nl@2026.2")
COMPILED = NL.compiled
QUESTIONS = {q.id for q in NL.questions}
SCORES = {s.spec.id for s in COMPILED.scores}
SERVICES = set(COMPILED.services)
LEVELS = {level_id for s in COMPILED.scores for level_id, _ in s.levels}
OPTIONS = {o.value for q in NL.questions for o in q.options or ()}
REFERRALS = {r.spec.id for r in COMPILED.referrals}
INFORMATION = {i.spec.id for i in COMPILED.information}
SCORE_ITEMS = {item.spec.id for s in COMPILED.scores for item in s.items}
SECTIONS = {q.section for q in NL.questions if q.section}

CONDITIONS = {("AllCondition", "all"), ("AnyCondition", "any"), ("NotCondition", "not"), ("Information", "when"), ("Level", "when"),
              ("Question", "ask_if"), ("Referral", "when"), ("ScoreItem", "when"), ("Safety", "safe_to_talk")}
IDS: dict[tuple[str, str], set[str]] = {
    ("Question", "id"): QUESTIONS, ("Override", "question"): QUESTIONS, ("Safety", "safe_channels"): QUESTIONS,
    ("Referral", "service"): SERVICES, ("Service", "id"): SERVICES, ("Safety", "emergency"): SERVICES, ("Safety", "silent"): SERVICES,
    ("Score", "id"): SCORES, ("Level", "id"): LEVELS, ("ScoreItem", "id"): SCORE_ITEMS, ("Option", "value"): OPTIONS,
    ("Referral", "id"): REFERRALS, ("Information", "id"): INFORMATION, ("Question", "section"): SECTIONS,
    # the test-file schema
    ("Expectations", "levels"): SCORES | LEVELS, ("Expectations", "possible_levels"): SCORES | LEVELS, ("Expectations", "points"): SCORES,
    ("Expectations", "referrals"): SERVICES, ("Expectations", "no_referrals"): SERVICES, ("Expectations", "priorities"): SERVICES,
    ("Expectations", "modes"): SERVICES, ("Expectations", "information"): INFORMATION, ("Expectations", "no_information"): INFORMATION,
    ("Expectations", "pending"): REFERRALS | INFORMATION | SCORES, ("Expectations", "not_pending"): REFERRALS | INFORMATION | SCORES,
    ("Expectations", "next_questions"): QUESTIONS, ("Expectations", "no_next_questions"): QUESTIONS, ("Expectations", "ignored"): QUESTIONS,
    ("Expectations", "deferred"): REFERRALS | SERVICES, ("Expectations", "no_deferred"): REFERRALS | SERVICES,
    ("Expectations", "undecidable"): REFERRALS | INFORMATION | SCORES, ("TestCase", "answers"): QUESTIONS,
}
DOCUMENTS = ("ruleset", "ruleset-test")


def fields(name: str) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(model, field, the field's schema, the whole schema) for every field of every model in a schema."""
    schema = SCHEMAS[name]()
    for model, definition in {"(document)": schema, **schema.get("$defs", {})}.items():
        for field, subschema in definition.get("properties", {}).items():
            yield model, field, subschema, schema


FIELDS = [(name, *row) for name in DOCUMENTS for row in fields(name)]
IDS_OF = [f"{name}:{model}.{field}" for name, model, field, _, _ in FIELDS]


def nested_examples(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "examples":
                yield value
            elif key != "$defs":
                yield from nested_examples(value)
    elif isinstance(node, list):
        for item in node:
            yield from nested_examples(item)


@pytest.mark.parametrize(("name", "model", "field", "subschema", "schema"), FIELDS, ids=IDS_OF)
def test_every_field_has_its_own_examples_and_they_validate(name: str, model: str, field: str, subschema: dict[str, Any], schema: dict[str, Any]) -> None:
    """Each field shows its own examples (none inherited from a shared type), and each validates against the field."""
    if field in ("format", "description") and model in ("(document)", "TestFile"):
        return  # a constant, and free text for readers
    assert subschema.get("examples"), f"{model}.{field} has no example of its own"
    inner = {k: v for k, v in subschema.items() if k != "examples"}
    assert not list(nested_examples(inner)), f"{model}.{field} shows examples of a shared type below its own"
    validator = jsonschema.Draft202012Validator({**inner, "$defs": schema.get("$defs", {})})
    for example in subschema["examples"]:
        errors = [e.message for e in validator.iter_errors(example)]
        assert not errors, f"{model}.{field}: the example {example!r} does not validate: {errors}"


def names_in(node: Node) -> Iterator[str]:
    if isinstance(node, Name):
        yield node.id
    for child in getattr(node, "__dict__", {}).values():
        for item in child if isinstance(child, (list, tuple)) else (child,):
            if isinstance(item, Node):
                yield from names_in(item)


def conditions_in(example: Any) -> Iterator[str]:
    if isinstance(example, str):
        yield example
    elif isinstance(example, list):
        for item in example:
            yield from conditions_in(item)
    elif isinstance(example, dict):
        for item in example.values():
            yield from conditions_in(item)


def ids_in(example: Any) -> Iterator[str]:
    if isinstance(example, str):
        yield example
    elif isinstance(example, list):
        for item in example:
            yield from ids_in(item)
    elif isinstance(example, dict):
        yield from example


@pytest.mark.parametrize(("name", "model", "field", "subschema", "schema"), FIELDS, ids=IDS_OF)
def test_examples_name_only_real_ids(name: str, model: str, field: str, subschema: dict[str, Any], schema: dict[str, Any]) -> None:
    """Conditions, ids and templates in an example name only questions, scores, services and levels that exist in nl 2026.2."""
    text = json.dumps(subschema.get("examples", []), ensure_ascii=False)
    for service in re.findall(r"services\.(\w+)\.", text):
        assert service in SERVICES, f"{model}.{field}: the template names a service {service} that does not exist"
    for example in subschema.get("examples", []):
        if (model, field) in CONDITIONS:
            for condition in conditions_in(example):
                node = parse(condition)
                unknown = set(names_in(node)) - QUESTIONS - SCORES
                assert not unknown, f"{model}.{field}: {condition!r} names {sorted(unknown)}, not questions of nl 2026.2"
                for call in (n for n in _walk(node) if isinstance(n, Call) and n.function in ("score", "level", "critical")):
                    assert all(isinstance(a, Name) and a.id in SCORES for a in call.args), f"{model}.{field}: {condition!r} names a score that does not exist"
        if (model, field) in IDS:
            unknown = set(ids_in(example)) - IDS[(model, field)]
            assert not unknown, f"{model}.{field}: the example names {sorted(unknown)}, which nl 2026.2 does not have"


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in getattr(node, "__dict__", {}).values():
        for item in child if isinstance(child, (list, tuple)) else (child,):
            if isinstance(item, Node):
                yield from _walk(item)


def test_no_text_example_is_copied_between_fields() -> None:
    """A text example (a service name, a score title, a level label...) belongs to one field, not pasted into several."""
    seen: dict[str, str] = {}
    for _name, model, field, subschema, _ in FIELDS:
        for example in subschema.get("examples", []):
            if isinstance(example, dict) and example and all(isinstance(v, str) for v in example.values()) and all(re.fullmatch(r"[a-z]{2}", k) for k in example):
                for text in example.values():
                    assert seen.setdefault(text, f"{model}.{field}") == f"{model}.{field}", f"{text!r} is the example of {seen[text]} and of {model}.{field}"
