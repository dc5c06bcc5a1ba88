"""Everything a request needs besides the request itself: store, clock, identity directory, decision log, the
flavor and image sets. Built once per process; tests build their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ecsim.auth.tokens import TokenClaims
from ecsim.bootstrap import Bootstrap, bootstrap
from ecsim.clock import Clock
from ecsim.config import Config
from ecsim.domain.catalogs import Flavor, Image, load_flavors, load_images
from ecsim.domain.timeline import Timing, settle
from ecsim.iam.decisions import DecisionLog
from ecsim.iam.directory import Directory
from ecsim.store import Cond, Put, Row, SqlStore, open_store


def refresh_facets(store: SqlStore) -> None:
    """Recompute stored servers' and volumes' facets when their definition changed (or they predate facets); volumes
    not yet counted in their project's gigabytes are counted then."""
    from ecsim.domain import servers, volumes
    from ecsim.services.block import count_gigabytes

    def server(r: Row) -> Put:
        return Put("server", r.id, r.scope, r.doc, name=r.doc["name"], status=servers.status(r.doc), created=r.created,
                   settle_at=r.settle_at, facets=servers.facets(r.doc))

    def volume(r: Row) -> Put:
        return Put("volume", r.id, r.scope, r.doc, name=r.doc["name"], status=r.doc["status"], created=r.created,
                   settle_at=r.settle_at, facets=volumes.facets(r.doc))

    for kind, version, put in (("server", servers.FACETS_VERSION, server), ("volume", volumes.FACETS_VERSION, volume)):
        key = "facets_version" if kind == "server" else f"{kind}_facets_version"  # servers' key predates volumes
        if store.meta_get(key) == version:
            continue
        after: tuple[float, str] | None = None
        while True:
            rows = store.select(kind, None, [Cond("after", "created", after)] if after else [], newest_first=False,
                                limit=2000)
            if not rows:
                break
            with store.write() as tx:
                if kind == "volume":
                    count_gigabytes(tx, [r.doc for r in rows if "counted_size" not in r.doc])
                tx.update_many([put(r) for r in rows])
            after = (rows[-1].created, rows[-1].id)
        with store.write() as tx:
            tx.meta_set(key, version)


_IMAGE_FIELDS = Image.__struct_fields__


def private_image(doc: dict, now: float) -> Image:
    settle(doc, now)
    return Image(**{k: doc[k] for k in _IMAGE_FIELDS if k in doc})


@dataclass
class Runtime:
    config: Config
    store: SqlStore
    clock: Clock
    timing: Timing
    directory: Directory
    decisions: DecisionLog
    flavors: dict[str, Flavor]
    images: dict[str, Image]
    boot: Bootstrap
    token_secret: bytes
    token_cache: dict[str, TokenClaims] = field(default_factory=dict)
    view_cache: dict[tuple, bytes] = field(default_factory=dict)
    stale: bool = False  # reload what refresh() reloads on the next request (after a failed commit)

    def image(self, project_id: str, image_id: str) -> Image | None:
        """A public image, or a private one of this project (made by exporting a volume), settled now."""
        image = self.images.get(image_id)
        if image is not None:
            return image
        row = self.store.get("image", image_id)
        if row is None or row.scope != project_id:
            return None
        return private_image(row.doc, self.clock.now())

    def private_images(self, project_id: str) -> list[Image]:
        now = self.clock.now()
        return [private_image(r.doc, now) for r in self.store.select("image", project_id)]

    def row_view(self, key: tuple, row: Row, render: Callable[[dict], Any]) -> bytes:
        """The encoded view of a stored resource, cached per (view key, id, row version): a version names one
        immutable state. A row with a pending transition is rendered afresh (its view depends on the clock)."""
        if row.settle_at is not None:
            return msgspec.json.encode(render(row.doc))
        full = _cache_key(key, row)
        body = self.view_cache.get(full)
        if body is None:
            if len(self.view_cache) >= 8192:
                self.view_cache.clear()
            body = self.view_cache[full] = msgspec.json.encode(render(row.doc))
        return body

    def select_for_view(self, kind: str, scope: str | None, conds: list, view: tuple | None,
                        **select: Any) -> list[Row]:
        """store.select for a page the caller renders with row_view(view, ...). Where the store prefers it
        (Dialect.lazy_docs: PostgreSQL, where rendering documents as text is most of a list's cost) the page is
        read without documents and only the rows whose view is not cached are read again; a row changed in between
        comes back as it is now, one deleted in between drops out."""
        if view is None or not self.store.dialect.lazy_docs:
            return self.store.select(kind, scope, conds, **select)
        rows = self.store.select(kind, scope, conds, docs=False, **select)
        missing = {r.id for r in rows if r.settle_at is not None or _cache_key(view, r) not in self.view_cache}
        if not missing:
            return rows
        fresh = self.store.get_many(kind, list(missing))
        return [fresh[r.id] if r.id in missing else r for r in rows if r.id not in missing or r.id in fresh]

    @classmethod
    def create(cls, config: Config, store: SqlStore | None = None) -> Runtime:
        store = store or open_store(config.store_url())
        flavors = load_flavors(config.flavors_file)
        images = load_images(config.images_file)
        clock = Clock()
        clock.load(store.meta_get("clock"))
        boot = bootstrap(store, config, clock.now(), flavors, images)
        refresh_facets(store)
        directory = Directory(store)
        return cls(
            config=config,
            store=store,
            clock=clock,
            timing=Timing(config.profile, config.time_scale),
            directory=directory,
            decisions=DecisionLog(store),
            flavors=flavors,
            images=images,
            boot=boot,
            token_secret=bytes.fromhex(store.meta_get("token_secret")),
        )

    def refresh(self) -> None:
        """Pick up what other processes changed: identity data, the control-plane clock."""
        if self.store.changed_elsewhere() or self.stale:
            self.stale = False
            self.directory.sync()
            self.clock.load(self.store.meta_get("clock"))

    def forget_caches(self) -> None:
        """After a failed commit: cached identities and views may hold what was rolled back."""
        self.view_cache.clear()
        self.token_cache.clear()
        self.directory.forget()
        self.stale = True

    def save_clock(self) -> None:
        with self.store.write() as tx:
            tx.meta_set("clock", self.clock.state())
            tx.notify_change()

    def purge_expired_jobs(self) -> None:
        """Forget the jobs, idempotency answers and deleted servers past their retention."""
        from ecsim.domain.jobs import JOB_RETENTION_SECONDS
        from ecsim.services.server_rows import purge_deleted

        now = self.clock.now()
        with self.store.write() as tx:
            tx.purge_jobs(now - JOB_RETENTION_SECONDS)
            purge_deleted(tx, now)

    def close(self) -> None:
        self.decisions.close()
        self.store.close()


def _cache_key(view: tuple, row: Row) -> tuple:
    return (*view, row.kind, row.id, row.version)  # kind: a deleted server's row restarts at version 1
