"""Key pairs, kept per user (as Nova keeps them): create (imported or generated), list, show, delete, and the
lookup a server create or rebuild makes for its key_name."""

from __future__ import annotations

from ecsim.domain import keypairs
from ecsim.domain.errors import Conflict, DomainError, NotFound, QuotaExceeded
from ecsim.runtime import Runtime
from ecsim.store import Put, SqlStore

KIND = "keypair"
QUOTA = 100  # key pairs per user (Nova's default)


def _id(user_id: str, name: str) -> str:
    return f"{user_id}/{name}"


def not_found(user_id: str, name: str) -> NotFound:
    return NotFound("keypair", name, f"Keypair {name} not found for user {user_id}")


def get(store: SqlStore, user_id: str, name: str) -> dict:
    row = store.get(KIND, _id(user_id, name))
    if row is None:
        raise not_found(user_id, name)
    return row.doc


def exists(store: SqlStore, user_id: str, name: str) -> bool:
    return store.get(KIND, _id(user_id, name)) is not None


def require(store: SqlStore, user_id: str, name: str | None) -> None:
    """The ECS API's check of a server's key_name: one of the user's key pairs (Ecs.0314)."""
    if name is not None and not exists(store, user_id, name):
        raise DomainError(f"The key pair {name} does not exist.", reason="keypair_not_found")


def create(rt: Runtime, user_id: str, name: str, *, public_key: str | None, key_type: str, now: float) -> dict:
    """The stored key pair; a generated one also carries its private key (returned once, never stored)."""
    keypairs.check_name(name)
    private = None
    if public_key is None:
        public_key, private = keypairs.generate()
    else:
        public_key = keypairs.check_public_key(public_key)
    doc = {"name": name, "user_id": user_id, "public_key": public_key, "type": key_type,
           "fingerprint": keypairs.fingerprint(public_key), "created": now}
    with rt.store.write() as tx:
        if tx.get(KIND, _id(user_id, name)) is not None:
            raise Conflict(f"Key pair '{name}' already exists.")
        if tx.count(KIND, user_id) >= QUOTA:
            raise QuotaExceeded("Quota exceeded, too many key pairs.", resource="key_pairs", used=QUOTA,
                                limit=QUOTA)
        tx.insert(Put(KIND, _id(user_id, name), user_id, doc, name=name, status="active", created=now))
    return {**doc, "private_key": private} if private else doc


def list_for(rt: Runtime, user_id: str, *, limit: int | None = None, marker: str | None = None) -> list[dict]:
    """By name; `marker` is the last name of the previous page."""
    docs = sorted((r.doc for r in rt.store.select(KIND, user_id)), key=lambda d: d["name"])
    if marker is not None:
        names = [d["name"] for d in docs]
        if marker not in names:
            raise not_found(user_id, marker)
        docs = docs[names.index(marker) + 1:]
    return docs[:limit] if limit is not None else docs


def delete(rt: Runtime, user_id: str, name: str) -> None:
    with rt.store.write() as tx:
        if not tx.delete(KIND, _id(user_id, name)):
            raise not_found(user_id, name)
