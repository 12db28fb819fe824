"""The HTTP service: every endpoint, problem+json errors, API keys, limits, and no answer value in errors or logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from invictus_rules import load_ruleset
from invictus_rules.cli import main
from invictus_rules.record import ReplayError
from invictus_rules.service.app import ServiceSettings, create_app

ROOT = Path(__file__).resolve().parents[1]
MARKER = "MARKER-7f3a-victim-value"
TOKEN = "k" * 40


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def _case(**answers: object) -> dict[str, object]:
    return {"ruleset": "nl@2026.1", "as_of": "2026-03-01", "language": "en", "answers": answers}


def _is_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["type"].endswith(":" + code) and body["title"] and "detail" in body
    return body


def test_health_names_the_engine(client: TestClient) -> None:
    """GET /v1/health answers without a key and names the engine version."""
    body = client.get("/v1/health").json()
    assert body["status"] == "ok" and body["engine_version"]


def test_rulesets_lists_countries_versions_and_the_one_in_force(client: TestClient) -> None:
    """GET /v1/rulesets gives every country, its versions with manifest hashes, and which is in force on a date."""
    listing = {entry["country"]: entry for entry in client.get("/v1/rulesets", params={"as_of": "2025-06-01"}).json()}
    assert set(listing) == {"bg", "fi", "fr", "hr", "it", "nl", "pt"}
    assert listing["nl"]["in_force"] == "2025.1"
    versions = {v["version"]: v for v in listing["nl"]["versions"]}
    assert versions["2026.1"]["sha256"] == load_ruleset("nl@2026.1").sha256
    assert [v["version"] for v in listing["nl"]["versions"] if v["in_force"]] == ["2025.1"]


def test_questionnaire_and_answers_schema_endpoints(client: TestClient) -> None:
    """The questionnaire export and the answers schema of an exact version, as the API gives them."""
    ruleset = load_ruleset("pt@2025.1")
    assert client.get("/v1/rulesets/pt/questionnaire", params={"version": "2025.1"}).json() == ruleset.questionnaire()
    assert client.get("/v1/rulesets/pt/answers-schema", params={"version": "2025.1"}).json() == ruleset.answers_schema()
    _is_problem(client.get("/v1/rulesets/zz/questionnaire"), 404, "ruleset-not-found")


def test_assess_returns_the_libraries_assessment(client: TestClient) -> None:
    """POST /v1/assess gives exactly what Ruleset.evaluate gives."""
    answers = {"safe_to_talk": True, "in_immediate_danger": False, "crime_type": "domestic_violence", "strangulation": True}
    response = client.post("/v1/assess", json=_case(**answers))
    assert response.status_code == 200
    expected = load_ruleset("nl@2026.1").evaluate(answers, as_of="2026-03-01", language="en", trace=False)
    assert response.json() == json.loads(expected.model_dump_json())


def test_interview_walks_to_the_end(client: TestClient) -> None:
    """POST /v1/interview/next gives the next questions in the case's language until nothing is left to ask."""
    ruleset = load_ruleset("nl@2026.1")
    answers: dict[str, object] = {}
    for _ in range(len(ruleset.questions) + 1):
        step = client.post("/v1/interview/next", json=_case(**answers)).json()
        if not step["next_questions"]:
            break
        assert step["status"] == "in_progress" and step["language"] == "en"
        for question in step["next_questions"]:
            answers[question["id"]] = {"status": "declined"}
    else:
        pytest.fail("the interview never ended")
    assert step["status"] != "in_progress"


def test_validate_accepts_good_and_lists_every_problem(client: TestClient) -> None:
    """POST /v1/validate: 200 for valid answers, 422 problem+json with every problem otherwise."""
    assert client.post("/v1/validate", json=_case(safe_to_talk=True)).json()["valid"] is True
    body = _is_problem(client.post("/v1/validate", json=_case(safe_to_talk="x", crime_type="arson", nope=1)), 422, "invalid-answers")
    assert {p["code"] for p in body["problems"]} == {"answer-type", "answer-option", "unknown-question"}


def test_schemas_endpoint(client: TestClient) -> None:
    """GET /v1/schemas/{name} serves the published schemas; an unknown name is a 404 problem."""
    assert client.get("/v1/schemas/case").json()["$id"] == "urn:invictus-rules:case:v1"
    _is_problem(client.get("/v1/schemas/nope"), 404, "unknown-schema")


def test_openapi_is_3_1_and_lists_every_endpoint(client: TestClient) -> None:
    """The OpenAPI description is 3.1 and documents the /v1 endpoints."""
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    for path in ("/v1/assess", "/v1/interview/next", "/v1/validate", "/v1/rulesets", "/v1/rulesets/{country}/questionnaire", "/v1/health", "/v1/schemas/{name}"):
        assert path in spec["paths"], path


@pytest.mark.parametrize(
    "body",
    [
        _case(safe_to_talk=MARKER),
        _case(**{MARKER: True}),
        _case(victim_age=MARKER),
        {"ruleset": "nl", "answers": {"safe_to_talk": True}, "extra": MARKER},
        {"ruleset": MARKER, "answers": {"x": MARKER}},
        {"ruleset": "nl", "case_id": 5, "answers": MARKER},
    ],
)
def test_no_answer_value_in_errors_or_logs(client: TestClient, body: dict, caplog: pytest.LogCaptureFixture) -> None:
    """Whatever is wrong with a request, the marker value sent appears in no response and no log line."""
    caplog.set_level(logging.DEBUG)
    for path in ("/v1/assess", "/v1/validate", "/v1/interview/next"):
        response = client.post(path, json=body)
        assert response.status_code in (400, 422)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert MARKER not in response.text
    assert all(MARKER not in record.getMessage() for record in caplog.records)


def test_malformed_json_is_a_problem(client: TestClient) -> None:
    """A body that is not JSON is a problem document, not a stack trace."""
    response = client.post("/v1/assess", content=b'{"ruleset": "nl", "answers": {"a": "' + MARKER.encode(), headers={"content-type": "application/json"})
    body = _is_problem(response, 422, "invalid-request")
    assert MARKER not in json.dumps(body)


def test_request_size_limit() -> None:
    """Bodies over the limit are refused with 413, with or without Content-Length."""
    client = TestClient(create_app(ServiceSettings(max_body_bytes=2000)))
    big = _case(note="x" * 5000)
    _is_problem(client.post("/v1/assess", json=big), 413, "request-too-large")

    def chunks():
        yield json.dumps(big).encode()

    _is_problem(client.post("/v1/assess", content=chunks(), headers={"content-type": "application/json"}), 413, "request-too-large")


def test_access_log_has_no_bodies(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """Each request is logged with method, path, status and time; never its body or query string."""
    caplog.set_level(logging.INFO, logger="invictus_rules.service")
    client.post("/v1/assess", params={"trace": "false"}, json=_case(safe_to_talk=True, crime_type="fraud"))
    lines = [r.getMessage() for r in caplog.records if r.name == "invictus_rules.service"]
    assert any(line.startswith("POST /v1/assess 200") for line in lines)
    assert not any("fraud" in line or "trace=" in line for line in lines)


@pytest.fixture()
def keys_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys.txt"
    path.write_text(f"# keys of the case systems\ncase-system-1 {TOKEN}\n", encoding="utf-8")
    return path


def test_api_keys_are_required_when_configured(keys_file: Path) -> None:
    """With API keys, every /v1 endpoint but health needs a valid bearer token."""
    client = TestClient(create_app(ServiceSettings(api_keys_file=str(keys_file))))
    assert client.get("/v1/health").status_code == 200
    _is_problem(client.post("/v1/assess", json=_case(safe_to_talk=True)), 401, "unauthorized")
    _is_problem(client.post("/v1/assess", json=_case(safe_to_talk=True), headers={"Authorization": "Bearer " + "x" * 40}), 401, "unauthorized")
    good = client.post("/v1/assess", json=_case(safe_to_talk=True), headers={"Authorization": f"Bearer {TOKEN}"})
    assert good.status_code == 200


def test_bad_keys_file_is_a_positioned_error_without_the_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A short token is reported by line, and the token itself is never printed; nothing is created on the way."""
    path = tmp_path / "keys.txt"
    path.write_text("case-system-1 shortsecret\n", encoding="utf-8")
    database = tmp_path / "records.sqlite3"
    code = main(["serve", "--api-keys", str(path), "--port", "1", "--database", f"sqlite:///{database}"])
    err = capsys.readouterr().err
    assert code == 1 and "keys.txt:1:1" in err and "api-key-short" in err and "shortsecret" not in err
    assert not database.exists()


def test_serve_refuses_the_network_without_keys(capsys: pytest.CaptureFixture[str]) -> None:
    """Listening on anything but loopback without API keys is refused before the server starts."""
    assert main(["serve", "--host", "0.0.0.0"]) == 1
    assert "api-keys-required" in capsys.readouterr().err


@pytest.fixture()
def logged(tmp_path: Path) -> TestClient:
    """A service with a decision log in an SQLite file."""
    return TestClient(create_app(ServiceSettings(database=f"sqlite:///{tmp_path / 'records.sqlite3'}")))


DV_HIGH = {"safe_to_talk": True, "in_immediate_danger": False, "safe_contact_channels": ["phone"], "crime_type": "domestic_violence", "strangulation": True}


def test_assess_with_record_stores_it_in_the_chain(logged: TestClient, tmp_path: Path) -> None:
    """record=true appends the decision record (no answer values) and names it; the records endpoints return it."""
    body = {**_case(**DV_HIGH), "case_id": "case-17"}
    response = logged.post("/v1/assess", params={"record": "true"}, json=body)
    assert response.status_code == 200
    record_id = response.headers["X-Record-Id"]
    assert response.headers["Location"] == f"/v1/records/{record_id}"
    stored = logged.get(f"/v1/records/{record_id}").json()
    assert stored["record"]["record_id"] == record_id and stored["record"]["case_id"] == "case-17"
    assert stored["record"]["decisions"]["levels"]["dv_risk"] == "high"
    assert [r["record"]["record_id"] for r in logged.get("/v1/records", params={"case_id": "case-17"}).json()] == [record_id]
    _is_problem(logged.get("/v1/records/nope"), 404, "not-found")
    assert main(["records", "verify", "--database", f"sqlite:///{tmp_path / 'records.sqlite3'}"]) == 0


def test_replay_endpoint_identical_and_refusals(logged: TestClient) -> None:
    """POST /v1/replay: identical with the recorded answers; refused (409) with other answers; 422 for a non-record."""
    body = {**_case(**DV_HIGH), "case_id": "case-18"}
    record_id = logged.post("/v1/assess", params={"record": "true"}, json=body).headers["X-Record-Id"]
    record = logged.get(f"/v1/records/{record_id}").json()["record"]
    same = logged.post("/v1/replay", json={"record": record, "answers": DV_HIGH}).json()
    assert same["identical"] is True and same["summary"].startswith("IDENTICAL")
    other = logged.post("/v1/replay", json={"record": record, "answers": {**DV_HIGH, "strangulation": False}})
    refused = _is_problem(other, 409, ReplayError.code)
    assert refused["problems"][0]["code"] == "not-the-recorded-answers" and "not the recorded answers" in refused["detail"]
    broken = logged.post("/v1/replay", json={"record": {"record_id": MARKER}, "answers": DV_HIGH})
    _is_problem(broken, 422, "invalid-record")
    assert MARKER not in broken.text


def test_records_need_a_decision_log(client: TestClient) -> None:
    """Without --database, storing or reading records is a 409 problem, and assessing still works."""
    _is_problem(client.post("/v1/assess", params={"record": "true"}, json=_case(safe_to_talk=True)), 409, "no-decision-log")
    assert client.get("/v1/records", params={"case_id": "x"}).status_code == 409


def test_stored_records_hold_no_answer_values(logged: TestClient) -> None:
    """A text answer with a marker value never reaches the decision log."""
    answers = {**DV_HIGH, "crime_date": "2026-02-20"}
    response = logged.post("/v1/assess", params={"record": "true"}, json={**_case(**answers), "case_id": "case-19"})
    stored = logged.get(response.headers["Location"]).json()
    text = json.dumps(stored)
    assert "2026-02-20" not in text and "strangulation" not in text


def test_a_worker_compiles_the_versions_in_force_and_freezes_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A worker made by ``serve`` compiles every country's version in force before its first request
    and moves what it holds out of the garbage collector's way (full collections were the service's
    99th-percentile latency)."""
    import gc

    from invictus_rules.service import app as service_app
    from invictus_rules.service.commands import SETTINGS_ENV

    monkeypatch.setenv(SETTINGS_ENV, ServiceSettings(database=f"sqlite:///{tmp_path / 'log.sqlite3'}").model_dump_json())
    try:
        app = service_app.app_from_environment()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    registry = app.state.registry
    assert len(registry._compiled) == len(registry.countries()) == 7  # internal: compiled before any request
