"""Settings, from CLI flags or ECSIM_* environment variables (the CLI resolves both; workers receive the result)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import msgspec

ENV_CONFIG = "ECSIM_RUNTIME_CONFIG"


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = "ecsim-data"
    memory: bool = False
    store: str | None = None  # a store URL (postgresql://...) overriding the data directory
    workers: int = 1
    region: str = "cn-north-4"
    account_name: str = "ecsim"
    admin_user: str = "admin"
    admin_password: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    profile: str = "instant"  # instant | realistic
    time_scale: float = 1.0
    flavors_file: str | None = None
    images_file: str | None = None
    credentials_file: str | None = None
    public_url: str | None = None  # base URL used in links; defaults to http://host:port
    # Proxies whose X-Forwarded-For the server believes (uvicorn's forwarded_allow_ips); None: no proxy headers, the
    # client address is the socket's, as Huawei's gateway works it out (a client cannot pick its g:SourceIp).
    forwarded_allow_ips: str | None = None
    max_body_bytes: int = 1024 * 1024
    hosts_per_az: int = 16
    az_suffixes: str = "abc"
    quota: dict[str, int] = field(default_factory=dict)

    def store_url(self) -> str:
        if self.store:
            return self.store
        if self.memory:
            return "sqlite://:memory:"
        return "sqlite:///" + os.path.abspath(os.path.join(self.data_dir, "ecsim.db"))

    @property
    def availability_zones(self) -> list[str]:
        return [f"{self.region}{s}" for s in self.az_suffixes]

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    def to_env(self) -> str:
        return msgspec.json.encode(asdict(self)).decode()

    @classmethod
    def from_env(cls) -> Config:
        raw = os.environ.get(ENV_CONFIG)
        if not raw:
            return cls()
        return cls(**msgspec.json.decode(raw))


DEFAULT_QUOTA = {
    "instances": 1000,
    "cores": 8000,
    "ram": 16 * 1024 * 1024,  # MiB
    "server_groups": 10,
    "server_group_members": 16,
    "volumes": 2000,
    "gigabytes": 500 * 1024,
    "snapshots": 2000,
    "backups": 1000,
    "backup_gigabytes": 500 * 1024,
    "groups": 10,  # Cinder's generic volume groups: a quota every Cinder quota set lists (none can be made here)
}


def quota_limit(config: Config, name: str) -> int:
    return int(config.quota.get(name, DEFAULT_QUOTA[name]))
