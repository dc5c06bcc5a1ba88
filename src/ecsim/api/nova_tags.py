"""Nova server tags (`/servers/{id}/tags[/{tag}]`, from microversion 2.26; 404 below, as the routes do not exist):
list, replace all (200 with the tags), delete all (204), check one (204 / 404), add one (201 with a Location, 204
when it was there) and delete one (204 / 404). The same tags the ECS API shows as keys without values."""

from __future__ import annotations

from collections.abc import Callable

from ecsim.api.nova import Strict, links, version
from ecsim.api.nova_servers import load_doc
from ecsim.domain import tags
from ecsim.domain.errors import NotFound
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.services import lifecycle


class TagsBody(Strict):
    tags: list[str]


def _since_2_26(ctx: Ctx) -> None:
    if version(ctx) < (2, 26):
        raise NotFound("api", ctx.path, "The resource could not be found.")


def _change(ctx: Ctx, apply: Callable[[dict], object]) -> dict:
    def step(doc: dict) -> None:
        apply(doc)
        doc["updated"] = ctx.now

    return lifecycle.change_server(ctx.rt, ctx.project, ctx.params["server_id"], step, now=ctx.now,
                                   is_admin=ctx.is_admin, lock_checked=False, facets=True)


def list_tags(ctx: Ctx) -> Response:
    _since_2_26(ctx)
    return json_response(200, {"tags": load_doc(ctx).get("tags", [])})


def replace_tags(ctx: Ctx) -> Response:
    _since_2_26(ctx)
    wanted = ctx.body_as(TagsBody).tags
    doc = _change(ctx, lambda d: tags.nova_replace(d, wanted))
    return json_response(200, {"tags": doc["tags"]})


def delete_tags(ctx: Ctx) -> Response:
    _since_2_26(ctx)
    _change(ctx, lambda d: d.update(tags=[]))
    return empty(204)


def check_tag(ctx: Ctx) -> Response:
    _since_2_26(ctx)
    tag = ctx.params["tag"]
    if tag not in load_doc(ctx).get("tags", []):
        raise NotFound("tag", tag, f"Tag {tag} could not be found.")
    return empty(204)


def add_tag(ctx: Ctx) -> Response:
    _since_2_26(ctx)
    tag = ctx.params["tag"]
    added: list[bool] = []
    _change(ctx, lambda d: added.append(tags.nova_add(d, tag)))
    if not added[0]:
        return empty(204)
    location = f"{links(ctx).api}/servers/{ctx.params['server_id']}/tags/{tag}"
    return Response(201, b"", [(b"location", location.encode())])


def delete_tag(ctx: Ctx) -> Response:
    _since_2_26(ctx)
    _change(ctx, lambda d: tags.nova_remove(d, ctx.params["tag"]))
    return empty(204)
