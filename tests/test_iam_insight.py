"""ecsim's IAM insight: the simulator (for a user or for policy documents), the least-privilege generator proven
by replay, the linter and the encoded-message decoder, over HTTP and through `ecsim iam …`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from huaweicloudsdkecs.v2 import (
    AttachServerVolumeOption,
    AttachServerVolumeRequest,
    AttachServerVolumeRequestBody,
    ListServersDetailsRequest,
    PostPaidServerTag,
    ShowServerRequest,
)
from huaweicloudsdkevs.v2 import CreateVolumeOption, CreateVolumeRequest, CreateVolumeRequestBody, ShowVolumeRequest
from huaweicloudsdkims.v2 import ListImagesRequest

from ecsim.cli import main
from ecsim.iam.analysis import lint
from ecsim.iam.evaluate import decode_authorization_message
from helpers import create, err, job, make_user, start, stop


@pytest.fixture(scope="module")
def target(ecsim_server):
    return create(ecsim_server.ecs(), ecsim_server.info, "insight", availability_zone=ecsim_server.info["region"]
                  + "a")[1][0]


def simulate(server, **body) -> tuple[int, dict]:
    status, _, out = server.http("POST", "/_ecsim/iam/simulate", body)
    return status, out


def test_simulate_a_users_granted_policies(ecsim_server, target, unique):
    u = make_user(ecsim_server, f"sim-{unique}", allow=["ecs:cloudServers:list", "ecs:cloudServers:get"])
    status, out = simulate(ecsim_server, user=u["name"], operations=[
        "ecs.list_servers_details", "POST /v1/{project_id}/cloudservers/action os-stop",
        f"GET /v1/{ecsim_server.info['project_id']}/cloudservers/{target}"])
    assert status == 200 and out["allowed"] is False
    listed, stopped, shown = out["results"]
    assert listed["decision"] == "allowed" and listed["actions"][0]["statement"]["policy"] == f"p-{u['name']}"
    assert (stopped["operation"], stopped["decision"]) == ("ecs.batch_stop_servers", "implicit_deny")
    assert stopped["denied_action"] == "ecs:cloudServers:stop"
    assert (shown["operation"], shown["decision"]) == ("ecs.show_server", "allowed")
    # the admin is allowed everything; the simulation is not recorded as a call
    status, out = simulate(ecsim_server, user=ecsim_server.info["admin_user"], operations=["ecs.batch_stop_servers"])
    assert out["allowed"] is True and out["results"][0]["basis"] == "admin"
    _, _, log = ecsim_server.http("GET", f"/_ecsim/decisions?user={u['name']}")
    assert log["decisions"] == []


def test_simulate_documents_resources_and_context(ecsim_server, target):
    doc = {"Version": "5.0", "Statement": [
        {"Effect": "Allow", "Action": ["ecs:cloudServers:stop"], "Resource": [f"ecs:*:*:instance:{target}"]},
        {"Effect": "Allow", "Action": ["ecs:cloudServers:list"],
         "Condition": {"IpAddress": {"g:SourceIp": ["10.0.0.0/8"]}}},
        {"Effect": "Deny", "Action": ["ecs:cloudServers:delete"]}]}
    ops = ["ecs.batch_stop_servers", "ecs.list_servers_details", "ecs.delete_servers"]
    _, out = simulate(ecsim_server, policies=[doc], operations=ops, resources=[target],
                      context={"g:SourceIp": "10.1.2.3"})
    assert [r["decision"] for r in out["results"]] == ["allowed", "allowed", "explicit_deny"]
    assert out["results"][2]["actions"][0]["statement"]["statement_index"] == 2
    _, out = simulate(ecsim_server, policies=[doc], operations=ops, resources=["0b7c3f0e-0000-4000-8000-00000000000f"])
    assert [r["decision"] for r in out["results"]] == ["implicit_deny", "implicit_deny", "explicit_deny"]


def test_simulate_reads_the_path_and_the_resources_tags(ecsim_server, unique):
    """As the server would decide: the resource a concrete path names, and the tags of resources that exist."""
    info = ecsim_server.info
    _, (tagged,) = create(ecsim_server.ecs(), info, f"simtag-{unique}",
                          server_tags=[PostPaidServerTag(key="team", value="a")])
    _, (other,) = create(ecsim_server.ecs(), info, f"simtag2-{unique}")
    doc = {"Version": "5.0", "Statement": [
        {"Effect": "Allow", "Action": ["ecs:cloudServers:get"], "Resource": [f"ecs:*:*:instance:{tagged}"]},
        {"Effect": "Allow", "Action": ["ecs:cloudServers:stop"],
         "Condition": {"StringEquals": {"g:ResourceTag/team": ["a"]}}}]}
    show = f"GET /v1/{info['project_id']}/cloudservers/"
    _, out = simulate(ecsim_server, policies=[doc], operations=[show + tagged, show + other])
    assert [r["decision"] for r in out["results"]] == ["allowed", "implicit_deny"]
    for server, decision in ((tagged, "allowed"), (other, "implicit_deny")):
        _, out = simulate(ecsim_server, policies=[doc], operations=["ecs.batch_stop_servers"], resources=[server])
        assert out["results"][0]["decision"] == decision


@pytest.mark.parametrize(("body", "status", "fragment"), [
    ({"operations": ["ecs.list_servers_details"]}, 400, "exactly one of"),
    ({"user": "x", "policies": [], "operations": ["ecs.list_servers_details"]}, 400, "exactly one of"),
    ({"policies": [{"Version": "1.1"}], "operations": ["ecs.list_servers_details"]}, 400, "policies[0]"),
    ({"policies": [{"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ecs:x:y"]}]}],
      "operations": ["ecs.no_such_thing"]}, 400, "neither a catalog operation"),
    ({"user": "no-such-user-at-all", "operations": ["ecs.list_servers_details"]}, 404, "does not exist"),
    ({"user": "x", "operations": ["ecs.list_servers_details"], "bogus": 1}, 400, "bogus"),
    ({"policies": [{"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ecs:*:*"]}]}],
      "operations": ["PATCH /v1/abc/cloudservers/xyz"]}, 400, "takes only"),
])
def test_simulate_bad_input(ecsim_server, body, status, fragment):
    got, out = simulate(ecsim_server, **body)
    assert got == status and fragment in out["error"]["message"]


def replay(server, user: dict) -> None:
    """The script: the calls a user's automation makes, through the real SDKs (raises on the first refusal)."""
    sid = create(server.ecs(), server.info, "replay", availability_zone=server.info["region"] + "a")[1][0]
    ecs, evs = server.ecs(user["ak"], user["sk"]), server.evs(user["ak"], user["sk"])
    ecs.list_servers_details(ListServersDetailsRequest(limit=5))
    ecs.show_server(ShowServerRequest(server_id=sid))
    assert job(ecs, stop(ecs, [sid])).status == "SUCCESS"
    assert job(ecs, start(ecs, [sid])).status == "SUCCESS"
    option = CreateVolumeOption(availability_zone=server.info["region"] + "a", volume_type="SSD", size=10)
    vid = evs.create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=option))).volume_ids[0]
    evs.show_volume(ShowVolumeRequest(volume_id=vid))
    ecs.attach_server_volume(AttachServerVolumeRequest(server_id=sid, body=AttachServerVolumeRequestBody(
        volume_attachment=AttachServerVolumeOption(volume_id=vid))))
    server.ims(user["ak"], user["sk"]).list_images(ListImagesRequest(limit=1))


def test_suggested_policy_allows_exactly_the_recorded_calls(ecsim_server, unique):
    worker = make_user(ecsim_server, f"wrk-{unique}",
                       system=["ECS FullAccess", "EVS FullAccess", "IMS ReadOnlyAccess"])
    replay(ecsim_server, worker)
    status, _, out = ecsim_server.http("GET", f"/_ecsim/iam/suggest?user={worker['name']}")
    assert status == 200
    expected = ["ecs:cloudServers:attach", "ecs:cloudServers:get", "ecs:cloudServers:list", "ecs:cloudServers:start",
                "ecs:cloudServers:stop", "evs:volumes:create", "evs:volumes:get", "evs:volumes:use",
                "ims:images:list"]
    assert out["actions"] == expected  # evs:volumes:use is attach's dependency
    assert out["policies_1_1"] == [{"type": "XA", "policy": {"Version": "1.1", "Statement": [
        {"Effect": "Allow", "Action": expected}]}}]
    assert out["policy_5_0"]["Version"] == "5.0" and out["policy_5_0"]["Statement"][0]["Action"] == expected
    assert out["projects"] == [ecsim_server.info["project_id"]]  # where to grant the XA policy
    assert lint(out["policies_1_1"][0]["policy"]) == [] and lint(out["policy_5_0"]) == []

    replay(ecsim_server, make_user(ecsim_server, f"least-{unique}", allow=expected))
    for i, action in enumerate(expected):  # each action is needed: without it one of the calls is refused
        fewer = make_user(ecsim_server, f"less{i}-{unique}", allow=[a for a in expected if a != action])
        e = err(lambda u=fewer: replay(ecsim_server, u))
        assert e.status_code == 403, (action, e.error_msg)
        assert decode_authorization_message(e.encoded_auth_msg)["denied_action"] == action


def test_suggest_needs_recorded_calls(ecsim_server, unique):
    status, _, out = ecsim_server.http("GET", "/_ecsim/iam/suggest")
    assert status == 400 and "user" in out["error"]["message"]
    assert ecsim_server.http("GET", "/_ecsim/iam/suggest?until=2000-01-01T00:00:00Z")[0] == 404  # a window: none
    status, _, out = ecsim_server.http("GET", f"/_ecsim/iam/suggest?user=nobody-{unique}")
    assert status == 404 and f"user 'nobody-{unique}' does not exist" in out["error"]["message"]
    quiet = make_user(ecsim_server, f"quiet-{unique}")  # exists, made no call
    status, _, out = ecsim_server.http("GET", f"/_ecsim/iam/suggest?user={quiet['name']}")
    assert status == 404 and "no recorded calls" in out["error"]["message"]


def test_cli_simulate_suggest_log_decode(ecsim_server, target, unique, tmp_path):
    endpoint = f"http://127.0.0.1:{ecsim_server.port}"
    u = make_user(ecsim_server, f"cli-{unique}", allow=["ecs:cloudServers:list"])
    runner = CliRunner()
    r = runner.invoke(main, ["iam", "simulate", "--endpoint", endpoint, "--user", u["name"], "--json",
                             "ecs.list_servers_details"])
    assert r.exit_code == 0 and json.loads(r.output)["results"][0]["decision"] == "allowed"
    r = runner.invoke(main, ["iam", "simulate", "--endpoint", endpoint, "--user", u["name"], "ecs.delete_servers"])
    assert r.exit_code == 1 and "implicit_deny" in r.output and "ecs:cloudServers:delete" in r.output  # and why
    r = runner.invoke(main, ["iam", "simulate", "--endpoint", endpoint, "--user", f"nobody-{unique}",
                             "ecs.delete_servers"])
    assert r.exit_code == 2 and "does not exist" in r.output  # an error, not a denial
    r = runner.invoke(main, ["iam", "suggest", "--endpoint", endpoint, "--user", u["name"], "-o",
                             str(tmp_path / "no" / "such" / "dir.json")])
    assert r.exit_code != 0 and isinstance(r.exception, SystemExit)  # a message, no traceback

    e = err(lambda: stop(ecsim_server.ecs(u["ak"], u["sk"]), [target]))
    r = runner.invoke(main, ["iam", "decode", e.encoded_auth_msg])
    assert r.exit_code == 0 and json.loads(r.output)["denied_action"] == "ecs:cloudServers:stop"
    r = runner.invoke(main, ["iam", "log", "--endpoint", endpoint, "--user", u["name"], "--denied", "--json"])
    assert r.exit_code == 0 and [d["operation"] for d in json.loads(r.output)] == ["ecs.batch_stop_servers"]

    out = tmp_path / "policy.json"
    r = runner.invoke(main, ["iam", "suggest", "--endpoint", endpoint, "--user", u["name"], "--format", "5.0",
                             "-o", str(out)])
    assert r.exit_code == 0
    assert json.loads(out.read_text())["Statement"][0]["Action"] == ["ecs:cloudServers:stop"]  # the one call made
