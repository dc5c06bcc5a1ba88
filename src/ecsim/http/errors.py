"""HTTP errors and how each API family renders them.

Every family answers in its own format (see shared/spec): Huawei ECS/EVS/IMS `{"error": {"code", "message"}}`,
the API gateway in front of them `{"error_code", "error_msg", "request_id"}`, Nova and Cinder
`{"<faultName>": {"code", "message"}}`, Keystone/IAM `{"error": {"code", "message", "title"}}`, IAM 5.0
`{"error_code", "error_msg", "request_id"}`.
"""

from __future__ import annotations

import msgspec

_encode = msgspec.json.encode

# Nova/Cinder fault names by status (nova.api.openstack.wsgi.Fault); anything else is computeFault.
OPENSTACK_FAULTS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}

KEYSTONE_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """An error response. `code` is the family's error code (e.g. "Ecs.0114"); `shape` forces a format."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        *,
        shape: str | None = None,
        details: list[dict] | None = None,
        headers: list[tuple[str, str]] | None = None,
        extra: dict | None = None,
        inner: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.shape = shape
        self.details = details
        self.headers = headers or []
        self.extra = extra
        self.inner = inner  # more members of the fault object itself (Cinder's 413 "retryAfter")


def render(err: ApiError, family: str, request_id: str) -> bytes:
    shape = err.shape or FAMILY_SHAPES.get(family, "huawei")
    if shape == "gateway":
        body: dict = {"error_code": err.code, "error_msg": err.message, "request_id": request_id,
                      **(err.inner or {})}
    elif shape == "openstack":
        fault = OPENSTACK_FAULTS.get(err.status, "computeFault")
        inner: dict = {"code": err.status, "message": err.message}
        if err.details:
            inner["details"] = err.details
        if err.inner:
            inner.update(err.inner)
        body = {fault: inner}
    elif shape == "keystone":
        inner = {"code": err.status, "message": err.message, "title": KEYSTONE_TITLES.get(err.status, "Error")}
        if err.details:
            inner["details"] = err.details
        if err.inner:
            inner.update(err.inner)
        body = {"error": inner}
    elif shape == "iam3":
        body = {"error_msg": err.message, "error_code": err.code, "request_id": request_id, **(err.inner or {})}
    else:
        inner = {"code": err.code, "message": err.message}
        if err.details:
            inner["details"] = err.details
        if err.inner:
            inner.update(err.inner)
        body = {"error": inner}
    if err.extra:
        body.update(err.extra)
    return _encode(body)


FAMILY_SHAPES = {
    "ecs": "huawei",
    "evs": "huawei",
    "ims": "huawei",
    "control": "huawei",
    "nova": "openstack",
    "glance": "openstack",
    "cinder": "openstack",
    "keystone": "keystone",
    "iam": "keystone",
    "iam5": "iam3",
}


def family_for_path(path: str) -> str:
    """The family whose error format an unrouted path gets."""
    if path.startswith("/_ecsim"):
        return "control"
    if path.startswith("/compute"):
        return "nova"
    if path.startswith("/volume"):
        return "cinder"
    if path.startswith("/image"):
        return "glance"
    if path.startswith(("/identity", "/v3", "/v3.0", "/v3-ext")) or path == "/":
        return "keystone"
    if path.startswith("/v5/"):
        return "iam5"
    return "ecs"


def not_found_for(family: str) -> ApiError:
    """404 for a path no served catalog entry matches."""
    if family in ("ecs", "evs", "ims"):
        return ApiError(
            404, "APIGW.0101", "The API does not exist or has not been published in the environment", shape="gateway"
        )
    if family in ("nova", "cinder", "glance"):
        return ApiError(404, None, "The resource could not be found.")
    if family == "keystone":
        return ApiError(404, None, "The resource could not be found.")
    if family == "iam5":
        return ApiError(404, "APIGW.0101", "The API does not exist or has not been published in the environment",
                        shape="gateway")
    return ApiError(404, "ecsim.NotFound", "No such control-plane endpoint.")
