"""The compiled form of a ruleset: what ``compile`` builds and ``evaluate`` runs.

Plain frozen records, built once by :mod:`invictus_rules.compile` and read by the fast path,
evaluation, results and tools. Each keeps its source text and syntax tree beside the compiled
closure, for explanations, lint, diff and docs. This module holds types only: no checking and no
building, so every later stage can name them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from .expr.compile import Fn
from .expr.nodes import Node
from .model import Information, Metadata, Question, Referral, RulesetDocument, Safety, Score, Service
from .outcome import Outcome
from .safety import Defer
from .templates import CheckedText

FastDecide = Callable[[Any, frozenset[str], frozenset[str], dt.date], Outcome]
"""The generated decision function: (answers, declined, unknown, as of) -> Outcome."""


class FastPath(Protocol):
    """A ruleset's generated fast decision function (see :mod:`invictus_rules.fastpath`), built on first use."""

    question_ids: tuple[str, ...]

    def __call__(self, answers: Any, declined: frozenset[str], unknown: frozenset[str], as_of: dt.date) -> Outcome: ...

    def function(self) -> FastDecide:
        """The generated function itself, for callers that call it often."""
        ...

    def source(self) -> str:
        """The generated code, for reading and debugging."""
        ...


@dataclass(frozen=True)
class CompiledCondition:
    """A condition ready to run, with what explanations and tools need to know about it."""

    text: str
    node: Node
    fn: Fn = field(repr=False, compare=False)
    reads: tuple[str, ...]
    scores: tuple[str, ...]
    depends_on: tuple[str, ...] = ()
    compile_part: Callable[[Node], Fn] = field(default=lambda node: lambda env: False, repr=False, compare=False)
    """Compiles a sub-condition of ``node`` to its three-valued closure (for explanations: which open
    question can still decide it)."""


@dataclass(frozen=True)
class CompiledQuestion:
    spec: Question
    ask_if: CompiledCondition | None


@dataclass(frozen=True)
class CompiledItem:
    spec: Any
    condition: CompiledCondition


@dataclass(frozen=True)
class CompiledScore:
    spec: Score
    items: tuple[CompiledItem, ...]
    levels: tuple[tuple[str, CompiledCondition | None], ...]
    level_ids: tuple[str, ...]
    override_question: str | None
    depends_on: tuple[str, ...]

    @cached_property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.spec.id for item in self.items)

    @cached_property
    def level_specs(self) -> dict[str, Any]:
        return {level.id: level for level in self.spec.levels}


@dataclass(frozen=True)
class CompiledReferral:
    spec: Referral
    condition: CompiledCondition
    reason: dict[str, CheckedText] = field(repr=False, compare=False)
    action: dict[str, CheckedText] = field(repr=False, compare=False, default_factory=dict)


@dataclass(frozen=True)
class CompiledSafety:
    """The ruleset's safe-contact declaration: the condition, the channels question, the routes."""

    spec: Safety
    condition: CompiledCondition
    advice: dict[str, CheckedText] = field(repr=False, compare=False)


@dataclass(frozen=True)
class CompiledInformation:
    spec: Information
    condition: CompiledCondition
    title: dict[str, CheckedText] = field(repr=False, compare=False)
    body: dict[str, CheckedText] = field(repr=False, compare=False)


@dataclass(frozen=True)
class CompiledRuleset:
    """A ruleset compiled once, evaluated many times. Immutable and safe to share between threads."""

    document: RulesetDocument
    digest: str
    file: str
    """The name of the file it was read from, as messages show it ("<string>" for text)."""
    questions: tuple[CompiledQuestion, ...]
    ask_order: tuple[str, ...]
    scores: tuple[CompiledScore, ...]
    services: dict[str, Service]
    referrals: tuple[CompiledReferral, ...]
    information: tuple[CompiledInformation, ...]
    safety: CompiledSafety | None
    defer: Defer = field(repr=False, compare=False)
    fast: FastPath = field(repr=False, compare=False)
    trace_plan: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = field(repr=False, compare=False, default=())
    cache: dict[Any, Any] = field(repr=False, compare=False, default_factory=dict)
    """Values derived once per language on first use (the services as texts see them). Filling it
    twice from two threads at once writes the same value: no lock is needed."""

    @property
    def metadata(self) -> Metadata:
        return self.document.metadata

    @cached_property
    def question_by_id(self) -> dict[str, CompiledQuestion]:
        return {q.spec.id: q for q in self.questions}

    @cached_property
    def question_order(self) -> dict[str, int]:
        return {q.spec.id: index for index, q in enumerate(self.questions)}

    @cached_property
    def score_order(self) -> dict[str, int]:
        return {score.spec.id: index for index, score in enumerate(self.scores)}

    @cached_property
    def service_order(self) -> dict[str, int]:
        return {service_id: index for index, service_id in enumerate(self.services)}

    @cached_property
    def required_questions(self) -> frozenset[str]:
        return frozenset(q.spec.id for q in self.questions if q.spec.required)

    @property
    def question_ids(self) -> tuple[str, ...]:
        return self.fast.question_ids

    @property
    def question_index(self) -> dict[str, Question]:
        return {q.spec.id: q.spec for q in self.questions}


__all__ = [
    "CompiledCondition",
    "CompiledInformation",
    "CompiledItem",
    "CompiledQuestion",
    "CompiledReferral",
    "CompiledRuleset",
    "CompiledSafety",
    "CompiledScore",
    "FastDecide",
    "FastPath",
]
