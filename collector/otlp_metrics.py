"""OTLP metrics: the GenAI client metrics kept, every other metric accepted and dropped.

``gen_ai.client.token.usage`` (histogram of tokens, ``gen_ai.token.type`` input/output) and
``gen_ai.client.operation.duration`` (histogram, seconds) are what an instrumented client
itself counted: agentreel keeps each histogram data point as it came (count, sum, bucket
bounds and counts, start and end time, temporality), so figures are derived at query time
(:mod:`agentreel.storage.genai_metrics`). Any other metric (runtime, HTTP, process ...) is
not agentreel's business, but an exporter pointed at agentreel sends it anyway: it is
accepted and counted as dropped, never refused (a refusal would fill the agent's log).
A data point that is not a histogram point, or carries a count or sum that cannot be, is
rejected on its own (``partial_success.rejected_data_points``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from google.protobuf.json_format import ParseDict, ParseError
from google.protobuf.message import DecodeError as _ProtoDecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from agentreel.core.model import MetricPoint

from .checks import DecodeError, check_count
from .limits import Limits

#: The metrics kept, by their OTel GenAI names, as stored (``metric`` column).
KEPT = {
    "gen_ai.client.token.usage": "token.usage",
    "gen_ai.client.operation.duration": "operation.duration",
}
_TEMPORALITY = {1: "delta", 2: "cumulative"}


@dataclass(slots=True)
class DecodedMetrics:
    """One request's kept points, and what was left out of it and why."""

    points: list[MetricPoint] = field(default_factory=list)
    #: Data points accepted and not kept, by reason (``not_genai``).
    dropped: dict[str, int] = field(default_factory=dict)
    #: Data points refused on their own, and why (for ``partial_success``).
    rejected: list[str] = field(default_factory=list)


def decode_metrics_proto(body: bytes, limits: Limits, received_ns: int = 0) -> DecodedMetrics:
    request = ExportMetricsServiceRequest()
    try:
        request.ParseFromString(body)
    except _ProtoDecodeError as exc:
        raise DecodeError(f"not an ExportMetricsServiceRequest: {exc}") from None
    return points_of(request, limits, received_ns)


def decode_metrics_json(body: bytes, limits: Limits, received_ns: int = 0) -> DecodedMetrics:
    """OTLP/JSON: protobuf's JSON mapping (camelCase, 64-bit integers as strings, enums as
    numbers); the only ids in metrics are exemplars', which are not kept."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DecodeError("an ExportMetricsServiceRequest is a JSON object")
    _drop_exemplars(data)
    try:
        request = ParseDict(data, ExportMetricsServiceRequest(), ignore_unknown_fields=True)
    except (ParseError, TypeError, ValueError, AttributeError) as exc:
        raise DecodeError(f"not an ExportMetricsServiceRequest: {exc}") from None
    return points_of(request, limits, received_ns)


def _drop_exemplars(data: dict[str, Any]) -> None:
    """Remove exemplars (hex ids where protobuf's JSON wants base64); the shape is checked by
    the parse that follows, so anything unexpected here is passed over."""
    for rm in _list(data.get("resourceMetrics")):
        for sm in _list(rm.get("scopeMetrics") if isinstance(rm, dict) else None):
            for metric in _list(sm.get("metrics") if isinstance(sm, dict) else None):
                if not isinstance(metric, dict):
                    continue
                for kind in ("sum", "gauge", "histogram", "exponentialHistogram", "summary"):
                    inner = metric.get(kind)
                    points = inner.get("dataPoints") if isinstance(inner, dict) else None
                    for point in _list(points):
                        if isinstance(point, dict):
                            point.pop("exemplars", None)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def points_of(request: Any, limits: Limits, received_ns: int = 0) -> DecodedMetrics:
    """The kept points of a parsed request; times are checked against ``received_ns`` (when
    the request came in, also on a spool replay) as span times are."""
    out = DecodedMetrics()
    received_ns = received_ns or time.time_ns()
    earliest = received_ns - limits.max_past_seconds * 1_000_000_000
    latest = received_ns + limits.max_future_seconds * 1_000_000_000
    check_count(
        sum(
            _point_count(metric)
            for rm in request.resource_metrics
            for sm in rm.scope_metrics
            for metric in sm.metrics
        ),
        limits,
    )
    for rm in request.resource_metrics:
        service = ""
        for kv in rm.resource.attributes:
            if kv.key == "service.name":
                service = kv.value.string_value
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                name = KEPT.get(metric.name)
                if name is None:
                    _drop(out, "not_genai", _point_count(metric))
                    continue
                if metric.WhichOneof("data") != "histogram":
                    out.rejected.extend(
                        f"{metric.name}: a {metric.WhichOneof('data') or 'empty'} point, "
                        "the conventions make it a histogram"
                        for _ in range(max(_point_count(metric), 1))
                    )
                    continue
                temporality = _TEMPORALITY.get(metric.histogram.aggregation_temporality)
                for point in metric.histogram.data_points:
                    reason = _bad(point, temporality)
                    if not reason and not earliest <= point.time_unix_nano <= latest:
                        reason = (
                            f"time {point.time_unix_nano} is outside max_past_seconds/"
                            "max_future_seconds of the time it was received"
                        )
                    if reason:
                        out.rejected.append(f"{metric.name}: {reason}")
                        continue
                    kept = _point(name, service, str(temporality), point)
                    _cut(kept, limits.max_attribute_length)
                    out.points.append(kept)
    return out


def _cut(point: MetricPoint, limit: int) -> None:
    """Attribute values cut to ``max_attribute_length``, as span attributes are."""
    for name in ("service", "operation", "provider", "request_model", "response_model",
                 "token_type", "error_type"):  # fmt: skip
        value = getattr(point, name)
        if len(value) > limit:
            setattr(point, name, value[:limit])


def _point_count(metric: Any) -> int:
    kind = metric.WhichOneof("data")
    return len(getattr(metric, kind).data_points) if kind else 0


def _drop(out: DecodedMetrics, reason: str, count: int) -> None:
    out.dropped[reason] = out.dropped.get(reason, 0) + count


def _bad(point: Any, temporality: str | None) -> str:
    if temporality is None:
        return "aggregation temporality unspecified"
    if not point.time_unix_nano:
        return "a point without time_unix_nano"
    if point.HasField("sum") and not math.isfinite(point.sum):
        return f"sum {point.sum} is not a number"
    if point.explicit_bounds and len(point.bucket_counts) != len(point.explicit_bounds) + 1:
        return (
            f"{len(point.bucket_counts)} bucket counts for {len(point.explicit_bounds)} bounds "
            "(there must be one more count than bounds)"
        )
    if any(not math.isfinite(b) for b in point.explicit_bounds):
        return "a bucket bound is not a number"
    if point.bucket_counts and sum(point.bucket_counts) != point.count:
        return f"bucket counts sum to {sum(point.bucket_counts)}, the count is {point.count}"
    return ""


def _point(name: str, service: str, temporality: str, point: Any) -> MetricPoint:
    attrs = {kv.key: kv.value.string_value for kv in point.attributes}
    return MetricPoint(
        metric=name,
        service=service,
        temporality=temporality,
        start_ns=int(point.start_time_unix_nano),
        time_ns=int(point.time_unix_nano),
        operation=attrs.get("gen_ai.operation.name", ""),
        provider=attrs.get("gen_ai.provider.name") or attrs.get("gen_ai.system", ""),
        request_model=attrs.get("gen_ai.request.model", ""),
        response_model=attrs.get("gen_ai.response.model", ""),
        token_type=attrs.get("gen_ai.token.type", ""),
        error_type=attrs.get("error.type", ""),
        count=int(point.count),
        sum=float(point.sum) if point.HasField("sum") else 0.0,
        bounds=list(point.explicit_bounds),
        bucket_counts=[int(c) for c in point.bucket_counts],
    )
