"""Throughput and latency of the HTTP service: POST /v1/assess on nl, 2 worker processes.

Starts ``invictus-rules serve --workers 2`` on loopback and measures, with ``wrk`` (Debian package
``wrk``) as the load generator on the same machine:

1. the maximum rate without storing records (``wrk``, closed loop, 16 connections);
2. the maximum rate storing a decision record per assessment in SQLite (``record=true``);
3. latency percentiles at half the maximum rate, from an open-loop generator in this script that
   sends requests on a fixed schedule (so a slow response cannot hide queueing: coordinated omission).

Targets (issue: case-system integration): at least 1,000 assessments/s without records and 500/s
with records on 2 cores; p99 under 25 ms at half the maximum rate. The load generator shares the two
cores with the server, so every figure here is a lower bound of what the server alone does.

    python benchmarks/service.py                # about a minute
    python benchmarks/service.py --seconds 5    # quicker, rougher
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cases  # noqa: E402

from invictus_rules import load_ruleset  # noqa: E402

TARGETS = {"without records": 1000.0, "with records": 500.0}
P99_TARGET_MS = 25.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bodies(count: int) -> list[str]:
    ruleset = load_ruleset("nl", as_of=cases.AS_OF)
    return [
        json.dumps({"ruleset": "nl", "as_of": cases.AS_OF.isoformat(), "language": "en", "case_id": f"bench-{n}", "answers": answers})
        for n, answers in enumerate(cases.generic_cases(ruleset, count))
    ]


def _wrk_script(bodies: list[str], path: str, folder: Path) -> Path:
    lua_bodies = ",\n".join("[==[" + body + "]==]" for body in bodies)
    script = folder / "assess.lua"
    script.write_text(
        f"""
local bodies = {{
{lua_bodies}
}}
local n = 0
request = function()
  n = n % #bodies + 1
  return wrk.format("POST", "{path}", {{["Content-Type"] = "application/json"}}, bodies[n])
end
""",
        encoding="utf-8",
    )
    return script


def _wrk(url: str, script: Path, seconds: int) -> dict[str, float]:
    done = subprocess.run(
        ["wrk", "-t", "1", "-c", "16", "-d", f"{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    text = done.stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if errors:
        raise SystemExit(f"the service answered {errors.group(1)} requests with an error:\n{text}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    return {"rate": rate, "p50_ms": _latency(text, "50%"), "p99_ms": _latency(text, "99%")}


def _latency(text: str, percentile: str) -> float:
    match = re.search(rf"^\s*{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


async def _open_loop(host: str, port: int, path: str, bodies: list[str], rate: float, seconds: float) -> list[float]:
    """Send requests at ``rate`` per second on a fixed schedule; latency counts from the scheduled time."""
    latencies: list[float] = []
    connections: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(32):
        connections.put_nowait(await asyncio.open_connection(host, port))

    async def one(body: str, scheduled: float) -> None:
        reader, writer = await connections.get()
        payload = body.encode()
        writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n".encode() + payload)
        await writer.drain()
        status = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        latencies.append((time.perf_counter() - scheduled) * 1000)
        if not status.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"the service answered {status!r}")
        connections.put_nowait((reader, writer))

    start = time.perf_counter()
    tasks = []
    total = int(rate * seconds)
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(bodies[n % len(bodies)], scheduled)))
    await asyncio.gather(*tasks)
    while not connections.empty():
        _, writer = connections.get_nowait()
        writer.close()
    return latencies


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15, help="length of each measured run (default 15)")
    parser.add_argument("--workers", type=int, default=2, help="service worker processes (default 2)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed as the load generator: apt-get install wrk")
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="invictus-bench-"))
    server_log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "invictus_rules", "serve", "--port", str(port), "--workers", str(args.workers), "--database", f"sqlite:///{folder / 'records.sqlite3'}"],
        stdout=subprocess.DEVNULL,
        stderr=server_log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(url + "/v1/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        bodies = _bodies(200)
        print(f"invictus-rules service benchmark: nl, {args.workers} workers, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        print(f"{'run':<34} {'rate/s':>9} {'p50 ms':>8} {'p99 ms':>8}  target")
        results: dict[str, dict[str, float]] = {}
        for name, path in (("without records", "/v1/assess"), ("with records", "/v1/assess?record=true")):
            script = _wrk_script(bodies, path, folder)
            _wrk(url, script, 2)  # warm-up: compile in each worker, fill caches
            results[name] = figures = _wrk(url, script, args.seconds)
            verdict = "MET" if figures["rate"] >= TARGETS[name] else "NOT MET"
            print(f"{'max rate, ' + name:<34} {figures['rate']:>9.0f} {figures['p50_ms']:>8.2f} {figures['p99_ms']:>8.2f}  >= {TARGETS[name]:.0f}/s: {verdict}")
        half = results["without records"]["rate"] / 2
        latencies = asyncio.run(_open_loop("127.0.0.1", port, "/v1/assess", bodies, half, args.seconds))
        p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
        verdict = "MET" if p99 < P99_TARGET_MS else "NOT MET"
        print(f"{f'open loop at {half:.0f}/s (half max)':<34} {half:>9.0f} {p50:>8.2f} {p99:>8.2f}  p99 < {P99_TARGET_MS:.0f} ms: {verdict}")
        print(f"mean latency {statistics.fmean(latencies):.2f} ms over {len(latencies)} requests; load at the end {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(20)
        server_log.close()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
