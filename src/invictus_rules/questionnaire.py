"""The questionnaire as data, for front-ends written in any language.

Two documents come out of a compiled ruleset:

- the **questionnaire** (:func:`questionnaire`): every question with its texts in every language,
  section, type, bounds, options, ``required``, ``max_length`` and ``ask_if`` as a JSON expression
  tree (:func:`condition_tree`) that a browser can evaluate without parsing the rule language;
- the **answers schema** (:func:`answers_schema`): a JSON Schema of the answers this version accepts.

Both are versioned (``format``); docs/questionnaire-export.md describes the tree and the semantics a
front-end must follow. Building them reads only the compiled ruleset: no I/O.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .answers import MAX_NUMBER
from .compiled import CompiledRuleset
from .expr.nodes import Arith, BoolOp, Call, Compare, ListLiteral, Literal, Name, Negate, Node, Not
from .model import Question

QUESTIONNAIRE_FORMAT = "invictus-rules/questionnaire/v1"
ANSWERS_SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
TEXT_DEFAULT_MAX_LENGTH = 10_000
"""The longest text answer accepted when a question sets no ``max_length`` (as answers.py checks)."""

JsonTree = dict[str, Any]


def condition_tree(node: Node) -> JsonTree:
    """A condition as a JSON tree: ``{"op": ..., "args": [...]}`` with leaves ``question``,
    ``const``, ``date`` and ``list``. Operators keep the rule language's spelling."""
    if isinstance(node, Literal):
        if isinstance(node.value, dt.date):
            return {"date": node.value.isoformat()}
        return {"const": node.value}
    if isinstance(node, ListLiteral):
        return {"list": [condition_tree(item) for item in node.items]}
    if isinstance(node, Name):
        return {"question": node.id}
    if isinstance(node, Call):
        return {"call": node.function, "args": [condition_tree(arg) for arg in node.args]}
    if isinstance(node, Not):
        return {"op": "not", "args": [condition_tree(node.operand)]}
    if isinstance(node, Negate):
        return {"op": "neg", "args": [condition_tree(node.operand)]}
    if isinstance(node, (BoolOp, Compare, Arith)):
        operands = node.operands if isinstance(node, BoolOp) else (node.left, node.right)
        return {"op": node.op, "args": [condition_tree(operand) for operand in operands]}
    raise TypeError(f"not a condition node: {type(node).__name__}")


def _question_entry(compiled_question: Any, languages: list[str]) -> dict[str, Any]:
    question: Question = compiled_question.spec
    entry: dict[str, Any] = {
        "id": question.id,
        "type": question.type,
        "section": question.section,
        "required": question.required,
        "text": _per_language(question.text, languages),
        "help": _per_language(question.help, languages) if question.help else None,
    }
    if question.options is not None:
        entry["options"] = [{"value": o.value, "label": _per_language(o.label, languages)} for o in question.options]
    if question.type in ("integer", "number"):
        entry["min"] = question.min
        entry["max"] = question.max
    if question.type == "text":
        entry["max_length"] = question.max_length or TEXT_DEFAULT_MAX_LENGTH
    ask_if = compiled_question.ask_if
    entry["ask_if"] = None if ask_if is None else {"rule": ask_if.text, "tree": condition_tree(ask_if.node)}
    return entry


def _per_language(texts: dict[str, str] | None, languages: list[str]) -> dict[str, str]:
    """Texts in every language of the ruleset, in the ruleset's language order."""
    texts = texts or {}
    return {language: texts[language] for language in languages if language in texts}


def questionnaire(compiled: CompiledRuleset) -> dict[str, Any]:
    """The versioned questionnaire document of a compiled ruleset (see the module docstring)."""
    metadata = compiled.metadata
    languages = list(metadata.languages)
    by_id = {q.spec.id: q for q in compiled.questions}
    sections: list[str] = []
    for question in compiled.questions:
        if question.spec.section and question.spec.section not in sections:
            sections.append(question.spec.section)
    return {
        "format": QUESTIONNAIRE_FORMAT,
        "ruleset": {
            "id": metadata.id,
            "country": metadata.country,
            "version": metadata.version,
            "status": metadata.status,
            "effective_from": metadata.effective_from.isoformat() if metadata.effective_from else None,
            "effective_until": metadata.effective_until.isoformat() if metadata.effective_until else None,
            "sha256": compiled.digest,
        },
        "languages": languages,
        "default_language": metadata.default_language,
        "title": _per_language(metadata.title, languages),
        "sections": sections,
        "questions": [_question_entry(by_id[question_id], languages) for question_id in compiled.ask_order],
    }


_MARKERS = [
    {"type": "null", "description": "not answered yet"},
    {
        "type": "object",
        "properties": {"status": {"enum": ["declined", "unknown"]}},
        "required": ["status"],
        "additionalProperties": False,
        "description": "declined: the victim chose not to answer; unknown: the victim does not know",
    },
]


def _value_schema(question: Question) -> dict[str, Any]:
    if question.type == "boolean":
        return {"type": "boolean"}
    if question.type in ("integer", "number"):
        low = question.min if question.min is not None else -MAX_NUMBER
        high = question.max if question.max is not None else MAX_NUMBER
        return {"type": "integer" if question.type == "integer" else "number", "minimum": low, "maximum": high}
    options = [option.value for option in question.options or ()]
    if question.type == "single_choice":
        return {"type": "string", "enum": options}
    if question.type == "multiple_choice":
        return {"type": "array", "items": {"enum": options}, "uniqueItems": True}
    if question.type == "date":
        return {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    return {"type": "string", "maxLength": question.max_length or TEXT_DEFAULT_MAX_LENGTH}


def answers_schema(compiled: CompiledRuleset) -> dict[str, Any]:
    """A JSON Schema (2020-12) of the answers this ruleset version accepts.

    It states types, options, bounds and lengths; what it cannot state (a date that does not exist,
    such as 2026-02-30) the engine still rejects with a positioned AnswersError.
    """
    metadata = compiled.metadata
    properties = {}
    for compiled_question in compiled.questions:
        question = compiled_question.spec
        value = _value_schema(question)
        value["description"] = question.text.get("en") or question.text.get(metadata.default_language, "")
        properties[question.id] = {"anyOf": [value, *_MARKERS]}
    return {
        "$schema": ANSWERS_SCHEMA_DRAFT,
        "$id": f"urn:invictus-rules:answers:{metadata.country}:{metadata.version}",
        "title": f"Answers accepted by {metadata.id} {metadata.version}",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
