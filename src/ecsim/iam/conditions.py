"""Policy conditions: `{"<Operator>": {"<key>": ["v1", "v2"]}}`.

Operators are AND-ed, keys within an operator AND-ed, values within a key OR-ed (a plain operator is true when the
request value equals ANY listed value; a negated one when it differs from ALL). An absent request key makes the
condition false, except for the `IfExists` forms (true), `Null` and `IsNullOrEmpty`. `ForAnyValue:` /
`ForAllValues:` prefixes and the 1.1 `...AnyOf` forms apply to multi-valued keys.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecsim.timefmt import iso_seconds_z, parse_iso


def _like(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern), re.S)


def _num(v: Any) -> float:
    return float(v)


def _date(v: Any) -> float:
    if isinstance(v, int | float):
        return float(v)
    return parse_iso(str(v))


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    return str(v).strip().lower() == "true"


def _bool_value(v: str) -> bool:
    """A condition's own boolean: exactly true or false (anything else is a policy error, never "false")."""
    if v.lower() not in ("true", "false"):
        raise ValueError(v)
    return v.lower() == "true"


def _ip(value: Any) -> Any:
    return ipaddress.ip_address(str(value))


# base operator -> (per-value test(request_value, compiled condition_value), negated, compile(condition value)).
# Condition values are compiled once at parse (patterns, networks, dates); request values are converted per test.
_TESTS: dict[str, tuple[Callable[[Any, Any], bool], bool, Callable[[str], Any]]] = {
    "StringEquals": (lambda r, c: str(r) == c, False, str),
    "StringNotEquals": (lambda r, c: str(r) == c, True, str),
    "StringEqualsIgnoreCase": (lambda r, c: str(r).lower() == c, False, str.lower),
    "StringNotEqualsIgnoreCase": (lambda r, c: str(r).lower() == c, True, str.lower),
    "StringLike": (lambda r, c: bool(c.match(str(r))), False, _like),
    "StringNotLike": (lambda r, c: bool(c.match(str(r))), True, _like),
    "StringMatch": (lambda r, c: bool(c.match(str(r))), False, _like),
    "StringNotMatch": (lambda r, c: bool(c.match(str(r))), True, _like),
    "StringStartWith": (lambda r, c: str(r).startswith(c), False, str),
    "StringEndWith": (lambda r, c: str(r).endswith(c), False, str),
    "NumberEquals": (lambda r, c: _num(r) == c, False, _num),
    "NumberNotEquals": (lambda r, c: _num(r) == c, True, _num),
    "NumberLessThan": (lambda r, c: _num(r) < c, False, _num),
    "NumberLessThanEquals": (lambda r, c: _num(r) <= c, False, _num),
    "NumberGreaterThan": (lambda r, c: _num(r) > c, False, _num),
    "NumberGreaterThanEquals": (lambda r, c: _num(r) >= c, False, _num),
    "DateEquals": (lambda r, c: _date(r) == c, False, _date),
    "DateNotEquals": (lambda r, c: _date(r) == c, True, _date),
    "DateLessThan": (lambda r, c: _date(r) < c, False, _date),
    "DateLessThanEquals": (lambda r, c: _date(r) <= c, False, _date),
    "DateGreaterThan": (lambda r, c: _date(r) > c, False, _date),
    "DateGreaterThanEquals": (lambda r, c: _date(r) >= c, False, _date),
    "Bool": (lambda r, c: _bool(r) == c, False, _bool_value),
    "IpAddress": (lambda r, c: _ip(r) in c, False, lambda v: ipaddress.ip_network(v, strict=False)),
    "NotIpAddress": (lambda r, c: _ip(r) in c, True, lambda v: ipaddress.ip_network(v, strict=False)),
}
_VALUE_KINDS = (("IpAddress", "an IP address or CIDR"), ("NotIpAddress", "an IP address or CIDR"),
                ("Date", "an ISO 8601 time"), ("Number", "a number"), ("Bool", "true or false"),
                ("Null", "true or false"), ("IsNullOrEmpty", "true or false"))
# Operators whose meaning is about presence.
_PRESENCE = {"Null", "IsNullOrEmpty"}
KNOWN_GLOBAL_KEYS = {
    "g:currenttime", "g:domainname", "g:domainid", "g:mfapresent", "g:mfaage", "g:projectname", "g:projectid",
    "g:servicename", "g:userid", "g:username", "g:sourceip", "g:enterpriseprojectid", "g:tagkeys",
    "g:requestedregion", "g:principalurn", "g:principalid", "g:principaltype", "g:principalaccount",
    "g:securetransport", "g:useragent", "g:viaservice", "g:calledvia", "g:principalorgpath",
}
KEY_RE = re.compile(r"^([a-z][a-z0-9-]*):[A-Za-z][A-Za-z0-9_./-]*(/.+)?$")


@dataclass(slots=True, frozen=True)
class Condition:
    operator: str  # as written
    base: str
    if_exists: bool
    quantifier: str | None  # ForAnyValue | ForAllValues | AnyOf
    key: str  # lower-cased
    values: tuple[str, ...]
    compiled: tuple[Any, ...]  # the values as the operator's test takes them
    written: str  # the key as the policy spells it (for explanations)

    def evaluate(self, context: dict[str, Any]) -> bool:
        present = self.key in context and context[self.key] is not None
        value = context.get(self.key)
        if self.base == "Null":
            want_null = _bool(self.values[0])
            return (not present) == want_null
        if self.base == "IsNullOrEmpty":
            empty = not present or value in ("", [], ())
            return empty == _bool(self.values[0]) if self.values else empty
        if not present:
            return self.if_exists
        test, negated, _ = _TESTS[self.base]
        req_values = value if isinstance(value, list | tuple | set) else [value]
        if not req_values:
            return self.if_exists or self.quantifier == "ForAllValues"

        def one(rv: Any) -> bool:
            try:
                hit = any(test(rv, cv) for cv in self.compiled)
            except (ValueError, TypeError):
                hit = False
            return not hit if negated else hit

        if self.quantifier == "ForAllValues":
            return all(one(rv) for rv in req_values)
        return any(one(rv) for rv in req_values)


def parse_conditions(raw: Any, where: str) -> tuple[Condition, ...]:
    from ecsim.iam.policy import PolicyError

    if not isinstance(raw, dict) or not raw:
        raise PolicyError(f"{where} must be a non-empty object of operator -> {{key: values}}")
    out: list[Condition] = []
    for operator, body in raw.items():
        op = operator
        quantifier = None
        for prefix in ("ForAnyValue:", "ForAllValues:"):
            if op.startswith(prefix):
                quantifier = prefix[:-1]
                op = op[len(prefix):]
        if_exists = op.endswith("IfExists")
        if if_exists:
            op = op[: -len("IfExists")]
        if op.endswith("AnyOf"):
            quantifier = quantifier or "AnyOf"
            op = op[: -len("AnyOf")]
        if op not in _TESTS and op not in _PRESENCE:
            raise PolicyError(f"{where}: unknown condition operator {operator!r}")
        if not isinstance(body, dict) or not body:
            raise PolicyError(f"{where}.{operator} must be a non-empty object of key -> values")
        for key, values in body.items():
            k = str(key)
            if not KEY_RE.match(k):
                raise PolicyError(f"{where}.{operator}: {k!r} is not a condition key (e.g. g:UserName)")
            if k.lower().startswith("g:") and k.lower().split("/")[0] not in KNOWN_GLOBAL_KEYS and not any(
                k.lower().startswith(p) for p in ("g:resourcetag/", "g:requesttag/", "g:principaltag/")
            ):
                raise PolicyError(f"{where}.{operator}: unknown global condition key {k!r}")
            vals = values if isinstance(values, list) else [values]
            if not vals or not all(isinstance(v, str | bool | int | float) for v in vals):
                raise PolicyError(f"{where}.{operator}.{k} must be a value or a non-empty list of values")
            svals = tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in vals)
            compiled = []
            for v in svals:  # compiled once here: networks, dates, numbers, patterns, booleans
                try:
                    compiled.append(_TESTS[op][2](v) if op in _TESTS else _bool_value(v))
                except ValueError as exc:
                    what = next((w for prefix, w in _VALUE_KINDS if op.startswith(prefix)), "a valid value")
                    raise PolicyError(f"{where}.{operator}.{k}: {v!r} is not {what}") from exc
            out.append(Condition(operator, op, if_exists, quantifier, k.lower(), svals, tuple(compiled), k))
    return tuple(out)


def global_condition_keys(principal: Any, *, now: float, source_ip: str | None, region: str,
                          user_agent: str | None = None) -> dict[str, Any]:
    """The global condition keys of a request by `principal` (lower-cased, as Condition stores its keys)."""
    p = principal
    return {
        "g:username": p.user_name, "g:userid": p.user_id, "g:domainname": p.domain_name,
        "g:domainid": p.domain_id, "g:projectname": p.project_name, "g:projectid": p.project_id,
        "g:currenttime": iso_seconds_z(now), "g:sourceip": source_ip, "g:mfapresent": p.mfa,
        "g:requestedregion": region, "g:principalaccount": p.domain_id, "g:principalid": p.user_id,
        "g:principaltype": "User", "g:principalurn": f"iam::{p.domain_id}:user:{p.user_name}",
        "g:securetransport": False, "g:useragent": user_agent,
    }
