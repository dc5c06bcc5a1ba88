"""The ASGI application: one straight line per request.

  read body (bounded) -> route (catalog) -> pick the operation by body key -> authenticate -> check the project
  scope -> authorize (IAM, logged) -> handler -> render errors in the family's format

Handlers are synchronous: the SQLite store answers in microseconds, so running them on the event loop is the
fastest path; nothing awaits inside a request once the body is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import random
from collections.abc import Callable
from typing import Any

from ecsim.auth.authenticate import AuthError, ProjectMismatch, authenticate, scope_project
from ecsim.catalog import Operation, all_operations, reserved_names
from ecsim.domain.errors import DomainError
from ecsim.http import microversion
from ecsim.http.context import Ctx, Response
from ecsim.http.errors import ApiError, family_for_path, not_found_for, render
from ecsim.http.faults import faults_for
from ecsim.http.router import MethodNotAllowed, Router
from ecsim.iam.conditions import global_condition_keys
from ecsim.iam.evaluate import (
    Context,
    Decision,
    PolicySet,
    allow_all,
    decide,
    encode_authorization_message,
    within_session,
)
from ecsim.iam.resources import (
    NAMED_TYPES,
    RequestResources,
    body_at,
    request_ep,
    request_tag_keys,
    resource_condition_keys,
    shared_ep,
)
from ecsim.runtime import Runtime
from ecsim.store import StoreUnavailable, VersionConflict

log = logging.getLogger("ecsim")
Handler = Callable[[Ctx], Response]


def new_request_id() -> str:
    # Unique, not secret: the interpreter's generator (reseeded in forked children) spares a system call.
    return f"{random.getrandbits(128):032x}"


def resolve_handler(ref: str) -> Handler:
    module, _, func = ref.partition(":")
    return getattr(importlib.import_module(module), func)


class App:
    def __init__(self, rt: Runtime, operations: list[Operation] | None = None) -> None:
        self.rt = rt
        ops = [op for op in (operations or all_operations()) if op.handler]
        self.handlers: dict[str, Handler] = {op.name: resolve_handler(op.handler) for op in ops}  # type: ignore[arg-type]
        self.router = Router(ops, reserved_names())
        self._flusher: asyncio.Task | None = None
        self._committing: asyncio.Future | None = None

    # -- ASGI -------------------------------------------------------------------------------------------------------
    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.rt.store.grouping = True
                self.rt.decisions.start_writer()
                # What start-up built (catalog, policies, caches) lives as long as the process: out of the
                # collector's sight, a full collection under load takes 0.2 ms instead of 15-20 ms every 2 s.
                gc.collect()
                gc.freeze()
                self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._flusher:
                    self._flusher.cancel()
                with contextlib.suppress(StoreUnavailable):
                    self.rt.store.commit_group()
                self.rt.store.grouping = False
                self.rt.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _flush_loop(self) -> None:
        """Housekeeping between requests: write the decision log, now and then forget expired jobs."""
        ticks = 0
        while True:
            await asyncio.sleep(0.1)
            ticks += 1
            try:
                self.rt.decisions.flush()
                if ticks % 600 == 0:
                    self.rt.purge_expired_jobs()
                if self.rt.store.group_pending():
                    await self._group_committed()
            except StoreUnavailable as exc:
                log.warning("housekeeping skipped: %s", exc)

    def _group_committed(self) -> asyncio.Future:
        """The commit of the open group, run once the requests already scheduled in this turn have been handled
        (they join the group), before any of their responses is sent."""
        if self._committing is None:
            loop = asyncio.get_running_loop()
            self._committing = loop.create_future()
            loop.call_soon(self._commit_group)
        return self._committing

    def _commit_group(self) -> None:
        done, self._committing = self._committing, None
        assert done is not None
        try:
            self.rt.store.commit_group()
        except Exception as exc:  # every waiter must get an answer, whatever went wrong
            log.warning("group commit failed: %s", exc)
            self.rt.forget_caches()  # they may hold what was rolled back
            done.set_exception(exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(f"commit failed: {exc}"))
            done.exception()  # retrieved here: a group of housekeeping alone has no other reader
        else:
            done.set_result(None)
            self.rt.store.housekeeping()  # right after a commit: no transaction is open, and little is pending

    async def _http(self, scope: dict, receive: Callable, send: Callable) -> None:
        limit = self.rt.config.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        too_large = False
        more = True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                too_large = True
            elif chunk:
                chunks.append(chunk)
            more = message.get("more_body", False)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        resp = self.handle(scope["method"], scope["path"], scope.get("query_string", b""), headers,
                           b"".join(chunks), client[0] if client else None, too_large)
        if self.rt.store.group_pending():  # this response may show writes not yet committed
            try:
                await self._group_committed()
            except StoreUnavailable as exc:
                family = family_for_path(scope["path"])
                resp = self._error(faults_for(family).unavailable(str(exc)), family, new_request_id())
        await send({"type": "http.response.start", "status": resp.status, "headers": resp.headers})
        await send({"type": "http.response.body", "body": resp.body})

    # -- the request line ---------------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, raw_query: bytes, headers: dict[str, str], body: bytes,
               client_ip: str | None = None, too_large: bool = False) -> Response:
        rt = self.rt
        request_id = new_request_id()
        family = family_for_path(path)
        ctx: Ctx | None = None
        try:
            rt.refresh()
            ctx = Ctx(rt, method, path, raw_query, headers, body, request_id, client_ip, rt.clock.now())
            ctx.family = family
            if too_large:
                raise faults_for(family).body_too_large(rt.config.max_body_bytes)
            try:
                match = self.router.match(method, path)
            except MethodNotAllowed as exc:
                raise faults_for(family).method_not_allowed(exc.allowed) from None
            if match is None:
                raise not_found_for(family)
            ctx.params = match.params
            ctx.prefix = match.prefix
            op = match.ops[0]
            family = ctx.family = op.family
            protected = op.scope not in ("public", "control")
            if protected:  # authentication first: it needs only the path and headers
                ctx.principal = authenticate(ctx)
                ctx.project_id = scope_project(ctx, ctx.principal, op)
            versions = microversion.for_operation(op)
            if versions is not None:
                ctx.version, ctx.response_headers = microversion.negotiate(versions, headers)
            ctx.body = faults_for(family).request_body(headers.get("content-type"), body)
            if op.selector is not None:
                op = self._select(ctx, match.ops)
            ctx.op = op
            if protected:
                self._authorize(ctx, op)
            resp = self.handlers[op.name](ctx)
        except ApiError as err:
            resp = self._error(err, family, request_id)
        except DomainError as err:
            resp = self._error(faults_for(family).translate(err), family, request_id)
        except AuthError as err:
            resp = self._error(faults_for(family).unauthorized(err), family, request_id)
        except ProjectMismatch as err:
            resp = self._error(faults_for(family).project_mismatch(err), family, request_id)
        except StoreUnavailable as err:
            resp = self._error(faults_for(family).unavailable(str(err)), family, request_id)
        except VersionConflict as err:
            resp = self._error(faults_for(family).translate(
                DomainError(f"The resource was changed by another request; retry. ({err})", reason="conflict")),
                family, request_id)
        except RecursionError:  # JSON nested deeper than a rule can walk (a policy in a body): the input is at fault
            resp = self._error(faults_for(family).translate(
                DomainError("The request is nested too deeply to be read.", reason="malformed")), family, request_id)
        except Exception:
            log.exception("internal error on %s %s", method, path)
            resp = self._error(faults_for(family).internal(), family, request_id)
        if ctx is not None and ctx.response_headers:
            resp.headers.extend(ctx.response_headers)
        resp.headers.append((b"x-request-id", request_id.encode()))
        if family in OPENSTACK_FAMILIES:  # keystoneauth and Tempest read OpenStack's own request-id headers
            rid = f"req-{request_id[:8]}-{request_id[8:12]}-{request_id[12:16]}-{request_id[16:20]}-" \
                  f"{request_id[20:]}".encode()
            resp.headers.append((b"x-openstack-request-id", rid))
            if family == "nova":
                resp.headers.append((b"x-compute-request-id", rid))
        return resp

    def _select(self, ctx: Ctx, ops: list[Operation]) -> Operation:
        """Several operations share this path: the body's top-level key picks one (or, for a selector
        `key=value`, that member's value: EVS's tag action `{"action": "create"}`)."""
        body = ctx.json
        if not isinstance(body, dict) or not body:
            raise DomainError(
                "The request body must be a JSON object with one of the keys: "
                + ", ".join(o.selector or "" for o in ops), reason="invalid" if body is not None else "empty_body",
                action_body=True,
            )
        keys = [o for o in ops if _selects(o.selector, body)]
        # Other members are the handler's to check (EVS resize sends bssParam alongside), but OpenStack's action
        # dispatch (action_peek) takes bodies of exactly one key.
        if len(keys) != 1 or (len(body) > 1 and ops[0].family in OPENSTACK_FAMILIES):
            known = ", ".join(o.selector or "" for o in ops)
            found = ", ".join(sorted(body))
            action = keys[0].selector if keys else next(iter(body))
            raise DomainError(f"Unknown or ambiguous action {found!r}; expected exactly one of: {known}.",
                              reason="unknown_action", action=action, others=[k for k in body if k != action],
                              matched=len(keys))
        return keys[0]

    def _list_by_enterprise_project(self, ctx: Ctx, op: Operation, user: dict, denied: Decision,
                                    context: Context) -> Decision:
        """A list the project's grants refuse, allowed where the user's enterprise-project grants allow it (the
        one `enterprise_project_id` names, or all of them): the handler then lists only those (ctx.granted_eps)."""
        directory = self.rt.directory
        asked = ctx.q("enterprise_project_id")
        eps = (asked,) if asked and asked != "all_granted_eps" else directory.enterprise_projects(user)
        allowed = []
        for ep in eps:
            d = decide(directory.policyset(user, ctx.project_id, ep), op.actions, op.dependencies, context, None,
                       cache_key=op.name, instance_level=op.instance_level, aliases=op.aliases)
            if d.allowed:
                allowed.append((ep, d))
        if not allowed:
            return denied
        ctx.granted_eps = tuple(ep for ep, _ in allowed)
        return allowed[0][1]

    def _authorize(self, ctx: Ctx, op: Operation) -> None:
        if not op.actions and not op.dependencies:
            return
        principal = ctx.principal
        assert principal is not None
        rt = self.rt
        resources: RequestResources | None = None
        policyset: PolicySet | None = None  # None: allowed without policies (admin, self-service)
        user: dict | None = None
        if principal.is_admin:
            decision: Decision = allow_all(op.actions, op.dependencies)
        elif op.self_service and _acting_on_self(ctx, op.self_service):
            decision = allow_all(op.actions, op.dependencies, basis="self")
        else:
            user = rt.directory.user(principal.user_id)
            assert user is not None
            project = ctx.project_id if op.scope == "project" else None
            ep = None
            if project is not None and op.enterprise_project and rt.directory.has_enterprise_grants(user):
                if op.request_ep:  # a create: the project it creates in
                    ep = request_ep(_json_or_none(ctx), op.request_ep)
                elif op.resource_type is not None and op.resource_from:
                    with contextlib.suppress(DomainError):  # a malformed body names nothing
                        resources = _resources(ctx, op)
                        ep = shared_ep(resources.doc(urn) for urn in resources.urns)
            policyset = rt.directory.policyset(user, project, ep)
        # Every policy set that decides: the user's, then a temporary key's session policies, which narrow it.
        sets = (*((policyset,) if policyset is not None else ()), *principal.session)
        by_resource = op.resource_type is not None and any(ps.resource_scoped or ps.resource_keys for ps in sets)
        if by_resource and resources is None:
            resources = _resources(ctx, op)
        urns = resources.urns if by_resource and resources is not None else None
        context = _condition_context(ctx, op, resources if any(ps.resource_keys for ps in sets) else None)
        if policyset is not None:
            decision = decide(policyset, op.actions, op.dependencies, context, urns, cache_key=op.name,
                              instance_level=op.instance_level, aliases=op.aliases)
            if not decision.allowed and op.access_level == "list" and op.enterprise_project and user is not None \
                    and ctx.project_id is not None and rt.directory.has_enterprise_grants(user):
                decision = self._list_by_enterprise_project(ctx, op, user, decision, context)
        if principal.session:
            decision = within_session(decision, principal.session, op.actions, op.dependencies, context, urns,
                                      cache_key=op.name, instance_level=op.instance_level, aliases=op.aliases)
        logged: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()
        if resources is not None:
            logged = resources.urns
        elif op.resource_type is not None:  # named in the log: computed when the log is flushed, off this request
            logged = lambda: _resources(ctx, op).urns  # noqa: E731
        rt.decisions.record(now=ctx.now, request_id=ctx.request_id, principal=principal, op=op, method=ctx.method,
                            path=ctx.path, decision=decision, project_id=ctx.project_id, resources=logged)
        if not decision.allowed:
            assert decision.denied is not None
            err = faults_for(op.family).denied(decision.denied.action, decision.explain())
            err.inner = {"encoded_authorization_message": encode_authorization_message(decision, op,
                                                                                       ctx.request_id)}
            err.headers.append(("X-Ecsim-Denied-Action", decision.denied.action))
            raise err

    def _error(self, err: ApiError, family: str, request_id: str) -> Response:
        headers = [(b"content-type", b"application/json;charset=UTF-8")]
        headers.extend((k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in err.headers)
        return Response(err.status, render(err, family, request_id), headers)


def _selects(selector: str | None, body: dict) -> bool:
    key, eq, value = (selector or "").partition("=")
    return body.get(key) == value if eq else key in body


def _acting_on_self(ctx: Ctx, how: str) -> bool:
    """IAM lets users read themselves and manage their own access keys without any permission."""
    p = ctx.principal
    assert p is not None
    kind, _, name = how.partition(":")
    if kind == "path":
        return ctx.params.get(name) == p.user_id
    if kind == "query":
        return ctx.q(name) in (None, p.user_id)
    if kind == "body":
        value: Any = ctx.json
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value == p.user_id
    cred = ctx.rt.directory.credential(ctx.params.get("access_key", ""))
    return cred is not None and cred["user_id"] == p.user_id


def _resources(ctx: Ctx, op: Operation) -> RequestResources:
    """The resources the request names (every server of a batch), as IAM sees them."""
    p = ctx.principal
    assert op.resource_type is not None and p is not None
    body = ctx.json if op.resource_from and op.resource_from.startswith("body:") else None
    scope = p.domain_id if op.resource_type in NAMED_TYPES else ctx.project_id
    return RequestResources(ctx.rt.store, op.resource_type, op.resource_from, ctx.params, body,
                            region=ctx.rt.config.region, account_id=p.domain_id, scope=scope)


def _json_or_none(ctx: Ctx) -> Any:
    try:
        return ctx.json
    except DomainError:  # malformed: its handler refuses it
        return None


def _condition_context(ctx: Ctx, op: Operation, resources: RequestResources | None) -> Context:
    """Condition keys, built only when a candidate statement has a Condition: the global ones, the tags the request
    puts on what it creates, and with `resources` the keys of the resource being decided (its tags, its enterprise
    project)."""
    cache: dict[str, Any] = {}

    def build(action: str, urn: str | None) -> dict[str, Any]:
        if not cache:
            p = ctx.principal
            assert p is not None
            cache.update(global_condition_keys(p, now=ctx.now, source_ip=ctx.client_ip,
                                               region=ctx.rt.config.region,
                                               user_agent=ctx.headers.get("user-agent")))
            body = _json_or_none(ctx) if op.request_tags or op.request_ep or op.request_keys else None
            if op.request_tags:
                cache.update(request_tag_keys(body, op.request_tags))
            if op.request_ep:
                cache["g:enterpriseprojectid"] = request_ep(body, op.request_ep)
            elif op.access_level == "list" and op.enterprise_project and ctx.q("enterprise_project_id") not in (
                    None, "", "all_granted_eps"):  # a list of one enterprise project's resources
                cache["g:enterpriseprojectid"] = ctx.q("enterprise_project_id")
            for key, path in op.request_keys:
                value = body_at(body, path)
                if isinstance(value, str):
                    cache[key] = value
        out = dict(cache)
        out["g:servicename"] = action.split(":", 1)[0]
        doc = resources.doc(urn) if resources is not None and urn is not None else None
        if doc is not None:
            out.update(resource_condition_keys(doc))
        return out

    return build


OPENSTACK_FAMILIES = frozenset({"nova", "cinder", "glance", "keystone"})


def create_app(rt: Runtime) -> App:
    return App(rt)
