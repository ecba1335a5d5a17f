"""What the protobuf and the OTLP/JSON decoders share: their errors, and the checks that
make one span or log record acceptable on its own (a failed check raises ``BadValue``: that
item alone is rejected)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentreel.core.model import Resource

from .anyvalue import BadValue
from .limits import Limits


class DecodeError(ValueError):
    """The request as a whole cannot be read: a permanent error (400)."""


class TooLarge(ValueError):
    """The request, or what it inflates to, is over the size limit (413)."""


DEFAULT_LIMITS = Limits()
ZERO_TRACE = bytes(16)
ZERO_SPAN = bytes(8)
#: Latest nanosecond timestamp the store takes (DateTime64(9) ends in 2262).
MAX_TIME_NS = 2**63 - 1


def check_times(start_ns: int, end_ns: int) -> None:
    for what, value in (("start time", start_ns), ("end time", end_ns)):
        if not 0 <= value <= MAX_TIME_NS:
            raise BadValue(f"{what} {value} is not a nanosecond time between 1970 and 2262")


def check_log_ids(trace_id: bytes, span_id: bytes) -> None:
    """A log record's ids are optional, but when present they must be ids (16 and 8 bytes)."""
    if trace_id and len(trace_id) != 16:
        raise BadValue("trace id must be 16 bytes")
    if span_id and len(span_id) != 8:
        raise BadValue("span id must be 8 bytes")


def check_ids(trace_id: bytes, span_id: bytes, parent: bytes) -> None:
    if len(trace_id) != 16 or trace_id == ZERO_TRACE:
        raise BadValue("trace id must be 16 bytes and not all zero")
    if len(span_id) != 8 or span_id == ZERO_SPAN:
        raise BadValue("span id must be 8 bytes and not all zero")
    if parent and len(parent) != 8:
        raise BadValue("parent span id must be empty or 8 bytes")


def resource_or_reason(read: Callable[..., dict[str, Any]], *args: Any) -> tuple[Resource, str]:
    """The resource ``read(*args)`` gives, or an empty one and why its items are rejected."""
    try:
        return Resource(read(*args)), ""
    except BadValue as exc:
        return Resource({}), f"its resource attributes: {exc}"


def refuse(reason: str) -> None:
    """Reject the item at hand for ``reason``, if there is one."""
    if reason:
        raise BadValue(reason)


def check_count(count: int, limits: Limits) -> None:
    if count > limits.max_spans_per_request:
        raise TooLarge(
            f"the request holds {count} items; at most {limits.max_spans_per_request} "
            "(max_spans_per_request): send smaller batches"
        )


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadValue(f"expected a string, got {type(value).__name__}")
    return value
