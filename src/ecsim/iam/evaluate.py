"""Policy evaluation: explicit Deny wins, then any Allow, else implicit deny.

A PolicySet is the compiled union of every policy that applies to one principal in one scope. It caches, per
action, the statements whose Action matches, so a request only walks the few candidates (and their conditions).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecsim.iam.policy import Policy, Statement

RESOURCE_KEY_PREFIXES = ("g:resourcetag/", "g:enterpriseprojectid")

# Older and current names of the same permission (Huawei's 5.0 tables have an "Alias" column for this).
_ALIAS_GROUPS = (
    ("ecs:cloudServers:create", "ecs:cloudServers:createServers"),
    ("ecs:cloudServers:delete", "ecs:cloudServers:deleteServers"),
    ("ecs:cloudServers:get", "ecs:cloudServers:showServer"),
    ("ecs:cloudServers:put", "ecs:cloudServers:updateServer"),
    ("evs:volumes:listTags", "evs:volumeTags:list"),
)
ALIASES: dict[str, tuple[str, ...]] = {}
for _group in _ALIAS_GROUPS:
    for _name in _group:
        ALIASES[_name.lower()] = _group


def action_names(action: str) -> tuple[str, ...]:
    return ALIASES.get(action.lower(), (action,))


@dataclass(slots=True)
class Match:
    policy_id: str
    policy_name: str
    policy_kind: str
    index: int
    effect: str
    statement: dict

    def as_dict(self) -> dict:
        return {
            "policy_id": self.policy_id,
            "policy": self.policy_name,
            "policy_kind": self.policy_kind,
            "statement_index": self.index,
            "effect": self.effect,
            "statement": self.statement,
        }


@dataclass(slots=True)
class ActionResult:
    action: str
    role: str  # "action" (the operation's own) | "dependency"
    effect: str  # "allow" | "explicit_deny" | "implicit_deny"
    match: Match | None
    # An implicit deny although an Allow names the action: that statement, and why it did not apply.
    near_miss: tuple[Match, str] | None = None

    def as_dict(self) -> dict:
        out = {
            "action": self.action,
            "role": self.role,
            "result": self.effect,
            "statement": self.match.as_dict() if self.match else None,
        }
        if self.near_miss is not None:
            out["not_applied"] = {**self.near_miss[0].as_dict(), "because": self.near_miss[1]}
        return out


@dataclass(slots=True)
class Decision:
    allowed: bool
    basis: str  # "admin" (admin group / account owner) | "self" | "policy" | "session" (a session policy refused)
    results: list[ActionResult]
    denied: ActionResult | None = None
    encoded: bytes | None = None  # the decision's log document, encoded once (decisions are shared when cached)

    def explain(self) -> str:
        d = self.denied
        if d is None:
            return "allowed"
        what = "the operation's own action" if d.role == "action" else "a dependency of the operation"
        if d.effect == "explicit_deny":
            m = d.match
            assert m is not None
            return (
                f"{d.action} ({what}) is explicitly denied by statement {m.index} of policy '{m.policy_name}'; "
                "an explicit Deny overrides every Allow"
            )
        if self.basis == "session":
            why = "" if d.near_miss is None else \
                f": its statement {d.near_miss[0].index} allows it, but {d.near_miss[1]}"
            return (f"{d.action} ({what}) is not allowed by the session policy of the caller's temporary access key "
                    f"(its permissions are the intersection of the user's policies and that policy){why}")
        if d.near_miss is not None:
            m, why = d.near_miss
            return (f"{d.action} ({what}) is not allowed (implicit deny): statement {m.index} of policy "
                    f"'{m.policy_name}' allows it, but {why}")
        return f"{d.action} ({what}) is not allowed by any statement of the caller's policies (implicit deny)"


_Candidate = tuple[Policy, Statement]


class PolicySet:
    __slots__ = ("_candidates", "decisions", "policies", "resource_keys", "resource_scoped")

    def __init__(self, policies: list[Policy]) -> None:
        self.policies = policies
        # Only then does a request need the URNs of what it acts on, or to read the resource for its keys.
        self.resource_scoped = any(s.resource_matcher is not None for p in policies for s in p.statements)
        self.resource_keys = any(c.key.startswith(RESOURCE_KEY_PREFIXES) for p in policies for s in p.statements
                                 for c in s.conditions)
        self._candidates: dict[str | tuple[str, ...], tuple[list[_Candidate], list[_Candidate]]] = {}
        # Decisions that consulted no Condition and no resource: the same for every request of this operation.
        self.decisions: dict[str, Decision] = {}

    def candidates(self, action: str, also: tuple[str, ...] = ()) -> tuple[list[_Candidate], list[_Candidate]]:
        """The statements naming the action (under any of its names, and `also`: names the operation accepts)."""
        key = (action, *also) if also else action
        hit = self._candidates.get(key)
        if hit is None:
            names = action_names(action) + also
            deny: list[_Candidate] = []
            allow: list[_Candidate] = []
            for p in self.policies:
                for s in p.statements:
                    if s.matches_action(names):
                        (deny if s.effect == "Deny" else allow).append((p, s))
            hit = (deny, allow)
            self._candidates[key] = hit
        return hit

    def evaluate(self, action: str, context: Context, urns: tuple[str, ...] | None = None,
                 instance_level: bool = True, also: tuple[str, ...] = ()) -> tuple[str, Match | None]:
        """Each resource the request names is decided on its own: a Deny that covers any of them denies; every one
        needs an Allow (a batch is allowed only as a whole). `urns` are the request's resources when they are of
        this action's service. Without `instance_level` (an operation whose 1.1 table says "Authorization by
        Instance ✗", such as a server show) a 1.x statement's Resource matches as for an action naming no resource:
        only `*` applies; 5.0 statements match their resource types whatever the operation."""
        deny, allow = self.candidates(action, also)
        service = action.split(":", 1)[0].lower()
        targets: tuple[str | None, ...] = urns or (None,)
        for urn in targets:
            for p, s in deny:
                if _applies(s, action, service, context, urn, _by_resource(p, instance_level)):
                    return "explicit_deny", _match(p, s)
        first: _Candidate | None = None
        for urn in targets:
            hit = next(((p, s) for p, s in allow
                        if _applies(s, action, service, context, urn, _by_resource(p, instance_level))), None)
            if hit is None:
                return "implicit_deny", None
            first = first or hit
        assert first is not None
        return "allow", _match(*first)

    def near_miss(self, action: str, context: Context, urns: tuple[str, ...] | None,
                  instance_level: bool, also: tuple[str, ...] = ()) -> tuple[Match, str] | None:
        """For an implicit deny: the first Allow naming the action, and why it did not apply (its Resource or
        which Condition, with the request's value). Computed only for explanations."""
        _, allow = self.candidates(action, also)
        service = action.split(":", 1)[0].lower()
        for urn in urns or (None,):
            for p, s in allow:
                why = _why_not(s, action, service, context, urn, _by_resource(p, instance_level))
                if why is not None:
                    return _match(p, s), why
        return None


# The request context of one action on one resource (None: no resource of the action's service).
Context = Callable[[str, str | None], dict[str, Any]]


def _by_resource(p: Policy, instance_level: bool) -> bool:
    """Does the statement's Resource select among the request's resources? 5.0 statements always do; 1.x ones only
    for operations with authorization by instance."""
    return instance_level or p.version == "5.0"


def _applies(s: Statement, action: str, service: str, context: Context, urn: str | None, by_resource: bool) -> bool:
    """`by_resource` False: the Resource element is matched as if no resource were named (its conditions still see
    the resource: tag-based authorization is another column of the tables)."""
    if not s.matches_urn(urn if by_resource else None, service):
        return False
    if s.conditions:
        ctx = context(action, urn)
        return all(c.evaluate(ctx) for c in s.conditions)
    return True


def _why_not(s: Statement, action: str, service: str, context: Context, urn: str | None,
             by_resource: bool) -> str | None:
    """Why the statement does not apply to this action on this resource; None when it does."""
    if not s.matches_urn(urn if by_resource else None, service):
        where = ", ".join(s.resources or ())
        if urn is None or not by_resource:
            return (f"its Resource ({where}) names particular resources, and this operation is authorized on "
                    "\"*\" only (no authorization by resource)")
        if s.resource_negated:
            return f"its NotResource ({where}) excludes {urn}"
        return f"its Resource ({where}) does not cover {urn}"
    if s.conditions:
        ctx = context(action, urn)
        for c in s.conditions:
            if not c.evaluate(ctx):
                value = ctx.get(c.key)
                got = "the request has no value for it" if value is None else f"the request's value is {value!r}"
                return f"its Condition {c.operator} {c.written} {list(c.values)} is false: {got}"
    return None


def _match(p: Policy, s: Statement) -> Match:
    return Match(p.id, p.name, p.kind, s.index, s.effect, s.raw)


def decide(
    policyset: PolicySet,
    actions: tuple[str, ...],
    dependencies: tuple[str, ...],
    context: Context,
    urns: tuple[str, ...] | None = None,
    cache_key: str | None = None,
    instance_level: bool = True,
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = (),
) -> Decision:
    """Evaluate every action and dependency; `urns` are the resources the request names (None when the policy set
    has no resource-scoped statement or the operation no resource type), applied to the actions of their service;
    `aliases` gives further names the operation accepts for an action. With a cache_key, a decision that needed no
    request context (no Condition) and no resources is remembered on the policy set, which lives until the identity
    data changes."""
    if cache_key is not None and urns is None:
        hit = policyset.decisions.get(cache_key)
        if hit is not None:
            return hit
    used_context = False
    urn_service = urns[0].split(":", 1)[0].lower() if urns else None

    def tracked(action: str, urn: str | None) -> dict[str, Any]:
        nonlocal used_context
        used_context = True
        return context(action, urn)

    also = dict(aliases)
    results: list[ActionResult] = []
    first_explicit: ActionResult | None = None
    first_implicit: ActionResult | None = None
    for role, names in (("action", actions), ("dependency", dependencies)):
        for action in names:
            mine = urns if urn_service == action.split(":", 1)[0].lower() else None
            effect, match = policyset.evaluate(action, tracked, mine, instance_level, also.get(action, ()))
            r = ActionResult(action, role, effect, match)
            results.append(r)
            if effect == "explicit_deny" and first_explicit is None:
                first_explicit = r
            elif effect == "implicit_deny" and first_implicit is None:
                first_implicit = r
    if first_explicit is None and first_implicit is not None:
        mine = urns if urn_service == first_implicit.action.split(":", 1)[0].lower() else None
        first_implicit.near_miss = policyset.near_miss(first_implicit.action, tracked, mine, instance_level,
                                                       also.get(first_implicit.action, ()))
    denied = first_explicit or first_implicit
    decision = Decision(denied is None, "policy", results, denied)
    if cache_key is not None and not used_context and urns is None:
        policyset.decisions[cache_key] = decision
    return decision


_ALLOW_ALL: dict[tuple, Decision] = {}


def allow_all(actions: tuple[str, ...], dependencies: tuple[str, ...], basis: str = "admin") -> Decision:
    """Admin-group members and account owners ("admin"), or users acting on themselves ("self")."""
    key = (actions, dependencies, basis)
    hit = _ALLOW_ALL.get(key)
    if hit is None:
        results = [ActionResult(a, "action", "allow", None) for a in actions]
        results += [ActionResult(a, "dependency", "allow", None) for a in dependencies]
        hit = _ALLOW_ALL[key] = Decision(True, basis, results)
    return hit


def within_session(
    decision: Decision,
    sessions: tuple[PolicySet, ...],
    actions: tuple[str, ...],
    dependencies: tuple[str, ...],
    context: Context,
    urns: tuple[str, ...] | None = None,
    cache_key: str | None = None,
    instance_level: bool = True,
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = (),
) -> Decision:
    """Temporary keys: the user's decision, further narrowed by each session policy (all must allow)."""
    if not decision.allowed:
        return decision
    for session in sessions:
        narrowed = decide(session, actions, dependencies, context, urns, cache_key=cache_key,
                          instance_level=instance_level, aliases=aliases)
        if not narrowed.allowed:
            return Decision(False, "session", narrowed.results, narrowed.denied)
    return decision


def authorization_message(decision: Decision, operation: str, request_id: str) -> dict:
    """What a denial carries, decoded: the operation, every action's result and the deciding statements."""
    return {
        "request_id": request_id,
        "operation": operation,
        "allowed": decision.allowed,
        "denied_action": decision.denied.action if decision.denied else None,
        "explanation": decision.explain(),
        "actions": [r.as_dict() for r in decision.results],
    }


def encode_authorization_message(decision: Decision, op: Any, request_id: str) -> str:
    """Huawei's `encoded_authorization_message` (the SDK exposes it as `encoded_auth_msg`). Huawei encrypts it for
    its STS decode API; ecsim's is base64url JSON, readable with `ecsim iam decode`."""
    doc = authorization_message(decision, op.name, request_id)
    return base64.urlsafe_b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_authorization_message(message: str) -> dict:
    raw = message.strip()
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
