"""The HTTP service: a thin ASGI layer (FastAPI) over the public API, like the CLI.

It owns no evaluation logic: every endpoint calls :class:`Registry` and :class:`Ruleset`. Requests
and responses are JSON; errors are RFC 9457 problem documents carrying the Problem records; no
answer value is ever put in an error or a log line. See the README, "Run as a service".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._version import __version__
from ..api import Ruleset
from ..errors import InvictusError
from ..load import read_manifest
from ..record import DecisionRecord
from ..refs import RULESET_REFERENCE, parse_ruleset_ref
from ..registry import Registry
from ..schemas import SCHEMAS
from ..static import script_response
from ..texts import pick_text
from .auth import ApiKeys
from .decision_log import DecisionLog
from .problems import http_error_handler, invictus_error_handler, problem_response, request_validation_handler, validation_problems

log = logging.getLogger("invictus_rules.service")



class ServiceSettings(BaseModel):
    """What a service instance is configured with (from ``invictus-rules serve`` options)."""

    model_config = ConfigDict(frozen=True)

    rulesets_dir: str | None = None
    database: str | None = None
    api_keys_file: str | None = None
    max_body_bytes: int = 1024 * 1024
    request_timeout_seconds: float = 10.0


class CaseRequest(BaseModel):
    """A case to assess: a case file (answers, optional case id, date and language) plus the ruleset."""

    model_config = ConfigDict(extra="forbid")

    ruleset: str = Field(pattern=RULESET_REFERENCE, description='a country code ("nl": the version in force on as_of) or "cc@version"', examples=["nl"])
    case_id: str | None = Field(default=None, max_length=200, description="the case system's id, kept in decision records")
    as_of: dt.date | None = Field(default=None, description="the assessment date; default today (the service's clock)")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$", description="language of the texts; default the ruleset's")
    answers: dict[str, Any] = Field(
        description='answers by question id: the value, null, {"status": "declined"} or {"status": "unknown"}',
        examples=[{"safe_to_talk": True, "in_immediate_danger": False, "crime_type": "domestic_violence"}],
    )


class ReplayRequest(BaseModel):
    """A decision record and the answers it is said to have been made from."""

    model_config = ConfigDict(extra="forbid")

    record: dict[str, Any] = Field(description="a decision record, as POST /v1/assess?record=true stored it (or its `record` part from GET /v1/records)")
    answers: dict[str, Any] = Field(description="the answers of the case, checked against the record's digest")


class RulesetVersion(BaseModel):
    version: str
    status: str
    effective_from: dt.date | None
    effective_until: dt.date | None
    sha256: str | None = Field(description="the hash recorded in the manifest (published versions)")
    in_force: bool


class CountryRulesets(BaseModel):
    country: str
    in_force: str | None = Field(description="the version in force today, if any")
    versions: list[RulesetVersion]


class InterviewQuestion(BaseModel):
    id: str
    type: str
    section: str | None
    required: bool
    text: str
    help: str | None
    options: list[dict[str, str]] | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None


class InterviewStep(BaseModel):
    ruleset: dict[str, Any]
    language: str
    status: str = Field(description="in_progress, complete or complete_with_declined")
    next_questions: list[InterviewQuestion]
    pending: list[dict[str, Any]]


class _BodyLimit:
    """Refuses request bodies over a size, whether or not Content-Length is sent (pure ASGI).

    The body is read (up to the limit) before the application sees it, so an oversized body is a
    413 problem and never a half-parsed request.
    """

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(self.limit)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _too_large(self.limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class _TimeLimitAndAccessLog:
    """Answers 503 when a request takes too long, and logs one line per request (pure ASGI).

    The line names the method, path, status, time and the caller's key id: never a body or a
    query string.
    """

    def __init__(self, app: ASGIApp, seconds: float):
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, watched), self.seconds)
        except TimeoutError:
            if status == 0:
                status = 503
                detail = f"answered within {self.seconds} s or not at all; try again"
                await problem_response(503, "request-timeout", "The request took too long", detail)(scope, receive, send)
        log.info(
            "%s %s %s %.1fms key=%s",
            scope["method"],
            scope["path"],
            status,
            (time.perf_counter() - started) * 1000,
            scope.get("state", {}).get("key_id", "-"),
        )


async def _append(decision_log: DecisionLog, record: dict[str, Any]) -> Any:
    """Append in a worker thread, so that the event loop serves other requests meanwhile and appends
    made at the same time share one commit (group commit, see ``decision_log``).

    Once started, the append is seen through even when the time limit runs out: a record that may
    be committed is never answered with "try again", which would store the decision twice.
    """
    write = asyncio.ensure_future(run_in_threadpool(decision_log.append, record))
    try:
        return await asyncio.shield(write)
    except asyncio.CancelledError:
        return await write


def _too_large(limit: int) -> Response:
    return problem_response(413, "request-too-large", "The request body is too large", f"send at most {limit:,} bytes: one case per request")


def create_app(settings: ServiceSettings | None = None, *, registry: Registry | None = None, decision_log: DecisionLog | None = None) -> FastAPI:
    """The ASGI application. Tests pass a registry or log; ``serve`` passes settings only."""
    settings = settings or ServiceSettings()
    keys = ApiKeys.from_file(settings.api_keys_file) if settings.api_keys_file else ApiKeys.none()
    registry = registry or Registry(settings.rulesets_dir)
    if decision_log is None and settings.database:
        decision_log = DecisionLog(settings.database)

    app = FastAPI(
        title="invictus-rules",
        version=__version__,
        summary="Victim needs assessment, referral and information rules (EU Directive 2012/29/EU) as a service",
        description=(
            "Assess a crime victim's case against a country's versioned ruleset. Assessments are "
            "special-category personal data; decision records hold no answer values. Errors are RFC 9457 "
            "problem documents (application/problem+json)."
        ),
    )
    app.add_exception_handler(InvictusError, invictus_error_handler)
    app.add_exception_handler(RequestValidationError, request_validation_handler)
    app.add_exception_handler(HTTPException, http_error_handler)

    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(_TimeLimitAndAccessLog, seconds=settings.request_timeout_seconds)

    async def authorised(request: Request) -> None:
        key_id = keys.check(request.headers.get("authorization"))
        if key_id is None:
            raise HTTPException(401, "a valid API key is required: send Authorization: Bearer <key>", headers={"WWW-Authenticate": "Bearer"})
        request.state.key_id = key_id

    guarded = [Depends(authorised)]

    def ruleset_for(reference: str, as_of: dt.date | None) -> Ruleset:
        country, version = parse_ruleset_ref(reference) or (reference, None)  # the request model's pattern lets only references through
        return registry.get(country, as_of=as_of, version=version)

    @app.get("/v1/health", tags=["service"])
    async def health() -> dict[str, Any]:
        """Liveness and what this instance runs."""
        return {"status": "ok", "engine_version": __version__, "database": decision_log.dialect if decision_log else None}

    @app.get("/v1/rulesets", dependencies=guarded, tags=["rulesets"])
    async def rulesets(as_of: dt.date | None = None) -> list[CountryRulesets]:
        """Every country and version: status, effective dates, manifest hash, and which is in force."""
        day = as_of or dt.date.today()
        manifest = read_manifest(registry.folder)
        listing = []
        for country in registry.countries():
            versions = registry.versions(country)
            in_force = [v for v in versions if v.in_force(day)]
            current = max(in_force, key=lambda v: (v.effective_from, v.version)) if in_force else None
            listing.append(
                CountryRulesets(
                    country=country,
                    in_force=current.version if current else None,
                    versions=[
                        RulesetVersion(
                            version=v.version,
                            status=v.status,
                            effective_from=v.effective_from,
                            effective_until=v.effective_until,
                            sha256=manifest.get(f"{country}/{v.path.name}"),
                            in_force=v is current,
                        )
                        for v in versions
                    ],
                )
            )
        return listing

    @app.get("/v1/rulesets/{country}/questionnaire", dependencies=guarded, tags=["rulesets"])
    async def questionnaire(
        country: str,
        as_of: dt.date | None = None,
        version: Annotated[str | None, Query(pattern=r"^[0-9]{4}\.[0-9]+$")] = None,
    ) -> JSONResponse:
        """The questionnaire export: every language, sections, types, bounds, options, ask_if trees."""
        return JSONResponse(registry.get(country, as_of=as_of, version=version).questionnaire())

    @app.get("/v1/rulesets/{country}/answers-schema", dependencies=guarded, tags=["rulesets"])
    async def answers_schema(country: str, as_of: dt.date | None = None, version: Annotated[str | None, Query(pattern=r"^[0-9]{4}\.[0-9]+$")] = None) -> JSONResponse:
        """A JSON Schema of the answers one version accepts."""
        return JSONResponse(registry.get(country, as_of=as_of, version=version).answers_schema())

    @app.post("/v1/assess", dependencies=guarded, tags=["assessment"])
    async def assess(case: CaseRequest, trace: bool = False, record: bool = False) -> Response:
        """Assess a case; the assessment (special-category personal data) comes back as JSON.

        With ``record=true`` the decision record (no answer values) is appended to the decision log;
        its id comes back in the ``Location`` and ``X-Record-Id`` headers.
        """
        if record and decision_log is None:
            return problem_response(409, "no-decision-log", "This service keeps no decision log", "start it with --database to store records")
        ruleset = ruleset_for(case.ruleset, case.as_of)
        answers = ruleset.validate_answers(case.answers, path_prefix="$.answers")
        assessment = ruleset.evaluate(answers, as_of=case.as_of or dt.date.today(), language=case.language, trace=trace)
        headers = {}
        if record:
            assert decision_log is not None
            stored = await _append(decision_log, assessment.record(case.answers, case_id=case.case_id).model_dump(mode="json"))
            headers = {"Location": f"/v1/records/{stored.record_id}", "X-Record-Id": stored.record_id}
        return Response(assessment.model_dump_json(), media_type="application/json", headers=headers)

    @app.post("/v1/interview/next", dependencies=guarded, tags=["assessment"])
    async def interview_next(case: CaseRequest) -> InterviewStep:
        """The answers so far -> the next questions in the case's language, the status, what is pending."""
        ruleset = ruleset_for(case.ruleset, case.as_of)
        assessment = ruleset.evaluate(case.answers, as_of=case.as_of or dt.date.today(), language=case.language, trace=False)
        language = assessment.language
        questions = {q.id: q for q in ruleset.questions}
        next_questions = [_interview_question(questions[question_id], language, ruleset) for question_id in assessment.next_questions]
        return InterviewStep(
            ruleset=assessment.ruleset.model_dump(mode="json"),
            language=language,
            status=_status(assessment),
            next_questions=next_questions,
            pending=[p.model_dump(mode="json") for p in assessment.pending],
        )

    @app.post("/v1/validate", dependencies=guarded, tags=["assessment"])
    async def validate(case: CaseRequest) -> dict[str, Any]:
        """Check a case's answers against the questionnaire: valid, or 422 with every problem."""
        ruleset = ruleset_for(case.ruleset, case.as_of)
        ruleset.validate_answers(case.answers, path_prefix="$.answers")
        return {"valid": True, "ruleset": ruleset.ref.model_dump(mode="json")}

    def log_or_problem() -> DecisionLog:
        if decision_log is None:
            raise HTTPException(409, "this service keeps no decision log: start it with --database")
        return decision_log

    @app.get("/v1/records/{record_id}", dependencies=guarded, tags=["records"])
    async def get_record(record_id: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
        """One stored decision record with its place in the hash chain."""
        stored = log_or_problem().get(record_id)
        if stored is None:
            raise HTTPException(404, "no record with this id in the decision log")
        return stored.to_dict()

    @app.get("/v1/records", dependencies=guarded, tags=["records"])
    async def records_of_case(case_id: Annotated[str, Query(max_length=200)]) -> list[dict[str, Any]]:
        """The stored decision records of one case, oldest first."""
        return [stored.to_dict() for stored in log_or_problem().by_case(case_id)]

    @app.post("/v1/replay", dependencies=guarded, tags=["records"])
    async def replay(request: ReplayRequest) -> Response:
        """Re-run a decision record with its answers: identical, or a short summary of what differs.

        Refused (409) when the answers are not the recorded ones, or the record was made with
        another ruleset or deployment key; warnings name another engine build or dates outside
        the version's.
        """
        try:
            recorded = DecisionRecord.model_validate(request.record)
        except ValidationError as error:
            problems = validation_problems(error.errors(include_input=False), "$.record")
            return problem_response(422, "invalid-record", "The record is not a decision record", f"{len(problems)} problem(s) in the record", problems)
        ruleset = registry.get(recorded.ruleset.country, version=recorded.ruleset.version)
        return JSONResponse(ruleset.replay(recorded, request.answers).to_dict())

    @app.get("/v1/schemas/{name}", tags=["service"])
    async def schema(name: str) -> Response:
        """A published JSON Schema: ruleset, case, assessment, questionnaire, condition-tree."""
        if name not in SCHEMAS:
            return problem_response(404, "unknown-schema", "No such schema", f"schemas: {', '.join(sorted(SCHEMAS))}")
        return JSONResponse(SCHEMAS[name]())

    @app.get("/ui", include_in_schema=False)
    def ui() -> HTMLResponse:
        return HTMLResponse(resources.files(__package__).joinpath("ui.html").read_text(encoding="utf-8"))

    @app.get("/ui/ask_if.js", include_in_schema=False)
    def ask_if_script() -> Response:
        """The ask_if evaluator the interview page shares with the workbench."""
        return script_response("ask_if.js")

    app.state.registry = registry
    app.state.decision_log = decision_log
    return app


def _interview_question(question: Any, language: str, ruleset: Ruleset) -> InterviewQuestion:
    default = ruleset.compiled.metadata.default_language
    return InterviewQuestion(
        id=question.id,
        type=question.type,
        section=question.section,
        required=question.required,
        text=pick_text(question.text, language, default),
        help=pick_text(question.help, language, default) or None,
        options=[{"value": o.value, "label": pick_text(o.label, language, default)} for o in question.options] if question.options else None,
        min=question.min,
        max=question.max,
        max_length=question.max_length,
    )


def _status(assessment: Any) -> str:
    return "complete" if assessment.complete else "in_progress"





def app_from_environment() -> FastAPI:
    """The application as ``serve`` configures it (uvicorn's factory, in each worker process)."""
    from .commands import SETTINGS_ENV

    return create_app(ServiceSettings.model_validate_json(os.environ.get(SETTINGS_ENV) or "{}"))
