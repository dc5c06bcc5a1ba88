"""`ecsim iam …`: the decision log, the policy simulator, the least-privilege generator, the linter and the decoder
of encoded authorization messages. log / simulate / suggest ask a running server; lint and decode work offline."""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import click
from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
endpoint_option = click.option("--endpoint", default="http://127.0.0.1:8000", envvar="ECSIM_ENDPOINT",
                               show_default=True, help="The running ecsim server.")


class CliError(click.ClickException):
    """A request or input that failed: exit code 2, apart from simulate's 1 for "denied"."""

    exit_code = 2


def _call(endpoint: str, method: str, path: str, query: dict[str, str] | None = None, body: Any = None) -> Any:
    url = endpoint.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as exc:
        try:
            message = json.load(exc)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = str(exc)
        raise CliError(message) from None
    except OSError as exc:
        raise CliError(f"cannot reach {endpoint}: {exc}") from None


def _read_json(path: str) -> Any:
    try:
        with click.open_file(path) as fh:
            return json.load(fh)
    except (OSError, ValueError, RecursionError) as exc:
        raise CliError(f"{path}: {exc}") from None


def _policies(path: str) -> list[Any]:
    """The policy documents in a file: a document, a role object as IAM returns it (bare or under "role"), or a
    list of either (what `suggest --format 1.1` writes)."""
    doc = _read_json(path)
    items = doc if isinstance(doc, list) else [doc]
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("role"), dict) and "Statement" not in item:
            item = item["role"]
        if isinstance(item, dict) and "policy" in item and "Statement" not in item:
            item = item["policy"]
        out.append(item)
    return out


@click.group("iam")
def iam() -> None:
    """Understand IAM decisions: log, simulate, suggest, lint, decode."""


@iam.command("log")
@endpoint_option
@click.option("--denied", is_flag=True, help="Only denials.")
@click.option("--user", default=None, help="User name or id.")
@click.option("--operation", default=None, help="Catalog operation name, e.g. ecs.batch_stop_servers.")
@click.option("--since", default=None, help="ISO 8601 time, e.g. 2026-11-23T10:00:00Z.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def log(endpoint: str, denied: bool, user: str | None, operation: str | None, since: str | None, limit: int,
        as_json: bool) -> None:
    """Recent authorization decisions, newest first."""
    query = {"limit": str(limit), **({"denied": "true"} if denied else {})}
    query.update({k: v for k, v in (("user", user), ("operation", operation), ("since", since)) if v})
    rows = _call(endpoint, "GET", "/_ecsim/decisions", query)["decisions"]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    t = Table()
    for col in ("time", "user", "operation", "result", "why"):
        t.add_column(col)
    for d in rows:
        result = "[green]allow[/green]" if d["allowed"] else "[red]deny[/red]"
        t.add_row(d["time"], d["principal"]["user_name"], d["operation"], result, d["explanation"])
    console.print(t)


@iam.command()
@endpoint_option
@click.argument("operations", nargs=-1, required=True)
@click.option("--user", default=None, help="Simulate this user's granted policies (name or id).")
@click.option("--policy", "policies", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Simulate these policy documents instead (repeatable).")
@click.option("--resource", "resources", multiple=True, help="A resource URN or id the calls act on (repeatable).")
@click.option("--context", "context", multiple=True, help="A condition key value, KEY=VALUE (repeatable).")
@click.option("--project", default=None, help="Project id (default: the region project).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def simulate(endpoint: str, operations: tuple[str, ...], user: str | None, policies: tuple[str, ...],
             resources: tuple[str, ...], context: tuple[str, ...], project: str | None, as_json: bool) -> None:
    """Would OPERATIONS be allowed? Each is a catalog name (ecs.batch_stop_servers) or a request line
    ('POST /v1/{project_id}/cloudservers/action os-stop'). Exits 1 when any is denied."""
    body: dict[str, Any] = {"operations": list(operations), "resources": list(resources)}
    if user:
        body["user"] = user
    if policies:
        body["policies"] = [doc for p in policies for doc in _policies(p)]
    if project:
        body["project_id"] = project
    ctx: dict[str, str] = {}
    for item in context:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: use KEY=VALUE, e.g. g:SourceIp=10.0.0.1", param_hint="--context")
        ctx[key] = value
    body["context"] = ctx
    out = _call(endpoint, "POST", "/_ecsim/iam/simulate", body=body)
    if as_json:
        click.echo(json.dumps(out, indent=2))
    else:
        t = Table()
        for col in ("operation", "action", "role", "result", "statement"):
            t.add_column(col)
        for r in out["results"]:
            for a in r["actions"]:
                st = a["statement"]
                where = f"{st['policy']} #{st['statement_index']}" if st else ""
                color = "green" if a["result"] == "allow" else "red"
                t.add_row(r["operation"], a["action"], a["role"], f"[{color}]{a['result']}[/{color}]", where)
        console.print(t)
        for r in out["results"]:  # why, for what is denied (the table's statement column is empty then)
            if not r["allowed"]:
                console.print(f"[red]{r['operation']}[/red]: {r['explanation']}")
    raise SystemExit(0 if out["allowed"] else 1)


@iam.command()
@endpoint_option
@click.option("--user", default=None, help="The user whose recorded calls to cover.")
@click.option("--since", default=None, help="Start of the time window (ISO 8601).")
@click.option("--until", default=None, help="End of the time window (ISO 8601).")
@click.option("--format", "fmt", type=click.Choice(["1.1", "5.0", "all"]), default="all", show_default=True)
@click.option("-o", "--output", type=click.File("w"), default="-", help="Write the policy here (default: stdout).")
def suggest(endpoint: str, user: str | None, since: str | None, until: str | None, fmt: str, output: Any) -> None:
    """The least custom policy that allows exactly the recorded calls, dependencies included."""
    query = {k: v for k, v in (("user", user), ("since", since), ("until", until)) if v}
    out = _call(endpoint, "GET", "/_ecsim/iam/suggest", query)
    doc: Any = out if fmt == "all" else out["policy_5_0"] if fmt == "5.0" else out["policies_1_1"]
    output.write(json.dumps(doc, indent=2) + "\n")


@iam.command()
@click.argument("policy_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
def lint(policy_file: str, as_json: bool) -> None:
    """Check a policy: unknown actions, over-broad wildcards, Resources where they never apply, missing
    dependencies. Exits 1 when there is an error or a warning."""
    from ecsim.iam.analysis import lint as run_lint

    docs = _policies(policy_file)
    findings = []
    for i, doc in enumerate(docs):
        for f in run_lint(doc):
            findings.append(dataclasses.replace(f, where=f"[{i}].{f.where}") if len(docs) > 1 else f)
    if as_json:
        click.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        colors = {"error": "red", "warning": "yellow", "info": "cyan"}
        for f in findings:
            console.print(f"[{colors[f.level]}]{f.level}[/{colors[f.level]}] {f.where}: {f.message}")
        if not findings:
            console.print("[green]no findings[/green]")
    raise SystemExit(1 if any(f.level != "info" for f in findings) else 0)


@iam.command()
@click.argument("message")
def decode(message: str) -> None:
    """Decode a 403's encoded_authorization_message (the SDK's `encoded_auth_msg`)."""
    from ecsim.iam.evaluate import decode_authorization_message

    try:
        doc = decode_authorization_message(message)
    except ValueError as exc:
        raise click.ClickException(f"not an ecsim authorization message: {exc}") from None
    click.echo(json.dumps(doc, indent=2))
