"""The ``invictus-rules workbench`` command: the policy-staff workbench on 127.0.0.1.

The web framework is imported only when the command runs, as for ``serve``.
"""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import InvictusError, Problem
from ..load import RULESETS_ENV, list_countries

HOST = "127.0.0.1"  # never anything else: the workbench edits files and has no accounts


class WorkbenchConfigError(InvictusError):
    """The workbench cannot start with these options."""

    code = "workbench-config"


def rulesets_folder(option: str | None) -> Path:
    """``--rulesets``, else ``$INVICTUS_RULESETS``, else ./rulesets: the folder policy staff edit."""
    import os

    folder = Path(option or os.environ.get(RULESETS_ENV) or "rulesets")
    package = Path(__file__).resolve().parents[1]
    if folder.resolve() == package or package in folder.resolve().parents:
        raise WorkbenchConfigError(
            [Problem("installed-package", f"{folder} is inside the installed invictus-rules package, which is never edited", "copy the rulesets into your project and give --rulesets DIR")]
        )
    if not list_countries(folder):
        raise WorkbenchConfigError(
            [Problem("no-rulesets", f"{folder} holds no country folders (<cc>/<version>.yaml)", "give --rulesets DIR, or start the workbench in the folder above rulesets/")]
        )
    return folder


def cmd_workbench(args: argparse.Namespace, io: Any) -> int:
    try:
        import uvicorn

        from .app import WorkbenchSettings, create_app
    except ImportError:
        raise WorkbenchConfigError(
            [Problem("missing-dependencies", "the workbench needs FastAPI and uvicorn, which are not installed", "pip install 'invictus-rules[service]'")]
        ) from None

    if not 1 <= args.port <= 65535:
        raise WorkbenchConfigError([Problem("port", "--port must be from 1 to 65535", "e.g. --port 8765")])
    folder = rulesets_folder(args.rulesets)
    settings = WorkbenchSettings(rulesets_dir=folder, token=secrets.token_urlsafe(32), port=args.port)
    app = create_app(settings)
    io.err.write(f"invictus-rules workbench for {folder} on http://{HOST}:{args.port}/ (only this computer can open it; Ctrl+C stops it)\n")
    uvicorn.run(app, host=HOST, port=args.port, access_log=False, log_level="warning")
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    workbench = add("workbench", cmd_workbench, "open the policy-staff workbench: edit a draft, see problems at their lines, try cases against the version in force, save them as tests")
    workbench.add_argument("--rulesets", metavar="DIR", help=f"the rulesets folder to work in (default ${RULESETS_ENV}, else ./rulesets)")
    workbench.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
