"""Which unanswered questions can still decide an undecided rule: an exact method of the engine's own.

No solver: the rule's own three-valued closures are run on its sub-conditions. A sub-condition whose
result is already decided can no longer change anything, so an undecided ``a or (b and c)`` with
``b`` false waits for ``a`` only. For ``and``, ``or`` and ``not`` this is exact. An undecided
comparison or function call waits for every open question it reads; through a score, for the open
questions of its undecided indicators and levels and its professional override question (which can
raise the level); through a question
whose ``ask_if`` is undecided, for the open questions that decide the ``ask_if`` too.

A question is *open* when it has no answer, no "declined" and no "don't know", and it is asked, or may
still be asked: its ``ask_if`` is undecided and open questions can decide it. A question gated only by
declined or unknown answers is not open: it will not be asked. A rule with no open question left is
*undecidable* (by the victim's choice), not pending.
"""

from __future__ import annotations

from collections.abc import Callable

from .compiled import CompiledCondition, CompiledRuleset
from .expr.compile import Env, make_number
from .expr.nodes import BoolOp, Call, Name, Node, Not, walk
from .outcome import Outcome, level_value

_SCORE_FUNCTIONS = frozenset({"score", "critical", "level"})


class OpenQuestions:
    """The open questions of one outcome, and which of them can decide a given condition."""

    def __init__(self, ruleset: CompiledRuleset, outcome: Outcome):
        self.ruleset = ruleset
        self.outcome = outcome
        self.env = _env(ruleset, outcome)
        self.by_score: dict[str, set[str]] = {}
        self.by_question: dict[str, set[str]] = {}
        self.open: dict[str, bool] = {}
        asked = dict(zip(ruleset.question_ids, outcome.asked, strict=True))
        without_answer = outcome.declined | outcome.unknown
        for question_id in ruleset.ask_order:
            question = ruleset.question_by_id[question_id]
            no_answer = outcome.values.get(question_id) is None and question_id not in without_answer
            gate = question.ask_if
            self.open[question_id] = no_answer and (
                asked[question_id] is True or (asked[question_id] is None and gate is not None and bool(self._undecided(gate)))
            )

    def deciding(self, condition: CompiledCondition) -> tuple[str, ...]:
        """The open questions that can still change an undecided condition's result, in questionnaire order."""
        order = self.ruleset.question_order
        return tuple(sorted(self._undecided(condition), key=order.__getitem__))

    def for_score(self, score_id: str) -> tuple[str, ...]:
        """The open questions that can still change a score's points or level, in questionnaire order."""
        order = self.ruleset.question_order
        return tuple(sorted(self.score(score_id), key=order.__getitem__))

    def _undecided(self, condition: CompiledCondition) -> set[str]:
        key = ("relevance", id(condition))
        plan = self.ruleset.cache.get(key)
        if plan is None:
            plan = self.ruleset.cache[key] = _plan(condition, condition.node)
        return plan(self)

    def _if_undecided(self, condition: CompiledCondition) -> set[str]:
        return self._undecided(condition) if condition.fn(self.env) is None else set()

    def question(self, question_id: str) -> set[str]:
        """An open question and the open questions that decide whether it is asked."""
        if not self.open.get(question_id):
            return set()
        found = self.by_question.get(question_id)
        if found is None:
            gate = self.ruleset.question_by_id[question_id].ask_if
            found = self.by_question[question_id] = {question_id} | (self._if_undecided(gate) if gate is not None else set())
        return found

    def score(self, score_id: str) -> set[str]:
        """The open questions behind a score's undecided indicators and levels, and its override question."""
        found = self.by_score.get(score_id)
        if found is not None:
            return found
        self.by_score[score_id] = found = set()  # a level reading its own score adds nothing new
        index = self.ruleset.score_order[score_id]
        compiled, result = self.ruleset.scores[index], self.outcome.scores[index]
        for item, item_result in zip(compiled.items, result.items, strict=True):
            if item_result is None:
                found |= self._undecided(item.condition)
        for (_, condition), level_result in zip(compiled.levels, result.levels, strict=True):
            if condition is not None and level_result is None:
                found |= self._undecided(condition)
        if compiled.override_question is not None:
            found |= self.question(compiled.override_question)
        return found


Plan = Callable[[OpenQuestions], set[str]]


def _plan(condition: CompiledCondition, node: Node) -> Plan:
    """What to look at when ``node`` is undecided, prepared once per condition: for and/or, the
    operands still undecided; for a comparison or call, the questions and scores it reads."""
    if isinstance(node, BoolOp):
        operands = tuple((condition.compile_part(operand), _plan(condition, operand)) for operand in node.operands)

        def boolean(finder: OpenQuestions) -> set[str]:
            found: set[str] = set()
            for fn, plan in operands:
                if fn(finder.env) is None:
                    found |= plan(finder)
            return found

        return boolean
    if isinstance(node, Not):
        return _plan(condition, node.operand)
    questions, scores = _leaf_reads(node)

    def leaf(finder: OpenQuestions) -> set[str]:
        found: set[str] = set()
        for question_id in questions:
            found |= finder.question(question_id)
        for score_id in scores:
            found |= finder.score(score_id)
        return found

    return leaf


def _leaf_reads(node: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The question ids and the score ids a comparison or call reads (nodes are immutable and hashable)."""
    questions: list[str] = []
    scores: list[str] = []
    score_names: set[int] = set()
    for current in walk(node):  # parents first: a score function is seen before its argument
        if isinstance(current, Call) and current.function in _SCORE_FUNCTIONS:
            score_names.add(id(current.args[0]))
            scores.append(current.args[0].id)  # type: ignore[union-attr]
        elif isinstance(current, Name) and id(current) not in score_names:
            questions.append(current.id)
    return tuple(dict.fromkeys(questions)), tuple(dict.fromkeys(scores))


def _env(ruleset: CompiledRuleset, outcome: Outcome) -> Env:
    """What the conditions read for this outcome: the answers (ABSENT when not asked) and the scores."""
    env = Env(outcome.values if isinstance(outcome.values, dict) else dict(outcome.values), outcome.declined, outcome.as_of)
    for compiled, result in zip(ruleset.scores, outcome.scores, strict=True):
        score_id = compiled.spec.id
        env.scores[score_id] = make_number(*result.points)
        env.criticals[score_id] = make_number(*result.critical)
        env.levels[score_id] = level_value(result)
    return env


__all__ = ["OpenQuestions"]
