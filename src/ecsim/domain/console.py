"""A server's serial console log, as its guest would have written it: the kernel's boot, cloud-init's run, and a
power-off while the server is stopped. ecsim runs no guest, so the log is derived from the server's recorded life
(launch time, name, image, addresses, state); it reads the same every time in the same state."""

from __future__ import annotations

from ecsim.domain import servers
from ecsim.timefmt import iso_seconds_z

DEFAULT_LINES = 50  # ECS's default `length`


def _boot(doc: dict, at: float) -> list[str]:
    host = doc.get("hostname") or doc["name"]
    ips = ", ".join(doc.get("ips", [])) or "no address"
    return [
        "[    0.000000] Linux version 5.15.0-ecsim (buildd@ecsim) (gcc 11.4.0) #1 SMP",
        "[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro console=tty0 console=ttyS0,115200n8",
        f"[    0.000000] DMI: OpenStack Foundation OpenStack Nova, BIOS (instance {doc['id']})",
        "[    1.204117] virtio_blk virtio2: [vda] 83886080 512-byte logical blocks",
        "[    2.871305] EXT4-fs (vda1): mounted filesystem with ordered data mode",
        f"[    5.120944] cloud-init[612]: Cloud-init v. 23.1 running 'init' at {iso_seconds_z(at)}. Up 5.10 seconds.",
        f"[    5.402311] cloud-init[612]: ci-info: eth0: {ips}",
        f"[    8.930412] cloud-init[801]: Cloud-init v. 23.1 finished at {iso_seconds_z(at + 9)}. Datasource "
        "DataSourceOpenStackLocal. Up 8.92 seconds",
        "",
        f"{doc.get('metadata', {}).get('image_name') or 'Linux'} {host} ttyS0",
        "",
        f"{host} login: ",
    ]


def log_lines(doc: dict) -> list[str]:
    """The whole log; empty until the server first launched."""
    if doc.get("launched_at") is None:
        return []
    lines = _boot(doc, doc["launched_at"])
    if servers.status(doc) == "SHUTOFF":
        lines += ["[  OK  ] Reached target Power-Off.", "[ 4821.330871] reboot: Power down"]
    return lines


def tail(lines: list[str], length: int | None) -> str:
    """The last `length` lines (-1 or None: all)."""
    if length is not None and length >= 0:
        lines = lines[len(lines) - length:] if length else []
    return "\n".join(lines)
