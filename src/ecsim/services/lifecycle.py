"""Actions on one server that need it stopped (or stop it first with `withStopServer`): change and reinstall the
OS, resize, cold migrate. Each writes the server (and, for an OS change, its system disk) and a job ending when the
server settles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ecsim.domain import groups, jobs, servers
from ecsim.domain.errors import DomainError, InvalidInput, NotFound
from ecsim.domain.provision import SYSTEM_METADATA, hypervisor_of, user_metadata
from ecsim.domain.timeline import final_at, settle
from ecsim.runtime import Runtime
from ecsim.services import compute, keypairs
from ecsim.services.block import save_volume
from ecsim.services.groups import hosts_for
from ecsim.services.server_rows import lock_servers, save_job, save_server
from ecsim.store import SqlStore

WITH_STOP = "withStopServer"


def _stop_first(mode: str | None) -> bool:
    if mode not in (None, "", WITH_STOP):
        raise InvalidInput(f"mode must be {WITH_STOP!r}.")
    return mode == WITH_STOP


def _job(tx: SqlStore, rt: Runtime, doc: dict, job_type: str, now: float) -> dict:
    job = jobs.new_job(doc["project_id"], job_type, now, entities={"server_id": doc["id"]},
                       end=final_at(doc, now), init_window=rt.timing("job.init"))
    save_job(tx, job)
    return job


@dataclass
class Login:
    """How the new system lets its user in: a password or a key pair; or only user data (cloud-init)."""

    admin_pass: str | None = None
    key_name: str | None = None
    user_id: str | None = None  # the key pair's owner
    user_data: str | None = None

    def check(self) -> None:
        if self.admin_pass and self.key_name:
            raise InvalidInput("adminpass and keyname cannot both be set.")
        if not self.admin_pass and not self.key_name and not self.user_data:
            raise InvalidInput("One of adminpass, keyname or metadata.user_data is required.")
        if self.admin_pass:
            compute.validate_admin_pass(self.admin_pass)


def rebuild(rt: Runtime, project_id: str, server_id: str, login: Login, *, now: float, is_admin: bool,
            image_id: str | None = None, mode: str | None = None) -> dict:
    """Change the OS (`image_id` given, job changeOS) or reinstall the current one (job reinstallOS)."""
    login.check()
    if login.user_id is not None:
        keypairs.require(rt.store, login.user_id, login.key_name)
    stop_first = _stop_first(mode)
    with rt.store.write() as tx:
        doc = lock_servers(tx, project_id, [server_id], now)[0]
        servers.check_lock(doc, is_admin)  # a Nova lock binds the ECS API too
        flavor = compute.get_flavor(rt, doc["flavor_id"])
        image = compute.usable_image(rt, project_id, image_id or doc["image_id"], flavor)
        boot = next((v for v in doc.get("volumes", []) if v["boot_index"] == 0), None)
        if boot is None:
            raise DomainError(f"The ECS {server_id} has no system disk.", reason="invalid")
        root = tx.get("volume", boot["id"], for_update=True)
        if root is not None and root.doc["size"] < image.min_disk:
            raise InvalidInput(f"The system disk ({root.doc['size']} GB) is smaller than the image's minimum disk "
                               f"({image.min_disk} GB).")
        metadata = {**doc.get("metadata", {}), "image_name": image.name, "os_type": image.os_type,
                    "os_bit": image.os_bit, "metering.image_id": image.id, "metering.imagetype": image.imagetype}
        changes = {"image_id": image.id, "metadata": metadata, "key_name": login.key_name}
        if login.user_data is not None:
            changes["user_data"] = login.user_data
        servers.rebuild(doc, now, rt.timing, changes, stop_first=stop_first)
        save_server(tx, doc, now, facets=True)
        if root is not None:  # the system disk now holds the new image
            settle(root.doc, now)
            root.doc.update(image_id=image.id, image_name=image.name, updated=now)
            save_volume(tx, root.doc, now)
        return _job(tx, rt, doc, "changeOS" if image_id else "reinstallOS", now)


def _no_dedicated_host(dedicated_host_id: str | None) -> None:
    if dedicated_host_id:
        raise DomainError(f"The dedicated host {dedicated_host_id} does not exist (ecsim has no dedicated hosts).",
                          reason="invalid")


def resize(rt: Runtime, project_id: str, server_id: str, flavor_id: str, *, now: float, is_admin: bool,
           mode: str | None = None, dry_run: bool = False, dedicated_host_id: str | None = None) -> dict | None:
    _no_dedicated_host(dedicated_host_id)
    stop_first = _stop_first(mode)
    with rt.store.write() as tx:
        doc = lock_servers(tx, project_id, [server_id], now)[0]
        servers.check_lock(doc, is_admin)
        flavor = compute.get_flavor(rt, flavor_id)
        if flavor.id == doc["flavor_id"]:
            raise DomainError(f"The ECS flavor {flavor.id} is the same as the target flavor.", reason="same_flavor")
        compute.check_sellable(flavor, doc["availability_zone"])
        compute.usable_image(rt, project_id, doc["image_id"], flavor)
        servers.check_resize(doc, stop_first)
        old = rt.flavors.get(doc["flavor_id"])
        compute.check_quota(tx, rt, project_id, 0, flavor.vcpus - (old.vcpus if old else 0),
                            flavor.ram - (old.ram if old else 0))
        if dry_run:
            return None
        servers.resize(doc, now, rt.timing, flavor.id, stop_first=stop_first)
        # ECS bills by the spec code provisioning wrote into the metadata; left alone it would name the old flavor.
        doc["metadata"] = {**doc.get("metadata", {}), "metering.resourcespeccode": flavor.id}
        save_server(tx, doc, now, facets=True)
        return _job(tx, rt, doc, "resizeServer", now)


def migrate(rt: Runtime, project_id: str, server_id: str, *, now: float, is_admin: bool,
            dedicated_host_id: str | None = None) -> dict:
    """Cold migration to another host of the zone, one the server's group allows; with none free the job fails and
    the server stays where it is."""
    _no_dedicated_host(dedicated_host_id)
    with rt.store.write() as tx:
        doc = lock_servers(tx, project_id, [server_id], now)[0]
        servers.check_lock(doc, is_admin)
        servers.check_stopped(doc, "migrate")
        group = (servers.group_ids(doc) or [None])[0]
        az = doc["availability_zone"]
        try:
            candidates = hosts_for(tx, rt, project_id, group, az, rt.config.hosts_per_az, exclude=(doc["id"],),
                                   new_members=False)
        except NotFound:  # the group was deleted: no constraint left
            candidates = hosts_for(tx, rt, project_id, None, az, rt.config.hosts_per_az)
        host = next((h for h in candidates if h is not None and h != doc.get("host")), None)
        if host is None:
            job = jobs.new_job(project_id, "migrateServer", now, entities={"server_id": doc["id"]},
                               error_code=compute.NO_HOST_CODE, fail_reason=groups.NO_VALID_HOST,
                               end=now + rt.timing("create.scheduling"), init_window=rt.timing("job.init"))
            save_job(tx, job)
            return job
        servers.migrate(doc, now, rt.timing, host, hypervisor_of(host, az))
        save_server(tx, doc, now)
        return _job(tx, rt, doc, "migrateServer", now)


# -- Nova's actions (the native API): locks bind non-admins; resize waits for a confirmation ------------------------
def change_server(rt: Runtime, project_id: str, server_id: str, apply: Callable[[dict], None], *, now: float,
                  is_admin: bool, lock_checked: bool = True, facets: bool = False) -> dict:
    """Load and lock the server row, refuse a locked server (for non-admins), apply a domain rule, save."""
    with rt.store.write() as tx:
        doc = lock_servers(tx, project_id, [server_id], now)[0]
        if lock_checked:
            servers.check_lock(doc, is_admin)
        apply(doc)
        save_server(tx, doc, now, facets=facets)
    return doc


def nova_resize(rt: Runtime, project_id: str, server_id: str, flavor_id: str, *, now: float,
                is_admin: bool, disk_config: str | None = None) -> dict:
    with rt.store.write() as tx:
        doc = lock_servers(tx, project_id, [server_id], now)[0]
        servers.check_lock(doc, is_admin)
        flavor = rt.flavors.get(flavor_id)
        if flavor is None:
            raise InvalidInput(f"Flavor {flavor_id} could not be found.")
        if flavor.id == doc["flavor_id"]:
            raise InvalidInput("When resizing, instances must change flavor!")
        old = rt.flavors.get(doc["flavor_id"])
        compute.check_quota(tx, rt, project_id, 0, flavor.vcpus - (old.vcpus if old else 0),
                            flavor.ram - (old.ram if old else 0))
        servers.nova_resize(doc, now, rt.timing, flavor.id)
        if disk_config is not None:
            doc["disk_config"] = disk_config
        save_server(tx, doc, now, facets=True)
    return doc


def nova_rebuild(rt: Runtime, project_id: str, server_id: str, image_id: str, changes: dict, *, now: float,
                 is_admin: bool) -> dict:
    with rt.store.write() as tx:
        doc = lock_servers(tx, project_id, [server_id], now)[0]
        servers.check_lock(doc, is_admin)
        flavor = compute.get_flavor(rt, doc["flavor_id"])
        try:
            image = compute.usable_image(rt, project_id, image_id, flavor)
        except DomainError as exc:
            raise InvalidInput("Cannot find image for rebuild" if exc.reason == "image_not_found"
                               else exc.message) from exc
        if doc.get("boot_from_volume") and image.id != doc["image_id"]:  # Nova before 2.93
            raise InvalidInput("Unable to rebuild with a different image for a volume-backed server.")
        metadata = changes.pop("metadata", None)
        system = {k: v for k, v in doc.get("metadata", {}).items() if k in SYSTEM_METADATA}
        system.update({"image_name": image.name, "os_type": image.os_type, "os_bit": image.os_bit,
                       "metering.image_id": image.id, "metering.imagetype": image.imagetype})
        user = metadata if metadata is not None else user_metadata(doc.get("metadata", {}))
        servers.nova_rebuild(doc, now, rt.timing, {**changes, "image_id": image.id, "metadata": {**system, **user}})
        save_server(tx, doc, now, facets=True)
    return doc
