"""Huawei ECS: actions on one server (seed 001) — change OS (v2 with cloud-init, v1 without), reinstall OS,
resize (v1 pay-per-use and the v1.1 variant), cold migrate. Each answers 200 {"job_id"}; a resize dry run 202."""

from __future__ import annotations

from msgspec import Struct, field

from ecsim.domain import console
from ecsim.domain.errors import InvalidInput
from ecsim.http.context import Ctx, Response, empty, json_response
from ecsim.services import lifecycle
from ecsim.services.server_rows import get_server


class OsMetadata(Struct):
    user_data: str | None = None
    encrypted: str | None = field(default=None, name="__system__encrypted")
    cmkid: str | None = field(default=None, name="__system__cmkid")
    byol: str | None = field(default=None, name="BYOL")


class OsChange(Struct):
    imageid: str
    adminpass: str | None = None
    keyname: str | None = None
    userid: str | None = None
    metadata: OsMetadata | None = None
    mode: str | None = None
    isAutoPay: str | None = None


class OsReinstall(Struct):
    adminpass: str | None = None
    keyname: str | None = None
    userid: str | None = None
    metadata: OsMetadata | None = None
    mode: str | None = None


class ChangeOsBody(Struct):
    os_change: OsChange = field(name="os-change")


class ReinstallBody(Struct):
    os_reinstall: OsReinstall = field(name="os-reinstall")


class CpuOptions(Struct):
    threads: int | None = field(default=None, name="hw:cpu_threads")


class ResizeExtendParam(Struct):
    isAutoPay: str | None = None


class Resize(Struct):
    flavorRef: str
    mode: str | None = None
    cpu_options: CpuOptions | None = None
    dedicated_host_id: str | None = None
    extendparam: ResizeExtendParam | None = None


class ResizeBody(Struct):
    resize: Resize
    dry_run: bool = False


class Migrate(Struct):
    dedicated_host_id: str | None = None


class MigrateBody(Struct):
    migrate: Migrate | None = None  # the SDK sends {} for a move within the public pool



def _login(ctx: Ctx, o: OsChange | OsReinstall) -> lifecycle.Login:
    """The new system's login; a key pair is `userid`'s (the caller's when not given)."""
    assert ctx.principal is not None
    return lifecycle.Login(admin_pass=o.adminpass, key_name=o.keyname, user_id=o.userid or ctx.principal.user_id,
                           user_data=o.metadata.user_data if o.metadata else None)


def change_os(ctx: Ctx) -> Response:
    """POST /v2|v1/{project_id}/cloudservers/{server_id}/changeos."""
    o = ctx.body_as(ChangeOsBody).os_change
    if not o.imageid:  # required: without it this would be a reinstall
        raise InvalidInput("os-change.imageid is required.")
    job = lifecycle.rebuild(ctx.rt, ctx.project, ctx.params["server_id"], _login(ctx, o), now=ctx.now,
                            is_admin=ctx.is_admin, image_id=o.imageid, mode=o.mode)
    return json_response(200, {"job_id": job["id"]})


def reinstall_os(ctx: Ctx) -> Response:
    """POST /v2|v1/{project_id}/cloudservers/{server_id}/reinstallos."""
    o = ctx.body_as(ReinstallBody).os_reinstall
    job = lifecycle.rebuild(ctx.rt, ctx.project, ctx.params["server_id"], _login(ctx, o), now=ctx.now,
                            is_admin=ctx.is_admin, mode=o.mode)
    return json_response(200, {"job_id": job["id"]})


def resize(ctx: Ctx) -> Response:
    """POST /v1/{project_id}/cloudservers/{server_id}/resize (and /v1.1/, which answers the same for pay-per-use
    servers: no order_id)."""
    body = ctx.body_as(ResizeBody)
    job = lifecycle.resize(ctx.rt, ctx.project, ctx.params["server_id"], body.resize.flavorRef, now=ctx.now,
                           is_admin=ctx.is_admin, mode=body.resize.mode, dry_run=body.dry_run,
                           dedicated_host_id=body.resize.dedicated_host_id)
    return empty(202) if job is None else json_response(200, {"job_id": job["id"]})


def migrate(ctx: Ctx) -> Response:
    """POST /v1/{project_id}/cloudservers/{server_id}/migrate; {"migrate": null} moves within the public pool."""
    body = ctx.body_as(MigrateBody)
    job = lifecycle.migrate(ctx.rt, ctx.project, ctx.params["server_id"], now=ctx.now, is_admin=ctx.is_admin,
                            dedicated_host_id=body.migrate.dedicated_host_id if body.migrate else None)
    return json_response(200, {"job_id": job["id"]})


def console_output(ctx: Ctx) -> Response:
    """GET /v1/{project_id}/cloudservers/{server_id}/console-output?length=N: the last N lines (default 50; -1 all)."""
    length = ctx.q_int("length", console.DEFAULT_LINES, low=-1)
    doc = get_server(ctx.rt, ctx.project, ctx.params["server_id"], ctx.now)
    return json_response(200, {"output": console.tail(console.log_lines(doc), length)})
