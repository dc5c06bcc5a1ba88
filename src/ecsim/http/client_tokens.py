"""X-Client-Token, the idempotency key of Huawei's creates (ECS servers, EVS disks): a request repeated with the same
token in the same project answers what the first one answered and creates nothing more. The answer is stored in the
transaction that made the resources, so a repeat sees both or neither; it is kept a day, as jobs are."""

from __future__ import annotations

from collections.abc import Callable

from ecsim.domain.errors import InvalidInput
from ecsim.domain.jobs import JOB_RETENTION_SECONDS
from ecsim.http.context import Ctx, Response
from ecsim.store import VersionConflict

MAX_TOKEN = 64


def once(ctx: Ctx, produce: Callable[[], Response]) -> Response:
    """`produce` the answer, or replay the one stored for this request's X-Client-Token."""
    token = ctx.headers.get("x-client-token")
    if token is None:
        return produce()
    if not 0 < len(token) <= MAX_TOKEN:
        raise InvalidInput(f"X-Client-Token must be 1 to {MAX_TOKEN} characters long.")
    assert ctx.op is not None
    key = f"{ctx.project}:{ctx.op.name}:{token}"
    since = ctx.now - JOB_RETENTION_SECONDS
    try:
        with ctx.rt.store.write() as tx:
            hit = tx.client_token_get(key, since)
            if hit is not None:
                return Response(hit["status"], hit["body"].encode())
            resp = produce()
            if 200 <= resp.status < 300 and resp.body:
                tx.client_token_put(key, ctx.now, {"status": resp.status, "body": resp.body.decode()}, since)
            return resp
    except VersionConflict:  # the same token answered meanwhile by another worker (PostgreSQL): its answer
        hit = ctx.rt.store.client_token_get(key, since)
        if hit is None:
            raise
        return Response(hit["status"], hit["body"].encode())
