"""Errors as RFC 9457 problem documents (``application/problem+json``) carrying the Problem records.

Nothing here quotes a request body: a problem names the question and the kind of value expected,
never the value (the library's errors are written that way), and request-validation errors keep
only where and what, never pydantic's ``input``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import AnswersError, CaseError, InvictusError, Problem, RulesetError, RulesetNotFoundError
from ..record import ReplayError
from .decision_log import DecisionLogError

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:invictus-rules:problem:"

_STATUS_OF: list[tuple[type[InvictusError], int, str]] = [
    (AnswersError, 422, "The answers do not fit the questionnaire"),
    (CaseError, 400, "The case cannot be read"),
    (RulesetNotFoundError, 404, "No such ruleset"),
    (RulesetError, 500, "The ruleset cannot be loaded"),
    (ReplayError, 409, "The record cannot be replayed with what was sent"),
    (DecisionLogError, 503, "The decision log is not available"),
]


def problem_response(status: int, code: str, title: str, detail: str, problems: list[Problem] | None = None, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "problems": [problem.to_dict() for problem in problems or ()],
    }
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def from_error(error: InvictusError) -> Response:
    status, title = 400, "The request cannot be processed"
    for kind, kind_status, kind_title in _STATUS_OF:
        if isinstance(error, kind):
            status, title = kind_status, kind_title
            break
    first = error.problems[0].message if error.problems else title
    detail = first if len(error.problems) <= 1 else f"{first} (and {len(error.problems) - 1} more problems)"
    return problem_response(status, error.code, title, detail, error.problems)


async def invictus_error_handler(_request: Request, error: Exception) -> Response:
    assert isinstance(error, InvictusError)
    return from_error(error)


def validation_problems(errors: list[dict[str, Any]] | Any, prefix: str = "$") -> list[Problem]:
    """pydantic's errors as Problems: where and what, never the ``input`` (it may be an answer)."""
    return [
        Problem(
            "request-" + str(item.get("type", "invalid")).replace("_", "-"),
            str(item.get("msg", "invalid value")),
            "see the OpenAPI description at /openapi.json",
            path=".".join([prefix, *(str(part) for part in item.get("loc", ()) if part != "body")]),
        )
        for item in errors
    ]


async def request_validation_handler(_request: Request, error: Exception) -> Response:
    """Where the request does not fit the endpoint: location and kind only, never the input."""
    assert isinstance(error, RequestValidationError)
    problems = validation_problems(error.errors())
    return problem_response(422, "invalid-request", "The request does not fit the API", f"{len(problems)} problem(s) in the request", problems)


async def http_error_handler(_request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    code = {401: "unauthorized", 404: "not-found", 405: "method-not-allowed", 413: "request-too-large"}.get(error.status_code, "http-error")
    headers = dict(error.headers or {})
    return problem_response(error.status_code, code, str(error.detail), str(error.detail), headers=headers)
