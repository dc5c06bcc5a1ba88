"""The decision log: every authorization decision with principal, operation, the resources it named (URNs), each
action, the result and the statement that decided.

Recording only keeps references to the request's objects. Principals and decisions are shared between requests
(both are cached until the identity data changes), so their log documents are encoded once. A flush (every 100 ms
from the event loop, when a batch is pending, before every read and at shutdown) builds the rows and writes them in
one bulk insert. When serving, the event loop never waits for the log's database: on a SQLite file a process of its
own writes them (store.log_writer), on PostgreSQL a thread; in memory they are written inline. A read of the log
first waits until everything recorded before it is written.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import NamedTuple

import msgspec

from ecsim.catalog import Operation
from ecsim.domain.errors import DomainError
from ecsim.iam.directory import Principal
from ecsim.iam.evaluate import Decision
from ecsim.store import SqlStore
from ecsim.store.log_writer import LogProcess
from ecsim.timefmt import iso_millis_z

KEEP = 200_000
log = logging.getLogger("ecsim")
_encode = msgspec.json.encode


class Pending(NamedTuple):
    now: float
    request_id: str
    principal: Principal
    op: Operation
    method: str
    path: str
    decision: Decision
    project_id: str | None
    resources: tuple[str, ...] | Callable[[], tuple[str, ...]]  # computed at flush when a callable


def principal_json(p: Principal) -> str:
    if not p.encoded:
        p.encoded.append(_encode(p.as_dict()))
    return p.encoded[0].decode()


def decision_json(d: Decision) -> str:
    if d.encoded is None:
        d.encoded = _encode({
            "basis": d.basis,
            "actions": [r.as_dict() for r in d.results],
            "denied_action": d.denied.action if d.denied else None,
            "explanation": d.explain(),
        })
    return d.encoded.decode()


def _resources_json(resources: tuple[str, ...] | Callable[[], tuple[str, ...]]) -> str | None:
    if callable(resources):
        try:
            resources = resources()
        except DomainError:  # a malformed body: the request was refused before naming anything
            resources = ()
    return _encode(resources).decode() if resources else None


class DecisionLog:
    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.pending: list[Pending] = []
        self.batch = store.log_batch
        self._queue: queue.Queue[list[tuple] | None] | None = None
        self._writer: threading.Thread | None = None
        self._process: LogProcess | None = None

    def start_writer(self) -> None:
        """Write flushed batches off the event loop, which then only builds the rows: a process for a SQLite file,
        a thread for PostgreSQL (its inserts wait on the network, and give the GIL up while they do); in memory the
        inserts stay inline, cheaper than any handoff."""
        if self._writer is not None or self._process is not None:
            return
        try:
            self._process = self.store.start_log_process(KEEP)
        except OSError as exc:
            log.warning("decision log: no writer process (%s); writing in the server", exc)
        if self._process is not None:
            self.batch = self._process.batch
        elif self.store.log_in_thread:
            self._queue = queue.Queue()
            self._writer = threading.Thread(target=self._write_loop, args=(self._queue,), name="ecsim-decisions",
                                            daemon=True)
            self._writer.start()

    def _write_loop(self, q: queue.Queue[list[tuple] | None]) -> None:
        while (rows := q.get()) is not None:
            try:
                self.store.append_decisions(rows, keep=KEEP)
            except Exception as exc:  # a log: losing a batch must not stop the writer (drain() waits on it)
                log.warning("decision log: %d decisions not written: %s", len(rows), exc)
            finally:
                q.task_done()
        q.task_done()

    def record(self, *, now: float, request_id: str, principal: Principal, op: Operation, method: str, path: str,
               decision: Decision, project_id: str | None = None,
               resources: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()) -> None:
        self.pending.append(Pending(now, request_id, principal, op, method, path, decision, project_id, resources))
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        # The rows are built here, on the caller's thread: resolving URNs may read the state store.
        rows = [
            (p.now, p.request_id, p.principal.user_id, p.principal.user_name, p.op.name,
             1 if p.decision.allowed else 0, p.method, p.path, p.project_id, principal_json(p.principal),
             decision_json(p.decision), _resources_json(p.resources))
            for p in batch
        ]
        if self._process is not None:
            try:
                self._process.send(rows)
                return
            except OSError as exc:
                self._lost_process(exc)
        if self._queue is not None:
            self._queue.put(rows)
        else:
            self.store.append_decisions(rows, keep=KEEP)  # the log stays at KEEP rows

    def drain(self) -> None:
        """Return once every decision recorded so far is written."""
        self.flush()
        if self._process is not None:
            try:
                self._process.sync()
            except OSError as exc:
                self._lost_process(exc)
        if self._queue is not None:
            self._queue.join()

    def _lost_process(self, exc: OSError) -> None:
        """The writer process is gone (killed, crashed): from now on the server writes the log itself."""
        log.warning("decision log: the writer process failed (%s); writing in the server from now on", exc)
        proc, self._process = self._process, None
        self.batch = self.store.log_batch
        if proc is not None:
            proc.close()

    def close(self) -> None:
        self.drain()
        if self._process is not None:
            self._process.close()
            self._process = None
        if self._queue is not None and self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=5)
        self._queue = self._writer = None

    def query(self, **filters: object) -> list[dict]:
        self.drain()
        out = self.store.query_decisions(**filters)  # type: ignore[arg-type]
        for doc in out:
            doc["time"] = iso_millis_z(doc["ts"])
        return out
