"""Pure decoding of OTLP/JSON export requests (hex ids, camelCase or snake_case fields).

orjson reads a request first. It refuses a whole document for one lone surrogate
(``\\ud800``) or one byte that is not UTF-8; the document is then read again by the standard
library, which keeps both as lone surrogates, and each span or log record holding one is
rejected alone (``_unencodable``), as a resource or scope holding one rejects its items.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from agentreel.core.model import Decoded, DecodedEvent, DecodedLog, DecodedSpan, Rejection, Resource

from .anyvalue import BadValue, attributes_from_json, from_json, json_int
from .checks import (
    DEFAULT_LIMITS,
    DecodeError,
    as_text,
    check_count,
    check_ids,
    check_times,
    refuse,
    resource_or_reason,
)
from .limits import Limits


def decode_traces_json(body: bytes, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """Decode an ``ExportTraceServiceRequest`` in OTLP/JSON encoding (hex ids, camelCase)."""
    root, strict = _json_root(body)
    check_count(_json_count(root, "resourceSpans", "scopeSpans", "spans"), limits)
    depth = limits.max_anyvalue_depth
    out = Decoded()
    for rs_i, resource_spans in enumerate(_list(root, "resourceSpans", "request")):
        where = f"resourceSpans[{rs_i}]"
        resource, reason = resource_or_reason(_json_resource, resource_spans, where, depth, strict)
        for ss_i, scope_spans in enumerate(_list(resource_spans, "scopeSpans", where)):
            scope = _obj(_get(scope_spans, "scope") or {}, f"{where}.scopeSpans[{ss_i}].scope")
            name = _scope_text(scope, "name", f"{where}.scopeSpans[{ss_i}]")
            version = _scope_text(scope, "version", f"{where}.scopeSpans[{ss_i}]")
            why = reason or _unencodable(scope, "its scope", strict)
            for span in _list(scope_spans, "spans", f"{where}.scopeSpans[{ss_i}]"):
                index = len(out.spans) + len(out.rejected)
                try:
                    refuse(why or _unencodable(span, "it", strict))
                    out.spans.append(_span_from_json(span, resource, name, version, depth))
                except BadValue as exc:
                    out.rejected.append(Rejection(index, f"span {index}: {exc}"))
    return out


def _span_from_json(
    span: Any, resource: Resource, scope: str, version: str, depth: int
) -> DecodedSpan:
    if not isinstance(span, dict):
        raise BadValue("a span must be an object")
    trace_id = _hex_id(_get(span, "traceId"), 16, "traceId")
    span_id = _hex_id(_get(span, "spanId"), 8, "spanId")
    parent = _hex_id(_get(span, "parentSpanId"), 8, "parentSpanId", optional=True)
    check_ids(trace_id, span_id, parent)
    raw_events = _get(span, "events") or []
    if not isinstance(raw_events, list):
        raise BadValue("events must be a list")
    events = []
    for event in raw_events:
        if not isinstance(event, dict):
            raise BadValue("an event must be an object")
        events.append(
            DecodedEvent(
                as_text(event.get("name")),
                json_int(_get(event, "timeUnixNano") or 0, "timeUnixNano"),
                attributes_from_json(event.get("attributes"), 0, depth),
            )
        )
    status = _get(span, "status") or {}
    if not isinstance(status, dict):
        raise BadValue("status must be an object")
    start_ns = json_int(_get(span, "startTimeUnixNano") or 0, "startTimeUnixNano")
    end_ns = json_int(_get(span, "endTimeUnixNano") or 0, "endTimeUnixNano")
    check_times(start_ns, end_ns)
    return DecodedSpan(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=as_text(span.get("name")),
        otel_kind=_enum(span.get("kind"), _SPAN_KINDS, "kind"),
        start_ns=start_ns,
        end_ns=end_ns,
        attributes=attributes_from_json(span.get("attributes"), 0, depth),
        events=events,
        status_code=_enum(status.get("code"), _STATUS_CODES, "status.code"),
        status_message=as_text(status.get("message")),
        resource=resource,
        scope_name=scope,
        scope_version=version,
        links=_links_from_json(_get(span, "links"), depth),
    )


def _links_from_json(raw: Any, depth: int) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadValue("links must be a list")
    links = []
    for link in raw:
        if not isinstance(link, dict):
            raise BadValue("a link must be an object")
        links.append(
            {
                "trace_id": _hex_id(_get(link, "traceId"), 16, "link traceId", True).hex(),
                "span_id": _hex_id(_get(link, "spanId"), 8, "link spanId", True).hex(),
                "attributes": attributes_from_json(link.get("attributes"), 0, depth),
            }
        )
    return links


def decode_logs_json(body: bytes, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    root, strict = _json_root(body)
    check_count(_json_count(root, "resourceLogs", "scopeLogs", "logRecords"), limits)
    depth = limits.max_anyvalue_depth
    out = Decoded()
    for rl_i, resource_logs in enumerate(_list(root, "resourceLogs", "request")):
        where = f"resourceLogs[{rl_i}]"
        resource, reason = resource_or_reason(_json_resource, resource_logs, where, depth, strict)
        for sl_i, scope_logs in enumerate(_list(resource_logs, "scopeLogs", where)):
            scope = _obj(_get(scope_logs, "scope") or {}, f"{where}.scopeLogs[{sl_i}].scope")
            why = reason or _unencodable(scope, "its scope", strict)
            for record in _list(scope_logs, "logRecords", f"{where}.scopeLogs[{sl_i}]"):
                index = len(out.logs) + len(out.rejected)
                try:
                    refuse(why or _unencodable(record, "it", strict))
                    if not isinstance(record, dict):
                        raise BadValue("a log record must be an object")
                    attributes = attributes_from_json(record.get("attributes"), 0, depth)
                    time_ns = json_int(_get(record, "timeUnixNano") or 0, "timeUnixNano")
                    observed = json_int(
                        _get(record, "observedTimeUnixNano") or 0, "observedTimeUnixNano"
                    )
                    check_times(time_ns or observed, time_ns or observed)
                    out.logs.append(
                        DecodedLog(
                            trace_id=_hex_id(_get(record, "traceId"), 16, "traceId", True),
                            span_id=_hex_id(_get(record, "spanId"), 8, "spanId", True),
                            time_ns=time_ns or observed,
                            event_name=as_text(_get(record, "eventName"))
                            or as_text(attributes.get("event.name")),
                            attributes=attributes,
                            body=from_json(record.get("body"), 0, depth),
                            resource=resource,
                            scope_name=_scope_text(scope, "name", f"{where}.scopeLogs[{sl_i}]"),
                            seq=index,
                        )
                    )
                except BadValue as exc:
                    out.rejected.append(Rejection(index, f"log record {index}: {exc}"))
    return out


_SPAN_KINDS = {
    "SPAN_KIND_UNSPECIFIED": 0,
    "SPAN_KIND_INTERNAL": 1,
    "SPAN_KIND_SERVER": 2,
    "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4,
    "SPAN_KIND_CONSUMER": 5,
}


_STATUS_CODES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


def _unencodable(value: Any, what: str, strict: bool) -> str:
    """Why ``value``, read by the lenient JSON parser, cannot be kept ('' when it can)."""
    if strict:
        return ""
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        return f"{what} holds a string that is not valid UTF-8 (a lone surrogate or a bad byte)"
    return ""


def _json_resource(holder: Any, where: str, depth: int, strict: bool) -> dict[str, Any]:
    resource = _obj(_get(holder, "resource") or {}, f"{where}.resource")
    refuse(_unencodable(resource, "it", strict))
    return attributes_from_json(resource.get("attributes"), 0, depth)


def _json_count(root: dict[str, Any], outer: str, middle: str, inner: str) -> int:
    """Items in an OTLP/JSON request, counted where the shape allows (decoding checks it)."""
    count = 0
    for holder in _as_list(_get(root, outer)):
        for scoped in _as_list(_get(holder, middle)):
            count += len(_as_list(_get(scoped, inner)))
    return count


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _json_root(body: bytes) -> tuple[dict[str, Any], bool]:
    """The request's JSON object, and whether orjson read it (else the standard library did,
    keeping bad text as lone surrogates: see the module docstring)."""
    strict = True
    try:
        root = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        strict = False
        try:
            root = json.loads(
                body.decode("utf-8", "surrogateescape"),
                parse_constant=_no_constant,
                parse_float=_finite,
            )
        except (ValueError, RecursionError):
            raise DecodeError(f"body is not valid JSON: {exc}") from None
    if not isinstance(root, dict):
        raise DecodeError("body must be a JSON object")
    return root, strict


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of the double range")
    return value


def _get(obj: Any, camel: str) -> Any:
    """Read a field by its lowerCamelCase name or its snake_case proto name."""
    if not isinstance(obj, dict):
        return None
    if camel in obj:
        return obj[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return obj.get(snake)


def _list(obj: Any, field: str, where: str) -> list[Any]:
    if not isinstance(obj, dict):
        raise DecodeError(f"{where} must be an object")
    value = _get(obj, field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DecodeError(f"{where}.{field} must be a list")
    return value


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DecodeError(f"{where} must be an object")
    return value


def _scope_text(scope: dict[str, Any], field: str, where: str) -> str:
    value = scope.get(field)
    if value is not None and not isinstance(value, str):
        raise DecodeError(f"{where}.scope.{field} must be a string")
    return value or ""


def _hex_id(value: Any, size: int, what: str, optional: bool = False) -> bytes:
    if value in (None, "") and optional:
        return b""
    if not isinstance(value, str):
        raise BadValue(f"{what} must be a hex string")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise BadValue(f"{what} {value!r} is not hex") from None
    if len(raw) != size and not (optional and not raw):
        raise BadValue(f"{what} must be {size} bytes ({size * 2} hex digits)")
    return raw


def _enum(value: Any, names: dict[str, int], what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        raise BadValue(f"{what} must be an integer or enum name")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value in names:
        return names[value]
    raise BadValue(f"{what} {value!r} is not a known value")
