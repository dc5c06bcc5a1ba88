"""Nova v2 / v2.1 server metadata (`/servers/{id}/metadata[/{key}]`): the user's keys only — ECS's own metadata
(`charging_mode`, `metering.*`, ...) is shown by the Huawei API and left alone here."""

from __future__ import annotations

from ecsim.api.nova import Strict
from ecsim.api.nova_servers import check_metadata, load_doc
from ecsim.domain.errors import DomainError, InvalidInput, NotFound
from ecsim.domain.provision import user_metadata
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.services import compute, lifecycle


class MetadataBody(Strict):
    metadata: dict[str, str]


class MetaBody(Strict):
    meta: dict[str, str]


def _user_metadata(doc: dict) -> dict[str, str]:
    return user_metadata(doc.get("metadata", {}))


def _set_metadata(ctx: Ctx, items: dict[str, str], *, replace: bool) -> dict:
    """Replace the user's metadata or merge into it (ECS's own keys stay), within the per-server limit."""
    check_metadata(items)

    def apply(doc: dict) -> None:
        current = _user_metadata(doc)
        merged = dict(items) if replace else {**current, **items}
        if len(merged) > compute.MAX_METADATA:
            raise DomainError(f"Quota exceeded for metadata_items: at most {compute.MAX_METADATA} items.",
                              reason="quota")
        system = {k: v for k, v in doc.get("metadata", {}).items() if k not in current}
        doc["metadata"] = {**system, **merged}
        doc["updated"] = ctx.now

    return lifecycle.change_server(ctx.rt, ctx.project, ctx.params["server_id"], apply, now=ctx.now,
                                   is_admin=ctx.is_admin, facets=True)


def list_metadata(ctx: Ctx) -> Response:
    return json_response(200, {"metadata": _user_metadata(load_doc(ctx))})


def replace_metadata(ctx: Ctx) -> Response:
    """PUT .../metadata: the user's metadata becomes exactly the body's."""
    doc = _set_metadata(ctx, ctx.body_as(MetadataBody).metadata, replace=True)
    return json_response(200, {"metadata": _user_metadata(doc)})


def update_metadata(ctx: Ctx) -> Response:
    """POST .../metadata: merged into the user's metadata."""
    doc = _set_metadata(ctx, ctx.body_as(MetadataBody).metadata, replace=False)
    return json_response(200, {"metadata": _user_metadata(doc)})


def show_metadata_item(ctx: Ctx) -> Response:
    key = ctx.params["key"]
    items = _user_metadata(load_doc(ctx))
    if key not in items:
        raise NotFound("metadata", key, "Metadata item was not found")
    return json_response(200, {"meta": {key: items[key]}})


def set_metadata_item(ctx: Ctx) -> Response:
    key = ctx.params["key"]
    meta = ctx.body_as(MetaBody).meta
    if len(meta) != 1:
        raise InvalidInput("Request body contains too many items")
    if key not in meta:
        raise InvalidInput("Request body and URI mismatch")
    _set_metadata(ctx, meta, replace=False)
    return json_response(200, {"meta": meta})


def delete_metadata_item(ctx: Ctx) -> Response:
    key = ctx.params["key"]

    def apply(doc: dict) -> None:
        if key not in _user_metadata(doc):
            raise NotFound("metadata", key, "Metadata item was not found")
        doc["metadata"] = {k: v for k, v in doc["metadata"].items() if k != key}
        doc["updated"] = ctx.now

    lifecycle.change_server(ctx.rt, ctx.project, ctx.params["server_id"], apply, now=ctx.now, is_admin=ctx.is_admin,
                            facets=True)
    return empty(204)
