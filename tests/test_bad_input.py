"""Bad input gets the family's 4xx in its own format, never a 500 and never a half-applied change."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from huaweicloudsdkecs.v2 import ShowServerRequest

from helpers import create, signed_headers


@pytest.fixture(scope="module")
def token(ecsim_server):
    return ecsim_server.token()


@pytest.fixture(scope="module")
def pid(ecsim_server):
    return ecsim_server.info["project_id"]


@pytest.fixture(scope="module")
def server_id(ecsim_server):
    return create(ecsim_server.ecs(), ecsim_server.info, "bad-input-target")[1][0]


def ecs_error(resp, status: int, code: str):
    got_status, headers, body = resp
    assert got_status == status, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert len(headers["x-request-id"]) == 32
    return body["error"]["message"]


@pytest.mark.parametrize("raw", [b"{", b"[1,2", b"\xff\xfe", b'{"os-stop": '])
def test_malformed_json(ecsim_server, token, pid, raw):
    ecs_error(ecsim_server.http("POST", f"/v1/{pid}/cloudservers/action", raw=raw, token=token), 400, "Ecs.0005")


def test_empty_body(ecsim_server, token, pid):
    msg = ecs_error(ecsim_server.http("POST", f"/v1/{pid}/cloudservers/delete", raw=b"", token=token),
                    400, "Common.0002")
    assert "blank" in msg


@pytest.mark.parametrize(("body", "needle"), [
    ({"os-stop": {"servers": "all"}}, "$.os-stop.servers"),
    ({"os-stop": {"servers": [{"id": 5}]}}, "$.os-stop.servers[0].id"),
    ({"os-stop": {"servers": [{"id": "x"}], "type": "GENTLE"}}, "$.os-stop.type"),
    ({"reboot": {"servers": [{"id": "x"}]}}, "type"),
    ({"os-stop": None}, "$.os-stop"),
])
def test_wrong_types_name_the_field(ecsim_server, token, pid, body, needle):
    msg = ecs_error(ecsim_server.http("POST", f"/v1/{pid}/cloudservers/action", body, token=token), 400, "Ecs.0005")
    assert needle in msg


def test_unknown_or_ambiguous_action_key(ecsim_server, token, pid, server_id):
    msg = ecs_error(ecsim_server.http("POST", f"/v1/{pid}/cloudservers/action",
                                      {"os-hibernate": {"servers": [{"id": server_id}]}}, token=token),
                    400, "Ecs.0005")
    assert "os-start" in msg and "os-stop" in msg
    both = {"os-stop": {"servers": [{"id": server_id}]}, "os-start": {"servers": [{"id": server_id}]}}
    ecs_error(ecsim_server.http("POST", f"/v1/{pid}/cloudservers/action", both, token=token), 400, "Ecs.0005")
    assert ecsim_server.ecs().show_server(ShowServerRequest(server_id=server_id)).server.status == "ACTIVE"


def test_missing_required_create_fields(ecsim_server, token, pid):
    msg = ecs_error(ecsim_server.http("POST", f"/v1/{pid}/cloudservers", {"server": {"name": "x"}}, token=token),
                    400, "Ecs.0005")
    assert "missing required field" in msg


def test_batch_limits(ecsim_server, token, pid):
    ecs_error(ecsim_server.http("POST", f"/v1/{pid}/cloudservers/action", {"os-start": {"servers": []}},
                                token=token), 400, "Ecs.0005")
    many = [{"id": f"00000000-0000-0000-0000-{i:012d}"} for i in range(1001)]
    ecs_error(ecsim_server.http("POST", f"/v1/{pid}/cloudservers/action", {"os-start": {"servers": many}},
                                token=token), 400, "Ecs.0118")


def test_unknown_server_and_bad_ids(ecsim_server, token, pid):
    for sid in ("11111111-1111-1111-1111-111111111111", "not-a-uuid", "%20", "a" * 300):
        ecs_error(ecsim_server.http("GET", f"/v1/{pid}/cloudservers/{sid}", token=token), 404, "Ecs.0114")


def test_query_parameter_validation(ecsim_server, token, pid):
    for q in ("limit=0", "limit=1001", "limit=abc", "offset=-1", "status=SLEEPING"):
        ecs_error(ecsim_server.http("GET", f"/v1/{pid}/cloudservers/detail?{q}", token=token), 400, "Ecs.0005")
    ecs_error(ecsim_server.http("GET", f"/v1.1/{pid}/cloudservers/detail?limit=101", token=token), 400, "Ecs.0005")
    ecs_error(ecsim_server.http("GET", f"/v1.1/{pid}/cloudservers/detail?marker=nope", token=token),
              400, "Ecs.0005")


@pytest.mark.parametrize("path", ["/v1/{pid}/cloudservers/detail", "/v2/{pid}/cloudvolumes/detail",
                                  "/v3/{pid}/volumes/detail", "/v2.1/{pid}/os-server-groups"])
def test_an_offset_beyond_any_store_is_an_empty_page(ecsim_server, token, pid, path):
    status, _, body = ecsim_server.http("GET", path.format(pid=pid) + "?offset=999999999999999999999", token=token)
    assert status == 200 and not next(v for k, v in body.items() if isinstance(v, list))


def test_openstack_action_bodies_take_one_key(ecsim_server, token, pid, server_id):
    """Nova's and Cinder's dispatch (action_peek): a valid action with another key is refused, not run."""
    status, _, body = ecsim_server.http("POST", f"/v2.1/{pid}/servers/{server_id}/action",
                                        {"lock": None, "x": 1}, token=token)
    assert (status, body["badRequest"]["message"]) == (400, "Malformed request body")
    _, _, shown = ecsim_server.http("GET", f"/v2.1/{pid}/servers/{server_id}", token=token,
                                    headers={"X-OpenStack-Nova-API-Version": "2.9"})
    assert shown["server"]["locked"] is False
    volume = ecsim_server.cinder("3.0").volumes.create(1, name="one-key")
    status, _, body = ecsim_server.http("POST", f"/v3/{pid}/volumes/{volume.id}/action",
                                        {"os-reserve": None, "x": 1}, token=token)
    assert (status, body["badRequest"]["message"]) == (400, "Additional properties are not allowed ('x' was "
                                                             "unexpected)")
    assert ecsim_server.cinder("3.0").volumes.get(volume.id).status == "available"


def test_url_project_that_is_not_the_callers(ecsim_server, token):
    other = "0123456789abcdef0123456789abcdef"
    msg = ecs_error(ecsim_server.http("GET", f"/v1/{other}/cloudservers/detail", token=token), 400, "Ecs.0023")
    assert "mismatch" in msg
    headers = signed_headers(ecsim_server, "GET", f"/v1/{other}/cloudservers/detail")
    ecs_error(ecsim_server.http("GET", f"/v1/{other}/cloudservers/detail", headers=headers), 400, "Ecs.0023")


def test_job_of_another_project_is_unknown(ecsim_server, token, pid, unique):
    from huaweicloudsdkiam.v3 import (
        KeystoneCreateProjectOption,
        KeystoneCreateProjectRequest,
        KeystoneCreateProjectRequestBody,
    )

    info = ecsim_server.info
    sub = ecsim_server.iam().keystone_create_project(KeystoneCreateProjectRequest(
        body=KeystoneCreateProjectRequestBody(project=KeystoneCreateProjectOption(
            name=f"{info['region']}_{unique}", parent_id=pid)))).project
    job_id, _ = create(ecsim_server.ecs(), info, f"jobp-{unique}")
    sub_token = ecsim_server.token(project=sub.name)
    ecs_error(ecsim_server.http("GET", f"/v1/{sub.id}/jobs/{job_id}", token=sub_token), 400, "Common.0011")
    assert ecsim_server.http("GET", f"/v1/{pid}/jobs/{job_id}", token=token)[0] == 200


def gateway_401(resp, needle: str):
    status, _, body = resp
    assert status == 401, body
    assert body["error_code"] == "APIGW.0301" and needle in body["error_msg"] and body["request_id"]


def test_forged_expired_and_missing_tokens(ecsim_server, token, pid):
    path = f"/v1/{pid}/cloudservers/detail"
    gateway_401(ecsim_server.http("GET", path), "no X-Auth-Token")
    gateway_401(ecsim_server.http("GET", path, token="garbage"), "decrypt token fail")
    body, _, mac = token.partition(".")
    gateway_401(ecsim_server.http("GET", path, token=body[:-2] + "AA." + mac), "decrypt token fail")
    assert ecsim_server.http("GET", path, token=token)[0] == 200


def test_expired_token(ecsim_launcher):
    server = ecsim_launcher(["--memory"])
    token = server.token()
    path = f"/v1/{server.info['project_id']}/cloudservers/detail"
    assert server.http("GET", path, token=token)[0] == 200
    assert server.http("POST", "/_ecsim/clock", {"advance": 24 * 3600 + 1})[0] == 200
    gateway_401(server.http("GET", path, token=token), "expired")
    assert server.http("GET", path, token=server.token())[0] == 200


def test_revoked_token(ecsim_server, pid):
    t = ecsim_server.token()
    assert ecsim_server.http("DELETE", "/v3/auth/tokens", headers={"X-Subject-Token": t}, token=t)[0] == 204
    gateway_401(ecsim_server.http("GET", f"/v1/{pid}/cloudservers/detail", token=t), "revoked")


def test_bad_and_stale_signatures(ecsim_server, pid):
    path = f"/v1/{pid}/cloudservers/detail"
    good = signed_headers(ecsim_server, "GET", path)
    assert ecsim_server.http("GET", path, headers=good)[0] == 200
    wrong = signed_headers(ecsim_server, "GET", path, sk="x" * 40)
    gateway_401(ecsim_server.http("GET", path, headers=wrong), "verify aksk signature fail")
    unknown = signed_headers(ecsim_server, "GET", path, ak="NOSUCHKEY1234567890A")
    gateway_401(ecsim_server.http("GET", path, headers=unknown), "ak not exist")
    old = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y%m%dT%H%M%SZ")
    stale = signed_headers(ecsim_server, "GET", path, date=old)
    gateway_401(ecsim_server.http("GET", path, headers=stale), "signature expired")
    bad_scheme = {"Authorization": "SDK-HMAC-SHA256 nonsense"}
    gateway_401(ecsim_server.http("GET", path, headers=bad_scheme), "not an SDK-HMAC-SHA256 signature")


def test_signature_over_a_different_body_fails(ecsim_server, pid, server_id):
    path = f"/v1/{pid}/cloudservers/action"
    signed_body = json.dumps({"os-stop": {"servers": [{"id": "someone-else"}]}}).encode()
    headers = signed_headers(ecsim_server, "POST", path, signed_body)
    sent = json.dumps({"os-stop": {"servers": [{"id": server_id}]}}).encode()
    gateway_401(ecsim_server.http("POST", path, raw=sent, headers=headers), "verify aksk signature fail")
    assert ecsim_server.ecs().show_server(ShowServerRequest(server_id=server_id)).server.status == "ACTIVE"


def test_huge_body_is_413(ecsim_server, token, pid):
    status, _, body = ecsim_server.http("POST", f"/v1/{pid}/cloudservers/action", raw=b"x" * (2 * 1024 * 1024),
                                        token=token)
    assert status == 413 and body["error_code"] == "APIGW.0201"


def test_deeply_nested_bodies_are_400_in_every_family(ecsim_server, token, pid):
    deep = "[" * 3000 + "]" * 3000
    for path, shape in ((f"/v1/{pid}/cloudservers", "error"), (f"/v2/{pid}/cloudvolumes", "error"),
                        (f"/compute/v2.1/{pid}/servers", "badRequest"), ("/v3/auth/tokens", "error")):
        status, _, body = ecsim_server.http("POST", path, raw=f'{{"server": {deep}}}'.encode(), token=token)
        assert status == 400 and shape in body, (path, body)
    policy = {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ecs:*:*"], "Condition": {
        "StringEquals": {"g:UserName": "X"}}}]}
    text = json.dumps({"role": {"display_name": "deep", "type": "XA", "description": "", "policy": policy}})
    text = text.replace('"X"', deep[:1800] + deep[-1800:])
    status, _, body = ecsim_server.http("POST", "/v3.0/OS-ROLE/roles", raw=text.encode(), token=token)
    assert status == 400, body


def test_unknown_path_and_method(ecsim_server, token, pid):
    status, _, body = ecsim_server.http("GET", f"/v1/{pid}/cloudservers/detail/extra/segments", token=token)
    assert status == 404 and body["error_code"] == "APIGW.0101"
    status, _, body = ecsim_server.http("DELETE", f"/v1/{pid}/cloudservers/detail", token=token)
    assert status in (404, 405) and body["error_code"] == "APIGW.0101"
    status, _, body = ecsim_server.http("GET", "/v3/no-such-thing", token=token)
    assert status == 404 and body["error"]["title"] == "Not Found"


def test_keystone_bad_input(ecsim_server):
    status, _, body = ecsim_server.http("POST", "/v3/auth/tokens", raw=b"{nope")
    assert status == 400 and body["error"]["code"] == 400 and body["error"]["title"] == "Bad Request"
    bad_pw = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": ecsim_server.info["admin_user"], "password": "wrong", "domain": {"name": "ecsim"}}}}}}
    status, _, body = ecsim_server.http("POST", "/v3/auth/tokens", bad_pw)
    assert status == 401 and body["error"]["title"] == "Unauthorized"
    status, _, body = ecsim_server.http("POST", "/v3/auth/tokens", {"auth": {"identity": {"methods": "password"}}})
    assert status == 400 and "$.auth.identity.methods" in body["error"]["message"]
    # A body must be JSON, or come without a Content-Type (Keystone's json_body check).
    good = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": ecsim_server.info["admin_user"], "password": ecsim_server.info["admin_password"],
        "domain": {"name": ecsim_server.info["domain_name"]}}}}}}
    for ctype in ("text/plain", "application/xml", "application/x-www-form-urlencoded"):
        status, _, body = ecsim_server.http("POST", "/v3/auth/tokens", good, {"Content-Type": ctype})
        assert status == 400 and body["error"]["message"].startswith(
            "Expecting to find application/json in Content-Type header"), ctype
    for ctype in (None, "application/json; charset=UTF-8", "application/vnd.openstack.identity+json"):
        assert ecsim_server.http("POST", "/v3/auth/tokens", good, {"Content-Type": ctype})[0] == 201, ctype


def test_iam_bad_input(ecsim_server, token, unique):
    cases = [
        ("POST", "/v3/groups", {"group": {"description": "no name"}}, 400),
        ("POST", "/v3/groups", {"grp": {}}, 400),
        ("PUT", "/v3/groups/nope/users/nope", None, 404),
        ("GET", "/v3/users/nope", None, 404),
        ("POST", "/v3.0/OS-USER/users", {"user": {"name": "1starts-with-digit", "password": "Passw0rd!"}}, 400),
        ("POST", "/v3.0/OS-USER/users", {"user": {"name": f"weak-{unique}", "password": "aaaaaaaa"}}, 400),
        ("POST", "/v3.0/OS-CREDENTIAL/credentials", {"credential": {"user_id": "nope"}}, 404),
        ("POST", "/v3.0/OS-ROLE/roles", {"role": {"display_name": "x", "type": "ZZ", "description": "",
                                                  "policy": {"Version": "1.1", "Statement": []}}}, 400),
    ]
    for method, path, body, status in cases:
        got, _, payload = ecsim_server.http(method, path, body, token=token)
        assert got == status, (method, path, payload)
        assert payload["error"]["code"] == status
    ok, _, _ = ecsim_server.http("POST", "/v3/groups", {"group": {"name": f"dup-{unique}"}}, token=token)
    dup, _, payload = ecsim_server.http("POST", "/v3/groups", {"group": {"name": f"dup-{unique}"}}, token=token)
    assert (ok, dup) == (201, 409) and "Duplicate entry" in payload["error"]["message"]


def test_the_clock_refuses_times_it_could_not_show(ecsim_server):
    """An advance or a set past what timestamps can render is 400 and changes nothing (it used to break every
    later request)."""
    _, _, before = ecsim_server.http("GET", "/_ecsim/clock")
    for body in ({"advance": 3e11}, {"advance": 1e300}, {"set": "1970-01-02T00:00:00Z"}):
        status, _, out = ecsim_server.http("POST", "/_ecsim/clock", body)
        assert status == 400 and "clock must stay" in out["error"]["message"], body
    _, _, after = ecsim_server.http("GET", "/_ecsim/clock")
    assert after["frozen"] == before["frozen"] and abs(after["offset"] - before["offset"]) < 1
    assert ecsim_server.http("GET", "/_ecsim/health")[0] == 200
