"""Entry point for `--workers N`: each worker process builds its own runtime from the serialized config."""

from __future__ import annotations

from ecsim.config import Config
from ecsim.http.app import App


def app() -> App:
    from ecsim.runtime import Runtime

    return App(Runtime.create(Config.from_env()))
