"""The Ruleset façade's small promises: identity, dates in every accepted form, and refusals with a reason."""

from __future__ import annotations

import datetime as dt

import pytest

from invictus_rules import AnswersError, InvictusError, Ruleset

CASE = {"safe_to_talk": True, "crime_type": "robbery"}


def test_identity_of_a_loaded_version(mini):
    """id, country, version, languages, the short hash in repr, and ref agree with each other."""
    assert (mini.id, mini.country, mini.version) == ("mini", "xx", "2026.1")
    assert mini.languages == ["en", "nl"]
    assert repr(mini) == f"<Ruleset xx@2026.1 {mini.sha256[:12]}>"
    assert (mini.ref.id, mini.ref.version, mini.ref.sha256) == (mini.id, mini.version, mini.sha256)
    assert [q.id for q in mini.questions][:2] == ["safe_to_talk", "crime_type"]


@pytest.mark.parametrize("as_of", [dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 23, 59), "2026-03-01"])
def test_as_of_is_a_date_a_datetime_or_iso_text(mini, as_of):
    """A date, a datetime (its date) and ISO text all mean the same day."""
    assert mini.evaluate(CASE, as_of=as_of).as_of == dt.date(2026, 3, 1)


def test_an_invalid_date_is_an_error_and_invalid_answers_come_first(mini):
    """A date that is not YYYY-MM-DD is an invalid-date error; invalid answers with it are reported instead."""
    with pytest.raises(InvictusError) as info:
        mini.decide(CASE, as_of="01/03/2026")
    assert [p.code for p in info.value.problems] == ["invalid-date"]
    with pytest.raises(AnswersError):
        mini.decide({"age": "old"}, as_of="01/03/2026")
    with pytest.raises(InvictusError) as checked:
        mini.decide(mini.validate_answers(CASE), as_of="soon")
    assert [p.code for p in checked.value.problems] == ["invalid-date"]


def test_evaluate_batch_refuses_an_unknown_output(mini):
    """An output that is not one of the four is a ValueError naming them."""
    with pytest.raises(ValueError, match="output must be one of decisions, outcome, assessment, json"):
        mini.evaluate_batch([CASE], output="csv", as_of="2026-03-01")  # type: ignore[call-overload]


def test_a_ruleset_without_its_source_runs_batches_here_only(mini):
    """A Ruleset made from a compiled form alone evaluates batches in this process, and says why it cannot use workers."""
    bare = Ruleset(mini.compiled)
    assert list(bare.evaluate_batch([CASE], as_of="2026-03-01", output="decisions", workers=1)) == list(mini.evaluate_batch([CASE], as_of="2026-03-01", output="decisions", workers=1))
    with pytest.raises(ValueError, match="built without its source text"):
        bare.evaluate_batch([CASE], as_of="2026-03-01", workers=2)


def test_next_questions_without_answers_starts_at_the_beginning(mini):
    """With no answers, the next questions are the ones always asked, in order."""
    assert [q.id for q in mini.next_questions(as_of="2026-03-01")][:2] == ["safe_to_talk", "crime_type"]
