"""`ecsim iam lint`: what a policy's author would want to hear before uploading it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ecsim.cli import main
from ecsim.iam.analysis import lint


def p11(*statements: dict) -> dict:
    return {"Version": "1.1", "Statement": list(statements)}


def allow(*actions: str, **extra) -> dict:
    return {"Effect": "Allow", "Action": list(actions), **extra}


def messages(doc: dict) -> list[tuple[str, str, str]]:
    return [(f.level, f.where, f.message) for f in lint(doc)]


def test_a_tight_policy_has_no_findings():
    assert lint(p11(allow("ecs:cloudServers:list", "ecs:cloudServers:get", "ecs:cloudServers:stop"))) == []
    assert lint({"Version": "5.0", "Statement": [allow("evs:volumes:get", Resource=["evs:*:*:volume:*"])]}) == []


def test_syntax_errors_are_the_upload_errors():
    [(level, where, msg)] = messages({"Version": "1.1", "Statement": [{"Effect": "Maybe", "Action": ["ecs:a:b"]}]})
    assert (level, where) == ("error", "policy") and "Statement[0].Effect" in msg


def test_unknown_actions_with_a_suggestion_and_unemulated_services():
    found = messages(p11(allow("ecs:cloudServers:strat", "obs:bucket:listBucket")))
    assert found[0][:2] == ("warning", "Statement[0].Action[0]") and "did you mean 'ecs:cloudServers:start'" in \
        found[0][2]
    assert found[1][0] == "info" and "'obs' is not emulated" in found[1][2]


@pytest.mark.parametrize(("pattern", "fragment"), [
    ("*", "every action of every service"),
    ("*:*:*", "every action of every service"),
    ("*:*:get*", "spans every service"),
    ("ecs:cloudServers:*", "write actions"),
    ("ecs:*:get*", None),  # reads only: nothing to say
    ("ecs:*:nothing*", "matches no known action"),
])
def test_wildcards_that_grant_more_than_they_seem(pattern, fragment):
    found = " | ".join(m for _, _, m in messages(p11(allow(pattern))))
    assert (fragment in found) if fragment else found == ""


def test_resource_on_actions_without_resource_level_support():
    found = messages(p11(allow("ecs:cloudServers:list", "ecs:cloudServers:stop",
                               Resource=["ECS:*:*:instance:0b7c3f0e-0000-4000-8000-000000000001"])))
    assert [(level, where) for level, where, _ in found] == [("warning", "Statement[0].Resource")]
    assert "ecs:cloudServers:list" in found[0][2] and "ecs:cloudServers:stop" not in found[0][2]


def test_missing_dependencies_of_targeted_operations():
    found = messages(p11(allow("ecs:servers:resize", "ecs:servers:get")))
    assert len(found) == 1 and found[0][2].startswith("nova.resize_server.v2, nova.resize_server.v21 also need")
    assert "ims:images:get" in found[0][2] and "vpc:ports:create" in found[0][2]
    # an explicit Deny of a dependency is missing too; a full wildcard targets nothing in particular
    found = messages(p11(allow("ecs:cloudServers:attach", "evs:*:*"),
                         {"Effect": "Deny", "Action": ["evs:volumes:use"]}))
    assert any("ecs.attach_server_volume" in m and "evs:volumes:use" in m for _, _, m in found)
    assert not any("also need" in m for _, _, m in messages(p11(allow("*:*:*"))))


def test_upload_limits_are_errors_too():
    found = messages(p11(*[allow(f"ecs:cloudServers:{a}") for a in ("list", "get", "stop", "start", "reboot",
                                                                    "delete", "create", "attach", "detachVolume")]))
    assert found[0][:2] == ("error", "policy") and "at most 8" in found[0][2]
    big = p11(allow(*[f"ecs:cloudServers:{'x' * 40}{i}" for i in range(150)]))
    assert any("characters long" in m for _, _, m in messages(big))
    assert [w for _, w, _ in messages({"Version": "1.0", "Statement": [allow("ecs:cloudServers:list")]})] == \
        ["Version"]


def test_cli_lint_reads_role_objects_and_suggested_lists(tmp_path):
    role, several = tmp_path / "role.json", tmp_path / "list.json"
    role.write_text(json.dumps({"role": {"id": "x", "policy": p11(allow("ecs:cloudServers:lsit"))}}))
    several.write_text(json.dumps([{"type": "XA", "policy": p11(allow("ecs:cloudServers:list"))},
                                   {"type": "XA", "policy": p11(allow("ecs:cloudServers:lsit"))}]))
    runner = CliRunner()
    r = runner.invoke(main, ["iam", "lint", str(role), "--json"])
    assert r.exit_code == 1 and json.loads(r.output)[0]["where"] == "Statement[0].Action[0]"
    r = runner.invoke(main, ["iam", "lint", str(several), "--json"])
    assert r.exit_code == 1 and [f["where"] for f in json.loads(r.output)] == ["[1].Statement[0].Action[0]"]
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 5000 + "]" * 5000)
    r = runner.invoke(main, ["iam", "lint", str(deep)])
    assert r.exit_code == 2 and "recursion" in r.output and isinstance(r.exception, SystemExit)  # no traceback


def test_cli_lint_exit_codes(tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(p11(allow("ecs:cloudServers:list"))))
    bad.write_text(json.dumps(p11(allow("ecs:cloudServers:lsit"))))
    runner = CliRunner()
    assert runner.invoke(main, ["iam", "lint", str(good)]).exit_code == 0
    r = runner.invoke(main, ["iam", "lint", str(bad), "--json"])
    assert r.exit_code == 1 and json.loads(r.output)[0]["where"] == "Statement[0].Action[0]"


def test_case_not_action_and_not_resource():
    assert lint(p11(allow("ecs:cloudservers:LIST"))) == []  # resource type and action are case-insensitive
    found = messages({"Version": "5.0", "Statement": [{"Effect": "Allow", "NotAction": ["iam:*:*"]}]})
    assert [(level, where) for level, where, _ in found] == [("warning", "Statement[0].NotAction")]
    assert lint({"Version": "5.0", "Statement": [allow("ecs:cloudServers:list",
                                                       NotResource=["ecs:*:*:instance:a"])]}) == []
