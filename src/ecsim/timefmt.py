"""The timestamp formats each API family puts on the wire (all UTC). Formatting is cached: the same few
timestamps (a server's created/updated) are rendered on every read."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@lru_cache(maxsize=8192)
def iso_seconds_z(ts: float) -> str:
    """`2018-09-13T07:03:44Z` (server created/updated)."""
    return _dt(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=8192)
def iso_millis_z(ts: float) -> str:
    """`2016-04-25T20:04:47.591Z` (job begin/end times)."""
    d = _dt(ts)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


@lru_cache(maxsize=8192)
def iso_micros(ts: float) -> str:
    """`2018-09-13T07:04:09.197749` (launched_at, naive, no zone)."""
    return _dt(ts).strftime("%Y-%m-%dT%H:%M:%S.%f")


def iso_micros_z(ts: float) -> str:
    """`2015-11-09T01:42:57.527363Z` (Keystone token expiry)."""
    return _dt(ts).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> float:
    """Parse the ISO-8601 forms clients send (with `Z`, an offset, or naive UTC)."""
    v = value.strip()
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    d = datetime.fromisoformat(v)
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp()
