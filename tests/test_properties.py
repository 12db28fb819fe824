"""Properties over every shipped ruleset and the fixture: no crash, determinism, monotonic risk."""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invictus_rules import AnswersError, Assessment, Ruleset, load_ruleset
from invictus_rules.api import decide_outcome
from invictus_rules.expr.nodes import Name
from invictus_rules.load import list_countries, list_versions

from .conftest import FIXTURES
from .strategies import any_answers, examples, valid_answer, valid_answers

AS_OF = dt.date(2026, 3, 1)


def _rulesets() -> list[Ruleset]:
    found = [load_ruleset(FIXTURES / "mini.yaml"), load_ruleset(FIXTURES / "safety.yaml")]
    for country in list_countries():
        for version in list_versions(country):
            found.append(load_ruleset(version.path))
    return found


RULESETS = _rulesets()
IDS = [f"{r.country}@{r.version}" for r in RULESETS]
PROPERTY = examples(60, 1000)
FAST_PATH_TAKEN: Counter[str] = Counter()


@pytest.mark.parametrize("ruleset", RULESETS, ids=IDS)
@PROPERTY
@given(data=st.data())
def test_evaluate_returns_an_assessment_or_the_answers_error(ruleset, data):
    """For any answers dict, evaluate returns an Assessment or raises AnswersError: nothing else."""
    answers = data.draw(any_answers(ruleset))
    try:
        result = ruleset.evaluate(answers, as_of=AS_OF)
    except AnswersError as error:
        assert error.problems
    else:
        assert isinstance(result, Assessment)


@pytest.mark.parametrize("ruleset", RULESETS, ids=IDS)
@PROPERTY
@given(data=st.data())
def test_valid_answers_never_fail_and_are_deterministic(ruleset, data):
    """Validated answers always evaluate; the result does not depend on dict order; input untouched."""
    answers = data.draw(valid_answers(ruleset))
    language = data.draw(st.sampled_from(ruleset.languages))
    before = copy.deepcopy(answers)
    first = ruleset.evaluate(answers, as_of=AS_OF, language=language).model_dump_json()
    shuffled = dict(data.draw(st.permutations(list(answers.items()))))
    assert ruleset.evaluate(shuffled, as_of=AS_OF, language=language).model_dump_json() == first
    assert answers == before


def _indicator_questions(ruleset: Ruleset) -> list[tuple[str, str]]:
    """(score, question) for positively weighted items that are a bare yes/no question."""
    pairs = []
    for score in ruleset.compiled.scores:
        for item in score.items:
            if isinstance(item.condition.node, Name) and item.spec.points > 0:
                pairs.append((score.spec.id, item.condition.node.id))
    return pairs


def _ranks(ruleset: Ruleset, answers: dict, score_id: str) -> tuple[int, int]:
    outcome = decide_outcome(ruleset, answers, as_of=AS_OF)
    index = [s.spec.id for s in ruleset.compiled.scores].index(score_id)
    level = outcome.scores[index].level
    return level if level is not None else (-1, -1)


@pytest.mark.parametrize("ruleset", [r for r in RULESETS if _indicator_questions(r)], ids=[i for r, i in zip(RULESETS, IDS, strict=True) if _indicator_questions(r)])
@PROPERTY
@given(data=st.data())
def test_a_yes_never_lowers_a_risk_level(ruleset, data):
    """Answering yes to a positively weighted indicator never lowers the level, compared with no,
    declined or unknown; declined or unknown never give a lower level than no."""
    score_id, question = data.draw(st.sampled_from(_indicator_questions(ruleset)))
    answers = data.draw(valid_answers(ruleset))
    with_yes = _ranks(ruleset, {**answers, question: True}, score_id)
    with_no = _ranks(ruleset, {**answers, question: False}, score_id)
    declined = _ranks(ruleset, {**answers, question: {"status": "declined"}}, score_id)
    unknown = _ranks(ruleset, {**answers, question: {"status": "unknown"}}, score_id)
    for other in (with_no, declined, unknown):
        assert with_yes[0] >= other[0] and with_yes[1] >= other[1]
    for other in (declined, unknown):
        assert other[0] >= with_no[0] and other[1] >= with_no[1]


@pytest.mark.parametrize("ruleset", RULESETS, ids=IDS)
@PROPERTY
@given(data=st.data())
def test_fast_path_agrees_with_three_valued_path(ruleset, data):
    """Where the generated fast path applies, it decides exactly what the three-valued path decides.

    A complete case (every question answered) must take the fast path; a case with a few answers
    left out may. Every case that takes it is counted, and the next test checks the count, so that
    this property cannot pass without comparing anything."""
    from invictus_rules.evaluate import evaluate_three_valued
    from invictus_rules.fastpath import NeedsThreeValued

    complete = {q.id: data.draw(st.sampled_from([True, False]) if q.type == "boolean" else valid_answer(q)) for q in ruleset.questions}
    dropped = data.draw(st.lists(st.sampled_from(sorted(complete)), max_size=3, unique=True))
    for case in (complete, {k: v for k, v in complete.items() if k not in dropped}):
        answers = ruleset.validate_answers(case)
        slow = evaluate_three_valued(ruleset.compiled, answers, AS_OF)
        try:
            fast = ruleset.compiled.fast(answers.values, answers.declined, answers.unknown, AS_OF)
        except NeedsThreeValued:
            assert case is not complete, "a complete case did not take the fast path"
            continue
        FAST_PATH_TAKEN[f"{ruleset.country}@{ruleset.version}"] += 1
        assert fast == slow
        assert decide_outcome(ruleset, case, as_of=AS_OF) == slow  # the answer check fused into the generated code


def test_the_fast_path_property_compared_cases_on_every_ruleset():
    """The property above took the fast path (and compared) at least once per example on every ruleset."""
    if not FAST_PATH_TAKEN:
        pytest.skip("run with the fast-path property above (same file)")
    minimum = PROPERTY.max_examples
    assert {name: FAST_PATH_TAKEN[name] for name in IDS if FAST_PATH_TAKEN[name] < minimum} == {}
