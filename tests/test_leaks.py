"""No leaked answers: marker values sent as answers never appear in errors, warnings, traces, command
output or log records, unless answer values are asked for (``trace_values``, ``--trace-values``) or a
ruleset's own text prints that answer.
"""

from __future__ import annotations

import io
import json
import logging
import re
import traceback
from pathlib import Path
from typing import Any, Iterator

import pytest

from invictus_rules import AnswersError, Assessment, InvictusError, Ruleset, load_ruleset, load_ruleset_text
from invictus_rules.cli import main
from invictus_rules.load import list_countries, list_versions

from .conftest import FIXTURES

TEXT = "MARKER-7f3a"
NUMBER = 987654.321
DATE = "1987-06-05"
FRAGMENTS = ("7f3a", "987654", DATE)
MINI = FIXTURES / "mini.yaml"

# The fixture with a question of every kind, each read by a condition so that a trace can show it,
# and a text that fails to render on a text answer, so that the assessment carries a warning.
LEAKY = (
    MINI.read_text(encoding="utf-8")
    .replace(
        "  - id: age\n",
        "  - id: note\n    type: text\n    max_length: 50\n    text: {en: Anything else?, nl: Nog iets?}\n"
        "  - id: amount\n    type: number\n    min: 0\n    max: 10000000\n    text: {en: Loss in euros, nl: Schade in euro}\n"
        "  - id: born\n    type: date\n    text: {en: Date of birth, nl: Geboortedatum}\n"
        "  - id: channels\n    type: multiple_choice\n    text: {en: Safe channels, nl: Veilige kanalen}\n"
        "    options:\n      - {value: phone, label: {en: Phone, nl: Telefoon}}\n      - {value: post, label: {en: Post, nl: Post}}\n"
        "  - id: age\n",
        1,
    )
    .replace(
        "    when: age < 18\n",
        '    when: age < 18 or answered(note) or amount > 5 or years_since(born) < 18 or "phone" in channels\n',
        1,
    )
    .replace("body: {en: Children get extra protection.,", "body: {en: '{{ answers.age|list }}',", 1)
)
LEAKY_ANSWERS = {"safe_to_talk": True, "crime_type": "robbery", "note": TEXT, "amount": NUMBER, "born": DATE, "age": 30}


def _rulesets() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = [("fixture", MINI), ("leaky", LEAKY)]
    for country in list_countries():
        try:
            found.extend((f"{country}@{info.version}", info.path) for info in list_versions(country))
        except InvictusError:  # a broken ruleset is reported by the other tests, not here
            continue
    return found


RULESETS = dict(_rulesets())


def _load(name: str) -> Ruleset:
    source = RULESETS[name]
    return load_ruleset_text(source) if isinstance(source, str) else load_ruleset(source)


def _leaks(text: str) -> list[str]:
    return [fragment for fragment in FRAGMENTS if fragment in text]


def _error_texts(error: BaseException) -> Iterator[str]:
    """Everything an error could show: str, repr, JSON, a logged traceback, every chained exception."""
    yield str(error)
    yield repr(error)
    yield "".join(traceback.format_exception(error))
    if isinstance(error, InvictusError):
        yield json.dumps(error.to_dict())
        for problem in error.problems:
            yield str(problem) + problem.source_line + repr(problem)
    seen: BaseException | None = error.__context__ or error.__cause__
    while seen is not None:
        yield repr(seen)
        seen = seen.__context__ or seen.__cause__


@pytest.fixture(autouse=True)
def no_marker_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test here also checks the log records of every logger, down to DEBUG."""
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        text = f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        assert not _leaks(text), f"a log record shows an answer: {text[:300]}"


def _wrong_answers(ruleset: Ruleset) -> Iterator[tuple[str, dict[str, Any]]]:
    """Answers that fail validation in every way, each carrying a marker."""
    questions = ruleset.questions
    yield "text-everywhere", {q.id: TEXT for q in questions}
    yield "number-everywhere", {q.id: NUMBER for q in questions}
    yield "date-everywhere", {q.id: DATE for q in questions if q.type != "date" and q.type != "text"}
    yield "list-of-markers", {q.id: [TEXT, NUMBER] for q in questions}
    yield "marker-as-status", {q.id: {"status": TEXT} for q in questions}
    yield "marker-beside-status", {q.id: {"status": "declined", "note": TEXT} for q in questions}
    yield "marker-objects", {q.id: {TEXT: NUMBER} for q in questions}
    yield "too-long", {q.id: TEXT * 20_000 for q in questions if q.type == "text"}
    yield "out-of-range", {q.id: -NUMBER * 1e12 for q in questions if q.type in ("integer", "number")}
    yield "fraction-for-integer", {q.id: NUMBER for q in questions if q.type == "integer"}
    yield "marker-keys", {TEXT: 1, f"{TEXT} {DATE}": NUMBER, str(NUMBER): True}


@pytest.mark.parametrize("name", list(RULESETS))
def test_answer_errors_name_the_question_never_the_value(name):
    """Every kind of wrong answer fails with problems that show no marker, in any rendering."""
    ruleset = _load(name)
    for kind, answers in _wrong_answers(ruleset):
        if not answers:
            continue
        with pytest.raises(AnswersError) as info:
            ruleset.evaluate(answers, as_of="2026-03-01")
        for text in _error_texts(info.value):
            assert not _leaks(text), f"{kind}: {text[:500]}"


def test_answers_that_are_not_an_object_are_not_shown(mini):
    """A marker sent instead of the answers object is named by its kind only."""
    for value in (TEXT, NUMBER, [TEXT], DATE):
        with pytest.raises(AnswersError) as info:
            mini.evaluate(value)  # type: ignore[arg-type]
        assert not any(_leaks(text) for text in _error_texts(info.value))


def _printed_answers(ruleset: Ruleset) -> set[str]:
    """Questions whose answers the ruleset's own texts print."""
    doc = ruleset.compiled.document
    texts = [t for r in doc.referrals for t in r.reason.values()]
    texts += [t for i in doc.information for t in (*i.title.values(), *i.body.values())]
    return {m for text in texts for m in re.findall(r"answers\.([a-z][a-z0-9_]*)", text)}


def _marked_answers(ruleset: Ruleset) -> dict[str, Any]:
    """Valid answers with a marker in every text, number and date question whose texts do not print it."""
    printed = _printed_answers(ruleset)
    answers: dict[str, Any] = {}
    for q in ruleset.questions:
        if q.id in printed:
            continue
        if q.type == "text" and (q.max_length or 100) >= len(TEXT):
            answers[q.id] = TEXT
        elif q.type == "number" and (q.min is None or q.min <= NUMBER) and (q.max is None or NUMBER <= q.max):
            answers[q.id] = NUMBER
        elif q.type == "date":
            answers[q.id] = DATE
    return answers


def _without_texts(assessment: Assessment) -> str:
    """The assessment's JSON with the rendered texts left out (a ruleset's own text may print answers)."""
    data = json.loads(assessment.model_dump_json())
    for referral in data["referrals"]:
        for reason in referral["reasons"]:
            reason["text"] = ""
    for item in data["information"]:
        item["title"] = item["body"] = ""
    return json.dumps(data)


@pytest.mark.parametrize("name", list(RULESETS))
def test_traces_show_values_only_when_asked(name):
    """Without trace_values no marker appears anywhere in the assessment; with it, the trace holds them."""
    ruleset = _load(name)
    answers = _marked_answers(ruleset)
    for as_of in ("2026-03-01", "2025-03-01"):
        for trace in (True, False):
            assessment = ruleset.evaluate(answers, as_of=as_of, trace=trace, language="en")
            assert not _leaks(_without_texts(assessment))
            for referral in assessment.referrals:
                assert not _leaks(" ".join(reason.text for reason in referral.reasons))
            assert not _leaks(" ".join(item.title + item.body for item in assessment.information))
    with_values = ruleset.evaluate(answers, as_of="2026-03-01", trace_values=True)
    assert with_values.trace is not None
    trace_json = with_values.trace.model_dump_json()
    if name == "leaky":
        assert TEXT in trace_json and "987654.321" in trace_json and DATE in trace_json
    outside_trace = json.loads(_without_texts(with_values))
    outside_trace["trace"] = None
    assert not _leaks(json.dumps(outside_trace))


def test_leaky_ruleset_reads_every_marked_answer():
    """The leaky fixture's conditions read the marked questions, so the trace test above means something."""
    ruleset = load_ruleset_text(LEAKY)
    assert set(_marked_answers(ruleset)) == {"note", "amount", "born"}


def test_warnings_name_the_text_never_the_answer():
    """A text that fails to render on an answer, and a language the ruleset lacks, warn without values."""
    assessment = load_ruleset_text(LEAKY).evaluate(LEAKY_ANSWERS, as_of="2026-03-01", language="fr")
    codes = {warning.code for warning in assessment.warnings}
    assert {"text-not-rendered", "language-not-offered"} <= codes
    assert not _leaks(json.dumps([warning.model_dump() for warning in assessment.warnings]))
    assert not _leaks(assessment.model_dump_json())


# -- the command line ------------------------------------------------------------------------------


def _cli(*argv: str, stdin: bytes = b"") -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.BytesIO(stdin))
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def leaky_file(tmp_path: Path) -> str:
    path = tmp_path / "leaky.yaml"
    path.write_text(LEAKY, encoding="utf-8")
    return str(path)


def _case(tmp_path: Path, answers: dict[str, Any], name: str = "case.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"case_id": "c-1", "as_of": "2026-03-01", "answers": answers}), encoding="utf-8")
    return str(path)


BAD = {"safe_to_talk": TEXT, "age": NUMBER, "born": TEXT, "note": TEXT * 10, "crime_type": DATE, TEXT: 1}


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("trace", [[], ["--no-trace"]])
def test_assess_output_shows_no_marker(tmp_path, leaky_file, fmt, trace):
    """assess prints no marker in text or JSON, for a valid case or an invalid one, read from a file or stdin."""
    good = _case(tmp_path, LEAKY_ANSWERS, "good.json")
    bad = _case(tmp_path, BAD, "bad.json")
    code, output = _cli("assess", leaky_file, good, "--format", fmt, *trace)
    assert code == 0 and not _leaks(output)
    code, output = _cli("assess", leaky_file, bad, "--format", fmt, *trace)
    assert code == 1 and not _leaks(output) and "answer-type" in output
    code, output = _cli("assess", leaky_file, "-", "--format", fmt, *trace, stdin=Path(bad).read_bytes())
    assert code == 1 and not _leaks(output)


def test_assess_trace_values_is_the_one_way_to_see_values(tmp_path, leaky_file):
    """--trace-values puts the answers in the JSON trace; nothing else does."""
    good = _case(tmp_path, LEAKY_ANSWERS)
    code, output = _cli("assess", leaky_file, good, "--format", "json", "--trace-values")
    assert code == 0 and TEXT in output
    code, output = _cli("assess", leaky_file, good, "--format", "text", "--trace-values")
    assert code == 0 and not _leaks(output)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_questions_output_shows_no_marker(tmp_path, leaky_file, fmt):
    """questions with a partial case, valid or not, prints what is left to ask and no marker."""
    partial = {key: value for key, value in LEAKY_ANSWERS.items() if key != "crime_type"}
    code, output = _cli("questions", leaky_file, _case(tmp_path, partial, "partial.json"), "--format", fmt)
    assert code == 0 and "crime_type" in output and not _leaks(output)
    code, output = _cli("questions", leaky_file, _case(tmp_path, BAD, "bad.json"), "--format", fmt)
    assert code == 1 and not _leaks(output)


CASE_LAYOUTS = {
    "one-line": lambda answers: json.dumps({"answers": answers}),
    "indented": lambda answers: json.dumps({"answers": answers}, indent=2),
    "broken": lambda answers: json.dumps({"answers": answers}, indent=2)[:-3] + ",,}",
    "duplicate-key": lambda answers: '{"answers": {"note": "%s", "note": "%s"}}' % (TEXT, TEXT),
}


@pytest.mark.parametrize("layout", list(CASE_LAYOUTS))
@pytest.mark.parametrize("command", [["validate"], ["validate", "--format", "json"], ["lint"], ["lint", "--format", "json"]])
def test_case_file_given_as_a_ruleset_is_not_quoted(tmp_path, command, layout):
    """validate or lint of a case file passed by mistake fails without quoting a line of it."""
    path = tmp_path / "case.json"
    path.write_text(CASE_LAYOUTS[layout](LEAKY_ANSWERS), encoding="utf-8")
    code, output = _cli(*command, str(path))
    assert code == 1 and not _leaks(output), output


def test_case_given_as_the_ruleset_of_assess_is_not_quoted(tmp_path):
    """assess with the arguments swapped fails without quoting the case."""
    case = _case(tmp_path, LEAKY_ANSWERS)
    code, output = _cli("assess", case, case)
    assert code == 1 and "looks like a case" in output and not _leaks(output)


def test_compare_output_shows_no_marker(tmp_path):
    """compare, which assesses one case under every country, prints no marker in any format."""
    case = _case(tmp_path, {"safe_to_talk": True, "crime_type": "domestic_violence", "victim_age": 987654, "note": TEXT, "born": DATE})
    for fmt in ("text", "markdown", "json"):
        code, output = _cli("compare", case, "--format", fmt)
        assert code in (0, 1) and not _leaks(output), output[:500]
