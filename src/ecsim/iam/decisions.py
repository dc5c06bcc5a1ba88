"""The decision log: every authorization decision with principal, operation, each action, the result and the
statement that decided. Buffered in memory and written in batches (every half second, when the buffer fills,
before every read and at shutdown) so that logging costs the hot path almost nothing."""

from __future__ import annotations

import msgspec

from ecsim.catalog import Operation
from ecsim.iam.directory import Principal
from ecsim.iam.evaluate import Decision
from ecsim.store import SqlStore
from ecsim.timefmt import iso_millis_z

FLUSH_AT = 512
KEEP = 200_000


class DecisionLog:
    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.buffer: list[tuple[float, str, str, str, str, int, bytes]] = []
        self._since_prune = 0

    def record(
        self,
        *,
        now: float,
        request_id: str,
        principal: Principal,
        op: Operation,
        method: str,
        path: str,
        decision: Decision,
        resources: tuple[str, ...] | None = None,
        project_id: str | None = None,
    ) -> None:
        doc = {
            "time": iso_millis_z(now),
            "ts": now,
            "request_id": request_id,
            "principal": principal.as_dict(),
            "project_id": project_id,
            "operation": op.name,
            "method": method,
            "path": path,
            "allowed": decision.allowed,
            "basis": decision.basis,
            "actions": [r.as_dict() for r in decision.results],
            "denied_action": decision.denied.action if decision.denied else None,
            "explanation": decision.explain(),
            "resources": list(resources) if resources else [],
        }
        self.buffer.append((now, request_id, principal.user_id, principal.user_name, op.name,
                            1 if decision.allowed else 0, msgspec.json.encode(doc)))
        if len(self.buffer) >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        rows, self.buffer = self.buffer, []
        with self.store.write() as tx:
            tx.append_decisions(rows)
            self._since_prune += len(rows)
            if self._since_prune > 10_000:
                tx.prune_decisions(KEEP)
                self._since_prune = 0

    def query(self, **filters: object) -> list[dict]:
        self.flush()
        out = []
        for seq, doc in self.store.query_decisions(**filters):  # type: ignore[arg-type]
            doc["seq"] = seq
            out.append(doc)
        return out
