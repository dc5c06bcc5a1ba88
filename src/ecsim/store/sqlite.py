"""SQLite store (stdlib sqlite3, WAL). One connection per process; the event loop calls it synchronously, which is
the fastest path for a local file. WAL with synchronous=NORMAL keeps every committed transaction across a crash of
the process (kill -9); `durability="full"` also survives power loss."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import Any

from ecsim.store.base import Dialect, SqlStore, StoreUnavailable, VersionConflict

DECISIONS_DDL = """
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL, request_id TEXT, user_id TEXT, user_name TEXT, operation TEXT,
    allowed INTEGER NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_user ON decisions (user_id, seq);
CREATE INDEX IF NOT EXISTS decisions_op ON decisions (operation, seq);
"""


class SqliteDialect(Dialect):
    param = "?"

    def json_text(self, path: str) -> str:
        return f"json_extract(doc, '$.{_path(path)}')"

    def json_array_has(self, path: str) -> str:
        return f"EXISTS (SELECT 1 FROM json_each(doc, '$.{_path(path)}') AS j WHERE j.value = ?)"

    def json_array_like(self, path: str) -> str:
        return f"EXISTS (SELECT 1 FROM json_each(doc, '$.{_path(path)}') AS j WHERE j.value LIKE ? ESCAPE '\\')"


def _path(path: str) -> str:
    if not all(part.replace("_", "").isalnum() for part in path.split(".")):
        raise ValueError(f"bad JSON path {path!r}")
    return path


class SqliteStore(SqlStore):
    dialect = SqliteDialect()

    def __init__(self, path: str, *, durability: str = "normal") -> None:
        self.path = path
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {path}: {exc}") from exc
        c = self._conn
        if path != ":memory:":
            c.execute("PRAGMA journal_mode=WAL")
        c.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
        c.execute("PRAGMA busy_timeout=10000")
        c.execute("PRAGMA cache_size=-65536")
        c.execute("PRAGMA temp_store=MEMORY")
        c.execute("PRAGMA case_sensitive_like=ON")
        schema = resources.files("ecsim.store").joinpath("schema.sql").read_text()
        c.executescript(schema.replace("DOUBLE PRECISION", "REAL") + DECISIONS_DDL)
        self._depth = 0
        self._data_version = self._read_data_version()

    def _read_data_version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def changed_elsewhere(self) -> bool:
        v = self._read_data_version()
        if v != self._data_version:
            self._data_version = v
            return True
        return False

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise VersionConflict(str(exc)) from exc
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(_explain(exc)) from exc

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise VersionConflict(str(exc)) from exc
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(_explain(exc)) from exc

    @contextmanager
    def write(self) -> Iterator[SqliteStore]:
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._depth = 0
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise StoreUnavailable(_explain(exc)) from exc

    def close(self) -> None:
        self._conn.close()


def _explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "full" in text:
        return "the SQLite database's disk is full; free space and retry"
    if "locked" in text or "busy" in text:
        return "the SQLite database is locked by another process; retry"
    return f"SQLite error: {text}"
