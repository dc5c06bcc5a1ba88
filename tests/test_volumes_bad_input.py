"""Bad input on the volume faces (raw HTTP: what the clients cannot send): Cinder's `{"<fault>": {"code",
"message"}}` and EVS's `{"error": {"code": "EVS.xxxx"}}`, never a 500, nothing half-done."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(scope="module")
def token(ecsim_server):
    return ecsim_server.token()


@pytest.fixture(scope="module")
def base(ecsim_server):
    return f"/volume/v3/{ecsim_server.info['project_id']}"


@pytest.fixture
def vol(ecsim_server, token, base, unique):
    status, _, body = ecsim_server.http("POST", f"{base}/volumes", {"volume": {"size": 2, "name": f"bad-{unique}"}},
                                        token=token)
    assert status == 202
    return body["volume"]["id"]


def fault(resp, status: int, name: str) -> str:
    got, _, body = resp
    assert got == status, body
    assert set(body) == {name} and body[name]["code"] == status, body
    return body[name]["message"]


def volume(server, token, base, vid) -> dict:
    return server.http("GET", f"{base}/volumes/{vid}", token=token)[2]["volume"]


def test_content_types_as_cinder_reads_them(ecsim_server, token, base, vol, unique):
    def count():
        return len(ecsim_server.http("GET", f"{base}/volumes?name=ct-{unique}", token=token)[2]["volumes"])

    create = {"volume": {"size": 1, "name": f"ct-{unique}"}}
    for ctype in ("text/plain", "application/xml", "application/vnd.openstack.compute+json", ""):
        got = ecsim_server.http("POST", f"{base}/volumes", create, {"Content-Type": ctype}, token=token)
        assert fault(got, 415, "badMediaType") == "Unsupported Content-Type"
    # Without a Content-Type the body is ignored: a create without its volume.
    msg = fault(ecsim_server.http("POST", f"{base}/volumes", create, {"Content-Type": None}, token=token), 400,
                "badRequest")
    assert "volume" in msg
    assert count() == 0
    # Without a body the type is not looked at; Cinder's own JSON types are read.
    assert ecsim_server.http("GET", f"{base}/volumes/{vol}", headers={"Content-Type": "text/xml"}, token=token)[0] \
        == 200
    for ctype in ("application/vnd.openstack.volume+json", "application/json;charset=UTF-8"):
        assert ecsim_server.http("POST", f"{base}/volumes", create, {"Content-Type": ctype}, token=token)[0] == 202
    assert count() == 2


@pytest.mark.parametrize("raw", [b"{", b"[1,2", b"\xff\xfe", b'{"volume": '])
def test_malformed_json(ecsim_server, token, base, raw):
    msg = fault(ecsim_server.http("POST", f"{base}/volumes", raw=raw, token=token), 400, "badRequest")
    assert msg == "Malformed request body"


@pytest.mark.parametrize(("body", "message"), [
    ({}, "'volume' is a required property"),
    ({"volume": {"size": "#$%"}}, "Invalid input for field/attribute size. Value: #$%."),
    ({"volume": {"size": 0}}, "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1"),
    ({"volume": {"size": "-1"}}, "Invalid input for field/attribute size. Value: -1."),
    ({"volume": {"size": 1, "metadata": {"k": 1}}}, "Invalid input for field/attribute k. Value: 1."),
    ({"volume": {"size": 1}, "extra": 1}, "Additional properties are not allowed ('extra' was unexpected)"),
])
def test_create_schema(ecsim_server, token, base, body, message):
    msg = fault(ecsim_server.http("POST", f"{base}/volumes", body, token=token), 400, "badRequest")
    assert msg.startswith(message)


def test_unknown_fields_refused_from_3_53(ecsim_server, token, base):
    body = {"volume": {"size": 1, "colour": "red"}}
    msg = fault(ecsim_server.http("POST", f"{base}/volumes", body, token=token,
                                  headers={"OpenStack-API-Version": "volume 3.53"}), 400, "badRequest")
    assert "'colour' was unexpected" in msg


def test_create_from_missing_sources(ecsim_server, token, base):
    for key, text in (("snapshot_id", "Snapshot"), ("source_volid", "Volume"), ("backup_id", "Backup")):
        ref = str(uuid.uuid4())
        body = {"volume": {"size": 1, key: ref}}
        assert fault(ecsim_server.http("POST", f"{base}/volumes", body, token=token,
                                       headers={"OpenStack-API-Version": "volume 3.47"}),
                     404, "itemNotFound") == f"{text} {ref} could not be found."


@pytest.mark.parametrize(("body", "message"), [
    ({"os-extend": {"new_size": "abc"}}, "Invalid input for field/attribute new_size. Value: abc."),
    ({"os-extend": {"new_size": None}}, "Invalid input for field/attribute new_size. Value: None."),
    ({"os-extend": {}}, "Invalid input for field/attribute os-extend. Value: {}. 'new_size' is a required property"),
    ({"os-extend": {"new_size": 1}}, "Invalid input received: New size for extend must be greater than current "
                                     "size. (current: 2, extended: 1)."),
    ({"os-set_bootable": {"bootable": "maybe"}}, "Invalid input for field/attribute bootable. Value: maybe."),
    ({"os-update_readonly_flag": {"readonly": 3}}, "Invalid input for field/attribute readonly. Value: 3."),
    ({"os-attach": {"mountpoint": "/dev/vdb"}}, "Invalid input for field/attribute os-attach. Value: "
                                                "{'mountpoint': '/dev/vdb'}. {'mountpoint': '/dev/vdb'} is not valid"),
    ({"os-attach": {"instance_uuid": "not-a-uuid", "mountpoint": "/dev/vdb"}},
     "Invalid input for field/attribute instance_uuid. Value: not-a-uuid."),
    ({"os-attach": {"instance_uuid": str(uuid.UUID(int=1)), "mountpoint": "/dev/vdb", "mode": "rx"}},
     "Invalid input for field/attribute mode. Value: rx."),
    ({"os-volume_upload_image": {"image_name": "i", "disk_format": "exe"}},
     "Invalid input for field/attribute disk_format. Value: exe."),
    ({"os-extend": {"new_size": 3}, "os-detach": {}}, "Additional properties are not allowed ('os-detach' was "
                                                      "unexpected)"),
    ({"os-hibernate": {}}, "There is no such action: os-hibernate."),
])
def test_bad_actions_change_nothing(ecsim_server, token, base, vol, body, message):
    before = volume(ecsim_server, token, base, vol)
    msg = fault(ecsim_server.http("POST", f"{base}/volumes/{vol}/action", body, token=token), 400, "badRequest")
    assert msg.startswith(message), msg
    after = volume(ecsim_server, token, base, vol)
    assert (after["status"], after["size"], after["bootable"], after["metadata"]) == (
        before["status"], before["size"], before["bootable"], before["metadata"])


def test_wrong_states(ecsim_server, token, base, vol):
    act = lambda body: ecsim_server.http("POST", f"{base}/volumes/{vol}/action", body, token=token)  # noqa: E731
    assert act({"os-reserve": None})[0] == 202
    assert fault(act({"os-reserve": None}), 400, "badRequest").startswith("Invalid volume: Volume status must be "
                                                                          "available to reserve")
    assert fault(act({"os-extend": {"new_size": 5}}), 400, "badRequest").startswith("Invalid volume:")
    assert fault(ecsim_server.http("DELETE", f"{base}/volumes/{vol}", token=token), 400,
                 "badRequest").startswith("Invalid volume: Volume status must be available or error")
    assert volume(ecsim_server, token, base, vol)["status"] == "attaching"


def test_unknown_ids_and_paths(ecsim_server, token, base):
    for vid in (str(uuid.uuid4()), "not-a-uuid"):
        for method, path, body in (("GET", f"/volumes/{vid}", None), ("DELETE", f"/volumes/{vid}", None),
                                   ("PUT", f"/volumes/{vid}", {"volume": {"name": "x"}}),
                                   ("POST", f"/volumes/{vid}/action", {"os-extend": {"new_size": 9}}),
                                   ("POST", f"/volumes/{vid}/action", {"os-reserve": None})):
            msg = fault(ecsim_server.http(method, base + path, body, token=token), 404, "itemNotFound")
            assert msg == f"Volume {vid} could not be found."
    for method in ("GET", "PUT", "DELETE"):  # an empty id is a 404, not the list
        fault(ecsim_server.http(method, f"{base}/volumes/", token=token), 404, "itemNotFound")
    fault(ecsim_server.http("PATCH", f"{base}/volumes", token=token), 404, "itemNotFound")
    fault(ecsim_server.http("GET", f"{base}/types/{uuid.uuid4()}", token=token), 404, "itemNotFound")


def test_lists_with_odd_filters(ecsim_server, token, base):
    for query in ("status=null", f"name=nope-{uuid.uuid4()}", "bootable=false&status=deleting"):
        status, _, body = ecsim_server.http("GET", f"{base}/volumes/detail?{query}", token=token)
        assert status == 200 and body["volumes"] == [], query
    fault(ecsim_server.http("GET", f"{base}/volumes?limit=-1", token=token), 400, "badRequest")
    fault(ecsim_server.http("GET", f"{base}/volumes?sort=name:sideways", token=token), 400, "badRequest")
    fault(ecsim_server.http("GET", f"{base}/volumes?marker={uuid.uuid4()}", token=token), 404, "itemNotFound")
    fault(ecsim_server.http("GET", f"{base}/volumes?metadata=[[", token=token), 400, "badRequest")
    fault(ecsim_server.http("GET", f"{base}/volumes?metadata=" + "[" * 5000, token=token), 400, "badRequest")


def test_wrong_project_and_auth(ecsim_server, token):
    other = "0" * 32
    assert fault(ecsim_server.http("GET", f"/volume/v3/{other}/volumes", token=token), 400,
                 "badRequest") == "Malformed request url"
    status, _, body = ecsim_server.http("GET", f"/volume/v3/{ecsim_server.info['project_id']}/volumes",
                                        token="forged")
    assert status == 401 and body["error_code"] == "APIGW.0301"


def test_huge_body(ecsim_server, token, base):
    blob = b'{"volume": {"size": 1, "description": "' + b"x" * (2 * 1024 * 1024) + b'"}}'
    fault(ecsim_server.http("POST", f"{base}/volumes", raw=blob, token=token), 413, "overLimit")


def test_metadata_limits(ecsim_server, token, base, vol):
    long_key = {"metadata": {"k" * 256: "v"}}
    fault(ecsim_server.http("POST", f"{base}/volumes/{vol}/metadata", long_key, token=token), 400, "badRequest")
    fault(ecsim_server.http("PUT", f"{base}/volumes/{vol}/metadata/a", {"meta": {"a": "1", "b": "2"}}, token=token),
          400, "badRequest")
    assert volume(ecsim_server, token, base, vol)["metadata"] == {}


# -- EVS native -------------------------------------------------------------------------------------------------------
def evs_error(resp, status: int, code: str) -> str:
    got, _, body = resp
    assert got == status, body
    assert body["error"]["code"] == code, body
    return body["error"]["message"]


def test_evs_bad_bodies(ecsim_server, token):
    url = f"/v2.1/{ecsim_server.info['project_id']}/cloudvolumes"
    evs_error(ecsim_server.http("POST", url, raw=b"{", token=token), 400, "EVS.1052")
    msg = evs_error(ecsim_server.http("POST", url, {"volume": {"size": "big"}}, token=token), 400, "EVS.5400")
    assert "volume" in msg
    good = {"availability_zone": ecsim_server.info["region"] + "a", "volume_type": "SSD", "size": 10}
    evs_error(ecsim_server.http("POST", url, {"volume": {**good, "count": 0}}, token=token), 400, "EVS.1021")
    evs_error(ecsim_server.http("POST", url, {"volume": good, "bssParam": {"chargingMode": "prePaid"}},
                                token=token), 400, "EVS.5400")


def test_evs_wrong_project_and_unknown_volume(ecsim_server, token):
    pid = ecsim_server.info["project_id"]
    evs_error(ecsim_server.http("GET", f"/v2/{'0' * 32}/cloudvolumes/detail", token=token), 400, "EVS.0001")
    evs_error(ecsim_server.http("GET", f"/v2/{pid}/cloudvolumes/{uuid.uuid4()}", token=token), 404, "EVS.5404")
    evs_error(ecsim_server.http("POST", f"/v2.1/{pid}/cloudvolumes/{uuid.uuid4()}/action",
                                {"os-extend": {"new_size": 20}}, token=token), 404, "EVS.5404")
    evs_error(ecsim_server.http("POST", f"/v2.1/{pid}/cloudvolumes/{uuid.uuid4()}/action",
                                {"os-retype": {"new_type": "SSD"}}, token=token), 400, "EVS.1052")
