"""The `ecsim` command: serve, seed, coverage, and `ecsim iam …` (cli_iam)."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.table import Table

from ecsim import __version__
from ecsim.cli_iam import iam
from ecsim.config import DEFAULT_QUOTA, Config

console = Console(highlight=False)


def _quota(values: tuple[str, ...]) -> dict[str, int]:
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not value.isdigit():
            raise click.BadParameter(f"{item!r}: use NAME=NUMBER, e.g. instances=5000", param_hint="--quota")
        if name not in DEFAULT_QUOTA:
            raise click.BadParameter(f"{name!r} is not a quota; use one of {', '.join(DEFAULT_QUOTA)}",
                                     param_hint="--quota")
        out[name] = int(value)
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ecsim")
def main() -> None:
    """ecsim: a local emulator of the Huawei Cloud ECS/EVS control plane with IAM enforced."""


def store_options(f):  # type: ignore[no-untyped-def]
    """Where the state lives and which account to bootstrap: shared by serve and seed."""
    for option in reversed([
        click.option("--data-dir", default="ecsim-data", envvar="ECSIM_DATA_DIR", show_default=True,
                     help="Directory of the SQLite store."),
        click.option("--store", default=None, envvar="ECSIM_STORE",
                     help="Store URL, e.g. postgresql://user@host/db?schema=ecsim."),
        click.option("--region", default="cn-north-4", envvar="ECSIM_REGION", show_default=True),
        click.option("--account-name", default="ecsim", envvar="ECSIM_ACCOUNT_NAME", show_default=True,
                     help="Name of the default account (IAM domain), created on first start."),
        click.option("--admin-user", default="admin", envvar="ECSIM_ADMIN_USER", show_default=True),
        click.option("--admin-password", default=None, envvar="ECSIM_ADMIN_PASSWORD",
                     help="Fix the admin password (generated on first start otherwise)."),
        click.option("--access-key", default=None, envvar="ECSIM_ACCESS_KEY", help="Fix the admin's access key."),
        click.option("--secret-key", default=None, envvar="ECSIM_SECRET_KEY", help="Fix the admin's secret key."),
        click.option("--flavors", "flavors_file", default=None, envvar="ECSIM_FLAVORS",
                     help="JSON file replacing the built-in flavor set."),
        click.option("--images", "images_file", default=None, envvar="ECSIM_IMAGES",
                     help="JSON file replacing the built-in public image set."),
    ]):
        f = option(f)
    return f


@main.command()
@click.option("--host", default="127.0.0.1", envvar="ECSIM_HOST", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, type=int, envvar="ECSIM_PORT", show_default=True, help="Port to listen on.")
@store_options
@click.option("--memory", is_flag=True, envvar="ECSIM_MEMORY", help="Keep everything in memory (nothing on disk).")
@click.option("--workers", default=1, type=int, envvar="ECSIM_WORKERS", show_default=True,
              help="Worker processes sharing the port (needs a file or PostgreSQL store).")
@click.option("--profile", type=click.Choice(["instant", "realistic"]), default="instant", envvar="ECSIM_PROFILE",
              show_default=True, help="instant: jobs finish at once; realistic: real durations and states.")
@click.option("--time-scale", type=float, default=1.0, envvar="ECSIM_TIME_SCALE", show_default=True,
              help="Multiply the realistic profile's durations (0.1 = ten times faster).")
@click.option("--credentials-file", default=None, envvar="ECSIM_CREDENTIALS_FILE",
              help="Also write the endpoint, credentials and default resource ids to this JSON file.")
@click.option("--public-url", default=None, envvar="ECSIM_PUBLIC_URL",
              help="Base URL put in links and the service catalog (default http://HOST:PORT).")
@click.option("--forwarded-allow-ips", default=None, envvar="ECSIM_FORWARDED_ALLOW_IPS",
              help="Behind a reverse proxy: believe X-Forwarded-For from these addresses (comma-separated, or *). "
              "Without it the client's address is the connection's, so no client can choose its g:SourceIp.")
@click.option("--quota", multiple=True, envvar="ECSIM_QUOTA",
              help="Per-project quota, e.g. --quota instances=5000 (instances, cores, ram, server_groups, "
              "server_group_members, volumes, gigabytes, snapshots, backups, backup_gigabytes).")
@click.option("--hosts-per-az", default=16, type=click.IntRange(1, 99), envvar="ECSIM_HOSTS_PER_AZ",
              show_default=True, help="Hosts in each availability zone (what anti-affinity groups can spread over).")
@click.option("--seed-servers", default=0, type=int, envvar="ECSIM_SEED_SERVERS",
              help="Bulk-load this many servers into the default project before serving (see `ecsim seed`).")
@click.option("--seed-volumes", default=0, type=int, envvar="ECSIM_SEED_VOLUMES",
              help="Bulk-load this many standalone volumes before serving.")
@click.option("--quiet", is_flag=True, help="Print only the endpoint line.")
def serve(quiet: bool, quota: tuple[str, ...], seed_servers: int, seed_volumes: int, **options: object) -> None:
    """Start the emulator (SQLite store in --data-dir unless --memory or --store)."""
    config = Config(quota=_quota(quota), **options)  # type: ignore[arg-type]
    if config.memory and config.workers > 1:
        raise click.UsageError("--memory keeps state in one process; use --workers 1, a --data-dir or --store")
    if config.profile == "realistic" and config.time_scale <= 0:
        raise click.UsageError("--time-scale must be positive")
    _check_port(config.host, config.port)  # before anything is created, announced or written
    rt = _runtime(config)
    if seed_servers or seed_volumes:
        from ecsim.services.seed import seed as run_seed

        run_seed(rt, servers=seed_servers, volumes_count=seed_volumes)  # type: ignore[arg-type]
    info = {"endpoint": config.base_url(), "identity_url": config.base_url() + "/identity/v3",
            **rt.boot.as_dict()}
    if config.credentials_file:
        with open(config.credentials_file, "w") as fh:
            json.dump(info, fh, indent=2)
    _banner(info, config, quiet)
    _run(rt, config)


def _check_port(host: str, port: int) -> None:
    """Refuse a port that is taken, up front: a credentials file written for a server that then cannot listen
    would point its reader at whatever holds the port."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed server's TIME_WAIT is no owner
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot serve on {host}:{port}: {(exc.strerror or str(exc)).lower()}") from exc


def _runtime(config: Config) -> object:
    if bool(config.access_key) != bool(config.secret_key):
        raise click.UsageError("--access-key and --secret-key must be given together")
    from ecsim.domain.catalogs import CatalogFileError
    from ecsim.runtime import Runtime
    from ecsim.store import StoreUnavailable

    try:
        return Runtime.create(config)
    except (CatalogFileError, StoreUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@store_options
@click.option("--servers", default=0, type=int, show_default=True, help="Servers to add (each with a system disk).")
@click.option("--volumes", "volumes_count", default=0, type=int, show_default=True,
              help="Standalone (available) volumes to add.")
@click.option("--prefix", default="seed", show_default=True, help="Name prefix of the seeded resources.")
def seed(servers: int, volumes_count: int, prefix: str, **options: object) -> None:
    """Bulk-load servers and volumes into the default project (for scale tests), bypassing quotas."""
    import time

    if servers < 0 or volumes_count < 0:
        raise click.UsageError("--servers and --volumes must not be negative")
    config = Config(**options)  # type: ignore[arg-type]
    rt = _runtime(config)
    from ecsim.services.seed import seed as run_seed

    t0 = time.monotonic()

    def progress(what: str, n: int) -> None:
        console.print(f"  {what}: {n:,}", end="\r")

    made = run_seed(rt, servers=servers, volumes_count=volumes_count, prefix=prefix,  # type: ignore[arg-type]
                    progress=progress)
    rt.close()  # type: ignore[attr-defined]
    console.print(f"seeded {made['servers']:,} servers and {made['volumes']:,} volumes into project "
                  f"{rt.boot.project_id} in {time.monotonic() - t0:.1f}s")  # type: ignore[attr-defined]


def _banner(info: dict, config: Config, quiet: bool) -> None:
    console.print(f"ecsim {__version__} listening on [bold]{info['endpoint']}[/bold]")
    if quiet:
        return
    t = Table(show_header=False, box=None, pad_edge=False)
    rows = [
        ("region", info["region"]), ("account (domain)", f"{info['domain_name']}  id {info['domain_id']}"),
        ("project id", info["project_id"]), ("admin user", info["admin_user"]),
        ("admin password", info["admin_password"]), ("access key (AK)", info["access_key"]),
        ("secret key (SK)", info["secret_key"]), ("default VPC", info["vpc_id"]),
        ("default subnet", info["subnet_id"]), ("image", info["image_id"]), ("flavor", info["flavor_id"]),
        ("store", config.store_url()), ("profile", config.profile),
    ]
    for k, v in rows:
        t.add_row(k, str(v))
    console.print(t)
    console.print("\nPython (huaweicloudsdkecs):")
    print(SNIPPET.format(**info), flush=True)


SNIPPET = """\
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkecs.v2 import EcsClient, ListServersDetailsRequest
creds = BasicCredentials("{access_key}", "{secret_key}", "{project_id}")
ecs = EcsClient.new_builder().with_credentials(creds).with_endpoint("{endpoint}").build()
print(ecs.list_servers_details(ListServersDetailsRequest(limit=10)))
"""


def _run(rt: object, config: Config) -> None:
    import uvicorn

    common = {"host": config.host, "port": config.port, "log_level": "warning", "access_log": False,
              "lifespan": "on", "timeout_keep_alive": 30, "proxy_headers": config.forwarded_allow_ips is not None,
              "forwarded_allow_ips": config.forwarded_allow_ips}
    if config.workers == 1:
        from ecsim.http.app import App

        uvicorn.run(App(rt), **common)  # type: ignore[arg-type]
    else:
        from ecsim.http import workers

        rt.close()  # type: ignore[attr-defined]
        workers.serve(config, common)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--family", default=None, help="Only this API family (ecs, nova, cinder, evs, iam, ...).")
def coverage(as_json: bool, family: str | None) -> None:
    """Which catalog entries are served, and which seed rows are still missing."""
    from ecsim.api.control import coverage_rows

    rows = [r for r in coverage_rows() if family in (None, r["family"])]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    t = Table(title="ecsim operation catalog")
    for col in ("served", "family", "method", "path", "selector", "actions", "source"):
        t.add_column(col)
    for r in rows:
        t.add_row("yes" if r["served"] else "[red]no[/red]", r["family"], r["method"], r["path"], r["selector"] or "",
                  ";".join(r["actions"] + [f"+{d}" for d in r["dependencies"]]), r["source"])
    console.print(t)
    served = sum(r["served"] for r in rows)
    seeds = [r for r in rows if r["source"].startswith("seed:")]
    console.print(f"{served}/{len(rows)} served; seed rows {sum(r['served'] for r in seeds)}/{len(seeds)} served")


main.add_command(iam)


if __name__ == "__main__":
    sys.exit(main())

