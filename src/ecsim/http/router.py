"""A segment trie built from the catalog. Literal segments win over parameters (`/cloudservers/detail` before
`/cloudservers/{server_id}`); several operations may share a (method, path) and are told apart by the body's
top-level key (their selector).

OpenStack families are also mounted under devstack-style prefixes so that one port can serve Keystone, Nova and
Cinder discovery documents without collisions (shared/spec/clients.md §2.4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ecsim.catalog import Operation

FAMILY_PREFIXES = {"keystone": ("/identity",), "iam": ("/identity",), "nova": ("/compute",), "cinder": ("/volume",),
                   "glance": ("/image",)}
PREFIXES = frozenset(p for prefixes in FAMILY_PREFIXES.values() for p in prefixes)


@dataclass(slots=True)
class Node:
    literals: dict[str, Node] = field(default_factory=dict)
    param: tuple[str, Node] | None = None
    ops: dict[str, list[Operation]] = field(default_factory=dict)
    reserved: frozenset[str] = frozenset()  # names the parameter never takes (the real API's other resources)


@dataclass(slots=True)
class Match:
    ops: list[Operation]
    params: dict[str, str]
    prefix: str  # the devstack prefix the request used ("" for the canonical path)


class MethodNotAllowed(Exception):
    def __init__(self, allowed: list[str]) -> None:
        super().__init__(",".join(allowed))
        self.allowed = allowed


def split(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


class Router:
    def __init__(self, operations: list[Operation], reserved: dict[str, frozenset[str]] | None = None) -> None:
        """`reserved`: per path, names that are not values of the parameter after it (`/cloudservers/tags` is no
        server: unserved, it is a 404 of the gateway, not "server tags not found" after an authorization for a
        server show)."""
        self.root = Node()
        for op in operations:
            mounts = op.mounts if op.mounts is not None else ("", *FAMILY_PREFIXES.get(op.family, ()))
            for prefix in mounts:
                self.add((prefix + op.path).rstrip("/") or "/", op, prefix)
        for template, names in (reserved or {}).items():
            self._reach(template).reserved = names

    def _reach(self, template: str) -> Node:
        """The node a route's path prefix leads to."""
        node = self.root
        for seg in split(template):
            step = node.param[1] if seg.startswith("{") and node.param else node.literals.get(seg)
            if step is None:
                raise ValueError(f"no route reaches {template}")
            node = step
        return node

    def add(self, template: str, op: Operation, prefix: str) -> None:
        node = self.root
        for seg in split(template):
            if seg.startswith("{") and seg.endswith("}"):
                name = seg[1:-1]
                if node.param is None:
                    node.param = (name, Node())
                elif node.param[0] != name:
                    # Two templates name the same position differently; keep one name and alias the other.
                    raise ValueError(f"conflicting parameter names at {template}: {node.param[0]} vs {name}")
                node = node.param[1]
            else:
                node = node.literals.setdefault(seg, Node())
        node.ops.setdefault(op.method, []).append(op)

    def match(self, method: str, path: str) -> Match | None:
        """The operations for (method, path); raises MethodNotAllowed when only the method is wrong. A trailing
        slash is only accepted by unauthenticated documents (`/identity/v3/`, `/volume/v3/`): on resources it would
        name an empty id (Cinder's `GET /volumes/` is a 404, not the list)."""
        segs = split(path)
        params: dict[str, str] = {}
        node = self._walk(self.root, segs, 0, params)
        if node is None:
            return None
        ops = node.ops.get(method)
        if ops is None:
            raise MethodNotAllowed(sorted(node.ops))
        if path.endswith("/") and len(path) > 1 and ops[0].scope != "public":
            return None
        prefix = ""
        if segs and "/" + segs[0] in PREFIXES:
            prefix = "/" + segs[0]
        return Match(ops, params, prefix)

    def _walk(self, node: Node, segs: list[str], i: int, params: dict[str, str]) -> Node | None:
        if i == len(segs):
            return node if node.ops else None
        seg = segs[i]
        child = node.literals.get(seg)
        if child is not None:
            found = self._walk(child, segs, i + 1, params)
            if found is not None:
                return found
        if node.param is not None and seg not in node.reserved:
            name, child = node.param
            params[name] = seg
            found = self._walk(child, segs, i + 1, params)
            if found is not None:
                return found
            del params[name]
        return None
