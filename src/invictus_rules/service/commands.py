"""CLI commands of the service: ``serve``, ``records verify`` and ``records export``.

The web framework is imported only when a command runs, so the rest of the CLI starts fast and
works without the service's dependencies installed.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
from typing import Any
from collections.abc import Callable

from ..errors import InvictusError, Problem

DEFAULT_DATABASE = "sqlite:///invictus-records.sqlite3"
SETTINGS_ENV = "INVICTUS_SERVICE_SETTINGS"
MAX_WORKERS = 64


class ServiceConfigError(InvictusError):
    """The service cannot start with these options."""

    code = "service-config"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cmd_serve(args: argparse.Namespace, io: Any) -> int:
    if not is_loopback(args.host) and not args.api_keys:
        raise ServiceConfigError(
            [
                Problem(
                    "api-keys-required",
                    f"refusing to listen on {args.host} without API keys: anyone on the network could assess cases",
                    "give --api-keys FILE (one '<key-id> <token>' per line), or listen on 127.0.0.1",
                )
            ]
        )
    if not 1 <= args.workers <= MAX_WORKERS:
        raise ServiceConfigError([Problem("workers", f"--workers must be from 1 to {MAX_WORKERS}", "use about one worker per core")])
    import uvicorn

    from .app import ServiceSettings, create_app

    settings = ServiceSettings(rulesets_dir=args.rulesets, database=args.database, api_keys_file=args.api_keys)
    create_app(settings)  # fail here, with a clear error, on a bad database URL or keys file
    os.environ[SETTINGS_ENV] = settings.model_dump_json()
    io.err.write(f"invictus-rules service on http://{args.host}:{args.port} (OpenAPI at /openapi.json, interview page at /ui)\n")
    uvicorn.run(
        "invictus_rules.service.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,  # the service logs its own access lines, without bodies or query strings
        log_config=_log_config(),
    )
    return 0


def _log_config() -> dict[str, Any]:
    """uvicorn's logging set-up, plus the service's own access log on the same handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = json.loads(json.dumps(LOGGING_CONFIG))
    config["loggers"]["invictus_rules.service"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return dict(config)


def cmd_records_verify(args: argparse.Namespace, io: Any) -> int:
    from .decision_log import DecisionLog

    log = DecisionLog(args.database)
    try:
        report = log.verify()
    finally:
        log.close()
    if args.format == "json":
        io.out.write(json.dumps({"rows": report.rows, "intact": report.intact, "broken_at": report.broken_at, "record_id": report.broken_record_id, "reason": report.reason}) + "\n")
    elif report.intact:
        io.out.write(f"ok: {report.rows} records, every link of the chain holds\n")
    else:
        io.out.write(f"BROKEN: the chain breaks at row {report.broken_at} (record {report.broken_record_id}): {report.reason}\n")
    return 0 if report.intact else 1


def cmd_records_export(args: argparse.Namespace, io: Any) -> int:
    from ..tools.files import write_atomic
    from .decision_log import DecisionLog

    log = DecisionLog(args.database)
    try:
        lines = [json.dumps(row.to_dict(), ensure_ascii=False, sort_keys=True) + "\n" for row in log.iter_all()]
    finally:
        log.close()
    if args.out:
        write_atomic(args.out, "".join(lines))
        io.err.write(f"wrote {len(lines)} records to {args.out}\n")
    else:
        io.out.writelines(lines)
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    serve = add("serve", cmd_serve, "run the HTTP service (FastAPI on uvicorn): assess, interview, validate, records; OpenAPI at /openapi.json")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other needs --api-keys)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--rulesets", metavar="DIR", help="the rulesets folder (default: the shipped one)")
    serve.add_argument("--database", metavar="URL", default=DEFAULT_DATABASE, help=f"decision log: sqlite:///FILE or postgresql://USER@HOST/DB (default {DEFAULT_DATABASE})")
    serve.add_argument("--api-keys", metavar="FILE", help="bearer tokens, one '<key-id> <token>' per line")

    records = add("records", lambda args, io: 2, "check or export the decision log")
    actions = records.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(records))
    verify = actions.add_parser("verify", help="check the hash chain; names the first broken link", description="check the hash chain; names the first broken link")
    verify.set_defaults(handler=cmd_records_verify)
    export = actions.add_parser("export", help="write every record as JSON lines, in chain order", description="write every record as JSON lines, in chain order")
    export.set_defaults(handler=cmd_records_export)
    for action in (verify, export):
        action.add_argument("--database", metavar="URL", default=DEFAULT_DATABASE, help=f"the decision log (default {DEFAULT_DATABASE})")
    verify.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    export.add_argument("--out", metavar="FILE", help="write to a file (atomically) instead of standard output")
