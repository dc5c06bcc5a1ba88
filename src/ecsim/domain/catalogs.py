"""The built-in flavor and public image sets (package data), replaceable with `--flavors FILE` / `--images FILE`."""

from __future__ import annotations

from importlib import resources

import msgspec


class Flavor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    vcpus: int
    ram: int  # MiB
    disk: int = 0
    performancetype: str = "normal"
    generation: str = ""
    resource_type: str = ""
    max_rate: int = 1000
    min_rate: int = 100
    max_pps: int = 100000
    vif_max_num: int = 1
    cpu_name: str = ""
    status: str = "normal"  # cond:operation:status: normal | abandon | sellout | obt | promotion
    # Per-AZ override of `status`, e.g. {"cn-north-4c": "sellout"}.
    az_status: dict[str, str] = {}

    def sellable_in(self, az: str) -> bool:
        return self.az_status.get(az, self.status) in ("normal", "promotion", "obt")


class Image(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    name: str
    os_version: str
    platform: str
    os_type: str  # Linux | Windows
    os_bit: str = "64"
    min_disk: int = 40  # GiB
    min_ram: int = 0  # MiB
    size: int = 0  # bytes
    architecture: str = "x86"
    imagetype: str = "gold"  # gold (public) | private | shared | market
    support_kvm: str = "true"
    disk_format: str = "zvhd2"
    status: str = "active"
    visibility: str = "public"
    owner: str = ""
    created: float = 1700000000.0


class CatalogFileError(ValueError):
    pass


def _load(kind: str, path: str | None, typ: type) -> list:
    try:
        if path is None:
            raw = resources.files("ecsim.data").joinpath(f"{kind}.json").read_bytes()
        else:
            with open(path, "rb") as fh:
                raw = fh.read()
        items = msgspec.json.decode(raw, type=list[typ])
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CatalogFileError(f"cannot load {kind} from {path or 'built-in data'}: {exc}") from exc
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise CatalogFileError(f"{kind} file has duplicate ids")
    return items


def load_flavors(path: str | None = None) -> dict[str, Flavor]:
    return {f.id: f for f in _load("flavors", path, Flavor)}


def load_images(path: str | None = None) -> dict[str, Image]:
    return {i.id: i for i in _load("images", path, Image)}
