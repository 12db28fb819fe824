"""Fuzzed cases against every shipped ruleset (found at run time) and the fixture, generated texts
against the template sandbox, and fuzzed bytes against the CLI.

Each property runs quickly by default (a few hundred cases in all). Under the slow hypothesis profile
(``python -m pytest --run-slow``, see ``conftest.py``) the same properties run with enough examples
for at least 100,000 evaluated cases; the last test counts them and prints the count.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import math
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invictus_rules import AnswersError, Assessment, InvictusError, Ruleset, RulesetError, load_ruleset, load_ruleset_text
from invictus_rules.api import decide_outcome
from invictus_rules.cli import main
from invictus_rules.load import list_countries, list_versions

from .conftest import FIXTURES
from .strategies import JSON_SCALARS, JSON_VALUES, any_answers, examples, slow_profile, valid_answers

AS_OF = dt.date(2026, 3, 1)
MINI = FIXTURES / "mini.yaml"


def _discover() -> list[tuple[str, Path | str]]:
    """Every ruleset file shipped now, and the fixture; a country that cannot be listed is kept as
    its error, so that the tests report it instead of failing to collect."""
    found: list[tuple[str, Path | str]] = [("fixture", MINI)]
    for country in list_countries():
        try:
            versions = list_versions(country)
        except InvictusError as error:
            found.append((country, f"{country}: {error}"))
            continue
        found.extend((f"{country}@{info.version}", info.path) for info in versions)
    return found


SHIPPED = _discover()
NAMES = [name for name, _ in SHIPPED]
CASES_PER_EXAMPLE = 8  # evaluations per example of all four properties together (1 + 2 + 1 + 4)
FULL_EXAMPLES = max(1000, math.ceil(110_000 / (len(SHIPPED) * CASES_PER_EXAMPLE)))
QUICK = examples(10, FULL_EXAMPLES)
CASES: Counter[str] = Counter()


@cache
def _ruleset(name: str) -> Ruleset:
    source = dict(SHIPPED)[name]
    if isinstance(source, str):
        pytest.fail(f"the ruleset cannot be listed: {source}")
    return load_ruleset(source)


# -- the properties ------------------------------------------------------------------------------


def _returns_assessment_or_answers_error(ruleset: Ruleset, data: st.DataObject) -> int:
    answers = data.draw(any_answers(ruleset), label="answers")
    try:
        result = ruleset.evaluate(answers, as_of=AS_OF)
    except AnswersError as error:
        assert error.problems and all(p.code and p.message for p in error.problems)
    else:
        assert isinstance(result, Assessment)
    return 1


def _deterministic_and_order_free(ruleset: Ruleset, data: st.DataObject) -> int:
    answers = data.draw(valid_answers(ruleset), label="answers")
    language = data.draw(st.sampled_from([*ruleset.languages, "xx"]), label="language")
    before = copy.deepcopy(answers)
    first = ruleset.evaluate(answers, as_of=AS_OF, language=language).model_dump_json()
    shuffled = dict(data.draw(st.permutations(list(answers.items())), label="order"))
    assert ruleset.evaluate(shuffled, as_of=AS_OF, language=language).model_dump_json() == first
    assert answers == before
    return 2


def _validated_answers_never_fail(ruleset: Ruleset, data: st.DataObject) -> int:
    answers = data.draw(valid_answers(ruleset), label="answers")
    validated = ruleset.validate_answers(answers)
    as_of = data.draw(st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)), label="as_of")
    assessment = ruleset.evaluate(validated, as_of=as_of, trace=data.draw(st.booleans(), label="trace"))
    assert isinstance(assessment, Assessment)
    return 1


@cache
def _indicators(ruleset: Ruleset) -> list[tuple[int, str]]:
    """(score index, question) for positively weighted indicators that are a bare yes/no question."""
    booleans = {q.id for q in ruleset.questions if q.type == "boolean"}
    return [
        (index, item.condition.text)
        for index, score in enumerate(ruleset.compiled.scores)
        for item in score.items
        if item.condition.text in booleans and item.spec.points > 0
    ]


def _declined_or_unknown_never_below_no(ruleset: Ruleset, data: st.DataObject) -> int:
    indicators = _indicators(ruleset)
    if not indicators:
        return 0
    index, question = data.draw(st.sampled_from(indicators), label="indicator")
    answers = data.draw(valid_answers(ruleset), label="answers")

    def level(value: Any) -> tuple[int, int]:
        found = decide_outcome(ruleset, {**answers, question: value}, as_of=AS_OF).scores[index].level
        return found if found is not None else (-1, -1)

    no, yes = level(False), level(True)
    for marker in ({"status": "declined"}, {"status": "unknown"}):
        other = level(marker)
        assert other[0] >= no[0] and other[1] >= no[1], f"{marker} to {question} gives a lower level than no"
        assert yes[1] >= other[1]
    return 4


# -- quick by default ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@QUICK
@given(data=st.data())
def test_evaluate_returns_an_assessment_or_answers_error(name, data):
    """Any answers at all give an Assessment or an AnswersError listing problems, never anything else."""
    CASES["run"] += _returns_assessment_or_answers_error(_ruleset(name), data)


@pytest.mark.parametrize("name", NAMES)
@QUICK
@given(data=st.data())
def test_evaluation_is_deterministic_and_independent_of_order(name, data):
    """Valid answers give byte-identical JSON in any key order, in any language; the input is untouched."""
    CASES["run"] += _deterministic_and_order_free(_ruleset(name), data)


@pytest.mark.parametrize("name", NAMES)
@QUICK
@given(data=st.data())
def test_validated_answers_never_fail(name, data):
    """Answers that pass validation evaluate on any date, with or without a trace."""
    CASES["run"] += _validated_answers_never_fail(_ruleset(name), data)


@pytest.mark.parametrize("name", NAMES)
@QUICK
@given(data=st.data())
def test_declined_or_unknown_indicator_is_never_below_no(name, data):
    """Declining or not knowing a positively weighted indicator never gives a lower level than 'no'."""
    CASES["run"] += _declined_or_unknown_never_below_no(_ruleset(name), data)


# -- texts ---------------------------------------------------------------------------------------------

ATOMS = st.sampled_from(
    ["answers.age", "answers.crime_type", "answers.safe_to_talk", "services.helpline.name", "services.helpline.phone",
     "scores.dv_risk.level", "scores.dv_risk.points", "as_of", "language", "'x'", "1", "2.5", "true", "none", "[1, 'a']", "c"]
)
FILTERS = st.sampled_from(
    ["upper", "lower", "join(', ')", "default('d')", "first", "last", "length", "title", "trim", "sort", "unique",
     "list", "string", "round", "int", "capitalize", "sort(attribute='name')", "round(2)", "d(1, true)"]
)
TESTS = st.sampled_from(["defined", "undefined", "none", "number", "string", "true", "false"])
OPERATORS = st.sampled_from(["==", "!=", "<", ">", "in", "not in", "and", "or", "~"])
EXPRESSIONS = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.tuples(inner, FILTERS).map(lambda t: f"{t[0]}|{t[1]}"),
        inner.map(lambda e: f"not {e}"),
        st.tuples(inner, TESTS).map(lambda t: f"{t[0]} is {t[1]}"),
        st.tuples(inner, OPERATORS, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    ),
    max_leaves=8,
)
TEXTS = st.lists(
    st.one_of(
        EXPRESSIONS.map(lambda e: "{{ %s }}" % e),
        st.tuples(EXPRESSIONS, EXPRESSIONS).map(lambda t: "{%% if %s %%}a{%% else %%}{{ %s }}{%% endif %%}" % t),
        EXPRESSIONS.map(lambda e: "{%% for c in %s %%}{{ c }}{%% endfor %%}" % e),
        st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=10),
    ),
    min_size=1,
    max_size=4,
).map("".join)
REASON = 'reason: {en: "Everyone can get support: call {{ services.helpline.phone }}."'


def _texts_never_break_evaluation(text: str, data: st.DataObject) -> int:
    source = MINI.read_text(encoding="utf-8").replace(REASON, "reason: {en: '" + text.replace("'", "''") + "'}  #", 1)
    try:
        ruleset = load_ruleset_text(source)
    except RulesetError:
        return 0
    answers = data.draw(valid_answers(ruleset), label="answers")
    assert isinstance(ruleset.evaluate({**answers, "crime_type": "domestic_violence"}, as_of=AS_OF, language="en"), Assessment)
    assert isinstance(ruleset.evaluate({}, as_of=AS_OF, language="en"), Assessment)
    return 2


@examples(40, 3000)
@given(text=TEXTS, data=st.data())
def test_texts_that_load_never_break_evaluation(text, data):
    """A generated text is refused at load, or renders (or warns) at evaluation: it never raises there."""
    CASES["run"] += _texts_never_break_evaluation(text, data)


# -- the command line ------------------------------------------------------------------------------


def _case_bytes() -> st.SearchStrategy[bytes]:
    """Bytes a caller might pipe in: random, JSON cases of any shape, and JSON cut or corrupted."""
    mini = _ruleset("fixture")
    case = st.fixed_dictionaries(
        {"answers": any_answers(mini)},
        optional={"case_id": JSON_SCALARS, "as_of": st.one_of(JSON_SCALARS, st.dates().map(str)), "language": JSON_SCALARS, "extra": JSON_VALUES},
    )
    encoded = st.one_of(case, JSON_VALUES).map(lambda value: json.dumps(value, allow_nan=True).encode())
    corrupted = st.tuples(encoded, st.integers(0, 200), st.binary(max_size=4)).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :])
    return st.one_of(st.binary(max_size=200), encoded, corrupted, encoded.map(lambda b: b"\xef\xbb\xbf" + b))


@examples(60, 600)
@given(data=_case_bytes(), fmt=st.sampled_from(["text", "json"]), options=st.sampled_from([[], ["--as-of", "2026-02-01"], ["--language", "nl", "--trace-values"], ["--no-trace"]]))
def test_any_bytes_on_stdin_give_exit_0_or_1_with_a_message(data, fmt, options):
    """assess with any bytes as the case exits 0 with an assessment or 1 with an error, never a traceback."""
    out, err = io.StringIO(), io.StringIO()
    code = main(["assess", str(MINI), "-", "--format", fmt, *options], stdout=out, stderr=err, stdin=io.BytesIO(data))
    CASES["run"] += 1
    assert code in (0, 1)
    assert "Traceback" not in out.getvalue() + err.getvalue()
    if code == 0:
        assert out.getvalue()
    elif fmt == "json":
        assert json.loads(out.getvalue())["problems"]
    else:
        assert "error[" in err.getvalue()


@pytest.mark.parametrize(
    "stdin, code",
    [
        (b'{"answers": {"safe_to_talk": true, "crime_type": "robbery"}}', 0),
        (b"", 1),
        (b"\xff\xfe\x00{", 1),
        (b"[" * 100_000, 1),
        (b'{"answers": {"age": 1e999}}', 1),
        (b'{"answers": {"age": ' + b"9" * 5000 + b"}}", 1),
        (b'{"answers": {}, "as_of": "2026-W09-7"}', 1),
        (b'{"answers": {"x": "' + b"a" * (6 * 1024 * 1024) + b'"}}', 1),
    ],
    ids=["valid", "empty", "binary", "deep-json", "infinity", "huge-integer", "week-date", "6-mb"],
)
def test_real_process_reads_nasty_stdin_without_a_traceback(stdin, code):
    """python -m invictus_rules assess ... - ends with exit 0 or 1 and a message for hostile input."""
    done = subprocess.run(
        [sys.executable, "-m", "invictus_rules", "assess", str(MINI), "-", "--as-of", "2026-02-01"],
        input=stdin,
        capture_output=True,
        timeout=60,
    )
    CASES["run"] += 1
    assert done.returncode == code, done.stderr.decode()
    assert b"Traceback" not in done.stdout + done.stderr
    assert (done.stdout if code == 0 else done.stderr).strip()


@pytest.mark.slow
def test_full_run_fuzzed_at_least_100000_cases(capsys):
    """Under the slow profile the properties above evaluated at least 100,000 fuzzed cases (printed);
    run it with the whole file."""
    with capsys.disabled():
        print(f"\nfuzzed cases: {CASES['run']:,} over {len(NAMES)} rulesets ({'slow' if slow_profile() else 'default'} profile)")
    assert slow_profile() and CASES["run"] >= 100_000
