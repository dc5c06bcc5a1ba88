"""What each API family answers when something goes wrong: domain errors, authentication failures, IAM denials,
project mismatches and store outages, each in the family's own status codes, codes and body format."""

from __future__ import annotations

import re

from ecsim.auth.authenticate import AuthError, ProjectMismatch
from ecsim.domain.errors import DomainError, NotFound
from ecsim.http.errors import ApiError


def denial_message(action: str) -> str:
    return f"Policy doesn't allow {action} to be performed."


class Faults:
    family = "ecs"

    def translate(self, err: DomainError) -> ApiError:
        raise NotImplementedError

    def denied(self, action: str, explanation: str) -> ApiError:
        raise NotImplementedError

    def unauthorized(self, err: AuthError) -> ApiError:
        return ApiError(err.status, err.code, err.reason, shape="gateway")

    def project_mismatch(self, err: ProjectMismatch) -> ApiError:
        raise NotImplementedError

    def unavailable(self, message: str) -> ApiError:
        return ApiError(503, "Common.0503", f"Service temporarily unavailable: {message}", shape="gateway")

    def internal(self) -> ApiError:
        return ApiError(500, "Common.0001", "System exception. ecsim hit an internal error; see the server log.")

    def method_not_allowed(self, allowed: list[str]) -> ApiError:
        return ApiError(405, "APIGW.0101", "The API does not exist or has not been published in the environment",
                        shape="gateway")

    def body_too_large(self, limit: int) -> ApiError:
        return ApiError(413, "APIGW.0201", f"Request entity too large: the body exceeds {limit} bytes.",
                        shape="gateway")

    def request_body(self, content_type: str | None, body: bytes) -> bytes:
        """The body the API reads, given the request's Content-Type (a 415 when the family refuses the type)."""
        return body


# ECS (Huawei v1/v1.1/v2): reason -> (status, code). Messages come from the domain, which names the specifics.
_ECS_CODES = {
    "invalid": (400, "Ecs.0005"),
    "malformed": (400, "Ecs.0005"),
    "empty_body": (400, "Common.0002"),
    "unknown_action": (400, "Ecs.0005"),
    "count_invalid": (400, "Ecs.0005"),
    "marker_not_found": (400, "Ecs.0005"),
    "state": (400, "Ecs.0100"),
    "flavor_not_found": (400, "Ecs.0029"),
    "flavor_abandoned": (400, "Ecs.0019"),
    "flavor_sold_out": (400, "Ecs.0319"),
    "image_not_found": (400, "Ecs.0031"),
    "image_not_active": (400, "Ecs.0032"),
    "flavor_image_mismatch": (400, "Ecs.0005"),
    "az_not_found": (400, "Ecs.0005"),
    "vpc_not_found": (400, "Ecs.0014"),
    "secgroup_not_found": (400, "Ecs.0014"),
    "subnet_not_found": (400, "Ecs.0038"),
    "subnet_vpc_mismatch": (400, "Ecs.0064"),
    "subnet_full": (400, "Ecs.0012"),
    "ip_in_use": (400, "Ecs.0010"),
    "password_weak": (400, "Ecs.0011"),
    "keypair_not_found": (400, "Ecs.0314"),
    "name_too_long": (400, "Ecs.0914"),
    "name_invalid": (400, "Ecs.0915"),
    "tags_invalid": (400, "Ecs.0905"),
    "too_many_servers": (400, "Ecs.0118"),
    "too_many_volumes": (400, "Ecs.0042"),
    "quota": (400, "Ecs.0001"),
    "job_not_found": (400, "Common.0011"),
    "conflict": (409, "Ecs.0603"),
    "locked": (400, "Ecs.0605"),
    "volume_state": (400, "Ecs.0103"),
    "already_attached": (400, "Ecs.0057"),
    "not_attached": (400, "Ecs.0111"),
    "volume_not_shared": (400, "Ecs.0005"),
    "too_many_attachments": (400, "Ecs.0005"),
    "az_mismatch": (400, "Ecs.0005"),
    "device_in_use": (400, "Ecs.0005"),
    "same_flavor": (400, "Ecs.0810"),
    "group_member_quota": (400, "Ecs.0022"),
    "no_valid_host": (400, "Ecs.0000"),
    "metadata_quota": (400, "Ecs.0005"),
}


class EcsFaults(Faults):
    family = "ecs"

    def translate(self, err: DomainError) -> ApiError:
        if isinstance(err, NotFound):
            if err.kind == "instance":
                return ApiError(404, "Ecs.0114", err.message)
            if err.kind == "subnet":
                return ApiError(400, "Ecs.0038", err.message)
            if err.kind == "volume":  # ECS names an unknown disk as one that cannot be attached
                return ApiError(400, "Ecs.0103", err.message)
            if err.kind == "server_group":
                return ApiError(404, "Ecs.0005", err.message)
            return ApiError(404, "Ecs.0114", err.message)
        status, code = _ECS_CODES.get(err.reason, (400, "Ecs.0005"))
        if err.reason == "state":
            message = ("The ECS status does not meet requirements. Make the ECS in the required status and try "
                       f"again. ({err.message})")
            return ApiError(status, code, message)
        if err.reason == "locked":
            return ApiError(status, code, f"ECS locked. ({err.message})")
        return ApiError(status, code, err.message)

    def denied(self, action: str, explanation: str) -> ApiError:
        return ApiError(403, "Pdp.0001", denial_message(action),
                        details=[{"code": "ecsim.explanation", "message": explanation}])

    def project_mismatch(self, err: ProjectMismatch) -> ApiError:
        return ApiError(400, "Ecs.0023", "project_id in token mismatches with project_id in url. "
                        f"(url: {err.url_project}, caller: {err.ctx_project})")


class ImsFaults(EcsFaults):
    family = "ims"

    def translate(self, err: DomainError) -> ApiError:
        if isinstance(err, NotFound):
            return ApiError(404, "IMG.0027", err.message)
        return ApiError(400, "IMG.0001", err.message)

    def project_mismatch(self, err: ProjectMismatch) -> ApiError:
        return ApiError(400, "IMG.0010", f"The project {err.url_project} does not match the caller's project.")


class CinderFaults(Faults):
    """Cinder v2/v3 (EVS's OpenStack-compatible face): `{"<faultName>": {"code", "message"}}`; wrong states are
    400 "Invalid volume: ...", quotas 413 overLimit with Retry-After 0."""

    family = "cinder"

    def translate(self, err: DomainError) -> ApiError:
        if isinstance(err, NotFound):
            return ApiError(404, None, err.message)
        if err.reason in ("quota", "volume_size_limit"):
            return ApiError(413, None, err.message, headers=[("Retry-After", "0")], inner={"retryAfter": "0"})
        if err.reason == "malformed":
            return ApiError(400, None, "Malformed request body")
        if err.reason == "marker_not_found":  # Cinder loads the marker as a volume: VolumeNotFound
            return ApiError(404, None, f"Volume {err.details.get('marker')} could not be found.")
        if err.reason == "unknown_action":
            if err.details.get("matched") and err.details["others"]:  # the action's schema refuses the rest
                others = ", ".join(repr(k) for k in err.details["others"])
                verb = "was" if len(err.details["others"]) == 1 else "were"
                return ApiError(400, None, f"Additional properties are not allowed ({others} {verb} unexpected)")
            return ApiError(400, None, f"There is no such action: {err.details.get('action')}. Verify the request "
                            "body and Content-Type header and try again.")
        status = {"conflict": 409, "forbidden": 403}.get(err.reason, 400)
        return ApiError(status, None, err.message)

    def denied(self, action: str, explanation: str) -> ApiError:
        return ApiError(403, None, denial_message(action), details=[{"explanation": explanation}])

    def project_mismatch(self, err: ProjectMismatch) -> ApiError:
        return ApiError(400, None, "Malformed request url")

    def unavailable(self, message: str) -> ApiError:
        return ApiError(503, None, f"Service temporarily unavailable: {message}")

    def internal(self) -> ApiError:
        return ApiError(500, None, "The server has either erred or is incapable of performing the requested "
                        "operation.")

    def method_not_allowed(self, allowed: list[str]) -> ApiError:
        return ApiError(404, None, "The resource could not be found.")  # Cinder's router has no 405

    def body_too_large(self, limit: int) -> ApiError:
        return ApiError(413, None, "Request is too large.")

    def request_body(self, content_type: str | None, body: bytes) -> bytes:
        # cinder/api/openstack/wsgi.py: only a body is looked at; a body without a Content-Type is ignored, one
        # of any type but Cinder's JSON types (text/plain included) is refused.
        if not body:
            return body
        if content_type is None:
            return b""
        if content_type.split(";", 1)[0] not in ("application/json", "application/vnd.openstack.volume+json"):
            raise ApiError(415, None, "Unsupported Content-Type")
        return body


_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "object": "object",
               "array": "array", "null": "null"}


def nova_schema_message(problem: str, steps: list, value: object) -> str:
    """A body validation error in Nova's words (its jsonschema validator's): `Invalid input for field/attribute
    <field>. Value: <value>. <what jsonschema says>`, or what jsonschema says alone at the body's root."""
    if m := re.match(r"Object contains unknown field `(.+)`$", problem):
        what = f"Additional properties are not allowed ('{m.group(1)}' was unexpected)"
    elif m := re.match(r"Object missing required field `(.+)`$", problem):
        what = f"'{m.group(1)}' is a required property"
    elif problem.startswith("Invalid enum value"):
        what = f"{value!r} is not one of the allowed values"
    elif m := re.match(r"Expected `(.+)`, got `(.+)`$", problem):
        types = ", ".join(repr(_JSON_TYPES.get(t.strip(), t.strip())) for t in m.group(1).split("|"))
        what = f"{value!r} is not of type {types}"
    else:
        what = problem
    field = next((s for s in reversed(steps) if isinstance(s, str)), None)
    return what if field is None else f"Invalid input for field/attribute {field}. Value: {value}. {what}"


class NovaFaults(Faults):
    """Nova v2 / v2.1: `{"<faultName>": {"code", "message"}}`; wrong states and locks 409, quotas 403, another
    project's server 404."""

    family = "nova"

    def translate(self, err: DomainError) -> ApiError:
        if isinstance(err, NotFound):
            if err.kind == "instance":
                return ApiError(404, None, f"Instance {err.ident} could not be found.")
            return ApiError(404, None, err.message)
        if err.reason == "malformed" or err.details.get("action_body") or err.details.get("others"):
            return ApiError(400, None, "Malformed request body")  # action_peek: not one key of an object
        if err.reason == "unknown_action":
            return ApiError(400, None, f"There is no such action: {err.details.get('action')}")
        if "schema" in err.details:
            return ApiError(400, None, nova_schema_message(*err.details["schema"]))  # type: ignore[misc]
        status = {"state": 409, "locked": 409, "conflict": 409, "quota": 403, "forbidden": 403}.get(err.reason, 400)
        return ApiError(status, None, err.message)

    def denied(self, action: str, explanation: str) -> ApiError:
        return ApiError(403, None, denial_message(action), details=[{"explanation": explanation}])

    def project_mismatch(self, err: ProjectMismatch) -> ApiError:
        return ApiError(400, None, f"Malformed request URL: URL's project_id '{err.url_project}' doesn't match "
                        f"Context's project_id '{err.ctx_project}'")

    def unavailable(self, message: str) -> ApiError:
        return ApiError(503, None, f"Service temporarily unavailable: {message}")

    def internal(self) -> ApiError:
        return ApiError(500, None, "Unexpected API Error. ecsim hit an internal error; see the server log.")

    def method_not_allowed(self, allowed: list[str]) -> ApiError:
        return ApiError(405, None, "The method is not allowed for the requested URL.",
                        headers=[("Allow", ", ".join(allowed))])

    def body_too_large(self, limit: int) -> ApiError:
        return ApiError(413, None, "Request is too large.")

    def request_body(self, content_type: str | None, body: bytes) -> bytes:
        # nova/api/openstack/wsgi.py: any Content-Type but Nova's JSON types is refused, with or without a body
        # (none, an empty one and text/plain pass); the body is read as JSON whatever the type says.
        if content_type is not None and content_type.split(";", 1)[0] not in _NOVA_MEDIA:
            raise ApiError(415, None, "Unsupported Content-Type")
        return body


_NOVA_MEDIA = frozenset({"", "text/plain", "application/json", "application/vnd.openstack.compute+json"})


class GlanceFaults(NovaFaults):
    family = "glance"

    def request_body(self, content_type: str | None, body: bytes) -> bytes:
        return body  # Glance's own rules (it takes image data as application/octet-stream)


# EVS native: fixed texts by code (the EVS error-code table); ecsim appends what exactly was wrong.
_EVS_TEXTS = {
    "EVS.0001": "invalid tenant id!",
    "EVS.1003": "invalid volume name!",
    "EVS.1004": "invalid volume description!",
    "EVS.1010": "invalid volume size!",
    "EVS.1015": "new volume Size must be greater than old Size!",
    "EVS.1020": "invalid volume type!",
    "EVS.1021": "the quantity of volume is invalid!",
    "EVS.1024": "invalid filter marker!",
    "EVS.1031": "invalid resources status!",
    "EVS.1034": "volume count exceeded volume count quota!",
    "EVS.1036": "invalid availability zone!",
    "EVS.1039": "invalid sort_key!",
    "EVS.1040": "invalid sort_dir!",
    "EVS.1042": "volume gigabytes exceeded volume gigabytes quota!",
    "EVS.1046": "volume status must be available, error, error_extending, error_restoring, error_rollbacking when "
                "delete volume!",
    "EVS.1052": "invalid http body!",
    "EVS.1064": "volume status must be available or in-use when extending!",
    "EVS.1065": "multiattach volume status must be available when extending!",
    "EVS.1005": "size of metadata is too large!",
    "EVS.1007": "volume name and description can not both be empty!",
    "EVS.1062": "invalid tag!",
    "EVS.2046": "invalid imageRef!",
    "EVS.2056": "action in pdp check deny!",
    "EVS.2094": "system image is not support to create Multiattach/shareable volume !",
    "EVS.2142": "invalid filter limit, can not greater than 1000.",
    "EVS.5400": "Invalid input received.",
    "EVS.5404": "Resource(Volume, Snapshot, Backup .etc) cound not be found.",
}
_EVS_CODES = {
    "malformed": "EVS.1052",
    "empty_body": "EVS.1052",
    "unknown_action": "EVS.1052",
    "name_invalid": "EVS.1003",
    "description_invalid": "EVS.1004",
    "volume_size": "EVS.1010",
    "volume_size_limit": "EVS.1010",
    "extend_size": "EVS.1015",
    "count_invalid": "EVS.1021",
    "marker_not_found": "EVS.1024",
    "az_invalid": "EVS.1036",
    "sort_key": "EVS.1039",
    "sort_dir": "EVS.1040",
    "limit_too_large": "EVS.2142",
    "metadata": "EVS.1005",
    "name_and_description": "EVS.1007",
    "multiattach_image": "EVS.2094",
    "volume_delete_state": "EVS.1046",
    "extend_state": "EVS.1064",
    "extend_shared": "EVS.1065",
    "volume_state": "EVS.1031",
    "tags_invalid": "EVS.1062",
}


class EvsFaults(Faults):
    """Huawei EVS native (`/v2|v2.1/{project_id}/cloudvolumes`): `{"error": {"code": "EVS.xxxx", "message"}}`."""

    family = "evs"

    def translate(self, err: DomainError) -> ApiError:
        if isinstance(err, NotFound):
            if err.kind == "volume_type":
                return self._error(400, "EVS.1020", err.message)
            if err.kind == "image":
                return self._error(400, "EVS.2046", err.message)
            return self._error(404, "EVS.5404", err.message)
        if err.reason == "quota":
            code = "EVS.1042" if err.details.get("resource") == "gigabytes" else "EVS.1034"
            return self._error(400, code, err.message)
        if err.reason == "conflict":  # a race lost to another request: 409, so that clients retry
            return self._error(409, "EVS.5400", err.message)
        return self._error(400, _EVS_CODES.get(err.reason, "EVS.5400"), err.message)

    @staticmethod
    def _error(status: int, code: str, detail: str) -> ApiError:
        text = _EVS_TEXTS[code]
        return ApiError(status, code, f"{text} ({detail})" if detail and detail != text else text)

    def denied(self, action: str, explanation: str) -> ApiError:
        err = self._error(403, "EVS.2056", "")  # EVS's fixed text; the explanation names the action
        err.details = [{"code": "ecsim.explanation", "message": explanation}]
        return err

    def project_mismatch(self, err: ProjectMismatch) -> ApiError:
        return self._error(400, "EVS.0001", f"the URL names project {err.url_project}, the caller is scoped to "
                           f"{err.ctx_project}")


class KeystoneFaults(Faults):
    family = "keystone"

    def translate(self, err: DomainError) -> ApiError:
        if isinstance(err, NotFound):
            return ApiError(404, None, err.message)
        status = {"conflict": 409, "forbidden": 403, "unauthorized": 401}.get(err.reason, 400)
        return ApiError(status, None, err.message)

    def denied(self, action: str, explanation: str) -> ApiError:
        return ApiError(403, None, denial_message(action), details=[{"explanation": explanation}])

    def unauthorized(self, err: AuthError) -> ApiError:
        message = err.reason
        if err.status == 401:
            message = f"The request you have made requires authentication. ({err.reason})"
        return ApiError(err.status, None, message, shape="keystone")

    def project_mismatch(self, err: ProjectMismatch) -> ApiError:
        return ApiError(403, None, "You are not authorized to perform the requested action.")

    def unavailable(self, message: str) -> ApiError:
        return ApiError(503, None, f"Service temporarily unavailable: {message}")

    def internal(self) -> ApiError:
        return ApiError(500, None, "An unexpected error prevented the server from fulfilling your request.")

    def method_not_allowed(self, allowed: list[str]) -> ApiError:
        return ApiError(405, None, "The method is not allowed for the requested URL.",
                        headers=[("Allow", ", ".join(allowed))])

    def request_body(self, content_type: str | None, body: bytes) -> bytes:
        # keystone/server/flask/request_processing/json_body.py: a body is JSON (application/json or
        # application/*+json) or comes without a Content-Type.
        if body and content_type:
            media = content_type.split(";", 1)[0].strip().lower()
            if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
                raise ApiError(400, None, "Expecting to find application/json in Content-Type header. The server "
                               "could not comply with the request since it is either malformed or otherwise "
                               "incorrect. The client is assumed to be in error.")
        return body

    def body_too_large(self, limit: int) -> ApiError:
        return ApiError(413, None, f"Request entity too large: the body exceeds {limit} bytes.")


class Iam5Faults(Faults):
    """IAM 5.0 (`/v5`): `{"error_code": "PAP5.xxxx", "error_msg", "request_id"}`. PAP5.0001 (denied, with
    `encoded_authorization_message`) and PAP5.0003 (a limit exceeded) are Huawei's; the other codes are ecsim's
    choice in the same series (Huawei's full table is not public)."""

    family = "iam5"
    _CODES = {"not_found": (404, "PAP5.0004"), "conflict": (409, "PAP5.0005"), "limit": (409, "PAP5.0003"),
              "forbidden": (403, "PAP5.0001")}

    def translate(self, err: DomainError) -> ApiError:
        status, code = self._CODES.get(err.reason, (400, "PAP5.0002"))
        return ApiError(status, code, err.message, shape="iam3")

    def denied(self, action: str, explanation: str) -> ApiError:
        # The authorizer adds `encoded_authorization_message` (as it does for every family).
        return ApiError(403, "PAP5.0001", f"access denied: {denial_message(action)}", shape="iam3")

    def project_mismatch(self, err: ProjectMismatch) -> ApiError:
        return ApiError(403, "PAP5.0001", "access denied: the request names another project.", shape="iam3")

    def unavailable(self, message: str) -> ApiError:
        return ApiError(503, "PAP5.0503", f"Service temporarily unavailable: {message}", shape="iam3")

    def internal(self) -> ApiError:
        return ApiError(500, "PAP5.0500", "Internal server error. ecsim hit an internal error; see the server log.",
                        shape="iam3")


class ControlFaults(Faults):
    family = "control"

    def translate(self, err: DomainError) -> ApiError:
        status = 404 if isinstance(err, NotFound) else 400
        return ApiError(status, f"ecsim.{err.reason}", err.message)

    def unavailable(self, message: str) -> ApiError:
        return ApiError(503, "ecsim.unavailable", message)

    def method_not_allowed(self, allowed: list[str]) -> ApiError:
        return ApiError(405, "ecsim.method", f"Method not allowed; use {', '.join(allowed)}.")


FAULTS: dict[str, Faults] = {
    "ecs": EcsFaults(),
    "ims": ImsFaults(),
    "cinder": CinderFaults(),
    "nova": NovaFaults(),
    "glance": GlanceFaults(),
    "evs": EvsFaults(),
    "keystone": KeystoneFaults(),
    "iam": KeystoneFaults(),
    "iam5": Iam5Faults(),
    "control": ControlFaults(),
}


def faults_for(family: str) -> Faults:
    return FAULTS.get(family) or FAULTS["ecs"]
