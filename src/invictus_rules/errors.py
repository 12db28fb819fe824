"""Problems and the exception tree.

Every error the library raises on bad input is a record before it is a string: a `Problem` has a
stable ``code``, a ``message``, a ``hint`` and a ``location``. Loading or evaluating collects all
problems it can find and raises one exception carrying them, sorted by location.

Exception tree::

    InvictusError                  base of everything this library raises on bad input
    ├── RulesetError               a ruleset file cannot be loaded, validated or compiled
    ├── AnswersError               a case's answers do not fit the questionnaire
    ├── CaseError                  a case file is not readable JSON of the expected shape
    ├── BatchError                 a run over many cases stopped (e.g. a worker process died)
    ├── RulesetNotFoundError       no ruleset matches a country, version or date
    ├── record.RecordKeyError      a deployment key for records is too short
    ├── record.ReplayError         a record cannot be replayed: other answers, key or ruleset
    └── tools.workflow.WorkflowError  a version cannot be started or published

Messages never contain answer values: victims' answers are personal data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_PROBLEMS_SHOWN = 50

TreePath = tuple[str | int, ...]
"""Where a node sits in a ruleset document: the keys and list indexes from the root, e.g.
``("referrals", 3, "when")``. (Not a file path: those are ``pathlib.Path``.)"""


@dataclass(frozen=True, order=True)
class Location:
    """Where a problem is: a file and a 1-based line and column (0 when unknown)."""

    file: str = ""
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a ruleset or a case.

    ``path`` is the JSON-path-like position inside the document (``$.questions[3].ask_if``);
    ``source_line`` is the text of the offending line, when known, for a caret display.
    """

    code: str
    message: str
    hint: str = ""
    location: Location = field(default_factory=Location)
    path: str = ""
    severity: str = "error"
    source_line: str = ""
    span: int = 1

    def sort_key(self) -> tuple[Any, ...]:
        return (self.location.file, self.location.line, self.location.column, self.path, self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "path": self.path,
        }

    def __str__(self) -> str:
        where = str(self.location) or self.path or "<input>"
        if self.path and self.location.file and not self.location.line:
            where = f"{self.location.file}: {self.path}"
        text = f"{where}: {self.severity}[{self.code}]: {self.message}"
        if self.source_line and self.location.line:
            gutter = f"{self.location.line:>5} | "
            line, column, span = _window(self.source_line, max(self.location.column - 1, 0), max(self.span, 1))
            caret_pad = " " * (len(gutter) - 2) + "| " + " " * column
            text += f"\n{gutter}{line}\n{caret_pad}{'^' * span}"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


SHOWN_LINE = 160
"""Characters of a source line shown under a problem: a longer line is cut around the column."""


def _window(line: str, column: int, span: int) -> tuple[str, int, int]:
    """At most ``SHOWN_LINE`` characters of ``line`` around ``column`` (0-based), with '...' where it
    was cut, and the column and caret length within what is shown."""
    if len(line) <= SHOWN_LINE:
        return line, column, span
    start = max(0, min(column - SHOWN_LINE // 4, len(line) - SHOWN_LINE))
    shown = line[start : start + SHOWN_LINE]
    prefix = "..." if start else ""
    suffix = "..." if start + SHOWN_LINE < len(line) else ""
    column = column - start + len(prefix)
    return prefix + shown + suffix, column, max(1, min(span, SHOWN_LINE - (column - len(prefix))))


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in a stable order: by file, line, column, path, code."""
    return sorted(problems, key=Problem.sort_key)


def format_problems(problems: Iterable[Problem], limit: int = MAX_PROBLEMS_SHOWN) -> str:
    """Render problems like a compiler does, capped, with a one-line summary."""
    ordered = sort_problems(problems)
    shown = [str(problem) for problem in ordered[:limit]]
    if len(ordered) > limit:
        shown.append(f"... and {len(ordered) - limit} more")
    shown.append(summarise(ordered))
    return "\n".join(shown)


def summarise(problems: list[Problem]) -> str:
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    files = sorted({p.location.file for p in problems if p.location.file})
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    where = f" in {', '.join(files)}" if files else ""
    return (" and ".join(parts) or "no problems") + where


class InvictusError(Exception):
    """Base class of every error this library raises on bad input."""

    code = "invictus-error"

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = sort_problems(problems)
        super().__init__(format_problems(self.problems))

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "problems": [p.to_dict() for p in self.problems]}

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))  # so errors survive being sent between processes


class RulesetError(InvictusError):
    """A ruleset cannot be loaded, validated or compiled."""

    code = "invalid-ruleset"


class AnswersError(InvictusError):
    """A case's answers do not fit the ruleset's questionnaire. Values are never echoed."""

    code = "invalid-answers"


class CaseError(InvictusError):
    """A case file cannot be read: not JSON, or not an object with ``answers``."""

    code = "invalid-case"


class BatchError(InvictusError):
    """A run over many cases on several processes stopped: a worker died, or a case could not be sent."""

    code = "batch-failed"


class RulesetNotFoundError(InvictusError):
    """No ruleset matches the country, version or date asked for."""

    code = "ruleset-not-found"
