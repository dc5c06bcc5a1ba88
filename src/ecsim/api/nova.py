"""Nova v2 / v2.1 (under /compute, as the token's catalog says, and unprefixed): version discovery, flavors and
limits. Servers and their actions are in api/nova_servers.py, views in api/nova_views.py."""

from __future__ import annotations

from msgspec import Struct

from ecsim.api import nova_views as views
from ecsim.api.ecs_views import flavor_specs
from ecsim.config import quota_limit
from ecsim.domain.catalogs import Flavor
from ecsim.domain.errors import DomainError, InvalidInput, NotFound
from ecsim.http.context import Ctx, Response, json_response
from ecsim.services import compute
from ecsim.services.groups import az_hosts
from ecsim.timefmt import iso_micros

Version = tuple[int, int]


def version(ctx: Ctx) -> Version:
    """The agreed microversion; the legacy /v2 API behaves as 2.1 and carries none."""
    return ctx.version if ctx.version != (0, 0) else (2, 1)


def links(ctx: Ctx) -> views.Links:
    assert ctx.op is not None
    root = ctx.rt.config.base_url() + ctx.prefix
    api_version = ctx.op.path.split("/")[1]  # v2 or v2.1
    return views.Links(f"{root}/{api_version}/{ctx.project}", f"{root}/{ctx.project}")


MAX_LIMIT = 1000  # Nova's [api] max_limit


class Strict(Struct, forbid_unknown_fields=True):
    """A request body under Nova's schemas: additionalProperties false, so an unknown key is 400."""


def check_name(name: str | None, what: str = "name") -> None:
    """Nova's parameter_types.name: 1 to 255 characters, no leading or trailing whitespace."""
    if name is None:
        return
    if not 1 <= len(name) <= 255 or name != name.strip():
        raise InvalidInput(f"Invalid input for field/attribute {what}. Value: {name}. '{name}' must be 1 to 255 "
                           "characters long, without leading or trailing whitespace")


def check_query(ctx: Ctx, allowed: set[str]) -> None:
    """From 2.75 a list refuses query parameters it does not know (400)."""
    if version(ctx) >= (2, 75):
        unknown = sorted(set(ctx.query) - allowed)
        if unknown:
            raise InvalidInput(f"Invalid input for query parameters {', '.join(unknown)}. Additional properties "
                               "are not allowed")


def offset_limit(ctx: Ctx) -> tuple[int, int]:
    """Nova's common.limited: non-negative integers; a limit of 0 (or none) means the maximum page."""
    offset = ctx.q_int("offset", 0, low=0) or 0
    limit = ctx.q_int("limit", 0, low=0) or MAX_LIMIT
    return offset, min(limit, MAX_LIMIT)


def _root(ctx: Ctx) -> str:
    return ctx.rt.config.base_url() + ctx.prefix


# -- discovery ------------------------------------------------------------------------------------------------------
def versions(ctx: Ctx) -> Response:
    """GET /compute/ -> 200 (Nova answers 200, not 300) listing v2.0 and v2.1."""
    root = _root(ctx)
    return json_response(200, {"versions": [views.version_entry(root, "v2.0"), views.version_entry(root, "v2.1")]})


def version_v21(ctx: Ctx) -> Response:
    """GET /compute/v2.1, /v2.1/ and /v2.1/{project_id}: the v2.1 document (novaclient reads it at the catalog
    URL itself)."""
    return json_response(200, views.version_doc(_root(ctx), "v2.1"))


def version_v2(ctx: Ctx) -> Response:
    return json_response(200, views.version_doc(_root(ctx), "v2.0"))


# -- flavors --------------------------------------------------------------------------------------------------------
_FLAVOR_SORT = {"flavorid": lambda f: f.id, "id": lambda f: f.id, "name": lambda f: f.name,
                "memory_mb": lambda f: f.ram, "vcpus": lambda f: f.vcpus, "root_gb": lambda f: f.disk}


def _flavors(ctx: Ctx) -> list:
    """Nova's flavor index: flavorid ascending unless `sort_key` / `sort_dir` say otherwise; every flavor is
    public (`is_public=false` lists none)."""
    key = ctx.q("sort_key") or "flavorid"
    direction = (ctx.q("sort_dir") or "asc").lower()
    if key not in _FLAVOR_SORT or direction not in ("asc", "desc"):
        raise InvalidInput(f"Invalid input received: Invalid sort_key {key} or sort_dir {direction}.")
    flavors = sorted(ctx.rt.flavors.values(), key=lambda f: (_FLAVOR_SORT[key](f), f.id),
                     reverse=direction == "desc")
    if (ctx.q("is_public") or "true").lower() in ("false", "f", "0", "no", "n", "off"):
        flavors = []
    min_ram, min_disk = ctx.q_int("minRam", None, low=0), ctx.q_int("minDisk", None, low=0)
    if min_ram is not None:
        flavors = [f for f in flavors if f.ram >= min_ram]
    if min_disk is not None:
        flavors = [f for f in flavors if f.disk >= min_disk]
    marker = ctx.q("marker")
    if marker:
        ids = [f.id for f in flavors]
        if marker not in ids:
            raise InvalidInput(f"marker [{marker}] not found")
        flavors = flavors[ids.index(marker) + 1:]
    limit = ctx.q_int("limit", MAX_LIMIT, low=0)
    return flavors[:limit]


def _flavor_view(ctx: Ctx, f: Flavor, *, detail: bool) -> dict:
    return views.flavor(f, links(ctx), version(ctx), ctx.rt.config.availability_zones, detail=detail)


def list_flavors(ctx: Ctx) -> Response:
    return json_response(200, {"flavors": [_flavor_view(ctx, f, detail=False) for f in _flavors(ctx)]})


def list_flavors_detail(ctx: Ctx) -> Response:
    return json_response(200, {"flavors": [_flavor_view(ctx, f, detail=True) for f in _flavors(ctx)]})


def show_flavor(ctx: Ctx) -> Response:
    return json_response(200, {"flavor": _flavor_view(ctx, _flavor(ctx), detail=True)})


def _flavor(ctx: Ctx) -> Flavor:
    fid = ctx.params["flavor_id"]
    f = ctx.rt.flavors.get(fid)
    if f is None:
        raise NotFound("flavor", fid, f"Flavor {fid} could not be found.")
    return f


def list_extra_specs(ctx: Ctx) -> Response:
    """GET .../flavors/{id}/os-extra_specs: what the CLI reads below 2.61, where flavors do not carry them."""
    return json_response(200, {"extra_specs": flavor_specs(_flavor(ctx), ctx.rt.config.availability_zones)})


def show_extra_spec(ctx: Ctx) -> Response:
    f, key = _flavor(ctx), ctx.params["key"]
    specs = flavor_specs(f, ctx.rt.config.availability_zones)
    if key not in specs:
        raise NotFound("flavor_extra_spec", key, f"Flavor {f.id} has no extra specs with key {key}.")
    return json_response(200, {key: specs[key]})


# -- limits ---------------------------------------------------------------------------------------------------------
def limits(ctx: Ctx) -> Response:
    """GET .../limits: the project's compute quotas and what it uses."""
    absolute = compute.absolute_limits(ctx.rt, ctx.project)
    if version(ctx) >= (2, 36):  # proxy limits dropped
        for key in ("maxSecurityGroups", "maxSecurityGroupRules", "maxTotalFloatingIps", "totalFloatingIpsUsed",
                    "totalSecurityGroupsUsed"):
            absolute.pop(key)
    if version(ctx) >= (2, 39):  # image-metadata proxy limit dropped
        absolute.pop("maxImageMeta")
    if version(ctx) >= (2, 57):
        absolute.pop("maxPersonality")
        absolute.pop("maxPersonalitySize")
    return json_response(200, {"limits": {"rate": [], "absolute": absolute}})


# -- availability zones ---------------------------------------------------------------------------------------------
def _zones(ctx: Ctx, hosts: bool) -> Response:
    updated = iso_micros(ctx.now)
    info = []
    for az in ctx.rt.config.availability_zones:
        entry: dict = {"zoneName": az, "zoneState": {"available": True}, "hosts": None}
        if hosts:  # the compute hosts server groups place servers on, each with its one service
            service = {"nova-compute": {"available": True, "active": True, "updated_at": updated}}
            entry["hosts"] = {host: service for host in az_hosts(ctx.rt, az)}
        info.append(entry)
    return json_response(200, {"availabilityZoneInfo": info})


def list_availability_zones(ctx: Ctx) -> Response:
    """GET .../os-availability-zone: the region's zones, every one available; no hosts (null), as for users."""
    return _zones(ctx, hosts=False)


def list_availability_zones_detail(ctx: Ctx) -> Response:
    """GET .../os-availability-zone/detail: with each zone's hosts and services; Nova's policy keeps it to admins."""
    if not ctx.is_admin:
        raise DomainError("Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.",
                          reason="forbidden")
    return _zones(ctx, hosts=True)


# -- quota sets -----------------------------------------------------------------------------------------------------
QUOTA_KEYS = ("instances", "cores", "ram", "server_groups", "server_group_members")
FIXED_QUOTAS = {"metadata_items": 10, "key_pairs": 100, "injected_files": 5, "injected_file_content_bytes": 10240,
                "injected_file_path_bytes": 255}


def _quota_set(ctx: Ctx, project_id: str) -> dict:
    """Nova's quota set: ecsim's per-project limits (`--quota`) and the fixed ones; proxy quotas go at 2.36,
    injected files at 2.57."""
    out: dict = {"id": project_id, **{k: quota_limit(ctx.rt.config, k) for k in QUOTA_KEYS}, **FIXED_QUOTAS}
    if version(ctx) < (2, 36):
        out.update({"fixed_ips": -1, "floating_ips": 10, "security_groups": 10, "security_group_rules": 20})
    if version(ctx) >= (2, 57):
        for key in ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes"):
            out.pop(key)
    return out


def _quota_project(ctx: Ctx) -> str:
    """Callers see their own project's quotas (Nova: others' need an admin; ecsim's quotas are the same for all)."""
    tenant = ctx.params["target_project_id"]
    if tenant != ctx.project and not ctx.is_admin:
        raise DomainError(f"Policy doesn't allow showing the quotas of project {tenant}.", reason="forbidden")
    return tenant


def show_quota_set(ctx: Ctx) -> Response:
    """GET .../os-quota-sets/{tenant_id} and .../defaults (the same: ecsim's quotas are not set per project)."""
    return json_response(200, {"quota_set": _quota_set(ctx, _quota_project(ctx))})


def show_quota_detail(ctx: Ctx) -> Response:
    """GET .../os-quota-sets/{tenant_id}/detail: each quota as {limit, in_use, reserved}."""
    project_id = _quota_project(ctx)
    used = compute.usage(ctx.rt, project_id)
    quotas = _quota_set(ctx, project_id)
    out: dict = {"id": quotas.pop("id")}
    for key, limit in quotas.items():
        out[key] = {"limit": limit, "in_use": used.get(key, 0), "reserved": 0}
    return json_response(200, {"quota_set": out})
