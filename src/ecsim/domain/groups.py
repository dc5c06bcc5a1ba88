"""Server groups (ECS groups / Nova os-server-groups): the group doc and where its policy lets new members run.

A group doc: id, name, project_id, user_id, policies [one policy], rules {}, metadata {}, created. Members are not
stored on the group: a server is a member while its scheduler hints name the group (facet `group`), so deleting a
server needs no second write and every face sees the same membership.
"""

from __future__ import annotations

import random

from ecsim.ids import new_uuid

POLICIES = ("anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity")
NO_VALID_HOST = "No valid host was found. There are not enough hosts available."


def new_group(*, project_id: str, user_id: str, name: str, policy: str, now: float,
              rules: dict | None = None) -> dict:
    return {"id": new_uuid(), "name": name, "project_id": project_id, "user_id": user_id, "policies": [policy],
            "rules": dict(rules or {}), "metadata": {}, "created": now}


def place(policy: str | None, hosts: list[str], taken: list[str], count: int,
          max_per_host: int = 1) -> list[str | None]:
    """Hosts for `count` new servers of a group whose members already run on `taken` (same zone), in the order the
    scheduler would fill them; None where the policy leaves no host (anti-affinity beyond the zone's hosts, or
    beyond `max_per_host` members per host — the 2.64 rule)."""
    if policy == "anti-affinity":
        room = {h: max_per_host - taken.count(h) for h in hosts}
        order = list(hosts)
        random.shuffle(order)
        out: list[str | None] = []
        for _ in range(count):
            host = max(order, key=lambda h: room[h])  # the emptiest host first, as Nova's weighers spread
            if room[host] <= 0:
                out.append(None)
                continue
            room[host] -= 1
            out.append(host)
        return out
    if policy in ("affinity", "soft-affinity") and taken:
        return [taken[0]] * count
    if policy == "affinity":
        return [random.choice(hosts)] * count
    if policy == "soft-anti-affinity":
        load = {h: taken.count(h) for h in hosts}
        out = []
        for _ in range(count):
            host = min(hosts, key=lambda h: (load[h], random.random()))
            load[host] += 1
            out.append(host)
        return out
    return [random.choice(hosts) for _ in range(count)]
