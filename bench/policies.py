"""The 50-statement policy set of the policy-show benchmark (bench/run.py, bench/hotpath.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


def fifty_statement_user(http: Callable[..., Any], info: dict, other_server: str) -> dict:
    """A user whose group holds 7 custom policies, 50 statements in all (at most 8 per 1.1 policy): allows and
    denies across services, conditions, and the statements that decide a server show — an Allow with a Condition
    and a Deny scoped to another server. `http(method, path, body=None)` is an admin's call returning the JSON."""
    pid = info["project_id"]
    patterns = ["vpc:*:get*", "vpc:*:list*", "evs:volumes:list", "evs:volumes:get", "ims:images:list",
                "ims:images:get", "ecs:cloudServers:list", "ecs:cloudServerFlavors:get", "evs:snapshots:*",
                "kms:cmk:get", "ecs:servers:get", "ecs:servers:list", "obs:bucket:ListBucket", "dns:zone:list"]
    statements: list[dict] = []
    for i in range(48):
        s: dict = {"Effect": "Deny" if i % 6 == 5 else "Allow", "Action": [patterns[i % len(patterns)],
                                                                         patterns[(i * 5 + 3) % len(patterns)]]}
        if s["Effect"] == "Deny":
            s["Action"] = [f"ecs:cloudServers:{verb}" for verb in ("delete", "resize", "changeOS")[: 1 + i % 3]]
            s["Condition"] = {"StringEquals": {"g:UserName": [f"someone-else-{i}"]}}
        elif i % 4 == 0:
            s["Condition"] = {"StringEquals": {"g:ProjectName": [info["region"]]}}
        statements.append(s)
    statements.append({"Effect": "Allow", "Action": ["ecs:cloudServers:get"],
                       "Condition": {"IpAddress": {"g:SourceIp": ["127.0.0.0/8"]}}})
    statements.append({"Effect": "Deny", "Action": ["ecs:cloudServers:get"],
                       "Resource": [f"ECS:*:*:instance:{other_server}"]})
    name = f"bench-policy-{os.urandom(4).hex()}"  # unique: two targets may share one store
    user = http("POST", "/v3/users", {"user": {"name": name, "password": "Bench-passw0rd!",
                                               "domain_id": info["domain_id"]}})
    group = http("POST", "/v3/groups", {"group": {"name": name}})
    gid, uid = group["group"]["id"], user["user"]["id"]
    http("PUT", f"/v3/groups/{gid}/users/{uid}")
    for n in range(0, len(statements), 8):
        role = http("POST", "/v3.0/OS-ROLE/roles", {"role": {
            "display_name": f"{name}-{n}", "type": "XA", "description": "bench",
            "policy": {"Version": "1.1", "Statement": statements[n:n + 8]}}})
        http("PUT", f"/v3/projects/{pid}/groups/{gid}/roles/{role['role']['id']}")
    cred = http("POST", "/v3.0/OS-CREDENTIAL/credentials", {"credential": {"user_id": uid}})
    return {"ak": cred["credential"]["access"], "sk": cred["credential"]["secret"]}
