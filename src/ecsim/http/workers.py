"""`--workers N`: N processes serving one port, each on a listening socket of its own (SO_REUSEPORT), so that the
kernel spreads new connections over them. On the one socket uvicorn's own supervisor shares, the worker that
happens to be awake accepts a burst of connections whole: wrk's 8 landed 8/0 on two workers in about half the runs,
at half the throughput (docs/benchmarks.md). Elsewhere than Linux (where SO_REUSEPORT does not spread connections),
uvicorn's supervisor serves."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from typing import Any

from ecsim.config import ENV_CONFIG, Config

log = logging.getLogger("ecsim")
APP = "ecsim.http.asgi:app"


def serve(config: Config, options: dict[str, Any]) -> None:
    """Run config.workers workers until SIGINT or SIGTERM; a worker that dies is replaced."""
    import uvicorn

    env = config.to_env()
    if not sys.platform.startswith("linux"):
        os.environ[ENV_CONFIG] = env
        uvicorn.run(APP, factory=True, workers=config.workers, **options)
        return
    try:
        holder = _claim(config.host, config.port)
    except OSError as exc:
        log.error("cannot serve on %s:%s: %s", config.host, config.port, exc)
        sys.exit(1)
    spawn = multiprocessing.get_context("spawn")

    def start() -> multiprocessing.process.BaseProcess:
        p = spawn.Process(target=_worker, args=(env, options, os.getpid()), name="ecsim-worker")
        p.start()
        return p

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    procs = [start() for _ in range(config.workers)]
    try:
        while not stop.wait(0.5):
            for i, p in enumerate(procs):
                if not p.is_alive():
                    log.warning("worker %s exited with %s; starting another", p.pid, p.exitcode)
                    procs[i] = start()
    finally:
        for p in procs:
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)  # uvicorn's graceful shutdown in the worker
        for p in procs:
            p.join(15)
            if p.is_alive():
                p.kill()
                p.join()
        holder.close()


def _claim(host: str, port: int) -> socket.socket:
    """A socket bound to the port and never listening (it gets no connections): it holds the port for the workers.
    SO_REUSEPORT would also let a second server join the port and take half its connections, so a port where
    something already answers is refused, as a plain bind would refuse it."""
    probe = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    try:
        socket.create_connection((probe, port), timeout=0.5).close()
    except OSError:
        return _socket(host, port, listen=False)
    raise OSError(f"[Errno 98] address already in use: something answers on port {port}")


def _socket(host: str, port: int, *, listen: bool = True) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(2048)
    return sock


def _worker(env: str, options: dict[str, Any], parent: int) -> None:
    import uvicorn

    os.environ[ENV_CONFIG] = env
    sock = _socket(options["host"], options["port"])
    threading.Thread(target=_orphan_watch, args=(parent,), daemon=True).start()
    uvicorn.Server(uvicorn.Config(APP, factory=True, **options)).run(sockets=[sock])


def _orphan_watch(parent: int) -> None:
    """A worker whose supervisor died (kill -9) stops too, rather than serve on alone."""
    while os.getppid() == parent:
        threading.Event().wait(1.0)
    os.kill(os.getpid(), signal.SIGTERM)
