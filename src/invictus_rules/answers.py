"""Case answers -> validated ``Answers``, or one ``AnswersError`` listing every problem.

A case's answers are a JSON object keyed by question id. Each value is the answer, or one of the
markers ``{"status": "declined"}`` (the victim chose not to answer) and ``{"status": "unknown"}``
(the victim does not know). ``null`` means not answered yet. Problems name the question and the
kind of value expected, never the value sent: answers are personal data.

Validated ``Answers`` belong to the ruleset that checked them: only the checks here make them, each
stamping its :class:`CheckedBy` (the ruleset's name and digest) into the object, and ``Ruleset.decide``
(and everything built on it) refuses ``Answers`` stamped by another ruleset, or built by hand, with
one identity check on the hot path (see :func:`refuse_foreign`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import AnswersError, Location, Problem
from .model import Question
from .numbers import format_number
from .suggest import did_you_mean

DECLINED = "declined"
UNKNOWN = "unknown"
MAX_NUMBER = 10**15
"""The largest magnitude a number answer may have, bounds or not: conditions compute with it exactly."""

_ID_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def shown_key(key: object) -> str | None:
    """A key as it may be shown in a message: only when it looks like an id, since a key that does
    not is more likely a victim's data sent in the wrong place than a misspelt question id."""
    return key if isinstance(key, str) and _ID_LIKE.fullmatch(key) else None


@dataclass(frozen=True, slots=True)
class CheckedBy:
    """Who checked a set of answers: a ruleset's name (for messages) and content digest (for the check)."""

    name: str
    digest: str


@dataclass(frozen=True)
class Answers:
    """Validated answers: values by question id, and the questions declined or not known.

    Made by ``Ruleset.validate_answers`` and tied to that ruleset: a ruleset evaluates only
    ``Answers`` it (or a ruleset with the same content digest) checked. ``Answers`` built by hand
    carry no checker and are refused (``answers-not-validated``), as are answers checked by another
    ruleset or version (``answers-other-ruleset``). Equality compares the answers only.
    """

    values: Mapping[str, Any]
    declined: frozenset[str]
    unknown: frozenset[str]
    _checker: CheckedBy | None = field(default=None, init=False, repr=False, compare=False)


def _checked(values: Mapping[str, Any], declined: frozenset[str], unknown: frozenset[str], checker: CheckedBy | None) -> Answers:
    """Answers stamped with the checker that accepted them: the only way a stamp is set."""
    answers = Answers(values, declined, unknown)
    if checker is not None:
        object.__setattr__(answers, "_checker", checker)
    return answers


def refuse_foreign(answers: Answers, stamp: CheckedBy | None) -> None:
    """Raise AnswersError unless ``answers`` were checked by the ruleset ``stamp`` names (same digest).

    Callers test ``answers._checker is not stamp`` first, so the usual case costs one identity check;
    this settles the rest: the same content loaded twice is accepted, anything else refused.
    """
    own = answers._checker
    if own is not None and stamp is not None and own.digest == stamp.digest:
        return
    this = f"{stamp.name} (sha256 {stamp.digest[:12]})" if stamp is not None else "this ruleset"
    if own is None:
        problem = Problem(
            "answers-not-validated",
            f"these Answers were not checked by any ruleset (they were built by hand), so {this} cannot trust them",
            "pass the case's answers as a mapping, or check them first with this ruleset's validate_answers(...)",
        )
    else:
        problem = Problem(
            "answers-other-ruleset",
            f"these Answers were checked by {own.name} (sha256 {own.digest[:12]}), not by {this}",
            "check the case's answers again with this ruleset's validate_answers(...), or pass them as a mapping",
        )
    raise AnswersError([problem])


def validate_answers(
    answers: Any,
    questions: Mapping[str, Question],
    *,
    file: str = "",
    path_prefix: str = "$",
    checker: CheckedBy | None = None,
) -> Answers:
    """Check every answer against its question; raise AnswersError with all problems at once.

    The result is stamped with ``checker`` (the ruleset doing the check); without one it is not
    accepted by any ruleset's evaluation.
    """
    if not isinstance(answers, Mapping):
        raise AnswersError(
            [
                Problem(
                    "answers-not-object",
                    f"the answers must be an object keyed by question id, but {_kind(answers)} was given",
                    'send e.g. {"safe_to_talk": true, "crime_type": "assault"}',
                    Location(file),
                    path_prefix,
                )
            ]
        )
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    declined: set[str] = set()
    unknown: set[str] = set()
    positions = {key: number for number, key in enumerate(answers, 1)}
    for key in sorted(answers, key=str):
        raw = answers[key]
        question = questions.get(key) if isinstance(key, str) else None
        if question is None:
            shown = shown_key(key)
            hint = did_you_mean(shown, questions) if shown else ""
            problems.append(
                Problem(
                    "unknown-question",
                    f'"{shown}" is not a question of this ruleset'
                    if shown
                    else f"key number {positions[key]} is not a question id (it is not shown: it may hold the victim's data)",
                    hint or "remove it, or check the ruleset version the case was made with",
                    Location(file),
                    f"{path_prefix}.{shown}" if shown else f"{path_prefix}[key {positions[key]}]",
                )
            )
            continue
        path = f"{path_prefix}.{key}"
        if raw is None:
            continue
        if isinstance(raw, Mapping):
            status = raw.get("status") if set(raw) == {"status"} else None
            if status == DECLINED:
                declined.add(key)
                continue
            if status == UNKNOWN:
                unknown.add(key)
                continue
            problems.append(
                Problem(
                    "answer-marker",
                    f'the answer to "{key}" is an object, but the only objects allowed are {{"status": "declined"}} and {{"status": "unknown"}}',
                    "send the answer itself, or one of those two markers",
                    Location(file),
                    path,
                )
            )
            continue
        try:
            values[key] = _CONVERTERS[question.type](question, raw)
        except _Invalid as invalid:
            problems.append(
                Problem(
                    invalid.code,
                    f'the answer to "{key}" {invalid.expected}, but {invalid.given} was given',
                    invalid.hint + " (the value sent is not shown, to protect the victim's data)",
                    Location(file),
                    path,
                )
            )
    if problems:
        raise AnswersError(problems)
    return _checked(values, frozenset(declined), frozenset(unknown), checker)


class _Invalid(Exception):
    def __init__(self, code: str, expected: str, given: str, hint: str):
        self.code = code
        self.expected = expected
        self.given = given
        self.hint = hint


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number" if math.isfinite(value) else "a non-finite number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    if value is None:
        return "null"
    return "a value of another kind"


def _bounds_text(question: Question) -> str:
    low, high = question.min, question.max
    if low is not None and high is not None:
        return f" from {format_number(low)} to {format_number(high)}"
    if low is not None:
        return f" of at least {format_number(low)}"
    if high is not None:
        return f" of at most {format_number(high)}"
    return ""


def _boolean(question: Question, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise _Invalid("answer-type", "must be true or false", _kind(raw), f'send e.g. "{question.id}": true')
    return raw


def _number(question: Question, raw: object) -> int | float:
    integer = question.type == "integer"
    expected = f"must be a {'whole number' if integer else 'number'}{_bounds_text(question)}"
    example = f'send e.g. "{question.id}": {int(question.min) if question.min is not None else 3}'
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise _Invalid("answer-type", expected, _kind(raw), example)
    if isinstance(raw, float) and not math.isfinite(raw):
        raise _Invalid("answer-type", expected, "a non-finite number", example)
    if not -MAX_NUMBER <= raw <= MAX_NUMBER:
        raise _Invalid("answer-range", expected, f"a number beyond {MAX_NUMBER:,}", example)
    if integer and isinstance(raw, float):
        if not raw.is_integer():
            raise _Invalid("answer-type", expected, "a number with a fraction", example)
        raw = int(raw)
    if (question.min is not None and raw < question.min) or (question.max is not None and raw > question.max):
        raise _Invalid("answer-range", expected, "a number outside that range", example)
    return raw


def _options(question: Question) -> list[str]:
    return [option.value for option in question.options or ()]


def _single(question: Question, raw: Any) -> str:
    options = _options(question)
    expected = "must be one of its options"
    hint = f"options: {', '.join(options[:20])}"
    if not isinstance(raw, str):
        raise _Invalid("answer-type", expected, _kind(raw), hint)
    if raw not in options:
        raise _Invalid("answer-option", expected, "a value that is not an option", hint)
    return raw


def _multiple(question: Question, raw: Any) -> frozenset[str]:
    options = _options(question)
    expected = "must be a list of its options"
    hint = f"options: {', '.join(options[:20])}"
    if not isinstance(raw, (list, tuple)):
        raise _Invalid("answer-type", expected, _kind(raw), hint)
    if any(not isinstance(item, str) for item in raw):
        raise _Invalid("answer-type", expected, "a list holding something other than text", hint)
    if any(item not in options for item in raw):
        raise _Invalid("answer-option", expected, "a list with a value that is not an option", hint)
    if len(set(raw)) != len(raw):
        raise _Invalid("answer-duplicate", expected, "a list with a value twice", "list each option once")
    return frozenset(raw)


def _date(question: Question, raw: Any) -> dt.date:
    expected = "must be a date written YYYY-MM-DD"
    hint = f'send e.g. "{question.id}": "2026-03-14"'
    if not isinstance(raw, str):
        raise _Invalid("answer-type", expected, _kind(raw), hint)
    if not _DATE.fullmatch(raw):
        raise _Invalid("answer-format", expected, "text of another form", hint)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        pass  # raised below, outside this block: the ValueError names the text sent
    raise _Invalid("answer-format", expected, "text that is not a real date", hint)


def _text(question: Question, raw: Any) -> str:
    limit = question.max_length or 10_000
    expected = f"must be text of at most {limit} characters"
    if not isinstance(raw, str):
        raise _Invalid("answer-type", expected, _kind(raw), f'send e.g. "{question.id}": "..."')
    if len(raw) > limit:
        raise _Invalid("answer-length", expected, "longer text", "shorten it")
    return raw


_CONVERTERS = {
    "boolean": _boolean,
    "integer": _number,
    "number": _number,
    "single_choice": _single,
    "multiple_choice": _multiple,
    "date": _date,
    "text": _text,
}


class _Reject(Exception):
    """A fast check failed: the full check says why."""


_REJECT = _Reject()


def _fast_checker(question: Question) -> Callable[[Any], Any]:
    """A check for the common case, a valid answer: no message is built. It accepts exactly what
    the converters above accept (a property test holds them together); anything it rejects is
    checked again by them, for the message."""
    kind = question.type
    if kind == "boolean":

        def boolean(raw: Any) -> Any:
            if raw is True or raw is False:
                return raw
            raise _REJECT

        return boolean
    if kind in ("integer", "number"):
        low = question.min if question.min is not None else -MAX_NUMBER
        high = question.max if question.max is not None else MAX_NUMBER
        low, high = max(low, -MAX_NUMBER), min(high, MAX_NUMBER)
        integer = kind == "integer"

        def number(raw: Any) -> Any:
            kind_of = type(raw)
            if kind_of is float:
                if raw != raw or not low <= raw <= high:
                    raise _REJECT
                if integer:
                    if not raw.is_integer():
                        raise _REJECT
                    return int(raw)
                return raw
            if kind_of is int and low <= raw <= high:
                return raw
            raise _REJECT

        return number
    options = frozenset(option.value for option in question.options or ())
    if kind == "single_choice":

        def single(raw: Any) -> Any:
            if type(raw) is str and raw in options:
                return raw
            raise _REJECT

        return single
    if kind == "multiple_choice":

        def multiple(raw: Any) -> Any:
            if type(raw) in (list, tuple):
                chosen = frozenset(raw)
                if len(chosen) == len(raw) and all(type(item) is str for item in raw) and chosen <= options:
                    return chosen
            raise _REJECT

        return multiple
    if kind == "date":

        def date(raw: Any) -> Any:
            if type(raw) is str and _DATE.fullmatch(raw):
                try:
                    return dt.date.fromisoformat(raw)
                except ValueError:
                    pass
            raise _REJECT

        return date
    limit = question.max_length or 10_000

    def text(raw: Any) -> Any:
        if type(raw) is str and len(raw) <= limit:
            return raw
        raise _REJECT

    return text


class AnswerChecker:
    """A questionnaire prepared once for checking many cases' answers quickly."""

    def __init__(self, questions: Mapping[str, Question], stamp: CheckedBy | None = None):
        self.questions = questions
        self.stamp = stamp
        self.checks = {question_id: _fast_checker(question) for question_id, question in questions.items()}

    def validate(self, answers: Any, *, file: str = "", path_prefix: str = "$") -> Answers:
        """Like :func:`validate_answers`, quick when every answer is valid."""
        if type(answers) is not dict:
            return validate_answers(answers, self.questions, file=file, path_prefix=path_prefix, checker=self.stamp)
        checks = self.checks
        values: dict[str, Any] = {}
        declined: list[str] = []
        unknown: list[str] = []
        try:
            for key, raw in answers.items():
                if raw is None:
                    if key not in checks:
                        raise _REJECT
                    continue
                if type(raw) is dict:
                    status = raw.get("status") if len(raw) == 1 and key in checks else None
                    if status == DECLINED:
                        declined.append(key)
                    elif status == UNKNOWN:
                        unknown.append(key)
                    else:
                        raise _REJECT
                    continue
                values[key] = checks[key](raw)
        except (_Reject, KeyError, TypeError):
            rejected = True
        else:
            rejected = False
        if rejected:  # outside the except block, so the error does not carry the lookup that failed
            return validate_answers(answers, self.questions, file=file, path_prefix=path_prefix, checker=self.stamp)
        return _checked(values, frozenset(declined), frozenset(unknown), self.stamp)
