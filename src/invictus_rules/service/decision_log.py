"""An append-only, hash-chained log of decision records in SQLite or PostgreSQL (SQLAlchemy Core).

Each row holds one decision record (ids, hashes, decisions: never answer values) and
``hash = sha256(previous hash + "\\n" + canonical JSON of the record)``, so editing, removing or
reordering any row breaks every link after it: :meth:`DecisionLog.verify` names the first broken one.

Several processes, on one machine or several, append to one log: on PostgreSQL an advisory lock held
for the transaction serialises appends; on SQLite ``BEGIN IMMEDIATE`` takes the write lock before the
chain head is read. The default database is an SQLite file: nothing to set up.

Group commit: appends made at the same time by threads of one process share one transaction. The
first caller to find no write under way becomes the writer: it takes every record waiting (its own
included, at most ``MAX_BATCH``), chains them in arrival order after the head it reads under the
database lock, commits once, and then releases each waiting caller with its stored row. Records
arriving meanwhile wait for the next batch, written by one of their callers. A caller returns only
after the transaction holding its record has committed, so durability is that of a single append;
only the number of commits (and fsyncs) falls.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Generator, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from ..errors import InvictusError, Problem

GENESIS = "0" * 64
"""The ``previous hash`` of the first row."""
_ADVISORY_LOCK_KEY = 0x1E7C_D10C
"""A fixed key for PostgreSQL's advisory lock around appends (any 64-bit number unique to this table)."""

MAX_BATCH = 256
"""The most records one transaction takes; callers beyond it wait for the next one."""

_metadata = sa.MetaData()
records_table = sa.Table(
    "invictus_decision_records",
    _metadata,
    sa.Column("seq", sa.Integer, sa.Identity(start=1), primary_key=True),
    sa.Column("record_id", sa.String(64), nullable=False, unique=True),
    sa.Column("case_id", sa.String(200), nullable=True, index=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

_INSERT = records_table.insert().returning(records_table.c.seq, sort_by_parameter_order=True)


class DecisionLogError(InvictusError):
    """The decision log cannot be opened, written or read."""

    code = "decision-log"


def canonical_json(record: Mapping[str, Any]) -> str:
    """The one serialisation a record's hash is computed over."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, record_json: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{record_json}".encode()).hexdigest()


@dataclass(frozen=True)
class StoredRecord:
    """A record as stored: its place in the chain and the record itself."""

    seq: int
    record_id: str
    case_id: str | None
    created_at: str
    record: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "prev_hash": self.prev_hash, "hash": self.hash, "record": self.record}


@dataclass(frozen=True)
class ChainReport:
    """The result of checking a log: how many rows, and the first broken link if any."""

    rows: int
    broken_at: int | None = None
    broken_record_id: str | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def database_url(url: str) -> str:
    """A URL SQLAlchemy can open: ``postgresql://`` uses psycopg 3; a bare path is an SQLite file."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{url}"
    return url


def _describe(url: str) -> str:
    """The database named without credentials, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "the database URL"


class _Waiting:
    """One record waiting to be written, and what its caller gets back: the stored row or an error."""

    __slots__ = ("record", "record_json", "record_id", "case_id", "created_at", "stored", "error", "done")

    def __init__(self, record: Mapping[str, Any]):
        self.record = record
        self.record_json = canonical_json(record)
        self.record_id = str(record["record_id"])
        self.case_id: str | None = record.get("case_id")
        self.created_at = str(record.get("created_at", ""))
        self.stored: StoredRecord | None = None
        self.error: DecisionLogError | None = None
        self.done = False

    def result(self) -> StoredRecord:
        if self.error is not None:
            raise self.error
        assert self.stored is not None
        return self.stored


class DecisionLog:
    """The log in one database. Create once per process and share: it holds a connection pool, and
    threads appending at once share a transaction (group commit, see the module docstring)."""

    def __init__(self, url: str):
        self._url = database_url(url)
        try:
            self._engine = sa.create_engine(self._url, future=True)
        except (sa.exc.ArgumentError, ImportError) as error:
            raise DecisionLogError(
                [Problem("database-url", f"cannot use {_describe(self._url)}: {type(error).__name__}", "give sqlite:///FILE or postgresql://USER@HOST/DB")]
            ) from None
        self._postgres = self._engine.dialect.name == "postgresql"
        self._state = threading.Condition()
        self._queue: list[_Waiting] = []
        self._writing = False
        if self._engine.dialect.name == "sqlite":
            _sqlite_write_locks(self._engine)
        try:
            _metadata.create_all(self._engine)
        except sa.exc.SQLAlchemyError as error:
            raise _database_error("open", self._url, error) from None

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def close(self) -> None:
        self._engine.dispose()

    def append(self, record: Mapping[str, Any]) -> StoredRecord:
        """Add a record at the end of the chain; returns once it is committed. Atomic and safe with
        concurrent writers: threads of this process share a transaction, processes take turns."""
        waiting = _Waiting(record)
        with self._state:
            self._queue.append(waiting)
            while not waiting.done and self._writing:
                self._state.wait()
            if waiting.done:
                return waiting.result()
            self._writing = True
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            self._write(batch)
        finally:
            with self._state:
                for item in batch:
                    if item.stored is None and item.error is None:  # the writer was interrupted
                        item.error = DecisionLogError([Problem("write-interrupted", "the write of this record was interrupted; it was not stored", "try again")])
                    item.done = True
                self._writing = False
                self._state.notify_all()
        return waiting.result()

    def _write(self, batch: list[_Waiting]) -> None:
        """Write ``batch`` in one transaction, or, when one of its record ids is already taken, each
        record in its own, so that only the duplicate is refused."""
        try:
            self._commit(batch)
        except sa.exc.IntegrityError:
            if len(batch) == 1:
                batch[0].error = DecisionLogError(
                    [Problem("record-exists", "a record with this record_id is already in the log", "records are written once; make a new record")]
                )
            else:
                for item in batch:
                    self._write([item])
        except sa.exc.SQLAlchemyError as error:
            for item in batch:
                item.error = _database_error("write to", self._url, error)

    def _commit(self, batch: list[_Waiting]) -> None:
        """Chain ``batch`` after the head, under the database's write lock, and commit once."""
        with self._engine.begin() as connection:
            if self._postgres:
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
            head = connection.execute(sa.select(records_table.c.hash).order_by(records_table.c.seq.desc()).limit(1)).scalar()
            prev_hash = head or GENESIS
            rows: list[dict[str, Any]] = []
            for item in batch:
                digest = chain_hash(prev_hash, item.record_json)
                rows.append({"record_id": item.record_id, "case_id": item.case_id, "created_at": item.created_at, "record": item.record_json, "prev_hash": prev_hash, "hash": digest})
                prev_hash = digest
            # one statement for the batch; the sequence numbers come back in the rows' order
            seqs = connection.execute(_INSERT, rows).scalars().all()
        for item, row, seq in zip(batch, rows, seqs, strict=True):
            item.stored = StoredRecord(seq, item.record_id, item.case_id, item.created_at, dict(item.record), row["prev_hash"], row["hash"])

    def get(self, record_id: str) -> StoredRecord | None:
        found = list(self._select(records_table.c.record_id == record_id, limit=1))
        return found[0] if found else None

    def by_case(self, case_id: str, *, limit: int = 1000) -> list[StoredRecord]:
        return list(self._select(records_table.c.case_id == case_id, limit=limit))

    def iter_all(self) -> Iterator[StoredRecord]:
        """Every row in chain order, streamed."""
        return self._select(None)

    def verify(self) -> ChainReport:
        """Recompute every link; report the first row whose hash or previous hash does not fit."""
        expected_prev = GENESIS
        rows = 0
        try:
            with closing(self._raw_rows()) as stream:
                for row in stream:
                    rows += 1
                    if row.prev_hash != expected_prev:
                        return ChainReport(rows, row.seq, row.record_id, "its previous hash is not the hash of the row before (a row was removed, reordered or inserted)")
                    if chain_hash(row.prev_hash, row.record) != row.hash:
                        return ChainReport(rows, row.seq, row.record_id, "its content does not match its hash (the row was edited)")
                    try:
                        stored = json.loads(row.record)
                    except ValueError:
                        stored = None
                    if not isinstance(stored, dict) or stored.get("record_id") != row.record_id or canonical_json(stored) != row.record:
                        return ChainReport(rows, row.seq, row.record_id, "its record_id column does not match the record it holds")
                    expected_prev = row.hash
        except sa.exc.SQLAlchemyError as error:
            raise _database_error("read", self._url, error) from None
        return ChainReport(rows)

    def _raw_rows(self) -> Generator[sa.Row[Any], None, None]:
        with self._engine.connect() as connection, connection.execution_options(stream_results=True, yield_per=500).execute(sa.select(records_table).order_by(records_table.c.seq)) as result:
            yield from result

    def _select(self, where: Any, *, limit: int | None = None) -> Iterator[StoredRecord]:
        query = sa.select(records_table).order_by(records_table.c.seq)
        if where is not None:
            query = query.where(where)
        if limit is not None:
            query = query.limit(limit)
        try:
            with self._engine.connect() as connection, connection.execution_options(stream_results=True, yield_per=500).execute(query) as result:
                for row in result:
                    yield StoredRecord(row.seq, row.record_id, row.case_id, row.created_at, json.loads(row.record), row.prev_hash, row.hash)
        except sa.exc.SQLAlchemyError as error:
            raise _database_error("read", self._url, error) from None


def _sqlite_write_locks(engine: sa.Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, open transactions, and open them with the write lock."""

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA busy_timeout = 30000")
        # Write-ahead logging: readers do not block the appending writer, and a commit appends to
        # the log instead of rewriting pages; synchronous stays FULL, so a committed record survives
        # a power cut.
        dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _database_error(action: str, url: str, error: sa.exc.SQLAlchemyError) -> DecisionLogError:
    # The driver's message may quote SQL parameters (record JSON): only its class is shown.
    return DecisionLogError(
        [
            Problem(
                "database-unavailable",
                f"cannot {action} the decision log at {_describe(url)} ({type(getattr(error, 'orig', error)).__name__})",
                "check that the database is running and the URL, user and password are right",
            )
        ]
    )
