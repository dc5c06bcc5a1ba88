"""Nova v2.1 / v2 servers through openstacksdk, python-novaclient and the `openstack` CLI: discovery and
microversions, create / list / show / update / delete, the actions with Nova's state rules, locks, flavors and
limits — on the same servers the Huawei ECS API shows."""

from __future__ import annotations

import json

import pytest
from huaweicloudsdkecs.v2 import (
    DeleteServersRequest,
    DeleteServersRequestBody,
    MigrateServerRequest,
    MigrateServerRequestBody,
    ServerId,
    ShowServerRequest,
)
from novaclient import exceptions as nova_exc

from helpers import err, make_user, openstack_cli, stop


def delete_servers(ecs, ids: list[str]):
    return ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=[ServerId(id=i)
                                                                                         for i in ids])))

OTHER_IMAGE = "95df4f75-bd05-5aa6-9d36-bdf8cb33977f"  # Ubuntu 20.04 (the default image is 22.04)
OTHER_FLAVOR = "s6.medium.2"


def compute(server) -> str:
    return f"/compute/v2.1/{server.info['project_id']}"


def boot(conn, info, name: str, **kw):
    s = conn.compute.create_server(name=name, flavor_id=info["flavor_id"], image_id=info["image_id"],
                                   networks="auto", **kw)
    return conn.compute.get_server(s.id)


def raw(server, method: str, path: str, body=None, version: str | None = "2.79", token: str | None = None,
        prefix: str | None = None):
    headers = {"X-OpenStack-Nova-API-Version": version} if version else {}
    data = body if isinstance(body, bytes) else (None if body is None else json.dumps(body).encode())
    return server.http(method, (compute(server) if prefix is None else prefix) + path, raw=data, headers=headers,
                       token=token or server.token())


def test_discovery_and_microversion_echo(ecsim_server):
    status, headers, body = ecsim_server.http("GET", "/compute/")
    assert status == 200 and [v["id"] for v in body["versions"]] == ["v2.0", "v2.1"]
    assert body["versions"][1]["version"] == "2.79" and body["versions"][1]["min_version"] == "2.1"
    status, _, body = ecsim_server.http("GET", f"/compute/v2.1/{ecsim_server.info['project_id']}")
    assert status == 200 and body["version"]["links"][0]["href"].endswith("/compute/v2.1/")
    status, headers, body = raw(ecsim_server, "GET", "/flavors", version="2.61")
    assert status == 200 and headers["x-openstack-nova-api-version"] == "2.61"
    assert headers["openstack-api-version"] == "compute 2.61" and "X-OpenStack-Nova-API-Version" in headers["vary"]
    status, headers, body = raw(ecsim_server, "GET", "/flavors", version="2.200")
    assert status == 406 and "computeFault" in body
    status, headers, body = raw(ecsim_server, "GET", "/servers/nope", version="2.5")
    assert status == 404 and headers["x-openstack-nova-api-version"] == "2.5"  # errors echo the version too
    assert body["itemNotFound"]["message"] == "Instance nope could not be found."
    status, headers, _ = raw(ecsim_server, "GET", "/flavors", version=None)
    assert status == 200 and headers["x-openstack-nova-api-version"] == "2.1"
    status, headers, _ = raw(ecsim_server, "GET", "/flavors", prefix=f"/compute/v2/{ecsim_server.info['project_id']}")
    assert status == 200 and "x-openstack-nova-api-version" not in headers  # the legacy v2 API has none


def test_fields_follow_the_microversion(ecsim_server, unique):
    conn = ecsim_server.openstack()
    s = boot(conn, ecsim_server.info, f"mv-{unique}")
    for version, present, absent in (
        ("2.1", {"OS-EXT-STS:vm_state", "image"}, {"locked", "description", "tags", "locked_reason"}),
        ("2.9", {"locked"}, {"description"}),
        ("2.26", {"locked", "description", "tags"}, {"locked_reason", "trusted_image_certificates"}),
        ("2.79", {"locked_reason", "server_groups", "host_status"}, set()),
    ):
        _, _, body = raw(ecsim_server, "GET", f"/servers/{s.id}", version=version)
        keys = set(body["server"])
        assert present <= keys and not absent & keys, version
    _, _, body = raw(ecsim_server, "GET", f"/servers/{s.id}", version="2.46")
    assert set(body["server"]["flavor"]) == {"id", "links"}
    _, _, body = raw(ecsim_server, "GET", f"/servers/{s.id}", version="2.47")
    assert body["server"]["flavor"]["original_name"] == ecsim_server.info["flavor_id"]
    assert body["server"]["accessIPv4"] == "" and body["server"]["metadata"] == {}


def test_create_list_show_update_delete_with_openstacksdk(ecsim_server, unique):
    conn, info = ecsim_server.openstack(), ecsim_server.info
    s = conn.compute.create_server(name=f"sdk-{unique}", flavor_id=info["flavor_id"], image_id=info["image_id"],
                                   networks="auto", metadata={"team": "a"})
    assert s.admin_password
    s = conn.compute.get_server(s.id)
    assert (s.status, s.metadata, s.flavor.original_name) == ("ACTIVE", {"team": "a"}, info["flavor_id"])
    assert list(s.addresses) == [info["vpc_id"]] and s.addresses[info["vpc_id"]][0]["version"] == 4
    # the same server through the Huawei API
    ecs_view = ecsim_server.ecs().show_server(ShowServerRequest(server_id=s.id)).server
    assert (ecs_view.name, ecs_view.status) == (f"sdk-{unique}", "ACTIVE")
    assert s.id in [x.id for x in conn.compute.servers(name=f"sdk-{unique}")]
    conn.compute.update_server(s, name=f"sdk2-{unique}")
    assert conn.compute.get_server(s.id).name == f"sdk2-{unique}"
    conn.compute.delete_server(s)
    assert conn.compute.find_server(s.id) is None


def test_create_with_security_group_and_group_hint(ecsim_server, unique):
    """Both a security group and a server-group hint (the two once shared a variable: 500)."""
    nova, info = ecsim_server.nova(), ecsim_server.info
    g = nova.server_groups.create(f"sg-{unique}", "anti-affinity")
    s = nova.servers.create(f"sg-{unique}", info["image_id"], info["flavor_id"], nics="auto",
                            security_groups=["default"], scheduler_hints={"group": g.id})
    assert [x["name"] for x in nova.servers.get(s.id).security_groups] == ["default"]
    assert nova.server_groups.get(g.id).members == [s.id]
    created = openstack_cli(ecsim_server, "server", "create", "--flavor", info["flavor_id"], "--image",
                            info["image_id"], "--nic", "auto", "--security-group", "default", f"sgcli-{unique}")
    assert created["name"] == f"sgcli-{unique}"


def test_sorted_lists(ecsim_server, unique):
    """sort_key / sort_dir: by name (and paged by marker in that order), by creation, by id; bad keys 400."""
    conn, nova = ecsim_server.openstack(), ecsim_server.nova()
    for name in ("b", "c", "a"):
        boot(conn, ecsim_server.info, f"srt-{unique}-{name}")
    names = [s.name for s in conn.compute.servers(name=f"srt-{unique}", sort_key="display_name", sort_dir="asc")]
    assert names == [f"srt-{unique}-{x}" for x in "abc"]
    page = nova.servers.list(search_opts={"name": f"srt-{unique}"}, sort_keys=["display_name"], sort_dirs=["desc"],
                             limit=2)
    assert [s.name for s in page] == [f"srt-{unique}-c", f"srt-{unique}-b"]
    rest = nova.servers.list(search_opts={"name": f"srt-{unique}"}, sort_keys=["display_name"], sort_dirs=["desc"],
                             marker=page[-1].id)
    assert [s.name for s in rest] == [f"srt-{unique}-a"]
    oldest = [s.name for s in conn.compute.servers(name=f"srt-{unique}", sort_key="created_at", sort_dir="asc")]
    assert oldest == [f"srt-{unique}-{x}" for x in "bca"]
    ids = [s.id for s in conn.compute.servers(name=f"srt-{unique}", sort_key="uuid", sort_dir="asc")]
    assert ids == sorted(ids)
    status, _, body = raw(ecsim_server, "GET", "/servers/detail?deleted=true")  # the admin's filter: deleted only
    assert status == 200 and {s["status"] for s in body["servers"]} <= {"DELETED"}
    for query, fragment in (("sort_key=bogus", "'bogus' is not one of"), ("sort_dir=up", "'up' is not one of"),
                            ("sort_key=launched_at", "ecsim sorts servers by")):
        status, _, fault = raw(ecsim_server, "GET", f"/servers?{query}")
        assert status == 400 and fragment in fault["badRequest"]["message"], query


def test_fixed_ip_with_novaclient(ecsim_server, unique):
    nova, info = ecsim_server.nova(), ecsim_server.info
    nics = [{"net-id": info["subnet_id"], "v4-fixed-ip": "192.168.202.7"}]
    s = nova.servers.get(nova.servers.create(f"nfix-{unique}", info["image_id"], info["flavor_id"], nics=nics))
    assert [a["addr"] for a in s.addresses[info["vpc_id"]]] == ["192.168.202.7"]
    with pytest.raises(nova_exc.BadRequest, match=r"192\.168\.202\.7 is already in use"):
        nova.servers.create(f"nfix2-{unique}", info["image_id"], info["flavor_id"], nics=nics)


def test_actions_and_state_rules_with_novaclient(ecsim_server, unique):
    nova = ecsim_server.nova()
    s = nova.servers.create(f"nc-{unique}", ecsim_server.info["image_id"], ecsim_server.info["flavor_id"],
                            nics="auto")
    nova.servers.stop(s)
    assert nova.servers.get(s.id).status == "SHUTOFF"
    with pytest.raises(nova_exc.Conflict) as exc:
        nova.servers.stop(s)
    assert str(exc.value).startswith(f"Cannot 'stop' instance {s.id} while it is in vm_state stopped")
    # resize of a stopped server: VERIFY_RESIZE with the new flavor, confirmed back to SHUTOFF
    nova.servers.resize(s, OTHER_FLAVOR)
    got = nova.servers.get(s.id)
    assert got.status == "VERIFY_RESIZE" and got.flavor["original_name"] == OTHER_FLAVOR
    nova.servers.confirm_resize(s)
    assert nova.servers.get(s.id).status == "SHUTOFF"
    with pytest.raises(nova_exc.Conflict):
        nova.servers.confirm_resize(s)
    nova.servers.start(s)
    nova.servers.resize(s, ecsim_server.info["flavor_id"])
    nova.servers.revert_resize(s)
    got = nova.servers.get(s.id)
    assert got.status == "ACTIVE" and got.flavor["original_name"] == OTHER_FLAVOR
    with pytest.raises(nova_exc.BadRequest):
        nova.servers.resize(s, OTHER_FLAVOR)  # the same flavor
    nova.servers.reboot(s, reboot_type="HARD")
    assert nova.servers.get(s.id).status == "ACTIVE"
    # rebuild: 202 with the server and adminPass, new image and name recorded at once
    rebuilt = nova.servers.rebuild(s, OTHER_IMAGE, name=f"nc-rb-{unique}", password="Rebuild!Passw0rd")
    assert rebuilt.adminPass == "Rebuild!Passw0rd" and rebuilt.image["id"] == OTHER_IMAGE
    assert nova.servers.get(s.id).name == f"nc-rb-{unique}"
    with pytest.raises(nova_exc.Forbidden) as exc:  # the metadata limit holds for rebuild as for create
        nova.servers.rebuild(s, OTHER_IMAGE, meta={str(i): "v" for i in range(11)})
    assert "metadata_items" in str(exc.value) and nova.servers.get(s.id).metadata == {}
    nova.servers.delete(s)
    with pytest.raises(nova_exc.NotFound):
        nova.servers.get(s.id)


def test_lock_binds_non_admins_only(ecsim_server, unique):
    user = make_user(ecsim_server, f"lk-{unique}", system=["ECS FullAccess"])
    nova_user = ecsim_server.nova(user=user["name"], password=user["password"])
    nova_admin = ecsim_server.nova()
    s = nova_user.servers.create(f"lk-{unique}", ecsim_server.info["image_id"], ecsim_server.info["flavor_id"],
                                 nics="auto")
    nova_user.servers.lock(s, reason="maintenance")
    got = nova_user.servers.get(s.id)
    assert (got.locked, got.locked_reason) == (True, "maintenance")
    with pytest.raises(nova_exc.Conflict) as exc:
        nova_user.servers.stop(s)
    assert f"Instance {s.id} is locked" in str(exc.value)
    with pytest.raises(nova_exc.Conflict):
        nova_user.servers.delete(s)
    ecs_user = ecsim_server.ecs(user["ak"], user["sk"])  # the lock binds the Huawei API too: 400 Ecs.0605
    for call in (lambda: stop(ecs_user, [s.id]), lambda: delete_servers(ecs_user, [s.id]),
                 lambda: ecs_user.migrate_server(MigrateServerRequest(server_id=s.id,
                                                                      body=MigrateServerRequestBody()))):
        e = err(call)
        assert (e.status_code, e.error_code) == (400, "Ecs.0605") and e.error_msg.startswith("ECS locked.")
    assert nova_user.servers.get(s.id).status == "ACTIVE"
    nova_admin.servers.stop(s)  # admins bypass the lock
    assert nova_user.servers.get(s.id).status == "SHUTOFF"
    nova_user.servers.unlock(s)
    nova_user.servers.unlock(s)  # unlocking an unlocked server is fine
    nova_user.servers.delete(s)


def test_denials_are_novas_403_naming_the_action(ecsim_server, unique):
    user = make_user(ecsim_server, f"dn-{unique}", allow=["ecs:servers:get", "ecs:servers:list"])
    s = boot(ecsim_server.openstack(), ecsim_server.info, f"dn-{unique}")
    nova = ecsim_server.nova(user=user["name"], password=user["password"])
    with pytest.raises(nova_exc.Forbidden) as exc:
        nova.servers.stop(s.id)
    assert "Policy doesn't allow ecs:servers:stop to be performed." in str(exc.value)
    assert nova.servers.get(s.id).status == "ACTIVE"


def test_flavors_and_limits(ecsim_server, unique):
    conn = ecsim_server.openstack()
    boot(conn, ecsim_server.info, f"lim-{unique}")
    flavors = {f.id: f for f in conn.compute.flavors()}
    assert ecsim_server.info["flavor_id"] in flavors and flavors[OTHER_FLAVOR].vcpus == 1
    f = conn.compute.get_flavor(OTHER_FLAVOR)
    assert (f.ram, f.disk, f.is_public) == (2048, 0, True)
    status, _, body = raw(ecsim_server, "GET", "/flavors/detail", version="2.1")
    assert status == 200 and body["flavors"][0]["swap"] == ""
    status, _, body = raw(ecsim_server, "GET", "/flavors/nope")
    assert status == 404 and "itemNotFound" in body
    limits = conn.compute.get_limits()
    assert limits.absolute.instances == 1000 and limits.absolute.instances_used >= 1
    pid = ecsim_server.info["project_id"]
    detail = ecsim_server.nova().quotas.get(pid, detail=True)
    assert detail.instances == {"limit": 1000, "in_use": limits.absolute.instances_used, "reserved": 0}
    assert detail.key_pairs["limit"] == 100
    # the CLI's views of both: compute and volume limits, quotas with their usage
    absolute = {r["Name"]: r["Value"] for r in openstack_cli(ecsim_server, "limits", "show", "--absolute")}
    assert (absolute["max_total_instances"], absolute["max_total_volumes"]) == (1000, 2000)
    assert absolute["total_instances_used"] == limits.absolute.instances_used
    usage = {r["Resource"]: r for r in openstack_cli(ecsim_server, "quota", "show", "--usage")}
    assert (usage["instances"]["Limit"], usage["volumes"]["Limit"]) == (1000, 2000)
    assert usage["instances"]["In Use"] == limits.absolute.instances_used


def test_availability_zones(ecsim_server, unique):
    """Everyone lists the zones (hosts null); the detail with hosts is Nova's admin-only view."""
    region = ecsim_server.info["region"]
    zones = list(ecsim_server.openstack().compute.availability_zones())
    assert [z.name for z in zones][:2] == [f"{region}a", f"{region}b"] and zones[0].state == {"available": True}
    detail = {z.zoneName: z for z in ecsim_server.nova().availability_zones.list(detailed=True)}
    assert f"pod01.{region}a" in detail[f"{region}a"].hosts
    cli = openstack_cli(ecsim_server, "availability", "zone", "list", "--compute")
    assert [r["Zone Name"] for r in cli] == [f"{region}{s}" for s in "abc"]
    u = make_user(ecsim_server, f"az-{unique}", allow=["ecs:availabilityZones:list"])
    token = ecsim_server.token(u["name"], u["password"])
    status, _, body = raw(ecsim_server, "GET", "/os-availability-zone", token=token)
    assert status == 200 and body["availabilityZoneInfo"][0]["hosts"] is None
    status, _, body = raw(ecsim_server, "GET", "/os-availability-zone/detail", token=token)
    assert status == 403 and "os-availability-zone:detail" in body["forbidden"]["message"]
    nobody = make_user(ecsim_server, f"az0-{unique}", allow=["ecs:cloudServers:list"])
    status, _, body = raw(ecsim_server, "GET", "/os-availability-zone",
                          token=ecsim_server.token(nobody["name"], nobody["password"]))
    assert status == 403 and "ecs:availabilityZones:list" in body["forbidden"]["message"]


@pytest.mark.parametrize(("body", "status"), [
    (b"{", 400), ({"server": {"name": "x"}}, 400), ({"server": {"name": "", "flavorRef": "s6.small.1",
                                                                "imageRef": "x", "networks": "auto"}}, 400),
    ({"server": {"name": 5, "flavorRef": "s6.small.1", "imageRef": "x", "networks": "auto"}}, 400),
    ({"server": {"name": "x", "flavorRef": "nope", "imageRef": OTHER_IMAGE, "networks": "auto"}}, 400),
    ({"server": {"name": "x", "flavorRef": "s6.small.1", "imageRef": "nope", "networks": "auto"}}, 400),
    ({"server": {"name": "x", "flavorRef": "s6.small.1", "imageRef": OTHER_IMAGE}}, 400),  # networks from 2.37
    ({"server": {"name": "x", "flavorRef": "s6.small.1", "imageRef": OTHER_IMAGE, "networks": "auto",
                 "bogus": 1}}, 400),
    ({"server": {"name": "x", "flavorRef": "s6.small.1", "imageRef": OTHER_IMAGE,
                 "networks": [{"uuid": "0b7c3f0e-0000-4000-8000-000000000000"}]}}, 400),
])
def test_create_bad_input(ecsim_server, body, status):
    before = len(list(ecsim_server.openstack().compute.servers()))
    got, _, fault = raw(ecsim_server, "POST", "/servers", body)
    assert got == status and "badRequest" in fault
    assert len(list(ecsim_server.openstack().compute.servers())) == before


def test_request_fields_follow_the_microversion(ecsim_server, unique):
    """A field newer than the request's microversion is an unknown property there (400, nothing created)."""
    info = ecsim_server.info
    base = {"name": f"mvf-{unique}", "flavorRef": info["flavor_id"], "imageRef": info["image_id"], "networks": "auto"}
    for extra, too_old, new_enough in (({"description": "d"}, "2.18", "2.19"), ({"tags": ["t"]}, "2.51", "2.52")):
        got, _, fault = raw(ecsim_server, "POST", "/servers", {"server": {**base, **extra}}, version=too_old)
        key = next(iter(extra))
        assert got == 400 and f"'{key}' was unexpected" in fault["badRequest"]["message"]
        got, _, body = raw(ecsim_server, "POST", "/servers", {"server": {**base, **extra}}, version=new_enough)
        assert got == 202
    sid = body["server"]["id"]
    got, _, fault = raw(ecsim_server, "PUT", f"/servers/{sid}", {"server": {"description": "x"}}, version="2.1")
    assert got == 400 and "'description' was unexpected" in fault["badRequest"]["message"]
    rebuild = {"rebuild": {"imageRef": info["image_id"], "key_name": None}}
    got, _, fault = raw(ecsim_server, "POST", f"/servers/{sid}/action", rebuild, version="2.53")
    assert got == 400 and "'key_name' was unexpected" in fault["badRequest"]["message"]
    assert len(list(ecsim_server.openstack().compute.servers(name=f"mvf-{unique}"))) == 2
    # rebuild's 2.75 view: the show's fields, but user_data only at the top (Tempest's v2_75 schema)
    got, _, body = raw(ecsim_server, "POST", f"/servers/{sid}/action", {"rebuild": {"imageRef": info["image_id"]}},
                       version="2.75")
    assert got == 202 and "user_data" in body["server"] and "OS-EXT-SRV-ATTR:user_data" not in body["server"]
    assert "OS-EXT-SRV-ATTR:hostname" in body["server"]


def test_legacy_v2_drops_unknown_members(ecsim_server, unique):
    """Nova's /v2 runs the 2.1 schemas "relaxed": members they do not know are dropped (fields of later
    microversions too), where /v2.1 answers 400."""
    info = ecsim_server.info
    v2 = f"/compute/v2/{info['project_id']}"
    s = boot(ecsim_server.openstack(), info, f"v2r-{unique}")
    body = {"reboot": {"type": "HARD", "extra": 1}}
    assert raw(ecsim_server, "POST", f"/servers/{s.id}/action", body)[0] == 400
    assert raw(ecsim_server, "POST", f"/servers/{s.id}/action", body, version=None, prefix=v2)[0] == 202
    rebuild = {"rebuild": {"imageRef": info["image_id"], "description": "later", "foo": "bar"}}
    assert raw(ecsim_server, "POST", f"/servers/{s.id}/action", rebuild, version="2.1")[0] == 400
    status, _, out = raw(ecsim_server, "POST", f"/servers/{s.id}/action", rebuild, version=None, prefix=v2)
    assert status == 202 and "description" not in out["server"]
    created = {"server": {"name": f"v2c-{unique}", "imageRef": info["image_id"], "flavorRef": info["flavor_id"],
                          "networks": "auto", "description": "dropped", "unknown": {"x": 1}}}
    status, _, out = raw(ecsim_server, "POST", "/servers", created, version=None, prefix=v2)
    assert status == 202
    assert ecsim_server.openstack().compute.get_server(out["server"]["id"]).description is None
    group = {"server_group": {"name": f"v2g-{unique}", "policies": ["affinity"], "foo": 1}}
    assert raw(ecsim_server, "POST", "/os-server-groups", group, version=None, prefix=v2)[0] == 200
    assert raw(ecsim_server, "POST", "/os-server-groups", group, version="2.1")[0] == 400


def test_changes_since_and_before_filter_before_the_page_is_cut(ecsim_server, unique):
    """changes-since (and from 2.66 changes-before) select by the last change, and a page of `limit` holds that
    many matches (Nova filters in its query), whatever the list order."""
    conn, info = ecsim_server.openstack(), ecsim_server.info
    oldest, *_ = [boot(conn, info, f"cs-{unique}-{i}") for i in range(3)]
    assert ecsim_server.http("POST", "/_ecsim/clock", {"advance": 5})[0] == 200
    mark = ecsim_server.http("GET", "/_ecsim/clock")[2]["now"]
    conn.compute.stop_server(oldest)
    query = f"?name=cs-{unique}&limit=2&changes-since={mark}"
    _, _, page = raw(ecsim_server, "GET", "/servers" + query)
    assert [s["id"] for s in page["servers"]] == [oldest.id]
    assert [s.id for s in conn.compute.servers(name=f"cs-{unique}", changes_since=mark, limit=1)] == [oldest.id]
    _, _, page = raw(ecsim_server, "GET", f"/servers/detail?name=cs-{unique}&changes-before={mark}", version="2.66")
    assert len(page["servers"]) == 2 and oldest.id not in {s["id"] for s in page["servers"]}
    status, _, _ = raw(ecsim_server, "GET", f"/servers?changes-since={mark}&changes-before=2020-01-01T00:00:00Z",
                       version="2.66")
    assert status == 400


def test_changes_since_shows_deleted_servers(ecsim_server, unique):
    """A time window lists the servers deleted in it too (status DELETED), as Nova does until its database is
    archived; a plain list and a show do not; admins can ask for deleted ones alone."""
    user = make_user(ecsim_server, f"del-{unique}", system=["ECS FullAccess"])
    nova_user, nova_admin = ecsim_server.nova(user=user["name"], password=user["password"]), ecsim_server.nova()
    mark = ecsim_server.http("GET", "/_ecsim/clock")[2]["now"]
    kept, gone = (nova_user.servers.create(f"del-{unique}-{n}", ecsim_server.info["image_id"],
                                           ecsim_server.info["flavor_id"], nics="auto") for n in ("kept", "gone"))
    nova_user.servers.delete(gone)
    window = {"name": f"del-{unique}", "changes-since": mark}
    listed = {s.id: s.status for s in nova_user.servers.list(search_opts=window)}
    assert listed == {kept.id: "ACTIVE", gone.id: "DELETED"}
    shown = next(s for s in nova_user.servers.list(search_opts=window) if s.id == gone.id)
    assert shown.to_dict()["OS-EXT-STS:vm_state"] == "deleted" and shown.to_dict()["OS-SRV-USG:terminated_at"]
    assert [s.id for s in nova_user.servers.list(search_opts={"name": f"del-{unique}"})] == [kept.id]
    with pytest.raises(nova_exc.NotFound):
        nova_user.servers.get(gone.id)
    conn = ecsim_server.openstack()
    assert [s.id for s in conn.compute.servers(name=f"del-{unique}", changes_since=mark, status="ACTIVE")] == [kept.id]
    # Paged across both: the marker may be a deleted server.
    first = nova_user.servers.list(search_opts=window, limit=1)
    rest = nova_user.servers.list(search_opts=window, marker=first[0].id)
    assert {first[0].id, *(s.id for s in rest)} == {kept.id, gone.id} and len(rest) == 1
    # Admins: deleted=true (or status=DELETED) lists deleted servers alone, deleted=false keeps them out of a window.
    assert [s.id for s in nova_admin.servers.list(search_opts={"name": f"del-{unique}", "deleted": True})] == [gone.id]
    assert [s.id for s in nova_admin.servers.list(search_opts={"name": f"del-{unique}", "status": "DELETED"})] \
        == [gone.id]
    assert [s.id for s in nova_admin.servers.list(search_opts={**window, "deleted": "false"})] == [kept.id]
    with pytest.raises(nova_exc.Forbidden, match="Only administrators may list deleted instances"):
        nova_user.servers.list(search_opts={"status": "DELETED"})


def test_deleted_servers_are_forgotten_after_a_day(ecsim_launcher):
    server = ecsim_launcher(["--memory"])  # its own clock: a day goes by
    nova, info = server.nova(), server.info
    mark = server.http("GET", "/_ecsim/clock")[2]["now"]
    gone = nova.servers.create("gone", info["image_id"], info["flavor_id"], nics="auto")
    nova.servers.delete(gone)
    assert [s.status for s in nova.servers.list(search_opts={"changes-since": mark})] == ["DELETED"]
    assert server.http("POST", "/_ecsim/clock", {"advance": 86401})[0] == 200
    assert server.nova().servers.list(search_opts={"changes-since": mark}) == []


def test_validation_errors_in_novas_words(ecsim_server, unique):
    s = boot(ecsim_server.openstack(), ecsim_server.info, f"words-{unique}")
    for body, message in (
            ({"reboot": {"type": "medium"}},
             "Invalid input for field/attribute type. Value: medium. 'medium' is not one of the allowed values"),
            ({"reboot": {"type": "HARD", "extra": 1}}, "Invalid input for field/attribute reboot. Value: "
             "{'type': 'HARD', 'extra': 1}. Additional properties are not allowed ('extra' was unexpected)"),
            ({"resize": {}}, "Invalid input for field/attribute resize. Value: {}. 'flavorRef' is a required property"),
            ({"rebuild": {"imageRef": ecsim_server.info["image_id"], "name": 5}},
             "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string', 'null'"),
            ({}, "Malformed request body"), ([], "Malformed request body"),
            ({"os-stop": None, "os-start": None}, "Malformed request body"),
            ({"os-dance": None}, "There is no such action: os-dance")):
        status, _, fault = raw(ecsim_server, "POST", f"/servers/{s.id}/action", body)
        assert (status, fault["badRequest"]["message"]) == (400, message), body


def test_action_bad_input_and_unknown_servers(ecsim_server, unique):
    s = boot(ecsim_server.openstack(), ecsim_server.info, f"bad-{unique}")
    for body, status, key in (({"reboot": {"type": "WARM"}}, 400, "badRequest"), ({"reboot": None}, 400, "badRequest"),
                              ({"os-stop": {"force": True}}, 400, "badRequest"),
                              ({"resize": {"flavorRef": ""}}, 400, "badRequest"),
                              ({"resize": {"flavorRef": "nope"}}, 400, "badRequest"),
                              ({"confirmResize": None}, 409, "conflictingRequest"),
                              ({"rebuild": {"imageRef": "nope"}}, 400, "badRequest"),
                              ({"shelve": None}, 400, "badRequest"),
                              ({"lock": {"locked_reason": None}}, 400, "badRequest")):  # 2.73+: a string
        got, _, fault = raw(ecsim_server, "POST", f"/servers/{s.id}/action", body)
        assert (got, next(iter(fault))) == (status, key), body
    got, _, fault = raw(ecsim_server, "POST", "/servers/0b7c3f0e-0000-4000-8000-000000000000/action", {"os-stop": None})
    assert got == 404 and "itemNotFound" in fault
    got, _, fault = raw(ecsim_server, "GET", "/servers/x", prefix="/compute/v2.1/0123456789abcdef0123456789abcdef")
    assert got == 400 and "Malformed request URL" in fault["badRequest"]["message"]
    status, _, _ = raw(ecsim_server, "GET", f"/servers/{s.id}")
    assert status == 200


def test_content_types_as_nova_reads_them(ecsim_server, unique):
    s = boot(ecsim_server.openstack(), ecsim_server.info, f"ctype-{unique}")
    token = ecsim_server.token()

    def call(method, path, ctype, body=None, version="2.79"):
        return ecsim_server.http(method, compute(ecsim_server) + path, body, token=token, headers={
            "Content-Type": ctype, "X-OpenStack-Nova-API-Version": version})

    for ctype in ("application/xml", "text/html", "application/JSON"):  # refused even without a body
        for method, path, body in (("GET", f"/servers/{s.id}", None), ("POST", f"/servers/{s.id}/action",
                                                                       {"lock": None})):
            status, _, fault = call(method, path, ctype, body)
            assert (status, fault) == (415, {"badMediaType": {"code": 415, "message": "Unsupported Content-Type"}})
    assert ecsim_server.openstack().compute.get_server(s.id).is_locked is False  # the refused lock did nothing
    assert call("GET", f"/servers/{s.id}", "application/xml", version="1.1")[0] == 406  # the version is read first
    # No type, text/plain and the vendor type: the body is read as JSON all the same.
    for ctype, action in ((None, "lock"), ("text/plain", "unlock"), ("application/vnd.openstack.compute+json",
                                                                    "lock"), ("application/json; charset=UTF-8",
                                                                              "unlock")):
        assert call("POST", f"/servers/{s.id}/action", ctype, {action: None})[0] == 202, ctype
        assert ecsim_server.openstack().compute.get_server(s.id).is_locked is (action == "lock")


def test_openstack_cli_server_commands(ecsim_server, unique):
    info = ecsim_server.info

    def run(*args: str) -> dict | list:
        return openstack_cli(ecsim_server, *args)

    # the image by name, resolved through Glance's read-only face; `--nic auto` (without Neutron)
    created = run("server", "create", "--image", "Ubuntu 20.04 server 64bit", "--flavor", info["flavor_id"],
                  "--nic", "auto", f"cli-{unique}")
    assert created["name"] == f"cli-{unique}" and created["status"] == "ACTIVE"
    listed = {x["Name"]: x for x in run("server", "list")}
    # the image's name: the CLI asks Glance for every listed server's image at once (id=in:...)
    assert listed[f"cli-{unique}"]["Image"] == "Ubuntu 20.04 server 64bit"
    openstack_cli(ecsim_server, "server", "stop", created["id"], parse=False)
    shown = run("server", "show", created["id"])
    assert shown["status"] == "SHUTOFF" and shown["image"].startswith("Ubuntu 20.04")
    # security groups by name: the CLI looks them up through Nova's os-security-groups (no network service)
    openstack_cli(ecsim_server, "server", "remove", "security", "group", created["id"], "default", parse=False)
    assert "security_groups" not in run("server", "show", created["id"])


def test_openstack_cli_at_the_base_microversion(ecsim_server, unique):
    """At 2.1 the CLI sends `networks: []` without --nic (Nova: any network), resolves `--nic net-id=` through
    Nova's os-networks proxy, and reads flavors' extra specs from os-extra_specs."""
    info = ecsim_server.info

    def run(*args: str) -> dict | list:
        out = openstack_cli(ecsim_server, *args, compute_version="2.1")
        assert isinstance(out, (dict, list))
        return out

    plain = run("server", "create", "--image", info["image_id"], "--flavor", info["flavor_id"], f"b21-{unique}")
    assert plain["status"] == "ACTIVE"
    by_net = run("server", "create", "--image", info["image_id"], "--flavor", info["flavor_id"], "--nic",
                 f"net-id={info['subnet_id']}", f"n21-{unique}")
    ports = ecsim_server.ecs().show_server(ShowServerRequest(server_id=by_net["id"])).server.addresses
    assert list(ports) == [info["vpc_id"]]
    named = run("server", "create", "--image", info["image_id"], "--flavor", info["flavor_id"], "--network",
                "subnet-default", f"l21-{unique}")
    assert named["status"] == "ACTIVE"
    flavor = run("flavor", "show", info["flavor_id"])
    assert flavor["properties"]["ecs:performancetype"] and flavor["name"] == info["flavor_id"]
    status, _, body = raw(ecsim_server, "GET", f"/os-networks/{info['subnet_id']}", version="2.1")
    assert status == 200 and body["network"]["label"] == "subnet-default" and body["network"]["cidr"]
    assert raw(ecsim_server, "GET", "/os-networks", version="2.36")[0] == 404  # the proxy ends at 2.35
    status, _, body = raw(ecsim_server, "GET", "/os-tenant-networks", version="2.35")
    assert status == 200 and info["subnet_id"] in [n["id"] for n in body["networks"]]
    status, _, body = raw(ecsim_server, "GET", f"/flavors/{info['flavor_id']}/os-extra_specs/nope")
    assert status == 404 and "has no extra specs with key nope" in body["itemNotFound"]["message"]


def test_create_fields_nova_checks_and_keeps(ecsim_server, unique):
    body = {"server": {"name": f"ud-{unique}", "flavorRef": ecsim_server.info["flavor_id"],
                       "imageRef": ecsim_server.info["image_id"], "networks": "auto"}}
    for bad in ("not base64!!", "QQ" * 40000):
        status, _, out = raw(ecsim_server, "POST", "/servers", {"server": {**body["server"], "user_data": bad}})
        assert status == 400 and "user_data" in out["badRequest"]["message"]
    status, _, out = raw(ecsim_server, "POST", "/servers", {"server": {**body["server"], "user_data": "aGk=",
                                                                       "config_drive": True,
                                                                       "OS-DCF:diskConfig": "AUTO"}})
    assert status == 202 and out["server"]["OS-DCF:diskConfig"] == "AUTO"
    sid = out["server"]["id"]
    shown = raw(ecsim_server, "GET", f"/servers/{sid}")[2]["server"]
    assert (shown["config_drive"], shown["OS-DCF:diskConfig"]) == ("True", "AUTO")
    status, _, _ = raw(ecsim_server, "POST", f"/servers/{sid}/action", {"rebuild": {
        "imageRef": ecsim_server.info["image_id"], "OS-DCF:diskConfig": "MANUAL"}})
    assert status == 202 and raw(ecsim_server, "GET", f"/servers/{sid}")[2]["server"]["OS-DCF:diskConfig"] == "MANUAL"
    status, _, out = raw(ecsim_server, "POST", "/servers", {"server": {**body["server"], "flavorRef": "nope"}})
    assert (status, out["badRequest"]["message"]) == (400, "Invalid flavorRef provided.")
    status, _, out = raw(ecsim_server, "POST", "/servers", {"server": {**body["server"], "imageRef": "nope"}})
    assert (status, out["badRequest"]["message"]) == (400, "Can not find requested image")
    assert "maxImageMeta" in raw(ecsim_server, "GET", "/limits", version="2.38")[2]["limits"]["absolute"]
    assert "maxImageMeta" not in raw(ecsim_server, "GET", "/limits", version="2.39")[2]["limits"]["absolute"]
    ids = [f["id"] for f in raw(ecsim_server, "GET", "/flavors")[2]["flavors"]]
    assert ids == sorted(ids)  # Nova's default order: flavorid ascending
    by_ram = raw(ecsim_server, "GET", "/flavors/detail?sort_key=memory_mb&sort_dir=desc")[2]["flavors"]
    assert [f["ram"] for f in by_ram] == sorted((f["ram"] for f in by_ram), reverse=True)
    assert raw(ecsim_server, "GET", "/flavors?is_public=false")[2]["flavors"] == []
    assert raw(ecsim_server, "GET", "/flavors?sort_key=bogus")[0] == 400


def test_server_tags(ecsim_server, unique):
    s = boot(ecsim_server.openstack(), ecsim_server.info, f"tag-{unique}", tags=["a"])
    base = f"/servers/{s.id}/tags"
    assert raw(ecsim_server, "GET", base, version="2.25")[0] == 404  # the routes come at 2.26
    status, headers, _ = raw(ecsim_server, "PUT", f"{base}/b")
    assert status == 201 and headers["location"].endswith(f"/servers/{s.id}/tags/b")
    assert raw(ecsim_server, "PUT", f"{base}/b")[0] == 204  # already there
    assert raw(ecsim_server, "GET", f"{base}/b")[0] == 204 and raw(ecsim_server, "GET", f"{base}/zz")[0] == 404
    assert raw(ecsim_server, "GET", base)[2] == {"tags": ["a", "b"]}
    status, _, body = raw(ecsim_server, "PUT", base, {"tags": ["x", "y,z"]})
    assert status == 400 and raw(ecsim_server, "GET", base)[2] == {"tags": ["a", "b"]}
    assert raw(ecsim_server, "PUT", base, {"tags": [f"t{i}" for i in range(51)]})[0] == 400
    assert raw(ecsim_server, "PUT", base, {"tags": ["x", "y"]})[2] == {"tags": ["x", "y"]}
    status, _, body = raw(ecsim_server, "DELETE", f"{base}/nope")
    assert status == 404 and body["itemNotFound"]["message"] == "Tag nope could not be found."
    openstack_cli(ecsim_server, "server", "set", "--tag", "cli", s.id, parse=False)
    openstack_cli(ecsim_server, "server", "unset", "--tag", "x", s.id, parse=False)
    assert raw(ecsim_server, "GET", base)[2] == {"tags": ["y", "cli"]}
    assert raw(ecsim_server, "DELETE", base)[0] == 204 and raw(ecsim_server, "GET", base)[2] == {"tags": []}


def test_list_filters_beyond_the_indexed_ones(ecsim_server, unique):
    conn = ecsim_server.openstack()
    a = boot(conn, ecsim_server.info, f"fa-{unique}", tags=["red", "big"])
    b = boot(conn, ecsim_server.info, f"fb-{unique}", tags=["red"])
    conn.compute.lock_server(b)
    conn.compute.stop_server(a)

    def ids(query: str) -> set[str]:
        status, _, body = raw(ecsim_server, "GET", f"/servers/detail?name=^f[ab]-{unique}$&{query}")
        assert status == 200, body
        return {x["id"] for x in body["servers"]}

    assert ids("locked=true") == {b.id} and ids("locked=false") == {a.id}
    assert ids("tags=red,big") == {a.id} and ids("tags-any=big,blue") == {a.id}
    assert ids("not-tags-any=big") == {b.id} and ids("not-tags=red,big") == {b.id}
    assert ids("status=SHUTOFF&status=ACTIVE") == {a.id, b.id} and ids("vm_state=stopped") == {a.id}
    assert ids(f"uuid={b.id}") == {b.id} and a.id in ids(f"host={a.compute_host}")
    assert ids(f"node={a.hypervisor_hostname}") == ids(f"host={a.compute_host}")
    assert ids(f"user_id={ecsim_server.info['admin_user_id']}") == {a.id, b.id} and ids("user_id=nobody") == set()
    assert ids("power_state=4") == {a.id} and ids("ip6=::1") == set() and ids("config_drive=true") == {a.id, b.id}


def test_metadata_ips_filters_and_request_ids(ecsim_server, unique):
    conn = ecsim_server.openstack()
    s = conn.compute.create_server(name=f"md-{unique}-1", flavor_id=ecsim_server.info["flavor_id"],
                                   image_id=ecsim_server.info["image_id"], networks="auto", metadata={"a": "1"},
                                   access_ipv6="0000:0000:0000:0000:0000:babe:220.12.22.2")
    got = conn.compute.get_server(s.id)
    assert got.access_ipv6 == "::babe:dc0c:1602"  # stored normalized, as Nova does
    conn.compute.set_server_metadata(s, b="2")
    assert conn.compute.get_server_metadata(s).metadata == {"a": "1", "b": "2"}
    conn.compute.delete_server_metadata(s, ["a"])
    assert conn.compute.get_server_metadata(s).metadata == {"b": "2"}
    # ECS's own metadata is untouched by Nova's metadata calls
    ecs_meta = ecsim_server.ecs().show_server(ShowServerRequest(server_id=s.id)).server.metadata
    assert ecs_meta["b"] == "2" and "metering.image_id" in ecs_meta and "a" not in ecs_meta
    status, _, body = raw(ecsim_server, "PUT", f"/servers/{s.id}/metadata",
                          {"metadata": {f"k{i}": "v" for i in range(11)}})
    assert status == 403 and "metadata_items" in body["forbidden"]["message"]
    status, headers, body = raw(ecsim_server, "GET", f"/servers/{s.id}/ips")
    assert status == 200 and list(body["addresses"]) == [ecsim_server.info["vpc_id"]]
    assert headers["x-openstack-request-id"].startswith("req-") and "x-compute-request-id" in headers
    status, _, body = raw(ecsim_server, "GET", f"/servers/detail?name=^md-{unique}-[0-9]$")
    assert status == 200 and [x["id"] for x in body["servers"]] == [s.id]
    status, _, body = raw(ecsim_server, "GET", "/servers?status=bogus", version="2.1")
    assert (status, body["servers"]) == (200, [])
    status, _, _ = raw(ecsim_server, "GET", "/servers?status=bogus", version="2.38")
    assert status == 400


def test_keypairs_and_key_names(ecsim_server, unique):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    nova = ecsim_server.nova()
    generated = nova.keypairs.create(f"gen-{unique}")
    assert generated.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert len(generated.fingerprint.split(":")) == 16 and generated.type == "ssh"
    public = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    imported = nova.keypairs.create(f"imp-{unique}", public_key=public)
    assert imported.public_key == public and not getattr(imported, "private_key", None)
    assert {f"gen-{unique}", f"imp-{unique}"} <= {k.name for k in nova.keypairs.list()}
    assert nova.keypairs.get(f"imp-{unique}").fingerprint == imported.fingerprint
    with pytest.raises(nova_exc.Conflict):
        nova.keypairs.create(f"imp-{unique}", public_key=public)
    for bad in ("ssh-rsa not-a-key", "not a key", "ssh-foo AAAAB3NzaC1yc2E"):  # the last, a type unknown: was 500
        with pytest.raises(nova_exc.BadRequest, match="Keypair data is invalid"):
            nova.keypairs.create(f"bad-{unique}", public_key=bad)
    # servers must name one of the caller's key pairs
    s = nova.servers.create(f"kp-{unique}", ecsim_server.info["image_id"], ecsim_server.info["flavor_id"],
                            nics="auto", key_name=f"imp-{unique}")
    assert nova.servers.get(s.id).key_name == f"imp-{unique}"
    with pytest.raises(nova_exc.BadRequest) as exc:
        nova.servers.create(f"kp2-{unique}", ecsim_server.info["image_id"], ecsim_server.info["flavor_id"],
                            nics="auto", key_name=f"nope-{unique}")
    assert "Invalid key_name provided." in str(exc.value)
    nova.keypairs.delete(f"gen-{unique}")
    with pytest.raises(nova_exc.NotFound):
        nova.keypairs.get(f"gen-{unique}")


def test_quota_sets_force_delete_and_restore(ecsim_server, unique):
    pid = ecsim_server.info["project_id"]
    status, _, body = raw(ecsim_server, "GET", f"/os-quota-sets/{pid}", version="2.1")
    assert status == 200 and body["quota_set"]["instances"] == 1000 and body["quota_set"]["metadata_items"] == 10
    assert "floating_ips" in body["quota_set"]
    status, _, body = raw(ecsim_server, "GET", f"/os-quota-sets/{pid}/defaults", version="2.79")
    assert status == 200 and "floating_ips" not in body["quota_set"] and "injected_files" not in body["quota_set"]
    s = boot(ecsim_server.openstack(), ecsim_server.info, f"fd-{unique}")
    status, _, body = raw(ecsim_server, "POST", f"/servers/{s.id}/action", {"restore": None})
    assert status == 409 and "Cannot 'restore' instance" in body["conflictingRequest"]["message"]
    status, _, body = raw(ecsim_server, "POST", f"/servers/{s.id}/action", {"forceDelete": None})
    assert status == 202 and body is None
    status, _, _ = raw(ecsim_server, "GET", f"/servers/{s.id}")
    assert status == 404
    status, _, body = raw(ecsim_server, "POST", f"/servers/{s.id}/action", {"restore": None})
    assert status == 404 and "itemNotFound" in body


def bootable_volume(conn, info, name: str) -> str:
    v = conn.block_storage.create_volume(name=name, size=40, image_id=info["image_id"])
    return conn.block_storage.wait_for_status(v, "available", wait=30).id


def test_boot_from_an_existing_volume(ecsim_server, unique):
    """block_device_mapping_v2 source_type "volume": the server boots from the volume (image ""), takes it in-use
    at /dev/vda, and gives it back on delete unless delete_on_termination; existing data volumes attach too."""
    conn, info = ecsim_server.openstack(), ecsim_server.info
    root = bootable_volume(conn, info, f"bfv-{unique}")
    data = conn.block_storage.create_volume(name=f"bfv-data-{unique}", size=10).id
    conn.block_storage.wait_for_status(conn.block_storage.get_volume(data), "available", wait=30)
    s = conn.compute.create_server(name=f"bfv-{unique}", flavor_id=info["flavor_id"], networks="auto",
                                   block_device_mapping=[
                                       {"boot_index": 0, "uuid": root, "source_type": "volume",
                                        "destination_type": "volume", "delete_on_termination": False},
                                       {"boot_index": -1, "uuid": data, "source_type": "volume",
                                        "destination_type": "volume", "delete_on_termination": True}])
    s = conn.compute.wait_for_server(conn.compute.get_server(s.id), wait=30)
    assert s.status == "ACTIVE" and not s.image
    assert raw(ecsim_server, "GET", f"/servers/{s.id}")[2]["server"]["image"] == ""  # Nova's answer
    assert sorted(a["id"] for a in s.attached_volumes) == sorted([root, data])
    vol = conn.block_storage.get_volume(root)
    assert vol.status == "in-use" and [(a["server_id"], a["device"]) for a in vol.attachments] == \
        [(s.id, "/dev/vda")]
    assert conn.block_storage.get_volume(data).attachments[0]["device"] == "/dev/vdb"
    # the Huawei API shows the same server on the volume's image
    assert ecsim_server.ecs().show_server(ShowServerRequest(server_id=s.id)).server.image.id == info["image_id"]

    status, _, body = raw(ecsim_server, "POST", "/servers", {"server": {
        "name": "again", "flavorRef": info["flavor_id"], "networks": "auto", "block_device_mapping_v2": [
            {"boot_index": 0, "uuid": root, "source_type": "volume", "destination_type": "volume"}]}})
    assert status == 400 and f"volume '{root}' status must be 'available'" in body["badRequest"]["message"]

    status, _, body = raw(ecsim_server, "POST", f"/servers/{s.id}/action", {"rebuild": {"imageRef": OTHER_IMAGE}})
    assert status == 400 and "volume-backed" in body["badRequest"]["message"]

    conn.compute.delete_server(s)
    conn.compute.wait_for_delete(s, wait=30)
    assert conn.block_storage.get_volume(root).status == "available"  # kept: delete_on_termination false
    assert conn.block_storage.find_volume(data) is None  # gone with the server

    # the same through novaclient, then Nova's older create path /os-volumes_boot
    nova = ecsim_server.nova()
    again = nova.servers.create(f"bfv2-{unique}", None, info["flavor_id"], nics="auto", block_device_mapping_v2=[
        {"boot_index": 0, "uuid": root, "source_type": "volume", "destination_type": "volume",
         "delete_on_termination": True}])
    assert nova.servers.get(again.id).status == "ACTIVE"
    nova.servers.delete(again.id)
    assert conn.block_storage.find_volume(root) is None
    root = bootable_volume(conn, info, f"bfv3-{unique}")
    status, _, body = raw(ecsim_server, "POST", "/os-volumes_boot", {"server": {
        "name": f"bfv3-{unique}", "flavorRef": info["flavor_id"], "networks": "auto", "block_device_mapping_v2": [
            {"boot_index": 0, "uuid": root, "source_type": "volume", "destination_type": "volume"}]}})
    assert status == 202 and conn.block_storage.get_volume(root).attachments[0]["server_id"] == body["server"]["id"]


def test_cli_boot_from_volume_keeps_the_volume(ecsim_server, unique):
    """`openstack server create --boot-from-volume N --image X` sends imageRef "" and an image mapping with
    delete_on_termination false: the server shows no image, and its volume outlives it."""
    info = ecsim_server.info
    made = openstack_cli(ecsim_server, "server", "create", "--image", info["image_id"], "--flavor",
                         info["flavor_id"], "--boot-from-volume", "40", "--nic", "auto", f"clibfv-{unique}")
    assert isinstance(made, dict)
    shown = raw(ecsim_server, "GET", f"/servers/{made['id']}")[2]["server"]
    [vol] = shown["os-extended-volumes:volumes_attached"]
    assert shown["image"] == "" and vol["delete_on_termination"] is False
    assert raw(ecsim_server, "DELETE", f"/servers/{made['id']}")[0] == 204
    left = ecsim_server.openstack().block_storage.get_volume(vol["id"])
    assert (left.status, left.size, left.is_bootable) == ("available", 40, True)


@pytest.mark.parametrize(("bdm", "extra", "fragment"), [
    ({"boot_index": 0, "uuid": "0b7c3f0e-0000-4000-8000-0000000000aa", "source_type": "volume",
      "destination_type": "volume"}, {}, "failed to get volume"),
    ({"boot_index": 0, "source_type": "volume", "destination_type": "volume"}, {}, "needs the volume's uuid"),
    ("blank-root", {}, "is not bootable"),
    ("bootable", {"max_count": 2}, "Cannot attach one or more volumes to multiple instances"),
    ("bootable", {"availability_zone": "elsewhere-9z"}, "availability zone"),
])
def test_boot_from_volume_bad_input(ecsim_server, unique, bdm, extra, fragment):
    conn, info = ecsim_server.openstack(), ecsim_server.info
    if bdm in ("blank-root", "bootable"):
        vid = bootable_volume(conn, info, f"bad-{unique}") if bdm == "bootable" else \
            conn.block_storage.create_volume(name=f"bad-{unique}", size=10).id
        bdm = {"boot_index": 0, "uuid": vid, "source_type": "volume", "destination_type": "volume"}
    status, _, body = raw(ecsim_server, "POST", "/servers", {"server": {
        "name": f"bad-{unique}", "flavorRef": info["flavor_id"], "networks": "auto",
        "block_device_mapping_v2": [bdm], **extra}})
    assert status == 400 and fragment in body["badRequest"]["message"], body
    if "uuid" in bdm and bdm["uuid"].startswith("0b7c") is False:
        assert conn.block_storage.get_volume(bdm["uuid"]).status == "available"  # nothing half-applied


def test_all_tenants_lists_every_project_for_admins_only(ecsim_server, unique):
    from huaweicloudsdkiam.v3 import (
        KeystoneCreateProjectOption,
        KeystoneCreateProjectRequest,
        KeystoneCreateProjectRequestBody,
    )

    info = ecsim_server.info
    option = KeystoneCreateProjectOption(name=f"{info['region']}_at{unique}", parent_id=info["project_id"])
    sub = ecsim_server.iam().keystone_create_project(KeystoneCreateProjectRequest(
        body=KeystoneCreateProjectRequestBody(project=option))).project
    ecsim_server.openstack(project=sub.name).compute.create_server(
        name=f"far-{unique}", flavor_id=info["flavor_id"], image_id=info["image_id"], networks="none")
    home = ecsim_server.openstack().compute
    assert not [s for s in home.servers(name=f"far-{unique}")]  # another project's server
    everywhere = [s for s in home.servers(all_projects=True, name=f"far-{unique}")]
    assert [s.project_id for s in everywhere] == [sub.id]
    status, _, body = raw(ecsim_server, "GET", f"/servers/detail?all_tenants=1&project_id={info['project_id']}"
                          f"&name=far-{unique}")
    assert status == 200 and body["servers"] == []
    status, _, body = raw(ecsim_server, "GET", "/servers?all_tenants=maybe")
    assert status == 400 and "all_tenants" in body["badRequest"]["message"]
    u = make_user(ecsim_server, f"at-{unique}", system=["ECS FullAccess"])
    status, _, body = raw(ecsim_server, "GET", "/servers/detail?all_tenants=1",
                          token=ecsim_server.token(u["name"], u["password"]))
    assert status == 403
    assert body["forbidden"]["message"] == ("Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be "
                                            "performed.")


def test_add_and_remove_security_groups(ecsim_server, unique):
    """addSecurityGroup / removeSecurityGroup change the groups both APIs show; the last one may go (Nova then
    leaves `security_groups` out)."""
    conn = ecsim_server.openstack()
    s = boot(conn, ecsim_server.info, f"sg-{unique}")
    nova = ecsim_server.nova()
    assert [g["name"] for g in nova.servers.get(s.id).security_groups] == ["default"]
    status, _, body = raw(ecsim_server, "POST", f"/servers/{s.id}/action", {"addSecurityGroup": {"name": "default"}})
    assert status == 400 and "already associated" in body["badRequest"]["message"]
    status, _, body = raw(ecsim_server, "POST", f"/servers/{s.id}/action", {"addSecurityGroup": {"name": "nope"}})
    assert status == 404 and "Security group nope not found" in body["itemNotFound"]["message"]
    nova.servers.remove_security_group(s.id, "default")
    assert "security_groups" not in raw(ecsim_server, "GET", f"/servers/{s.id}")[2]["server"]
    assert ecsim_server.ecs().show_server(ShowServerRequest(server_id=s.id)).server.security_groups == []
    status, _, body = raw(ecsim_server, "POST", f"/servers/{s.id}/action", {"removeSecurityGroup": {"name": "default"}})
    assert status == 400 and "is not associated" in body["badRequest"]["message"]
    nova.servers.add_security_group(s.id, "default")
    assert [g["name"] for g in nova.servers.get(s.id).security_groups] == ["default"]

    # the groups themselves, read through Nova (its proxy API ends at 2.35)
    status, _, body = raw(ecsim_server, "GET", "/os-security-groups", version="2.35")
    default = next(g for g in body["security_groups"] if g["name"] == "default")
    assert status == 200 and default["tenant_id"] == ecsim_server.info["project_id"] and default["rules"] == []
    assert raw(ecsim_server, "GET", f"/os-security-groups/{default['id']}", version="2.1")[2]["security_group"] == \
        default
    assert raw(ecsim_server, "GET", "/os-security-groups/nope", version="2.1")[0] == 404
    assert raw(ecsim_server, "GET", "/os-security-groups", version="2.36")[0] == 404
    status, _, body = raw(ecsim_server, "GET", f"/servers/{s.id}/os-security-groups")
    assert status == 200 and body["security_groups"] == [default]
