"""Huawei IAM administration (Keystone v3 and the v3.0 OS-* extensions), identities: users, groups and membership,
and permanent access keys. Every write bumps the identity version, so caches and decisions see it at once."""

from __future__ import annotations

import re
from typing import Any, Literal

from msgspec import Struct

from ecsim.api import iam_common as acct
from ecsim.auth.passwords import check_password, hash_password
from ecsim.bootstrap import new_access_key, new_secret_key
from ecsim.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.iam.directory import ADMIN_GROUP, TEMPORARY_CREDENTIAL, Directory
from ecsim.ids import new_hex32
from ecsim.store import Cond, SqlStore
from ecsim.timefmt import iso_micros, iso_micros_z

USER_NAME_RE = re.compile(r"^[A-Za-z_\-. ][A-Za-z0-9_\-. ]{0,63}$")
MAX_ACCESS_KEYS = 2


# -- users --------------------------------------------------------------------------------------------------------
class UserCreate(Struct):
    name: str
    domain_id: str | None = None
    password: str | None = None
    email: str | None = None
    areacode: str | None = None
    phone: str | None = None
    enabled: bool = True
    pwd_status: bool = False
    access_mode: Literal["default", "programmatic", "console"] = "default"
    description: str = ""
    xuser_type: str | None = None
    xuser_id: str | None = None


class UserUpdate(Struct):
    name: str | None = None
    password: str | None = None
    email: str | None = None
    areacode: str | None = None
    phone: str | None = None
    enabled: bool | None = None
    pwd_status: bool | None = None
    access_mode: Literal["default", "programmatic", "console"] | None = None
    description: str | None = None
    domain_id: str | None = None
    xuser_type: str | None = None
    xuser_id: str | None = None


def check_password_policy(password: str, name: str) -> None:
    classes = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))
    if not 6 <= len(password) <= 32 or classes < 2:
        raise InvalidInput("Incorrect password: it must be 6 to 32 characters long and contain at least two of: "
                           "uppercase letters, lowercase letters, digits, special characters.")
    if name and name.lower() in password.lower():
        raise InvalidInput("Incorrect password: it must not contain the user name.")


def _check_user_name(ctx: Ctx, tx: SqlStore, name: str, exclude: str | None = None) -> None:
    if not USER_NAME_RE.match(name):
        raise InvalidInput(f"Invalid username {name!r}: 1 to 64 letters, digits, spaces, '-', '_' or '.', not "
                           "starting with a digit.")
    rows = tx.select("user", acct.caller(ctx).domain_id, [Cond("eq", "name", name)], limit=1)
    if rows and rows[0].id != exclude:
        raise Conflict(f"Conflict occurred attempting to store user - Duplicate entry: {name}.")


def keystone_user_view(ctx: Ctx, u: dict) -> dict:
    return {
        "id": u["id"], "name": u["name"], "domain_id": u["domain_id"], "enabled": u.get("enabled", True),
        "description": u.get("description", ""), "pwd_status": u.get("pwd_status", False),
        "password_expires_at": None, "access_mode": u.get("access_mode", "default"),
        "last_project_id": None, "links": acct.links(ctx, f"/v3/users/{u['id']}"),
    }


def v30_user_view(ctx: Ctx, u: dict) -> dict:
    created = u.get("created", 0.0)
    return {
        "id": u["id"], "name": u["name"], "domain_id": u["domain_id"], "enabled": u.get("enabled", True),
        "access_mode": u.get("access_mode", "default"), "status": None, "pwd_status": u.get("pwd_status", False),
        "xuser_id": u.get("xuser_id") or "", "xuser_type": u.get("xuser_type") or "",
        "description": u.get("description", ""), "phone": u.get("phone") or "",
        "is_domain_owner": bool(u.get("is_domain_owner")), "areacode": u.get("areacode") or "",
        "email": u.get("email") or "", "create_time": iso_micros(created)[:-3].replace("T", " "),
        "xdomain_id": "", "xdomain_type": "", "password_expires_at": None, "default_project_id": None,
        "links": {"self": f"{acct.base(ctx)}/v3.0/OS-USER/users/{u['id']}"},
    }


def _new_user(ctx: Ctx, body: UserCreate) -> dict:
    caller = acct.caller(ctx)
    if body.domain_id and body.domain_id != caller.domain_id:
        raise DomainError("You are not authorized to perform the requested action: a user can only be created in "
                          "the caller's own account.", reason="forbidden")
    if body.password is not None:
        check_password_policy(body.password, body.name)
    user = {
        "id": new_hex32(), "name": body.name, "domain_id": caller.domain_id, "enabled": body.enabled,
        "password": hash_password(body.password) if body.password else None, "is_domain_owner": False,
        "description": body.description, "email": body.email or "", "phone": body.phone or "",
        "areacode": body.areacode or "", "pwd_status": body.pwd_status, "access_mode": body.access_mode,
        "xuser_type": body.xuser_type, "xuser_id": body.xuser_id, "created": ctx.now, "tokens_valid_after": 0.0,
        "password_changed": ctx.now,
    }
    with ctx.rt.store.write() as tx:
        _check_user_name(ctx, tx, body.name)
        Directory.put_user(tx, user, new=True)
        acct.changed(ctx, tx)
    return user


def create_user(ctx: Ctx) -> Response:
    """POST /v3.0/OS-USER/users -> 201 {"user": UserV30}."""
    return json_response(201, {"user": v30_user_view(ctx, _new_user(ctx, ctx.wrapped("user", UserCreate)))})


def keystone_create_user(ctx: Ctx) -> Response:
    """POST /v3/users -> 201 {"user": ...}."""
    return json_response(201, {"user": keystone_user_view(ctx, _new_user(ctx, ctx.wrapped("user", UserCreate)))})


def list_users(ctx: Ctx) -> Response:
    rows = ctx.rt.store.select("user", acct.caller(ctx).domain_id, newest_first=False)
    users = [r.doc for r in rows]
    if ctx.q("name"):
        users = [u for u in users if u["name"] == ctx.q("name")]
    enabled = ctx.q_bool("enabled")
    if enabled is not None:
        users = [u for u in users if u.get("enabled", True) == enabled]
    views = []
    for u in users:
        v = keystone_user_view(ctx, u)
        v["pwd_strength"] = "high"
        views.append(v)
    return json_response(200, {"users": views, "links": acct.links(ctx, "/v3/users")})


def show_user(ctx: Ctx) -> Response:
    return json_response(200, {"user": keystone_user_view(ctx, acct.user(ctx, ctx.params["user_id"]))})


def show_user_v30(ctx: Ctx) -> Response:
    u = acct.user(ctx, ctx.params["user_id"])
    view = v30_user_view(ctx, u)
    view.update({"update_time": None, "last_login_time": None, "last_pwd_auth_time": None, "pwd_strength": "high",
                 "pwd_create_time": None, "modify_pwd_time": None})
    return json_response(200, {"user": view})


def _update_user(ctx: Ctx, body: UserUpdate) -> dict:
    caller = acct.caller(ctx)
    if body.domain_id and body.domain_id != caller.domain_id:
        raise InvalidInput("domain_id cannot be changed.")
    with ctx.rt.store.write() as tx:
        row = tx.get("user", ctx.params["user_id"], for_update=True)
        if row is None or row.scope != caller.domain_id:
            raise NotFound("user", ctx.params["user_id"], f"Could not find user: {ctx.params['user_id']}.")
        u = row.doc
        if body.name is not None and body.name != u["name"]:
            _check_user_name(ctx, tx, body.name, exclude=u["id"])
            u["name"] = body.name
        if body.password is not None:
            check_password_policy(body.password, u["name"])
            u["password"] = hash_password(body.password)
            u["tokens_valid_after"] = ctx.now
        if body.enabled is not None:
            if not body.enabled and u.get("is_domain_owner"):
                raise InvalidInput("The account administrator cannot be disabled.")
            if u.get("enabled", True) and not body.enabled:
                u["tokens_valid_after"] = ctx.now
            u["enabled"] = body.enabled
        for key in ("email", "areacode", "phone", "pwd_status", "access_mode", "description", "xuser_type",
                    "xuser_id"):
            value = getattr(body, key)
            if value is not None:
                u[key] = value
        Directory.put_user(tx, u, new=False)
        acct.changed(ctx, tx)
    return u


def update_user(ctx: Ctx) -> Response:
    """PATCH /v3/users/{user_id}: rename, enable/disable (a disabled user's tokens and keys stop at once)."""
    return json_response(200, {"user": keystone_user_view(ctx, _update_user(ctx, ctx.wrapped("user", UserUpdate)))})


def update_user_v30(ctx: Ctx) -> Response:
    return json_response(200, {"user": v30_user_view(ctx, _update_user(ctx, ctx.wrapped("user", UserUpdate)))})


def delete_user(ctx: Ctx) -> Response:
    caller = acct.caller(ctx)
    with ctx.rt.store.write() as tx:
        u = acct.user(ctx, ctx.params["user_id"])
        if u.get("is_domain_owner"):
            raise InvalidInput("The account administrator cannot be deleted.")
        tx.delete("user", u["id"])
        tx.delete_where("membership", caller.domain_id, [Cond("eq", "name", u["id"])])
        tx.delete_where("credential", caller.domain_id, [Cond("eq", "ref", u["id"])])
        tx.delete_where("policy_attachment", caller.domain_id, [Cond("eq", "ref", f"user:{u['id']}")])
        tx.delete_where(TEMPORARY_CREDENTIAL, caller.domain_id, [Cond("eq", "ref", u["id"])])
        acct.changed(ctx, tx)
    return empty(204)


class PasswordChange(Struct):
    password: str
    original_password: str


def change_password(ctx: Ctx) -> Response:
    """POST /v3/users/{user_id}/password: self-service only; the user's other tokens stop working."""
    caller = acct.caller(ctx)
    if ctx.params["user_id"] != caller.user_id:
        raise DomainError("You are not authorized to perform the requested action: users can only change their "
                          "own password here.", reason="forbidden")
    body = ctx.wrapped("user", PasswordChange)
    with ctx.rt.store.write() as tx:
        row = tx.get("user", caller.user_id, for_update=True)
        assert row is not None
        u = row.doc
        if not check_password(body.original_password, u.get("password")):
            raise DomainError("Incorrect password.", reason="unauthorized")
        if body.password == body.original_password:
            raise InvalidInput("The new password must be different from the old password.")
        check_password_policy(body.password, u["name"])
        u["password"] = hash_password(body.password)
        u["tokens_valid_after"] = ctx.now
        Directory.put_user(tx, u, new=False)
        acct.changed(ctx, tx)
    return empty(204)


# -- groups and membership ----------------------------------------------------------------------------------------
class GroupBody(Struct):
    name: str | None = None
    description: str | None = None
    domain_id: str | None = None


def group_view(ctx: Ctx, g: dict, *, list_links: bool = True) -> dict:
    links: dict[str, Any] = acct.links(ctx, f"/v3/groups/{g['id']}") if list_links else \
        {"self": f"{acct.base(ctx)}/v3/groups/{g['id']}"}
    return {"id": g["id"], "name": g["name"], "domain_id": g["domain_id"], "description": g.get("description", ""),
            "create_time": int(g.get("created", 0) * 1000), "links": links}


def _check_group_name(ctx: Ctx, tx: SqlStore, name: str, exclude: str | None = None) -> None:
    if not name or len(name) > 64:
        raise InvalidInput("The group name must be 1 to 64 characters long.")
    rows = tx.select("group", acct.caller(ctx).domain_id, [Cond("eq", "name", name)], limit=1)
    if rows and rows[0].id != exclude:
        raise Conflict(f"Conflict occurred attempting to store group - Duplicate entry: {name}.")


def create_group(ctx: Ctx) -> Response:
    body = ctx.wrapped("group", GroupBody)
    caller = acct.caller(ctx)
    if body.name is None:
        raise InvalidInput("'name' is a required property of group.")
    if body.domain_id and body.domain_id != caller.domain_id:
        raise DomainError("You are not authorized to perform the requested action.", reason="forbidden")
    group = {"id": new_hex32(), "name": body.name, "domain_id": caller.domain_id,
             "description": body.description or "", "created": ctx.now}
    with ctx.rt.store.write() as tx:
        _check_group_name(ctx, tx, body.name)
        Directory.put_group(tx, group, new=True)
        acct.changed(ctx, tx)
    return json_response(201, {"group": group_view(ctx, group, list_links=False)})


def list_groups(ctx: Ctx) -> Response:
    groups = [r.doc for r in ctx.rt.store.select("group", acct.caller(ctx).domain_id, newest_first=False)]
    if ctx.q("name"):
        groups = [g for g in groups if g["name"] == ctx.q("name")]
    return json_response(200, {"groups": [group_view(ctx, g) for g in groups], "links": acct.links(ctx, "/v3/groups")})


def show_group(ctx: Ctx) -> Response:
    return json_response(200, {"group": group_view(ctx, acct.group(ctx, ctx.params["group_id"]))})


def update_group(ctx: Ctx) -> Response:
    body = ctx.wrapped("group", GroupBody)
    with ctx.rt.store.write() as tx:
        g = dict(acct.group(ctx, ctx.params["group_id"]))
        if body.name is not None and body.name != g["name"]:
            if g["name"] == ADMIN_GROUP:
                raise InvalidInput("The admin group cannot be renamed.")
            _check_group_name(ctx, tx, body.name, exclude=g["id"])
            g["name"] = body.name
        if body.description is not None:
            g["description"] = body.description
        Directory.put_group(tx, g, new=False)
        acct.changed(ctx, tx)
    return json_response(200, {"group": group_view(ctx, g, list_links=False)})


def delete_group(ctx: Ctx) -> Response:
    caller = acct.caller(ctx)
    with ctx.rt.store.write() as tx:
        g = acct.group(ctx, ctx.params["group_id"])
        if g["name"] == ADMIN_GROUP:
            raise InvalidInput("The admin group cannot be deleted.")
        tx.delete("group", g["id"])
        tx.delete_where("membership", caller.domain_id, [Cond("eq", "ref", g["id"])])
        tx.delete_where("grant", caller.domain_id, [Cond("eq", "ref", g["id"])])
        tx.delete_where("policy_attachment", caller.domain_id, [Cond("eq", "ref", f"group:{g['id']}")])
        acct.changed(ctx, tx)
    return empty(204)


def add_user_to_group(ctx: Ctx) -> Response:
    g = acct.group(ctx, ctx.params["group_id"])
    u = acct.user(ctx, ctx.params["user_id"])
    with ctx.rt.store.write() as tx:
        Directory.add_member(tx, g["domain_id"], g["id"], u["id"], ctx.now)
        acct.changed(ctx, tx)
    return empty(204)


def _membership(ctx: Ctx) -> str:
    g = acct.group(ctx, ctx.params["group_id"])
    u = acct.user(ctx, ctx.params["user_id"])
    return f"{g['id']}:{u['id']}"


def check_user_in_group(ctx: Ctx) -> Response:
    return empty(204 if ctx.rt.store.get("membership", _membership(ctx)) else 404)


def remove_user_from_group(ctx: Ctx) -> Response:
    ident = _membership(ctx)
    with ctx.rt.store.write() as tx:
        if not tx.delete("membership", ident):
            raise NotFound("user", ctx.params["user_id"],
                           f"User {ctx.params['user_id']} is not a member of group {ctx.params['group_id']}.")
        acct.changed(ctx, tx)
    return empty(204)


def list_users_for_group(ctx: Ctx) -> Response:
    g = acct.group(ctx, ctx.params["group_id"])
    rows = ctx.rt.store.select("membership", g["domain_id"], [Cond("eq", "ref", g["id"])], newest_first=False)
    users = ctx.rt.store.get_many("user", [r.doc["user_id"] for r in rows])
    views = []
    for r in rows:
        u = users.get(r.doc["user_id"])
        if u is not None:
            v = keystone_user_view(ctx, u.doc)
            v["pwd_strength"] = "high"
            views.append(v)
    return json_response(200, {"users": views, "links": acct.links(ctx, f"/v3/groups/{g['id']}/users")})


def list_groups_for_user(ctx: Ctx) -> Response:
    u = acct.user(ctx, ctx.params["user_id"])
    ids = ctx.rt.directory.groups_of(u)
    groups = ctx.rt.store.get_many("group", list(ids))
    views = [group_view(ctx, groups[i].doc) for i in ids if i in groups]
    return json_response(200, {"groups": views, "links": acct.links(ctx, f"/v3/users/{u['id']}/groups")})


# -- access keys --------------------------------------------------------------------------------------------------
class CredentialCreate(Struct):
    user_id: str
    description: str = ""


class CredentialUpdate(Struct):
    status: Literal["active", "inactive"] | None = None
    description: str | None = None


def credential_view(c: dict, *, secret: bool = False, last_use: bool = False) -> dict:
    out = {"user_id": c["user_id"], "access": c["access"], "status": c["status"],
           "create_time": iso_micros_z(c["created"]), "description": c.get("description", "")}
    if secret:
        out["secret"] = c["secret"]
    if last_use:
        out["last_use_time"] = iso_micros_z(c["last_use"]) if c.get("last_use") else None
    return out


def create_access_key(ctx: Ctx) -> Response:
    """POST /v3.0/OS-CREDENTIAL/credentials: at most two keys per user; the secret is shown only here."""
    body = ctx.wrapped("credential", CredentialCreate)
    if len(body.description) > 255:
        raise InvalidInput("description must be at most 255 characters.")
    u = acct.user(ctx, body.user_id)
    with ctx.rt.store.write() as tx:
        if tx.count("credential", u["domain_id"], [Cond("eq", "ref", u["id"])]) >= MAX_ACCESS_KEYS:
            raise InvalidInput("akSkNumExceed")
        cred = {"access": new_access_key(), "secret": new_secret_key(), "user_id": u["id"],
                "domain_id": u["domain_id"], "status": "active", "description": body.description,
                "created": ctx.now, "last_use": None, "kind": "permanent"}
        Directory.put_credential(tx, cred, new=True)
        acct.changed(ctx, tx)
    return json_response(201, {"credential": credential_view(cred, secret=True)})


def list_access_keys(ctx: Ctx) -> Response:
    user_id = ctx.q("user_id") or acct.caller(ctx).user_id
    u = acct.user(ctx, user_id)
    rows = ctx.rt.store.select("credential", u["domain_id"], [Cond("eq", "ref", u["id"])], newest_first=False)
    return json_response(200, {"credentials": [credential_view(r.doc) for r in rows]})


def _credential(ctx: Ctx) -> dict:
    return acct.get_in_account(ctx, "credential", ctx.params["access_key"], "credential")


def show_access_key(ctx: Ctx) -> Response:
    return json_response(200, {"credential": credential_view(_credential(ctx), last_use=True)})


def update_access_key(ctx: Ctx) -> Response:
    body = ctx.wrapped("credential", CredentialUpdate)
    with ctx.rt.store.write() as tx:
        cred = dict(_credential(ctx))
        if body.status is not None:
            cred["status"] = body.status
        if body.description is not None:
            cred["description"] = body.description
        Directory.put_credential(tx, cred, new=False)
        acct.changed(ctx, tx)
    return json_response(200, {"credential": credential_view(cred)})


def delete_access_key(ctx: Ctx) -> Response:
    with ctx.rt.store.write() as tx:
        cred = _credential(ctx)
        tx.delete("credential", cred["access"])
        acct.changed(ctx, tx)
    return empty(204)
