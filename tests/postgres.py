"""A throw-away PostgreSQL server in a temporary folder, for the decision-log tests.

It needs PostgreSQL's server programs (Debian's ``postgresql`` package; ``.ci/run`` installs it).
As root, the server runs as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _server_programs() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL server on loopback, stopped at the end of the session."""
    programs = _server_programs()
    if programs is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server programs are missing: .ci/run installs Debian's postgresql package")
        pytest.skip("PostgreSQL server programs (pg_ctl, initdb) are not installed")
    # Not under pytest's own temporary folder: that one is private to the user running the tests.
    folder = Path(tempfile.mkdtemp(prefix="invictus-postgres-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = _free_port()
    run = lambda command: subprocess.run(_as_server_user(command), check=True, capture_output=True, text=True, timeout=120)  # noqa: E731
    run([str(programs / "initdb"), "-D", str(data), "-U", "invictus", "--auth=trust", "-E", "UTF8", "--no-sync"])
    options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c listen_addresses=127.0.0.1"
    run([str(programs / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w", "-t", "60", "start"])
    try:
        yield f"postgresql://invictus@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(programs / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
