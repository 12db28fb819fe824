"""The public API as a host application sees it, checked by ``mypy --strict`` (never run by pytest).

Each line uses a name from ``invictus_rules.__all__`` the way the README shows and asserts the type
mypy infers, so a change that loses or widens a public type fails the type check rather than a
host's build. Run: ``mypy --strict src/invictus_rules tests/typing``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any, assert_type

import invictus_rules
from invictus_rules import (
    Answers,
    AnswersError,
    Assessment,
    DecisionRecord,
    Decisions,
    InformationResult,
    InvictusError,
    Location,
    PendingResult,
    Problem,
    Question,
    ReferralResult,
    Registry,
    Ruleset,
    RulesetError,
    RulesetNotFoundError,
    RulesetRef,
    ScoreDecision,
    ScoreResult,
    Trace,
    VersionInfo,
    engine_build,
    json_schema,
    load_ruleset,
    load_ruleset_text,
)


def host_assesses_a_case(answers: dict[str, Any]) -> None:
    """Load, validate, decide, evaluate and serialise, as a host does for one case."""
    ruleset = load_ruleset("nl", as_of=dt.date(2026, 12, 7))
    assert_type(ruleset, Ruleset)
    assert_type(ruleset.id, str)
    assert_type(ruleset.country, str)
    assert_type(ruleset.version, str)
    assert_type(ruleset.sha256, str)
    assert_type(ruleset.languages, list[str])
    assert_type(ruleset.questions, list[Question])
    assert_type(ruleset.ref, RulesetRef)

    validated = ruleset.validate_answers(answers)
    assert_type(validated, Answers)
    decisions = ruleset.decide(validated)
    assert_type(decisions, Decisions)
    assert_type(ruleset.decide(answers, as_of="2026-12-07"), Decisions)
    assert_type(decisions.levels, Mapping[str, str | None])
    assert_type(decisions.scores, Mapping[str, ScoreDecision])
    assert_type(decisions.scores["dv_risk"].points, tuple[float, float])
    assert_type(decisions.referrals, tuple[str, ...])
    assert_type(decisions.services, tuple[str, ...])
    assert_type(decisions.information, tuple[str, ...])
    assert_type(decisions.pending, tuple[str, ...])
    assert_type(decisions.deferred, Mapping[str, str])
    assert_type(decisions.next_questions, tuple[str, ...])
    assert_type(decisions.safe, bool | None)
    assert_type(decisions.to_dict(), dict[str, Any])
    assert_type(decisions.to_json(), str)

    assessment = ruleset.evaluate(answers, as_of=dt.date(2026, 12, 7), language="en", trace=True)
    assert_type(assessment, Assessment)
    assert_type(assessment.model_dump_json(), str)
    assert_type(assessment.complete, bool)
    assert_type(assessment.scores, list[ScoreResult])
    assert_type(assessment.referrals, list[ReferralResult])
    assert_type(assessment.information, list[InformationResult])
    assert_type(assessment.pending, list[PendingResult])
    assert_type(assessment.next_questions, list[str])
    assert_type(assessment.trace, Trace | None)
    for score in assessment.scores:
        assert_type(score.level, str | None)
        assert_type(score.points, float | None)
    assert_type(ruleset.trace(answers), Trace)
    assert_type(ruleset.next_questions(answers), list[Question])
    assert_type(ruleset.questionnaire(), dict[str, Any])
    assert_type(ruleset.answers_schema(), dict[str, Any])
    assert_type(ruleset.evaluate_many([answers]), Iterator[Assessment | AnswersError])


def host_reports_problems(text: str) -> None:
    """Errors are records: codes, messages and locations a host can show or log."""
    try:
        ruleset = load_ruleset_text(text, file="upload.yaml")
    except RulesetError as error:
        assert_type(error.problems, list[Problem])
        for problem in error.problems:
            assert_type(problem.code, str)
            assert_type(problem.message, str)
            assert_type(problem.location, Location)
            assert_type(problem.location.line, int)
        assert_type(error.to_dict(), dict[str, Any])
        return
    try:
        ruleset.validate_answers({"age": "unknown"})
    except AnswersError as error:
        assert_type(error.problems, list[Problem])
    except InvictusError:
        pass


def host_uses_a_registry(folder: str) -> None:
    """A deployment's own rulesets folder: versions listed without compiling, versions by date."""
    registry = Registry(folder, max_compiled=4)
    assert_type(registry.countries(), list[str])
    for info in registry.versions("nl"):
        assert_type(info, VersionInfo)
        assert_type(info.effective_from, dt.date | None)
    assert_type(registry.in_force("nl", dt.date(2026, 12, 7)), VersionInfo)
    with contextlib.suppress(RulesetNotFoundError):
        assert_type(registry.get("nl", version="2026.1"), Ruleset)


def host_keeps_records(ruleset: Ruleset, answers: dict[str, Any], record: DecisionRecord) -> None:
    """Decision records, the engine build and the format schema are typed too."""
    assert_type(engine_build(), str)
    assert_type(json_schema(), dict[str, object])
    assert_type(invictus_rules.__version__, str)
    ruleset.replay(record, answers)
