"""Timed transitions, computed lazily from timestamps (no threads).

A resource doc may carry `_steps`: a list of `[at, patch]` applied in order once the clock passes `at`. Reading a
resource settles the steps that are due; writing stores what is still pending and `settle_at` (the next step's
time) so that lists can settle due rows first through an index. Under the instant profile every delay is 0, so a
write settles at once and the next read sees the final state.
"""

from __future__ import annotations

from dataclasses import dataclass

STEPS = "_steps"
AT = "@at"  # a patch value meaning "the time this step happened"

# Real-world durations (seconds) for the realistic profile, before scaling.
REALISTIC = {
    "create.scheduling": 2.0,
    "create.networking": 3.0,
    "create.block_device_mapping": 5.0,
    "create.spawning": 15.0,
    "stop.soft": 8.0,
    "stop.hard": 3.0,
    "start": 8.0,
    "reboot.soft": 15.0,
    "reboot.hard": 8.0,
    "delete": 8.0,
    "rebuild.block_device_mapping": 5.0,
    "rebuild.spawning": 20.0,
    "rebuild.start": 8.0,
    "resize.migrating": 10.0,
    "resize.finish": 10.0,
    "resize.confirm": 5.0,
    "migrate": 20.0,
    "job.init": 1.0,
    "volume.create": 3.0,
    "volume.attach": 2.0,
    "volume.detach": 2.0,
    "volume.extend": 5.0,
    "volume.upload": 10.0,
    "volume.delete": 3.0,
}


@dataclass(frozen=True, slots=True)
class Timing:
    profile: str = "instant"  # instant | realistic
    scale: float = 1.0

    def __call__(self, key: str) -> float:
        if self.profile == "instant":
            return 0.0
        return REALISTIC[key] * self.scale


def schedule(doc: dict, now: float, steps: list[tuple[float, dict]]) -> None:
    """Queue patches at cumulative delays: [(0, {...}), (5, {...})] applies the second 5 s after the first.
    Without delays and with nothing pending (the instant profile) the patches apply at once."""
    if STEPS not in doc and not any(delay for delay, _ in steps):
        for _, patch in steps:
            for key, value in patch.items():
                doc[key] = now if value == AT else value
        doc["updated"] = now
        return
    pending = doc.setdefault(STEPS, [])
    at = now
    for delay, patch in steps:
        at += delay
        pending.append([at, patch])
    pending.sort(key=lambda s: s[0])


def settle(doc: dict, now: float) -> bool:
    pending = doc.get(STEPS)
    if not pending:
        return False
    changed = False
    while pending and pending[0][0] <= now:
        at, patch = pending.pop(0)
        for key, value in patch.items():
            doc[key] = at if value == AT else value
        doc["updated"] = at
        changed = True
    if not pending:
        del doc[STEPS]
    return changed


def finish(doc: dict, now: float) -> None:
    """Apply every pending step now: a change that overrides whatever is in flight (a server's deletion ends its
    disks' attaching) starts from the state the flight would have reached."""
    for _, patch in doc.pop(STEPS, []):
        for key, value in patch.items():
            doc[key] = now if value == AT else value
        doc["updated"] = now


def next_at(doc: dict) -> float | None:
    pending = doc.get(STEPS)
    return pending[0][0] if pending else None


def final_at(doc: dict, default: float) -> float:
    pending = doc.get(STEPS)
    return pending[-1][0] if pending else default


def busy(doc: dict) -> bool:
    return bool(doc.get(STEPS))
