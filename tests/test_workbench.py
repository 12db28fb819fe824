"""The workbench's endpoints: the session token, published files read-only, only files inside the rulesets folder."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from invictus_rules.cli import main
from invictus_rules.load import shipped_rulesets_dir
from invictus_rules.tools.workflow import start_new_version
from invictus_rules.workbench.app import WorkbenchSettings, create_app

TOKEN = "test-token-0123456789"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
STRANGULATION_CASE = {
    "safe_to_talk": True,
    "in_immediate_danger": False,
    "safe_contact_channels": ["phone"],
    "crime_type": "domestic_violence",
    "offender_relationship": "partner",
    "lives_with_offender": True,
    "strangulation": True,
}


def make_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A rulesets folder with nl's published versions, its tests and manifest, and a new draft 2026.3."""
    folder = tmp_path / "rulesets"
    shutil.copytree(shipped_rulesets_dir() / "nl", folder / "nl")
    shutil.copy2(shipped_rulesets_dir() / "manifest.json", folder / "manifest.json")
    draft = start_new_version("nl", folder, dt.date(2026, 12, 7))
    return folder, draft


@pytest.fixture()
def folder(tmp_path: Path) -> tuple[Path, Path]:
    return make_folder(tmp_path)


@pytest.fixture()
def client(folder: tuple[Path, Path]) -> TestClient:
    app = create_app(WorkbenchSettings(rulesets_dir=folder[0], token=TOKEN, port=PORT))
    return TestClient(app, base_url=BASE, headers={"X-Workbench-Token": TOKEN})


def _code(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_the_page_carries_the_session_token(client: TestClient) -> None:
    """The page is served with the token inside it, and is never cached or framed."""
    response = client.get("/")
    assert response.status_code == 200
    assert f'content="{TOKEN}"' in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert "https://" not in response.text and "http://" not in response.text  # no external resources


def test_the_page_and_the_service_share_one_ask_if_evaluator(client: TestClient) -> None:
    """Both pages load the one ask_if script, served by both apps byte for byte, and neither defines its own."""
    from invictus_rules.service.app import create_app as create_service

    script = client.get("/ask_if.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    service = TestClient(create_service())
    assert service.get("/ui/ask_if.js").content == script.content
    assert "const AskIf" in script.text
    for page, src in ((client.get("/").text, "/ask_if.js"), (service.get("/ui").text, "/ui/ask_if.js")):
        assert f'<script src="{src}"></script>' in page
        assert "function evaluate(" not in page and "Symbol(" not in page


@pytest.mark.parametrize("headers", [{}, {"X-Workbench-Token": "wrong"}, {"X-Workbench-Token": ""}])
def test_every_api_request_needs_the_token(folder: tuple[Path, Path], headers: dict[str, str]) -> None:
    """Without the session's token, reading and saving are refused, and the draft is untouched."""
    client = TestClient(create_app(WorkbenchSettings(rulesets_dir=folder[0], token=TOKEN, port=PORT)), base_url=BASE)
    before = folder[1].read_bytes()
    assert _code(client.get("/api/rulesets", headers=headers), 403)["type"].endswith("token-required")
    assert client.post("/api/save", json={"path": "nl/2026.3.yaml", "text": "x"}, headers=headers).status_code == 403
    assert folder[1].read_bytes() == before


def test_a_foreign_origin_or_host_is_refused(client: TestClient, folder: tuple[Path, Path]) -> None:
    """A request from another site's page (even with the token), or by a rebound host name, is refused."""
    before = folder[1].read_bytes()
    response = client.post("/api/save", json={"path": "nl/2026.3.yaml", "text": "x"}, headers={"Origin": "https://evil.example"})
    assert _code(response, 403)["type"].endswith("foreign-origin")
    assert _code(client.get("/api/rulesets", headers={"Host": "evil.example:8765"}), 403)["type"].endswith("foreign-host")
    assert client.get("/api/rulesets", headers={"Origin": BASE}).status_code == 200
    assert folder[1].read_bytes() == before


def test_rulesets_lists_drafts_as_editable(client: TestClient) -> None:
    """The listing names each file by its place in the folder; only the draft is editable."""
    nl = client.get("/api/rulesets").json()["countries"][0]
    editable = {v["path"]: v["editable"] for v in nl["versions"]}
    assert editable == {"nl/2025.1.yaml": False, "nl/2026.1.yaml": False, "nl/2026.2.yaml": False, "nl/2026.3.yaml": True}


def test_published_files_are_read_only(client: TestClient, folder: tuple[Path, Path]) -> None:
    """A published version opens read-only, and saving it is refused with the way forward."""
    published = folder[0] / "nl" / "2026.2.yaml"
    before = published.read_bytes()
    opened = client.post("/api/open", json={"path": "nl/2026.2.yaml"}).json()
    assert opened["editable"] is False
    problem = _code(client.post("/api/save", json={"path": "nl/2026.2.yaml", "text": opened["text"] + "\n# edited\n"}), 403)
    assert problem["type"].endswith("published-read-only") and "new-version" in problem["detail"]
    assert published.read_bytes() == before


def test_a_draft_cannot_be_marked_published_here(client: TestClient, folder: tuple[Path, Path]) -> None:
    """Saving a draft whose text says status: published is refused: publishing checks the draft first."""
    text = folder[1].read_text(encoding="utf-8")
    response = client.post("/api/save", json={"path": "nl/2026.3.yaml", "text": text.replace("status: draft", "status: published", 1)})
    assert "invictus-rules publish" in _code(response, 403)["detail"]
    assert folder[1].read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    "path",
    ["../manifest.json", "nl/../../outside.yaml", "/etc/passwd", "nl/tests/../2026.3.yaml", "nl\\2026.3.yaml", "NL/2026.3.yaml", "nl/2026.3.yaml/..", "nl/link.yaml"],
)
def test_only_files_inside_the_rulesets_folder(client: TestClient, folder: tuple[Path, Path], path: str) -> None:
    """Paths that leave the folder, or a link pointing out of it, are refused for reading and writing."""
    outside = folder[0].parent / "outside.yaml"
    outside.write_text("secret: 1\n", encoding="utf-8")
    (folder[0] / "nl" / "link.yaml").symlink_to(outside)
    assert _code(client.post("/api/open", json={"path": path}), 403)["type"].endswith("outside-rulesets-folder")
    assert _code(client.post("/api/save", json={"path": path, "text": "x: 1\n"}), 403)["type"].endswith("outside-rulesets-folder")
    assert outside.read_text(encoding="utf-8") == "secret: 1\n"


def test_a_test_file_is_not_saved_as_a_ruleset(client: TestClient) -> None:
    """The editor saves ruleset drafts only, not test files or new files."""
    assert client.post("/api/save", json={"path": "nl/tests/dv_risk.yaml", "text": "x: 1\n"}).status_code == 403
    assert client.post("/api/save", json={"path": "nl/2099.1.yaml", "text": "x: 1\n"}).status_code == 403


def test_problems_are_reported_at_their_line_with_the_fix(client: TestClient, folder: tuple[Path, Path]) -> None:
    """A misspelt question in a condition is an error at its line with a did-you-mean, before and after saving."""
    text = folder[1].read_text(encoding="utf-8")
    line = text.splitlines().index("        when: strangulation") + 1
    broken = text.replace("        when: strangulation\n", "        when: strangulaton\n", 1)
    problems = client.post("/api/check", json={"path": "nl/2026.3.yaml", "text": broken}).json()["problems"]
    error = next(p for p in problems if p["severity"] == "error")
    assert (error["line"], error["code"]) == (line, "unknown-question")
    assert "strangulation" in error["hint"]
    assert "file" not in error
    saved = client.post("/api/save", json={"path": "nl/2026.3.yaml", "text": broken}).json()
    assert saved["saved"] and saved["problems"][0]["line"] == line  # a draft with errors can be saved
    assert folder[1].read_text(encoding="utf-8") == broken
    assert not list(folder[1].parent.glob(".*.tmp"))


def test_both_results_and_their_differences(client: TestClient, folder: tuple[Path, Path]) -> None:
    """The case is assessed under the edited draft and the version in force; the changed referral is named."""
    text = folder[1].read_text(encoding="utf-8")
    edited = text.replace("service: politie\n    when: level(dv_risk) == \"high\"\n    priority: urgent", "service: politie\n    when: level(dv_risk) == \"high\"\n    priority: immediate", 1)
    assert edited != text
    body = {"path": "nl/2026.3.yaml", "text": edited, "answers": STRANGULATION_CASE, "as_of": "2026-12-07", "language": "en"}
    data = client.post("/api/assess", json=body).json()
    assert data["draft"]["ruleset"]["version"] == "2026.3" and data["in_force"]["ruleset"]["version"] == "2026.2"
    assert data["differences"] == ["referral:politie"]
    assert data["draft"]["language"] == "en"


def test_save_as_test_then_run_the_tests(client: TestClient, folder: tuple[Path, Path]) -> None:
    """A saved case becomes a test pinned to the draft in the country's tests folder, and the draft's coverage counts it."""
    before = client.post("/api/run-tests", json={"path": "nl/2026.3.yaml"}).json()["coverage"]["cases"]
    saved = client.post("/api/save-test", json={"path": "nl/2026.3.yaml", "answers": STRANGULATION_CASE, "as_of": "2026-12-07", "language": "en", "name": "Strangulation"}).json()
    assert saved["path"] == "nl/tests/2026_3_strangulation.yaml"
    assert "ruleset: nl@2026.3" in saved["text"]
    assert (folder[0] / saved["path"]).is_file()
    run = client.post("/api/run-tests", json={"path": "nl/2026.3.yaml"}).json()
    assert run["failed"] == 0 and run["passed"] > 100
    assert run["coverage"]["ruleset"] == "nl@2026.3" and run["coverage"]["cases"] == before + 1 and 0 < run["coverage"]["percent"] <= 100


def test_the_semantic_diff_against_the_version_in_force(client: TestClient, folder: tuple[Path, Path]) -> None:
    """The diff compares the saved draft with the version in force today."""
    text = folder[1].read_text(encoding="utf-8")
    folder[1].write_text(text.replace("    priority: urgent\n", "    priority: standard\n", 1), encoding="utf-8")
    data = client.post("/api/diff", json={"path": "nl/2026.3.yaml"}).json()
    assert data["changed"] is True and data["against"].startswith("nl@")
    assert "priority" in data["html"]


def test_questionnaire_of_the_edited_draft(client: TestClient, folder: tuple[Path, Path]) -> None:
    """The case form comes from the draft as edited; an invalid draft gives the problems instead."""
    text = folder[1].read_text(encoding="utf-8")
    ok = client.post("/api/questionnaire", json={"path": "nl/2026.3.yaml", "text": text})
    assert ok.status_code == 200 and any(q["id"] == "strangulation" for q in ok.json()["questions"])
    broken = client.post("/api/questionnaire", json={"path": "nl/2026.3.yaml", "text": text.replace("when: strangulation\n", "when: strangulaton\n", 1)})
    assert broken.status_code == 500 and broken.json()["problems"][0]["code"] == "unknown-question"


def test_the_command_refuses_a_folder_without_rulesets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Started where there is no rulesets folder, the command says how to point it at one."""
    import io

    err = io.StringIO()
    assert main(["workbench", "--rulesets", str(tmp_path)], stdout=io.StringIO(), stderr=err) == 1
    assert "no-rulesets" in err.getvalue() and "--rulesets" in err.getvalue()


def test_the_command_never_edits_the_installed_package(capsys: pytest.CaptureFixture[str]) -> None:
    """The rulesets inside the installed package are refused as a workbench folder."""
    import io

    from invictus_rules.workbench import commands

    package_rulesets = Path(commands.__file__).resolve().parents[1] / "rulesets"
    err = io.StringIO()
    assert main(["workbench", "--rulesets", str(package_rulesets)], stdout=io.StringIO(), stderr=err) == 1
    assert "installed-package" in err.getvalue()


def test_the_answers_never_appear_in_an_error(client: TestClient) -> None:
    """A wrong answer is reported by question and kind, never by its value."""
    response = client.post("/api/assess", json={"path": "nl/2026.3.yaml", "answers": {"crime_type": "SECRET-VALUE-42"}, "as_of": "2026-12-07"})
    assert response.status_code == 422
    assert "SECRET-VALUE-42" not in response.text
    json.loads(response.text)


def test_a_body_over_the_limit_is_refused(client: TestClient, folder: tuple[Path, Path]) -> None:
    """A request body larger than any ruleset is refused before it is parsed, and nothing is written."""
    before = folder[1].read_bytes()
    response = client.post("/api/save", content=b'{"path": "nl/2026.3.yaml", "text": "' + b"x" * (5 * 1024 * 1024) + b'"}', headers={"Content-Type": "application/json"})
    assert _code(response, 413)["type"].endswith("request-too-large")
    assert folder[1].read_bytes() == before
