"""SQLite store (stdlib sqlite3, WAL). One connection per process; the event loop calls it synchronously, which is
the fastest path for a local file. WAL with synchronous=NORMAL keeps every committed transaction across a crash of
the process (kill -9); `durability="full"` also survives power loss.

Two things stay off the request path: WAL checkpoints (and their fsync) run in a background thread on a connection
of its own, and the decision log lives in its own file (decisions.db), so logging never grows the state's WAL; when
serving, a process of its own writes it (log_writer)."""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import sqlite3
import struct
import threading
from collections.abc import Sequence
from importlib import resources
from typing import Any

from ecsim.store.base import (
    DECISION_COLUMNS,
    Dialect,
    Row,
    SqlStore,
    StoreUnavailable,
    VersionConflict,
    prune_decisions,
)
from ecsim.store.log_writer import LogProcess

DECISIONS_DDL = """
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL, request_id TEXT, user_id TEXT, user_name TEXT, operation TEXT, allowed INTEGER NOT NULL,
    method TEXT, path TEXT, project_id TEXT, principal TEXT NOT NULL, decision TEXT NOT NULL, resources TEXT
);
-- No secondary indexes (see schema_postgres.sql): logs of earlier versions lose theirs.
DROP INDEX IF EXISTS decisions_user;
DROP INDEX IF EXISTS decisions_user_name;
DROP INDEX IF EXISTS decisions_op;
DROP INDEX IF EXISTS decisions_ts;
"""
CHECKPOINT_SECONDS = 0.1
# A WAL starts over only when a write begins after every frame was copied back. Under steady writes the background
# checkpoints never quite catch up, so it would grow by every write until the server stops. Past RESTART_BYTES,
# the checkpoint thread copies until little is left and asks the writing connection to copy the rest when it is
# idle (housekeeping); its next write starts the WAL over, and its frames then overwrite the file's old ones. That
# matters more than it seems: a frame appended to the file costs ext4 a zeroed block (a quarter of a batch
# request's time went there). Starting over costs the data's writer one small copy and two fsyncs (2-10 ms here),
# a few times a second at full load, hence a larger threshold for the data than for the log, which never syncs.
RESTART_BYTES = (64 << 20, 16 << 20)  # data, log
CATCH_UP_FRAMES = 64  # what the thread may leave: each round copies what was written during the one before
_U32 = struct.Struct("=I")
KEPT_ROWS = 8192  # rows kept between commits (see SqliteStore.get): at most ~15 MB of servers
log = logging.getLogger("ecsim")
_INSERT_DECISION = f"INSERT INTO decisions ({', '.join(DECISION_COLUMNS)}) VALUES ({', '.join('?' * 12)})"


class SqliteDialect(Dialect):
    param = "?"

    def json_text(self, path: str, doc: str = "doc") -> str:
        return f"json_extract({doc}, '$.{_path(path)}')"


def _path(path: str) -> str:
    if not all(part.replace("_", "").isalnum() for part in path.split(".")):
        raise ValueError(f"bad JSON path {path!r}")
    return path


class SqliteStore(SqlStore):
    dialect = SqliteDialect()
    log_batch = 16  # local inserts: small flushes, so that none stalls the requests queued behind it
    log_in_thread = False
    _shm: mmap.mmap | None = None  # the WAL index, mapped (see _map_commit_counter)
    _commits_seen = 0  # its commit counter once this process's view was up to date
    _missed = False  # a commit of another process came before one of ours (see _commit)
    _changes = 0  # total_changes at the start of the open write (see _commit)
    _rows: dict[tuple[str, str], tuple] | None = None  # rows read outside a transaction (see get)
    _rows_epoch = -1

    def __init__(self, path: str, *, durability: str = "normal") -> None:
        self.path = path
        memory = path == ":memory:"
        if not memory:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
            self._log_path = ":memory:" if memory else os.path.join(os.path.dirname(os.path.abspath(path)),
                                                                    "decisions.db")
            self._log = sqlite3.connect(self._log_path, isolation_level=None, check_same_thread=False, timeout=10.0)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {path}: {exc}") from exc
        c = self._conn
        if memory:
            # An in-memory database's commit costs grow with its number of pages (3 us empty, 50 us at 230 MB
            # of 4 KiB pages); 16 KiB pages keep it near 10 us, and cost the writes nothing measurable. A file keeps
            # SQLite's 4 KiB: 8 KiB pages were measured (docs/benchmarks.md) and doubled the WAL's bytes per commit.
            c.execute("PRAGMA page_size=16384")
            self._log.execute("PRAGMA page_size=16384")
            c.execute("PRAGMA cache_size=-65536")
        else:
            for conn in (c, self._log):
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpoint thread does it
            # A file under 1 GiB pays, at most commits that move an index entry, a walk over every bucket of the
            # page cache (`pcache1TruncateUnsafe`, docs/benchmarks.md): its cost follows the cache's size. 8 MiB
            # (SQLite's default is 2) keeps a store's hot pages; the OS caches the rest.
            c.execute("PRAGMA cache_size=-8192")
        c.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
        c.execute("PRAGMA busy_timeout=10000")
        c.execute("PRAGMA temp_store=MEMORY")
        c.execute("PRAGMA case_sensitive_like=ON")
        self._log.execute("PRAGMA synchronous=OFF")  # a log, not state: no fsync
        schema = resources.files("ecsim.store").joinpath("schema.sql").read_text()
        c.executescript(schema.replace("DOUBLE PRECISION", "REAL"))
        self._log.executescript(DECISIONS_DDL)
        if "resources" not in {row[1] for row in self._log.execute("PRAGMA table_info(decisions)")}:
            self._log.execute("ALTER TABLE decisions ADD COLUMN resources TEXT")  # logs written before 0.2
        self.migrate()
        self._map_commit_counter()
        self._stop = threading.Event()
        self._restart_due = [False, False]  # data, log: set by the checkpoint thread (see RESTART_BYTES)
        self._log_elsewhere = False  # a writer process writes (and checkpoints) the log
        self._checkpointer: threading.Thread | None = None
        if not memory:
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="ecsim-checkpoint", daemon=True)
            self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        """Checkpoint the data file and the decision log, off the event loop (a checkpoint copies pages and, for
        the data, fsyncs: tens of milliseconds on a slow disk)."""
        conns = [sqlite3.connect(p, isolation_level=None, timeout=10.0) for p in (self.path, self._log_path)]
        conns[1].execute("PRAGMA synchronous=OFF")  # the log's checkpoints need no fsync either
        page_sizes = [conn.execute("PRAGMA page_size").fetchone()[0] for conn in conns]
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                for i, conn in enumerate(conns[:1] if self._log_elsewhere else conns):
                    with contextlib.suppress(sqlite3.Error):  # busy or gone: the next round retries
                        before = -1
                        for _ in range(16):  # each round copies what was written during the one before
                            busy, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                            if busy or frames - before <= CATCH_UP_FRAMES:  # few new frames (or it started over)
                                break
                            before = frames
                        if frames * page_sizes[i] >= RESTART_BYTES[i] and not busy:
                            self._restart_due[i] = True
        finally:
            for conn in conns:
                conn.close()

    def housekeeping(self) -> None:
        if self._restart_due[0] and not self._conn.in_transaction:
            self._restart_due[0] = False
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def analyze(self) -> None:
        """After a bulk load: statistics, then the whole WAL written back and truncated now (left to the
        background checkpoint, copying and syncing hundreds of megabytes stalls the requests that follow)."""
        super().analyze()
        if self.path != ":memory:":
            self._execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _map_commit_counter(self) -> None:
        """Every request asks whether another process committed (identity caches, the clock). `PRAGMA
        data_version` answers with a statement, a twentieth of a show request; the WAL's shared index answers with
        a memory read. Its header (https://www.sqlite.org/walformat.html) counts commits: iChange, a native u32 at
        offset 8, incremented by each commit of any connection. This process's own commits are told apart in
        _commit; the mapping is read-only."""
        if self.path == ":memory:":  # no other process can see it
            self._rows = {}
            return
        try:
            with open(self.path + "-shm", "rb") as fh:
                self._shm = mmap.mmap(fh.fileno(), 48, mmap.MAP_SHARED, mmap.PROT_READ)
        except (OSError, ValueError) as exc:  # no WAL (a file system without shared memory): always re-validate
            log.warning("SQLite store without a WAL index (%s): caches are re-validated on every request", exc)
            return
        self._commits_seen = self._commit_counter()
        self._rows = {}

    def _commit_counter(self) -> int:
        return _U32.unpack_from(self._shm, 8)[0]  # type: ignore[arg-type]  # only called with the WAL index mapped

    def get(self, kind: str, ident: str, *, for_update: bool = False) -> Row | None:
        """Rows read outside a transaction are kept until the next commit of any process: a server polled while
        nothing changes (a read-mostly client, a status loop) costs a dictionary lookup instead of a statement.
        The commit counter is read before the statement, so a row read just after a commit is kept under the
        counter's old value, which the next read finds changed. Only the row's tuple is kept (its doc as text):
        every reader decodes a doc of its own."""
        rows = self._rows
        if rows is None or for_update or self._conn.in_transaction:
            return super().get(kind, ident, for_update=for_update)
        epoch = self._epoch()
        if epoch != self._rows_epoch:
            rows.clear()
            self._rows_epoch = epoch
        r = rows.get((kind, ident))
        if r is None:
            r = self._get_row(kind, ident, False)
            if r is None:
                return None
            if len(rows) < KEPT_ROWS:
                rows[(kind, ident)] = r
        return Row(*r)

    def _epoch(self) -> int:
        """A number that changes with every commit that can change what this connection reads: the WAL's commit
        counter, or in memory (one connection) the count of rows it changed."""
        return self._conn.total_changes if self._shm is None else self._commit_counter()

    def changed_elsewhere(self) -> bool:
        if self._shm is None:
            return self.path != ":memory:"
        n = self._commit_counter()
        if n == self._commits_seen and not self._missed:
            return False
        self._commits_seen, self._missed = n, False
        return True

    # Statements translate the driver's errors inline (not through a context manager: this is the hot path).
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self._conn.execute(sql, params)
        except (sqlite3.IntegrityError, sqlite3.OperationalError) as exc:
            raise _translate(exc) from exc

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except (sqlite3.IntegrityError, sqlite3.OperationalError) as exc:
            raise _translate(exc) from exc

    def _begin(self) -> None:
        self._execute("BEGIN IMMEDIATE")
        self._changes = self._conn.total_changes

    def _in_transaction(self) -> bool:
        return self._conn.in_transaction

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _commit(self) -> None:
        # Under the write lock no other process commits: the counter is where our commit starts from, and a change
        # from what we saw last is another process's, noticed on the next request. Read again after the commit it
        # has moved by one if ours wrote anything — but not when SQLite skipped a byte-identical write, and further
        # when another process committed right after us: any other step counts as missed (a refresh, never a
        # stale read).
        before = -1 if self._shm is None else self._commit_counter()
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise StoreUnavailable(_explain(exc)) from exc
        if before >= 0:
            after = self._commit_counter()
            ours = (before + (self._conn.total_changes != self._changes)) & 0xFFFFFFFF
            self._missed = self._missed or before != self._commits_seen or after != ours
            self._commits_seen = after

    def _log_execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self._log.execute(sql, params)
        except (sqlite3.IntegrityError, sqlite3.OperationalError) as exc:
            raise _translate(exc) from exc

    def _log_write(self, rows: Sequence[Sequence[Any]], keep: int | None) -> None:
        try:
            self._pruned_to = write_decisions(self._log, rows, keep, self._pruned_to)
            if self._restart_due[1]:  # see RESTART_BYTES
                self._restart_due[1] = False
                self._log.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except (sqlite3.IntegrityError, sqlite3.OperationalError) as exc:
            raise _translate(exc) from exc

    def start_log_process(self, keep: int) -> LogProcess | None:
        """A process of its own for the decision log's writes (a file store; see log_writer); it checkpoints the
        log itself, so the checkpoint thread leaves the log alone from now on."""
        if self.path == ":memory:":
            return None
        proc = LogProcess(self._log_path, keep)
        self._log_elsewhere = True
        return proc

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
        self._log.close()
        self._conn.close()
        if self._shm is not None:
            self._shm.close()


def write_decisions(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]], keep: int | None, pruned_to: int) -> int:
    """Insert rows into the log and, with `keep`, prune it, in one transaction; returns the seq pruned to."""
    conn.execute("BEGIN")
    try:
        conn.executemany(_INSERT_DECISION, rows)
        if keep is not None:
            pruned_to = prune_decisions(conn.execute, str, keep, pruned_to)
        conn.execute("COMMIT")
    except sqlite3.Error:
        conn.execute("ROLLBACK")
        raise
    return pruned_to


def _translate(exc: sqlite3.Error) -> Exception:
    if isinstance(exc, sqlite3.IntegrityError):
        return VersionConflict(str(exc))
    return StoreUnavailable(_explain(exc))


def _explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "full" in text:
        return "the SQLite database's disk is full; free space and retry"
    if "locked" in text or "busy" in text:
        return "the SQLite database is locked by another process; retry"
    return f"SQLite error: {text}"
