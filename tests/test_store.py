"""The store interface (no HTTP): documents, filters, keyset paging, optimistic versions, jobs, the decision log."""

from __future__ import annotations

import sqlite3

import pytest

from ecsim.store import Cond, Put, VersionConflict, open_store
from ecsim.testing.plugin import postgres_available, postgres_schema


@pytest.fixture(params=["memory", "file", "postgres"])
def store(request, tmp_path):
    if request.param == "postgres":
        if not postgres_available():
            pytest.skip("PostgreSQL is not reachable")
        with postgres_schema() as url:
            s = open_store(url)
            yield s
            s.close()
        return
    s = open_store("sqlite://:memory:" if request.param == "memory" else f"sqlite:///{tmp_path}/s.db")
    yield s
    s.close()


def put(i: int, **kw) -> Put:
    doc = {"id": f"s{i}", "name": f"web-{i}", "flavor_id": "f1" if i < 5 else "f2"}
    facets = (("tag", f"k{i % 2}=v"), ("tag", f"k{i % 2}"), ("meta", "env=prod" if i % 3 == 0 else "env=dev"),
              ("ip", f"10.0.0.{i}"), ("flavor", doc["flavor_id"]))
    return Put("server", f"s{i}", kw.get("scope", "p1"), doc, name=doc["name"], status=kw.get("status", "ACTIVE"),
               created=float(i), facets=facets)


def test_insert_get_update_delete(store):
    with store.write() as tx:
        tx.insert(put(1))
    row = store.get("server", "s1")
    assert row is not None and row.version == 1 and row.doc["name"] == "web-1"
    doc = dict(row.doc, name="renamed")
    with store.write() as tx:
        tx.update(Put("server", "s1", "p1", doc, name="renamed", status="SHUTOFF", created=1.0), rename=True)
    row = store.get("server", "s1")
    assert row.version == 2 and row.doc["name"] == "renamed"
    assert [r.id for r in store.select("server", "p1", [Cond("eq", "status", "SHUTOFF")])] == ["s1"]
    assert [r.id for r in store.select("server", "p1", [Cond("eq", "name", "renamed")])] == ["s1"]
    with pytest.raises(VersionConflict), store.write() as tx:  # a stale optimistic write loses
        tx.update(put(1), expect_version=1)
    with store.write() as tx:
        assert tx.delete("server", "s1")
    assert store.get("server", "s1") is None


def test_locked_reads_after_update_many_see_what_is_stored(store):
    """A locked read after update_many sees what is stored: the batch's docs, then nothing of a rolled-back batch,
    and a change made by another path (a cache of written docs, tried once, must keep this true)."""
    with store.write() as tx:
        tx.insert(put(1))
        tx.insert(put(2))
    with store.write() as tx:
        rows = tx.get_many("server", ["s1", "s2"], for_update=True)
        tx.update_many([Put("server", r.id, "p1", dict(r.doc, state=1), status="ACTIVE") for r in rows.values()])
    with pytest.raises(RuntimeError), store.write() as tx:
        rows = tx.get_many("server", ["s1", "s2"], for_update=True)
        assert [r.doc["state"] for r in rows.values()] == [1, 1]
        tx.update_many([Put("server", r.id, "p1", dict(r.doc, state=2), status="ACTIVE") for r in rows.values()])
        raise RuntimeError("rolled back")
    with store.write() as tx:
        tx.update(Put("server", "s2", "p1", dict(store.get("server", "s2").doc, state=3), status="ACTIVE"))
    with store.write() as tx:
        rows = tx.get_many("server", ["s1", "s2"], for_update=True)
        assert {r.id: r.doc["state"] for r in rows.values()} == {"s1": 1, "s2": 3}
        assert {r.id: r.version for r in rows.values()} == {"s1": 2, "s2": 3}


def test_update_many_sets_every_column_of_every_kind(store):
    """update_many writes status, settle_at, the doc, the name when renaming and the facets of rows of several
    kinds, bumps each version once and leaves rows it was not given alone."""
    with store.write() as tx:
        for i in (1, 2, 3):
            tx.insert(put(i))
        tx.insert(Put("volume", "v1", "p1", {"id": "v1", "size": 10}, name="disk", status="available", created=4.0))
    puts = [Put("server", "s1", "p1", {"id": "s1", "name": "a", "n": 1.5}, name="a", status="SHUTOFF",
                settle_at=100.25, facets=(("tag", "new"),)),
            Put("server", "s2", "p1", {"id": "s2", "name": "b", "nested": {"x": [1, None, "é"]}}, name="b",
                status="REBOOT"),
            Put("volume", "v1", "p1", {"id": "v1", "size": 20}, name="disk-2", status="in-use")]
    with store.write() as tx:
        tx.update_many(puts, rename=True)
    s1, s2, s3, v1 = (store.get(k, i) for k, i in (("server", "s1"), ("server", "s2"), ("server", "s3"),
                                                    ("volume", "v1")))
    assert (s1.doc, s1.version, s1.settle_at) == ({"id": "s1", "name": "a", "n": 1.5}, 2, 100.25)
    assert s2.doc["nested"] == {"x": [1, None, "é"]} and s2.version == 2 and s2.settle_at is None
    assert (s3.doc["name"], s3.version) == ("web-3", 1)
    assert (v1.doc, v1.version) == ({"id": "v1", "size": 20}, 2)
    assert [r.id for r in store.select("server", "p1", [Cond("eq", "status", "SHUTOFF")])] == ["s1"]
    assert [r.id for r in store.select("server", "p1", [Cond("eq", "name", "b")])] == ["s2"]
    assert [r.id for r in store.select("volume", "p1", [Cond("eq", "name", "disk-2")])] == ["v1"]
    assert [r.id for r in store.select("server", "p1", [Cond("facet", "tag", "new")])] == ["s1"]
    assert [r.id for r in store.due(200.0, ("server",))] == ["s1"]
    with store.write() as tx:  # without rename the name column stays
        tx.update_many([Put("server", i, "p1", {"id": i}, name="ignored", status="ACTIVE") for i in ("s1", "s2")])
    assert [r.id for r in store.select("server", "p1", [Cond("eq", "name", "a")])] == ["s1"]
    assert store.get("server", "s1").version == 3


def test_failed_transaction_changes_nothing(store):
    with pytest.raises(RuntimeError), store.write() as tx:
        tx.insert(put(1))
        raise RuntimeError("boom")
    assert store.get("server", "s1") is None
    with store.write() as tx:
        tx.insert(put(1))
    with pytest.raises(VersionConflict), store.write() as tx:  # duplicate key
        tx.insert(put(2))
        tx.insert(put(1))
    assert store.get("server", "s2") is None


def _committed_server_ids(store) -> set[str]:
    """What another connection sees (committed rows only); for the in-memory store, the store itself."""
    sql = "SELECT id FROM resources WHERE kind = 'server'"
    if getattr(store, "path", None) == ":memory:":
        return {r[0] for r in store._execute(sql).fetchall()}
    if hasattr(store, "path"):
        with sqlite3.connect(store.path) as conn:
            return {r[0] for r in conn.execute(sql)}
    import psycopg

    with psycopg.connect(store.conninfo, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {store.schema}")
        return {r[0] for r in conn.execute(sql)}


def test_grouped_writes_commit_together_and_a_failure_undoes_only_its_own(store):
    """The server's group commit: each request's write is a savepoint of one transaction; a failing one leaves the
    others in place, and none is visible to another connection until commit_group()."""
    store.grouping = True
    with pytest.raises(RuntimeError), store.write() as tx:  # a failing first member leaves no group behind
        tx.insert(put(0))
        raise RuntimeError("boom")
    assert not store.group_pending()
    with store.write() as tx:
        tx.insert(put(1))
    with pytest.raises(RuntimeError), store.write() as tx:
        tx.insert(put(2))
        raise RuntimeError("boom")
    with pytest.raises(VersionConflict), store.write() as tx:
        tx.insert(put(3))
        tx.insert(put(1))  # duplicate key
    with store.write() as tx:
        tx.insert(put(4))
    assert store.group_pending()
    assert store.get("server", "s4") is not None and store.get("server", "s3") is None
    if getattr(store, "path", None) != ":memory:":
        assert _committed_server_ids(store) == set()
    store.commit_group()
    assert not store.group_pending()
    assert _committed_server_ids(store) == {"s1", "s4"}
    assert store.count("server", "p1") == 2


def test_a_group_the_database_rolled_back_fails_whole(store):
    """If the database drops the group's transaction under it (SQLite does on some I/O errors, PostgreSQL when the
    connection dies), commit_group() raises and nothing of that group is left, not even later requests' writes."""
    from ecsim.store import StoreUnavailable

    store.grouping = True
    with store.write() as tx:
        tx.insert(put(1))
    if hasattr(store, "path"):
        store._conn.execute("ROLLBACK")
    else:
        store._drop_connection()
    with store.write() as tx:
        tx.insert(put(2))
    with pytest.raises(StoreUnavailable):
        store.commit_group()
    assert not store.group_pending()
    assert store.get("server", "s1") is None and store.get("server", "s2") is None
    with store.write() as tx:  # the next group works
        tx.insert(put(3))
    store.commit_group()
    assert _committed_server_ids(store) == {"s3"}


def test_filters_and_paging(store):
    with store.write() as tx:
        tx.insert_many([put(i) for i in range(10)] + [put(99, scope="p2")])
    ids = lambda conds, **kw: [r.id for r in store.select("server", "p1", conds, **kw)]  # noqa: E731
    assert ids([], limit=3) == ["s9", "s8", "s7"]
    assert ids([], limit=3, offset=3) == ["s6", "s5", "s4"]
    assert ids([Cond("before", "created", (7.0, "s7"))], limit=2) == ["s6", "s5"]
    assert ids([Cond("jeq", "flavor_id", "f1")]) == ["s4", "s3", "s2", "s1", "s0"]
    assert ids([Cond("facet", "flavor", "f1")]) == ["s4", "s3", "s2", "s1", "s0"]
    assert ids([Cond("facet", "tag", "k1")]) == ["s9", "s7", "s5", "s3", "s1"]
    assert ids([Cond("facet", "tag", "k1=v")], limit=2) == ["s9", "s7"]
    assert ids([Cond("facet", "tag", "k1=v"), Cond("before", "created", (7.0, "s7"))], limit=2) == ["s5", "s3"]
    assert len(ids([Cond("nofacet", "tag", "k1")])) == 5
    assert ids([Cond("facet", "meta", "env=prod")]) == ["s9", "s6", "s3", "s0"]
    assert ids([Cond("facet", "meta", "env=prod"), Cond("facet", "flavor", "f2")]) == ["s9", "s6"]
    assert ids([Cond("facet", "ip", "10.0.0.3")]) == ["s3"]
    assert ids([Cond("facet_like", "ip", "%.0.1%")]) == ["s1"]
    assert ids([Cond("like", "name", "web-_")], limit=2) == ["s9", "s8"]
    assert store.count("server", "p1", [Cond("facet", "flavor", "f2")]) == 5
    assert store.count("server", "p1", [Cond("facet", "meta", "env=prod"), Cond("eq", "status", "ACTIVE")]) == 4
    assert store.count("server", "p1") == 10 and store.count("server", "p2") == 1
    assert store.group_count("server", "p1", "flavor_id") == {"f1": 5, "f2": 5}
    with store.write() as tx:  # facets follow updates and deletes
        tx.update(Put("server", "s3", "p1", {"id": "s3", "name": "x"}, status="ACTIVE", created=3.0,
                      facets=(("flavor", "f9"),)))
        tx.delete("server", "s4")
    assert ids([Cond("facet", "flavor", "f1")]) == ["s2", "s1", "s0"]
    assert ids([Cond("facet", "flavor", "f9")]) == ["s3"]
    assert store.count("server", "p1") == 9


def test_due_rows_and_jobs(store):
    with store.write() as tx:
        tx.insert(Put("server", "a", "p1", {}, status="BUILD", created=1.0, settle_at=50.0))
        tx.insert(Put("server", "b", "p1", {}, status="ACTIVE", created=2.0))
        tx.insert_job("j1", "p1", 10.0, {"id": "j1"})
    assert [r.id for r in store.due(60.0, ("server",))] == ["a"]
    assert store.due(40.0, ("server",)) == []
    assert store.get_job("j1") == ("p1", {"id": "j1"})
    with store.write() as tx:
        assert tx.purge_jobs(11.0) == 1
    assert store.get_job("j1") is None


def test_meta_and_decisions(store):
    with store.write() as tx:
        tx.meta_set("k", {"a": 1})
        assert tx.bump("counter") == 1 and tx.bump("counter") == 2
    assert store.meta_get("k") == {"a": 1}
    store.append_decisions([(1.0, "r1", "u1", "alice", "op.a", 1, "GET", "/x", "p", '{"user_name": "alice"}',
                             '{"basis": "policy"}', None),
                            (2.0, "r2", "u2", "bob", "op.b", 0, "POST", "/y", "p", '{"user_name": "bob"}',
                             '{"basis": "policy"}', '["ecs:r:a:instance:1"]')])
    rows = store.query_decisions()
    assert [r["request_id"] for r in rows] == ["r2", "r1"]
    assert [r["request_id"] for r in store.query_decisions(denied_only=True)] == ["r2"]
    assert [r["request_id"] for r in store.query_decisions(user="alice")] == ["r1"]
    assert [r["request_id"] for r in store.query_decisions(user="u2")] == ["r2"]
    assert [r["request_id"] for r in store.query_decisions(operation="op.a")] == ["r1"]
    assert [r["request_id"] for r in store.query_decisions(since=1.5)] == ["r2"]
    assert [r["request_id"] for r in store.query_decisions(until=1.5, user="nobody")] == []
    assert rows[0]["principal"] == {"user_name": "bob"} and rows[0]["basis"] == "policy"
    assert rows[0]["resources"] == ["ecs:r:a:instance:1"] and rows[1]["resources"] == []
    store.append_decisions([(3.0, "r3", "u1", "alice", "op.a", 1, "GET", "/x", "p", "{}", "{}", None)], keep=2)
    assert [r["request_id"] for r in store.query_decisions()] == ["r3", "r2"]  # pruned to the newest two
    store.append_decisions([(4.0, "r4", "u1", "alice", "op.a", 1, "GET", "/x", "p", "{}", "{}", None)], keep=2)
    assert [r["request_id"] for r in store.query_decisions()] == ["r4", "r3"]  # from where the last prune ended


def test_sqlite_full_disk_is_a_clear_error(tmp_path):
    """A full disk (here: a page limit, which SQLite reports the same way) is StoreUnavailable, which the API
    renders as a 503 in the family's format, and the failed transaction leaves nothing behind."""
    from ecsim.store import StoreUnavailable

    s = open_store(f"sqlite:///{tmp_path}/full.db")
    pages = s._conn.execute("PRAGMA page_count").fetchone()[0]
    s._conn.execute(f"PRAGMA max_page_count = {pages + 3}")
    big = {"blob": "x" * 20_000}
    with pytest.raises(StoreUnavailable, match="disk is full"), s.write() as tx:
        for i in range(10):
            tx.insert(Put("server", f"s{i}", "p", big, created=float(i)))
    assert s.count("server", "p") == 0 and s.get("server", "s0") is None
    s.close()


def test_a_decision_log_from_before_resources_is_migrated(tmp_path):
    """Logs of 0.1 had no resources column, and secondary indexes that each cost an insert as much as the row."""
    old = sqlite3.connect(tmp_path / "decisions.db")
    old.execute("CREATE TABLE decisions (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, request_id TEXT, "
                "user_id TEXT, user_name TEXT, operation TEXT, allowed INTEGER NOT NULL, method TEXT, path TEXT, "
                "project_id TEXT, principal TEXT NOT NULL, decision TEXT NOT NULL)")
    old.execute("CREATE INDEX decisions_user ON decisions (user_id, seq)")
    old.execute("CREATE INDEX decisions_ts ON decisions (ts)")
    old.execute("INSERT INTO decisions (ts, request_id, allowed, principal, decision) VALUES (1, 'r0', 1, '{}', '{}')")
    old.commit()
    old.close()
    s = open_store(f"sqlite:///{tmp_path}/s.db")
    s.append_decisions([(2.0, "r1", "u", "n", "op", 0, "GET", "/", "p", "{}", "{}", '["evs:r:a:volume:v"]')])
    assert [(r["request_id"], r["resources"]) for r in s.query_decisions()] == [("r1", ["evs:r:a:volume:v"]),
                                                                                 ("r0", [])]
    assert s._log.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'decisions%'"
                          ).fetchall() == []
    s.close()


def _log_recorder(log):
    from types import SimpleNamespace

    principal = SimpleNamespace(user_id="u1", user_name="alice", encoded=[b'{"user_name":"alice"}'])

    def record(n: int) -> None:
        log.record(now=float(n), request_id=f"r{n}", principal=principal, op=SimpleNamespace(name="op.a"),
                   method="GET", path="/x", decision=SimpleNamespace(allowed=True, encoded=b"{}"), project_id="p")

    return record


def test_decision_log_writer_thread_survives_a_refused_batch(tmp_path):
    """On PostgreSQL a thread writes the log when serving: a read waits for everything recorded before it, and a
    batch the database refuses is dropped without stopping the writer (a read after it must not hang)."""
    from ecsim.iam.decisions import DecisionLog

    s = open_store(f"sqlite:///{tmp_path}/log.db")
    s.log_in_thread, s.start_log_process = True, lambda keep: None  # the thread, on a store at hand
    log = DecisionLog(s)
    log.start_writer()
    assert log._writer is not None
    record = _log_recorder(log)
    for n in range(40):  # more than one flush plus a remainder
        record(n)
    assert len(log.query(limit=100)) == 40
    real, calls = s.append_decisions, []

    def refuse(rows: list, keep: int | None = None) -> None:
        calls.append(len(rows))
        raise OSError("refused")

    s.append_decisions = refuse
    record(40)
    log.flush()
    log.drain()
    s.append_decisions = real
    record(41)
    got = [r["request_id"] for r in log.query(limit=100)]
    assert calls == [1] and got[0] == "r41" and "r40" not in got and len(got) == 41
    log.close()
    s.close()


def test_decision_log_writer_process(tmp_path, monkeypatch):
    """On a SQLite file a process of its own writes the log when serving: a read sees everything recorded before
    it, the process prunes to KEEP, and when it dies the server writes the log itself, losing nothing it still
    holds."""
    from ecsim.iam import decisions
    from ecsim.iam.decisions import DecisionLog

    monkeypatch.setattr(decisions, "KEEP", 100)
    s = open_store(f"sqlite:///{tmp_path}/log.db")
    log = DecisionLog(s)
    log.start_writer()
    proc = log._process
    assert proc is not None and log.batch == 64 and s._log_elsewhere
    record = _log_recorder(log)
    for n in range(150):  # two flushes to the process, then a remainder at the read
        record(n)
    got = [r["request_id"] for r in log.query(limit=1000)]
    assert got == [f"r{n}" for n in range(149, 49, -1)]  # the newest 100: pruned after each batch
    proc.proc.kill()
    proc.proc.wait()
    for n in range(150, 160):
        record(n)
    got = [r["request_id"] for r in log.query(limit=1000)]
    assert log._process is None and got[:11] == [f"r{n}" for n in range(159, 148, -1)]
    log.close()
    s.close()


def test_sqlite_wal_starts_over_under_steady_writes(tmp_path, monkeypatch):
    """Background checkpoints alone never let a WAL start over while writes keep coming, so it would grow until the
    server stops. Past RESTART_BYTES the writing connection finishes the copy between requests (housekeeping) and
    its next write starts the WAL over, reusing the file; the decision log's writer does the same."""
    from ecsim.store import sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "CHECKPOINT_SECONDS", 0.005)
    monkeypatch.setattr(sqlite_store, "RESTART_BYTES", (64 * 4096, 64 * 4096))
    s = open_store(f"sqlite:///{tmp_path}/s.db")
    sizes, log_sizes = [], []
    pad = f'{{"pad": "{"x" * 3000}"}}'
    try:
        for i in range(3000):
            with s.write() as tx:
                tx.insert(Put("server", f"s{i}", "p", {"pad": "x" * 3000}, created=float(i)))
            s.append_decisions([(float(i), f"r{i}", "u", "n", "op", 1, "GET", "/", "p", "{}", pad, None)])
            s.housekeeping()
            sizes.append((tmp_path / "s.db-wal").stat().st_size)
            log_sizes.append((tmp_path / "decisions.db-wal").stat().st_size)
        assert s.count("server", "p") == 3000 and len(s.query_decisions(limit=5000)) == 3000
    finally:
        s.close()
    # Never started over, each WAL would reach about 100 MB; starting over, they stay near a few.
    assert max(sizes) < 16 * 2**20 and max(log_sizes) < 16 * 2**20


def test_sqlite_sees_commits_of_other_processes_only(tmp_path):
    """Each request asks whether another process committed (its caches of identities and the clock are then
    re-validated); the answer comes from the WAL index's commit counter, so this process's own commits, empty
    ones included, must not count, and a commit of another process just before one of ours must."""
    path = f"{tmp_path}/s.db"
    a, b = open_store(f"sqlite:///{path}"), open_store(f"sqlite:///{path}")
    try:
        assert not a.changed_elsewhere() and not b.changed_elsewhere()
        with a.write() as tx:
            tx.meta_set("k", "1")
        assert not a.changed_elsewhere()
        assert b.changed_elsewhere() and not b.changed_elsewhere()  # once
        with a.write():
            pass
        assert not a.changed_elsewhere() and not b.changed_elsewhere()
        with b.write() as tx:
            tx.meta_set("k", "2")
        with a.write() as tx:  # b's commit came first: a must still notice it
            tx.meta_set("k", "3")
        assert a.changed_elsewhere() and not a.changed_elsewhere() and b.changed_elsewhere()
        other = sqlite3.connect(path)  # any writer counts, not only ecsim's
        other.execute("INSERT INTO meta (key, value) VALUES ('z', '1')")
        other.commit()
        other.close()
        assert a.changed_elsewhere() and b.changed_elsewhere()
    finally:
        a.close()
        b.close()


def test_sqlite_rows_read_between_commits_stay_current(tmp_path):
    """Rows read outside a transaction are kept until the next commit of any process; a write of another process,
    one of this process, a rolled-back one and one in the open transaction must each show in the next read."""
    path = f"{tmp_path}/s.db"
    a, b = open_store(f"sqlite:///{path}"), open_store(f"sqlite:///{path}")
    try:
        with a.write() as tx:
            tx.insert(put(1))
        assert a.get("server", "s1").doc["name"] == "web-1" and a.get("server", "s1").version == 1  # kept
        with b.write() as tx:
            tx.update(Put("server", "s1", "p1", {"name": "by-b"}, status="ACTIVE"))
        assert a.get("server", "s1").doc["name"] == "by-b"
        with pytest.raises(RuntimeError), a.write() as tx:
            tx.update(Put("server", "s1", "p1", {"name": "undone"}, status="ACTIVE"))
            assert tx.get("server", "s1").doc["name"] == "undone"  # its own transaction's write
            raise RuntimeError("rolled back")
        row = a.get("server", "s1")
        assert row.doc["name"] == "by-b" and row.version == 2
        row.doc["name"] = "changed by a reader"  # each reader decodes a doc of its own
        assert a.get("server", "s1").doc["name"] == "by-b"
        other = sqlite3.connect(path)
        other.execute("DELETE FROM resources WHERE id = 's1'")
        other.commit()
        other.close()
        assert a.get("server", "s1") is None
    finally:
        a.close()
        b.close()


def test_sqlite_page_sizes_new_and_existing(tmp_path):
    """A new file store takes SQLite's 4 KiB pages (a new memory store 16 KiB); a store made with other pages (8 KiB,
    as a build of 2026-12-04 made them) keeps them, and its rows, when ecsim opens it."""
    fresh = open_store(f"sqlite:///{tmp_path}/new/s.db")
    memory = open_store("sqlite:///:memory:")
    try:
        assert fresh._conn.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert memory._conn.execute("PRAGMA page_size").fetchone()[0] == 16384
    finally:
        fresh.close()
        memory.close()
    old = open_store(f"sqlite:///{tmp_path}/old/s.db")
    old._conn.execute("PRAGMA journal_mode=DELETE")  # outside WAL, a VACUUM applies a new page size
    old._conn.execute("PRAGMA page_size=8192")
    old._conn.execute("VACUUM")
    with old.write() as tx:
        tx.insert(put(1))
    old.close()
    reopened = open_store(f"sqlite:///{tmp_path}/old/s.db")
    try:
        assert reopened._conn.execute("PRAGMA page_size").fetchone()[0] == 8192
        assert reopened.get("server", "s1").doc["name"] == "web-1"
        with reopened.write() as tx:
            tx.update(Put("server", "s1", "p1", {"name": "renamed"}, status="ACTIVE"))
        assert reopened.get("server", "s1").doc["name"] == "renamed"
    finally:
        reopened.close()
