"""Policy grammar, validation messages and evaluation (no HTTP)."""

from __future__ import annotations

import pytest

from ecsim.iam import system
from ecsim.iam.evaluate import PolicySet, decide, within_session
from ecsim.iam.policy import PolicyError, parse_policy


def pset(*statements: dict, version: str = "1.1") -> PolicySet:
    return PolicySet([parse_policy({"Version": version, "Statement": list(statements)}, policy_id="p", name="P")])


def allow(*actions: str, **extra: object) -> dict:
    return {"Effect": "Allow", "Action": list(actions), **extra}


def deny(*actions: str, **extra: object) -> dict:
    return {"Effect": "Deny", "Action": list(actions), **extra}


def ctx(values: dict | None = None):
    return lambda action, urn: dict(values or {})


def effect(ps: PolicySet, action: str, context: dict | None = None) -> str:
    return ps.evaluate(action, ctx(context))[0]


@pytest.mark.parametrize(("pattern", "action", "hit"), [
    ("ecs:cloudServers:list", "ecs:cloudServers:list", True),
    ("ecs:cloudservers:LIST", "ecs:cloudServers:list", True),  # resource type and action are case-insensitive
    ("ecs:*:get*", "ecs:cloudServers:get", True),
    ("ecs:*:get*", "ecs:cloudServerFlavors:get", True),
    ("ecs:*:get", "ecs:cloudServers:getSomething", False),  # `get` is exact, `get*` a prefix
    ("ecs:*:*", "evs:volumes:get", False),
    ("*:*:*", "evs:volumes:get", True),
    ("*", "iam:users:createUser", True),
    ("ecs:cloud*:st*", "ecs:cloudServers:stop", True),
    ("ecs:cloud*:st*", "ecs:servers:stop", False),
    ("ecs:*:list*", "ecs:cloudServers:list", True),
])
def test_action_wildcards(pattern, action, hit):
    assert (effect(pset(allow(pattern)), action) == "allow") is hit


def test_aliases_old_and_new_names_are_one_permission():
    assert effect(pset(allow("ecs:cloudServers:createServers")), "ecs:cloudServers:create") == "allow"
    assert effect(pset(allow("ecs:cloudServers:get")), "ecs:cloudServers:showServer") == "allow"
    assert effect(pset(allow("*:*:*"), deny("ecs:cloudServers:deleteServers")), "ecs:cloudServers:delete") \
        == "explicit_deny"


def test_explicit_deny_wins_and_no_allow_is_implicit_deny():
    ps = PolicySet([
        parse_policy(system.ECS_FULL, policy_id="full", name="ECS FullAccess"),
        parse_policy({"Version": "1.1", "Statement": [deny("ecs:cloudServers:delete")]}, policy_id="d", name="D"),
    ])
    assert effect(ps, "ecs:cloudServers:stop") == "allow"
    assert effect(ps, "ecs:cloudServers:delete") == "explicit_deny"
    assert effect(ps, "iam:users:createUser") == "implicit_deny"


def test_decide_reports_each_action_and_dependency():
    ps = pset(allow("evs:volumes:extend"))
    d = decide(ps, ("evs:volumes:extend",), ("evs:volumes:get",), ctx())
    assert not d.allowed
    assert d.denied is not None and d.denied.action == "evs:volumes:get" and d.denied.role == "dependency"
    assert [r.effect for r in d.results] == ["allow", "implicit_deny"]
    assert "dependency" in d.explain()
    d = decide(pset(allow("evs:*:*")), ("evs:volumes:extend",), ("evs:volumes:get",), ctx())
    assert d.allowed and d.denied is None


def test_system_policies_hold_their_contents():
    read_only = PolicySet([parse_policy(system.ECS_READONLY, policy_id="ro", name="ro")])
    assert effect(read_only, "ecs:cloudServers:list") == "allow"
    assert effect(read_only, "ecs:cloudServers:stop") == "implicit_deny"
    common = PolicySet([parse_policy(system.ECS_COMMON, policy_id="co", name="co")])
    assert effect(common, "ecs:cloudServers:stop") == "allow"
    assert effect(common, "ecs:cloudServers:create") == "implicit_deny"
    assert effect(common, "ecs:cloudServers:put") == "implicit_deny"
    te_admin = system.BY_NAME["te_admin"]
    admin = PolicySet([parse_policy(te_admin.policy, policy_id="t", name="t")])
    assert effect(admin, "ecs:cloudServers:delete") == "allow"
    assert effect(admin, "iam:users:createUser") == "explicit_deny"


@pytest.mark.parametrize(("doc", "message"), [
    ({"Statement": [allow("ecs:*:*")]}, "Version must be one of"),
    ({"Version": "1.1", "Statement": []}, "Statement must be a non-empty list"),
    ({"Version": "1.1", "Statement": [{"Effect": "Permit", "Action": ["ecs:*:*"]}]}, r"Statement\[0\].Effect"),
    ({"Version": "1.1", "Statement": [allow("ecs:servers")]}, r"Statement\[0\].Action\[0\] 'ecs:servers'"),
    ({"Version": "1.1", "Statement": [allow("ECS:servers:list")]}, "lower-case"),
    ({"Version": "1.1", "Statement": [allow("ecs:*:*", Condition={"StringEq": {"g:UserName": ["a"]}})]},
     "unknown condition operator 'StringEq'"),
    ({"Version": "1.1", "Statement": [allow("ecs:*:*", Condition={"StringEquals": {"g:Nobody": ["a"]}})]},
     "unknown global condition key"),
    ({"Version": "1.1", "Statement": [allow("ecs:*:*", Condition={"IpAddress": {"g:SourceIp": ["1.2.3"]}})]},
     "not an IP address"),
    ({"Version": "1.1", "Statement": [allow("ecs:*:*", Condition={"Bool": {"g:MFAPresent": ["yes"]}})]},
     "'yes' is not true or false"),  # never read as false: that would grant without MFA
    ({"Version": "1.1", "Statement": [allow("ecs:*:*", Condition={"Null": {"g:SourceIp": ["1"]}})]},
     "'1' is not true or false"),
    ({"Version": "1.1", "Statement": [allow("ecs:*:*", Resource=["instance-1"])]}, "not a resource URN"),
    ({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["a:b:c"], "Extra": 1}]}, "unknown element"),
    ({"Version": "1.1", "Statement": [allow("evs:volumes:get", Resource=["evs:*:*:volume:v1"])]},
     r"Statement\[0\].Resource\[0\] .* EVS does not support resource-level"),
    ({"Version": "5.0", "Statement": [allow("ecs:*:*", Resource=["*"], NotResource=["ecs:*:*:instance:a"])]},
     "Resource or NotResource, not both"),
    ({"Version": "5.0", "Statement": [allow("ecs:*:*", Resource={"uri": ["/iam/agencies/x"]})]},
     "must be a list of resource URNs"),
])
def test_malformed_policies_name_the_faulty_element(doc, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy(doc)


def test_conditions_user_name_time_and_source_ip():
    ps = pset(allow("ecs:*:*", Condition={"StringEquals": {"g:UserName": ["alice", "bob"]}}))
    assert effect(ps, "ecs:cloudServers:list", {"g:username": "bob"}) == "allow"
    assert effect(ps, "ecs:cloudServers:list", {"g:username": "carol"}) == "implicit_deny"
    assert effect(ps, "ecs:cloudServers:list", {}) == "implicit_deny"
    window = pset(allow("ecs:*:*", Condition={"DateLessThan": {"g:CurrentTime": ["2030-01-01T00:00:00Z"]},
                                              "DateGreaterThan": {"g:CurrentTime": ["2020-01-01T00:00:00Z"]}}))
    assert effect(window, "ecs:a:b", {"g:currenttime": "2026-01-01T00:00:00Z"}) == "allow"
    assert effect(window, "ecs:a:b", {"g:currenttime": "2031-01-01T00:00:00Z"}) == "implicit_deny"
    ip = pset(deny("ecs:*:*", Condition={"NotIpAddress": {"g:SourceIp": ["10.0.0.0/8"]}}), allow("ecs:*:*"))
    assert effect(ip, "ecs:a:b", {"g:sourceip": "10.1.2.3"}) == "allow"
    assert effect(ip, "ecs:a:b", {"g:sourceip": "192.168.1.1"}) == "explicit_deny"


def test_condition_if_exists_and_negation():
    ps = pset(allow("ecs:*:*", Condition={"StringEqualsIfExists": {"g:ProjectName": ["cn-north-4"]}}))
    assert effect(ps, "ecs:a:b", {}) == "allow"
    assert effect(ps, "ecs:a:b", {"g:projectname": "cn-north-4"}) == "allow"
    assert effect(ps, "ecs:a:b", {"g:projectname": "ap-southeast-1"}) == "implicit_deny"
    ne = pset(allow("ecs:*:*", Condition={"StringNotEquals": {"g:UserName": ["mallory"]}}))
    assert effect(ne, "ecs:a:b", {"g:username": "alice"}) == "allow"
    assert effect(ne, "ecs:a:b", {"g:username": "mallory"}) == "implicit_deny"
    start = pset(allow("ecs:*:*", Condition={"StringStartWith": {"g:UserName": ["ops-"]}}))
    assert effect(start, "ecs:a:b", {"g:username": "ops-1"}) == "allow"
    assert effect(start, "ecs:a:b", {"g:username": "dev-1"}) == "implicit_deny"


def test_resource_scoped_statement_matches_only_listed_instances():
    ps = pset(allow("ecs:cloudServers:stop", Resource=["ECS:*:*:instance:9e02*"]))
    urn_ok = ("ecs:cn-north-4:acct:instance:9e0263ee",)
    urn_other = ("ecs:cn-north-4:acct:instance:abcd",)
    assert ps.evaluate("ecs:cloudServers:stop", ctx(), urn_ok)[0] == "allow"
    assert ps.evaluate("ecs:cloudServers:stop", ctx(), urn_other)[0] == "implicit_deny"
    # a batch: each resource is decided on its own
    assert ps.evaluate("ecs:cloudServers:stop", ctx(), urn_ok + urn_other)[0] == "implicit_deny"
    # names and ids keep their case; the service segment does not
    assert ps.evaluate("ecs:cloudServers:stop", ctx(), ("ecs:cn-north-4:acct:instance:9E0263EE",))[0] == \
        "implicit_deny"


A, B = "ecs:r:acct:instance:aaaa", "ecs:r:acct:instance:bbbb"


def test_batches_are_decided_per_resource():
    deny_a = pset(allow("ecs:cloudServers:stop"), deny("ecs:cloudServers:stop", Resource=["ECS:*:*:instance:aaaa"]))
    assert deny_a.evaluate("ecs:cloudServers:stop", ctx(), (B,))[0] == "allow"
    assert deny_a.evaluate("ecs:cloudServers:stop", ctx(), (B, A))[0] == "explicit_deny"  # A in the batch
    both = pset(allow("ecs:cloudServers:start", Resource=["ecs:*:*:instance:aaaa"]),
                allow("ecs:cloudServers:start", Resource=["ecs:*:*:instance:bbbb"]))
    assert both.evaluate("ecs:cloudServers:start", ctx(), (A, B))[0] == "allow"  # each has its Allow
    not_a = parse_policy({"Version": "5.0", "Statement": [
        {"Effect": "Allow", "Action": ["ecs:cloudServers:stop"], "NotResource": ["ecs:*:*:instance:aaaa"]}]})
    ps = PolicySet([not_a])
    assert ps.evaluate("ecs:cloudServers:stop", ctx(), (B,))[0] == "allow"
    assert ps.evaluate("ecs:cloudServers:stop", ctx(), (B, A))[0] == "implicit_deny"


def test_actions_naming_no_resource_need_a_wildcard_resource():
    """An action the request names no resource of (a list, a dependency in another service): only a statement
    covering every resource of its service applies."""
    def p50(*statements: dict) -> PolicySet:  # EVS has resource-level statements only in identity policies
        return PolicySet([parse_policy({"Version": "5.0", "Statement": list(statements)})])

    scoped = p50(allow("evs:volumes:use", Resource=["evs:*:*:volume:v1"]))
    assert scoped.evaluate("evs:volumes:use", ctx())[0] == "implicit_deny"
    every = p50(allow("evs:volumes:use", Resource=["evs:*:*:volume:*"]))
    assert every.evaluate("evs:volumes:use", ctx())[0] == "allow"
    d = decide(every, ("ecs:cloudServers:attach",), ("evs:volumes:use",), ctx(), urns=(A,))
    assert [r.effect for r in d.results] == ["implicit_deny", "allow"]


def test_decisions_with_resources_are_not_cached():
    ps = pset(allow("ecs:cloudServers:stop"), deny("ecs:cloudServers:stop", Resource=["ecs:*:*:instance:aaaa"]))
    assert decide(ps, ("ecs:cloudServers:stop",), (), ctx(), urns=(), cache_key="op").allowed  # an empty batch
    assert not decide(ps, ("ecs:cloudServers:stop",), (), ctx(), urns=(A,), cache_key="op").allowed


def test_a_near_miss_by_notresource_says_the_resource_is_excluded():
    policy = parse_policy({"Version": "5.0", "Statement": [
        {"Effect": "Allow", "Action": ["evs:volumes:get"], "NotResource": ["evs:*:*:volume:x"]}]}, policy_id="p",
        name="p")
    urn = "evs:cn-north-4:acct:volume:x"
    d = decide(PolicySet([policy]), ("evs:volumes:get",), (), lambda action, u: {}, (urn,))
    assert not d.allowed
    assert f"statement 0 of policy 'p' allows it, but its NotResource (evs:*:*:volume:x) excludes {urn}" in d.explain()


def test_a_session_denial_names_the_session_statement_that_nearly_applied():
    action = ("ecs:cloudServers:get",)
    session = pset(allow("ecs:cloudServers:get", Condition={"StringEquals": {"g:UserName": ["bob"]}}))
    mine = decide(pset(allow("ecs:cloudServers:get")), action, (), ctx({"g:username": "alice"}))
    d = within_session(mine, (session,), action, (), ctx({"g:username": "alice"}))
    assert mine.allowed and not d.allowed and d.basis == "session"
    assert d.explain().endswith("its statement 0 allows it, but its Condition StringEquals g:UserName ['bob'] is "
                                "false: the request's value is 'alice'")
