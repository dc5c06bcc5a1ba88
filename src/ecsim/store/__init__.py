"""Persistence: one interface (base.SqlStore) with SQLite (default) and PostgreSQL implementations."""

from __future__ import annotations

from ecsim.store.base import Put, Row, SqlStore, StoreUnavailable, VersionConflict
from ecsim.store.query import Cond, like_escape

__all__ = ["Cond", "Put", "Row", "SqlStore", "StoreUnavailable", "VersionConflict", "like_escape", "open_store"]


def open_store(url: str) -> SqlStore:
    """`sqlite:///path/to/ecsim.db`, `sqlite://:memory:` or `postgresql://...`."""
    if url.startswith(("postgresql://", "postgres://")):
        from ecsim.store.postgres import PostgresStore

        return PostgresStore(url)
    from ecsim.store.sqlite import SqliteStore

    if url.startswith("sqlite://"):
        url = url[len("sqlite://"):]
        if url.startswith("/") and url != "/:memory:":
            url = url[1:] if url.startswith("//") else url
        if url == "/:memory:":
            url = ":memory:"
    return SqliteStore(url)
