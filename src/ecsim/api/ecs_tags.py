"""Huawei ECS v1 server tags: batch create / delete on one server (`POST .../cloudservers/{id}/tags/action`, 204),
a server's tags and the project's (`GET .../cloudservers/{id}/tags`, `GET .../cloudservers/tags`). The same tags
the create's `server_tags`, the list filters and Nova's `/servers/{id}/tags` see."""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

from ecsim.domain import tags
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.services import lifecycle
from ecsim.services.server_rows import get_server


class Tag(Struct):
    key: str
    value: str | None = None


class TagsAction(Struct):
    action: Literal["create", "delete"]
    tags: list[Tag]


def batch_tags(ctx: Ctx) -> Response:
    body = ctx.body_as(TagsAction)

    def apply(doc: dict) -> None:
        if body.action == "create":
            tags.ecs_add(doc, [(t.key, t.value or "") for t in body.tags])
        else:
            tags.ecs_remove(doc, [(t.key, t.value) for t in body.tags])
        doc["updated"] = ctx.now

    lifecycle.change_server(ctx.rt, ctx.project, ctx.params["server_id"], apply, now=ctx.now, is_admin=ctx.is_admin,
                            lock_checked=False, facets=True)
    return empty(204)


def show_tags(ctx: Ctx) -> Response:
    doc = get_server(ctx.rt, ctx.project, ctx.params["server_id"], ctx.now)
    return json_response(200, {"tags": [{"key": k, "value": v} for k, v in map(tags.split, doc.get("tags", []))]})


def project_tags(ctx: Ctx) -> Response:
    """Every tag key used in the project with the values it has (reads the project's servers)."""
    values = tags.values_by_key(tags.split(t) for row in ctx.rt.store.select("server", ctx.project)
                                for t in row.doc.get("tags", []))
    return json_response(200, {"tags": [{"key": k, "values": v} for k, v in values.items()]})
