"""Huawei ECS v1 server groups (seed 004): create (200), list with marker paging, show, delete (204), and the
add_member / remove_member actions chosen by the body key (200, empty body). Only anti-affinity groups exist on
this face; Nova's os-server-groups show the same groups."""

from __future__ import annotations

from msgspec import Struct

from ecsim.domain.errors import InvalidInput
from ecsim.http.context import Ctx, Response, convert, empty, json_response
from ecsim.services import groups

V1_POLICIES = ("anti-affinity",)


class GroupSpec(Struct):
    name: str
    policies: list[str]


class CreateBody(Struct):
    server_group: GroupSpec


class Member(Struct):
    instance_uuid: str



def _view(ctx: Ctx, doc: dict) -> dict:
    return {"id": doc["id"], "name": doc["name"], "policies": doc["policies"],
            "members": groups.members(ctx.rt.store, doc["project_id"], doc["id"]), "metadata": doc["metadata"]}


def create_group(ctx: Ctx) -> Response:
    spec = ctx.body_as(CreateBody).server_group
    if len(spec.policies) != 1 or spec.policies[0] not in V1_POLICIES:
        raise InvalidInput(f"server_group.policies must be {list(V1_POLICIES)}.")
    assert ctx.principal is not None
    doc = groups.create_group(ctx.rt, ctx.project, ctx.principal.user_id, spec.name, spec.policies[0],
                              now=ctx.now)
    return json_response(200, {"server_group": _view(ctx, doc)})


def list_groups(ctx: Ctx) -> Response:
    """GET .../os-server-groups?limit=&marker= -> {"server_groups", "page_info"?} (next_marker only when more
    remain: a paging loop ends on the last page, not on an empty one after it)."""
    limit = ctx.q_int("limit", None, low=1, high=1000)
    docs = groups.list_groups(ctx.rt, ctx.project, limit=None if limit is None else limit + 1, marker=ctx.q("marker"))
    body: dict = {"server_groups": [_view(ctx, d) for d in docs[:limit]]}
    if limit is not None and len(docs) > limit:
        body["page_info"] = {"next_marker": docs[limit - 1]["id"]}
    return json_response(200, body)


def show_group(ctx: Ctx) -> Response:
    doc = groups.load_group(ctx.rt.store, ctx.project, ctx.params["server_group_id"])
    return json_response(200, {"server_group": _view(ctx, doc)})


def delete_group(ctx: Ctx) -> Response:
    groups.delete_group(ctx.rt, ctx.project, ctx.params["server_group_id"])
    return empty(204)


def add_member(ctx: Ctx) -> Response:
    member = convert(ctx.json["add_member"], Member, "$.add_member")
    groups.add_member(ctx.rt, ctx.project, ctx.params["server_group_id"], member.instance_uuid, now=ctx.now)
    return empty(200)


def remove_member(ctx: Ctx) -> Response:
    member = convert(ctx.json["remove_member"], Member, "$.remove_member")
    groups.remove_member(ctx.rt, ctx.project, ctx.params["server_group_id"], member.instance_uuid, now=ctx.now)
    return empty(200)
