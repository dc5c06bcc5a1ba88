"""Nova v2 / v2.1 key pairs (`/os-keypairs`): create (import a public key, or have one generated and get its
private key once), list, show, delete — each user's own, as Nova keeps them. Servers created or rebuilt with a
`key_name` must name one of them."""

from __future__ import annotations

from typing import Literal

from ecsim.api.nova import Strict, version
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.services import keypairs
from ecsim.timefmt import iso_micros


class KeypairSpec(Strict):
    name: str
    public_key: str | None = None
    type: Literal["ssh", "x509"] = "ssh"
    user_id: str | None = None


class CreateBody(Strict):
    keypair: KeypairSpec


def _user(ctx: Ctx) -> str:
    assert ctx.principal is not None
    return ctx.principal.user_id


def _view(ctx: Ctx, doc: dict, *, detail: bool = False) -> dict:
    out = {"name": doc["name"], "public_key": doc["public_key"], "fingerprint": doc["fingerprint"]}
    if version(ctx) >= (2, 2):
        out["type"] = doc["type"]
    if detail:
        out.update({"user_id": doc["user_id"], "created_at": iso_micros(doc["created"]), "deleted": False,
                    "deleted_at": None, "updated_at": None, "id": int(doc["created"] * 1000) % 10**9})
    return out


def create_keypair(ctx: Ctx) -> Response:
    """-> 200 (201 from 2.2) {"keypair": {name, public_key, fingerprint, user_id[, private_key][, type]}}."""
    spec = ctx.body_as(CreateBody).keypair
    doc = keypairs.create(ctx.rt, _user(ctx), spec.name, public_key=spec.public_key, key_type=spec.type,
                          now=ctx.now)
    out = {**_view(ctx, doc), "user_id": doc["user_id"]}
    if doc.get("private_key"):
        out["private_key"] = doc["private_key"]
    return json_response(201 if version(ctx) >= (2, 2) else 200, {"keypair": out})


def list_keypairs(ctx: Ctx) -> Response:
    limit = ctx.q_int("limit", None, low=0) if version(ctx) >= (2, 35) else None
    docs = keypairs.list_for(ctx.rt, _user(ctx), limit=limit,
                             marker=ctx.q("marker") if version(ctx) >= (2, 35) else None)
    return json_response(200, {"keypairs": [{"keypair": _view(ctx, d)} for d in docs]})


def show_keypair(ctx: Ctx) -> Response:
    doc = keypairs.get(ctx.rt.store, _user(ctx), ctx.params["keypair_name"])
    return json_response(200, {"keypair": _view(ctx, doc, detail=True)})


def delete_keypair(ctx: Ctx) -> Response:
    keypairs.delete(ctx.rt, _user(ctx), ctx.params["keypair_name"])
    return empty(204 if version(ctx) >= (2, 2) else 202)
