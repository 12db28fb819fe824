"""The hash-chained decision log, in SQLite and in a real PostgreSQL server: appends, tamper detection, export."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from invictus_rules.cli import main
from invictus_rules.service.decision_log import DecisionLog, DecisionLogError, StoredRecord, database_url

from .postgres import postgres_url  # noqa: F401  (the fixture)


def _record(number: int, case_id: str = "case-1") -> dict[str, object]:
    return {"format": "test-record", "record_id": f"rec-{number:04d}", "case_id": case_id, "created_at": "2026-12-07T10:00:00Z", "decisions": {"n": number}}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    _execute(url, "DROP TABLE IF EXISTS invictus_decision_records")
    return url


def _execute(database: str, sql: str) -> None:
    engine = sa.create_engine(database_url(database))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(sql)
    finally:
        engine.dispose()


def test_appends_chain_and_verify(database: str) -> None:
    """Records are appended in order, each linked to the one before, and the intact chain verifies."""
    log = DecisionLog(database)
    stored = [log.append(_record(n, "case-1" if n % 2 else "case-2")) for n in range(6)]
    assert [s.seq for s in stored] == sorted(s.seq for s in stored)
    assert stored[0].prev_hash == "0" * 64 and all(b.prev_hash == a.hash for a, b in zip(stored, stored[1:], strict=False))
    assert log.verify().intact and log.verify().rows == 6
    assert [s.record_id for s in log.by_case("case-2")] == ["rec-0000", "rec-0002", "rec-0004"]
    assert log.get("rec-0003").record == _record(3)
    assert log.get("nope") is None
    log.close()


def test_a_record_id_is_written_once(database: str) -> None:
    """Appending the same record id twice is refused with record-exists, and the chain stays intact."""
    log = DecisionLog(database)
    log.append(_record(1))
    with pytest.raises(DecisionLogError) as caught:
        log.append(_record(1))
    assert caught.value.problems[0].code == "record-exists"
    assert log.verify().intact
    log.close()


@pytest.mark.parametrize(
    "sql, broken_at",
    [
        ("UPDATE invictus_decision_records SET record = replace(record, '\"n\":3', '\"n\":9') WHERE record_id = 'rec-0003'", "rec-0003"),
        ("DELETE FROM invictus_decision_records WHERE record_id = 'rec-0002'", "rec-0003"),
        ("UPDATE invictus_decision_records SET record_id = 'rec-9999' WHERE record_id = 'rec-0004'", "rec-9999"),
    ],
)
def test_tampering_names_the_first_broken_link(database: str, sql: str, broken_at: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An edited, deleted or relabelled row breaks the chain there; `records verify` names it and exits 1."""
    log = DecisionLog(database)
    for n in range(6):
        log.append(_record(n))
    _execute(database, sql)
    report = log.verify()
    log.close()
    assert not report.intact and report.broken_record_id == broken_at
    assert main(["records", "verify", "--database", database]) == 1
    out = capsys.readouterr().out
    assert "BROKEN" in out and broken_at in out


def test_export_writes_every_record_in_chain_order(database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`records export` writes JSON lines that hold each record and its links; `records verify` says ok."""
    log = DecisionLog(database)
    for n in range(3):
        log.append(_record(n))
    log.close()
    out = tmp_path / "records.jsonl"
    assert main(["records", "export", "--database", database, "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["record"]["record_id"] for row in rows] == ["rec-0000", "rec-0001", "rec-0002"]
    assert main(["records", "verify", "--database", database]) == 0
    assert "ok: 3 records" in capsys.readouterr().out


def _append_many(database: str, prefix: str, count: int) -> None:
    log = DecisionLog(database)
    for n in range(count):
        log.append({"record_id": f"{prefix}-{n}", "case_id": prefix, "created_at": "now"})
    log.close()


def test_concurrent_writers_keep_one_chain(database: str) -> None:
    """Two processes appending at once (as two service instances would) leave one intact chain with every record."""
    context = multiprocessing.get_context("spawn")
    DecisionLog(database).close()  # create the table before the writers race
    writers = [context.Process(target=_append_many, args=(database, name, 40)) for name in ("a", "b")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    log = DecisionLog(database)
    report = log.verify()
    assert report.intact and report.rows == 80
    log.close()


def _slow_commits(log: DecisionLog) -> list[int]:
    """Make each commit of ``log`` take 20 ms more (so appends pile up behind it), and count them."""
    commits: list[int] = []

    @sa.event.listens_for(log._engine, "commit")
    def _slow(_connection: sa.Connection) -> None:
        commits.append(1)
        time.sleep(0.02)

    return commits


def test_concurrent_appends_in_one_process_share_commits(database: str) -> None:
    """Threads appending at once are written in shared transactions, and the chain stays whole and ordered."""
    log = DecisionLog(database)
    commits = _slow_commits(log)
    threads, per_thread = 8, 25
    results: dict[int, list[StoredRecord]] = {}
    start = threading.Barrier(threads)

    def writer(number: int) -> None:
        start.wait()
        results[number] = [log.append(_record(number * 1000 + n, f"case-{number}")) for n in range(per_thread)]

    workers = [threading.Thread(target=writer, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    report = log.verify()
    assert report.intact and report.rows == threads * per_thread
    assert len(commits) < threads * per_thread / 2, "appends made at the same time should share commits"
    rows = {row.record_id: row for row in log.iter_all()}
    for stored in results.values():
        assert [s.seq for s in stored] == sorted(s.seq for s in stored)  # each caller's records in its order
        assert all(rows[s.record_id] == s for s in stored)  # each caller got its own committed row
    log.close()


def test_concurrent_async_appends_keep_one_chain_that_verify_checks(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Appends from many tasks (through threads, as the service makes them) verify; a tampered row is still found."""
    log = DecisionLog(database)

    async def append_all() -> list[StoredRecord]:
        return await asyncio.gather(*(asyncio.to_thread(log.append, _record(n)) for n in range(60)))

    stored = asyncio.run(append_all())
    assert len({s.seq for s in stored}) == 60 and log.verify().intact
    middle = sorted(stored, key=lambda s: s.seq)[30]
    _execute(database, f"UPDATE invictus_decision_records SET record = replace(record, '\"n\":', '\"n\":1') WHERE record_id = '{middle.record_id}'")
    report = log.verify()
    log.close()
    assert not report.intact and report.broken_record_id == middle.record_id
    assert main(["records", "verify", "--database", database]) == 1
    assert middle.record_id in capsys.readouterr().out


def test_a_duplicate_in_a_shared_commit_fails_alone(database: str) -> None:
    """When one record of a batch is already in the log, the others are still stored and only it is refused."""
    log = DecisionLog(database)
    log.append(_record(5))
    _slow_commits(log)
    outcomes: dict[int, str] = {}
    start = threading.Barrier(10)

    def writer(number: int) -> None:
        start.wait()
        try:
            log.append(_record(number))
            outcomes[number] = "stored"
        except DecisionLogError as error:
            outcomes[number] = error.problems[0].code

    workers = [threading.Thread(target=writer, args=(number,)) for number in range(10)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert outcomes == {n: "record-exists" if n == 5 else "stored" for n in range(10)}
    assert log.verify().intact and log.verify().rows == 10
    log.close()


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    """A database that cannot be opened is a decision-log error naming it without its password."""
    with pytest.raises(DecisionLogError) as caught:
        DecisionLog("postgresql://someone:s3cret@127.0.0.1:1/none")
    message = str(caught.value)
    assert "database-unavailable" in message and "s3cret" not in message


def test_sqlite_file_is_a_plain_database(tmp_path: Path) -> None:
    """The default log is an ordinary SQLite file any tool can read."""
    path = tmp_path / "log.sqlite3"
    log = DecisionLog(str(path))
    log.append(_record(1))
    log.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM invictus_decision_records").fetchone() == (1,)
