"""Read case files: JSON objects ``{"case_id": ..., "as_of": ..., "language": ..., "answers": {...}}``.

Only ``answers`` is required. Parsing is strict (no duplicate keys, no NaN or infinite numbers) and
errors say where the JSON is wrong without quoting it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterator, TypeVar

import pydantic

from .answers import shown_key
from .errors import CaseError, Location, Problem

MAX_CASE_BYTES = 5 * 1024 * 1024
CASE_KEYS = frozenset({"case_id", "as_of", "language", "answers"})
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Case:
    """One case as read from a file: answers plus optional id, date and language."""

    answers: dict[str, Any]
    case_id: str | None = None
    as_of: dt.date | None = None
    language: str | None = None
    file: str = field(default="", compare=False)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("a number is too large")
    return number


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            shown = shown_key(key)
            raise ValueError(f'the key "{shown}" appears twice' if shown else "a key appears twice in the same object")
        result[key] = value
    return result


def parse_json(data: bytes | str, file: str) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity; errors give line and column only.

    Every CaseError is raised outside the ``except`` block that found the problem, so that neither
    its ``__context__`` nor its ``__cause__`` holds the decoder's exception, which carries the whole
    case text (``JSONDecodeError.doc``, ``UnicodeDecodeError.object``)."""
    if len(data) > MAX_CASE_BYTES:
        raise CaseError([Problem("case-too-large", f"the case is larger than {MAX_CASE_BYTES:,} bytes", "send one case per file", Location(file))])
    problem: Problem | None = None
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            problem = Problem("case-encoding", "the case is not valid UTF-8 text", "save or send it as UTF-8 JSON", Location(file))
    else:
        text = data
    if problem is None:
        try:
            return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant, parse_float=_finite_float)
        except json.JSONDecodeError as exc:
            problem = Problem("case-json", f"the case is not valid JSON: {exc.msg}", "check commas, quotes and brackets", Location(file, exc.lineno, exc.colno))
        except (ValueError, RecursionError) as exc:
            reason = str(exc)
            readable = ("appears twice", "not allowed", "too large")
            message = reason if any(part in reason for part in readable) else "a value cannot be read"
            problem = Problem("case-json", f"the case is not valid JSON: {message}", "send plain JSON values", Location(file))
    raise CaseError([problem])


def case_from_data(data: Any, file: str) -> Case:
    """Check a parsed case object's shape."""
    if not isinstance(data, dict) or "answers" not in data:
        raise CaseError(
            [
                Problem(
                    "case-shape",
                    'a case must be a JSON object with an "answers" object',
                    'e.g. {"case_id": "c-1", "answers": {"safe_to_talk": true}}',
                    Location(file),
                    "$",
                )
            ]
        )
    problems = []
    unknown = sorted(set(data) - CASE_KEYS)
    for number, key in enumerate(unknown, 1):
        shown = shown_key(key)
        message = f'"{shown}" is not a key of a case' if shown else "a key that is not a key of a case was sent (it is not shown: it may hold the victim's data)"
        problems.append(Problem("case-key", message, f"a case has {', '.join(sorted(CASE_KEYS))}", Location(file), f"$.{shown}" if shown else f"$[unknown key {number}]"))
    as_of = None
    if data.get("as_of") is not None:
        try:
            as_of = dt.date.fromisoformat(data["as_of"]) if isinstance(data["as_of"], str) and _DATE.fullmatch(data["as_of"]) else None
        except ValueError:
            as_of = None
        if as_of is None:
            problems.append(Problem("case-date", "as_of must be a date written YYYY-MM-DD", 'e.g. "as_of": "2026-03-01"', Location(file), "$.as_of"))
    for key in ("case_id", "language"):
        if data.get(key) is not None and not isinstance(data[key], str):
            problems.append(Problem("case-key", f"{key} must be text", "", Location(file), f"$.{key}"))
    if not isinstance(data["answers"], dict):
        problems.append(Problem("answers-not-object", "answers must be an object keyed by question id", "", Location(file), "$.answers"))
    if problems:
        raise CaseError(problems)
    return Case(answers=data["answers"], case_id=data.get("case_id"), as_of=as_of, language=data.get("language"), file=file)


def read_case(source: str | Path, stdin: IO[bytes] | None = None) -> Case:
    """Read one case from a file path, or from ``stdin`` when the path is '-'."""
    if str(source) == "-":
        assert stdin is not None
        data = stdin.read(MAX_CASE_BYTES + 1)
        file = "<stdin>"
    else:
        file = str(source)
        try:
            with open(source, "rb") as handle:
                data = handle.read(MAX_CASE_BYTES + 1)
        except OSError as exc:
            raise CaseError([Problem("case-not-readable", f"cannot read the case file: {exc.strerror or exc}", "check the path", Location(file))]) from None
    return case_from_data(parse_json(data, file), file)


def iter_cases(path: Path) -> Iterator[Case]:
    """Cases from a folder of JSON files (sorted by name) or a JSON Lines file, one at a time; each
    line is read up to the size limit of a case (a file with no line ends, such as /dev/zero, stops
    there with an error instead of filling the memory)."""
    if path.is_dir():
        for child in sorted(path.glob("*.json")):
            yield read_case(child)
        return
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise CaseError([Problem("case-not-readable", f"cannot read the cases: {exc.strerror or type(exc).__name__}", "give a folder of case JSON files or a JSON Lines file", Location(str(path)))]) from None
    with handle:
        for number in itertools.count(1):
            line = handle.readline(MAX_CASE_BYTES + 1)
            if not line:
                return
            if len(line) > MAX_CASE_BYTES:
                raise CaseError([Problem("case-too-large", f"line {number} is longer than {MAX_CASE_BYTES:,} bytes", "write one case per line", Location(str(path), number, 1))])
            if line.strip():
                yield case_from_data(parse_json(line, f"{path}:{number}"), f"{path}:{number}")


def read_limited(source: str | Path, limit: int, what: str = "file") -> bytes:
    """At most ``limit`` bytes of a file (one more shows that it is longer), or a CaseError."""
    try:
        with open(source, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise CaseError([Problem("file-not-readable", f"cannot read the {what}: {exc.strerror or type(exc).__name__}", "check the path", Location(str(source)))]) from None
    if len(data) > limit:
        raise CaseError([Problem("file-too-large", f"the {what} is larger than {limit:,} bytes", "check that this is the right file", Location(str(source)))])
    return data


_ERROR_KINDS = {"missing": "missing", "extra_forbidden": "not expected there"}
M = TypeVar("M", bound=pydantic.BaseModel)


def validate_model(model: type[M], data: Any, file: str, code: str, what: str, hint: str) -> M:
    """``data`` as ``model``, or a CaseError counting what is wrong. A tampered file may carry anything
    in its keys and values, so neither is named; pydantic's error, which holds the whole input, is
    not chained (the CaseError is raised outside the ``except`` block)."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
    kinds = sorted({_ERROR_KINDS.get(error["type"], "of the wrong type or form") for error in errors})
    count = len(errors)
    raise CaseError(
        [
            Problem(
                code,
                f"the file is not {what} made by invictus-rules: {count} field{'s' if count != 1 else ''} {'is' if count == 1 else 'are'} {' or '.join(kinds)}",
                hint,
                Location(file),
            )
        ]
    )
