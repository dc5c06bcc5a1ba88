"""Huawei ECS actions on one server (seed 001) through the unmodified huaweicloudsdkecs: change OS (v2 with
cloud-init, v1 without), reinstall OS, resize (v1 pay-per-use, v1.1), cold migrate; their rules and errors, and the
intermediate states under the realistic profile."""

from __future__ import annotations

from functools import partial

import pytest
from huaweicloudsdkecs.v2 import (
    ChangeServerOsWithCloudInitOption,
    ChangeServerOsWithCloudInitRequest,
    ChangeServerOsWithCloudInitRequestBody,
    ChangeServerOsWithoutCloudInitOption,
    ChangeServerOsWithoutCloudInitRequest,
    ChangeServerOsWithoutCloudInitRequestBody,
    ChangeSeversOsMetadata,
    ListFlavorsRequest,
    MigrateServerOption,
    MigrateServerRequest,
    MigrateServerRequestBody,
    ReinstallServerWithCloudInitOption,
    ReinstallServerWithCloudInitRequest,
    ReinstallServerWithCloudInitRequestBody,
    ReinstallServerWithoutCloudInitOption,
    ReinstallServerWithoutCloudInitRequest,
    ReinstallServerWithoutCloudInitRequestBody,
    ResizePostPaidServerOption,
    ResizePostPaidServerRequest,
    ResizePostPaidServerRequestBody,
    ResizePrePaidServerOption,
    ResizeServerRequest,
    ResizeServerRequestBody,
    ShowServerRequest,
)
from huaweicloudsdkevs.v2 import ShowVolumeRequest
from huaweicloudsdkims.v2 import ListImagesRequest

from helpers import create, err, job, stop

PASS = "Passw0rd!x"
WITH_STOP = "withStopServer"
NOBODY = "11111111-2222-3333-4444-555555555555"


def another_image(ecsim_server):
    """A Linux public image other than the default one."""
    images = ecsim_server.ims().list_images(ListImagesRequest(os_type="Linux", imagetype="gold")).images
    return next(i for i in images if i.id != ecsim_server.info["image_id"])


@pytest.fixture(scope="module")
def other_image(ecsim_server):
    return another_image(ecsim_server)


@pytest.fixture(scope="module")
def other_flavor(ecs, info):
    return next(f.id for f in ecs.list_flavors(ListFlavorsRequest()).flavors
                if f.id != info["flavor_id"] and f.id.startswith("c7.") and f.vcpus == "2")


def show(ecs, sid):
    return ecs.show_server(ShowServerRequest(server_id=sid)).server



def server(ecs, info, name, *, stopped=False) -> str:
    _, [sid] = create(ecs, info, name)
    if stopped:
        stop(ecs, [sid])
    return sid


def change_os(ecs, sid, image_id, *, v1=False, **kw):
    if v1:
        return ecs.change_server_os_without_cloud_init(ChangeServerOsWithoutCloudInitRequest(
            server_id=sid, body=ChangeServerOsWithoutCloudInitRequestBody(
                os_change=ChangeServerOsWithoutCloudInitOption(imageid=image_id, **kw)))).job_id
    return ecs.change_server_os_with_cloud_init(ChangeServerOsWithCloudInitRequest(
        server_id=sid, body=ChangeServerOsWithCloudInitRequestBody(
            os_change=ChangeServerOsWithCloudInitOption(imageid=image_id, **kw)))).job_id


def reinstall(ecs, sid, *, v1=False, **kw):
    if v1:
        return ecs.reinstall_server_without_cloud_init(ReinstallServerWithoutCloudInitRequest(
            server_id=sid, body=ReinstallServerWithoutCloudInitRequestBody(
                os_reinstall=ReinstallServerWithoutCloudInitOption(**kw)))).job_id
    return ecs.reinstall_server_with_cloud_init(ReinstallServerWithCloudInitRequest(
        server_id=sid, body=ReinstallServerWithCloudInitRequestBody(
            os_reinstall=ReinstallServerWithCloudInitOption(**kw)))).job_id


def resize(ecs, sid, flavor, *, v11=False, dry_run=None, **kw):
    if v11:
        return ecs.resize_server(ResizeServerRequest(server_id=sid, body=ResizeServerRequestBody(
            resize=ResizePrePaidServerOption(flavor_ref=flavor, **kw), dry_run=dry_run)))
    return ecs.resize_post_paid_server(ResizePostPaidServerRequest(server_id=sid, body=ResizePostPaidServerRequestBody(
        resize=ResizePostPaidServerOption(flavor_ref=flavor, **kw), dry_run=dry_run)))


def migrate(ecs, sid, option=None):
    return ecs.migrate_server(MigrateServerRequest(server_id=sid, body=MigrateServerRequestBody(migrate=option))).job_id


def system_disk(ecsim_server, s):
    boot = next(v for v in s.os_extended_volumesvolumes_attached if v.boot_index == "0")
    return ecsim_server.evs().show_volume(ShowVolumeRequest(volume_id=boot.id)).volume


def finished(ecs, job_id, job_type, sid):
    j = job(ecs, job_id)
    assert (j.status, j.job_type, j.entities.server_id) == ("SUCCESS", job_type, sid)


def test_change_os_v2_on_a_running_server_with_stop_first(ecs, info, ecsim_server, other_image, unique):
    sid = server(ecs, info, f"chos-{unique}")
    job_id = change_os(ecs, sid, other_image.id, adminpass=PASS, mode=WITH_STOP,
                       metadata=ChangeSeversOsMetadata(user_data="IyEvYmluL2Jhc2gKZWNobyBoaQ=="))
    finished(ecs, job_id, "changeOS", sid)
    s = show(ecs, sid)
    assert (s.status, s.os_ext_st_stask_state, s.os_ext_st_spower_state) == ("ACTIVE", None, 1)
    assert s.image.id == other_image.id and s.key_name is None
    assert s.metadata["image_name"] == other_image.name and s.metadata["metering.image_id"] == other_image.id
    disk = system_disk(ecsim_server, s)
    assert disk.volume_image_metadata["image_id"] == other_image.id
    assert disk.volume_image_metadata["image_name"] == other_image.name


@pytest.fixture
def keypair(ecsim_server, unique) -> str:
    """The admin's key pair kp-<unique> (key pairs are per user, as in Nova)."""
    ecsim_server.openstack().compute.create_keypair(name=f"kp-{unique}")
    return f"kp-{unique}"


def test_change_os_v1_on_a_stopped_server_with_a_key_pair(ecs, info, other_image, unique, keypair):
    sid = server(ecs, info, f"chos1-{unique}", stopped=True)
    e = err(lambda: change_os(ecs, sid, other_image.id, v1=True, keyname=f"nokp-{unique}",
                              userid=info["admin_user_id"]))
    assert (e.status_code, e.error_code) == (400, "Ecs.0314")
    finished(ecs, change_os(ecs, sid, other_image.id, v1=True, keyname=f"kp-{unique}", userid=info["admin_user_id"]),
             "changeOS", sid)
    s = show(ecs, sid)
    assert (s.status, s.image.id, s.key_name) == ("ACTIVE", other_image.id, f"kp-{unique}")


def test_change_os_with_only_user_data(ecs, info, other_image, unique):
    sid = server(ecs, info, f"chud-{unique}", stopped=True)
    finished(ecs, change_os(ecs, sid, other_image.id, metadata=ChangeSeversOsMetadata(user_data="ZWNobyBoaQ==")),
             "changeOS", sid)
    assert show(ecs, sid).image.id == other_image.id


@pytest.mark.parametrize(("stopped", "kw", "code"), [
    (False, {"adminpass": PASS}, "Ecs.0100"),  # running, and no withStopServer
    (True, {"adminpass": PASS, "keyname": "kp"}, "Ecs.0005"),
    (True, {}, "Ecs.0005"),
    (True, {"adminpass": "short"}, "Ecs.0011"),
    (True, {"adminpass": PASS, "mode": "sometimes"}, "Ecs.0005"),
    (True, {"adminpass": PASS, "image": "00000000-0000-0000-0000-000000000000"}, "Ecs.0031"),
    (True, {"adminpass": PASS, "image": ""}, "Ecs.0005"),  # not a reinstall in disguise
])
def test_change_os_rules(ecs, info, other_image, unique, stopped, kw, code):
    sid = server(ecs, info, f"chbad-{unique}", stopped=stopped)
    kw = dict(kw)  # the parameters are shared by both backends' runs
    image = kw.pop("image", other_image.id)
    e = err(lambda: change_os(ecs, sid, image, **kw))
    assert (e.status_code, e.error_code) == (400, code)
    s = show(ecs, sid)
    assert (s.status, s.image.id) == ("SHUTOFF" if stopped else "ACTIVE", info["image_id"])


def test_reinstall_keeps_the_image(ecs, info, ecsim_server, unique, keypair):
    sid = server(ecs, info, f"rei-{unique}", stopped=True)
    e = err(lambda: reinstall(ecs, sid, adminpass="weak"))
    assert (e.status_code, e.error_code) == (400, "Ecs.0011")
    finished(ecs, reinstall(ecs, sid, adminpass=PASS), "reinstallOS", sid)
    s = show(ecs, sid)
    assert (s.status, s.image.id, s.metadata["metering.image_id"]) == ("ACTIVE", info["image_id"], info["image_id"])
    assert system_disk(ecsim_server, s).volume_image_metadata["image_id"] == info["image_id"]
    # running now: v1 needs withStopServer, then sets the key pair
    e = err(lambda: reinstall(ecs, sid, v1=True, keyname=f"kp-{unique}", userid=info["admin_user_id"]))
    assert (e.status_code, e.error_code) == (400, "Ecs.0100")
    e = err(lambda: reinstall(ecs, sid, v1=True, adminpass=PASS, keyname="kp", mode=WITH_STOP))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")
    finished(ecs, reinstall(ecs, sid, v1=True, keyname=f"kp-{unique}", userid=info["admin_user_id"],
                            mode=WITH_STOP), "reinstallOS", sid)
    s = show(ecs, sid)
    assert (s.status, s.image.id, s.key_name) == ("ACTIVE", info["image_id"], f"kp-{unique}")


def test_resize_v1_rules_dry_run_and_result(ecs, info, other_flavor, unique):
    sid = server(ecs, info, f"rsz-{unique}")
    assert err(lambda: resize(ecs, sid, other_flavor)).error_code == "Ecs.0100"  # running
    stop(ecs, [sid])
    for flavor, code in [(info["flavor_id"], "Ecs.0810"), ("x1.nope.1", "Ecs.0029")]:
        e = err(lambda flavor=flavor: resize(ecs, sid, flavor))
        assert (e.status_code, e.error_code) == (400, code)
    dry = resize(ecs, sid, other_flavor, dry_run=True)
    assert dry.status_code == 202 and dry.job_id is None
    assert show(ecs, sid).flavor.id == info["flavor_id"]
    r = resize(ecs, sid, other_flavor)
    assert r.status_code == 200
    finished(ecs, r.job_id, "resizeServer", sid)
    s = show(ecs, sid)
    assert (s.status, s.flavor.id, s.flavor.vcpus) == ("SHUTOFF", other_flavor, "2")
    assert s.metadata["metering.resourcespeccode"] == other_flavor


def test_resize_v11_with_stop_first_starts_the_server_again(ecs, info, other_flavor, unique):
    sid = server(ecs, info, f"rsz11-{unique}")
    assert err(lambda: resize(ecs, sid, other_flavor, v11=True)).error_code == "Ecs.0100"
    e = err(lambda: resize(ecs, sid, other_flavor, v11=True, mode=WITH_STOP, dedicated_host_id=NOBODY))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")
    r = resize(ecs, sid, other_flavor, v11=True, mode=WITH_STOP)
    assert r.order_id is None
    finished(ecs, r.job_id, "resizeServer", sid)
    s = show(ecs, sid)
    assert (s.status, s.flavor.id) == ("ACTIVE", other_flavor)


def test_cold_migrate_moves_a_stopped_server(ecs, info, unique):
    sid = server(ecs, info, f"mig-{unique}")
    assert err(lambda: migrate(ecs, sid)).error_code == "Ecs.0100"  # running
    stop(ecs, [sid])
    e = err(lambda: migrate(ecs, sid, MigrateServerOption(dedicated_host_id=NOBODY)))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")
    before = show(ecs, sid)
    finished(ecs, migrate(ecs, sid), "migrateServer", sid)  # the SDK sends {} here
    after = show(ecs, sid)
    assert after.status == "SHUTOFF" and after.os_ext_srv_att_rhost != before.os_ext_srv_att_rhost
    assert after.host_id != before.host_id and len(after.host_id) == 56
    finished(ecs, migrate(ecs, sid, MigrateServerOption()), "migrateServer", sid)  # {"migrate": {}}
    assert show(ecs, sid).os_ext_srv_att_rhost != after.os_ext_srv_att_rhost


def test_unknown_or_other_projects_server_is_404(ecsim_server, ecs, info, other_image, other_flavor, unique):
    from huaweicloudsdkiam.v3 import (
        KeystoneCreateProjectOption,
        KeystoneCreateProjectRequest,
        KeystoneCreateProjectRequestBody,
    )

    sub = ecsim_server.iam().keystone_create_project(KeystoneCreateProjectRequest(
        body=KeystoneCreateProjectRequestBody(project=KeystoneCreateProjectOption(
            name=f"{info['region']}_{unique}", parent_id=info["project_id"])))).project
    sid = server(ecs, info, f"home-{unique}", stopped=True)
    other = ecsim_server.ecs(project_id=sub.id)
    calls = [lambda c, t: change_os(c, t, other_image.id, adminpass=PASS),
             lambda c, t: reinstall(c, t, v1=True, adminpass=PASS),
             lambda c, t: resize(c, t, other_flavor, v11=True), migrate]
    for client, target in [(ecs, NOBODY), (other, sid)]:
        for call in calls:
            e = err(partial(call, client, target))
            assert (e.status_code, e.error_code) == (404, "Ecs.0114")
    s = show(ecs, sid)
    assert (s.status, s.image.id, s.flavor.id) == ("SHUTOFF", info["image_id"], info["flavor_id"])


def test_realistic_profile_shows_the_intermediate_states(ecsim_launcher):
    slow = ecsim_launcher(["--memory", "--profile", "realistic"])
    other_flavor = "c7.large.2"
    assert slow.http("POST", "/_ecsim/clock", {"freeze": True})[0] == 200

    def advance(seconds: float) -> None:
        assert slow.http("POST", "/_ecsim/clock", {"advance": seconds})[0] == 200

    ecs, info = slow.ecs(), slow.info
    _, [sid] = create(ecs, info, "acts")
    advance(30)
    job_id = change_os(ecs, sid, another_image(slow).id, adminpass=PASS, mode=WITH_STOP)
    assert (show(ecs, sid).status, job(ecs, job_id).status) == ("ACTIVE", "INIT")  # powering off first
    advance(9)
    s = show(ecs, sid)
    assert (s.status, s.os_ext_st_stask_state, job(ecs, job_id).status) == ("REBUILD", "rebuilding", "RUNNING")
    # busy: nothing else meanwhile
    assert err(lambda: resize(ecs, sid, other_flavor, mode=WITH_STOP)).error_code == "Ecs.0100"
    advance(40)
    assert (show(ecs, sid).status, job(ecs, job_id).status) == ("ACTIVE", "SUCCESS")
    stop(ecs, [sid])
    advance(10)
    job_id = resize(ecs, sid, other_flavor).job_id
    assert show(ecs, sid).status == "RESIZE"
    advance(2)
    assert job(ecs, job_id).status == "RUNNING"
    advance(30)
    s = show(ecs, sid)
    assert (s.status, s.flavor.id, job(ecs, job_id).status) == ("SHUTOFF", other_flavor, "SUCCESS")
    job_id = migrate(ecs, sid)
    assert show(ecs, sid).status == "MIGRATING"
    advance(2)
    assert job(ecs, job_id).status == "RUNNING"
    advance(20)
    assert (show(ecs, sid).status, job(ecs, job_id).status) == ("SHUTOFF", "SUCCESS")


def test_console_log_on_both_apis(ecsim_server, ecs, info, unique):
    from huaweicloudsdkecs.v2 import ShowServerConsoleOutputRequest

    sid = server(ecs, info, f"con-{unique}")
    out = ecs.show_server_console_output(ShowServerConsoleOutputRequest(server_id=sid)).output
    assert f"con-{unique} login: " in out and sid in out
    assert len(ecs.show_server_console_output(ShowServerConsoleOutputRequest(server_id=sid, length=2))
               .output.split("\n")) == 2
    conn = ecsim_server.openstack()
    assert conn.compute.get_server_console_output(sid)["output"] == out  # Nova's os-getConsoleOutput
    assert conn.compute.get_server_console_output(sid, length=1)["output"] == f"con-{unique} login: "
    stop(ecs, [sid])
    assert conn.compute.get_server_console_output(sid)["output"].endswith("reboot: Power down")
    status, _, body = ecsim_server.http("POST", f"/v2.1/{info['project_id']}/servers/{'0' * 8}-0000-0000-0000-"
                                        f"{'0' * 12}/action", {"os-getConsoleOutput": {"length": 5}},
                                        token=ecsim_server.token())
    assert status == 404 and "itemNotFound" in body
    status, _, _ = ecsim_server.http("POST", f"/v2.1/{info['project_id']}/servers/{sid}/action",
                                     {"os-getConsoleOutput": {"length": -2}}, token=ecsim_server.token())
    assert status == 400
