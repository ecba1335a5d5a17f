"""Pure decoding of OTLP export requests (protobuf or JSON, traces or logs); the OTLP/JSON
reader is :mod:`.decode_json`, re-exported here.

A request that cannot be read at all raises :class:`DecodeError` (HTTP 400 / gRPC
INVALID_ARGUMENT). A span or log record that is wrong on its own (ids missing or all zero,
a value that is not what the spec says, a string that is not UTF-8, nesting past the limit)
is left out and listed in ``Decoded.rejected``; the rest of the request goes on. A flaw in a
resource or a scope rejects the items under it.

upb refuses a whole protobuf request for one flaw anywhere in it (a string that is not
UTF-8, nesting past its depth). Only then is the request cut at each span by :mod:`.wire`
and parsed span by span, so a request without flaws costs nothing more (orjson and
:mod:`.decode_json` do the same for JSON).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from typing import Any

from google.protobuf.message import DecodeError as _ProtoDecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as ResourcePb
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from agentreel.core.model import Decoded, DecodedEvent, DecodedLog, DecodedSpan, Rejection, Resource

from . import wire
from .anyvalue import BadValue, attributes_from_proto, from_proto
from .checks import (
    DEFAULT_LIMITS,
    MAX_TIME_NS,
    DecodeError,
    TooLarge,
    as_text,
    check_count,
    check_ids,
    check_log_ids,
    check_times,
    refuse,
    resource_or_reason,
)
from .decode_json import decode_logs_json, decode_traces_json
from .limits import Limits

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_TIME_NS",
    "DecodeError",
    "TooLarge",
    "decode_logs_json",
    "decode_logs_proto",
    "decode_traces_json",
    "decode_traces_proto",
    "gzip_bytes",
    "inflate",
    "is_gzip",
    "logs_from_proto",
    "traces_from_proto",
]

#: Deepest attribute value upb parses inside a span, event or link: 32 key-value lists
#: (three messages each) under the 100 messages upb allows.
MAX_PROTO_DEPTH = 32


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
        return _item_by_item(body, limits, "ExportTraceServiceRequest", exc, _spans_from_proto)
    return traces_from_proto(request, limits)


def traces_from_proto(request: Any, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """Decode an already parsed ``ExportTraceServiceRequest``."""
    check_count(
        sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans), limits
    )
    depth = limits.max_anyvalue_depth
    out = Decoded()
    for resource_spans in request.resource_spans:
        resource, reason = resource_or_reason(
            attributes_from_proto, resource_spans.resource.attributes, depth
        )
        for scope_spans in resource_spans.scope_spans:
            _spans_from_proto(out, scope_spans.spans, resource, scope_spans.scope, depth, reason)
    return out


def _item_by_item(body: bytes, limits: Limits, what: str, error: Exception, add: Any) -> Decoded:
    """A request upb refused whole, parsed item by item with ``add`` (``_spans_from_proto``
    or ``_logs_from_proto``): only the flawed spans or log records are rejected."""
    groups = _split(body, what, error)
    check_count(sum(len(s.items) for g in groups for s in g.scopes), limits)
    depth = limits.max_anyvalue_depth
    out = Decoded()
    for group in groups:
        resource, reason = resource_or_reason(_proto_resource, group.resource, depth)
        for scoped in group.scopes:
            scope, why = _proto_scope(scoped.scope, depth)
            add(out, scoped.items, resource, scope, depth, reason or why)
    return out


def _spans_from_proto(
    out: Decoded, spans: Iterable[Any], resource: Resource, scope: Any, depth: int, reason: str
) -> None:
    """Decode ``spans`` (parsed, or each span's bytes) into ``out``; all are rejected with
    ``reason`` when their resource or scope could not be read."""
    for span in spans:
        index = len(out.spans) + len(out.rejected)
        try:
            span = _readable(span, Span, reason, depth)
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
    check_ids(trace_id, span_id, parent)
    check_times(span.start_time_unix_nano, span.end_time_unix_nano)
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


# --- logs -----------------------------------------------------------------------------------


def decode_logs_proto(body: bytes, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    request = ExportLogsServiceRequest()
    try:
        request.ParseFromString(body)
    except _ProtoDecodeError as exc:
        return _item_by_item(body, limits, "ExportLogsServiceRequest", exc, _logs_from_proto)
    return logs_from_proto(request, limits)


def logs_from_proto(request: Any, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    check_count(
        sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs), limits
    )
    depth = limits.max_anyvalue_depth
    out = Decoded()
    for resource_logs in request.resource_logs:
        resource, reason = resource_or_reason(
            attributes_from_proto, resource_logs.resource.attributes, depth
        )
        for scope_logs in resource_logs.scope_logs:
            _logs_from_proto(out, scope_logs.log_records, resource, scope_logs.scope, depth, reason)
    return out


def _logs_from_proto(
    out: Decoded, records: Iterable[Any], resource: Resource, scope: Any, depth: int, reason: str
) -> None:
    for record in records:
        index = len(out.logs) + len(out.rejected)
        try:
            record = _readable(record, LogRecord, reason, depth)
            attributes = attributes_from_proto(record.attributes, depth)
            event_name = getattr(record, "event_name", "") or as_text(attributes.get("event.name"))
            body = from_proto(record.body, 0, depth) if record.HasField("body") else None
            time_ns = record.time_unix_nano or record.observed_time_unix_nano
            check_times(time_ns, time_ns)
            check_log_ids(bytes(record.trace_id), bytes(record.span_id))
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


# --- helpers --------------------------------------------------------------------------------


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


def _readable(item: Any, kind: Any, reason: str, depth: int) -> Any:
    """``item`` (parsed, or its bytes parsed as ``kind``), unless ``reason`` rejects it."""
    refuse(reason)
    return _parse(kind, item, depth) if isinstance(item, bytes) else item


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
