"""Policy insight the cloud does not give: simulate decisions, suggest the least policy for recorded calls, lint.

All three read the operation catalog: every entry knows its actions, dependencies, resource type and access level,
so the same facts that enforce IAM on live requests answer "would this be allowed?" and "what does this need?".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ecsim.catalog import Operation, all_operations, by_name
from ecsim.iam import system
from ecsim.iam.evaluate import ALIASES, Decision, PolicySet, allow_all, authorization_message, decide
from ecsim.iam.policy import Policy, PolicyError, action_regex, parse_policy, upload_problems
from ecsim.iam.resources import urn
from ecsim.iam.schema import guess_level

SIMULATED = "simulated"


# -- what the catalog knows about actions ----------------------------------------------------------------------------
def _operations() -> list[Operation]:
    return [op for op in all_operations() if op.handler is not None and (op.actions or op.dependencies)]


def _action_facts() -> tuple[dict[str, str], dict[str, list[Operation]]]:
    """action -> access level, action -> the operations naming it as their own."""
    levels: dict[str, str] = {}
    owners: dict[str, list[Operation]] = {}
    for op in _operations():
        for a in op.actions:
            owners.setdefault(a, []).append(op)
            if op.access_level:
                levels.setdefault(a, op.access_level)
        for a in (*op.actions, *op.dependencies):
            levels.setdefault(a, guess_level(a))
        for action, names in op.aliases:  # an operation's own further names: as its action
            for a in names:
                levels.setdefault(a, levels[action])
    for role in system.SYSTEM_ROLES:
        for s in role.policy["Statement"]:
            for a in s["Action"]:
                if "*" not in a and a.count(":") == 2:
                    levels.setdefault(a, guess_level(a))
    for group in ALIASES.values():
        for a in group:
            levels.setdefault(a, guess_level(a))
    return levels, owners


LEVELS, OWNERS = _action_facts()
KNOWN_LOWER = frozenset(a.lower() for a in LEVELS) | frozenset(ALIASES)
KNOWN_SERVICES = frozenset(a.split(":", 1)[0] for a in LEVELS)


# -- operations by name or by request line ---------------------------------------------------------------------------
_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD)\s+(\S+)(?:\s+(\S+))?$", re.I)


def resolve_operation(spec: str, match: Any = None) -> Operation:
    """A catalog name (`ecs.batch_stop_servers`) or a request line `POST /v1/{project_id}/cloudservers/action
    os-stop` (the third word picks among operations sharing the path by their body key). `match(method, path)`
    is the server's router, for concrete paths."""
    s = spec.strip()
    op = by_name().get(s)
    if op is not None:
        return op
    m = _LINE.match(s)
    if m is None:
        raise PolicyError(f"{spec!r} is neither a catalog operation name nor 'METHOD /path [body-key]'")
    method, path, selector = m.group(1).upper(), m.group(2).split("?")[0], m.group(3)
    candidates = [o for o in _operations() if o.method == method and o.path == path]
    if not candidates and match is not None:
        found = match(method, path)
        candidates = list(found.ops) if found else []
    if selector:
        candidates = [o for o in candidates if o.selector == selector]
    if not candidates:
        raise PolicyError(f"no operation serves {method} {path}" + (f" with body key {selector!r}" if selector else ""))
    if len(candidates) > 1:
        keys = ", ".join(o.selector or "" for o in candidates)
        raise PolicyError(f"{method} {path} is several operations; add the body key: one of {keys}")
    return candidates[0]


# -- simulate --------------------------------------------------------------------------------------------------------
def compile_documents(documents: list[Any]) -> PolicySet:
    policies: list[Policy] = []
    for i, doc in enumerate(documents):
        try:
            policies.append(parse_policy(doc, policy_id=f"document-{i}", name=f"policies[{i}]", kind="document"))
        except PolicyError as exc:
            raise PolicyError(f"policies[{i}]: {exc}") from None
    return PolicySet(policies)


def urns_for(op: Operation, resources: Iterable[str], region: str, account_id: str) -> tuple[str, ...] | None:
    """The request's resources as the operation sees them: URNs of its resource type (bare ids become URNs)."""
    if op.resource_type is None:
        return None
    out = []
    for r in resources:
        parts = r.split(":")
        if len(parts) >= 5:
            if parts[3].lower() == op.resource_type:
                out.append(r)
        else:
            out.append(urn(op.resource_type, region, account_id, r))
    return tuple(out) or None


def path_params(spec: str, match: Any) -> dict[str, str]:
    """The values a concrete request line gives its path's parameters (`GET /v1/<project>/cloudservers/<id>`), as
    the server would take them; none for a catalog name, templated ones left out."""
    m = _LINE.match(spec.strip())
    found = match(m.group(1).upper(), m.group(2).split("?")[0]) if m is not None else None
    return {k: v for k, v in found.params.items() if not v.startswith("{")} if found else {}


def path_ids(spec: str, op: Operation, match: Any) -> list[str]:
    """The resource a concrete request line names in its path, as the server would take it."""
    if not (op.resource_from or "").startswith("path:"):
        return []
    value = path_params(spec, match).get(op.resource_from.split(":", 1)[1])  # type: ignore[union-attr]
    return [value] if value else []


def simulate_one(policyset: PolicySet | None, op: Operation, context: dict[str, Any],
                 urns: tuple[str, ...] | None, resource_keys: Callable[[str], dict] | None = None) -> dict:
    """One operation's decision: None as the policy set means the principal is an administrator.
    `resource_keys(urn)`: the condition keys of a resource that exists (its tags); `context` wins over them."""
    if policyset is None:
        decision: Decision = allow_all(op.actions, op.dependencies)
    else:
        def keys(action: str, urn: str | None) -> dict[str, Any]:
            found = resource_keys(urn) if resource_keys is not None and urn is not None else {}
            return {**found, **context, "g:servicename": action.split(":", 1)[0]}

        decision = decide(policyset, op.actions, op.dependencies, keys, urns, instance_level=op.instance_level,
                          aliases=op.aliases)
    doc = authorization_message(decision, op.name, SIMULATED)
    del doc["request_id"]
    result = "allowed" if decision.allowed else decision.denied.effect  # type: ignore[union-attr]
    return {"operation": op.name, "method": op.method, "path": op.path, "selector": op.selector,
            "resources": list(urns or ()), "decision": result, "basis": decision.basis, **doc}


# -- suggest ---------------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Suggestion:
    operations: list[str]
    actions: list[str]  # the operations' own actions and their dependencies, sorted
    project_actions: list[str]
    account_actions: list[str]
    projects: list[str]  # where the project-level calls were made: where to grant the project-level (XA) policy

    def policy_1_1(self) -> list[dict]:
        """Custom 1.1 policies are project-level (XA) or account-level (AX): one per scope that is needed."""
        out = []
        for kind, actions in (("XA", self.project_actions), ("AX", self.account_actions)):
            if actions:
                out.append({"type": kind, "policy": {"Version": "1.1", "Statement": [
                    {"Effect": "Allow", "Action": actions}]}})
        return out

    def policy_5_0(self) -> dict:
        return {"Version": "5.0", "Statement": [{"Sid": "EcsimSuggested", "Effect": "Allow", "Action": self.actions}]}

    def as_dict(self) -> dict:
        return {"operations": self.operations, "actions": self.actions, "policies_1_1": self.policy_1_1(),
                "policy_5_0": self.policy_5_0(), "projects": self.projects}


def suggest(records: Iterable[dict]) -> Suggestion:
    """The least policy allowing every recorded call (decision-log rows): each operation's own actions and its
    dependencies, nothing else. Calls that needed no permission (users acting on themselves) add nothing."""
    ops = by_name()
    names: list[str] = []
    projects: set[str] = set()
    for r in records:
        op = ops.get(r["operation"])
        if r.get("basis") == "self" or op is None:
            continue
        if op.scope == "project" and r.get("project_id"):
            projects.add(r["project_id"])
        if r["operation"] not in names:
            names.append(r["operation"])
    project: set[str] = set()
    account: set[str] = set()
    for name in names:
        op = ops[name]
        (project if op.scope == "project" else account).update((*op.actions, *op.dependencies))
    return Suggestion(sorted(names), sorted(project | account), sorted(project), sorted(account - project),
                      sorted(projects))


# -- lint ------------------------------------------------------------------------------------------------------------
@dataclass(slots=True, frozen=True)
class Finding:
    level: str  # error | warning | info
    where: str
    message: str

    def as_dict(self) -> dict:
        return {"level": self.level, "where": self.where, "message": self.message}


_FULL_WILDCARDS = {"*", "*:*:*"}


def lint(document: Any) -> list[Finding]:
    """Problems a policy's author would want to know about: syntax (as IAM refuses it at upload), actions that do
    not exist, wildcards that grant more than they seem to, Resources on actions without resource-level support,
    and dependencies missing for the operations the policy evidently targets."""
    try:
        policy = parse_policy(document)
    except PolicyError as exc:
        return [Finding("error", "policy", str(exc))]
    findings = [Finding("error", "policy", problem) for problem in upload_problems(document)]
    if policy.version == "1.0":
        findings.append(Finding("warning", "Version", "IAM takes version 1.0 only in its own system roles; custom "
                                "policies are 1.1 (or 5.0 identity policies)"))
    for s in policy.statements:
        key = "NotAction" if s.negated else "Action"
        if s.negated and s.effect == "Allow":
            findings.append(Finding("warning", f"Statement[{s.index}].NotAction", "an Allow with NotAction grants "
                                    "every action of every service except those listed, IAM included"))
        for j, pattern in enumerate(s.actions):
            where = f"Statement[{s.index}].{key}[{j}]"
            # a NotAction pattern grants nothing itself: only whether it names real actions matters
            findings.extend(_lint_action(pattern, where, "Deny" if s.negated else s.effect, policy.version))
            if s.resource_matcher is not None and not s.negated and not s.resource_negated:
                findings.extend(_lint_resource(pattern, f"Statement[{s.index}].Resource", where, policy.version))
    findings.extend(_lint_dependencies(policy))
    return findings


def _matching(pattern: str) -> list[str]:
    rx = re.compile(f"^(?:{action_regex(pattern)})$")
    return sorted(a for a in LEVELS if rx.match(a))


def _lint_action(pattern: str, where: str, effect: str, version: str) -> list[Finding]:
    if pattern in _FULL_WILDCARDS:
        if effect == "Allow":
            return [Finding("warning", where, f"{pattern!r} allows every action of every service, IAM included")]
        return []
    service = pattern.split(":", 1)[0]
    wild = "*" in pattern or "?" in pattern
    if not wild:
        if pattern.lower() in KNOWN_LOWER:  # resource type and action are case-insensitive
            return []
        if service not in KNOWN_SERVICES:
            return [Finding("info", where, f"{pattern!r}: service {service!r} is not emulated; ecsim cannot check it")]
        close = difflib.get_close_matches(pattern, LEVELS, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return [Finding("warning", where, f"{pattern!r} is not an action of {service}{hint}")]
    matched = _matching(pattern)
    if not matched:
        if service != "*" and service not in KNOWN_SERVICES:
            return [Finding("info", where, f"{pattern!r}: service {service!r} is not emulated; ecsim cannot check it")]
        return [Finding("warning", where, f"{pattern!r} matches no known action")]
    if effect != "Allow":
        return []
    out = []
    if service == "*" or "*" in service:
        services = sorted({a.split(":", 1)[0] for a in matched})
        out.append(Finding("warning", where, f"{pattern!r} spans every service ({', '.join(services)} here)"))
    writes = [a for a in matched if LEVELS[a] == "write"]
    verb = pattern.rsplit(":", 1)[-1].lower()
    looks_read_only = verb.startswith(("get", "list", "show"))
    if writes and (looks_read_only or len(matched) > 1):
        sample = ", ".join(writes[:5]) + (", …" if len(writes) > 5 else "")
        out.append(Finding("warning", where, f"{pattern!r} grants {len(matched)} actions, {len(writes)} of them "
                                             f"write actions: {sample}"))
    return out


def _lint_resource(pattern: str, where: str, action_where: str, version: str) -> list[Finding]:
    """A statement with a specific Resource never applies to actions without resource-level support (in 1.x, only
    the operations with "Authorization by Instance"; in 5.0, every one with a resource type)."""
    matched = [pattern] if pattern in OWNERS else _matching(pattern)

    def supported(o: Operation) -> bool:
        return o.resource_type is not None if version == "5.0" else o.instance_level

    unsupported = sorted(a for a in matched if a in OWNERS and not any(supported(o) for o in OWNERS[a]))
    if not unsupported:
        return []
    sample = ", ".join(unsupported[:5]) + (", …" if len(unsupported) > 5 else "")
    return [Finding("warning", where, f"{action_where} names actions without resource-level support ({sample}); "
                                      "for them this statement never applies (their Resource must be \"*\")")]


def _lint_dependencies(policy: Policy) -> list[Finding]:
    ps = PolicySet([policy])

    def allowed(action: str) -> bool:
        deny, allow = ps.candidates(action)
        return bool(allow) and not any(not s.conditions and s.resource_matcher is None for _, s in deny)

    def targeted(op: Operation) -> bool:
        """The policy names this operation's own action (not only through `*` or `*:*:*`)."""
        for a in op.actions:
            _, allow = ps.candidates(a)
            if any(not (set(s.actions) <= _FULL_WILDCARDS) for _, s in allow):
                return True
        return False

    by_missing: dict[tuple[str, ...], list[str]] = {}
    for op in _operations():
        if not op.dependencies or not all(allowed(a) for a in op.actions) or not targeted(op):
            continue
        missing = tuple(d for d in op.dependencies if not allowed(d))
        if missing:
            by_missing.setdefault(missing, []).append(op.name)
    return [Finding("warning", "policy", f"{', '.join(names)} also need(s) {', '.join(missing)}: without "
                                         f"{'it' if len(missing) == 1 else 'them'} those calls are refused")
            for missing, names in sorted(by_missing.items(), key=lambda kv: kv[1])]
