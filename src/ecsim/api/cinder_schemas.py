"""Cinder's request-body rules as JSON schemas (Draft 4, as Cinder validates them), with Cinder's error texts:
`Invalid input for field/attribute <field>. Value: <value>. <reason>` for a member, the bare reason at the top.

Two Cinder quirks kept on purpose: `minimum`/`maximum` also apply to digit strings ("10" is a size), and booleans
accept the usual strings ("true", "yes", "1", ...).
"""

from __future__ import annotations

from typing import Any

import jsonschema
from jsonschema import Draft4Validator

from ecsim.domain.errors import InvalidInput
from ecsim.ids import is_uuid

TRUE_STRINGS = ("True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t")
FALSE_STRINGS = ("False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n", "f")

BOOLEAN = {"type": ["boolean", "string"], "enum": [True, *TRUE_STRINGS, False, *FALSE_STRINGS]}
OPTIONAL_BOOLEAN = {"type": ["boolean", "string", "null"], "enum": [True, *TRUE_STRINGS, False, *FALSE_STRINGS, None]}
SIZE = {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1, "maximum": 2**31 - 1}
NULLABLE_SIZE = {"type": ["integer", "string", "null"], "pattern": "^[0-9]+$", "minimum": 1, "maximum": 2**31 - 1}
TEXT = {"type": ["string", "null"], "maxLength": 255}
OPTIONAL_UUID = {"oneOf": [{"type": "null"}, {"type": "string", "format": "uuid"}]}
# Cinder's parameter_types.metadata_allows_null: keys may hold "/" (Kubernetes' "kubernetes.io/created-for/...").
METADATA = {"type": "object", "patternProperties": {"^[a-zA-Z0-9-_:. /]{1,255}$": {"type": "string",
                                                                                   "maxLength": 255}},
            "additionalProperties": False}
NULLABLE_METADATA = {**METADATA, "type": ["object", "null"]}


def _obj(properties: dict, *, required: tuple[str, ...] = (), extra: bool = False, **more: Any) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": extra, **more}
    if required:
        schema["required"] = list(required)
    return schema


def _wrapped(key: str, inner: dict, **more: Any) -> dict:
    return _obj({key: inner}, required=(key,), **more)


_VOLUME = {
    "name": TEXT, "description": TEXT, "display_name": TEXT, "display_description": TEXT,
    "volume_type": {"type": ["string", "null"], "maxLength": 255}, "metadata": NULLABLE_METADATA,
    "snapshot_id": OPTIONAL_UUID, "source_volid": OPTIONAL_UUID, "consistencygroup_id": OPTIONAL_UUID,
    "size": NULLABLE_SIZE, "availability_zone": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
    "multiattach": OPTIONAL_BOOLEAN, "image_id": TEXT, "imageRef": TEXT, "group_id": TEXT, "backup_id": OPTIONAL_UUID,
}
# Before 3.53 Cinder ignored unknown members of "volume"; from 3.53 they are refused.
CREATE = _obj({"volume": _obj(_VOLUME, extra=True), "OS-SCH-HNT:scheduler_hints": {"type": ["object", "null"]}},
              required=("volume",))
CREATE_353 = _obj({"volume": _obj(_VOLUME), "OS-SCH-HNT:scheduler_hints": {"type": ["object", "null"]}},
                  required=("volume",))
UPDATE = _wrapped("volume", _obj({"name": TEXT, "description": TEXT, "display_name": TEXT,
                                  "display_description": TEXT, "metadata": METADATA}))

ACTIONS = {
    "os-extend": _wrapped("os-extend", _obj({"new_size": SIZE}, required=("new_size",))),
    "os-attach": _wrapped("os-attach", _obj(
        {"instance_uuid": {"type": "string", "format": "uuid"},
         "mountpoint": {"type": "string", "minLength": 1, "maxLength": 255},
         "host_name": {"type": "string", "maxLength": 255}, "mode": {"type": "string", "enum": ["rw", "ro"]}},
        required=("mountpoint",), anyOf=[{"required": ["instance_uuid"]}, {"required": ["host_name"]}])),
    "os-detach": _wrapped("os-detach", {**_obj({"attachment_id": {"type": ["string", "null"]}}),
                                        "type": ["object", "null"]}),
    "os-set_bootable": _wrapped("os-set_bootable", _obj({"bootable": BOOLEAN}, required=("bootable",))),
    "os-update_readonly_flag": _wrapped("os-update_readonly_flag", _obj({"readonly": BOOLEAN},
                                                                         required=("readonly",))),
    "os-volume_upload_image": _wrapped("os-volume_upload_image", _obj(
        {"image_name": {"type": "string", "minLength": 1, "maxLength": 255}, "force": BOOLEAN,
         "disk_format": {"type": "string", "enum": ["raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop"]},
         "container_format": TEXT,
         # 3.1+: checked against the microversion by the handler
         "visibility": {"type": "string", "enum": ["community", "public", "private", "shared"]},
         "protected": BOOLEAN},
        required=("image_name",))),
    # os-reserve / os-unreserve take any value (usually null)
}

METADATA_BODY = _wrapped("metadata", METADATA)
META_ITEM = _wrapped("meta", METADATA)


def _numeric(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None


def _bound(name: str):
    base = Draft4Validator.VALIDATORS[name]

    def check(validator, limit, instance, schema):
        number = _numeric(instance)
        if number is not None:
            yield from base(validator, limit, number, schema)

    return check


_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("uuid")(lambda v: not isinstance(v, str) or is_uuid(v) or is_uuid(_dashed(v)))
_Validator = jsonschema.validators.extend(Draft4Validator, {"minimum": _bound("minimum"),
                                                            "maximum": _bound("maximum")})
_compiled: dict[int, Any] = {}


def _dashed(text: str) -> str:
    t = text.replace("-", "").lower()
    return f"{t[:8]}-{t[8:12]}-{t[12:16]}-{t[16:20]}-{t[20:]}" if len(t) == 32 else text


def validate(body: Any, schema: dict) -> Any:
    """`body` if it satisfies `schema`, else InvalidInput with Cinder's message for the first failure."""
    validator = _compiled.get(id(schema))
    if validator is None:
        validator = _compiled[id(schema)] = _Validator(schema, format_checker=_FORMATS)
    error = next(iter(validator.iter_errors(body)), None)
    if error is not None:
        if error.path:
            message = (f"Invalid input for field/attribute {error.path[-1]}. Value: {error.instance}. "
                       f"{error.message}")
        else:
            message = error.message
        raise InvalidInput(message, reason="schema")
    return body


def boolean(value: Any) -> bool:
    """A value BOOLEAN accepted, as a bool."""
    return value is True or value in TRUE_STRINGS
