"""Bulk data for scale tests: `ecsim seed` writes servers (with their system disks) and standalone volumes straight
to the store in large transactions, built by the same provisioning code as the API's creates. Quotas are not
applied (raise them with `ecsim serve --quota` before creating more through the API)."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable

from ecsim.domain import network, provision, volumes
from ecsim.domain.provision import NicSpec, ServerSpec, VolumeSpec
from ecsim.domain.timeline import Timing
from ecsim.runtime import Runtime
from ecsim.services.block import count_gigabytes, volume_put
from ecsim.services.server_rows import server_put
from ecsim.store import Cond, Put

SEED_VPC = "vpc-seed"
SEED_CIDR = "10.0.0.0/8"


def _seed_network(rt: Runtime, project_id: str, count: int, now: float) -> tuple[dict, list[dict]]:
    """A VPC 10.0.0.0/8 with enough /16 subnets for `count` more servers."""
    store = rt.store
    with store.write() as tx:
        rows = tx.select("vpc", project_id, [Cond("eq", "name", SEED_VPC)], limit=1)
        if rows:
            vpc = rows[0].doc
        else:
            vpc = network.new_vpc(project_id, SEED_VPC, SEED_CIDR, now)
            network.put_network(tx, "vpc", vpc, new=True)
        subnets = [r.doc for r in tx.select("subnet", project_id, [Cond("eq", "ref", vpc["id"])], newest_first=False)]
        free = sum(ipaddress.ip_network(s["cidr"]).num_addresses - 1 - s["next_offset"] for s in subnets)
        n = len(subnets)
        while free < count:
            subnet = network.new_subnet(project_id, vpc["id"], f"subnet-seed-{n}", f"10.{n}.0.0/16",
                                        rt.config.availability_zones[0], now)
            network.put_network(tx, "subnet", subnet, new=True)
            subnets.append(subnet)
            free += 65_533
            n += 1
    return vpc, subnets


def seed(rt: Runtime, *, servers: int, volumes_count: int, prefix: str = "seed", batch: int = 2000,
         progress: Callable[[str, int], None] = lambda what, n: None) -> dict[str, int]:
    boot = rt.boot
    project_id, user_id = boot.project_id, boot.admin_user_id
    now = rt.clock.now()
    image = rt.images[boot.image_id]
    flavor = rt.flavors[boot.flavor_id]
    azs = rt.config.availability_zones
    instant = Timing("instant")
    vpc, subnets = _seed_network(rt, project_id, servers, now)
    sg = rt.store.select("secgroup", project_id, [Cond("eq", "name", "default")], limit=1)
    sgs = [{"id": r.id, "name": "default"} for r in sg]
    made = 0
    subnet_index = 0
    while made < servers:
        n = min(batch, servers - made)
        # The batch's disks are written after its servers, as a create request writes them: servers listed
        # together then share table pages, and a batch action on them writes about half as many.
        puts: list[Put] = []
        disks: list[Put] = []
        touched: dict[str, dict] = {}
        for i in range(n):
            subnet = subnets[subnet_index]
            if subnet["next_offset"] >= ipaddress.ip_network(subnet["cidr"]).num_addresses - 1:
                subnet_index += 1
                subnet = subnets[subnet_index]
            touched[subnet["id"]] = subnet
            az = azs[(made + i) % len(azs)]
            spec = ServerSpec(name=f"{prefix}-{made + i:06d}", image_id=image.id, flavor_id=flavor.id,
                              vpc_id=vpc["id"], nics=[NicSpec(subnet["id"])], root_volume=VolumeSpec("SSD"))
            # distinct creation times keep the newest-first order stable and meaningful
            created = now - (servers - made - i) * 0.001
            doc, vols = provision.build_server(
                spec, project_id=project_id, user_id=user_id, name=spec.name, index=0, az=az,
                host=f"pod{random.randint(1, rt.config.hosts_per_az):02d}.{az}", subnets={subnet["id"]: subnet},
                security_groups=sgs, reservation=f"r-seed{made // batch:04d}", image=image, flavor=flavor,
                root_size=image.min_disk, now=created, timing=instant)
            put = server_put(doc, created, with_facets=True)
            assert put is not None
            puts.append(put)
            disks += (volume_put(v, facets=True) for v in vols)
        with rt.store.write() as tx:
            count_gigabytes(tx, [p.doc for p in disks])  # before the docs are written
            tx.insert_many(puts + disks)
            for subnet in touched.values():
                network.put_network(tx, "subnet", subnet, new=False)
        made += n
        progress("servers", made)
    made_volumes = 0
    while made_volumes < volumes_count:
        n = min(batch, volumes_count - made_volumes)
        puts = []
        for i in range(n):
            created = now - (volumes_count - made_volumes - i) * 0.001
            v = volumes.new_volume(project_id=project_id, user_id=user_id, name=f"{prefix}-vol-{made_volumes + i:06d}",
                                   size=10 + (made_volumes + i) % 100, volume_type="SSD",
                                   az=azs[(made_volumes + i) % len(azs)], now=created)
            puts.append(volume_put(v, facets=True))
        with rt.store.write() as tx:
            count_gigabytes(tx, [p.doc for p in puts])
            tx.insert_many(puts)
        made_volumes += n
        progress("volumes", made_volumes)
    rt.store.analyze()
    return {"servers": made, "volumes": made_volumes + made}
