"""OpenStack microversions: read `OpenStack-API-Version: <service> X.Y` (and, for Nova, the legacy
`X-OpenStack-Nova-API-Version: X.Y`), check it against the served range, and echo it (with `Vary`) on the response,
errors included. Cinder v3 and Nova v2.1 use them; Nova's legacy /v2 and Cinder v2 have none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecsim.catalog import Operation
from ecsim.http.errors import ApiError

Version = tuple[int, int]
HEADER = "openstack-api-version"
_FORMAT = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


@dataclass(frozen=True, slots=True)
class Versions:
    service: str  # the header's service token: "volume", "compute"
    low: Version
    high: Version

    @property
    def min_text(self) -> str:
        return f"{self.low[0]}.{self.low[1]}"

    @property
    def max_text(self) -> str:
        return f"{self.high[0]}.{self.high[1]}"


CINDER = Versions("volume", (3, 0), (3, 71))
# Nova's range as ecsim serves it: every response field is gated as Nova gates it up to this version; clients
# negotiate down to it (openstacksdk asks up to 2.100, novaclient 2.96).
NOVA = Versions("compute", (2, 1), (2, 79))
NOVA_LEGACY_HEADER = "x-openstack-nova-api-version"


def for_operation(op: Operation) -> Versions | None:
    """The microversion range an operation is served under (Cinder v3, Nova v2.1; Cinder v2, Nova's legacy v2 and
    the Huawei APIs have none)."""
    if op.family == "cinder" and op.path.startswith("/v3/"):
        return CINDER
    if op.family == "nova" and op.path.startswith("/v2.1"):
        return NOVA
    return None


def parse(text: str) -> Version:
    m = _FORMAT.match(text.strip())
    if m is None:
        raise ApiError(400, None, f"API Version String {text} is of invalid format. Must be of format "
                       "MajorNum.MinorNum.")
    return int(m.group(1)), int(m.group(2))


def negotiate(versions: Versions, headers: dict[str, str]) -> tuple[Version, list[tuple[bytes, bytes]]]:
    """The requested version (the minimum without a header, the maximum for `latest`) and the headers that echo
    it (a 406 is not echoed: no version was agreed). Several services may share the header
    (`volume 3.5, compute 2.1`): only ours counts."""
    requested = None
    for part in headers.get(HEADER, "").split(","):
        service, _, value = part.strip().partition(" ")
        if service.lower() == versions.service:
            requested = value.strip()
    legacy = versions is NOVA
    if requested is None and legacy:  # the new header wins when both are sent
        requested = headers.get(NOVA_LEGACY_HEADER, "").strip() or None
    if requested is None:
        version = versions.low
    elif requested.lower() == "latest":
        version = versions.high
    else:
        version = parse(requested)
        if not versions.low <= version <= versions.high:
            raise ApiError(406, None, f"Version {requested} is not supported by the API. Minimum is "
                           f"{versions.min_text} and maximum is {versions.max_text}.")
    text = f"{version[0]}.{version[1]}"
    echo = [(b"openstack-api-version", f"{versions.service} {text}".encode()), (b"vary", b"OpenStack-API-Version")]
    if legacy:
        echo += [(b"x-openstack-nova-api-version", text.encode()), (b"vary", b"X-OpenStack-Nova-API-Version")]
    return version, echo
