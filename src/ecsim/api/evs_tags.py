"""Huawei EVS disk tags: batch create / delete on one disk (`POST .../cloudvolumes/{id}/tags/action`, the body's
`action` choosing the operation and its IAM action; 204), a disk's tags and the project's (`GET
.../cloudvolumes/{id}/tags`, `GET .../cloudvolumes/tags`). The same `tags` the disk shows and its create set."""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

from ecsim.domain import tags
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.services import block


class Tag(Struct):
    key: str
    value: str | None = None


class TagsAction(Struct):
    action: str
    tags: list[Tag]


def _change(ctx: Ctx, edit: Callable[[dict[str, str]], dict[str, str]]) -> None:
    def apply(vol: dict) -> None:
        vol["tags"] = edit(dict(vol.get("tags") or {}))
        vol["updated"] = ctx.now

    block.change(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now, apply)


def create_tags(ctx: Ctx) -> Response:
    body = ctx.body_as(TagsAction)
    _change(ctx, lambda current: tags.add_pairs(current, [(t.key, t.value or "") for t in body.tags]))
    return empty(204)


def delete_tags(ctx: Ctx) -> Response:
    body = ctx.body_as(TagsAction)
    _change(ctx, lambda current: tags.remove_pairs(current, [(t.key, t.value) for t in body.tags]))
    return empty(204)


def show_tags(ctx: Ctx) -> Response:
    vol = block.load_volume(ctx.rt, ctx.project, ctx.params["volume_id"], ctx.now).doc
    return json_response(200, {"tags": [{"key": k, "value": v} for k, v in (vol.get("tags") or {}).items()]})


def project_tags(ctx: Ctx) -> Response:
    """Every tag key on the project's disks with the values it has (reads the project's disks)."""
    return json_response(200, {"tags": tags.values_by_key(
        pair for row in ctx.rt.store.select("volume", ctx.project) for pair in (row.doc.get("tags") or {}).items())})
