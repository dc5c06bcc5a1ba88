"""Shared fixtures. The live-server fixtures come from ecsim's pytest plugin (ecsim.testing.plugin)."""

from __future__ import annotations

import os
import uuid

import pytest

# Importing the Huawei SDK writes ~/.huaweicloud/application_id; keep that out of the real home directory.
os.environ.setdefault("HOME", os.environ.get("TMPDIR", "/tmp"))


@pytest.fixture
def unique() -> str:
    """A short unique suffix for resource names, so tests sharing the session server do not collide."""
    return uuid.uuid4().hex[:8]
