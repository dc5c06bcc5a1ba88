"""Cinder v2/v3 through python-cinderclient and openstacksdk, which find the endpoint the way users' tools do:
Keystone's catalog, then version discovery under /volume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from cinderclient import exceptions as cex
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import PostPaidServerRootVolume, ShowServerRequest
from huaweicloudsdkims.v2 import ListImagesRequest
from keystoneauth1.adapter import Adapter

from helpers import create, make_user


@pytest.fixture(scope="module")
def cinder(ecsim_server):
    return ecsim_server.cinder("3.71")


@pytest.fixture(scope="module")
def cinder30(ecsim_server):
    return ecsim_server.cinder("3.0")


def raw(server, version: str = "v3") -> Adapter:
    """The admin's session on the catalog's endpoint, for what the clients do not expose (headers, raw bodies)."""
    return Adapter(server.session(), service_type=f"volume{version}", interface="public",
                   region_name=server.info["region"])


def new(cinder, unique: str, **kw):
    return cinder.volumes.create(kw.pop("size", 1), name=kw.pop("name", f"v-{unique}"), **kw)


# -- discovery and microversions --------------------------------------------------------------------------------------
def test_catalog_names_the_block_storage_services(ecsim_server):
    status, _, body = ecsim_server.http("GET", "/v3/auth/catalog", token=ecsim_server.token())
    assert status == 200
    urls = {e["type"]: e["endpoints"][0]["url"] for e in body["catalog"]}
    pid, base = ecsim_server.info["project_id"], ecsim_server.endpoint
    assert urls["block-storage"] == urls["volumev3"] == f"{base}/volume/v3/{pid}"
    assert urls["volumev2"] == f"{base}/volume/v2/{pid}"
    assert urls["evs"] == f"{base}/v2/{pid}"


def test_version_documents(ecsim_server):
    status, _, body = ecsim_server.http("GET", "/volume/")
    assert status == 300
    assert [(v["id"], v["status"], v["version"], v["min_version"]) for v in body["versions"]] == [
        ("v3.0", "CURRENT", "3.71", "3.0"), ("v2.0", "DEPRECATED", "", "")]
    for major in ("v3", "v2"):
        status, _, body = ecsim_server.http("GET", f"/volume/{major}/")
        assert status == 200 and [v["id"] for v in body["versions"]] == [f"{major}.0"]
        assert body["versions"][0]["links"][1]["href"] == f"{ecsim_server.endpoint}/volume/{major}/"
        assert body["versions"][0]["media-types"][0]["base"] == "application/json"


def test_microversion_is_echoed_with_vary_also_on_errors(ecsim_server):
    api = raw(ecsim_server)
    r = api.get("/volumes", headers={"OpenStack-API-Version": "volume 3.42"})
    assert r.status_code == 200
    assert r.headers["OpenStack-API-Version"] == "volume 3.42" and r.headers["Vary"] == "OpenStack-API-Version"
    r = api.get(f"/volumes/{uuid.uuid4()}", headers={"OpenStack-API-Version": "volume latest"}, raise_exc=False)
    assert r.status_code == 404 and r.headers["OpenStack-API-Version"] == "volume 3.71"
    assert r.json()["itemNotFound"]["message"].endswith("could not be found.")
    assert api.get("/volumes").headers["OpenStack-API-Version"] == "volume 3.0"  # no header: the minimum
    assert "OpenStack-API-Version" not in raw(ecsim_server, "v2").get("/volumes").headers  # v2 has none


def test_bad_microversions(ecsim_server):
    api = raw(ecsim_server)
    r = api.get("/volumes", headers={"OpenStack-API-Version": "volume 3.99"}, raise_exc=False)
    assert r.status_code == 406
    assert r.json() == {"computeFault": {"code": 406, "message": "Version 3.99 is not supported by the API. "
                                                                  "Minimum is 3.0 and maximum is 3.71."}}
    r = api.get("/volumes", headers={"OpenStack-API-Version": "volume 3.x"}, raise_exc=False)
    assert r.status_code == 400 and "is of invalid format" in r.json()["badRequest"]["message"]
    r = api.get("/volumes/summary", headers={"OpenStack-API-Version": "volume 3.11"}, raise_exc=False)
    assert r.status_code == 404  # summary exists from 3.12


def test_fields_follow_the_microversion(ecsim_server, cinder, cinder30, unique):
    vid = new(cinder, unique).id
    at30 = cinder30.volumes.get(vid).to_dict()
    at371 = cinder.volumes.get(vid).to_dict()
    gated = {"group_id", "shared_targets", "service_uuid", "volume_type_id", "consumes_quota"}
    assert not gated & set(at30)
    assert gated <= set(at371)
    assert at371["volume_type_id"] == cinder.volume_types.find(name=at371["volume_type"]).id
    required = {"attachments", "links", "encrypted", "updated_at", "replication_status", "id", "size", "user_id",
                "availability_zone", "metadata", "status", "description", "multiattach", "consistencygroup_id",
                "name", "bootable", "created_at", "volume_type", "snapshot_id", "source_volid",
                "os-vol-tenant-attr:tenant_id"}
    assert set(at30) == required  # Tempest's schema allows no other keys


# -- volumes ----------------------------------------------------------------------------------------------------------
def test_create_show_update_delete(ecsim_server, cinder, unique):
    v = new(cinder, unique, description="first", metadata={"Type": "Test"}, volume_type="SSD",
            availability_zone=f"{ecsim_server.info['region']}b")
    assert (v.status, v.size, v.bootable, v.volume_type) == ("creating", 1, "false", "SSD")
    got = cinder.volumes.get(v.id)
    assert (got.status, got.metadata, got.availability_zone) == ("available", {"Type": "Test"},
                                                                 f"{ecsim_server.info['region']}b")
    assert got.updated_at is not None and got.created_at.count(".") == 1
    cinder.volumes.update(v, name="  @#$%^* renamed ", description="second ")
    got = cinder.volumes.get(v.id)
    assert (got.name, got.description) == ("@#$%^* renamed", "second")  # stripped, as Cinder does
    assert cinder.volumes.create(1).name is None  # no name: null
    api = raw(ecsim_server)
    assert api.put(f"/volumes/{v.id}", json={"volume": {}}, headers={"OpenStack-API-Version": "volume 3.0"},
                   raise_exc=False).status_code == 200  # nothing to change
    assert api.put(f"/volumes/{v.id}", json={"volume": {}}, headers={"OpenStack-API-Version": "volume 3.53"},
                   raise_exc=False).status_code == 400
    cinder.volumes.delete(v)
    with pytest.raises(cex.NotFound) as exc:
        cinder.volumes.get(v.id)
    assert exc.value.message == f"Volume {v.id} could not be found."


def test_unknown_type_and_zone(cinder, unique):
    with pytest.raises(cex.NotFound) as exc:
        new(cinder, unique, volume_type="NOPE")
    assert exc.value.message == "Volume type with name NOPE could not be found."
    with pytest.raises(cex.BadRequest) as exc:
        new(cinder, unique, availability_zone="mars-1a")
    assert exc.value.message == "Availability zone 'mars-1a' is invalid."
    assert cinder.volumes.list(search_opts={"name": f"v-{unique}"}) == []


def test_metadata_apis(ecsim_server, cinder, cinder30, unique):
    v = new(cinder, unique, metadata={"a": "1"})
    cinder.volumes.set_metadata(v, {"b": "2"})
    assert cinder.volumes.get(v.id).metadata == {"a": "1", "b": "2"}
    cinder.volumes.delete_metadata(v, ["a"])  # 3.15+: read with its ETag, write back with If-Match
    assert cinder.volumes.get(v.id).metadata == {"b": "2"}
    cinder30.volumes.update_all_metadata(v, {"c": "3"})
    assert cinder.volumes.get(v.id).metadata == {"c": "3"}
    cinder.volumes.set_metadata(v, {"kubernetes.io/created-for/pv/name": "pv1"})  # "/" is allowed in keys
    assert cinder.volumes.get(v.id).metadata["kubernetes.io/created-for/pv/name"] == "pv1"
    cinder30.volumes.update_all_metadata(v, {"c": "3"})
    with pytest.raises(cex.NotFound) as exc:
        cinder30.volumes.delete_metadata(v, ["zz"])  # before 3.15: one DELETE per key
    assert exc.value.message == f"Volume {v.id} has no metadata with key zz."
    stale = raw(ecsim_server).put(f"/volumes/{v.id}/metadata", json={"metadata": {"d": "4"}}, raise_exc=False,
                                  headers={"OpenStack-API-Version": "volume 3.15", "If-Match": "0" * 32})
    assert stale.status_code == 412
    assert cinder.volumes.get(v.id).metadata == {"c": "3"}


def test_metadata_item_apis(ecsim_server, cinder, unique):
    api = raw(ecsim_server)
    vid = new(cinder, unique).id
    r = api.put(f"/volumes/{vid}/metadata/k", json={"meta": {"k": "v"}})
    assert r.status_code == 200 and r.json() == {"meta": {"k": "v"}}
    assert api.get(f"/volumes/{vid}/metadata/k").json() == {"meta": {"k": "v"}}
    r = api.put(f"/volumes/{vid}/metadata/k", json={"meta": {"other": "v"}}, raise_exc=False)
    assert r.status_code == 400 and r.json()["badRequest"]["message"] == "Request body and URI mismatch"
    assert api.delete(f"/volumes/{vid}/metadata/k").status_code == 200
    assert api.get(f"/volumes/{vid}/metadata", raise_exc=False).json() == {"metadata": {}}


def test_list_filters_sorting_and_paging(cinder, unique):
    made = [new(cinder, unique, name=f"{unique}-{i}", metadata={"set": unique, "i": str(i)}) for i in range(3)]
    cinder.volumes.set_bootable(made[1], True)
    opts = {"metadata": {"set": unique}}
    assert {v.id for v in cinder.volumes.list(search_opts=opts)} == {v.id for v in made}
    assert [v.id for v in cinder.volumes.list(search_opts={**opts, "bootable": True})] == [made[1].id]
    assert [v.id for v in cinder.volumes.list(search_opts={"name": f"{unique}-2"})] == [made[2].id]
    assert cinder.volumes.list(search_opts={"name": f"{unique}-nope"}) == []
    assert cinder.volumes.list(search_opts={**opts, "status": "error"}) == []
    names = [v.name for v in cinder.volumes.list(search_opts=opts, sort="name:asc")]
    assert names == [f"{unique}-0", f"{unique}-1", f"{unique}-2"]
    newest = cinder.volumes.list(search_opts=opts, limit=1)
    assert [v.id for v in newest] == [made[2].id]
    rest = cinder.volumes.list(search_opts=opts, marker=newest[0].id, limit=5)
    assert [v.id for v in rest] == [made[1].id, made[0].id]
    gone = str(uuid.uuid4())
    with pytest.raises(cex.NotFound) as exc:  # Cinder loads the marker as a volume
        cinder.volumes.list(search_opts=opts, marker=gone)
    assert exc.value.message == f"Volume {gone} could not be found."
    summary = cinder.volumes.list(detailed=False, search_opts=opts)
    assert set(summary[0].to_dict()) == {"id", "name", "links"}


def test_sorts_and_filters_without_an_index(ecsim_server, cinder, unique):
    """Any volume attribute sorts (several keys too, `cinder list --sort az:asc,size:desc`); size and time filters;
    a non-admin's unknown filter is 400 from 3.34."""
    zones = [f"{ecsim_server.info['region']}{s}" for s in "ab"]
    made = [new(cinder, unique, size=size, availability_zone=zones[i % 2], metadata={"srt": unique})
            for i, size in enumerate((3, 1, 2))]
    opts = {"metadata": {"srt": unique}}
    got = cinder.volumes.list(search_opts=opts, sort="availability_zone:asc,size:desc")
    assert [(v.availability_zone, v.size) for v in got] == [(zones[0], 3), (zones[0], 2), (zones[1], 1)]
    assert [v.size for v in cinder.volumes.list(search_opts=opts, sort="bootable,size:asc")] == [1, 2, 3]
    assert [v.id for v in cinder.volumes.list(search_opts={**opts, "size": 2})] == [made[2].id]
    later = made[1].created_at  # microsecond-precise: gt excludes it and what came before
    assert {v.id for v in cinder.volumes.list(search_opts={**opts, "created_at": f"gt:{later}"})} == {made[2].id}
    assert raw(ecsim_server).get("/volumes?sort=nonsense:asc", raise_exc=False).status_code == 400
    user = make_user(ecsim_server, f"flt-{unique}", system=["EVS FullAccess"])
    theirs = ecsim_server.cinder("3.71", user["name"], user["password"])
    with pytest.raises(cex.BadRequest) as exc:
        theirs.volumes.list(search_opts={"foo": "bar"})
    assert "Invalid filters foo are found in query options." in exc.value.message
    assert ecsim_server.cinder("3.0", user["name"], user["password"]).volumes.list(search_opts={"foo": "bar"}) \
        is not None  # below 3.34 unknown filters are ignored


def test_next_link_and_count(ecsim_server, cinder, unique):
    for i in range(3):
        new(cinder, unique, name=f"page-{unique}-{i}")
    api = raw(ecsim_server)
    r = api.get(f"/volumes/detail?name~=page-{unique}&limit=2&with_count=true",
                headers={"OpenStack-API-Version": "volume 3.45"}).json()
    assert r["count"] == 3 and len(r["volumes"]) == 2
    nxt = r["volumes_links"][0]
    assert nxt["rel"] == "next" and f"marker={r['volumes'][1]['id']}" in nxt["href"]
    second = ecsim_server.http("GET", nxt["href"].removeprefix(ecsim_server.endpoint), token=ecsim_server.token(),
                               headers={"OpenStack-API-Version": "volume 3.45"})[2]
    assert len(second["volumes"]) == 1 and "volumes_links" not in second  # a partial page is the last


def test_detail_lists_follow_changes_after_their_views_are_cached(cinder, unique):
    """Detail pages come from views cached per row version (on PostgreSQL read without the documents first): a
    change or a delete after a list shows in the next one."""
    vols = [new(cinder, unique, name=f"lc-{unique}-{i}") for i in range(3)]

    def listed() -> dict:
        return {v.id: (v.name, v.status) for v in cinder.volumes.list(search_opts={"name~": f"lc-{unique}"})}

    assert listed() == {v.id: (v.name, "available") for v in vols}
    cinder.volumes.update(vols[0], name=f"lc-{unique}-renamed")
    cinder.volumes.reserve(vols[1])
    cinder.volumes.delete(vols[2])
    assert listed() == {vols[0].id: (f"lc-{unique}-renamed", "available"), vols[1].id: (vols[1].name, "attaching")}


def test_summary_at_3_12(cinder, unique):
    before = cinder.volumes.summary(all_tenants=False)["volume-summary"]
    new(cinder, unique, size=3)
    after = cinder.volumes.summary(all_tenants=False)["volume-summary"]
    assert after["total_count"] == before["total_count"] + 1
    assert after["total_size"] == before["total_size"] + 3


# -- actions (seed 003) -----------------------------------------------------------------------------------------------
def test_extend(cinder, cinder30, unique):
    v = new(cinder, unique)
    cinder.volumes.extend(v, 3)
    assert cinder.volumes.get(v.id).size == 3
    with pytest.raises(cex.BadRequest) as exc:
        cinder.volumes.extend(v, 2)
    assert exc.value.message == ("Invalid input received: New size for extend must be greater than current size. "
                                 "(current: 3, extended: 2).")
    cinder.volumes.attach(v, str(uuid.uuid4()), "/dev/vdb")
    with pytest.raises(cex.BadRequest) as exc:  # in-use needs 3.42
        cinder30.volumes.extend(v, 4)
    assert exc.value.message == (f"Invalid volume: Volume {v.id} status must be '{{'status': 'available'}}' to "
                                 "extend, currently in-use.")
    cinder.volumes.extend(v, 4)
    got = cinder.volumes.get(v.id)
    assert (got.size, got.status) == (4, "in-use")
    with pytest.raises(cex.OverLimit) as exc:  # per_volume_gigabytes: Cinder's VolumeSizeExceedsLimit
        cinder.volumes.extend(v, 40000)
    assert exc.value.message == "Requested volume size 40000G is larger than maximum allowed limit 32768G."
    with pytest.raises(cex.OverLimit):
        cinder.volumes.create(size=99999999)


def test_shared_volumes_grow_only_while_available(ecsim_server, cinder, unique):
    """The same rule as EVS's (EVS.1065): one backend, whichever API asks."""
    shared = ecsim_server.openstack().block_storage.create_volume(size=1, name=f"shx-{unique}", is_multiattach=True)
    cinder.volumes.extend(shared.id, 2)
    cinder.volumes.attach(shared.id, str(uuid.uuid4()), "/dev/vdb")
    with pytest.raises(cex.BadRequest) as exc:
        cinder.volumes.extend(shared.id, 3)
    assert exc.value.message == (f"Invalid volume: Shared volume {shared.id} must be available to extend, currently "
                                 "in-use.")
    assert cinder.volumes.get(shared.id).size == 2


def test_reserve_unreserve(cinder, unique):
    v = new(cinder, unique)
    cinder.volumes.reserve(v)
    assert cinder.volumes.get(v.id).status == "attaching"
    with pytest.raises(cex.BadRequest) as exc:
        cinder.volumes.reserve(v)
    assert exc.value.message == ("Invalid volume: Volume status must be available to reserve, but the status is "
                                 "attaching.")
    cinder.volumes.unreserve(v)
    assert cinder.volumes.get(v.id).status == "available"
    cinder.volumes.unreserve(v)  # not attaching: a silent no-op
    assert cinder.volumes.get(v.id).status == "available"


def test_attach_detach_and_multiattach(ecsim_server, cinder, unique):
    server_a, server_b = str(uuid.uuid4()), str(uuid.uuid4())
    v = new(cinder, unique)
    cinder.volumes.attach(v, server_a, "/dev/vdb")
    got = cinder.volumes.get(v.id)
    assert got.status == "in-use" and got.metadata == {"readonly": "False", "attached_mode": "rw"}
    [att] = got.attachments
    assert (att["server_id"], att["device"], att["id"], att["volume_id"]) == (server_a, "/dev/vdb", v.id, v.id)
    cinder.volumes.attach(v, server_a, "/dev/vdb")  # same instance: idempotent
    with pytest.raises(cex.BadRequest) as exc:
        cinder.volumes.attach(v, server_b, "/dev/vdc")
    assert "volume is already attached and multiple attachments are not enabled" in exc.value.message
    with pytest.raises(cex.BadRequest):
        cinder.volumes.delete(v)
    cinder.volumes.detach(v)
    got = cinder.volumes.get(v.id)
    assert (got.status, got.attachments, got.metadata) == ("available", [], {"readonly": "False"})

    shared = ecsim_server.openstack().block_storage.create_volume(size=1, name=f"sh-{unique}", is_multiattach=True)
    cinder.volumes.attach(shared.id, server_a, "/dev/vdb")
    cinder.volumes.attach(shared.id, server_b, "/dev/vdb")
    atts = cinder.volumes.get(shared.id).attachments
    assert {a["server_id"] for a in atts} == {server_a, server_b}
    with pytest.raises(cex.BadRequest) as exc:
        cinder.volumes.detach(shared.id)
    assert "More than one attachment, but no attachment_id provided" in exc.value.message
    cinder.volumes.detach(shared.id, atts[0]["attachment_id"])
    left = cinder.volumes.get(shared.id)
    assert left.status == "in-use" and [a["server_id"] for a in left.attachments] == [atts[1]["server_id"]]


def test_readonly_and_bootable(cinder, unique):
    v = new(cinder, unique)
    cinder.volumes.update_readonly_flag(v, True)
    assert cinder.volumes.get(v.id).metadata == {"readonly": "True"}
    with pytest.raises(cex.BadRequest) as exc:
        cinder.volumes.attach(v, str(uuid.uuid4()), "/dev/vdb", mode="rw")
    assert exc.value.message == f"Invalid attaching mode 'rw' for volume {v.id}."
    cinder.volumes.attach(v, str(uuid.uuid4()), "/dev/vdb", mode="ro")
    with pytest.raises(cex.BadRequest) as exc:
        cinder.volumes.update_readonly_flag(v, False)
    assert exc.value.message.endswith("status must be available to update readonly flag, but current status is: "
                                      "in-use.")
    resp, _ = cinder.volumes.set_bootable(v, True)
    assert resp.status_code == 200  # set_bootable answers 200, every other action 202
    assert cinder.volumes.get(v.id).bootable == "true"


def test_create_from_an_image_named_or_by_id(ecsim_server, cinder, unique):
    """cinderclient's `create --image` sends a name or an id; Cinder resolves either (_image_uuid_from_ref)."""
    by_name = cinder.volumes.create(size=40, name=f"img-{unique}", imageRef="Ubuntu 22.04 server 64bit")
    assert by_name.volume_image_metadata["image_id"] == ecsim_server.info["image_id"]
    assert cinder.volumes.get(by_name.id).bootable == "true"
    for ref in ("No such image", str(uuid.uuid4())):
        with pytest.raises(cex.BadRequest) as exc:
            cinder.volumes.create(size=40, imageRef=ref)
        assert exc.value.message == "Invalid image identifier or unable to access requested image."


def test_upload_image_makes_a_usable_private_image(ecsim_server, cinder, unique):
    v = new(cinder, unique, size=45)
    resp, body = cinder.volumes.upload_to_image(v, False, f"img-{unique}", "bare", "raw", "private", False)
    assert resp.status_code == 202
    up = body["os-volume_upload_image"]
    assert (up["status"], up["image_name"], up["visibility"], up["volume_type"]["name"]) == (
        "uploading", f"img-{unique}", "private", "SATA")
    images = ecsim_server.ims().list_images(ListImagesRequest(name=f"img-{unique}")).images
    assert [(i.id, i.status, i.imagetype, i.min_disk) for i in images] == [(up["image_id"], "active", "private", 45)]
    ecs = ecsim_server.ecs()
    _, ids = create(ecs, ecsim_server.info, f"from-img-{unique}", image_ref=up["image_id"],
                    root_volume=PostPaidServerRootVolume(volumetype="SSD", size=50))
    assert ecs.show_server(ShowServerRequest(server_id=ids[0])).server.image.id == up["image_id"]
    with pytest.raises(Exception) as exc:  # another project's images are not visible
        other = ecsim_server.ims(project_id="0" * 32)
        other.list_images(ListImagesRequest(name=f"img-{unique}"))
    assert getattr(exc.value, "status_code", None) in (400, 403)


# -- types, zones, quotas, extensions ----------------------------------------------------------------------------------
def test_types_zones_extensions(ecsim_server, cinder):
    names = {t.name for t in cinder.volume_types.list()}
    assert {"SATA", "SAS", "SSD", "GPSSD", "ESSD"} <= names
    ssd = cinder.volume_types.find(name="SSD")
    assert cinder.volume_types.get(ssd.id).name == "SSD"
    assert cinder.volume_types.default().name == "SATA"  # GET /types/default
    zones = [z.zoneName for z in cinder.availability_zones.list()]
    assert zones == [f"{ecsim_server.info['region']}{s}" for s in "abc"]
    aliases = {e["alias"] for e in raw(ecsim_server).get("/extensions").json()["extensions"]}
    assert "os-volume-actions" in aliases


def test_quotas_count_what_exists(ecsim_server, cinder, unique):
    pid = ecsim_server.info["project_id"]
    before = cinder.quotas.get(pid, usage=True)
    new(cinder, unique, size=7)
    after = cinder.quotas.get(pid, usage=True)
    assert after.volumes["in_use"] == before.volumes["in_use"] + 1
    assert after.gigabytes["in_use"] == before.gigabytes["in_use"] + 7
    assert after.volumes["limit"] == 2000
    assert cinder.quotas.defaults(pid).volumes == 2000
    assert after.groups == {"limit": 10, "in_use": 0, "reserved": 0, "allocated": 0}  # every Cinder set has it
    absolute = {x.name: x.value for x in cinder.limits.get().absolute}  # `cinder absolute-limits`
    assert absolute["maxTotalVolumes"] == 2000 and absolute["totalVolumesUsed"] == after.volumes["in_use"]
    assert absolute["totalGigabytesUsed"] == after.gigabytes["in_use"] and absolute["totalSnapshotsUsed"] == 0


def test_quota_refuses_with_413(ecsim_launcher):
    server = ecsim_launcher(["--memory", "--quota", "volumes=2", "--quota", "gigabytes=10"])
    cinder = server.cinder("3.0")
    cinder.volumes.create(4)
    with pytest.raises(cex.OverLimit) as exc:
        cinder.volumes.create(7)
    assert exc.value.message == ("Requested volume or snapshot exceeds allowed gigabytes quota. Requested 7G, quota "
                                 "is 10G and 4G has been consumed.")
    cinder.volumes.create(1)
    with pytest.raises(cex.OverLimit) as exc:
        cinder.volumes.create(1)
    assert exc.value.message == "Maximum number of volumes allowed (2) exceeded for quota 'volumes'."
    assert len(cinder.volumes.list()) == 2
    with pytest.raises(cex.OverLimit):  # extending counts too
        cinder.volumes.extend(cinder.volumes.list()[0], 9)
    with pytest.raises(ClientRequestException) as exc:  # so do the disks a server is created with
        create(server.ecs(), server.info, "no-room")
    assert (exc.value.status_code, exc.value.error_code) == (400, "Ecs.0001")
    assert "exceeded for quota 'volumes'" in exc.value.error_msg


# -- openstacksdk (clouds.yaml-style: auth URL, user, password, project, region) ---------------------------------------
def test_openstacksdk_block_storage_v3_and_v2(ecsim_server, unique):
    conn = ecsim_server.openstack()
    vol = conn.block_storage.create_volume(size=2, name=f"sdk-{unique}")
    vol = conn.block_storage.wait_for_status(vol, "available", wait=10, interval=0.05)
    conn.block_storage.extend_volume(vol, 5)
    assert conn.block_storage.get_volume(vol.id).size == 5
    assert f"sdk-{unique}" in [v.name for v in conn.block_storage.volumes(name=f"sdk-{unique}")]
    v2 = ecsim_server.openstack(block_storage_api_version="2").block_storage
    assert v2.get_volume(vol.id).size == 5  # one state behind both versions
    v2.set_volume_bootable_status(vol.id, True)
    assert conn.block_storage.get_volume(vol.id).is_bootable
    conn.block_storage.delete_volume(vol)
    conn.block_storage.wait_for_delete(vol, wait=10, interval=0.05)


# -- the openstack CLI (python-openstackclient), configured by OS_* variables only -------------------------------------
def test_openstack_volume_cli(ecsim_launcher, unique):
    ecsim_server = ecsim_launcher(["--memory"])  # the CLI costs a second per call: one store is enough
    auth = ecsim_server.auth_options()
    env = {**os.environ, "OS_AUTH_URL": auth["auth_url"], "OS_USERNAME": auth["username"],
           "OS_PASSWORD": auth["password"], "OS_PROJECT_NAME": auth["project_name"],
           "OS_USER_DOMAIN_NAME": auth["user_domain_name"], "OS_PROJECT_DOMAIN_NAME": auth["project_domain_name"],
           "OS_REGION_NAME": ecsim_server.info["region"], "OS_IDENTITY_API_VERSION": "3", "OS_INTERFACE": "public"}
    cli = str(Path(sys.executable).with_name("openstack"))

    def openstack(*args: str) -> Any:
        out = subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout) if "json" in args else out.stdout

    created = openstack("volume", "create", "--size", "1", "--property", "team=cli", f"cli-{unique}", "-f", "json")
    assert (created["size"], created["name"]) == (1, f"cli-{unique}")
    openstack("volume", "set", "--size", "3", "--bootable", created["id"])
    shown = openstack("volume", "show", created["id"], "-f", "json")
    assert (shown["size"], shown["bootable"], shown["status"]) == (3, True, "available")
    listed = openstack("volume", "list", "--name", f"cli-{unique}", "-f", "json")
    assert [v["ID"] for v in listed] == [created["id"]]
    openstack("volume", "delete", created["id"])
    assert openstack("volume", "list", "--name", f"cli-{unique}", "-f", "json") == []
