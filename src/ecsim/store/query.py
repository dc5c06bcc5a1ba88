"""Filters and access paths for list queries.

Indexed columns (status, name, ref) filter the resources table directly. Attributes a list filters on that live in
the document (a server's flavor, image, addresses, tags, metadata, ...) are kept as **facets**: rows of a narrow
table `(kind, scope, key, value, created, id)` indexed in that order, written when the attributes change (never on
a plain state change). A query with a facet filter is driven by the facet index in creation order, so a page costs
the same whether the filter matches one resource or all of them; further facet filters are checked per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

COLUMNS = ("kind", "id", "scope", "name", "status", "ref", "created", "settle_at")
FACET_DRIVERS = ("facet", "facet_like")


@dataclass(frozen=True, slots=True)
class Cond:
    """One filter term. `op`:
    eq, in, like       an indexed column equals / is one of / matches a LIKE pattern
    jeq                a JSON field of the doc equals (no index: for small kinds only)
    facet, facet_like  the resource has facet `field` equal to / matching the value
    facet_in           the resource has facet `field` equal to one of the values (checked per row, never drives)
    nofacet            the resource has no facet `field` equal to the value
    before, after      keyset paging on (field, id), value (field value, id); field is created or another column
    """

    op: str
    field: str
    value: Any


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def check_column(name: str) -> None:
    if name not in COLUMNS:
        raise ValueError(f"not an indexed column: {name}")


def _col(name: str, alias: str) -> str:
    check_column(name)
    return alias + name


def where(conds: Sequence[Cond], json_text: Any, alias: str = "", keyset_alias: str | None = None
          ) -> tuple[list[str], list[Any]]:
    """SQL terms (with `?` placeholders) and their parameters for `conds`, columns prefixed with `alias`."""
    clauses: list[str] = []
    params: list[Any] = []
    ka = alias if keyset_alias is None else keyset_alias
    for c in conds:
        if c.op == "eq":
            clauses.append(f"{_col(c.field, alias)} = ?")
            params.append(c.value)
        elif c.op == "in":
            values = list(c.value)
            if not values:
                clauses.append("1 = 0")
                continue
            clauses.append(f"{_col(c.field, alias)} IN ({','.join('?' * len(values))})")
            params.extend(values)
        elif c.op == "like":
            clauses.append(f"{_col(c.field, alias)} LIKE ? ESCAPE '\\'")
            params.append(c.value)
        elif c.op == "jeq":
            clauses.append(f"{json_text(c.field, alias + 'doc')} = ?")
            params.append(c.value)
        elif c.op in ("facet", "facet_like", "nofacet", "facet_in"):
            values = list(c.value) if c.op == "facet_in" else [c.value]
            if not values:  # one of no values
                clauses.append("1 = 0")
                continue
            neg = "NOT " if c.op == "nofacet" else ""
            test = {"facet_like": "LIKE ? ESCAPE '\\'",
                    "facet_in": f"IN ({','.join('?' * len(values))})"}.get(c.op, "= ?")
            outer = alias or "resources."  # unqualified names would bind to the subquery's own columns
            clauses.append(f"{neg}EXISTS (SELECT 1 FROM facets g WHERE g.kind = {outer}kind AND g.id = {outer}id "
                           f"AND g.key = ? AND g.value {test})")
            params.extend((c.field, *values))
        elif c.op in ("before", "after"):
            value, ident = c.value
            cmp = "<" if c.op == "before" else ">"
            a = ka if c.field == "created" else alias  # a facet-driven query pages on the facet's own columns
            col = a + "created" if c.field == "created" else _col(c.field, alias)
            clauses.append(f"({col} {cmp} ? OR ({col} = ? AND {a}id {cmp} ?))")
            params.extend((value, value, ident))
        else:
            raise ValueError(f"unknown filter op {c.op!r}")
    return clauses, params


def split_in(conds: Sequence[Cond]) -> list[list[Cond]] | None:
    """For one multi-value `in` on an indexed column: the condition lists with one `eq` per value (an ordered index
    scan per value, merged, beats one scan that cannot use the index's order)."""
    ins = [c for c in conds if c.op == "in" and len(c.value) > 1]
    if len(ins) != 1:
        return None
    rest = [c for c in conds if c is not ins[0]]
    return [[*rest, Cond("eq", ins[0].field, v)] for v in ins[0].value]


def driver(conds: Sequence[Cond]) -> tuple[Cond | None, list[Cond]]:
    """The facet condition to drive the query from (an exact one if any), and the rest."""
    exact = [c for c in conds if c.op == "facet"]
    fuzzy = [c for c in conds if c.op == "facet_like"]
    chosen = exact[0] if exact else (fuzzy[0] if fuzzy else None)
    return chosen, [c for c in conds if c is not chosen]
