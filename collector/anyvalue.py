"""OTLP AnyValue to Python values, from protobuf objects or from OTLP/JSON dicts."""

from __future__ import annotations

import base64
from typing import Any

#: Deepest nesting of arrays and key-value lists accepted in one attribute value.
MAX_DEPTH = 32


class BadValue(ValueError):
    """An AnyValue that cannot be read; the span carrying it is rejected."""


def from_proto(value: Any, depth: int = 0, max_depth: int = MAX_DEPTH) -> Any:
    """Turn an ``opentelemetry.proto.common.v1.AnyValue`` into a plain Python value."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        return value.double_value
    if which == "bool_value":
        return value.bool_value
    if which is None:
        return None
    if depth >= max_depth:
        raise BadValue(
            f"attribute value nested deeper than {max_depth} levels (max_anyvalue_depth)"
        )
    if which == "array_value":
        return [from_proto(v, depth + 1, max_depth) for v in value.array_value.values]
    if which == "kvlist_value":
        return {
            kv.key: from_proto(kv.value, depth + 1, max_depth) for kv in value.kvlist_value.values
        }
    if which == "bytes_value":
        return bytes(value.bytes_value)
    raise BadValue(f"unknown AnyValue field {which}")


def attributes_from_proto(key_values: Any, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in key_values:
        value = kv.value
        # Strings and integers are most attributes: read them without a call.
        which = value.WhichOneof("value")
        if which == "string_value":
            out[kv.key] = value.string_value
        elif which == "int_value":
            out[kv.key] = value.int_value
        else:
            out[kv.key] = from_proto(value, 0, max_depth)
    return out


def from_json(value: Any, depth: int = 0, max_depth: int = MAX_DEPTH) -> Any:
    """Turn an OTLP/JSON AnyValue object (``{"stringValue": ...}`` etc.) into a Python value."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadValue(f"an attribute value must be an object, got {type(value).__name__}")
    if not value:
        return None
    if len(value) != 1:
        raise BadValue(f"an attribute value has one field, got {sorted(value)}")
    ((field, inner),) = value.items()
    if field in ("stringValue", "string_value"):
        if not isinstance(inner, str):
            raise BadValue("stringValue must be a string")
        return inner
    if field in ("intValue", "int_value"):
        return _json_int(inner, "intValue")
    if field in ("doubleValue", "double_value"):
        if isinstance(inner, bool) or not isinstance(inner, int | float | str):
            raise BadValue("doubleValue must be a number")
        try:
            return float(inner)
        except ValueError:
            raise BadValue(f"doubleValue {inner!r} is not a number") from None
    if field in ("boolValue", "bool_value"):
        if not isinstance(inner, bool):
            raise BadValue("boolValue must be true or false")
        return inner
    if depth >= max_depth:
        raise BadValue(
            f"attribute value nested deeper than {max_depth} levels (max_anyvalue_depth)"
        )
    if field in ("arrayValue", "array_value"):
        return [from_json(v, depth + 1, max_depth) for v in _json_values(inner)]
    if field in ("kvlistValue", "kvlist_value"):
        return attributes_from_json(_json_values(inner), depth + 1, max_depth)
    if field in ("bytesValue", "bytes_value"):
        if not isinstance(inner, str):
            raise BadValue("bytesValue must be a base64 string")
        try:
            return base64.b64decode(inner, validate=True)
        except ValueError:
            raise BadValue("bytesValue is not valid base64") from None
    raise BadValue(f"unknown attribute value field {field!r}")


def attributes_from_json(
    key_values: Any, depth: int = 0, max_depth: int = MAX_DEPTH
) -> dict[str, Any]:
    if key_values is None:
        return {}
    if not isinstance(key_values, list):
        raise BadValue("attributes must be a list of {key, value} objects")
    out: dict[str, Any] = {}
    for kv in key_values:
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise BadValue("each attribute must be an object with a string key")
        out[kv["key"]] = from_json(kv.get("value"), depth, max_depth)
    return out


def _json_values(inner: Any) -> list[Any]:
    if not isinstance(inner, dict):
        raise BadValue("arrayValue and kvlistValue must be objects with a values list")
    values = inner.get("values", [])
    if not isinstance(values, list):
        raise BadValue("values must be a list")
    return values


INT64_MIN, UINT64_MAX = -(2**63), 2**64 - 1


def _json_int(raw: Any, what: str) -> int:
    # OTLP/JSON writes 64-bit integers as decimal strings; numbers are accepted too.
    value: int | None = None
    if isinstance(raw, bool):
        value = None
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str):
        try:
            value = int(raw)
        except ValueError:
            value = None
    if value is None:
        raise BadValue(f"{what} must be an integer, got {str(raw)[:40]!r}")
    # int64 values and uint64 timestamps share this reader; the callers narrow further.
    if not INT64_MIN <= value <= UINT64_MAX:
        raise BadValue(f"{what} {str(raw)[:40]} is out of the 64-bit range")
    return value


def json_int(raw: Any, what: str) -> int:
    """Read an OTLP/JSON 64-bit integer field (a decimal string or a number)."""
    return _json_int(raw, what)
