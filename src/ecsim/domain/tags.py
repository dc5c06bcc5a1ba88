"""Tags. A server's are one list (`doc["tags"]`) with two shapes: the ECS API's key/value pairs, kept as
"key=value" (or "key" when the value is empty), and Nova's plain strings, which ECS reads as keys without a value.
A disk's are EVS's key/value dict. The rules are each API's: ECS and EVS keys 1-36 characters of letters, digits,
`-`, `_` (and CJK), values up to 43 (`.` too), at most 10 per resource (the SDK models' documentation); Nova tags
1-60 characters without `/` or `,`, at most 50 (nova/objects/tag.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ecsim.domain.errors import DomainError, InvalidInput, NotFound

ECS_MAX = 10
NOVA_MAX = 50
_KEY = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff]{1,36}")
_VALUE = re.compile(r"[A-Za-z0-9_.\-\u4e00-\u9fff]{0,43}")


def split(tag: str) -> tuple[str, str]:
    key, _, value = tag.partition("=")
    return key, value


def joined(key: str, value: str) -> str:
    return f"{key}={value}" if value else key


def _check_key(key: str) -> None:
    if not _KEY.fullmatch(key):
        raise DomainError(f"Invalid tag key {key!r}: 1 to 36 letters, digits, '-' or '_'.", reason="tags_invalid")


def check_ecs_pairs(pairs: list[tuple[str, str]]) -> None:
    """Well-formed key/value tags with distinct keys (reason tags_invalid: Ecs.0905, EVS.1062)."""
    seen: set[str] = set()
    for key, value in pairs:
        _check_key(key)
        if not _VALUE.fullmatch(value):
            raise DomainError(f"Invalid tag value {value!r} of key {key!r}: at most 43 letters, digits, '.', '-' or "
                              "'_'.", reason="tags_invalid")
        if key in seen:
            raise DomainError(f"The tag key {key!r} is given twice.", reason="tags_invalid")
        seen.add(key)
    if len(pairs) > ECS_MAX:
        raise DomainError(f"A resource can have at most {ECS_MAX} tags.", reason="tags_invalid")


def ecs_add(doc: dict, pairs: list[tuple[str, str]]) -> None:
    merged = add_pairs(dict(split(t) for t in doc.get("tags", [])), pairs)
    doc["tags"] = [joined(k, v) for k, v in merged.items()]


def add_pairs(current: dict[str, str], pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The tags with these added (a key already there takes the new value: batch creates are idempotent)."""
    check_ecs_pairs(pairs)
    merged = {**current, **dict(pairs)}
    if len(merged) > ECS_MAX:
        raise DomainError(f"A resource can have at most {ECS_MAX} tags; it would have {len(merged)}.",
                          reason="tags_invalid")
    return merged


def remove_pairs(current: dict[str, str], pairs: list[tuple[str, str | None]]) -> dict[str, str]:
    """The tags without these: by key; with a value, only a tag holding that value. Absent tags are no error."""
    for key, _ in pairs:
        _check_key(key)
    drop = dict(pairs)
    return {k: v for k, v in current.items() if not (k in drop and drop[k] in (None, "", v))}


def ecs_remove(doc: dict, pairs: list[tuple[str, str | None]]) -> None:
    kept = remove_pairs(dict(split(t) for t in doc.get("tags", [])), pairs)
    doc["tags"] = [joined(k, v) for k, v in kept.items()]


def values_by_key(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """A project's tags: each key (sorted) with the values it has, in the order first seen."""
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        seen = values.setdefault(key, [])
        if value not in seen:
            seen.append(value)
    return dict(sorted(values.items()))


def check_nova_tag(tag: str) -> None:
    if not 1 <= len(tag) <= 60 or "/" in tag or "," in tag:
        raise InvalidInput(f"Invalid input for field/attribute tags. Value: {tag}. A tag is 1 to 60 characters, "
                           "without '/' or ','")


def nova_replace(doc: dict, tags: list[str]) -> None:
    for tag in tags:
        check_nova_tag(tag)
    unique = list(dict.fromkeys(tags))
    if len(unique) > NOVA_MAX:
        raise InvalidInput(f"The number of tags exceeded the per-server limit {NOVA_MAX}")
    doc["tags"] = unique


def nova_add(doc: dict, tag: str) -> bool:
    """Add one tag; False when it was there already."""
    check_nova_tag(tag)
    if tag in doc.get("tags", []):
        return False
    if len(doc.get("tags", [])) >= NOVA_MAX:
        raise InvalidInput(f"The number of tags exceeded the per-server limit {NOVA_MAX}")
    doc["tags"] = [*doc.get("tags", []), tag]
    return True


def nova_remove(doc: dict, tag: str) -> None:
    if tag not in doc.get("tags", []):
        raise NotFound("tag", tag, f"Tag {tag} could not be found.")
    doc["tags"] = [t for t in doc["tags"] if t != tag]
