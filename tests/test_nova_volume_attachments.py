"""Nova's os-volume_attachments through openstacksdk, python-novaclient and raw HTTP: attach, list, show and detach
a Cinder volume, the fields each microversion shows, and Nova's errors (404 / 400 / 403 / 409). An attachment is
one fact: Nova's list, the server's volumes_attached, the Huawei ECS block devices and Cinder's volume status and
attachments all show it, and all drop it on detach."""

from __future__ import annotations

import json
import uuid

import pytest
from huaweicloudsdkecs.v2 import (
    AttachServerVolumeOption,
    AttachServerVolumeRequest,
    AttachServerVolumeRequestBody,
    ListServerBlockDevicesRequest,
)
from novaclient import exceptions as nova_exc
from openstack import exceptions as sdk_exc

from helpers import make_user


def compute(server) -> str:
    return f"/compute/v2.1/{server.info['project_id']}"


def raw(server, method: str, path: str, body=None, version: str | None = "2.79", token: str | None = None):
    headers = {"X-OpenStack-Nova-API-Version": version} if version else {}
    data = body if isinstance(body, bytes) else (None if body is None else json.dumps(body).encode())
    return server.http(method, compute(server) + path, raw=data, headers=headers, token=token or server.token())


def boot(conn, info, name: str, **kw):
    s = conn.compute.create_server(name=name, flavor_id=info["flavor_id"], image_id=info["image_id"],
                                   networks="auto", **kw)
    return conn.compute.get_server(s.id)


def disk(conn, az: str, name: str, **kw):
    return conn.block_storage.create_volume(size=1, availability_zone=az, name=name, **kw)


def block_devices(server, sid: str) -> dict[str, str]:
    """{volume id: device} as the Huawei ECS API shows the server's disks."""
    r = server.ecs().list_server_block_devices(ListServerBlockDevicesRequest(server_id=sid))
    return {d.volume_id: d.device for d in r.volume_attachments}


def nova_attached(conn, sid: str) -> list[str]:
    return [v["id"] for v in conn.compute.get_server(sid).attached_volumes]


def attachments_path(sid: str, vid: str | None = None) -> str:
    return f"/servers/{sid}/os-volume_attachments" + (f"/{vid}" if vid else "")


def test_attach_list_show_detach_with_openstacksdk(ecsim_server, unique):
    conn = ecsim_server.openstack()
    s = boot(conn, ecsim_server.info, f"va-{unique}")
    [root_id] = nova_attached(conn, s.id)
    vol = disk(conn, s.availability_zone, f"va-{unique}")
    att = conn.compute.create_volume_attachment(s, volume_id=vol.id)
    assert (att.volume_id, att.id, att.device) == (vol.id, vol.id, "/dev/vdb")
    assert att.delete_on_termination is False and att.tag is None  # 2.79 shows both
    # Nova: the attachments (the system disk too) and the server's volumes_attached
    listed = {a.volume_id: a for a in conn.compute.volume_attachments(s)}
    assert {k: a.device for k, a in listed.items()} == {root_id: "/dev/vda", vol.id: "/dev/vdb"}
    assert listed[root_id].delete_on_termination is True and listed[vol.id].delete_on_termination is False
    got = conn.compute.get_volume_attachment(s, vol.id)
    assert (got.volume_id, got.device) == (vol.id, "/dev/vdb")
    assert nova_attached(conn, s.id) == [root_id, vol.id]
    # Huawei ECS and Cinder see the same attachment
    assert block_devices(ecsim_server, s.id) == {root_id: "/dev/vda", vol.id: "/dev/vdb"}
    cinder_vol = conn.block_storage.get_volume(vol.id)
    assert cinder_vol.status == "in-use"
    assert [(a["server_id"], a["device"]) for a in cinder_vol.attachments] == [(s.id, "/dev/vdb")]
    # Cinder's os-detach leaves an attachment the compute service made to it: 409, nothing changed
    [cinder_att] = cinder_vol.attachments
    for body in ({"os-detach": {"attachment_id": cinder_att["attachment_id"]}}, {"os-detach": {}}):
        status, _, fault = ecsim_server.http("POST", f"/volume/v3/{ecsim_server.info['project_id']}/volumes/"
                                             f"{vol.id}/action", body, token=ecsim_server.token())
        assert (status, fault) == (409, {"conflictingRequest": {"code": 409, "message": (
            f"ConflictNovaUsingAttachment: Detach volume from instance {s.id} using the Compute API")}})
    assert conn.block_storage.get_volume(vol.id).status == "in-use" and nova_attached(conn, s.id) == [root_id, vol.id]
    # detach: gone everywhere, the volume available again
    conn.compute.delete_volume_attachment(s, vol.id)
    assert [a.volume_id for a in conn.compute.volume_attachments(s)] == [root_id]
    with pytest.raises(sdk_exc.NotFoundException):
        conn.compute.get_volume_attachment(s, vol.id)
    assert nova_attached(conn, s.id) == [root_id]
    assert block_devices(ecsim_server, s.id) == {root_id: "/dev/vda"}
    cinder_vol = conn.block_storage.get_volume(vol.id)
    assert (cinder_vol.status, cinder_vol.attachments) == ("available", [])
    # an attachment made through Huawei's ECS API shows in Nova too, and detaches through Nova
    body = AttachServerVolumeRequestBody(volume_attachment=AttachServerVolumeOption(volume_id=vol.id,
                                                                                    device="/dev/vdc"))
    ecsim_server.ecs().attach_server_volume(AttachServerVolumeRequest(server_id=s.id, body=body))
    assert conn.compute.get_volume_attachment(s, vol.id).device == "/dev/vdc"
    conn.compute.delete_volume_attachment(s, vol.id)
    assert conn.block_storage.get_volume(vol.id).status == "available"


def test_novaclient_tag_and_delete_on_termination(ecsim_server, unique):
    nova, conn = ecsim_server.nova("2.79"), ecsim_server.openstack()
    s = boot(conn, ecsim_server.info, f"vt-{unique}")
    vol = disk(conn, s.availability_zone, f"vt-{unique}")
    att = nova.volumes.create_server_volume(s.id, vol.id, tag="data", delete_on_termination=True)
    assert (att.volumeId, att.serverId, att.device, att.tag, att.delete_on_termination) == (
        vol.id, s.id, "/dev/vdb", "data", True)
    listed = {a.volumeId: a for a in nova.volumes.get_server_volumes(s.id)}
    assert (listed[vol.id].tag, listed[vol.id].delete_on_termination) == ("data", True)
    assert nova.volumes.get_server_volume(s.id, vol.id).tag == "data"
    shown = nova.servers.get(s.id)
    assert {"id": vol.id, "delete_on_termination": True} in getattr(shown, "os-extended-volumes:volumes_attached")
    # the fields follow the microversion
    for version, present, absent in (("2.1", set(), {"tag", "delete_on_termination"}),
                                     ("2.69", set(), {"tag", "delete_on_termination"}),
                                     ("2.70", {"tag"}, {"delete_on_termination"}),
                                     ("2.79", {"tag", "delete_on_termination"}, set())):
        status, _, body = raw(ecsim_server, "GET", attachments_path(s.id, vol.id), version=version)
        keys = set(body["volumeAttachment"])
        assert status == 200 and {"id", "volumeId", "serverId", "device"} | present <= keys, version
        assert not keys & absent, version
        status, _, body = raw(ecsim_server, "GET", attachments_path(s.id), version=version)
        assert status == 200 and all(set(a) & absent == set() for a in body["volumeAttachments"]), version
    status, _, body = ecsim_server.http("GET", f"/compute/v2/{ecsim_server.info['project_id']}"
                                        + attachments_path(s.id), token=ecsim_server.token())  # legacy v2: as 2.1
    assert status == 200 and {"tag", "delete_on_termination"} & set(body["volumeAttachments"][1]) == set()
    assert body["volumeAttachments"][1]["volumeId"] == vol.id
    # limit / offset page the list; unknown query parameters are refused from 2.75
    status, _, body = raw(ecsim_server, "GET", attachments_path(s.id) + "?limit=1&offset=1")
    assert status == 200 and [a["volumeId"] for a in body["volumeAttachments"]] == [vol.id]
    assert raw(ecsim_server, "GET", attachments_path(s.id) + "?bogus=1")[0] == 400
    assert raw(ecsim_server, "GET", attachments_path(s.id) + "?bogus=1", version="2.74")[0] == 200
    # delete_on_termination=True: deleting the server deletes the volume too
    nova.servers.delete(s.id)
    with pytest.raises(sdk_exc.NotFoundException):
        conn.block_storage.get_volume(vol.id)


def test_volume_survives_server_delete_without_delete_on_termination(ecsim_server, unique):
    nova, conn = ecsim_server.nova("2.79"), ecsim_server.openstack()
    s = boot(conn, ecsim_server.info, f"vk-{unique}")
    vol = disk(conn, s.availability_zone, f"vk-{unique}")
    nova.volumes.create_server_volume(s.id, vol.id)
    assert conn.block_storage.get_volume(vol.id).status == "in-use"
    nova.servers.delete(s.id)
    got = conn.block_storage.get_volume(vol.id)
    assert (got.status, got.attachments) == ("available", [])


def test_attach_errors(ecsim_server, unique):
    conn, info = ecsim_server.openstack(), ecsim_server.info
    s = boot(conn, info, f"ve-{unique}")
    other = boot(conn, info, f"ve2-{unique}", availability_zone=s.availability_zone)
    vol = disk(conn, s.availability_zone, f"ve-{unique}")
    path = attachments_path(s.id)
    missing = str(uuid.uuid4())
    # unknown server / volume: 404
    status, _, body = raw(ecsim_server, "POST", attachments_path(missing), {"volumeAttachment": {"volumeId": vol.id}})
    assert status == 404 and body["itemNotFound"]["message"] == f"Instance {missing} could not be found."
    status, _, body = raw(ecsim_server, "POST", path, {"volumeAttachment": {"volumeId": missing}})
    assert status == 404 and body["itemNotFound"]["message"] == f"Volume {missing} could not be found."
    # the strict, versioned body: 400
    for body, version in (({"volumeAttachment": {"volumeId": "nope"}}, "2.79"),
                          ({"volumeAttachment": {"volumeId": vol.id, "bogus": 1}}, "2.79"),
                          ({"volumeAttachment": {"volumeId": vol.id}, "extra": 1}, "2.79"),
                          ({"volumeAttachment": {}}, "2.79"), ({}, "2.79"), (b"{", "2.79"),
                          ({"volumeAttachment": {"volumeId": vol.id, "device": "vdb"}}, "2.79"),
                          ({"volumeAttachment": {"volumeId": vol.id, "tag": "a/b"}}, "2.79"),
                          ({"volumeAttachment": {"volumeId": vol.id, "tag": "t"}}, "2.48"),
                          ({"volumeAttachment": {"volumeId": vol.id, "delete_on_termination": True}}, "2.78"),
                          ({"volumeAttachment": {"volumeId": vol.id, "delete_on_termination": "maybe"}}, "2.79")):
        status, _, fault = raw(ecsim_server, "POST", path, body, version=version)
        assert status == 400 and "badRequest" in fault, (body, version)
    assert conn.block_storage.get_volume(vol.id).status == "available"  # nothing was attached meanwhile
    # the tag is accepted from 2.49 (and shown from 2.70)
    status, _, body = raw(ecsim_server, "POST", path, {"volumeAttachment": {"volumeId": vol.id, "tag": "t"}},
                          version="2.49")
    assert status == 200 and body["volumeAttachment"]["volumeId"] == vol.id and "tag" not in body["volumeAttachment"]
    # attached already (here, or elsewhere and not shared): 400 invalid volume
    status, _, body = raw(ecsim_server, "POST", path, {"volumeAttachment": {"volumeId": vol.id}})
    assert status == 400 and body["badRequest"]["message"] == f"Invalid volume: volume {vol.id} already attached"
    status, _, body = raw(ecsim_server, "POST", attachments_path(other.id), {"volumeAttachment": {"volumeId": vol.id}})
    assert status == 400 and body["badRequest"]["message"].startswith(f"Invalid volume: volume '{vol.id}' status")
    assert [a["server_id"] for a in conn.block_storage.get_volume(vol.id).attachments] == [s.id]
    # another availability zone: 400
    zones = {info["region"] + "a", info["region"] + "b"} - {s.availability_zone}
    far = disk(conn, sorted(zones)[0], f"far-{unique}")
    status, _, body = raw(ecsim_server, "POST", path, {"volumeAttachment": {"volumeId": far.id}})
    assert status == 400 and "not in the same availability_zone" in body["badRequest"]["message"]
    # a device already in use: Nova's DevicePathInUse 409
    spare = disk(conn, s.availability_zone, f"sp-{unique}")
    status, _, body = raw(ecsim_server, "POST", path, {"volumeAttachment": {"volumeId": spare.id,
                                                                            "device": "/dev/vdb"}})
    assert status == 409 and body["conflictingRequest"]["message"] == "The supplied device path (/dev/vdb) is in use."
    assert conn.block_storage.get_volume(spare.id).status == "available"
    # a shared (multiattach) volume goes on several servers, from 2.60
    shared = disk(conn, s.availability_zone, f"sh-{unique}", is_multiattach=True)
    status, _, body = raw(ecsim_server, "POST", path, {"volumeAttachment": {"volumeId": shared.id}}, version="2.59")
    assert status == 400 and body["badRequest"]["message"] == (
        "Multiattach volumes are only supported starting with compute API version 2.60.")
    for sid in (s.id, other.id):
        assert raw(ecsim_server, "POST", attachments_path(sid), {"volumeAttachment": {"volumeId": shared.id}})[0] == 200
    got = conn.block_storage.get_volume(shared.id)
    assert got.status == "in-use" and sorted(a["server_id"] for a in got.attachments) == sorted([s.id, other.id])
    assert raw(ecsim_server, "DELETE", attachments_path(other.id, shared.id))[0] == 202
    got = conn.block_storage.get_volume(shared.id)
    assert got.status == "in-use" and [a["server_id"] for a in got.attachments] == [s.id]


def test_show_and_detach_errors(ecsim_server, unique):
    conn = ecsim_server.openstack()
    s = boot(conn, ecsim_server.info, f"vd-{unique}")
    [root_id] = nova_attached(conn, s.id)
    vol = disk(conn, s.availability_zone, f"vd-{unique}")
    missing = str(uuid.uuid4())
    # not attached: 404 for show and detach; an unknown volume: 404 naming the volume
    status, _, body = raw(ecsim_server, "GET", attachments_path(s.id, vol.id))
    assert status == 404 and body["itemNotFound"]["message"] == f"Instance {s.id} is not attached to volume {vol.id}"
    status, _, body = raw(ecsim_server, "DELETE", attachments_path(s.id, vol.id))
    assert status == 404 and body["itemNotFound"]["message"] == f"Instance {s.id} is not attached to volume {vol.id}"
    status, _, body = raw(ecsim_server, "DELETE", attachments_path(s.id, missing))
    assert status == 404 and body["itemNotFound"]["message"] == f"Volume {missing} could not be found."
    status, _, body = raw(ecsim_server, "GET", attachments_path(missing))
    assert status == 404 and body["itemNotFound"]["message"] == f"Instance {missing} could not be found."
    # the system disk: listed, but Nova never detaches a root device (even from a stopped server)
    conn.compute.stop_server(s)
    status, _, body = raw(ecsim_server, "DELETE", attachments_path(s.id, root_id))
    assert status == 400 and body["badRequest"]["message"] == "Cannot detach a root device volume"
    assert block_devices(ecsim_server, s.id) == {root_id: "/dev/vda"}
    # a stopped server takes and gives back volumes
    att = conn.compute.create_volume_attachment(s, volume_id=vol.id)
    assert att.device == "/dev/vdb" and conn.block_storage.get_volume(vol.id).status == "in-use"
    conn.compute.delete_volume_attachment(s, vol.id, ignore_missing=False)
    assert conn.block_storage.get_volume(vol.id).status == "available"
    with pytest.raises(sdk_exc.NotFoundException):
        conn.compute.delete_volume_attachment(s, vol.id, ignore_missing=False)


def test_lock_binds_non_admins(ecsim_server, unique):
    user = make_user(ecsim_server, f"vl-{unique}", system=["ECS FullAccess"])
    nova_user = ecsim_server.nova("2.79", user=user["name"], password=user["password"])
    nova_admin, conn = ecsim_server.nova("2.79"), ecsim_server.openstack()
    s = boot(conn, ecsim_server.info, f"vl-{unique}")
    vol = disk(conn, s.availability_zone, f"vl-{unique}")
    nova_admin.servers.lock(s.id)
    with pytest.raises(nova_exc.Conflict) as exc:
        nova_user.volumes.create_server_volume(s.id, vol.id)
    assert f"Instance {s.id} is locked" in str(exc.value)
    assert conn.block_storage.get_volume(vol.id).status == "available"
    nova_admin.volumes.create_server_volume(s.id, vol.id)  # admins bypass the lock
    assert [a.volumeId for a in nova_user.volumes.get_server_volumes(s.id)][-1] == vol.id  # reads are not locked
    with pytest.raises(nova_exc.Conflict):
        nova_user.volumes.delete_server_volume(s.id, vol.id)
    assert conn.block_storage.get_volume(vol.id).status == "in-use"
    nova_admin.servers.unlock(s.id)
    nova_user.volumes.delete_server_volume(s.id, vol.id)
    assert conn.block_storage.get_volume(vol.id).status == "available"


def test_denied_without_the_attachment_actions(ecsim_server, unique):
    user = make_user(ecsim_server, f"vn-{unique}", allow=["ecs:servers:get", "ecs:servers:list",
                                                          "ecs:serverVolumeAttachments:list"])
    conn = ecsim_server.openstack()
    s = boot(conn, ecsim_server.info, f"vn-{unique}")
    vol = disk(conn, s.availability_zone, f"vn-{unique}")
    nova = ecsim_server.nova("2.79", user=user["name"], password=user["password"])
    assert len(nova.volumes.get_server_volumes(s.id)) == 1
    with pytest.raises(nova_exc.Forbidden) as exc:
        nova.volumes.create_server_volume(s.id, vol.id)
    assert "Policy doesn't allow ecs:serverVolumeAttachments:create to be performed." in str(exc.value)
    assert conn.block_storage.get_volume(vol.id).status == "available"


def test_server_states_under_the_realistic_profile(ecsim_launcher):
    slow = ecsim_launcher(["--memory", "--profile", "realistic"])
    assert slow.http("POST", "/_ecsim/clock", {"freeze": True})[0] == 200

    def advance(seconds: float) -> None:
        assert slow.http("POST", "/_ecsim/clock", {"advance": seconds})[0] == 200

    conn, info = slow.openstack(), slow.info
    s = conn.compute.create_server(name="rs", flavor_id=info["flavor_id"], image_id=info["image_id"],
                                   networks="auto")
    s = conn.compute.get_server(s.id)
    vol = disk(conn, s.availability_zone, "rs")
    advance(30)
    assert conn.block_storage.get_volume(vol.id).status == "available"
    # a server still building refuses attaching: Nova's 409 naming the vm state (checked before the task state)
    creating = conn.compute.create_server(name="rs2", flavor_id=info["flavor_id"], image_id=info["image_id"],
                                          networks="auto")
    status, _, body = raw(slow, "POST", attachments_path(creating.id), {"volumeAttachment": {"volumeId": vol.id}})
    assert status == 409
    assert body["conflictingRequest"]["message"] == (
        f"Cannot 'attach_volume' instance {creating.id} while it is in vm_state building")
    assert conn.compute.get_server(s.id).status == "ACTIVE"
    # attaching: Nova lists the mapping at once while Cinder shows the volume attaching, then in-use
    att = conn.compute.create_volume_attachment(s, volume_id=vol.id)
    assert att.device == "/dev/vdb"
    assert [a.volume_id for a in conn.compute.volume_attachments(s)][-1] == vol.id
    assert conn.block_storage.get_volume(vol.id).status == "attaching"
    status, _, body = raw(slow, "DELETE", attachments_path(s.id, vol.id))  # not yet: the attach is in flight
    assert status == 400 and body["badRequest"]["message"].startswith("Invalid volume:")
    advance(30)
    assert conn.block_storage.get_volume(vol.id).status == "in-use"
    conn.compute.delete_volume_attachment(s, vol.id)
    assert conn.block_storage.get_volume(vol.id).status == "detaching"
    assert [a.volume_id for a in conn.compute.volume_attachments(s)] == [s.attached_volumes[0]["id"]]
    advance(30)
    assert conn.block_storage.get_volume(vol.id).status == "available"


def test_too_many_disks_is_novas_403(ecsim_server, unique):
    conn = ecsim_server.openstack()
    s = boot(conn, ecsim_server.info, f"vm-{unique}")
    nova = ecsim_server.nova("2.79")
    for i in range(23):  # the system disk and 23 data disks fill the server
        nova.volumes.create_server_volume(s.id, disk(conn, s.availability_zone, f"vm{i}-{unique}").id)
    assert len(nova.volumes.get_server_volumes(s.id)) == 24
    last = disk(conn, s.availability_zone, f"vmx-{unique}")
    with pytest.raises(nova_exc.Forbidden) as exc:
        nova.volumes.create_server_volume(s.id, last.id)
    assert "The maximum allowed number of disk devices (24) to attach to a single instance has been exceeded." \
        in str(exc.value)
    assert conn.block_storage.get_volume(last.id).status == "available"
    assert len(block_devices(ecsim_server, s.id)) == 24
