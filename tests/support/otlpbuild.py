"""Build OTLP requests by hand for tests, in protobuf and in OTLP/JSON."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status


def new_trace_id() -> bytes:
    return os.urandom(16)


def new_span_id() -> bytes:
    return os.urandom(8)


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, Mapping):
        out = AnyValue()
        out.kvlist_value.values.extend(kv(k, v) for k, v in value.items())
        return out
    if isinstance(value, Sequence):
        out = AnyValue()
        out.array_value.values.extend(any_value(v) for v in value)
        return out
    raise TypeError(type(value))


def kv(key: str, value: Any) -> KeyValue:
    return KeyValue(key=key, value=any_value(value))


def span(
    trace_id: bytes,
    span_id: bytes,
    name: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    parent: bytes = b"",
    start_ns: int | None = None,
    duration_ns: int = 1_000_000,
    status: int = 0,
    message: str = "",
    events: Sequence[tuple[str, Mapping[str, Any]]] = (),
) -> Span:
    start = start_ns if start_ns is not None else time.time_ns()
    out = Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind=Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=start,
        end_time_unix_nano=start + duration_ns,
        status=Status(code=status, message=message),
    )
    out.attributes.extend(kv(k, v) for k, v in (attributes or {}).items())
    for event_name, event_attrs in events:
        event = out.events.add(name=event_name, time_unix_nano=start)
        event.attributes.extend(kv(k, v) for k, v in event_attrs.items())
    return out


def traces(spans: Sequence[Span], service: str = "test-service", scope: str = "tests") -> Any:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.append(kv("service.name", service))
    ss = rs.scope_spans.add()
    ss.scope.name = scope
    ss.spans.extend(spans)
    return request


def log_record(
    trace_id: bytes, span_id: bytes, event_name: str, body: Any, time_ns: int | None = None
) -> LogRecord:
    record = LogRecord(
        trace_id=trace_id,
        span_id=span_id,
        time_unix_nano=time_ns or time.time_ns(),
        event_name=event_name,
    )
    record.body.CopyFrom(any_value(body))
    return record


def logs(records: Sequence[LogRecord], service: str = "test-service") -> Any:
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.append(kv("service.name", service))
    sl = rl.scope_logs.add()
    sl.scope.name = "tests"
    sl.log_records.extend(records)
    return request


def to_json(request: Any) -> bytes:
    """OTLP/JSON: camelCase fields, ids in hex (not protobuf JSON's base64)."""
    data = MessageToDict(request)

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                    out[key] = base64.b64decode(value).hex()
                else:
                    out[key] = fix(value)
            return out
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return orjson.dumps(fix(data))


def nested(levels: int, leaf: Any = "leaf") -> Any:
    """A value of ``levels`` key-value lists, one inside the other (the deepest for upb)."""
    value = leaf
    for _ in range(levels):
        value = {"k": value}
    return value


def traces_of_raw_spans(spans: Sequence[bytes], service: str = "test-service") -> bytes:
    """An ``ExportTraceServiceRequest`` holding spans given as bytes, put together at the wire
    level: for spans upb would refuse inside a request (too deep, not UTF-8)."""
    head = traces([], service)
    scope = head.resource_spans[0].scope_spans[0].scope.SerializeToString()
    scope_spans = _field(1, scope) + b"".join(_field(2, raw) for raw in spans)
    resource = head.resource_spans[0].resource.SerializeToString()
    return _field(1, _field(1, resource) + _field(2, scope_spans))


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    key, size, out = (number << 3) | 2, len(payload), bytearray()
    for value in (key, size):
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out) + payload
