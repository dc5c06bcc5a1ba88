"""The per-request context handed to handlers, and response helpers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote_plus

import msgspec

from ecsim.domain.errors import InvalidInput
from ecsim.timefmt import parse_iso

if TYPE_CHECKING:
    from ecsim.catalog import Operation
    from ecsim.iam.directory import Principal
    from ecsim.runtime import Runtime

T = TypeVar("T")
_encode = msgspec.json.encode
_UNSET = object()
JSON_HEADERS = [(b"content-type", b"application/json;charset=UTF-8")]


class Response:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int = 200, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None):
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else (list(JSON_HEADERS) if body else [])


def json_response(status: int, obj: Any, headers: list[tuple[bytes, bytes]] | None = None) -> Response:
    h = list(JSON_HEADERS)
    if headers:
        h.extend(headers)
    return Response(status, _encode(obj), h)


def empty(status: int, headers: list[tuple[bytes, bytes]] | None = None) -> Response:
    return Response(status, b"", headers or [])


def parse_query(raw: bytes) -> list[tuple[str, str]]:
    """Query pairs, form-decoded: OpenStack clients write spaces as "+", the Huawei SDK as "%20" (and a literal "+"
    as "%2B"), so both decode to what was meant and the signature is checked on the decoded values."""
    if not raw:
        return []
    out = []
    for part in raw.decode("latin-1").split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        out.append((unquote_plus(key), unquote_plus(value)))
    return out


class Ctx:
    __slots__ = (
        "_json", "_query", "body", "client_ip", "family", "granted_eps", "headers", "method", "now", "op", "params",
        "path", "prefix", "principal", "project_id", "query_pairs", "raw_query", "request_id", "response_headers",
        "rt", "version",
    )

    def __init__(self, rt: Runtime, method: str, path: str, raw_query: bytes, headers: dict[str, str], body: bytes,
                 request_id: str, client_ip: str | None, now: float) -> None:
        self.rt = rt
        self.method = method
        self.path = path
        self.raw_query = raw_query
        self.headers = headers
        self.body = body
        self.request_id = request_id
        self.client_ip = client_ip
        self.now = now
        self.params: dict[str, str] = {}
        self.op: Operation | None = None
        self.principal: Principal | None = None
        self.project_id: str | None = None
        self.family = "ecs"
        self.prefix = ""
        # A list allowed only through enterprise-project grants: the enterprise projects it may show (else None).
        self.granted_eps: tuple[str, ...] | None = None
        # The agreed microversion ((0, 0) where the API has none) and the headers every response then carries.
        self.version: tuple[int, int] = (0, 0)
        self.response_headers: list[tuple[bytes, bytes]] = []
        self._json: Any = _UNSET
        self._query: dict[str, list[str]] | None = None
        self.query_pairs = parse_query(raw_query)

    # -- query ----------------------------------------------------------------------------------------------------
    @property
    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            q: dict[str, list[str]] = {}
            for k, v in self.query_pairs:
                q.setdefault(k, []).append(v)
            self._query = q
        return self._query

    @property
    def project(self) -> str:
        """The caller's project, for operations that are always project-scoped (scope_project has set it)."""
        assert self.project_id is not None
        return self.project_id

    @property
    def is_admin(self) -> bool:
        """An administrator's rights in handlers (lock overrides, all_tenants) — not through a temporary key a
        session policy narrows."""
        p = self.principal
        return p is not None and p.is_admin and not p.session

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def q_int(self, name: str, default: int | None, *, low: int | None = None, high: int | None = None) -> int | None:
        raw = self.q(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise InvalidInput(f"Query parameter {name} must be an integer, got {raw!r}.") from exc
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise InvalidInput(f"Query parameter {name} must be {bounds}, got {value}.")
        return value

    def q_time(self, name: str) -> float | None:
        """An ISO 8601 time (epoch seconds), None when absent."""
        raw = self.q(name)
        try:
            return parse_iso(raw) if raw else None
        except ValueError as exc:
            raise InvalidInput(f"Query parameter {name} must be an ISO 8601 time, got {raw!r}.") from exc

    def q_bool(self, name: str) -> bool | None:
        raw = self.q(name)
        if raw is None:
            return None
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise InvalidInput(f"Query parameter {name} must be true or false, got {raw!r}.")

    # -- body -----------------------------------------------------------------------------------------------------
    @property
    def json(self) -> Any:
        """The decoded JSON body (None when empty); malformed JSON is an InvalidInput."""
        if self._json is _UNSET:
            if not self.body.strip():
                self._json = None
            else:
                try:
                    self._json = msgspec.json.decode(self.body)
                except (msgspec.DecodeError, RecursionError) as exc:
                    raise InvalidInput(f"The request body is not valid JSON: {exc}", reason="malformed") from exc
        return self._json

    @property
    def relaxed(self) -> bool:
        """Nova's legacy /v2 API validates with "relaxed" schemas: members they do not know are dropped, not 400."""
        return self.op is not None and self.op.family == "nova" and self.op.path.startswith("/v2/")

    def body_as(self, typ: type[T], *, required: bool = True) -> T:
        """Validate the JSON body against a msgspec type; errors name the offending field."""
        data = self.json
        if data is None:
            if not required:
                data = {}
            else:
                raise InvalidInput("The request body cannot be left blank.", reason="empty_body")
        return convert(data, typ, relaxed=self.relaxed)

    def wrapped(self, key: str, typ: type[T]) -> T:
        """The body `{"<key>": {...}}` with its member validated against `typ` (Keystone/IAM style bodies)."""
        data = self.json
        if data is None:
            raise InvalidInput("The request body cannot be left blank.", reason="empty_body")
        if not isinstance(data, dict) or key not in data:
            raise InvalidInput(f"The request body must be a JSON object with a '{key}' member.")
        return convert(data[key], typ, f"$.{key}")


def convert(data: Any, typ: type[T], where: str = "$", *, relaxed: bool = False) -> T:
    """`data` as `typ`; `relaxed` drops the members of objects the type does not have instead of refusing them."""
    if relaxed:
        data = _known_members(data, msgspec.inspect.type_info(typ))
    try:
        return msgspec.convert(data, typ, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        problem, _, at = message.partition(" - at `")
        steps: list = [int(i) if i else name for name, i in _PATH_STEP.findall(at.rstrip("`"))]
        value = _at(data, steps)
        if where != "$":
            message = message.replace("`$", f"`{where}") if "`$" in message else f"{message} - at `{where}`"
        # `schema`: for families with their own wording of validation errors (Nova's): the problem, where (the
        # path's steps from the body's root) and the value there.
        raise InvalidInput(f"Invalid request body: {message}",
                           schema=(problem, where.split(".")[1:] + steps, value)) from exc


_PATH_STEP = re.compile(r"\.([^.\[`]+)|\[(\d+)\]")


def _at(data: Any, steps: list) -> Any:
    for step in steps:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _known_members(data: Any, info: Any) -> Any:
    """`data` without the object members the type (msgspec.inspect) has no field for, at any depth."""
    ins = msgspec.inspect
    if isinstance(info, ins.UnionType):
        shape = ins.StructType if isinstance(data, dict) else ins.ListType if isinstance(data, list) else None
        info = next((t for t in info.types if shape is not None and isinstance(t, shape)), None)
    if isinstance(info, ins.StructType) and isinstance(data, dict):
        fields = {f.encode_name: f.type for f in info.fields}
        return {k: _known_members(v, fields[k]) for k, v in data.items() if k in fields}
    if isinstance(info, ins.ListType) and isinstance(data, list):
        return [_known_members(v, info.item_type) for v in data]
    return data
