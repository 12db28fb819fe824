"""The condition language: parser, type checker, three-valued compiled logic."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from invictus_rules.expr.check import Catalogue, QuestionInfo, check
from invictus_rules.expr.compile import compile_condition
from invictus_rules.expr.nodes import unparse
from invictus_rules.expr.parser import MAX_DEPTH, MAX_LENGTH, ExprSyntaxError, parse
from invictus_rules.expr.values import ABSENT, Env, Interval, age_in_years

CATALOGUE = Catalogue(
    questions={
        "crime_type": QuestionInfo("crime_type", "single_choice", ("domestic_violence", "stalking", "robbery")),
        "age": QuestionInfo("age", "integer"),
        "a": QuestionInfo("a", "boolean"),
        "b": QuestionInfo("b", "boolean"),
        "household": QuestionInfo("household", "multiple_choice", ("children", "partner")),
        "crime_date": QuestionInfo("crime_date", "date"),
        "notes": QuestionInfo("notes", "text"),
    },
    scores={"risk": ("low", "medium", "high")},
    visible_scores=frozenset({"risk"}),
)
LEVELS = {"risk": {"low": 0, "medium": 1, "high": 2}}


def run(text: str, values: dict, *, scores=None, levels=None, declined=frozenset(), as_of=dt.date(2026, 3, 1)):
    checked = check(parse(text), CATALOGUE)
    assert not checked.problems, checked.problems
    fn = compile_condition(checked.node, checked.types, LEVELS)
    env = Env(values, frozenset(declined), as_of)
    env.scores.update(scores or {})
    env.levels.update(levels or {})
    return fn(env)


def problems(text: str) -> list[tuple[str, str]]:
    return [(p.code, p.hint) for p in check(parse(text), CATALOGUE).problems]


# -- parser --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'crime_type in ["domestic_violence", "stalking"] and level(risk) == "high"',
        "not a or b and a",
        "a and (b or a) and not b",
        "score(risk) - 2 * 3 >= -4",
        "crime_date < 2025-06-01",
        'count(a, b, age > 3) >= 2 and "children" in household',
    ],
)
def test_unparse_round_trips(text):
    """Canonical text parses back to the same tree."""
    tree = parse(text)
    assert parse(unparse(tree)) == tree


def test_layout_and_quotes_do_not_change_the_tree():
    """Whitespace, quote style and redundant parentheses are not meaning."""
    assert parse("(a  and b)") == parse("a and b")
    assert parse("crime_type == 'robbery'") == parse('crime_type == "robbery"')
    assert parse("a and (b and a)") == parse("a and b and a")


@pytest.mark.parametrize(
    "text, start, message",
    [
        ("a = 1", 2, "'=' alone"),
        ("a and", 5, "expected a value"),
        ("1 < age < 3", 8, "cannot be chained"),
        ("x.y", 1, "attribute access"),
        ("(a", 2, "expected ')'"),
        ('"abc', 0, "not closed"),
        ("a b", 2, "expected the end"),
        ("", 0, "empty"),
        ("a $ b", 2, "unexpected character"),
    ],
)
def test_syntax_errors_say_where_and_what(text, start, message):
    """Syntax errors carry the character offset and a readable message."""
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    assert info.value.start == start
    assert message in info.value.message


def test_nesting_and_length_are_bounded():
    """Deep nesting and very long conditions are rejected, not recursed into."""
    with pytest.raises(ExprSyntaxError, match="nests more than"):
        parse("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(ExprSyntaxError, match="characters long"):
        parse("a or " * (MAX_LENGTH // 5 + 1) + "a")
    with pytest.raises(ExprSyntaxError, match="nests more than"):
        parse("not " * (MAX_DEPTH + 5) + "a")


# -- type checker --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, code, hint",
    [
        ("crimetype == 1", "unknown-question", 'did you mean "crime_type"?'),
        ('crime_type == "robery"', "unknown-option", 'did you mean "robbery"?'),
        ('crime_type in ["stalkng"]', "unknown-option", 'did you mean "stalking"?'),
        ('"kids" in household', "unknown-option", 'its options are "children", "partner"'),
        ('level(risk) == "hihg"', "unknown-level", 'did you mean "high"?'),
        ('age >= "x"', "type-mismatch", "compare values of the same kind"),
        ("a and age", "type-mismatch", "compare it with a number, e.g. age >= 18"),
        ('household == "children"', "type-mismatch", 'test one value with "value" in question, or count(question)'),
        ('notes == "x"', "text-compared", "use answered(question) to test whether it was answered"),
        ("score(rsk) > 1", "unknown-score", 'did you mean "risk"?'),
        ("risk > 1", "score-as-name", "use score(risk) for its points or level(risk) for its level"),
        ("foo(a)", "unknown-function", ""),
        ("age", "not-a-condition", "compare it with a number, e.g. age >= 18"),
        ("age / 0 > 1", "division", "e.g. score(needs) / 2"),
        ("days_since(age) > 1", "type-mismatch", "e.g. days_since(crime_date) <= 7"),
    ],
)
def test_type_errors_name_the_problem_and_a_fix(text, code, hint):
    """Each kind of mistake has a code and, where possible, a did-you-mean."""
    found = problems(text)
    assert found and found[0][0] == code
    if hint:
        assert found[0][1] == hint


def test_checker_records_what_a_condition_reads():
    """Questions and scores read are collected in order, without duplicates."""
    checked = check(parse('a and crime_type == "robbery" and a and level(risk) == "low"'), CATALOGUE)
    assert checked.questions == ("a", "crime_type")
    assert checked.scores == ("risk",)


# -- three-valued logic --------------------------------------------------------------------------

TRI = (True, False, None)


@pytest.mark.parametrize("x, y", list(itertools.product(TRI, TRI)))
def test_kleene_and_or_not(x, y):
    """and/or/not follow Kleene's strong three-valued logic."""
    values = {k: v for k, v in (("a", x), ("b", y)) if v is not None}
    expected_and = False if False in (x, y) else (None if None in (x, y) else True)
    expected_or = True if True in (x, y) else (None if None in (x, y) else False)
    assert run("a and b", values) is expected_and
    assert run("a or b", values) is expected_or
    assert run("not a", values) is (None if x is None else not x)


def test_not_asked_questions_make_every_test_false():
    """A hidden question has no value: tests on it are false, their negation true."""
    values = {"a": ABSENT, "crime_type": ABSENT, "household": ABSENT, "age": ABSENT}
    assert run("a", values) is False
    assert run("not a", values) is True
    assert run('crime_type == "robbery"', values) is False
    assert run('crime_type in ["robbery"]', values) is False
    assert run('crime_type not in ["robbery"]', values) is False
    assert run('"children" in household', values) is False
    assert run("answered(age)", values) is False
    assert run("count(household) == 0", values) is True


def test_unknown_answers_propagate_through_comparisons():
    """Comparing an unanswered question gives unknown."""
    assert run("age >= 18", {}) is None
    assert run('crime_type in ["robbery"]', {}) is None
    assert run("age >= 18 or a", {"a": True}) is True


def test_ranges_decide_comparisons_when_every_value_agrees():
    """A score range compares true, false or unknown depending on its bounds."""
    assert run("score(risk) >= 14", {}, scores={"risk": Interval(14, 20)}) is True
    assert run("score(risk) >= 14", {}, scores={"risk": Interval(2, 13)}) is False
    assert run("score(risk) >= 14", {}, scores={"risk": Interval(10, 16)}) is None
    assert run("score(risk) + 2 >= 14", {}, scores={"risk": Interval(12, 16)}) is True


def test_levels_compare_by_rank():
    """Level names compile to ranks: ordering and membership work on ranges."""
    assert run('level(risk) >= "medium"', {}, levels={"risk": 2}) is True
    assert run('level(risk) == "high"', {}, levels={"risk": frozenset({1, 2})}) is None
    assert run('level(risk) in ["medium", "high"]', {}, levels={"risk": frozenset({1, 2})}) is True
    assert run('level(risk) in ["high"]', {}, levels={"risk": 0}) is False
    assert run('"high" == level(risk)', {}, levels={"risk": 2}) is True
    assert run('level(risk) == "low"', {}, levels={"risk": ABSENT}) is False


def test_count_gives_a_range_over_unknowns():
    """count() of conditions with unknowns is a range: decided at the edges."""
    assert run("count(a, b) >= 1", {"a": True}) is True
    assert run("count(a, b) >= 2", {"a": True}) is None
    assert run("count(a, b) >= 2", {"a": True, "b": False}) is False


def test_dates_and_ages():
    """days_since and years_since count from the as-of date, never the clock."""
    values = {"crime_date": dt.date(2026, 2, 25)}
    assert run("days_since(crime_date) <= 7", values) is True
    assert run("days_since(crime_date) <= 3", values) is False
    assert run("crime_date >= 2026-01-01", values) is True


@pytest.mark.parametrize(
    "born, on, years",
    [
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17),
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18),
        (dt.date(2008, 2, 29), dt.date(2028, 2, 29), 20),
        (dt.date(2008, 3, 1), dt.date(2026, 3, 1), 18),
        (dt.date(2008, 3, 2), dt.date(2026, 3, 1), 17),
    ],
)
def test_age_rule_including_29_february(born, on, years):
    """A person born on 29 February completes a year on 1 March in common years."""
    assert age_in_years(born, on) == years


def test_declined_is_its_own_state():
    """declined() is true only for declined questions; they are unknown in comparisons."""
    assert run("declined(a)", {}, declined={"a"}) is True
    assert run("declined(a)", {"a": True}) is False
    assert run("a", {}, declined={"a"}) is None
