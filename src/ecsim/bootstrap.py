"""First start: a default account (IAM domain) with an admin user in the `admin` group, an AK/SK pair, a project for
the region, and a default VPC, subnet and security group. Later starts reconcile the flags (`--region`,
`--access-key`, `--admin-password`, ...) with what is stored, so fixed credentials work across restarts."""

from __future__ import annotations

import os
import secrets
import string
from dataclasses import asdict, dataclass

from ecsim.auth.passwords import check_password, hash_password
from ecsim.config import Config
from ecsim.domain import network
from ecsim.domain.catalogs import Flavor, Image
from ecsim.iam.directory import ADMIN_GROUP, Directory
from ecsim.ids import new_hex32, new_uuid
from ecsim.store import Cond, Put, SqlStore


@dataclass
class Bootstrap:
    region: str
    domain_id: str
    domain_name: str
    project_id: str
    admin_user: str
    admin_user_id: str
    admin_password: str
    access_key: str
    secret_key: str
    vpc_id: str
    subnet_id: str
    security_group_id: str
    image_id: str
    flavor_id: str
    availability_zone: str

    def as_dict(self) -> dict:
        return asdict(self)


def new_access_key() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20))


def new_secret_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


def new_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(14)) + "@1"
        if any(c.islower() for c in pw) and any(c.isupper() for c in pw):
            return pw


def bootstrap(store: SqlStore, config: Config, now: float, flavors: dict[str, Flavor],
              images: dict[str, Image]) -> Bootstrap:
    with store.write() as tx:
        state = tx.meta_get("bootstrap")
        if tx.meta_get("token_secret") is None:
            tx.meta_set("token_secret", os.urandom(32).hex())
        if state is None:
            state = _first_start(tx, config, now)
        changed = _reconcile(tx, state, config, now)
        if changed:
            tx.bump("iam_version")
        tx.meta_set("bootstrap", state)
    image_id = next((i.id for i in images.values() if i.name.startswith("Ubuntu 22.04")), next(iter(images)))
    flavor_id = "s6.small.1" if "s6.small.1" in flavors else next(iter(flavors))
    return Bootstrap(
        region=config.region,
        domain_id=state["domain_id"],
        domain_name=state["domain_name"],
        project_id=state["projects"][config.region]["project_id"],
        admin_user=state["admin_user"],
        admin_user_id=state["admin_user_id"],
        admin_password=state["admin_password"],
        access_key=state["access_key"],
        secret_key=state["secret_key"],
        vpc_id=state["projects"][config.region]["vpc_id"],
        subnet_id=state["projects"][config.region]["subnet_id"],
        security_group_id=state["projects"][config.region]["security_group_id"],
        image_id=image_id,
        flavor_id=flavor_id,
        availability_zone=config.availability_zones[0],
    )


def _first_start(tx: SqlStore, config: Config, now: float) -> dict:
    domain_id = new_hex32()
    tx.insert(Put("domain", domain_id, "", {"id": domain_id, "name": config.account_name, "enabled": True,
                                            "description": "", "created": now}, name=config.account_name,
                  created=now))
    user_id = new_hex32()
    password = config.admin_password or new_password()
    Directory.put_user(tx, {
        "id": user_id, "name": config.admin_user, "domain_id": domain_id, "enabled": True,
        "password": hash_password(password), "is_domain_owner": True, "description": "account administrator",
        "email": "", "phone": "", "areacode": "", "pwd_status": False, "access_mode": "default",
        "created": now, "tokens_valid_after": 0.0, "password_changed": now,
    }, new=True)
    group_id = new_hex32()
    Directory.put_group(tx, {"id": group_id, "name": ADMIN_GROUP, "domain_id": domain_id,
                             "description": "User group with all permissions", "created": now}, new=True)
    Directory.add_member(tx, domain_id, group_id, user_id, now)
    ak = config.access_key or new_access_key()
    sk = config.secret_key or new_secret_key()
    Directory.put_credential(tx, _credential(domain_id, user_id, ak, sk, now, "bootstrap key"), new=True)
    return {
        "domain_id": domain_id, "domain_name": config.account_name, "admin_user": config.admin_user,
        "admin_user_id": user_id, "admin_password": password, "access_key": ak, "secret_key": sk, "projects": {},
    }


def _credential(domain_id: str, user_id: str, ak: str, sk: str, now: float, description: str) -> dict:
    return {"access": ak, "secret": sk, "user_id": user_id, "domain_id": domain_id, "status": "active",
            "description": description, "created": now, "last_use": None, "kind": "permanent"}


def ensure_project(tx: SqlStore, domain_id: str, region: str, azs: list[str], now: float) -> dict:
    """The region's project with a default VPC, subnet and security group (created once)."""
    rows = tx.select("project", domain_id, [Cond("eq", "name", region)], limit=1)
    if rows:
        project_id = rows[0].id
    else:
        project_id = new_hex32()
        Directory.put_project(tx, {"id": project_id, "name": region, "domain_id": domain_id, "parent_id": domain_id,
                                   "description": "", "enabled": True, "is_domain": False, "created": now},
                              new=True)
    vpcs = tx.select("vpc", project_id, [Cond("eq", "name", "vpc-default")], limit=1)
    if vpcs:
        vpc = vpcs[0].doc
    else:
        vpc = network.new_vpc(project_id, "vpc-default", "192.168.0.0/16", now)
        network.put_network(tx, "vpc", vpc, new=True)
    subnets = tx.select("subnet", project_id, [Cond("eq", "name", "subnet-default")], limit=1)
    if subnets:
        subnet = subnets[0].doc
    else:
        subnet = network.new_subnet(project_id, vpc["id"], "subnet-default", "192.168.0.0/16", azs[0], now)
        network.put_network(tx, "subnet", subnet, new=True)
    groups = tx.select("secgroup", project_id, [Cond("eq", "name", "default")], limit=1)
    if groups:
        sg = groups[0].doc
    else:
        sg = {"id": new_uuid(), "project_id": project_id, "name": "default", "description": "Default security group",
              "created": now}
        tx.insert(Put("secgroup", sg["id"], project_id, sg, name="default", created=now))
    return {"project_id": project_id, "vpc_id": vpc["id"], "subnet_id": subnet["id"], "security_group_id": sg["id"]}


def _reconcile(tx: SqlStore, state: dict, config: Config, now: float) -> bool:
    changed = False
    if config.region not in state["projects"]:
        state["projects"][config.region] = ensure_project(tx, state["domain_id"], config.region,
                                                          config.availability_zones, now)
        changed = True
    user_row = tx.get("user", state["admin_user_id"])
    if user_row is None:  # the admin was deleted through the API; nothing to reconcile against
        return changed
    user = user_row.doc
    if config.admin_password and not check_password(config.admin_password, user.get("password")):
        user["password"] = hash_password(config.admin_password)
        user["tokens_valid_after"] = now
        Directory.put_user(tx, user, new=False)
        state["admin_password"] = config.admin_password
        changed = True
    if config.access_key and config.secret_key:
        row = tx.get("credential", config.access_key)
        if row is None or row.doc["secret"] != config.secret_key or row.doc["user_id"] != user["id"]:
            cred = _credential(state["domain_id"], user["id"], config.access_key, config.secret_key, now,
                               "bootstrap key")
            tx.upsert(Put("credential", cred["access"], cred["domain_id"], cred, ref=cred["user_id"],
                          status=cred["status"], created=now))
            changed = True
        state["access_key"], state["secret_key"] = config.access_key, config.secret_key
    return changed
