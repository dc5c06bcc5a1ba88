"""Policy documents: validation (with messages that point at the faulty element) and compilation.

Grammars: Version "1.0" (system roles), "1.1" (system and custom fine-grained policies) and "5.0" (identity
policies). Actions are `service:resourceType:action`; the service segment is case-sensitive, the other two are not;
`*` matches any run of characters inside one segment (`ecs:*:get*`), a lone `*` matches every action.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ecsim.iam.conditions import Condition, parse_conditions

MAX_POLICY_CHARS = 6144
MAX_STATEMENTS = 100
MAX_CUSTOM_STATEMENTS = 8  # a custom 1.1 policy's (Huawei's console and API refuse more)


def upload_problems(document: Any) -> list[str]:
    """What IAM refuses at upload beyond the grammar: a custom policy's size (compact JSON) and `Depends` (system
    roles only), and a 1.1 policy's statement count."""
    if not isinstance(document, dict):
        return []
    out = []
    size = len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))
    if size > MAX_POLICY_CHARS:
        out.append(f"The policy is {size} characters long; at most {MAX_POLICY_CHARS} are allowed.")
    if "Depends" in document:
        out.append("Depends is not allowed in custom policies (only system roles have it).")
    stmts = document.get("Statement")
    if document.get("Version") == "1.1" and isinstance(stmts, list) and len(stmts) > MAX_CUSTOM_STATEMENTS:
        out.append(f"Statement has {len(stmts)} entries; a custom policy may have at most {MAX_CUSTOM_STATEMENTS}.")
    return out
ACTION_RE = re.compile(r"^(\*|[a-zA-Z0-9*?_-]+:[a-zA-Z0-9*?_-]*:[a-zA-Z0-9*?_-]*|[a-zA-Z0-9*?_-]+::[a-zA-Z0-9*?_-]+)$")


class PolicyError(ValueError):
    """A policy document is malformed; the message names the faulty element."""


@dataclass(slots=True)
class Statement:
    index: int
    effect: str
    actions: tuple[str, ...]
    negated: bool  # NotAction (5.0): the statement applies to every action *not* listed
    matcher: re.Pattern[str]
    resources: tuple[str, ...] | None
    resource_negated: bool
    resource_matcher: re.Pattern[str] | None
    conditions: tuple[Condition, ...]
    raw: dict
    # services whose every resource a Resource pattern names (`evs:*:*:volume:*`; "*" for any service)
    wildcard_services: frozenset[str] = frozenset()

    def matches_action(self, names: tuple[str, ...]) -> bool:
        hit = any(self.matcher.match(n) for n in names)
        return hit != self.negated

    def matches_urn(self, urn: str | None, service: str) -> bool:
        """Does the statement's Resource / NotResource cover this resource? No Resource element (or `*`) covers
        everything. `urn` None: the request names no resource of the action's service (an action without
        resource-level support, or a dependency in another service) — then only a statement naming every
        resource of that service (or a NotResource) applies, as Huawei requires `*` for such actions."""
        if self.resource_matcher is None:
            return True
        if urn is None:
            return self.resource_negated or "*" in self.wildcard_services or service in self.wildcard_services
        return bool(self.resource_matcher.match(urn)) != self.resource_negated


@dataclass(slots=True)
class Policy:
    id: str
    name: str
    version: str
    statements: list[Statement]
    kind: str = "custom"  # custom | system_policy | system_role | identity
    depends: tuple[str, ...] = ()
    document: dict = field(default_factory=dict)


def glob_to_regex(pattern: str, *, case_insensitive: bool) -> str:
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("[^:]*")
        elif ch == "?":
            out.append("[^:]")
        else:
            out.append(re.escape(ch))
    body = "".join(out)
    return f"(?i:{body})" if case_insensitive else body


def action_regex(pattern: str) -> str:
    if pattern == "*":
        return ".*"
    parts = pattern.split(":")
    if len(parts) != 3:
        return glob_to_regex(pattern, case_insensitive=True)
    service, rtype, action = parts
    return ":".join(
        (glob_to_regex(service, case_insensitive=False),
         glob_to_regex(rtype, case_insensitive=True),
         glob_to_regex(action, case_insensitive=True))
    )


def compile_actions(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("^(?:" + "|".join(action_regex(p) for p in patterns) + ")$")


def resource_regex(pattern: str) -> str:
    """URN globs: `*` may span anything within the URN (region, account or id positions). Only the service segment
    is case-insensitive (`ECS:...` in Huawei's 1.1 docs); names and ids keep their case."""
    if pattern == "*":
        return ".*"
    service, sep, rest = pattern.partition(":")

    def glob(text: str) -> str:
        return "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in text)

    return f"(?i:{glob(service)}){re.escape(sep)}{glob(rest)}"


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not value:
        raise PolicyError(f"{where} must be a non-empty list of strings")
    for i, v in enumerate(value):
        if not isinstance(v, str) or not v:
            raise PolicyError(f"{where}[{i}] must be a non-empty string")
    return tuple(value)


def parse_policy(
    document: Any,
    *,
    policy_id: str = "",
    name: str = "",
    kind: str = "custom",
    allowed_versions: tuple[str, ...] = ("1.0", "1.1", "5.0"),
) -> Policy:
    """Validate and compile a policy document. Raises PolicyError naming the faulty element."""
    if not isinstance(document, dict):
        raise PolicyError("policy must be a JSON object with Version and Statement")
    unknown = set(document) - {"Version", "Statement", "Depends"}
    if unknown:
        raise PolicyError(f"policy has unknown element(s): {', '.join(sorted(unknown))}")
    version = document.get("Version")
    if version not in allowed_versions:
        raise PolicyError(f"Version must be one of {', '.join(allowed_versions)}, got {version!r}")
    stmts = document.get("Statement")
    if not isinstance(stmts, list) or not stmts:
        raise PolicyError("Statement must be a non-empty list")
    if len(stmts) > MAX_STATEMENTS:
        raise PolicyError(f"Statement has {len(stmts)} entries; at most {MAX_STATEMENTS} are allowed")
    statements = [_parse_statement(i, s, version) for i, s in enumerate(stmts)]
    depends: tuple[str, ...] = ()
    if "Depends" in document:
        dep = document["Depends"]
        if not isinstance(dep, list) or not all(isinstance(d, dict) and "display_name" in d for d in dep):
            raise PolicyError("Depends must be a list of {catalog, display_name} objects")
        depends = tuple(d["display_name"] for d in dep)
    return Policy(policy_id, name, version, statements, kind, depends, document)


_STATEMENT_KEYS = {
    "1.0": {"Effect", "Action", "Condition", "Resource"},
    "1.1": {"Effect", "Action", "Condition", "Resource"},
    "5.0": {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"},
}


def _parse_statement(i: int, s: Any, version: str) -> Statement:
    where = f"Statement[{i}]"
    if not isinstance(s, dict):
        raise PolicyError(f"{where} must be an object")
    unknown = set(s) - _STATEMENT_KEYS[version]
    if unknown:
        raise PolicyError(f"{where} has unknown element(s) for Version {version}: {', '.join(sorted(unknown))}")
    effect = s.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}.Effect must be \"Allow\" or \"Deny\", got {effect!r}")
    if "Action" in s and "NotAction" in s:
        raise PolicyError(f"{where} may have Action or NotAction, not both")
    negated = "NotAction" in s
    key = "NotAction" if negated else "Action"
    if key not in s:
        raise PolicyError(f"{where}.Action is required")
    actions = _string_list(s[key], f"{where}.{key}")
    for j, a in enumerate(actions):
        if version == "1.0":  # system roles carry legacy forms such as "identity:*"
            continue
        if not ACTION_RE.match(a):
            raise PolicyError(
                f"{where}.{key}[{j}] {a!r} is not an action of the form service:resourceType:action "
                "(wildcards * and ? allowed inside a segment)"
            )
        if a != "*" and version in ("1.1", "5.0") and a.split(":")[0] != a.split(":")[0].lower():
            raise PolicyError(f"{where}.{key}[{j}] {a!r}: the service name must be lower-case")
    resources: tuple[str, ...] | None = None
    if "Resource" in s and "NotResource" in s:
        raise PolicyError(f"{where} may have Resource or NotResource, not both")
    resource_negated = "NotResource" in s
    rkey = "NotResource" if resource_negated else "Resource"
    if rkey in s:
        raw = s[rkey]
        if isinstance(raw, dict):  # 1.1 agency policies: {"uri": [...]}
            if version == "5.0":
                raise PolicyError(f"{where}.{rkey} must be a list of resource URNs")
            resources = _string_list(raw.get("uri"), f"{where}.{rkey}.uri")
        else:
            resources = _string_list(raw, f"{where}.{rkey}")
            for j, r in enumerate(resources):
                if r != "*" and len(r.split(":")) < 5:
                    raise PolicyError(
                        f"{where}.{rkey}[{j}] {r!r} is not a resource URN of the form "
                        "service:region:account-id:type:id"
                    )
                if version == "1.1" and r.split(":", 1)[0].lower() == "evs":  # Huawei: no resource level in 1.1
                    raise PolicyError(f"{where}.{rkey}[{j}] {r!r}: EVS does not support resource-level "
                                      "authorization in policy 1.1; omit Resource or use an identity policy (5.0)")
    conditions = parse_conditions(s.get("Condition"), f"{where}.Condition") if "Condition" in s else ()
    resource_matcher = None
    wildcard_services: frozenset[str] = frozenset()
    if resources is not None and not (not resource_negated and "*" in resources):
        resource_matcher = re.compile("^(?:" + "|".join(resource_regex(r) for r in resources) + ")$")
        # every resource of a service (of any region, account and id): such a statement also applies to that
        # service's actions that name no resource; `ecs:cn-north-4:*:instance:*` is specific, as Huawei reads it
        wildcard_services = frozenset(parts[0].lower() for parts in (r.split(":") for r in resources)
                                      if len(parts) == 5 and parts[1] == parts[2] == parts[4] == "*")
    return Statement(
        index=i,
        effect=effect,
        actions=actions,
        negated=negated,
        matcher=compile_actions(actions),
        resources=resources,
        resource_negated=resource_negated,
        resource_matcher=resource_matcher,
        conditions=conditions,
        raw=s,
        wildcard_services=wildcard_services,
    )
