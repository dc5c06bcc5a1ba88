"""ecsim's own control plane under /_ecsim: health, the bootstrap credentials, the decision log, catalog coverage
and the clock. Local and unauthenticated, like the emulator itself."""

from __future__ import annotations

import os

from msgspec import Struct

from ecsim.catalog import all_operations
from ecsim.domain.errors import InvalidInput
from ecsim.http.context import Ctx, Response, json_response
from ecsim.timefmt import iso_millis_z, parse_iso


def health(ctx: Ctx) -> Response:
    ctx.rt.store.meta_get("bootstrap")  # touches the store: a dead database shows here as a 503
    return json_response(200, {"status": "ok", "time": iso_millis_z(ctx.now), "pid": os.getpid()})


def info(ctx: Ctx) -> Response:
    c = ctx.rt.config
    return json_response(200, {
        "endpoint": c.base_url(), "region": c.region, "profile": c.profile, "time_scale": c.time_scale,
        "availability_zones": c.availability_zones, "store": c.store_url().split("?")[0],
        **ctx.rt.boot.as_dict(),
    })


def decisions(ctx: Ctx) -> Response:
    """GET /_ecsim/decisions?denied=true&user=<name or id>&operation=<name>&since=<iso>&limit=N (newest first)."""
    since = ctx.q("since")
    try:
        since_ts = parse_iso(since) if since else None
    except ValueError as exc:
        raise InvalidInput("since must be an ISO 8601 time") from exc
    rows = ctx.rt.decisions.query(
        denied_only=bool(ctx.q_bool("denied")), user=ctx.q("user"), operation=ctx.q("operation"), since=since_ts,
        limit=ctx.q_int("limit", 100, low=1, high=10000),
    )
    return json_response(200, {"decisions": rows})


def coverage_rows() -> list[dict]:
    return [
        {"name": op.name, "family": op.family, "method": op.method, "path": op.path, "selector": op.selector,
         "actions": list(op.actions), "dependencies": list(op.dependencies), "source": op.source,
         "served": op.handler is not None, "title": op.title}
        for op in all_operations() if op.family != "control"
    ]


def coverage(ctx: Ctx) -> Response:
    rows = coverage_rows()
    served = sum(1 for r in rows if r["served"])
    seeds = [r for r in rows if r["source"].startswith("seed:")]
    return json_response(200, {
        "total": len(rows), "served": served, "seed_rows": len(seeds),
        "seed_rows_served": sum(1 for r in seeds if r["served"]), "operations": rows,
    })


def catalog(ctx: Ctx) -> Response:
    return json_response(200, {"operations": coverage_rows()})


def show_clock(ctx: Ctx) -> Response:
    c = ctx.rt.clock
    return json_response(200, {"now": iso_millis_z(c.now()), "frozen": c.frozen_at is not None, "offset": c.offset})


class ClockBody(Struct):
    freeze: bool | None = None
    advance: float | None = None
    set: str | None = None


CLOCK_RANGE = (946684800.0, 221845392000.0)  # 2000-01-01 .. 9000-01-01 UTC


def set_clock(ctx: Ctx) -> Response:
    """POST /_ecsim/clock {"freeze": true|false, "advance": seconds, "set": iso-time}: moves every timed transition."""
    body = ctx.body_as(ClockBody)
    c = ctx.rt.clock
    before = (c.offset, c.frozen_at)
    if body.set is not None:
        try:
            target = parse_iso(body.set)
        except ValueError as exc:
            raise InvalidInput("set must be an ISO 8601 time") from exc
        if c.frozen_at is not None:
            c.frozen_at = target
        else:
            c.offset += target - c.now()
    if body.freeze is True:
        c.freeze()
    elif body.freeze is False:
        c.unfreeze()
    if body.advance is not None:
        if body.advance < 0:
            raise InvalidInput("advance must not be negative: the clock only moves forward")
        c.advance(body.advance)
    if not CLOCK_RANGE[0] <= c.now() < CLOCK_RANGE[1]:  # timestamps must stay renderable: refuse, change nothing
        c.offset, c.frozen_at = before
        raise InvalidInput("the clock must stay between 2000-01-01 and 9000-01-01 (UTC)")
    ctx.rt.save_clock()
    ctx.rt.purge_expired_jobs()  # what the new time puts past its retention goes now, not at the next sweep
    return show_clock(ctx)
