"""Browser files that the service's interview page and the workbench share, served as they are (no build step)."""

from __future__ import annotations

from importlib import resources

from starlette.responses import Response

SCRIPTS = frozenset({"ask_if.js"})
"""The shared scripts: ``ask_if.js`` evaluates the questionnaire export's ``ask_if`` trees."""


def script_response(name: str) -> Response:
    """One shared script as a response, read from the package (so a wheel serves it too)."""
    if name not in SCRIPTS:
        raise KeyError(name)
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return Response(text, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})
