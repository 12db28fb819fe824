"""The workbench's web application: a FastAPI app over the public API and the tools, for one user.

It listens on loopback only. Every ``/api`` request must carry the session's random token (in the
``X-Workbench-Token`` header; the page gets it inside its HTML, which another site cannot read), a
``Host`` naming the loopback address (against DNS rebinding) and, when the browser sends an
``Origin``, this workbench's own. Files are named by their path inside the rulesets folder and
resolved inside it: nothing outside the folder is read or written, and published versions are never
written. Drafts are saved atomically. Like the service, it owns no evaluation logic.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .._yaml import read_yaml
from ..api import Ruleset
from ..compile import compile_with_source
from ..errors import InvictusError, Problem
from ..load import list_countries, list_versions, read_manifest
from ..registry import Registry
from ..service.app import _BodyLimit
from ..service.problems import http_error_handler, invictus_error_handler, problem_response, request_validation_handler
from ..static import script_response
from ..tools.files import write_atomic

TOKEN_HEADER = "x-workbench-token"
MAX_BODY = 4 * 1024 * 1024
_RELATIVE = re.compile(r"^[a-z]{2}/[A-Za-z0-9_.-]+\.yaml$")


@dataclass(frozen=True)
class WorkbenchSettings:
    rulesets_dir: Path
    token: str
    port: int


class _Guard:
    """Refuses /api requests without the session token, from a foreign Origin, or for a foreign Host (pure ASGI)."""

    def __init__(self, app: ASGIApp, settings: WorkbenchSettings):
        self.app = app
        self.token = settings.token.encode()
        self.hosts = {f"{name}:{settings.port}".encode() for name in ("127.0.0.1", "localhost")}
        self.origins = {b"http://" + host for host in self.hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if headers.get(b"host") not in self.hosts:
            await problem_response(403, "foreign-host", "Wrong host", "open the workbench at the address it printed")(scope, receive, send)
            return
        origin = headers.get(b"origin")
        if origin is not None and origin not in self.origins:
            await problem_response(403, "foreign-origin", "Request from another site", "the workbench answers its own page only")(scope, receive, send)
            return
        if scope["path"].startswith("/api/") and not secrets.compare_digest(headers.get(TOKEN_HEADER.encode(), b""), self.token):
            await problem_response(403, "token-required", "Session token missing or wrong", "reload the workbench page")(scope, receive, send)
            return
        await self.app(scope, receive, send)


class Refused(Exception):
    """A request the workbench will not carry out (403), with a stable code."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


async def _refused_handler(_request: Request, error: Exception) -> Response:
    assert isinstance(error, Refused)
    return problem_response(403, error.code, "Not allowed in the workbench", error.detail)


class FileRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(max_length=200, description="a file inside the rulesets folder, e.g. nl/2026.3.yaml")


class TextRequest(FileRequest):
    text: str = Field(max_length=MAX_BODY)


class DraftRequest(FileRequest):
    text: str | None = Field(default=None, max_length=MAX_BODY, description="the draft's text as edited (default: as saved)")


class CaseRequest(DraftRequest):
    answers: dict[str, Any]
    as_of: dt.date | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    name: str | None = Field(default=None, max_length=200)


def create_app(settings: WorkbenchSettings) -> FastAPI:
    """The workbench application for one rulesets folder and one session token."""
    folder = settings.rulesets_dir.resolve()
    registry = Registry(folder)
    app = FastAPI(title="invictus-rules workbench", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(InvictusError, invictus_error_handler)
    app.add_exception_handler(RequestValidationError, request_validation_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    app.add_exception_handler(Refused, _refused_handler)
    app.add_middleware(_BodyLimit, limit=MAX_BODY + 64 * 1024)
    app.add_middleware(_Guard, settings=settings)

    def resolve(relative: str) -> Path:
        """A path inside the rulesets folder, or 403: no '..', no absolute paths, no links out."""
        if not _RELATIVE.fullmatch(relative) or ".." in relative:
            raise Refused("outside-rulesets-folder", "only ruleset files inside the rulesets folder can be opened: <cc>/<version>.yaml")
        path = (folder / relative).resolve()
        if not path.is_relative_to(folder):
            raise Refused("outside-rulesets-folder", "only files inside the rulesets folder can be opened")
        return path

    def relative(path: Path) -> str:
        """A path under the folder as the page names it (never resolved: a link stays where it is listed)."""
        return path.relative_to(folder).as_posix()

    def is_published(path: Path) -> bool:
        if relative(path) in read_manifest(folder):
            return True
        try:
            return bool(_status_in(path.read_bytes()) == "published")
        except OSError:
            return False

    def draft(request: FileRequest, text: str | None = None) -> tuple[Path, Ruleset]:
        path = resolve(request.path)
        source = text if text is not None else _read(path)
        compiled, _ = compile_with_source(source, request.path)
        return path, Ruleset(compiled, source)

    def in_force(country: str, as_of: dt.date) -> Ruleset | None:
        try:
            return registry.get(country, as_of=as_of)
        except InvictusError:
            return None

    @app.get("/", include_in_schema=False)
    def page() -> HTMLResponse:
        html = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")
        return HTMLResponse(html.replace("__WORKBENCH_TOKEN__", settings.token), headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"})

    @app.get("/ask_if.js", include_in_schema=False)
    def ask_if_script() -> Response:
        """The ask_if evaluator the page shares with the service's interview page."""
        return script_response("ask_if.js")

    @app.get("/api/rulesets")
    def rulesets() -> dict[str, Any]:
        """Every country with its versions, which is in force today, and which files are drafts."""
        today = dt.date.today()
        manifest = read_manifest(folder)
        countries = []
        for country in list_countries(folder):
            versions = list_versions(country, folder)
            current = [v for v in versions if v.in_force(today)]
            force = max(current, key=lambda v: (v.effective_from, v.version)).version if current else None
            countries.append(
                {
                    "country": country,
                    "in_force": force,
                    "versions": [
                        {"version": v.version, "status": v.status, "path": relative(v.path), "editable": v.status == "draft" and relative(v.path) not in manifest, "in_force": v.version == force}
                        for v in versions
                    ],
                }
            )
        return {"folder": folder.name, "today": today.isoformat(), "countries": countries}

    @app.post("/api/open")
    def open_file(request: FileRequest) -> dict[str, Any]:
        """A ruleset file's text, whether it may be edited, and its problems."""
        path = resolve(request.path)
        text = _read(path)
        return {"path": request.path, "text": text, "editable": not is_published(path), "problems": _problems(text, path, folder)}

    @app.post("/api/check")
    def check(request: TextRequest) -> dict[str, Any]:
        """Validate and lint the text as edited, without saving it."""
        path = resolve(request.path)
        return {"problems": _problems(request.text, path, folder)}

    @app.post("/api/save")
    def save(request: TextRequest) -> dict[str, Any]:
        """Save a draft atomically; refused for published versions and for text that says published."""
        path = resolve(request.path)
        if not path.is_file() or path.parent.name == "tests":
            raise Refused("not-a-draft", "only an existing draft can be saved here: start one with 'invictus-rules new-version'")
        if is_published(path):
            raise Refused("published-read-only", "this version is published, and published versions are never edited: start a new version with 'invictus-rules new-version'")
        if _status_in(request.text) == "published":
            raise Refused("publish-with-the-command", "a draft is published with 'invictus-rules publish', which checks it first: keep status: draft here")
        write_atomic(path, request.text)
        return {"saved": True, "problems": _problems(request.text, path, folder)}

    @app.post("/api/questionnaire")
    def questionnaire(request: DraftRequest) -> JSONResponse:
        """The questionnaire of the draft as edited, for the case form."""
        _, ruleset = draft(request, request.text)
        return JSONResponse(ruleset.questionnaire())

    @app.post("/api/assess")
    def assess(request: CaseRequest) -> dict[str, Any]:
        """The case under the draft and under the version in force on its date, and what differs."""
        _, ruleset = draft(request, request.text)
        as_of = request.as_of or dt.date.today()
        current = in_force(ruleset.country, as_of)
        language = request.language
        mine = ruleset.evaluate(request.answers, as_of=as_of, language=language, trace=False)
        theirs: dict[str, Any] | None = None
        problems: list[dict[str, Any]] = []
        if current is not None:
            usable = {k: v for k, v in request.answers.items() if k in {q.id for q in current.questions}}
            try:
                theirs = current.evaluate(usable, as_of=as_of, language=language if language in current.languages else None, trace=False).model_dump(mode="json")
            except InvictusError as error:  # e.g. an option the draft added: the answers do not fit the older version
                problems = [_problem(p) for p in error.problems]
        draft_result = mine.model_dump(mode="json")
        return {
            "draft": draft_result,
            "in_force": theirs,
            "in_force_version": f"{current.country}@{current.version}" if current is not None else None,
            "in_force_problems": problems,
            "differences": _differences(draft_result, theirs) if theirs is not None else [],
        }

    @app.post("/api/save-test")
    def save_test(request: CaseRequest) -> dict[str, Any]:
        """Write the case with its results under the saved draft as a test case pinned to it."""
        from ..tools.testwriter import write_test

        path, ruleset = draft(request)
        as_of = request.as_of or dt.date.today()
        written = write_test(ruleset, path, request.answers, as_of=as_of, language=request.language, name=request.name, source="the workbench")
        return {"path": relative(written.path), "text": written.text}

    @app.post("/api/run-tests")
    def run_tests(request: FileRequest) -> dict[str, Any]:
        """Run the country's tests; the coverage of the saved draft."""
        from ..tools.testing import Runner, find_test_files

        path, ruleset = draft(request)
        runner = Runner()
        results = [r for test in find_test_files([path.parent / "tests"]) for r in runner.run_file(test)]
        coverage = runner.coverage.get(ruleset.sha256)
        return {
            "passed": sum(r.passed for r in results),
            "failed": sum(not r.passed for r in results),
            "cases": [
                {
                    "file": relative(Path(r.file)),
                    "line": r.line,
                    "name": r.name,
                    "ruleset": r.ruleset,
                    "passed": r.passed,
                    "mismatches": [str(m) for m in r.mismatches],
                    "problems": [_problem(p) for p in r.error.problems] if r.error else [],
                }
                for r in results
            ],
            "coverage": {
                "ruleset": f"{ruleset.country}@{ruleset.version}",
                "cases": coverage.cases if coverage else 0,
                "rules": sum(1 for _ in coverage.rules()) if coverage else None,
                "percent": round(coverage.percent(), 1) if coverage else 0.0,
                "gaps": [{"kind": k, "id": i, "missing": w} for k, i, w in coverage.gaps()] if coverage else [],
            },
        }

    @app.post("/api/diff")
    def diff(request: FileRequest) -> dict[str, Any]:
        """The semantic diff of the saved draft against the version in force today."""
        from ..tools.diff import diff_rulesets, render_html_fragment

        _, ruleset = draft(request)
        current = in_force(ruleset.country, dt.date.today())
        if current is None:
            return {"against": None, "changed": False, "html": "<p>No version is in force today: nothing to compare with.</p>"}
        report = diff_rulesets(current.compiled, ruleset.compiled)
        return {"against": f"{current.country}@{current.version}", "changed": report.changed, "html": render_html_fragment(report)}

    app.state.settings = settings
    return app


def _status_in(text: str | bytes) -> Any:
    """The ``metadata.status`` a ruleset text declares, read with the project's safe YAML reader."""
    try:
        raw, _ = read_yaml(text, "<draft>")
    except InvictusError:
        return None
    metadata = raw.get("metadata") if isinstance(raw, dict) else None
    return metadata.get("status") if isinstance(metadata, dict) else None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HTTPException(404, "there is no such file in the rulesets folder") from None
    except (OSError, UnicodeDecodeError):
        raise HTTPException(400, "the file cannot be read as UTF-8 text") from None


def _problem(problem: Problem) -> dict[str, Any]:
    data = problem.to_dict()
    data.pop("file", None)
    return data


def _problems(text: str, path: Path, folder: Path) -> list[dict[str, Any]]:
    """Validation errors, or, for a valid ruleset, its lint findings: positioned, with the fix."""
    from ..tools.lint import lint_file

    try:
        compile_with_source(text, path.name)
    except InvictusError as error:
        return [_problem(p) for p in error.problems]
    with tempfile.TemporaryDirectory(prefix="invictus-workbench-") as scratch:
        trial = Path(scratch) / path.parent.name / path.name
        trial.parent.mkdir()
        trial.write_text(text, encoding="utf-8")
        return [_problem(p) for p in lint_file(trial) if p.code != "not-in-manifest"]


def _differences(draft: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Keys (``referral:<service>``, ``information:<id>``, ``level:<score>``...) whose result differs."""
    def facts(a: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"status": a["status"], "safety": a["safety"] is not None}
        out.update({f"level:{s['id']}": s["level"] or s["possible_levels"] for s in a["scores"]})
        out.update({f"referral:{r['service']}": (r["priority"], r["mode"]) for r in a["referrals"]})
        out.update({f"deferred:{d['rule']}": d["why"] for d in a.get("deferred", [])})
        out.update({f"information:{i['id']}": i["body"] for i in a["information"]})
        out.update({f"pending:{p['id']}": tuple(p["questions"]) for p in a["pending"]})
        return out

    mine, theirs = facts(draft), facts(current)
    return sorted(key for key in mine.keys() | theirs.keys() if mine.get(key) != theirs.get(key))
