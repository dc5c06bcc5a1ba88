"""Temporary access keys (POST /v3.0/OS-CREDENTIAL/securitytokens) and revocation, through the real SDKs:
huaweicloudsdkiam issues the keys, huaweicloudsdkecs uses them with `with_security_token`."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from typing import Any

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkecs.v2 import EcsClient, ListServersDetailsRequest, ShowServerRequest
from huaweicloudsdkiam.v3 import (
    CreateTemporaryAccessKeyByTokenRequest,
    CreateTemporaryAccessKeyByTokenRequestBody,
    IamClient,
    IdentityToken,
    KeystoneDeleteUserRequest,
    KeystoneUpdateUserByAdminRequest,
    KeystoneUpdateUserByAdminRequestBody,
    KeystoneUpdateUserOption,
    ListPermanentAccessKeysRequest,
    ServicePolicy,
    ServiceStatement,
    TokenAuth,
    TokenAuthIdentity,
    UpdateCredentialOption,
    UpdatePermanentAccessKeyRequest,
    UpdatePermanentAccessKeyRequestBody,
)

from ecsim.testing.plugin import postgres_available, postgres_schema
from helpers import create, err, make_user, stop

PATH = "/v3.0/OS-CREDENTIAL/securitytokens"


def temporary_key(iam: IamClient, duration: int | None = None, allow: list[str] | None = None) -> Any:
    """A temporary key through huaweicloudsdkiam, optionally narrowed by a session policy allowing `allow`."""
    policy = ServicePolicy(version="1.1", statement=[ServiceStatement(action=allow, effect="Allow")]) \
        if allow else None
    body = CreateTemporaryAccessKeyByTokenRequestBody(auth=TokenAuth(identity=TokenAuthIdentity(
        methods=["token"], token=IdentityToken(duration_seconds=duration), policy=policy)))
    return iam.create_temporary_access_key_by_token(CreateTemporaryAccessKeyByTokenRequest(body=body)).credential


def ecs_with(server: Any, ak: str, sk: str, security_token: str | None) -> EcsClient:
    cred = BasicCredentials(ak, sk, server.info["project_id"])
    if security_token is not None:
        cred = cred.with_security_token(security_token)
    return EcsClient.new_builder().with_credentials(cred).with_endpoint(server.endpoint).build()


def ecs_of(server: Any, key: Any) -> EcsClient:
    return ecs_with(server, key.access, key.secret, key.securitytoken)


def iam_of(server: Any, key: Any) -> IamClient:
    cred = GlobalCredentials(key.access, key.secret, server.info["domain_id"]).with_security_token(key.securitytoken)
    return IamClient.new_builder().with_credentials(cred).with_endpoint(server.endpoint).build()


def gateway_401(e: Any, needle: str) -> None:
    assert (e.status_code, e.error_code) == (401, "APIGW.0301"), e
    assert needle in e.error_msg, e.error_msg


def set_enabled(server: Any, user_id: str, enabled: bool) -> None:
    server.iam().keystone_update_user_by_admin(KeystoneUpdateUserByAdminRequest(user_id=user_id, body=(
        KeystoneUpdateUserByAdminRequestBody(user=KeystoneUpdateUserOption(enabled=enabled)))))


@pytest.fixture(scope="module")
def servers(ecsim_server):
    _, ids = create(ecsim_server.ecs(), ecsim_server.info, "sts-target")
    return ids


def test_temporary_key_has_exactly_the_users_permissions(ecsim_server, servers, unique):
    u = make_user(ecsim_server, f"sts-{unique}", allow=["ecs:cloudServers:list"])
    before = server_now(ecsim_server)
    key = temporary_key(ecsim_server.iam(u["ak"], u["sk"]))
    assert len(key.access) == 20 and len(key.secret) == 40 and len(key.securitytoken) > 100
    expires = calendar.timegm(time.strptime(key.expires_at, "%Y-%m-%dT%H:%M:%S.%fZ"))
    assert before + 899 <= expires <= before + 905  # default duration: 15 minutes
    ecs = ecs_of(ecsim_server, key)
    assert ecs.list_servers_details(ListServersDetailsRequest()).count >= 1
    e = err(lambda: ecs.show_server(ShowServerRequest(server_id=servers[0])))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001") and "ecs:cloudServers:get" in e.error_msg
    # a temporary key is not one of the user's (at most two) permanent keys, and may manage the user's own keys
    keys = iam_of(ecsim_server, key).list_permanent_access_keys(ListPermanentAccessKeysRequest(user_id=u["user_id"]))
    assert [k.access for k in keys.credentials] == [u["ak"]]


def server_now(server: Any) -> float:
    """The emulated clock (other tests may have moved it)."""
    _, _, clock = server.http("GET", "/_ecsim/clock")
    return calendar.timegm(time.strptime(clock["now"], "%Y-%m-%dT%H:%M:%S.%fZ"))


def test_session_policy_is_an_intersection(ecsim_server, servers, unique):
    u = make_user(ecsim_server, f"sess-{unique}", system=["ECS FullAccess"])
    narrow = ecs_of(ecsim_server, temporary_key(ecsim_server.iam(u["ak"], u["sk"]), 3600,
                                                allow=["ecs:cloudServers:list", "evs:*:*"]))
    narrow.list_servers_details(ListServersDetailsRequest())
    e = err(lambda: narrow.show_server(ShowServerRequest(server_id=servers[0])))
    assert (e.status_code, e.error_code) == (403, "Pdp.0001") and "ecs:cloudServers:get" in e.error_msg
    _, _, log = ecsim_server.http("GET", f"/_ecsim/decisions?user={u['name']}&denied=true")
    assert "session policy" in log["decisions"][0]["explanation"]
    # the session policy cannot widen the user's permissions either
    r = make_user(ecsim_server, f"sess-ro-{unique}", allow=["ecs:cloudServers:list"])
    wide = ecs_of(ecsim_server, temporary_key(ecsim_server.iam(r["ak"], r["sk"]), allow=["ecs:*:*"]))
    wide.list_servers_details(ListServersDetailsRequest())
    assert err(lambda: stop(wide, servers[:1])).status_code == 403
    # an admin's temporary key is narrowed too
    admin = ecs_of(ecsim_server, temporary_key(ecsim_server.iam(), allow=["ecs:cloudServers:list"]))
    admin.list_servers_details(ListServersDetailsRequest())
    assert err(lambda: admin.show_server(ShowServerRequest(server_id=servers[0]))).status_code == 403


def test_key_made_with_a_temporary_key_keeps_its_limits(ecsim_server, servers, unique):
    first = temporary_key(ecsim_server.iam(), 900, allow=["ecs:cloudServers:list", "ecs:cloudServers:get"])
    second = temporary_key(iam_of(ecsim_server, first), 86400, allow=["ecs:cloudServers:get", "iam:*:*"])
    assert second.expires_at <= first.expires_at  # never outlives its parent
    ecs = ecs_of(ecsim_server, second)
    ecs.show_server(ShowServerRequest(server_id=servers[0]))
    assert err(lambda: ecs.list_servers_details(ListServersDetailsRequest())).status_code == 403


def test_missing_or_wrong_security_token_is_401(ecsim_server, unique):
    u = make_user(ecsim_server, f"tok-{unique}", allow=["ecs:cloudServers:list"])
    key = temporary_key(ecsim_server.iam(u["ak"], u["sk"]))
    call = ListServersDetailsRequest()
    gateway_401(err(lambda: ecs_with(ecsim_server, key.access, key.secret, None).list_servers_details(call)),
                "X-Security-Token")
    forged = key.securitytoken[:-4] + ("AAAA" if not key.securitytoken.endswith("AAAA") else "BBBB")
    gateway_401(err(lambda: ecs_with(ecsim_server, key.access, key.secret, forged).list_servers_details(call)),
                "decrypt token fail")
    other = temporary_key(ecsim_server.iam(u["ak"], u["sk"]))  # another key's token does not fit
    gateway_401(err(lambda: ecs_with(ecsim_server, key.access, key.secret, other.securitytoken)
                    .list_servers_details(call)), "decrypt token fail")
    gateway_401(err(lambda: ecs_with(ecsim_server, key.access, "x" * 40, key.securitytoken)
                    .list_servers_details(call)), "verify aksk signature fail")
    ecs_of(ecsim_server, key).list_servers_details(call)


def test_token_in_header_or_body(ecsim_server, unique):
    u = make_user(ecsim_server, f"hdr-{unique}", allow=["ecs:cloudServers:list"])
    token = ecsim_server.token(u["name"], u["password"])
    body = {"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": "900"}}}}
    status, _, out = ecsim_server.http("POST", PATH, body, token=token)
    assert status == 201 and set(out["credential"]) == {"access", "secret", "securitytoken", "expires_at"}
    c = out["credential"]
    ecs_with(ecsim_server, c["access"], c["secret"], c["securitytoken"]).list_servers_details(
        ListServersDetailsRequest())
    status, _, out = ecsim_server.http("POST", PATH, {"auth": {"identity": {"methods": ["token"],
                                                                             "token": {"id": token}}}})
    assert status == 201, out
    status, _, out = ecsim_server.http("POST", PATH, {"auth": {"identity": {"methods": ["token"],
                                                                             "token": {"id": "forged.token"}}}})
    assert status == 401 and out["error"]["code"] == 401, out


@pytest.fixture(params=["sqlite", "postgres"])
def store_args(request, tmp_path) -> Iterator[list[str]]:
    if request.param == "sqlite":
        yield ["--data-dir", str(tmp_path / "data")]
        return
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable")
    with postgres_schema() as url:
        yield ["--store", url]


def test_temporary_key_survives_restart_and_expires(store_args, ecsim_launcher):
    first = ecsim_launcher(store_args)
    key = temporary_key(first.iam(), 1800)
    first.stop()
    second = ecsim_launcher(store_args)
    ecs = ecs_of(second, key)
    ecs.list_servers_details(ListServersDetailsRequest())
    assert second.http("POST", "/_ecsim/clock", {"advance": 1790})[0] == 200
    ecs.list_servers_details(ListServersDetailsRequest())
    assert second.http("POST", "/_ecsim/clock", {"advance": 11})[0] == 200
    gateway_401(err(lambda: ecs.list_servers_details(ListServersDetailsRequest())), "expired")
    second.ecs().list_servers_details(ListServersDetailsRequest())  # permanent keys are unaffected


def test_revocation_takes_effect_on_the_next_request(ecsim_server, unique):
    u = make_user(ecsim_server, f"rev-{unique}", allow=["ecs:cloudServers:list"])
    call = ListServersDetailsRequest()
    permanent = ecsim_server.ecs(u["ak"], u["sk"])
    temp = ecs_of(ecsim_server, temporary_key(ecsim_server.iam(u["ak"], u["sk"])))
    temp.list_servers_details(call)
    # disabling the user stops its permanent and temporary keys; enabling it again revives only the permanent one
    # (temporary keys, like tokens, issued before the change stay dead)
    set_enabled(ecsim_server, u["user_id"], False)
    assert err(lambda: permanent.list_servers_details(call)).status_code == 403
    gateway_401(err(lambda: temp.list_servers_details(call)), "revoked")
    set_enabled(ecsim_server, u["user_id"], True)
    permanent.list_servers_details(call)
    gateway_401(err(lambda: temp.list_servers_details(call)), "revoked")
    # a password change ends the temporary keys issued before it (as it ends tokens); permanent keys stay
    iam = ecsim_server.iam()
    temp = ecs_of(ecsim_server, temporary_key(ecsim_server.iam(u["ak"], u["sk"])))
    temp.list_servers_details(call)
    iam.keystone_update_user_by_admin(KeystoneUpdateUserByAdminRequest(user_id=u["user_id"], body=(
        KeystoneUpdateUserByAdminRequestBody(user=KeystoneUpdateUserOption(password="An0ther-Passw0rd")))))
    gateway_401(err(lambda: temp.list_servers_details(call)), "revoked")
    permanent.list_servers_details(call)
    # a deactivated permanent key stops at once, and works again when reactivated

    def set_status(status: str) -> None:
        iam.update_permanent_access_key(UpdatePermanentAccessKeyRequest(access_key=u["ak"], body=(
            UpdatePermanentAccessKeyRequestBody(credential=UpdateCredentialOption(status=status)))))

    set_status("inactive")
    gateway_401(err(lambda: permanent.list_servers_details(call)), "inactive")
    set_status("active")
    permanent.list_servers_details(call)
    # deleting the user kills its temporary keys too
    temp = ecs_of(ecsim_server, temporary_key(ecsim_server.iam(u["ak"], u["sk"])))
    temp.list_servers_details(call)
    iam.keystone_delete_user(KeystoneDeleteUserRequest(user_id=u["user_id"]))
    gateway_401(err(lambda: temp.list_servers_details(call)), "ak not exist")
    gateway_401(err(lambda: permanent.list_servers_details(call)), "ak not exist")


def test_revoked_token_dies(ecsim_server, unique):
    from keystoneclient.v3 import client as keystone

    u = make_user(ecsim_server, f"revtok-{unique}", allow=["ecs:cloudServers:list"])
    token = ecsim_server.token(u["name"], u["password"])
    path = f"/v1/{ecsim_server.info['project_id']}/cloudservers/detail"
    assert ecsim_server.http("GET", path, token=token)[0] == 200
    ks = keystone.Client(session=ecsim_server.session(u["name"], u["password"]))
    ks.tokens.revoke_token(token)  # DELETE /v3/auth/tokens with X-Subject-Token
    status, _, body = ecsim_server.http("GET", path, token=token)
    assert status == 401 and body["error_code"] == "APIGW.0301" and "revoked" in body["error_msg"]
    status, _, body = ecsim_server.http("POST", PATH, {"auth": {"identity": {"methods": ["token"]}}}, token=token)
    assert status == 401 and body["error"]["code"] == 401
    # the disabled user's token: 401 on its next request
    fresh = ecsim_server.token(u["name"], u["password"])
    set_enabled(ecsim_server, u["user_id"], False)
    assert ecsim_server.http("GET", path, token=fresh)[0] == 401


BIG_POLICY = {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": [f"ecs:cloudServers:a{i:04d}"
                                                                             for i in range(150)]}]}


@pytest.mark.parametrize(("identity", "status", "needle"), [
    (None, 400, "$.auth"),
    ({"methods": ["password"]}, 400, "methods"),
    ({"methods": "token"}, 400, "methods"),
    ({"methods": ["token"], "token": {"duration_seconds": 899}}, 400, "between 900"),
    ({"methods": ["token"], "token": {"duration_seconds": 86401}}, 400, "between 900"),
    ({"methods": ["token"], "token": {"duration_seconds": "soon"}}, 400, "duration_seconds"),
    ({"methods": ["token"], "token": {"duration_seconds": True}}, 400, "duration_seconds"),
    ({"methods": ["token"], "token": {"duration_seconds": 1.5}}, 400, "duration_seconds"),
    ({"methods": ["token"], "token": {"duration_seconds": "\u00b2"}}, 400, "duration_seconds"),
    ({"methods": ["token"], "token": {"duration_seconds": "9" * 5000}}, 400, "duration_seconds"),
    ({"methods": ["token"], "policy": []}, 400, "policy"),
    ({"methods": ["token"], "policy": {"Version": "1.1"}}, 400, "Statement"),
    ({"methods": ["token"], "policy": {"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["*"]}]}},
     400, "Version"),
    ({"methods": ["token"], "policy": {"Version": "1.1", "Statement": [{"Effect": "Maybe", "Action": ["*"]}]}},
     400, "Effect"),
    ({"methods": ["token"], "policy": {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ecs"]}]}},
     400, "Action[0]"),
    ({"methods": ["token"], "policy": BIG_POLICY}, 400, "at most 2048"),
    ({"methods": ["assume_role"]}, 400, "assume_role"),
    ({"methods": ["assume_role"], "assume_role": {"agency_name": "ops"}}, 400, "domain_id"),
    ({"methods": ["assume_role"], "assume_role": {"agency_name": "ops", "domain_name": "x",
                                                  "duration_seconds": 10}}, 400, "between 900"),
    ({"methods": ["assume_role"], "assume_role": {"agency_name": "ops", "domain_name": "x"}}, 404, "agency"),
])
def test_bad_securitytoken_requests(ecsim_server, identity, status, needle):
    body = {"auth": {"identity": identity}} if identity is not None else {"auth": []}
    got, _, out = ecsim_server.http("POST", PATH, body, token=ecsim_server.token())
    assert got == status, out
    assert out["error"]["code"] == status and needle in out["error"]["message"], out


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'{"auth": {"identity": {"methods": ["token"]}}'])
def test_malformed_securitytoken_bodies(ecsim_server, raw):
    got, _, out = ecsim_server.http("POST", PATH, raw=raw, token=ecsim_server.token())
    assert got == 400 and out["error"]["code"] == 400 and out["error"]["title"] == "Bad Request", out


def test_unauthenticated_securitytoken_requests(ecsim_server):
    body = {"auth": {"identity": {"methods": ["token"]}}}
    for headers in ({}, {"X-Auth-Token": "garbage"}, {"Authorization": "SDK-HMAC-SHA256 nonsense"}):
        got, _, out = ecsim_server.http("POST", PATH, body, headers=headers)
        assert got == 401 and out["error"]["code"] == 401, out
