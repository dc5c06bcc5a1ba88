"""PostgreSQL store (psycopg 3 and its connection pool): the scale-out backend. Several workers, on one host or
many, share one database.

Each worker pins one pooled connection for its synchronous request path (a broken one goes back to the pool, which
replaces it) and keeps a second one that LISTENs: identity and clock changes NOTIFY on commit, so every worker drops
its caches as soon as another one changes them. Writes run in transactions that lock the rows they read
(`SELECT ... FOR UPDATE`, in id order to avoid deadlocks), so concurrent conflicting requests serialize and never
lose an update. When the database goes away, requests fail fast with StoreUnavailable (the API's 503) and the pool
reconnects by itself when it returns.

The URL is a libpq URL; `?schema=NAME` keeps ecsim's tables in that schema (created if missing), so several
instances can share one database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import msgspec
import psycopg
from psycopg import sql as pgsql
from psycopg.types.json import Jsonb, set_json_dumps
from psycopg_pool import ConnectionPool, PoolTimeout

from ecsim.store.base import DECISION_COLUMNS, Dialect, SqlStore, StoreUnavailable, VersionConflict, prune_decisions

CHANNEL = "ecsim_changes"
CONNECT_TIMEOUT = 3
GETCONN_TIMEOUT = 1.0  # while the database is away, fail the request fast (503) rather than stall the loop
STATEMENT_TIMEOUT_MS = 10_000
_encode = msgspec.json.encode
_COPY_DECISIONS = f"COPY decisions ({', '.join(DECISION_COLUMNS)}) FROM STDIN"

set_json_dumps(lambda obj: _encode(obj).decode())  # how Jsonb(doc) parameters are encoded


class PostgresDialect(Dialect):
    param = "%s"
    doc_column = "doc::text"
    lazy_docs = True

    def json_text(self, path: str, doc: str = "doc") -> str:
        return f"({doc}#>>'{{" + ",".join(_ident(p) for p in path.split(".")) + "}')"

    def doc_param(self, doc: dict) -> Any:
        return Jsonb(doc)


def _ident(part: str) -> str:
    if not part.replace("_", "").isalnum():
        raise ValueError(f"bad JSON path segment {part!r}")
    return part


def split_url(url: str) -> tuple[str, str | None]:
    """(libpq URL without our own parameters, schema)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = [(k, v) for k, v in query if k != "schema"]
    if schema is not None and not schema.replace("_", "").isalnum():
        raise StoreUnavailable(f"schema name {schema!r} must be letters, digits and underscores")
    return urlunsplit(parts._replace(query=urlencode(rest, quote_via=quote))), schema


class PostgresStore(SqlStore):
    dialect = PostgresDialect()

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.url = url
        self.conninfo, self.schema = split_url(url)
        self.application_name = f"ecsim:{self.schema or 'public'}"
        self._pool = ConnectionPool(
            self.conninfo, min_size=1, max_size=pool_size, timeout=GETCONN_TIMEOUT, open=False,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT,
                    "application_name": self.application_name},
            configure=self._configure, reconnect_timeout=3600, name="ecsim",
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT + 2)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreUnavailable(f"cannot connect to PostgreSQL at {_safe(self.conninfo)}: {exc}") from exc
        self._conn: psycopg.Connection | None = None
        self._log_conn: psycopg.Connection | None = None
        self._listener: psycopg.Connection | None = None
        self._create_schema()
        self.migrate()
        self._listen()

    # -- connections ----------------------------------------------------------------------------------------------
    def _configure(self, conn: psycopg.Connection) -> None:
        if self.schema:
            conn.execute(pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(self.schema)))
            conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.schema)))
        conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        conn.execute("SET lock_timeout = 5000")

    def _checkout(self) -> psycopg.Connection:
        try:
            return self._pool.getconn()
        except PoolTimeout as exc:
            raise StoreUnavailable(f"PostgreSQL at {_safe(self.conninfo)} is unreachable: {exc}") from exc

    def _give_back(self, conn: psycopg.Connection | None) -> None:
        if conn is not None:
            with contextlib.suppress(Exception):
                self._pool.putconn(conn)  # the pool notices a broken connection and replaces it

    def _connection(self) -> psycopg.Connection:
        if self._conn is None:
            self._conn = self._checkout()
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._depth = 0
        self._lose_group()
        self._give_back(conn)

    def _create_schema(self) -> None:
        ddl = resources.files("ecsim.store").joinpath("schema_postgres.sql").read_text()
        conn = self._connection()
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(8414541)")  # workers starting together create it once
            conn.execute(ddl)

    def _listen(self) -> None:
        with contextlib.suppress(psycopg.Error):
            if self._listener is not None:
                self._listener.close()
        self._listener = None
        try:
            conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                                   application_name=self.application_name)
            conn.execute(f"LISTEN {CHANNEL}")
            self._listener = conn
        except psycopg.Error:
            self._listener = None

    def changed_elsewhere(self) -> bool:
        """Drain notifications without waiting; a lost listener counts as 'changed' until it is back."""
        if self._listener is None:
            self._listen()
            return True
        try:
            return any(True for _ in self._listener.notifies(timeout=0))
        except psycopg.Error:
            self._listen()
            return True

    def notify_change(self) -> None:
        self._execute(f"NOTIFY {CHANNEL}")

    # -- statements -----------------------------------------------------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (psycopg.errors.UniqueViolation, psycopg.errors.SerializationFailure,
                psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable) as exc:
            raise VersionConflict(str(exc).strip()) from exc
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop_connection()
            raise StoreUnavailable(f"PostgreSQL is unavailable: {str(exc).strip()}") from exc

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        conn = self._connection()
        with self._errors():
            return conn.execute(sql, params or None)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        conn = self._connection()
        with self._errors(), conn.cursor() as cur:
            cur.executemany(sql, rows)

    # The decision log has a connection of its own: its writes never join (or open) a group of state writes, and
    # they commit without waiting for the WAL flush (a log, not state: SQLite keeps it unsynced too).
    @contextmanager
    def _log_errors(self) -> Iterator[psycopg.Connection]:
        if self._log_conn is None:
            self._log_conn = self._checkout()
        try:
            yield self._log_conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            conn, self._log_conn = self._log_conn, None
            self._give_back(conn)
            raise StoreUnavailable(f"PostgreSQL is unavailable: {str(exc).strip()}") from exc

    def _log_execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._log_errors() as conn, conn.transaction():
            conn.execute("SET LOCAL synchronous_commit = off")
            return conn.execute(sql, params or None)

    def _log_write(self, rows: Sequence[Sequence[Any]], keep: int | None) -> None:
        pruned_to = self._pruned_to
        with self._log_errors() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
            with cur.copy(_COPY_DECISIONS) as copy:  # COPY: a fraction of the cost of row-by-row INSERTs
                for row in rows:
                    copy.write_row(row)
            if keep is not None:
                pruned_to = prune_decisions(cur.execute, self._q, keep, pruned_to)
        self._pruned_to = pruned_to

    def _begin(self) -> None:
        self._execute("BEGIN")

    def _in_transaction(self) -> bool:
        return self._conn is not None and self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def _rollback(self) -> None:
        conn = self._conn
        if conn is not None:
            try:
                conn.execute("ROLLBACK")
            except psycopg.Error:
                self._drop_connection()

    def _commit(self) -> None:
        self._execute("COMMIT")

    def analyze(self) -> None:
        # VACUUM as well: otherwise autovacuum starts on the fresh rows right away and competes with the requests.
        for table in ("resources", "facets", "counts"):
            self._execute(f"VACUUM ANALYZE {table}")
        # And write the bulk load's dirty buffers now, not during the first minutes of serving (needs a superuser
        # or pg_checkpoint; without, the server's own checkpoints do it later).
        with contextlib.suppress(StoreUnavailable, psycopg.Error):
            self._execute("CHECKPOINT")

    def close(self) -> None:
        self._drop_connection()
        self._give_back(self._log_conn)
        self._log_conn = None
        if self._listener is not None:
            with contextlib.suppress(psycopg.Error):
                self._listener.close()
        self._pool.close()

    def drop_schema(self) -> None:
        """Remove the schema and everything in it (test clean-up)."""
        if self.schema:
            self._execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pgsql.Identifier(self.schema))
                          .as_string(self._connection()))


def _safe(conninfo: str) -> str:
    parts = urlsplit(conninfo)
    host = parts.hostname or "localhost"
    return f"{host}:{parts.port or 5432}{parts.path}"
