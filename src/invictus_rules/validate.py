"""Raw ruleset data -> validated document: the schema check, with every problem positioned.

The models of :mod:`invictus_rules.model` check the structure; this module turns pydantic's
errors into :class:`Problem` records that point at the file, line and column of the offending key
or value (through the :class:`SourceMap` that ``_yaml`` kept), with a hint, and a did-you-mean for
an unknown key or value. All problems are reported at once. It reads no files: :mod:`invictus_rules.load`
gives it the data.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pydantic

from ._yaml import SourceMap
from .errors import Problem, RulesetError
from .expr.check import did_you_mean
from .model import RulesetDocument


def validate_document(raw: dict[str, Any], source: SourceMap) -> RulesetDocument:
    """The validated document, or a RulesetError with the reader's problems and every schema problem."""
    try:
        return RulesetDocument.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise RulesetError(source.problems + _translate(exc, raw, source)) from None


_UNION_TAGS = re.compile(r"^(str|bool|int|float|list|list\[.*\]|dict|AllCondition|AnyCondition|NotCondition|function-.*|union.*|literal.*|tagged-union.*)$")


def _translate(exc: pydantic.ValidationError, raw: Any, source: SourceMap) -> list[Problem]:
    problems: dict[tuple[Any, ...], Problem] = {}
    for error in exc.errors(include_url=False, include_input=False):
        path, consumed_all = _real_path(raw, error["loc"])
        key = (path, error["type"] if consumed_all else "union")
        if not consumed_all and path in {k[0] for k in problems}:
            continue
        problem = _problem(error, path, consumed_all, raw, source)
        problems.setdefault(key, problem)
    by_path: dict[tuple[Any, ...], Problem] = {}
    for (path, _), problem in problems.items():
        by_path.setdefault((path, problem.code, problem.message), problem)
    return list(by_path.values())


def _real_path(raw: Any, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], bool]:
    """Drop union tags from pydantic's location, keeping the keys that exist in the data."""
    path: list[Any] = []
    node = raw
    consumed_all = True
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and (part in node or not _UNION_TAGS.match(part)):
            path.append(part)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and _UNION_TAGS.match(part):
            consumed_all = False
            continue
        else:
            path.append(part)
            node = None
    return tuple(path), consumed_all


def _fields_at(path: tuple[Any, ...]) -> list[str]:
    model: Any = RulesetDocument
    for part in path:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        model = next((t for t in _flatten(inner) if hasattr(t, "model_fields")), None)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def _flatten(types: Any) -> list[Any]:
    found = []
    for item in types:
        args = getattr(item, "__args__", None)
        found.extend(_flatten(args) if args else [item])
    return found


def _problem(error: Any, path: tuple[Any, ...], consumed_all: bool, raw: Any, source: SourceMap) -> Problem:
    kind = error["type"]
    where = ".".join(str(p) for p in path)
    if not consumed_all and ("when" in path or "ask_if" in path or "all" in path or "any" in path or "not" in path):
        return source.problem(
            path,
            "condition-shape",
            "a condition must be text, true/false, or a mapping with one of all:, any:, not:",
            'e.g. when: crime_type == "stalking"   or   when: {any: [strangulation, threat_to_kill]}',
        )
    if kind == "extra_forbidden":
        name = str(path[-1])
        allowed = _fields_at(path[:-1])
        hint = did_you_mean(name, allowed) or (f"allowed keys here: {', '.join(allowed)}" if allowed else "remove it")
        return source.problem(path, "unknown-key", f"'{name}' is not a known key here", hint, key=True)
    if kind == "missing":
        name = str(path[-1])
        return source.problem(path[:-1], "missing-key", f"'{name}' is required here", f"add '{name}:'", key=False)
    if kind == "string_pattern_mismatch":
        name = str(path[-1]) if path else ""
        hint = {
            "version": 'write a calendar version in quotes, e.g. "2026.1"',
            "country": "use a two-letter lower-case country code, e.g. nl",
            "url": "write the full address starting with https://",
        }.get(name, "ids use lower-case letters a-z, digits and '_', starting with a letter, e.g. safe_to_talk")
        value = _value_at(raw, path)
        odd = _odd_character(value) if name not in ("version", "country", "url") and isinstance(value, str) else None
        if odd is not None:
            index, what = odd
            return source.problem(path, "invalid-value", f'the id "{value[:64]}" at \'{where}\' contains {what}', hint, offset=index)
        return source.problem(path, "invalid-value", f"the value of '{where}' does not have the expected form", hint)
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        options = re.findall(r"'([^']*)'", expected)
        value = _value_at(raw, path)
        hint = did_you_mean(str(value), options) if isinstance(value, str) else ""
        return source.problem(path, "invalid-value", f"'{where}' must be one of {expected}", hint or "choose one of the listed values")
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    hint = {
        "date_from_datetime_parsing": "write dates as YYYY-MM-DD",
        "date_parsing": "write dates as YYYY-MM-DD",
        "date_type": "write dates as YYYY-MM-DD",
        "dict_type": "write a mapping of language code to text, e.g. {nl: ..., en: ...}" if path and path[-1] in ("text", "label", "title", "name", "body", "reason", "help", "description", "hours") else "write a mapping (key: value lines)",
        "list_type": "write a list (lines starting with '- ')",
        "string_type": "put the value in quotes",
        "bool_type": "write true or false (yes, no, on and off are text in rulesets)",
        "bool_parsing": "write true or false (yes, no, on and off are text in rulesets)",
        "int_type": "write a number without quotes",
        "float_type": "write a number without quotes",
        "too_short": "add at least one entry",
    }.get(kind, "")
    return source.problem(path, "invalid-value", f"'{where}': {message[0].lower() + message[1:]}", hint)


def _odd_character(value: str) -> tuple[int, str] | None:
    """The first character an id cannot hold, described so that look-alikes (Cyrillic 'а') are visible."""
    for index, char in enumerate(value):
        if not ("a" <= char <= "z" or "0" <= char <= "9" or char == "_"):
            if char.isascii():
                kind = "an upper-case letter" if char.isupper() else "a character"
                return index, f"{kind} '{char}'"
            name = unicodedata.name(char, "unnamed character")
            return index, f"'{char}' (U+{ord(char):04X} {name}, not a plain a-z letter)"
    return None


def _value_at(raw: Any, path: tuple[Any, ...]) -> Any:
    node = raw
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


__all__ = ["validate_document"]
