"""The emulator's clock: real time, shifted or frozen through the control plane.

Every state transition is computed from stored timestamps and this clock, so moving the clock moves every job and
server through its phases without background threads.
"""

import time


class Clock:
    __slots__ = ("frozen_at", "offset")

    def __init__(self, offset: float = 0.0, frozen_at: float | None = None) -> None:
        self.offset = offset
        self.frozen_at = frozen_at

    def now(self) -> float:
        if self.frozen_at is not None:
            return self.frozen_at
        return time.time() + self.offset

    def state(self) -> dict:
        return {"offset": self.offset, "frozen_at": self.frozen_at}

    def load(self, state: dict | None) -> None:
        state = state or {}
        self.offset = float(state.get("offset") or 0.0)
        frozen = state.get("frozen_at")
        self.frozen_at = None if frozen is None else float(frozen)

    def freeze(self, at: float | None = None) -> None:
        self.frozen_at = self.now() if at is None else at

    def unfreeze(self) -> None:
        if self.frozen_at is not None:
            self.offset = self.frozen_at - time.time()
            self.frozen_at = None

    def advance(self, seconds: float) -> None:
        if self.frozen_at is not None:
            self.frozen_at += seconds
        else:
            self.offset += seconds
