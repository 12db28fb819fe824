"""Decision records: ids, clock, hashes, engine build, digest of the answers; no answer can be read back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from invictus_rules import DecisionRecord, engine_build, load_ruleset
from invictus_rules.record import (
    RECORD_KEY_ENV,
    RecordKeyError,
    canonical_answers,
    digest_answers,
    digest_matches,
    key_id,
)

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "nl" / "dv-high-risk.json"
KEY = "a-deployment-key-of-32-characters"
NOON = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.timezone.utc)


def _case() -> dict:
    return json.loads(CASE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def nl():
    return load_ruleset("nl@2026.1")


def test_record_names_ids_ruleset_engine_and_decisions(nl):
    """A record holds its format, id, creation time from the given clock, case id, ruleset, engine and decisions."""
    case = _case()
    record = nl.evaluate(case["answers"], as_of="2026-03-01").record(case["answers"], case_id="c-17", clock=lambda: NOON, key=KEY)
    data = json.loads(record.model_dump_json())
    assert data["format"] == "invictus-rules/record/v1" and len(data["record_id"]) == 32
    assert data["created_at"] == "2026-12-07T12:00:00Z" and data["case_id"] == "c-17" and data["as_of"] == "2026-03-01"
    assert data["ruleset"]["sha256"] == nl.sha256 and data["ruleset"]["version"] == "2026.1"
    assert data["engine"] == {"version": data["engine"]["version"], "build": engine_build()}
    assert data["answers"]["algorithm"] == "hmac-sha256" and data["answers"]["key_id"] == key_id(KEY.encode())
    assert data["decisions"]["levels"] == {"dv_risk": "high", "vulnerability": "high"}
    assert {"service": "veilig_thuis", "mode": "opt_in", "priority": "immediate"} in data["decisions"]["referrals"]
    assert set(data["decisions"]) == {"levels", "referrals", "deferred", "information", "pending", "undecidable"}
    assert DecisionRecord.model_validate(data) == record


def test_engine_build_is_a_hash_of_the_package_computed_once():
    """The build digest is a sha256 and the same object on every call (computed once)."""
    assert len(engine_build()) == 64 and engine_build() is engine_build()


def test_record_ids_and_salts_differ_between_records_of_the_same_case(nl):
    """Two records of the same answers share no id, salt or digest: records cannot be linked by their digest."""
    answers = _case()["answers"]
    assessment = nl.evaluate(answers, as_of="2026-03-01")
    first, second = assessment.record(answers), assessment.record(answers)
    assert first.record_id != second.record_id
    assert first.answers.salt != second.answers.salt and first.answers.value != second.answers.value
    assert first.decisions == second.decisions


def test_key_from_the_environment_and_plain_sha256_without(nl, monkeypatch):
    """INVICTUS_RECORD_KEY keys the digest; without a key it is a salted sha256; a short key is refused."""
    answers = _case()["answers"]
    assessment = nl.evaluate(answers, as_of="2026-03-01")
    monkeypatch.delenv(RECORD_KEY_ENV, raising=False)
    assert assessment.record(answers).answers.algorithm == "sha256"
    monkeypatch.setenv(RECORD_KEY_ENV, KEY)
    keyed = assessment.record(answers).answers
    assert keyed.algorithm == "hmac-sha256" and keyed.key_id == key_id(KEY.encode())
    with pytest.raises(RecordKeyError, match="at least 16 bytes"):
        assessment.record(answers, key="short")


def test_raw_and_validated_answers_give_the_same_digest(nl):
    """The digest is of the answers' meaning: validated or raw, 3 or 3.0, list order and nulls do not matter."""
    answers = _case()["answers"]
    digest = digest_answers(answers, salt="00", key=None)
    assert digest_matches(digest, nl.validate_answers(answers), None)
    shuffled = dict(reversed(list(answers.items())), safe_contact_channels=["in_person", "phone"], victim_age=34.0, bias_motive=None)
    shuffled["bias_motive"] = False
    assert canonical_answers(shuffled) == canonical_answers(answers)
    other = dict(answers, strangulation=False)
    assert not digest_matches(digest, other, None)


MARKERS = {"interpreter_language": "Zzyzx-marker-language", "financial_loss_amount": 987654.321, "crime_date": "2026-02-19", "victim_age": 87}


def test_answers_cannot_be_recovered_from_the_record(nl):
    """Marker values appear nowhere in the record, and with a key no guess of the answers can be tested against it."""
    answers = dict(_case()["answers"], needs_interpreter=True, financial_loss=True, **MARKERS)
    record = nl.evaluate(answers, as_of="2026-03-01").record(answers, case_id="c-1", key=KEY)
    text = record.model_dump_json()
    leaves = set(_leaves(json.loads(text)))
    for value in MARKERS.values():
        assert value not in leaves
    assert "987654" not in text and "Zzyzx" not in text and "2026-02-19" not in text
    # an attacker who holds the record tries every answer of every yes/no question, with the record's salt
    salt = record.answers.salt
    recovered = []
    for question, value in answers.items():
        if isinstance(value, bool):
            for guess in (True, False):
                trial = dict(answers, **{question: guess})
                message = b"invictus-rules/answers/v1\n" + salt.encode() + b"\n" + canonical_answers(trial)
                if hashlib.sha256(message).hexdigest() == record.answers.value:
                    recovered.append(question)
    assert recovered == []
    # the decisions are all a record tells: two cases with the same decisions give the same decisions part
    same = dict(answers, pregnant=not answers["pregnant"])
    twin = nl.evaluate(same, as_of="2026-03-01").record(same, key=KEY)
    assert twin.decisions == record.decisions


def _leaves(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from _leaves(value)
    else:
        yield node


def test_without_a_key_a_guess_can_be_tested_as_documented(nl):
    """The README calls the unkeyed digest weaker: whoever holds the record can test a full guess of the answers."""
    answers = _case()["answers"]
    record = nl.evaluate(answers, as_of="2026-03-01").record(answers, key=None)
    assert digest_matches(record.answers, answers, None)


def test_assess_format_record_on_the_command_line(cli, monkeypatch):
    """assess --format record prints a record with the case file's id and no answer values."""
    monkeypatch.setenv(RECORD_KEY_ENV, KEY)
    result = cli("assess", "nl", str(CASE), "--format", "record")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["case_id"] == "nl-example-dv-high-risk" and data["answers"]["algorithm"] == "hmac-sha256"
    assert "trace" not in data and "2026-02-27" not in result.out
    assert json.loads(cli("assess", "nl", str(CASE), "--format", "record", "--case-id", "other").out)["case_id"] == "other"


def test_default_assessment_json_reads_back_no_answer(cli):
    """By default the assessment JSON has no trace and no indicators present: only --trace adds that detail."""
    plain = json.loads(cli("assess", "nl", str(CASE), "--format", "json").out)
    assert plain["trace"] is None and all(score["present"] is None for score in plain["scores"])
    detailed = json.loads(cli("assess", "nl", str(CASE), "--format", "json", "--trace").out)
    assert detailed["trace"]["entries"] and "strangulation" in detailed["scores"][0]["present"]
    assert all("values" not in entry for entry in detailed["trace"]["entries"])
    valued = json.loads(cli("assess", "nl", str(CASE), "--format", "json", "--trace-values").out)
    assert any("values" in entry for entry in valued["trace"]["entries"])


def test_schemas_say_what_is_special_category_data():
    """The assessment and record JSON Schemas state which outputs are special-category personal data."""
    assessment = json.loads((ROOT / "schema" / "assessment.schema.json").read_text(encoding="utf-8"))
    record = json.loads((ROOT / "schema" / "record.schema.json").read_text(encoding="utf-8"))
    assert "special-category personal data" in assessment["description"].lower()
    assert "special-category personal data" in assessment["properties"]["trace"]["description"]
    assert "no answer" in record["description"] and "not special-category" in record["description"].lower()


def test_committed_output_schemas_match_the_code(cli):
    """schema assessment and schema record print the committed files (regenerate them that way)."""
    for what in ("assessment", "record"):
        committed = (ROOT / "schema" / f"{what}.schema.json").read_text(encoding="utf-8")
        assert cli("schema", what).out == committed, f"run: invictus-rules schema {what} > schema/{what}.schema.json"


def test_deferred_referrals_are_in_the_record():
    """A consent referral held back because no safe channel reaches its service is recorded under deferred."""
    safety = load_ruleset(ROOT / "tests" / "fixtures" / "safety.yaml")
    answers = {"crime_type": "domestic_violence", "wants_shelter": True, "victim_age": 30, "lives_with_offender": False, "injured": False,
               "safe_to_talk": True, "safe_contact_channels": ["phone"]}
    assessment = safety.evaluate(answers, as_of="2026-03-01")
    record = assessment.record(answers, key=KEY)
    assert [(d.rule, d.why) for d in record.decisions.deferred] == [("shelter_place", "no_safe_channel")]
    assert "shelter_place" not in {r.service for r in record.decisions.referrals}
