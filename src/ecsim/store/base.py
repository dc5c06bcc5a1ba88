"""The store interface: resources as JSON documents with a few indexed key columns, plus meta and the decision log.

Columns: kind, id (primary key), scope (project id or account id), name, status, ref (a parent id: the user of a
credential, the group of a grant), created, settle_at (when a pending timed transition next changes the
resource; NULL when settled) and version (optimistic concurrency). The doc holds everything else.

SQL is shared between SQLite and PostgreSQL; a dialect supplies placeholders and JSON expressions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import msgspec

from ecsim.store import query
from ecsim.store.log_writer import LogProcess
from ecsim.store.query import Cond

_decode = msgspec.json.decode
_encode = msgspec.json.encode


class StoreUnavailable(Exception):
    """The database cannot serve requests right now (gone away, disk full, locked too long)."""


class VersionConflict(Exception):
    """An optimistic write lost a race: the row changed since it was read."""


class Row:
    """A stored resource. The doc is decoded on first use: a reader that only needs the version (a cached view)
    never pays for it."""

    __slots__ = ("_doc", "_raw", "created", "id", "kind", "scope", "settle_at", "version")

    def __init__(self, kind: str, id: str, scope: str, version: int, created: float, settle_at: float | None,
                 raw: str | bytes | dict) -> None:
        self.kind, self.id, self.scope, self.version = kind, id, scope, version
        self.created, self.settle_at = created, settle_at
        self._raw = raw
        self._doc: dict | None = raw if isinstance(raw, dict) else None

    @property
    def doc(self) -> dict:
        if self._doc is None:
            self._doc = _decode(self._raw)
        return self._doc

    def __repr__(self) -> str:
        return f"Row({self.kind}, {self.id}, v{self.version})"


@dataclass(slots=True)  # not frozen: a frozen dataclass costs three times as much to build, and puts are many
class Put:
    kind: str
    id: str
    scope: str
    doc: dict
    name: str | None = None
    status: str | None = None
    ref: str | None = None
    created: float = 0.0
    settle_at: float | None = None
    # The resource's facets (filterable attributes kept in the facets table); None leaves them as they are.
    facets: tuple[tuple[str, str], ...] | None = None


_COLS = "kind, id, scope, version, created, settle_at, doc"
DECISION_COLUMNS = ("ts", "request_id", "user_id", "user_name", "operation", "allowed", "method", "path",
                    "project_id", "principal", "decision", "resources")


class Dialect:
    param = "?"
    doc_column = "doc"  # how to select the doc so that it arrives as JSON text (decoded lazily by Row)
    # Whether a page rendered from cached views should leave the docs out of its query and fetch only the missing
    # ones: worth a second query where sending a doc costs (PostgreSQL renders JSONB as text), not in SQLite.
    lazy_docs = False

    def __init__(self) -> None:
        self.statements: dict[tuple, str] = {}  # hot-path statement texts in this dialect (SqlStore._cached)

    def json_text(self, path: str, doc: str = "doc") -> str:
        """SQL for the text of a scalar JSON field of the doc column `doc`."""
        raise NotImplementedError

    def doc_param(self, doc: dict) -> Any:
        """The doc as a statement parameter."""
        return _encode(doc).decode()


def prune_decisions(execute: Callable[..., Any], q: Callable[[str], str], keep: int, pruned_to: int) -> int:
    """Forget the decisions older than the newest `keep`, inside the log's open transaction; returns the seq pruned
    to, which the caller keeps once the transaction commits. The range starts where this process's last prune
    ended (`pruned_to`): PostgreSQL keeps deleted rows in the primary key's index until a vacuum, and a range from
    the start walked them all at every flush (two workers gained nothing once the log was full)."""
    newest = execute(q("SELECT MAX(seq) FROM decisions")).fetchone()[0]
    cutoff = (newest or 0) - keep
    if cutoff > pruned_to:
        execute(q("DELETE FROM decisions WHERE seq > ? AND seq <= ?"), (pruned_to, cutoff))
    return max(cutoff, pruned_to)


MAX_OFFSET = 1 << 53
SCHEMA_VERSION = 3  # 1: first release; 2: per-scope counts; 3: facets (filled by the runtime, see Runtime.create)


class SqlStore:
    """Shared SQL for both backends. Subclasses provide the connection handling."""

    dialect: Dialect

    def migrate(self) -> None:
        """Bring an existing database up to SCHEMA_VERSION (the DDL itself is idempotent)."""
        with self.write() as tx:
            version = int(tx.meta_get("schema_version") or 0)
            if version > SCHEMA_VERSION:
                raise StoreUnavailable(f"the store was written by a newer ecsim (schema {version}); upgrade ecsim")
            if version < 2:  # counts appeared in schema 2: derive them from the rows
                tx._execute("DELETE FROM counts")
                tx._execute("INSERT INTO counts (kind, scope, n) SELECT kind, scope, COUNT(*) FROM resources "
                            "GROUP BY kind, scope")
            if version != SCHEMA_VERSION:
                tx.meta_set("schema_version", SCHEMA_VERSION)

    _depth = 0
    # Group commit (the server turns it on): the writes of the requests handled in one event-loop turn share one
    # transaction, each in a savepoint of its own, and commit_group() commits them together before any of their
    # responses is sent. One commit (for PostgreSQL, one WAL flush) then serves many requests.
    grouping = False
    _group_open = False
    _group_lost = False  # the connection went away with the group: its requests must fail

    # -- connection plumbing (backend specific) ------------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _begin(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def _in_transaction(self) -> bool:
        raise NotImplementedError

    @contextmanager
    def write(self) -> Iterator[SqlStore]:
        """A write transaction; nested uses join the outer one. An exception rolls everything back."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        if self.grouping:
            yield from self._grouped()
            return
        self._begin()
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        self._commit()

    def _grouped(self) -> Iterator[SqlStore]:
        """One request's write inside the open group. The first opens the transaction (its failure rolls back all
        there is); each later one is a savepoint, so that its failure undoes only its own changes."""
        if self._group_open and not self._in_transaction():  # the database rolled the group back by itself
            self._lose_group()
        first = not self._group_open
        if first:
            self._begin()
            self._group_open = True
        else:
            self._execute("SAVEPOINT w")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            if first:
                self._group_open = False
                self._rollback()
            elif self._group_open:  # else the connection went with it, and commit_group() reports that
                try:
                    self._execute("ROLLBACK TO SAVEPOINT w")
                    self._execute("RELEASE SAVEPOINT w")
                except StoreUnavailable:
                    self._lose_group()
            raise
        self._depth = 0
        if not first:
            self._execute("RELEASE SAVEPOINT w")

    def group_pending(self) -> bool:
        """True while a group holds writes not yet committed (responses that may show them must wait)."""
        return self._group_open or self._group_lost

    def commit_group(self) -> None:
        """Commit the open group; StoreUnavailable when it cannot be (then none of its writes happened)."""
        lost, self._group_lost = self._group_lost, False
        was_open, self._group_open = self._group_open, False
        if lost:
            if was_open:  # a group begun after the loss: it fails with the lost one
                self._rollback()
            raise StoreUnavailable("the database connection was lost before the changes were committed")
        if was_open:
            self._commit()

    def _lose_group(self) -> None:
        """The connection broke: an open group's writes are gone."""
        if self._group_open:
            self._group_open = False
            self._group_lost = True

    def close(self) -> None:
        raise NotImplementedError

    def analyze(self) -> None:
        """Refresh the query planner's statistics (after bulk loads: a planner that believes a scope is small
        picks a sort over an index walk)."""
        for table in ("resources", "facets", "counts"):
            self._execute(f"ANALYZE {table}")

    def changed_elsewhere(self) -> bool:
        """True when another process may have changed identity data or the clock (caches must be re-validated)."""
        return False

    def housekeeping(self) -> None:
        """Between requests, on the serving thread: upkeep that must run on the connection that writes."""

    def notify_change(self) -> None:
        """Inside a write: tell the other processes, on commit, to re-validate their caches."""

    # -- reads -------------------------------------------------------------------------------------------------
    def _row_select(self, alias: str = "", docs: bool = True) -> str:
        cols = [alias + c for c in _COLS.split(", ")]
        cols[-1] = self.dialect.doc_column.replace("doc", alias + "doc") if docs else "NULL"
        return "SELECT " + ", ".join(cols)

    def _q(self, sql: str) -> str:
        return sql if self.dialect.param == "?" else sql.replace("?", self.dialect.param)

    def _cached(self, key: tuple, build: Callable[[], str]) -> str:
        """A hot-path statement's text, built once per dialect."""
        sql = self.dialect.statements.get(key)
        if sql is None:
            sql = self._q(build())
            if len(self.dialect.statements) < 512:  # id lists of most lengths up to a batch's maximum
                self.dialect.statements[key] = sql
        return sql

    def get(self, kind: str, ident: str, *, for_update: bool = False) -> Row | None:
        r = self._get_row(kind, ident, for_update)
        return None if r is None else Row(*r)

    def _get_row(self, kind: str, ident: str, for_update: bool) -> tuple | None:
        def build() -> str:
            sql = self._row_select() + " FROM resources WHERE kind = ? AND id = ?"
            return sql + " FOR UPDATE" if for_update and self.dialect.param != "?" else sql

        return self._execute(self._cached(("get", for_update), build), (kind, ident)).fetchone()

    def get_many(self, kind: str, ids: Sequence[str], *, for_update: bool = False) -> dict[str, Row]:
        if not ids:
            return {}

        def build() -> str:
            sql = f"{self._row_select()} FROM resources WHERE kind = ? AND id IN ({','.join('?' * len(ids))})"
            if for_update and self.dialect.param != "?":
                sql += " ORDER BY id FOR UPDATE"  # one lock order for every writer: no deadlocks
            return sql

        cur = self._execute(self._cached(("get_many", len(ids), for_update), build), (kind, *ids))
        return {r[1]: Row(*r) for r in cur.fetchall()}

    def _where(self, kind: str, scope: str | None, conds: Sequence[Cond], alias: str = "",
               keyset_alias: str | None = None) -> tuple[str, list[Any]]:
        clauses, params = [f"{alias}kind = ?"], [kind]
        if scope is not None:
            clauses.append(f"{alias}scope = ?")
            params.append(scope)
        more, more_params = query.where(conds, self.dialect.json_text, alias, keyset_alias)
        return " AND ".join(clauses + more), params + more_params

    def _from(self, kind: str, scope: str | None, conds: Sequence[Cond], *, rows: bool = True
              ) -> tuple[str, list[Any], str]:
        """FROM ... WHERE ... for a list query, and the ORDER BY prefix: driven by a facet's index when a facet
        filter is present (its rows are in creation order), else by the resources table's own indexes. Without
        `rows` (a count) and without other conditions, the facet index alone answers."""
        lead, rest = query.driver(conds)
        if lead is None or scope is None:
            where, params = self._where(kind, scope, conds)
            return f"resources WHERE {where}", params, ""
        test = "LIKE ? ESCAPE '\\'" if lead.op == "facet_like" else "= ?"
        head = f"f.kind = ? AND f.scope = ? AND f.key = ? AND f.value {test}"
        params = [kind, scope, lead.field, lead.value]
        if not rows and not rest:
            return f"facets f WHERE {head}", params, "f."
        more, more_params = query.where(rest, self.dialect.json_text, "r.", "f.")
        where = " AND ".join([head, *more])
        return f"facets f JOIN resources r ON r.kind = f.kind AND r.id = f.id WHERE {where}", params + more_params, "f."

    def select(
        self,
        kind: str,
        scope: str | None = None,
        conds: Sequence[Cond] = (),
        *,
        newest_first: bool = True,
        limit: int | None = None,
        offset: int = 0,
        order: str = "created",
        docs: bool = True,
    ) -> list[Row]:
        """Rows in `order` (created, or another indexed column), ties broken by id. Without `docs` the rows carry
        no document (for a caller that renders most of them from cached views and fetches the rest)."""
        if offset > MAX_OFFSET:  # beyond any store (and beyond what SQL integers hold): an empty page
            return []
        if limit is not None:
            limit = min(limit, MAX_OFFSET)
        split = query.split_in(conds) if limit is not None and order == "created" else None
        if split is not None:
            runs = [self.select(kind, scope, c, newest_first=newest_first, limit=offset + (limit or 0), docs=docs)
                    for c in split]
            merged = sorted((r for run in runs for r in run), key=lambda r: (r.created, r.id),
                            reverse=newest_first)
            return merged[offset:offset + (limit or 0)]
        source, params, order_alias = self._from(kind, scope, conds)
        direction = "DESC" if newest_first else "ASC"
        row_alias = "r." if order_alias else ""
        if order != "created":
            order_alias = row_alias
            query.check_column(order)
        sql = (f"{self._row_select(row_alias, docs)} FROM {source} "
               f"ORDER BY {order_alias}{order} {direction}, {order_alias}id {direction}")
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params.extend((limit, offset))
        cur = self._execute(self._q(sql), params)
        return [Row(*r) for r in cur.fetchall()]

    def count(self, kind: str, scope: str | None = None, conds: Sequence[Cond] = ()) -> int:
        if scope is not None and not conds:
            r = self._execute(self._q("SELECT n FROM counts WHERE kind = ? AND scope = ?"), (kind, scope)).fetchone()
            return int(r[0]) if r else 0
        split = query.split_in(conds)
        if split is not None:  # one index range per value
            return sum(self.count(kind, scope, c) for c in split)
        source, params, _ = self._from(kind, scope, conds, rows=False)
        cur = self._execute(self._q(f"SELECT COUNT(*) FROM {source}"), params)
        return int(cur.fetchone()[0])

    def counter(self, name: str, scope: str) -> int:
        """A named per-scope counter kept in the counts table (e.g. the gigabytes a project's volumes use)."""
        r = self._execute(self._q("SELECT n FROM counts WHERE kind = ? AND scope = ?"), (name, scope)).fetchone()
        return int(r[0]) if r else 0

    def add_to_counter(self, name: str, scope: str, delta: int) -> None:
        self._adjust_counts({(name, scope): delta})

    def _adjust_counts(self, deltas: dict[tuple[str, str], int]) -> None:
        rows = [(kind, scope, n) for (kind, scope), n in deltas.items() if n]
        if rows:
            self._executemany(
                self._q("INSERT INTO counts (kind, scope, n) VALUES (?, ?, ?) "
                        "ON CONFLICT (kind, scope) DO UPDATE SET n = counts.n + excluded.n"),
                rows,
            )

    def group_count(self, kind: str, scope: str, json_field: str) -> dict[str, int]:
        """How many rows of a scope have each value of a JSON field (quota usage)."""
        expr = self.dialect.json_text(json_field)
        cur = self._execute(
            self._q(f"SELECT {expr}, COUNT(*) FROM resources WHERE kind = ? AND scope = ? GROUP BY {expr}"),
            (kind, scope),
        )
        return {str(v): int(n) for v, n in cur.fetchall()}

    def due(self, now: float, kinds: Sequence[str], scope: str | None = None, limit: int = 1000) -> list[Row]:
        """Rows whose timed transition has a step due at `now` (oldest first). Only the partial index on settle_at
        is used (due rows are few; a kind / scope condition would tempt the planner into a scan of the scope)."""
        sql = f"{self._row_select()} FROM resources WHERE settle_at IS NOT NULL AND settle_at <= ? " \
              "ORDER BY settle_at LIMIT ?"
        cur = self._execute(self._q(sql), (now, limit))
        rows = [Row(*r) for r in cur.fetchall()]
        return [r for r in rows if r.kind in kinds and (scope is None or r.scope == scope)]

    # -- writes (call inside write()) ---------------------------------------------------------------------------
    def insert(self, p: Put) -> None:
        self._execute(
            self._q(
                "INSERT INTO resources (kind, id, scope, name, status, ref, created, settle_at, version, doc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"
            ),
            (p.kind, p.id, p.scope, p.name, p.status, p.ref, p.created, p.settle_at, self.dialect.doc_param(p.doc)),
        )
        self._adjust_counts({(p.kind, p.scope): 1})
        if p.facets:
            self._write_facets([p], replace=False)

    def insert_many(self, puts: Sequence[Put]) -> None:
        self._executemany(
            self._q(
                "INSERT INTO resources (kind, id, scope, name, status, ref, created, settle_at, version, doc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"
            ),
            [
                (p.kind, p.id, p.scope, p.name, p.status, p.ref, p.created, p.settle_at, self.dialect.doc_param(p.doc))
                for p in puts
            ],
        )
        deltas: dict[tuple[str, str], int] = {}
        for p in puts:
            deltas[(p.kind, p.scope)] = deltas.get((p.kind, p.scope), 0) + 1
        self._adjust_counts(deltas)
        self._write_facets([p for p in puts if p.facets], replace=False)

    def _write_facets(self, puts: Sequence[Put], *, replace: bool) -> None:
        if not puts:
            return
        if replace:
            self._executemany(self._q("DELETE FROM facets WHERE kind = ? AND id = ?"), [(p.kind, p.id) for p in puts])
        rows = [(p.kind, p.scope, key, value, p.created, p.id) for p in puts for key, value in p.facets or ()]
        if rows:
            self._executemany(
                self._q("INSERT INTO facets (kind, scope, key, value, created, id) VALUES (?, ?, ?, ?, ?, ?)"), rows)

    # Updates set only status, settle_at and the doc (and the name when asked): SQLite maintains every index whose
    # columns appear in SET, so naming unchanged indexed columns would double the cost. scope, ref and created
    # are fixed at insert.
    def _update_sql(self, rename: bool, versioned: bool) -> str:
        return self._cached(("update", rename, versioned), lambda: (
            "UPDATE resources SET " + ("name = ?, " if rename else "") + "status = ?, settle_at = ?, "
            "version = version + 1, doc = ? WHERE kind = ? AND id = ?" + (" AND version = ?" if versioned else "")))

    def update(self, p: Put, expect_version: int | None = None, *, rename: bool = False) -> None:
        params: list[Any] = [p.name] if rename else []
        params += [p.status, p.settle_at, self.dialect.doc_param(p.doc), p.kind, p.id]
        if expect_version is not None:
            params.append(expect_version)
        cur = self._execute(self._update_sql(rename, expect_version is not None), params)
        if cur.rowcount != 1:
            raise VersionConflict(f"{p.kind} {p.id} changed concurrently")
        if p.facets is not None:
            self._write_facets([p], replace=True)

    def update_many(self, puts: Sequence[Put], *, rename: bool = False) -> None:
        """Update several rows in one statement call (rows read, for update, in this transaction)."""
        if not puts:
            return
        doc_param = self.dialect.doc_param
        if rename:
            rows = [(p.name, p.status, p.settle_at, doc_param(p.doc), p.kind, p.id) for p in puts]
        else:
            rows = [(p.status, p.settle_at, doc_param(p.doc), p.kind, p.id) for p in puts]
        self._executemany(self._update_sql(rename, False), rows)
        self._write_facets([p for p in puts if p.facets is not None], replace=True)

    def upsert(self, p: Put) -> None:
        if self.get(p.kind, p.id) is None:
            self._adjust_counts({(p.kind, p.scope): 1})
        if p.facets is not None:
            self._write_facets([p], replace=True)
        self._execute(
            self._q(
                "INSERT INTO resources (kind, id, scope, name, status, ref, created, settle_at, version, doc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT (kind, id) DO UPDATE SET scope = excluded.scope, "
                "name = excluded.name, status = excluded.status, ref = excluded.ref, created = excluded.created, "
                "settle_at = excluded.settle_at, version = resources.version + 1, doc = excluded.doc"
            ),
            (p.kind, p.id, p.scope, p.name, p.status, p.ref, p.created, p.settle_at, self.dialect.doc_param(p.doc)),
        )

    def delete(self, kind: str, ident: str) -> bool:
        cur = self._execute(self._q("DELETE FROM resources WHERE kind = ? AND id = ? RETURNING scope"), (kind, ident))
        gone = cur.fetchall()
        if gone:
            self._adjust_counts({(kind, gone[0][0]): -1})
            self._execute(self._q("DELETE FROM facets WHERE kind = ? AND id = ?"), (kind, ident))
        return bool(gone)

    def delete_where(self, kind: str, scope: str | None = None, conds: Sequence[Cond] = ()) -> int:
        where, params = self._where(kind, scope, conds)
        cur = self._execute(self._q(f"DELETE FROM resources WHERE {where} RETURNING scope, id"), params)
        deltas: dict[tuple[str, str], int] = {}
        gone = cur.fetchall()
        for scope_of, _ in gone:
            deltas[(kind, scope_of)] = deltas.get((kind, scope_of), 0) - 1
        self._adjust_counts(deltas)
        if gone:
            self._executemany(self._q("DELETE FROM facets WHERE kind = ? AND id = ?"), [(kind, i) for _, i in gone])
        return len(gone)

    # -- jobs ---------------------------------------------------------------------------------------------------------
    def insert_job(self, job_id: str, scope: str, finished: float, doc: dict) -> None:
        self._execute(self._q("INSERT INTO jobs (id, scope, finished, doc) VALUES (?, ?, ?, ?)"),
                      (job_id, scope, finished, self.dialect.doc_param(doc)))

    def get_job(self, job_id: str) -> tuple[str, dict] | None:
        """(scope, doc) of a job."""
        r = self._execute(self._q(f"SELECT scope, {self.dialect.doc_column} FROM jobs WHERE id = ?"),
                          (job_id,)).fetchone()
        return None if r is None else (r[0], _decode(r[1]))

    def purge_jobs(self, finished_before: float) -> int:
        """Forget the jobs that ended before this time, and the idempotency answers made before it."""
        self._execute(self._q("DELETE FROM client_tokens WHERE created < ?"), (finished_before,))
        return int(self._execute(self._q("DELETE FROM jobs WHERE finished < ?"), (finished_before,)).rowcount)

    # -- idempotency keys ---------------------------------------------------------------------------------------------
    def client_token_get(self, key: str, since: float) -> dict | None:
        """The answer stored under `key` at `since` or later (older ones are about to be purged)."""
        r = self._execute(self._q(f"SELECT {self.dialect.doc_column} FROM client_tokens WHERE key = ? "
                                  "AND created >= ?"), (key, since)).fetchone()
        return None if r is None else _decode(r[0])

    def client_token_put(self, key: str, created: float, doc: dict, stale_before: float) -> None:
        """Store the answer, replacing only one made before `stale_before`: a fresh one means another worker
        answered the same key meanwhile, and this transaction loses (VersionConflict, rolled back)."""
        cur = self._execute(self._q(
            "INSERT INTO client_tokens (key, created, doc) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "created = excluded.created, doc = excluded.doc WHERE client_tokens.created < ?"),
            (key, created, self.dialect.doc_param(doc), stale_before))
        if cur.rowcount != 1:
            raise VersionConflict(f"X-Client-Token {key} answered concurrently")

    # -- meta ---------------------------------------------------------------------------------------------------
    def meta_get(self, key: str) -> Any:
        cur = self._execute(self._q("SELECT value FROM meta WHERE key = ?"), (key,))
        r = cur.fetchone()
        return None if r is None else _decode(r[0])

    def meta_all(self) -> dict[str, Any]:
        cur = self._execute("SELECT key, value FROM meta")
        return {k: _decode(v) for k, v in cur.fetchall()}

    def meta_set(self, key: str, value: Any) -> None:
        self._execute(
            self._q("INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
            (key, _encode(value).decode()),
        )

    def bump(self, key: str) -> int:
        """Atomically increment a counter (and notify the other processes on commit)."""
        cur = self._execute(
            self._q("INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE "
                    "SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT) RETURNING value"),
            (key,),
        )
        value = int(cur.fetchone()[0])
        self.notify_change()
        return value

    # -- decision log (each backend keeps it apart from the state, on a connection of its own) ----------------------
    log_batch = 64  # decisions written per flush: a flush is a few round trips to a server, whatever its size
    # When serving (and no writer process, see start_log_process), write the log on a thread of its own: worth it
    # where a flush waits on a server (PostgreSQL); SQLite's local inserts cost less than the thread's handoffs of
    # the GIL (9% of a show in memory).
    log_in_thread = True

    def _log_execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _log_write(self, rows: Sequence[Sequence[Any]], keep: int | None) -> None:
        """Insert rows (DECISION_COLUMNS) into the log and, with `keep`, prune it (`prune_decisions`), in one
        transaction of the log."""
        raise NotImplementedError

    _pruned_to = 0  # the log's rows up to this seq are gone: this process pruned them

    def start_log_process(self, keep: int) -> LogProcess | None:
        """A process writing the log for this one (a `log_writer.LogProcess`), where the backend has one."""
        return None

    def append_decisions(self, rows: Sequence[tuple], *, keep: int | None = None) -> None:
        """rows: (ts, request_id, user_id, user_name, operation, allowed, method, path, project_id, principal
        JSON, decision JSON, resources JSON or None). With `keep`, as many old decisions as exceed it are forgotten
        in the same transaction (a primary-key range delete, so never a large chunk at once)."""
        self._log_write(rows, keep)

    def query_decisions(
        self,
        *,
        denied_only: bool = False,
        user: str | None = None,
        operation: str | None = None,
        since: float | None = None,
        until: float | None = None,
        after_seq: int | None = None,
        limit: int = 100,
    ) -> list[dict]:
        clauses, params = ["1 = 1"], []
        if denied_only:
            clauses.append("allowed = 0")
        if user:
            clauses.append("(user_id = ? OR user_name = ?)")
            params.extend((user, user))
        if operation:
            clauses.append("operation = ?")
            params.append(operation)
        if since is not None:
            clauses.append("ts >= ?")
            params.append(since)
        if until is not None:
            clauses.append("ts <= ?")
            params.append(until)
        if after_seq is not None:
            clauses.append("seq > ?")
            params.append(after_seq)
        sql = (f"SELECT seq, ts, request_id, operation, allowed, method, path, project_id, principal, decision, "
               f"resources "
               f"FROM decisions WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT ?")
        params.append(limit)
        out = []
        for seq, ts, rid, opname, allowed, method, path, project, principal, decision, resources in \
                self._log_execute(self._q(sql), params).fetchall():
            doc = {"seq": int(seq), "ts": ts, "request_id": rid, "operation": opname, "allowed": bool(allowed),
                   "method": method, "path": path, "project_id": project, "principal": _decode(principal),
                   "resources": _decode(resources) if resources else []}
            doc.update(_decode(decision))
            out.append(doc)
        return out

    def reset(self) -> None:
        """Drop every resource, meta value and decision (the control plane's reset)."""
        self._execute("DELETE FROM resources")
        self._execute("DELETE FROM counts")
        self._execute("DELETE FROM facets")
        self._execute("DELETE FROM jobs")
        self._execute("DELETE FROM meta")
        self._log_execute("DELETE FROM decisions")
