"""pytest plugin: a live ecsim server on a free port, and clients for it.

Installed with ecsim (entry point `pytest11`), so any project can write:

    def test_stop(ecsim_server):
        ecs = ecsim_server.ecs()            # huaweicloudsdkecs EcsClient with the admin's AK/SK
        ...

Fixtures: `ecsim_server` (one server for the session, in memory), `ecsim_launcher` (start more servers, e.g. on a
data directory to test restarts; stopped at the end of the test). Options: `--ecsim-store URL` runs the session
server on that store (e.g. PostgreSQL), `--ecsim-args "..."` passes extra `ecsim serve` flags.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EcsimServer:
    """A running `ecsim serve` subprocess and what it printed into its credentials file."""

    def __init__(self, args: list[str], workdir: str, env: dict[str, str] | None = None,
                 start_timeout: float = 30.0) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.creds_path = os.path.join(workdir, f"credentials-{self.port}.json")
        self.args = args
        self.log_path = os.path.join(workdir, f"server-{self.port}.log")
        cmd = [sys.executable, "-m", "ecsim", "serve", "--port", str(self.port), "--quiet",
               "--credentials-file", self.creds_path, *args]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})}, start_new_session=True)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._wait(start_timeout)
        with open(self.creds_path) as fh:
            self.info: dict[str, Any] = json.load(fh)

    def _wait(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ecsim exited with {self.proc.returncode}:\n{self.log()}")
            try:
                status, _, _ = self.http("GET", "/_ecsim/health", timeout=1.0)
                if status == 200 and os.path.exists(self.creds_path):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"ecsim did not start in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        with open(self.log_path, "rb") as fh:
            return fh.read().decode(errors="replace")

    def stop(self, *, kill: bool = False) -> None:
        if self.proc.poll() is None:
            if kill:
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()

    # -- plain HTTP (for bad input the SDKs cannot send) ---------------------------------------------------------------
    def http(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, *,
             token: str | None = None, raw: bytes | None = None, timeout: float = 30.0
             ) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Content-Type": "application/json", **(headers or {})}
        h = {k: v for k, v in h.items() if v is not None}  # a header given as None is not sent
        if token:
            h["X-Auth-Token"] = token
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            payload = resp.read()
        finally:
            conn.close()
        parsed: Any = None
        if payload:
            try:
                parsed = json.loads(payload)
            except ValueError:
                parsed = payload.decode(errors="replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed

    def token(self, user: str | None = None, password: str | None = None, *, project: str | None = None,
              domain_scope: bool = False) -> str:
        """A token from POST /v3/auth/tokens (admin by default), scoped to the region project."""
        scope: dict = {"domain": {"name": self.info["domain_name"]}} if domain_scope else \
            {"project": {"name": project or self.info["region"]}}
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user or self.info["admin_user"], "password": password or self.info["admin_password"],
            "domain": {"name": self.info["domain_name"]}}}}, "scope": scope}}
        status, headers, payload = self.http("POST", "/v3/auth/tokens", body)
        if status != 201:
            raise AssertionError(f"token request failed: {status} {payload}")
        return headers["x-subject-token"]

    # -- SDK clients ------------------------------------------------------------------------------------------------
    def _http_config(self) -> Any:
        from huaweicloudsdkcore.http.http_config import HttpConfig

        cfg = HttpConfig.get_default_config()
        cfg.timeout = (5, 60)
        return cfg

    def _huawei(self, module: str, client: str, ak: str | None, sk: str | None, project_id: str | None) -> Any:
        import importlib

        from huaweicloudsdkcore.auth.credentials import BasicCredentials

        cls = getattr(importlib.import_module(module), client)
        cred = BasicCredentials(ak or self.info["access_key"], sk or self.info["secret_key"],
                                project_id or self.info["project_id"])
        return (cls.new_builder().with_http_config(self._http_config()).with_credentials(cred)
                .with_endpoint(self.endpoint).build())

    def ecs(self, ak: str | None = None, sk: str | None = None, project_id: str | None = None) -> Any:
        return self._huawei("huaweicloudsdkecs.v2", "EcsClient", ak, sk, project_id)

    def evs(self, ak: str | None = None, sk: str | None = None, project_id: str | None = None) -> Any:
        return self._huawei("huaweicloudsdkevs.v2", "EvsClient", ak, sk, project_id)

    def ims(self, ak: str | None = None, sk: str | None = None, project_id: str | None = None) -> Any:
        return self._huawei("huaweicloudsdkims.v2", "ImsClient", ak, sk, project_id)

    # -- OpenStack clients (keystoneauth1 sessions: cinderclient, openstacksdk, plain adapters) -----------------------
    def auth_options(self, user: str | None = None, password: str | None = None, project: str | None = None
                     ) -> dict[str, str]:
        """What a clouds.yaml `auth:` section names: the auth URL, user, password, project (and their domain)."""
        domain = self.info["domain_name"]
        return {"auth_url": self.endpoint + "/identity/v3", "username": user or self.info["admin_user"],
                "password": password or self.info["admin_password"], "project_name": project or self.info["region"],
                "user_domain_name": domain, "project_domain_name": domain}

    def session(self, user: str | None = None, password: str | None = None, project: str | None = None) -> Any:
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        return session.Session(auth=v3.Password(**self.auth_options(user, password, project)))

    def openstack(self, user: str | None = None, password: str | None = None, project: str | None = None,
                  **config: Any) -> Any:
        """An openstacksdk Connection configured like a clouds.yaml entry with only auth and region."""
        import openstack

        return openstack.connect(auth=self.auth_options(user, password, project), region_name=self.info["region"],
                                 load_yaml_config=False, load_envvars=False, **config)

    def cinder(self, version: str = "3.0", user: str | None = None, password: str | None = None) -> Any:
        """A python-cinderclient Client at this microversion, finding the endpoint in the catalog (volumev3)."""
        from cinderclient import client

        return client.Client(version, session=self.session(user, password), region_name=self.info["region"])

    def nova(self, version: str = "2.79", user: str | None = None, password: str | None = None) -> Any:
        """A python-novaclient Client at this microversion, finding the endpoint in the catalog (compute)."""
        from novaclient import client

        return client.Client(version, session=self.session(user, password), region_name=self.info["region"])

    def iam(self, ak: str | None = None, sk: str | None = None) -> Any:
        from huaweicloudsdkcore.auth.credentials import GlobalCredentials
        from huaweicloudsdkiam.v3 import IamClient

        cred = GlobalCredentials(ak or self.info["access_key"], sk or self.info["secret_key"],
                                 self.info["domain_id"])
        return (IamClient.new_builder().with_http_config(self._http_config()).with_credentials(cred)
                .with_endpoint(self.endpoint).build())

    def iam5(self, ak: str | None = None, sk: str | None = None) -> Any:
        """huaweicloudsdkiam.v5 IamClient (IAM 5.0 identity policies), signed like iam()."""
        from huaweicloudsdkcore.auth.credentials import GlobalCredentials
        from huaweicloudsdkiam.v5 import IamClient

        cred = GlobalCredentials(ak or self.info["access_key"], sk or self.info["secret_key"],
                                 self.info["domain_id"])
        return (IamClient.new_builder().with_http_config(self._http_config()).with_credentials(cred)
                .with_endpoint(self.endpoint).build())


POSTGRES_URL = os.environ.get("ECSIM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_available(url: str = POSTGRES_URL) -> bool:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=2):
            return True
    except Exception:
        return False


@contextlib.contextmanager
def postgres_schema(url: str = POSTGRES_URL) -> Iterator[str]:
    """A store URL on a fresh schema of the test database, dropped afterwards."""
    import psycopg

    schema = "ecsim_test_" + os.urandom(6).hex()
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}schema={schema}"
    finally:
        with contextlib.suppress(Exception), psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ecsim")
    group.addoption("--ecsim-store", default=os.environ.get("ECSIM_TEST_STORE"),
                    help="Store URL for the session server (default: in memory).")
    group.addoption("--ecsim-args", default="", help="Extra `ecsim serve` arguments for the session server.")


@pytest.fixture(scope="session")
def ecsim_workdir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="ecsim-test-") as d:
        yield d


@pytest.fixture(scope="session")
def ecsim_server(request: pytest.FixtureRequest, ecsim_workdir: str) -> Iterator[EcsimServer]:
    store = request.config.getoption("--ecsim-store")
    args = ["--store", store] if store else ["--memory"]
    args += shlex.split(request.config.getoption("--ecsim-args"))
    server = EcsimServer(args, ecsim_workdir, env={"HOME": ecsim_workdir})
    yield server
    server.stop()


@pytest.fixture
def ecsim_launcher(ecsim_workdir: str) -> Iterator[Any]:
    """Start extra servers: `launch(["--data-dir", d])`; all are stopped when the test ends."""
    started: list[EcsimServer] = []

    def launch(args: list[str], env: dict[str, str] | None = None) -> EcsimServer:
        server = EcsimServer(args, ecsim_workdir, env={"HOME": ecsim_workdir, **(env or {})})
        started.append(server)
        return server

    yield launch
    for s in started:
        with contextlib.suppress(Exception):
            s.stop()
