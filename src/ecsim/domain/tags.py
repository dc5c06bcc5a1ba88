"""Server tags: one list on the server (`doc["tags"]`), two shapes. The ECS API's tags are key/value pairs, kept as
"key=value" (or "key" when the value is empty); Nova's are plain strings, which ECS reads as keys without a value.
The rules are each API's: ECS keys 1-36 characters of letters, digits, `-`, `_` (and CJK), values up to 43 (`.`
too), at most 10 per server (the SDK models' documentation); Nova tags 1-60 characters without `/` or `,`, at most
50 (nova/objects/tag.py)."""

from __future__ import annotations

import re

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


def check_ecs_pairs(pairs: list[tuple[str, str]]) -> None:
    """Well-formed ECS tags with distinct keys (Ecs.0905 otherwise)."""
    seen: set[str] = set()
    for key, value in pairs:
        if not _KEY.fullmatch(key):
            raise DomainError(f"Invalid tag key {key!r}: 1 to 36 letters, digits, '-' or '_'.", reason="tags_invalid")
        if not _VALUE.fullmatch(value):
            raise DomainError(f"Invalid tag value {value!r} of key {key!r}: at most 43 letters, digits, '.', '-' or "
                              "'_'.", reason="tags_invalid")
        if key in seen:
            raise DomainError(f"The tag key {key!r} is given twice.", reason="tags_invalid")
        seen.add(key)
    if len(pairs) > ECS_MAX:
        raise DomainError(f"A server can have at most {ECS_MAX} tags.", reason="tags_invalid")


def ecs_add(doc: dict, pairs: list[tuple[str, str]]) -> None:
    """Add tags; a key already there takes the new value (ECS's batch create is idempotent)."""
    check_ecs_pairs(pairs)
    current = dict(split(t) for t in doc.get("tags", []))
    current.update(pairs)
    if len(current) > ECS_MAX:
        raise DomainError(f"A server can have at most {ECS_MAX} tags; it would have {len(current)}.",
                          reason="tags_invalid")
    doc["tags"] = [joined(k, v) for k, v in current.items()]


def ecs_remove(doc: dict, pairs: list[tuple[str, str | None]]) -> None:
    """Remove tags by key; with a value, only a tag holding that value. Absent tags are no error."""
    for key, _ in pairs:
        if not _KEY.fullmatch(key):
            raise DomainError(f"Invalid tag key {key!r}: 1 to 36 letters, digits, '-' or '_'.", reason="tags_invalid")
    drop = {key: value for key, value in pairs}
    doc["tags"] = [t for t in doc.get("tags", []) if not (
        split(t)[0] in drop and drop[split(t)[0]] in (None, "", split(t)[1]))]


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
