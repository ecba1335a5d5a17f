"""Limits on what one OTLP request may carry, and their enforcement after decoding.

Each limit is a setting (see ``agentreel.settings``). What happens at each:

* request bytes, decompressed bytes or ratio (gzip bombs), spans per request: the request
  is refused whole with 413 / RESOURCE_EXHAUSTED and a message naming the setting;
* AnyValue nesting depth, timestamps too far in the past or future: that span or log
  record alone is rejected (listed in ``partial_success``), the rest are stored;
* attributes per span (or event, log record, resource): the first ones are kept, the rest
  dropped and their number recorded in ``agentreel.dropped_attributes_count``;
* attribute value length: the text is cut with a marker saying how much was cut.

Dropped attributes and truncated values are counted in ``/metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentreel.core.model import Decoded, DecodedLog, DecodedSpan, Rejection

#: Attribute recording how many attributes were dropped over ``max_attributes``.
DROPPED_KEY = "agentreel.dropped_attributes_count"
#: Below this many inflated bytes the decompression ratio is not checked (tiny requests of
#: repeated text compress very well and are harmless).
RATIO_FLOOR_BYTES = 1 << 20
NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits of one server; defaults are the settings' defaults."""

    max_request_bytes: int = 64 * 1024 * 1024
    max_spans_per_request: int = 50_000
    max_attributes: int = 4096
    max_attribute_length: int = 8 * 1024 * 1024
    max_anyvalue_depth: int = 32
    max_decompressed_bytes: int = 64 * 1024 * 1024
    max_decompression_ratio: int = 100
    max_past_seconds: int = 5 * 365 * 24 * 3600
    max_future_seconds: int = 24 * 3600
    max_tokens_per_span: int = 100_000_000  # enforced on normalized spans: .usage

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})

    def inflate_cap(self, compressed: int) -> tuple[int, str]:
        """Most bytes ``compressed`` bytes may inflate to, and the setting that says so."""
        by_ratio = max(self.max_decompression_ratio * compressed, RATIO_FLOOR_BYTES)
        if by_ratio < self.max_decompressed_bytes:
            return (
                by_ratio,
                f"{self.max_decompression_ratio} times its size (max_decompression_ratio)",
            )
        return self.max_decompressed_bytes, (
            f"{self.max_decompressed_bytes} bytes (max_decompressed_bytes)"
        )


@dataclass(slots=True)
class Tally:
    """What enforcing the limits changed in one request."""

    truncated: int = 0  # values cut to max_attribute_length
    dropped: int = 0  # attributes dropped over max_attributes
    out_of_range: int = 0  # spans and records rejected for their timestamps
    notes: list[str] = field(default_factory=list)


def enforce(decoded: Decoded, limits: Limits, received_ns: int) -> Tally:
    """Apply the per-item limits to ``decoded`` in place; times are judged against
    ``received_ns`` (so a request replayed from the spool is judged as it was received)."""
    tally = Tally()
    earliest = received_ns - limits.max_past_seconds * NS
    latest = received_ns + limits.max_future_seconds * NS
    resources: set[int] = set()
    kept_spans: list[DecodedSpan] = []
    for span in decoded.spans:
        reason = _time_reason(span.start_ns, span.end_ns, earliest, latest, limits)
        if reason:
            tally.out_of_range += 1
            decoded.rejected.append(Rejection(-1, f"span {span.span_id.hex()}: {reason}"))
            continue
        span.attributes = _attributes(span.attributes, limits, tally)
        for event in span.events:
            event.attributes = _attributes(event.attributes, limits, tally)
        for link in span.links:
            link["attributes"] = _attributes(link["attributes"], limits, tally)
        if id(span.resource) not in resources:
            resources.add(id(span.resource))
            span.resource.attributes = _attributes(span.resource.attributes, limits, tally)
        kept_spans.append(span)
    kept_logs: list[DecodedLog] = []
    for record in decoded.logs:
        if record.time_ns:  # a record without a time is stamped when stored
            reason = _time_reason(record.time_ns, record.time_ns, earliest, latest, limits)
            if reason:
                tally.out_of_range += 1
                decoded.rejected.append(Rejection(record.seq, f"log record {record.seq}: {reason}"))
                continue
        record.attributes = _attributes(record.attributes, limits, tally)
        record.body = _value(record.body, limits, tally)
        if id(record.resource) not in resources:
            resources.add(id(record.resource))
            record.resource.attributes = _attributes(record.resource.attributes, limits, tally)
        kept_logs.append(record)
    decoded.spans, decoded.logs = kept_spans, kept_logs
    return tally


def _time_reason(start: int, end: int, earliest: int, latest: int, limits: Limits) -> str:
    for what, value in (("start time", start), ("end time", end)):
        if value < earliest:
            return f"{what} is more than {limits.max_past_seconds} s in the past (max_past_seconds)"
        if value > latest:
            return (
                f"{what} is more than {limits.max_future_seconds} s in the future "
                "(max_future_seconds)"
            )
    return ""


def _attributes(attributes: dict[str, Any], limits: Limits, tally: Tally) -> dict[str, Any]:
    if len(attributes) > limits.max_attributes:
        dropped = len(attributes) - limits.max_attributes
        tally.dropped += dropped
        kept = dict(list(attributes.items())[: limits.max_attributes])
        kept[DROPPED_KEY] = dropped
        attributes = kept
    for key, value in attributes.items():
        if isinstance(value, str | bytes | list | dict):
            attributes[key] = _value(value, limits, tally)
    return attributes


def _value(value: Any, limits: Limits, tally: Tally) -> Any:
    """``value`` with over-long text and bytes cut (nesting is already bounded by decoding)."""
    if isinstance(value, str):
        if len(value) > limits.max_attribute_length:
            tally.truncated += 1
            cut = len(value) - limits.max_attribute_length
            return value[: limits.max_attribute_length] + truncation_marker(cut)
        return value
    if isinstance(value, bytes):
        if len(value) > limits.max_attribute_length:
            tally.truncated += 1
            return value[: limits.max_attribute_length]
        return value
    if isinstance(value, list):
        return [_value(v, limits, tally) for v in value]
    if isinstance(value, dict):
        return {k: _value(v, limits, tally) for k, v in value.items()}
    return value


def truncation_marker(cut: int) -> str:
    """The text appended to a value cut to ``max_attribute_length``."""
    return f"…[truncated by agentreel: {cut} more characters]"
