"""The seed table as a test: for every served row of permissions.csv, a user holding exactly the row's actions and
dependencies succeeds, and a user lacking any one of them gets 403 naming it (the call changes nothing).

Huawei ECS rows are driven with huaweicloudsdkecs and AK/SK; Cinder rows (v2 and v3) with the user's Keystone
token through keystoneauth1, the endpoint found in the service catalog as OpenStack clients find it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import (
    AddServerGroupMemberRequest,
    AddServerGroupMemberRequestBody,
    AttachServerVolumeOption,
    AttachServerVolumeRequest,
    AttachServerVolumeRequestBody,
    BatchAttachSharableVolumesOption,
    BatchAttachSharableVolumesRequest,
    BatchAttachSharableVolumesRequestBody,
    BatchDetachVolumesRequest,
    BatchRebootServersRequest,
    BatchRebootServersRequestBody,
    BatchRebootSeversOption,
    BatchStartServersOption,
    BatchStartServersRequest,
    BatchStartServersRequestBody,
    BatchStopServersOption,
    BatchStopServersRequest,
    BatchStopServersRequestBody,
    BatchUpdateServersNameRequest,
    BatchUpdateServersNameRequestBody,
    ChangeServerOsWithCloudInitOption,
    ChangeServerOsWithCloudInitRequest,
    ChangeServerOsWithCloudInitRequestBody,
    CreateServerGroupOption,
    CreateServerGroupRequest,
    CreateServerGroupRequestBody,
    DeleteServerGroupMemberRequest,
    DeleteServerGroupMemberRequestBody,
    DeleteServerGroupRequest,
    ListServerGroupsRequest,
    MigrateServerRequest,
    MigrateServerRequestBody,
    ReinstallServerWithCloudInitOption,
    ReinstallServerWithCloudInitRequest,
    ReinstallServerWithCloudInitRequestBody,
    ResizePostPaidServerOption,
    ResizePostPaidServerRequest,
    ResizePostPaidServerRequestBody,
    ServerGroupMember,
    ShowServerGroupRequest,
    ShowServerRequest,
    VolumeBatchDetachRequest,
)
from huaweicloudsdkevs.v2 import CreateVolumeOption, CreateVolumeRequest, CreateVolumeRequestBody, ShowVolumeRequest
from huaweicloudsdkims.v2 import ListImagesRequest
from keystoneauth1.adapter import Adapter
from keystoneauth1.exceptions import HttpError

from ecsim.catalog import all_operations
from helpers import create, make_user, refs, seed_rows

ROWS = seed_rows()
OPS = {op.key(): op for op in all_operations()}


def op_for(row: dict):
    return OPS[(row["method"], row["path"], row["selector"].removeprefix("body:") or None)]


@dataclass
class Invoker:
    """prepare(server, name) -> target (as admin); call(server, user, target) as the user (raises on refusal);
    state(server, target) -> what the call changes (as admin); done(state) after a successful call."""

    prepare: Callable[[Any, str], Any]
    call: Callable[[Any, dict, Any], None]
    state: Callable[[Any, Any], Any]
    done: Callable[[Any], bool]


# -- ECS rows (huaweicloudsdkecs, AK/SK) ----------------------------------------------------------------------------
def _servers(before: Callable | None = None) -> Callable[[Any, str], list[str]]:
    def prepare(server: Any, name: str) -> list[str]:
        _, ids = create(server.ecs(), server.info, name)
        if before is not None:
            before(server.ecs(), ids)
        return ids

    return prepare


def _stop(ecs: Any, ids: list[str]) -> None:
    ecs.batch_stop_servers(BatchStopServersRequest(body=BatchStopServersRequestBody(
        os_stop=BatchStopServersOption(servers=refs(ids)))))


def _start(ecs: Any, ids: list[str]) -> None:
    ecs.batch_start_servers(BatchStartServersRequest(body=BatchStartServersRequestBody(
        os_start=BatchStartServersOption(servers=refs(ids)))))


def _reboot(ecs: Any, ids: list[str]) -> None:
    ecs.batch_reboot_servers(BatchRebootServersRequest(body=BatchRebootServersRequestBody(
        reboot=BatchRebootSeversOption(servers=refs(ids), type="SOFT"))))


def _rename(ecs: Any, ids: list[str]) -> None:
    ecs.batch_update_servers_name(BatchUpdateServersNameRequest(body=BatchUpdateServersNameRequestBody(
        name="renamed-by-matrix", servers=refs(ids))))


def _as_user(action: Callable[[Any, list[str]], None]) -> Callable[[Any, dict, list[str]], None]:
    return lambda server, user, ids: action(server.ecs(user["ak"], user["sk"]), ids)


def _server_state(server: Any, ids: list[str]) -> tuple[str, str]:
    s = server.ecs().show_server(ShowServerRequest(server_id=ids[0])).server
    return s.status, s.name


def _server_view(server: Any, ids: list[str]) -> tuple:
    s = server.ecs().show_server(ShowServerRequest(server_id=ids[0])).server
    return s.status, s.image.id, s.flavor.id, s.os_ext_srv_att_rhost


OTHER_IMAGE = "95df4f75-bd05-5aa6-9d36-bdf8cb33977f"  # Ubuntu 20.04 (the default image is 22.04)
OTHER_FLAVOR = "s6.medium.2"


def _change_os(ecs: Any, ids: list[str]) -> None:
    option = ChangeServerOsWithCloudInitOption(imageid=OTHER_IMAGE, adminpass="Matrix!Passw0rd")
    ecs.change_server_os_with_cloud_init(ChangeServerOsWithCloudInitRequest(
        server_id=ids[0], body=ChangeServerOsWithCloudInitRequestBody(os_change=option)))


def _reinstall(ecs: Any, ids: list[str]) -> None:
    option = ReinstallServerWithCloudInitOption(adminpass="Matrix!Passw0rd")
    ecs.reinstall_server_with_cloud_init(ReinstallServerWithCloudInitRequest(
        server_id=ids[0], body=ReinstallServerWithCloudInitRequestBody(os_reinstall=option)))


def _resize(ecs: Any, ids: list[str]) -> None:
    ecs.resize_post_paid_server(ResizePostPaidServerRequest(server_id=ids[0], body=ResizePostPaidServerRequestBody(
        resize=ResizePostPaidServerOption(flavor_ref=OTHER_FLAVOR))))


def _migrate(ecs: Any, ids: list[str]) -> None:
    ecs.migrate_server(MigrateServerRequest(server_id=ids[0], body=MigrateServerRequestBody()))


def _placed(prepare: Callable[[Any, str], list[str]]) -> Callable[[Any, str], tuple[list[str], str]]:
    """The servers and the host the first one runs on."""
    return lambda server, name: (ids := prepare(server, name), _server_view(server, ids)[3])


def _moved(server: Any, target: tuple[list[str], str]) -> tuple[str, bool]:
    status, _, _, host = _server_view(server, target[0])
    return status, host != target[1]


# -- disks on servers ------------------------------------------------------------------------------------------------
def _shared_disk(attach: bool) -> Callable[[Any, str], tuple[str, list[str]]]:
    """Two servers and a shared disk (attached to both when `attach`)."""

    def prepare(server: Any, name: str) -> tuple[str, list[str]]:
        _, ids = create(server.ecs(), server.info, name, count=2, availability_zone=server.info["region"] + "a")
        option = CreateVolumeOption(availability_zone=server.info["region"] + "a", volume_type="SSD", size=10,
                                    name=name, multiattach=True)
        vid = server.evs().create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=option))).volume_ids[0]
        if attach:
            for sid in ids:
                body = AttachServerVolumeRequestBody(volume_attachment=AttachServerVolumeOption(volume_id=vid))
                server.ecs().attach_server_volume(AttachServerVolumeRequest(server_id=sid, body=body))
        return vid, ids

    return prepare


def _batch_attach(server: Any, user: dict, target: tuple[str, list[str]]) -> None:
    vid, ids = target
    body = BatchAttachSharableVolumesRequestBody(serverinfo=[BatchAttachSharableVolumesOption(server_id=s)
                                                             for s in ids])
    server.ecs(user["ak"], user["sk"]).batch_attach_sharable_volumes(
        BatchAttachSharableVolumesRequest(volume_id=vid, body=body))


def _batch_detach(server: Any, user: dict, target: tuple[str, list[str]]) -> None:
    vid, ids = target
    server.ecs(user["ak"], user["sk"]).batch_detach_volumes(
        BatchDetachVolumesRequest(volume_id=vid, body=VolumeBatchDetachRequest(serverinfo=ids)))


def _disk_state(server: Any, target: tuple[str, list[str]]) -> tuple:
    v = server.evs().show_volume(ShowVolumeRequest(volume_id=target[0])).volume
    return v.status, sorted(a.server_id for a in v.attachments)


# -- server groups ---------------------------------------------------------------------------------------------------
def _group(member: bool = False, server_too: bool = False) -> Callable[[Any, str], tuple[str, str | None]]:
    """An anti-affinity group (and a stopped server, which is a member when `member`)."""

    def prepare(server: Any, name: str) -> tuple[str, str | None]:
        ecs = server.ecs()
        gid = ecs.create_server_group(CreateServerGroupRequest(body=CreateServerGroupRequestBody(
            server_group=CreateServerGroupOption(name=name, policies=["anti-affinity"])))).server_group.id
        if not (member or server_too):
            return gid, None
        _, ids = create(ecs, server.info, name)
        _stop(ecs, ids)
        if member:
            ecs.add_server_group_member(AddServerGroupMemberRequest(server_group_id=gid, body=(
                AddServerGroupMemberRequestBody(add_member=ServerGroupMember(instance_uuid=ids[0])))))
        return gid, ids[0]

    return prepare


def _group_state(server: Any, target: tuple[str, str | None]) -> tuple:
    groups = {g.id: g for g in server.ecs().list_server_groups(ListServerGroupsRequest()).server_groups}
    g = groups.get(target[0])
    return (g is not None, sorted(g.members) if g else None)


def _group_call(method: str, request: Callable[[tuple[str, str | None]], Any],
                check: Callable[[Any, tuple[str, str | None]], bool] = lambda r, t: True) -> Callable:
    def call(server: Any, user: dict, target: tuple[str, str | None]) -> None:
        response = getattr(server.ecs(user["ak"], user["sk"]), method)(request(target))
        assert check(response, target)

    return call


def _member(action: str) -> Callable[[tuple[str, str | None]], Any]:
    def request(target: tuple[str, str | None]) -> Any:
        gid, sid = target
        if action == "add":
            return AddServerGroupMemberRequest(server_group_id=gid, body=AddServerGroupMemberRequestBody(
                add_member=ServerGroupMember(instance_uuid=sid)))
        return DeleteServerGroupMemberRequest(server_group_id=gid, body=DeleteServerGroupMemberRequestBody(
            remove_member=ServerGroupMember(instance_uuid=sid)))

    return request


def _create_group(server: Any, user: dict, name: str) -> None:
    server.ecs(user["ak"], user["sk"]).create_server_group(CreateServerGroupRequest(body=CreateServerGroupRequestBody(
        server_group=CreateServerGroupOption(name=name, policies=["anti-affinity"]))))


def _named_groups(server: Any, name: str) -> int:
    return sum(g.name == name for g in server.ecs().list_server_groups(ListServerGroupsRequest()).server_groups)


# -- Nova rows (keystoneauth1 with the user's token, /v2 and /v2.1) --------------------------------------------------
def _compute(server: Any, version: str, user: dict | None = None) -> Adapter:
    """An adapter on the catalog's compute endpoint; /v2 is the legacy API beside it."""
    session = server.session(user["name"], user["password"]) if user else server.session()
    base = f"{server.endpoint}/compute/{'v2.1' if version == 'v21' else 'v2'}/{server.info['project_id']}"
    return Adapter(session, endpoint_override=base, raise_exc=True,
                   additional_headers={"X-OpenStack-Nova-API-Version": "2.79"} if version == "v21" else {})


def _nova_act(version: str, body: dict) -> Callable[[Any, dict, list[str]], None]:
    def call(server: Any, user: dict, ids: list[str]) -> None:
        _compute(server, version, user).post(f"/servers/{ids[0]}/action", json=body)

    return call


def _nova_state(server: Any, ids: list[str]) -> tuple:
    s = _compute(server, "v21").get(f"/servers/{ids[0]}").json()["server"]
    return s["status"], s["image"]["id"], s["flavor"]["original_name"], s["locked"]


def _nova_invokers(version: str) -> dict[str, Invoker]:
    def locked(server: Any, name: str) -> list[str]:
        ids = _servers()(server, name)
        _compute(server, "v21").post(f"/servers/{ids[0]}/action", json={"lock": None})
        return ids

    return {
        f"nova.start_server.{version}": Invoker(_servers(_stop), _nova_act(version, {"os-start": None}), _nova_state,
                                                lambda st: st[0] == "ACTIVE"),
        f"nova.stop_server.{version}": Invoker(_servers(), _nova_act(version, {"os-stop": None}), _nova_state,
                                               lambda st: st[0] == "SHUTOFF"),
        f"nova.reboot_server.{version}": Invoker(_servers(), _nova_act(version, {"reboot": {"type": "HARD"}}),
                                                 _nova_state, lambda st: st[0] == "ACTIVE"),
        f"nova.resize_server.{version}": Invoker(
            _servers(), _nova_act(version, {"resize": {"flavorRef": OTHER_FLAVOR}}), _nova_state,
            lambda st: (st[0], st[2]) == ("VERIFY_RESIZE", OTHER_FLAVOR)),
        f"nova.rebuild_server.{version}": Invoker(
            _servers(), _nova_act(version, {"rebuild": {"imageRef": OTHER_IMAGE}}), _nova_state,
            lambda st: st[1] == OTHER_IMAGE),
        f"nova.lock_server.{version}": Invoker(_servers(), _nova_act(version, {"lock": None}), _nova_state,
                                               lambda st: st[3] is True),
        f"nova.unlock_server.{version}": Invoker(locked, _nova_act(version, {"unlock": None}), _nova_state,
                                                 lambda st: st[3] is False),
    }


def _nova_group_invokers(version: str) -> dict[str, Invoker]:
    """Nova os-server-groups on the groups the ECS API lists (v2.1 at 2.79: `policy`; legacy v2: `policies`)."""
    spec = {"policy": "anti-affinity"} if version == "v21" else {"policies": ["anti-affinity"]}

    def create_group(server: Any, user: dict, name: str) -> None:
        _compute(server, version, user).post("/os-server-groups", json={"server_group": {"name": name, **spec}})

    def request(method: str, path: str = "", check: Callable[[Any, str], bool] = lambda body, gid: True
                ) -> Callable[[Any, dict, tuple[str, str | None]], None]:
        def call(server: Any, user: dict, target: tuple[str, str | None]) -> None:
            response = _compute(server, version, user).request("/os-server-groups" + path.format(gid=target[0]),
                                                               method)
            assert check(response.json() if response.content else None, target[0])

        return call

    return {
        f"nova.create_server_group.{version}": Invoker(lambda server, name: name, create_group, _named_groups,
                                                       lambda st: st == 1),
        f"nova.list_server_groups.{version}": Invoker(_group(), request(
            "GET", check=lambda body, gid: gid in [g["id"] for g in body["server_groups"]]), _group_state,
            lambda st: st[0]),
        f"nova.show_server_group.{version}": Invoker(_group(), request(
            "GET", "/{gid}", lambda body, gid: body["server_group"]["id"] == gid), _group_state, lambda st: st[0]),
        f"nova.delete_server_group.{version}": Invoker(_group(), request("DELETE", "/{gid}"), _group_state,
                                                       lambda st: st == (False, None)),
    }


# -- Cinder rows (keystoneauth1 with the user's token, v2 and v3) ------------------------------------------------------
def _volumes(server: Any, version: str, user: dict | None = None) -> Adapter:
    session = server.session(user["name"], user["password"]) if user else server.session()
    return Adapter(session, service_type=f"volume{version}", interface="public", region_name=server.info["region"],
                   raise_exc=True)


def _act(version: str, body: dict) -> Callable[[Any, dict, str], None]:
    def call(server: Any, user: dict, volume_id: str) -> None:
        _volumes(server, version, user).post(f"/volumes/{volume_id}/action", json=body)

    return call


def _volume(*before: dict) -> Callable[[Any, str], str]:
    """An available 1 GB volume named after the case, then the admin's preparatory actions."""

    def prepare(server: Any, name: str) -> str:
        admin = _volumes(server, "v3")
        vid = admin.post("/volumes", json={"volume": {"size": 1, "name": name}}).json()["volume"]["id"]
        for body in before:
            admin.post(f"/volumes/{vid}/action", json=body)
        return vid

    return prepare


def _volume_state(server: Any, volume_id: str) -> tuple:
    v = _volumes(server, "v3").get(f"/volumes/{volume_id}").json()["volume"]
    images = server.ims().list_images(ListImagesRequest(name=f"img-{volume_id}")).images or []
    return v["status"], v["size"], v["bootable"], v["metadata"].get("readonly"), len(images)


_ATTACH = {"os-attach": {"instance_uuid": str(uuid.uuid4()), "mountpoint": "/dev/vdb"}}


def _cinder_invokers(version: str) -> dict[str, Invoker]:
    def upload(server: Any, user: dict, vid: str) -> None:
        _act(version, {"os-volume_upload_image": {"image_name": f"img-{vid}"}})(server, user, vid)

    plain = _volume()
    return {
        f"cinder.extend_volume.{version}": Invoker(plain, _act(version, {"os-extend": {"new_size": 2}}),
                                                   _volume_state, lambda st: st[1] == 2),
        f"cinder.upload_volume_image.{version}": Invoker(plain, upload, _volume_state, lambda st: st[4] == 1),
        f"cinder.attach_volume.{version}": Invoker(plain, _act(version, _ATTACH), _volume_state,
                                                   lambda st: st[0] == "in-use"),
        f"cinder.detach_volume.{version}": Invoker(_volume(_ATTACH), _act(version, {"os-detach": {}}),
                                                   _volume_state, lambda st: st[0] == "available"),
        f"cinder.reserve_volume.{version}": Invoker(plain, _act(version, {"os-reserve": None}), _volume_state,
                                                    lambda st: st[0] == "attaching"),
        f"cinder.unreserve_volume.{version}": Invoker(_volume({"os-reserve": None}),
                                                      _act(version, {"os-unreserve": None}), _volume_state,
                                                      lambda st: st[0] == "available"),
        f"cinder.set_volume_bootable.{version}": Invoker(plain, _act(version, {"os-set_bootable": {"bootable": True}}),
                                                         _volume_state, lambda st: st[2] == "true"),
        f"cinder.update_volume_readonly.{version}": Invoker(
            plain, _act(version, {"os-update_readonly_flag": {"readonly": True}}), _volume_state,
            lambda st: st[3] == "True"),
    }


INVOKERS: dict[str, Invoker] = {
    "ecs.batch_stop_servers": Invoker(_servers(), _as_user(_stop), _server_state, lambda st: st[0] == "SHUTOFF"),
    "ecs.batch_start_servers": Invoker(_servers(_stop), _as_user(_start), _server_state, lambda st: st[0] == "ACTIVE"),
    "ecs.batch_reboot_servers": Invoker(_servers(), _as_user(_reboot), _server_state, lambda st: st[0] == "ACTIVE"),
    "ecs.batch_update_servers_name": Invoker(_servers(), _as_user(_rename), _server_state,
                                             lambda st: st[1] == "renamed-by-matrix"),
    "ecs.batch_attach_sharable_volumes": Invoker(_shared_disk(False), _batch_attach, _disk_state,
                                                 lambda st: st[0] == "in-use" and len(st[1]) == 2),
    "ecs.batch_detach_volumes": Invoker(_shared_disk(True), _batch_detach, _disk_state,
                                        lambda st: st == ("available", [])),
    "ecs.change_server_os_with_cloud_init": Invoker(_servers(_stop), _as_user(_change_os), _server_view,
                                                    lambda st: (st[0], st[1]) == ("ACTIVE", OTHER_IMAGE)),
    "ecs.reinstall_server_with_cloud_init": Invoker(_servers(_stop), _as_user(_reinstall), _server_view,
                                                    lambda st: st[0] == "ACTIVE"),
    "ecs.resize_post_paid_server": Invoker(_servers(_stop), _as_user(_resize), _server_view,
                                           lambda st: (st[0], st[2]) == ("SHUTOFF", OTHER_FLAVOR)),
    "ecs.migrate_server": Invoker(_placed(_servers(_stop)),
                                  lambda server, user, t: _as_user(_migrate)(server, user, t[0]), _moved,
                                  lambda st: st == ("SHUTOFF", True)),
    "ecs.create_server_group": Invoker(lambda server, name: name, _create_group, _named_groups,
                                       lambda st: st == 1),
    "ecs.delete_server_group": Invoker(_group(), _group_call("delete_server_group", lambda t: DeleteServerGroupRequest(
        server_group_id=t[0])), _group_state, lambda st: st == (False, None)),
    "ecs.add_server_group_member": Invoker(_group(server_too=True), _group_call("add_server_group_member",
                                                                                _member("add")),
                                           _group_state, lambda st: st[0] and len(st[1]) == 1),
    "ecs.delete_server_group_member": Invoker(_group(member=True), _group_call("delete_server_group_member",
                                                                               _member("remove")),
                                              _group_state, lambda st: st == (True, [])),
    "ecs.list_server_groups": Invoker(_group(), _group_call(
        "list_server_groups", lambda t: ListServerGroupsRequest(),
        lambda r, t: t[0] in [g.id for g in r.server_groups]), _group_state, lambda st: st[0]),
    "ecs.show_server_group": Invoker(_group(), _group_call(
        "show_server_group", lambda t: ShowServerGroupRequest(server_group_id=t[0]),
        lambda r, t: r.server_group.id == t[0]), _group_state, lambda st: st[0]),
    **_nova_invokers("v2"),
    **_nova_invokers("v21"),
    **_nova_group_invokers("v2"),
    **_nova_group_invokers("v21"),
    **_cinder_invokers("v2"),
    **_cinder_invokers("v3"),
}
SERVED = [r for r in ROWS if op_for(r).handler]


def test_every_served_seed_row_has_a_matrix_invoker():
    assert {op_for(r).name for r in SERVED} <= set(INVOKERS)
    assert len(SERVED) >= 32


def cases() -> list:
    out = []
    for row in SERVED:
        op = op_for(row)
        needed = list(op.actions) + list(op.dependencies)
        out.append(pytest.param(op.name, needed, None, id=f"{op.name}-all"))
        for missing in needed:
            out.append(pytest.param(op.name, needed, missing, id=f"{op.name}-without-{missing}"))
    return out


def _refusal(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, ClientRequestException):
        return exc.status_code, exc.error_msg
    assert isinstance(exc, HttpError)
    fault = exc.response.json()
    return exc.http_status, fault["forbidden"]["message"]


@pytest.mark.parametrize(("name", "needed", "missing"), cases())
def test_seed_row(ecsim_server, unique, name, needed, missing):
    inv = INVOKERS[name]
    target = inv.prepare(ecsim_server, f"mx-{unique}")
    before = inv.state(ecsim_server, target)
    granted = [a for a in needed if a != missing]
    user = make_user(ecsim_server, f"mx-{unique}", allow=granted or None)
    if missing is None:
        inv.call(ecsim_server, user, target)
        assert inv.done(inv.state(ecsim_server, target))
        return
    with pytest.raises((ClientRequestException, HttpError)) as exc:
        inv.call(ecsim_server, user, target)
    assert _refusal(exc.value) == (403, f"Policy doesn't allow {missing} to be performed.")
    assert inv.state(ecsim_server, target) == before
