"""Helpers shared by the IAM administration modules: the caller, lookups inside the caller's account, links."""

from __future__ import annotations

from ecsim.domain.errors import NotFound
from ecsim.http.context import Ctx
from ecsim.iam.directory import Principal
from ecsim.store import SqlStore


def caller(ctx: Ctx) -> Principal:
    assert ctx.principal is not None
    return ctx.principal


def base(ctx: Ctx) -> str:
    return ctx.rt.config.base_url()


def links(ctx: Ctx, path: str) -> dict:
    return {"self": f"{base(ctx)}{path}", "previous": None, "next": None}


def changed(ctx: Ctx, tx: SqlStore) -> None:
    ctx.rt.directory.changed(tx)


def get_in_account(ctx: Ctx, kind: str, ident: str, label: str) -> dict:
    row = ctx.rt.store.get(kind, ident)
    if row is None or row.scope != caller(ctx).domain_id:
        raise NotFound(label, ident, f"Could not find {label}: {ident}.")
    return row.doc


def user(ctx: Ctx, user_id: str) -> dict:
    return get_in_account(ctx, "user", user_id, "user")


def group(ctx: Ctx, group_id: str) -> dict:
    return get_in_account(ctx, "group", group_id, "group")


def role(ctx: Ctx, role_id: str) -> dict:
    found = ctx.rt.directory.role(role_id)
    if found is None or (found.get("domain_id") and found["domain_id"] != caller(ctx).domain_id):
        raise NotFound("role", role_id, f"Could not find role: {role_id}.")
    return found
