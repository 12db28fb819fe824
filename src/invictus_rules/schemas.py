"""The JSON Schemas the project publishes, by name, for hosts written in any language.

Each is committed under ``schema/<name>.schema.json`` (a test keeps the files in sync) and served by
``invictus-rules schema NAME`` and the HTTP service's ``GET /v1/schemas/{name}``. The stability
policy (what bumps a format version) is in the README, "Formats and stability".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .expr.language import FUNCTIONS, OPERATORS
from .model import json_schema as ruleset_schema
from .questionnaire import ANSWERS_SCHEMA_DRAFT, QUESTIONNAIRE_FORMAT

_ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_TEXTS = {"type": "object", "additionalProperties": {"type": "string"}, "description": "a text per language code"}


def condition_tree_schema() -> dict[str, Any]:
    """The JSON form of a condition (``ask_if`` in the questionnaire export)."""
    node = {"$ref": "#"}
    args = {"type": "array", "items": node}
    return {
        "$schema": ANSWERS_SCHEMA_DRAFT,
        "$id": "urn:invictus-rules:condition-tree:v1",
        "title": "A condition of the rule language as a JSON tree",
        "description": "Evaluated with three-valued logic; see docs/questionnaire-export.md.",
        "oneOf": [
            {
                "type": "object",
                "properties": {"const": {"type": ["boolean", "number", "string"]}},
                "required": ["const"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"date": {"type": "string", "format": "date"}},
                "required": ["date"],
                "additionalProperties": False,
            },
            {"type": "object", "properties": {"list": args}, "required": ["list"], "additionalProperties": False},
            {"type": "object", "properties": {"question": _ID}, "required": ["question"], "additionalProperties": False},
            {
                "type": "object",
                "properties": {
                    "call": {"enum": list(FUNCTIONS)},
                    "args": args,
                },
                "required": ["call", "args"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {
                    "op": {"enum": list(OPERATORS)},
                    "args": args,
                },
                "required": ["op", "args"],
                "additionalProperties": False,
            },
        ],
    }


def questionnaire_schema() -> dict[str, Any]:
    """The questionnaire export document (``Ruleset.questionnaire()``)."""
    nullable_texts = {"oneOf": [_TEXTS, {"type": "null"}]}
    question = {
        "type": "object",
        "properties": {
            "id": _ID,
            "type": {"enum": ["boolean", "integer", "number", "single_choice", "multiple_choice", "date", "text"]},
            "section": {"oneOf": [_ID, {"type": "null"}]},
            "required": {"type": "boolean"},
            "text": _TEXTS,
            "help": nullable_texts,
            "options": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"value": _ID, "label": _TEXTS},
                    "required": ["value", "label"],
                    "additionalProperties": False,
                },
            },
            "min": {"type": ["number", "null"]},
            "max": {"type": ["number", "null"]},
            "max_length": {"type": "integer"},
            "ask_if": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "properties": {"rule": {"type": "string"}, "tree": {"$ref": "urn:invictus-rules:condition-tree:v1"}},
                        "required": ["rule", "tree"],
                        "additionalProperties": False,
                    },
                ]
            },
        },
        "required": ["id", "type", "section", "required", "text", "help", "ask_if"],
        "additionalProperties": False,
    }
    nullable_date = {"oneOf": [{"type": "string", "format": "date"}, {"type": "null"}]}
    return {
        "$schema": ANSWERS_SCHEMA_DRAFT,
        "$id": "urn:invictus-rules:questionnaire:v1",
        "title": "The questionnaire of one ruleset version, in every language",
        "type": "object",
        "properties": {
            "format": {"const": QUESTIONNAIRE_FORMAT},
            "ruleset": {
                "type": "object",
                "properties": {
                    "id": _ID,
                    "country": {"type": "string", "pattern": "^[a-z]{2}$"},
                    "version": {"type": "string"},
                    "status": {"enum": ["draft", "published"]},
                    "effective_from": nullable_date,
                    "effective_until": nullable_date,
                    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                },
                "required": ["id", "country", "version", "status", "effective_from", "effective_until", "sha256"],
                "additionalProperties": False,
            },
            "languages": {"type": "array", "items": {"type": "string"}},
            "default_language": {"type": "string"},
            "title": _TEXTS,
            "sections": {"type": "array", "items": _ID},
            "questions": {"type": "array", "items": question},
        },
        "required": ["format", "ruleset", "languages", "default_language", "title", "sections", "questions"],
        "additionalProperties": False,
    }


def case_schema() -> dict[str, Any]:
    """A case file: answers plus optional case id, as-of date and language."""
    properties: dict[str, Any] = {
        "case_id": {"type": "string", "description": "the case system's id; kept in decision records"},
        "as_of": {"type": "string", "format": "date", "description": "the assessment date (picks the version in force)"},
        "language": {"type": "string", "description": "language of the texts, e.g. nl or en"},
        "answers": {
            "type": "object",
            "description": (
                "answers keyed by question id: the value, null (not answered yet), "
                '{"status": "declined"} or {"status": "unknown"}; the answers schema of a version '
                "(invictus-rules schema --answers cc@version) says which values each question takes"
            ),
        },
    }
    return {
        "$schema": ANSWERS_SCHEMA_DRAFT,
        "$id": "urn:invictus-rules:case:v1",
        "title": "A case file",
        "type": "object",
        "properties": properties,
        "required": ["answers"],
        "additionalProperties": False,
    }


def assessment_schema() -> dict[str, Any]:
    """The assessment document (``Assessment.model_dump_json()``): special-category personal data."""
    from .result import Assessment

    schema = Assessment.model_json_schema(mode="serialization")
    return {"$schema": ANSWERS_SCHEMA_DRAFT, "$id": "urn:invictus-rules:assessment:v1", **schema}


def ruleset_test_schema() -> dict[str, Any]:
    """A file of ruleset tests (``rulesets/<cc>/tests/*.yaml``), for editors' hover help and completion."""
    from .tools.testing import test_file_schema

    return test_file_schema()


def record_schema() -> dict[str, Any]:
    """The decision record (``Assessment.record()``): no answers; see README, "Audit trail"."""
    from .record import DecisionRecord

    schema = DecisionRecord.model_json_schema(mode="serialization")
    return {"$schema": ANSWERS_SCHEMA_DRAFT, "$id": "urn:invictus-rules:record:v1", **schema}


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "ruleset": ruleset_schema,
    "case": case_schema,
    "assessment": assessment_schema,
    "record": record_schema,
    "questionnaire": questionnaire_schema,
    "condition-tree": condition_tree_schema,
    "ruleset-test": ruleset_test_schema,
}
"""Every published schema by name; ``schema/<name>.schema.json`` holds each one."""
