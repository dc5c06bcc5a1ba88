"""Shared fixtures. The live-server machinery comes from ecsim's pytest plugin (ecsim.testing.plugin); here the
session server is run once per backend, so every HTTP test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from ecsim.testing.plugin import EcsimServer, postgres_available, postgres_schema

# Importing the Huawei SDK writes ~/.huaweicloud/application_id; keep that out of the real home directory.
os.environ.setdefault("HOME", os.environ.get("TMPDIR", "/tmp"))

BACKENDS = ["sqlite", "postgres"]
# Many tests share the session server's project: room for their groups (quota tests run servers of their own).
SESSION_ARGS = ["--quota", "server_groups=1000"]


@pytest.fixture(scope="session", params=BACKENDS)
def ecsim_server(request: pytest.FixtureRequest, ecsim_workdir: str) -> Iterator[EcsimServer]:
    if request.param == "postgres":
        if not postgres_available():
            pytest.skip("PostgreSQL is not reachable (set ECSIM_TEST_POSTGRES to a database URL)")
        with postgres_schema() as url:
            server = EcsimServer(["--store", url, *SESSION_ARGS], ecsim_workdir, env={"HOME": ecsim_workdir})
            yield server
            server.stop()
        return
    data = os.path.join(ecsim_workdir, "session-data")
    server = EcsimServer(["--data-dir", data, *SESSION_ARGS], ecsim_workdir, env={"HOME": ecsim_workdir})
    yield server
    server.stop()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for resource names, so tests sharing the session server do not collide."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def ecs(ecsim_server):
    return ecsim_server.ecs()


@pytest.fixture(scope="module")
def info(ecsim_server):
    return ecsim_server.info
