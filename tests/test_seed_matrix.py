"""The seed table as a test: for every served row of permissions.csv, a user holding exactly the row's actions and
dependencies succeeds, and a user lacking any one of them gets 403 naming it (the call changes nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import (
    BatchRebootServersRequest,
    BatchRebootServersRequestBody,
    BatchRebootSeversOption,
    BatchStartServersOption,
    BatchStartServersRequest,
    BatchStartServersRequestBody,
    BatchStopServersOption,
    BatchStopServersRequest,
    BatchStopServersRequestBody,
    BatchUpdateServersNameRequest,
    BatchUpdateServersNameRequestBody,
    ShowServerRequest,
)

from ecsim.catalog import all_operations
from helpers import create, make_user, refs, seed_rows

ROWS = seed_rows()
OPS = {op.key(): op for op in all_operations()}


def op_for(row: dict):
    return OPS[(row["method"], row["path"], row["selector"].removeprefix("body:") or None)]


def _stop(s: Any, ecs: Any, ids: list[str]) -> None:
    ecs.batch_stop_servers(BatchStopServersRequest(body=BatchStopServersRequestBody(
        os_stop=BatchStopServersOption(servers=refs(ids)))))


def _start(s: Any, ecs: Any, ids: list[str]) -> None:
    ecs.batch_start_servers(BatchStartServersRequest(body=BatchStartServersRequestBody(
        os_start=BatchStartServersOption(servers=refs(ids)))))


def _reboot(s: Any, ecs: Any, ids: list[str]) -> None:
    ecs.batch_reboot_servers(BatchRebootServersRequest(body=BatchRebootServersRequestBody(
        reboot=BatchRebootSeversOption(servers=refs(ids), type="SOFT"))))


def _rename(s: Any, ecs: Any, ids: list[str]) -> None:
    ecs.batch_update_servers_name(BatchUpdateServersNameRequest(body=BatchUpdateServersNameRequestBody(
        name="renamed-by-matrix", servers=refs(ids))))


# operation -> (prepare the server's state as admin, make the call as the user, check the effect as admin)
INVOKERS: dict[str, tuple[Callable, Callable, Callable]] = {
    "ecs.batch_stop_servers": (lambda s, ecs, ids: None, _stop, lambda st: st.status == "SHUTOFF"),
    "ecs.batch_start_servers": (_stop, _start, lambda st: st.status == "ACTIVE"),
    "ecs.batch_reboot_servers": (lambda s, ecs, ids: None, _reboot, lambda st: st.status == "ACTIVE"),
    "ecs.batch_update_servers_name": (lambda s, ecs, ids: None, _rename,
                                      lambda st: st.name == "renamed-by-matrix"),
}
SERVED = [r for r in ROWS if op_for(r).handler]


def test_every_served_seed_row_has_a_matrix_invoker():
    assert {op_for(r).name for r in SERVED} <= set(INVOKERS)
    assert len(SERVED) >= 4


def cases() -> list:
    out = []
    for row in SERVED:
        op = op_for(row)
        needed = list(op.actions) + list(op.dependencies)
        out.append(pytest.param(op.name, needed, None, id=f"{op.name}-all"))
        for missing in needed:
            out.append(pytest.param(op.name, needed, missing, id=f"{op.name}-without-{missing}"))
    return out


@pytest.mark.parametrize(("name", "needed", "missing"), cases())
def test_seed_row(ecsim_server, unique, name, needed, missing):
    prepare, call, check = INVOKERS[name]
    admin = ecsim_server.ecs()
    _, ids = create(admin, ecsim_server.info, f"mx-{unique}")
    prepare(ecsim_server, admin, ids)
    before = admin.show_server(ShowServerRequest(server_id=ids[0])).server
    granted = [a for a in needed if a != missing]
    u = make_user(ecsim_server, f"mx-{unique}", allow=granted or None)
    ecs = ecsim_server.ecs(u["ak"], u["sk"])
    if missing is None:
        call(ecsim_server, ecs, ids)
        assert check(admin.show_server(ShowServerRequest(server_id=ids[0])).server)
        return
    with pytest.raises(ClientRequestException) as exc:
        call(ecsim_server, ecs, ids)
    assert exc.value.status_code == 403
    assert exc.value.error_msg == f"Policy doesn't allow {missing} to be performed."
    after = admin.show_server(ShowServerRequest(server_id=ids[0])).server
    assert (after.status, after.name) == (before.status, before.name)
