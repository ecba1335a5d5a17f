"""Pure decoding of OTLP export requests (protobuf or JSON, traces or logs).

A request that cannot be read at all raises :class:`DecodeError` (HTTP 400 / gRPC
INVALID_ARGUMENT). A span or log record that is wrong on its own (ids missing or all zero,
a value that is not what the spec says, a string that is not UTF-8, nesting past the limit)
is left out and listed in ``Decoded.rejected``; the rest of the request goes on. A flaw in a
resource or a scope rejects the items under it.

The fast parsers refuse a whole document for one flaw anywhere (upb for protobuf, orjson
for JSON). Only then is the request read again piece by piece (``wire`` cuts protobuf at
each span; the standard library's JSON reader keeps bad text as lone surrogates, found per
item), so a request without flaws costs nothing more.
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from google.protobuf.message import DecodeError as _ProtoDecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as ResourcePb
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from agentreel.core.model import Decoded, DecodedEvent, DecodedLog, DecodedSpan, Rejection, Resource

from . import wire
from .anyvalue import (
    BadValue,
    attributes_from_json,
    attributes_from_proto,
    from_json,
    from_proto,
    json_int,
)
from .limits import Limits

DEFAULT_LIMITS = Limits()
ZERO_TRACE = bytes(16)
ZERO_SPAN = bytes(8)
#: Deepest attribute value upb parses inside a span, event or link: 32 key-value lists
#: (three messages each) under the 100 messages upb allows.
MAX_PROTO_DEPTH = 32


class DecodeError(ValueError):
    """The request as a whole cannot be read: a permanent error (400)."""


class TooLarge(ValueError):
    """The request, or what it inflates to, is over the size limit (413)."""


def inflate(body: bytes, encoding: str, limit: int | Limits) -> bytes:
    """Undo ``Content-Encoding`` (gzip, deflate or none), never producing more than ``limit``
    bytes, or (given the server's ``Limits``) more than ``Limits.inflate_cap`` allows."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise DecodeError(f"unsupported Content-Encoding {encoding!r}; use gzip or none")
    if isinstance(limit, Limits):
        cap, what = limit.inflate_cap(len(body))
    else:
        cap, what = limit, f"{limit} bytes"
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, cap + 1)
    except zlib.error as exc:
        raise DecodeError(f"body is not valid {encoding}: {exc}") from None
    if len(out) > cap or inflater.unconsumed_tail:
        raise TooLarge(f"body inflates to more than {what}")
    if not inflater.eof:
        raise DecodeError(f"body is truncated {encoding}")
    return out


def is_gzip(body: bytes) -> bool:
    return body[:2] == b"\x1f\x8b"


def gzip_bytes(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=1)


# --- traces ---------------------------------------------------------------------------------


def decode_traces_proto(body: bytes, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """Decode an ``ExportTraceServiceRequest`` in protobuf encoding."""
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except _ProtoDecodeError as exc:
        return _traces_span_by_span(body, limits, exc)
    return traces_from_proto(request, limits)


def traces_from_proto(request: Any, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """Decode an already parsed ``ExportTraceServiceRequest``."""
    _check_count(
        sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans), limits
    )
    depth = limits.max_anyvalue_depth
    out = Decoded()
    for resource_spans in request.resource_spans:
        resource, reason = _resource(
            attributes_from_proto, resource_spans.resource.attributes, depth
        )
        for scope_spans in resource_spans.scope_spans:
            _spans_from_proto(out, scope_spans.spans, resource, scope_spans.scope, depth, reason)
    return out


def _traces_span_by_span(body: bytes, limits: Limits, error: Exception) -> Decoded:
    """A request upb refused whole, parsed span by span: only the flawed spans are rejected."""
    groups = _split(body, "ExportTraceServiceRequest", error)
    _check_count(sum(len(s.items) for g in groups for s in g.scopes), limits)
    depth = limits.max_anyvalue_depth
    out = Decoded()
    for group in groups:
        resource, reason = _resource(_proto_resource, group.resource, depth)
        for scoped in group.scopes:
            scope, why = _proto_scope(scoped.scope, depth)
            _spans_from_proto(out, scoped.items, resource, scope, depth, reason or why)
    return out


def _spans_from_proto(
    out: Decoded, spans: Iterable[Any], resource: Resource, scope: Any, depth: int, reason: str
) -> None:
    """Decode ``spans`` (parsed, or each span's bytes) into ``out``; all are rejected with
    ``reason`` when their resource or scope could not be read."""
    for span in spans:
        index = len(out.spans) + len(out.rejected)
        try:
            if reason:
                raise BadValue(reason)
            if isinstance(span, bytes):
                span = _parse(Span, span, depth)
            out.spans.append(_span_from_proto(span, resource, scope.name, scope.version, depth))
        except BadValue as exc:
            out.rejected.append(Rejection(index, f"span {index}: {exc}"))


def _span_from_proto(
    span: Any, resource: Resource, scope: str, version: str, depth: int
) -> DecodedSpan:
    trace_id, span_id, parent = (
        bytes(span.trace_id),
        bytes(span.span_id),
        bytes(span.parent_span_id),
    )
    _check_ids(trace_id, span_id, parent)
    _check_times(span.start_time_unix_nano, span.end_time_unix_nano)
    events = [
        DecodedEvent(e.name, e.time_unix_nano, attributes_from_proto(e.attributes, depth))
        for e in span.events
    ]
    links = [
        {
            "trace_id": link.trace_id.hex(),
            "span_id": link.span_id.hex(),
            "attributes": attributes_from_proto(link.attributes, depth),
        }
        for link in span.links
    ]
    return DecodedSpan(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=span.name,
        otel_kind=span.kind,
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        attributes=attributes_from_proto(span.attributes, depth),
        events=events,
        status_code=span.status.code,
        status_message=span.status.message,
        resource=resource,
        scope_name=scope,
        scope_version=version,
        links=links,
    )


def decode_traces_json(body: bytes, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """Decode an ``ExportTraceServiceRequest`` in OTLP/JSON encoding (hex ids, camelCase)."""
    root, strict = _json_root(body)
    _check_count(_json_count(root, "resourceSpans", "scopeSpans", "spans"), limits)
    depth = limits.max_anyvalue_depth
    out = Decoded()
    for rs_i, resource_spans in enumerate(_list(root, "resourceSpans", "request")):
        where = f"resourceSpans[{rs_i}]"
        resource, reason = _resource(_json_resource, resource_spans, where, depth, strict)
        for ss_i, scope_spans in enumerate(_list(resource_spans, "scopeSpans", where)):
            scope = _obj(_get(scope_spans, "scope") or {}, f"{where}.scopeSpans[{ss_i}].scope")
            name = _scope_text(scope, "name", f"{where}.scopeSpans[{ss_i}]")
            version = _scope_text(scope, "version", f"{where}.scopeSpans[{ss_i}]")
            why = reason or _unencodable(scope, "its scope", strict)
            for span in _list(scope_spans, "spans", f"{where}.scopeSpans[{ss_i}]"):
                index = len(out.spans) + len(out.rejected)
                try:
                    _refuse(why or _unencodable(span, "it", strict))
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
    _check_ids(trace_id, span_id, parent)
    raw_events = _get(span, "events") or []
    if not isinstance(raw_events, list):
        raise BadValue("events must be a list")
    events = []
    for event in raw_events:
        if not isinstance(event, dict):
            raise BadValue("an event must be an object")
        events.append(
            DecodedEvent(
                _str(event.get("name")),
                json_int(_get(event, "timeUnixNano") or 0, "timeUnixNano"),
                attributes_from_json(event.get("attributes"), 0, depth),
            )
        )
    status = _get(span, "status") or {}
    if not isinstance(status, dict):
        raise BadValue("status must be an object")
    start_ns = json_int(_get(span, "startTimeUnixNano") or 0, "startTimeUnixNano")
    end_ns = json_int(_get(span, "endTimeUnixNano") or 0, "endTimeUnixNano")
    _check_times(start_ns, end_ns)
    return DecodedSpan(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=_str(span.get("name")),
        otel_kind=_enum(span.get("kind"), _SPAN_KINDS, "kind"),
        start_ns=start_ns,
        end_ns=end_ns,
        attributes=attributes_from_json(span.get("attributes"), 0, depth),
        events=events,
        status_code=_enum(status.get("code"), _STATUS_CODES, "status.code"),
        status_message=_str(status.get("message")),
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


# --- logs -----------------------------------------------------------------------------------


def decode_logs_proto(body: bytes, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    request = ExportLogsServiceRequest()
    try:
        request.ParseFromString(body)
    except _ProtoDecodeError as exc:
        return _logs_record_by_record(body, limits, exc)
    return logs_from_proto(request, limits)


def logs_from_proto(request: Any, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    _check_count(
        sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs), limits
    )
    depth = limits.max_anyvalue_depth
    out = Decoded()
    for resource_logs in request.resource_logs:
        resource, reason = _resource(
            attributes_from_proto, resource_logs.resource.attributes, depth
        )
        for scope_logs in resource_logs.scope_logs:
            _logs_from_proto(out, scope_logs.log_records, resource, scope_logs.scope, depth, reason)
    return out


def _logs_record_by_record(body: bytes, limits: Limits, error: Exception) -> Decoded:
    """A request upb refused whole, parsed record by record (see ``_traces_span_by_span``)."""
    groups = _split(body, "ExportLogsServiceRequest", error)
    _check_count(sum(len(s.items) for g in groups for s in g.scopes), limits)
    depth = limits.max_anyvalue_depth
    out = Decoded()
    for group in groups:
        resource, reason = _resource(_proto_resource, group.resource, depth)
        for scoped in group.scopes:
            scope, why = _proto_scope(scoped.scope, depth)
            _logs_from_proto(out, scoped.items, resource, scope, depth, reason or why)
    return out


def _logs_from_proto(
    out: Decoded, records: Iterable[Any], resource: Resource, scope: Any, depth: int, reason: str
) -> None:
    for record in records:
        index = len(out.logs) + len(out.rejected)
        try:
            if reason:
                raise BadValue(reason)
            if isinstance(record, bytes):
                record = _parse(LogRecord, record, depth)
            attributes = attributes_from_proto(record.attributes, depth)
            event_name = getattr(record, "event_name", "") or _str(attributes.get("event.name"))
            body = from_proto(record.body, 0, depth) if record.HasField("body") else None
            time_ns = record.time_unix_nano or record.observed_time_unix_nano
            _check_times(time_ns, time_ns)
            _check_log_ids(bytes(record.trace_id), bytes(record.span_id))
            out.logs.append(
                DecodedLog(
                    trace_id=bytes(record.trace_id),
                    span_id=bytes(record.span_id),
                    time_ns=time_ns,
                    event_name=event_name,
                    attributes=attributes,
                    body=body,
                    resource=resource,
                    scope_name=scope.name,
                    seq=index,
                )
            )
        except BadValue as exc:
            out.rejected.append(Rejection(index, f"log record {index}: {exc}"))


def decode_logs_json(body: bytes, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    root, strict = _json_root(body)
    _check_count(_json_count(root, "resourceLogs", "scopeLogs", "logRecords"), limits)
    depth = limits.max_anyvalue_depth
    out = Decoded()
    for rl_i, resource_logs in enumerate(_list(root, "resourceLogs", "request")):
        where = f"resourceLogs[{rl_i}]"
        resource, reason = _resource(_json_resource, resource_logs, where, depth, strict)
        for sl_i, scope_logs in enumerate(_list(resource_logs, "scopeLogs", where)):
            scope = _obj(_get(scope_logs, "scope") or {}, f"{where}.scopeLogs[{sl_i}].scope")
            why = reason or _unencodable(scope, "its scope", strict)
            for record in _list(scope_logs, "logRecords", f"{where}.scopeLogs[{sl_i}]"):
                index = len(out.logs) + len(out.rejected)
                try:
                    _refuse(why or _unencodable(record, "it", strict))
                    if not isinstance(record, dict):
                        raise BadValue("a log record must be an object")
                    attributes = attributes_from_json(record.get("attributes"), 0, depth)
                    time_ns = json_int(_get(record, "timeUnixNano") or 0, "timeUnixNano")
                    observed = json_int(
                        _get(record, "observedTimeUnixNano") or 0, "observedTimeUnixNano"
                    )
                    _check_times(time_ns or observed, time_ns or observed)
                    out.logs.append(
                        DecodedLog(
                            trace_id=_hex_id(_get(record, "traceId"), 16, "traceId", True),
                            span_id=_hex_id(_get(record, "spanId"), 8, "spanId", True),
                            time_ns=time_ns or observed,
                            event_name=_str(_get(record, "eventName"))
                            or _str(attributes.get("event.name")),
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


# --- helpers --------------------------------------------------------------------------------

_SPAN_KINDS = {
    "SPAN_KIND_UNSPECIFIED": 0,
    "SPAN_KIND_INTERNAL": 1,
    "SPAN_KIND_SERVER": 2,
    "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4,
    "SPAN_KIND_CONSUMER": 5,
}
_STATUS_CODES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


#: Latest nanosecond timestamp the store takes (DateTime64(9) ends in 2262).
MAX_TIME_NS = 2**63 - 1


def _check_times(start_ns: int, end_ns: int) -> None:
    for what, value in (("start time", start_ns), ("end time", end_ns)):
        if not 0 <= value <= MAX_TIME_NS:
            raise BadValue(f"{what} {value} is not a nanosecond time between 1970 and 2262")


def _check_log_ids(trace_id: bytes, span_id: bytes) -> None:
    """A log record's ids are optional, but when present they must be ids (16 and 8 bytes)."""
    if trace_id and len(trace_id) != 16:
        raise BadValue("trace id must be 16 bytes")
    if span_id and len(span_id) != 8:
        raise BadValue("span id must be 8 bytes")


def _check_ids(trace_id: bytes, span_id: bytes, parent: bytes) -> None:
    if len(trace_id) != 16 or trace_id == ZERO_TRACE:
        raise BadValue("trace id must be 16 bytes and not all zero")
    if len(span_id) != 8 or span_id == ZERO_SPAN:
        raise BadValue("span id must be 8 bytes and not all zero")
    if parent and len(parent) != 8:
        raise BadValue("parent span id must be empty or 8 bytes")


def _resource(read: Callable[..., dict[str, Any]], *args: Any) -> tuple[Resource, str]:
    """The resource ``read(*args)`` gives, or an empty one and why its items are rejected."""
    try:
        return Resource(read(*args)), ""
    except BadValue as exc:
        return Resource({}), f"its resource attributes: {exc}"


def _proto_resource(raw: bytes, depth: int) -> dict[str, Any]:
    return attributes_from_proto(_parse(ResourcePb, raw, depth).attributes, depth)


def _proto_scope(raw: bytes, depth: int) -> tuple[Any, str]:
    try:
        return _parse(InstrumentationScope, raw, depth), ""
    except BadValue as exc:
        return InstrumentationScope(), f"its scope: {exc}"


def _split(body: bytes, what: str, error: Exception) -> list[wire.Resourced]:
    try:
        return wire.split_request(body)
    except wire.WireError:
        raise DecodeError(f"body is not a valid {what} protobuf: {error}") from None


def _parse(kind: Any, raw: bytes, depth: int) -> Any:
    """``raw`` parsed as a ``kind`` message; BadValue (that item alone) when upb refuses it."""
    try:
        return kind.FromString(raw)
    except _ProtoDecodeError as exc:
        text = str(exc)
        if "MaxDepth" in text:
            raise BadValue(
                f"attribute value nested deeper than {min(depth, MAX_PROTO_DEPTH)} levels "
                "(max_anyvalue_depth)"
            ) from None
        if "UTF-8" in text:
            raise BadValue("a string field is not valid UTF-8") from None
        raise BadValue(f"not valid protobuf: {text}") from None


def _unencodable(value: Any, what: str, strict: bool) -> str:
    """Why ``value``, read by the lenient JSON parser, cannot be kept ('' when it can)."""
    if strict:
        return ""
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        return f"{what} holds a string that is not valid UTF-8 (a lone surrogate or a bad byte)"
    return ""


def _refuse(reason: str) -> None:
    if reason:
        raise BadValue(reason)


def _json_resource(holder: Any, where: str, depth: int, strict: bool) -> dict[str, Any]:
    resource = _obj(_get(holder, "resource") or {}, f"{where}.resource")
    _refuse(_unencodable(resource, "it", strict))
    return attributes_from_json(resource.get("attributes"), 0, depth)


def _check_count(count: int, limits: Limits) -> None:
    if count > limits.max_spans_per_request:
        raise TooLarge(
            f"the request holds {count} items; at most {limits.max_spans_per_request} "
            "(max_spans_per_request): send smaller batches"
        )


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
    """The request's JSON object, and whether it was read strictly (by orjson).

    orjson refuses a whole document for one lone surrogate (``\\ud800``) or one byte that is
    not UTF-8. Then the document is read again by the standard library, which keeps both
    as lone surrogates, and each item holding one is rejected alone (``_unencodable``).
    """
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


def _str(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadValue(f"expected a string, got {type(value).__name__}")
    return value


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
