"""The fields every timeline step has, shared by the step builders."""

from __future__ import annotations

from typing import Any

from agentreel.storage import queries

from .model import Step

ZERO = bytes(16)


def common(span: dict[str, Any], origin: int, kind: str, name: str) -> Step:
    """A step's shared fields from its span; ``origin`` is the run's start (ns)."""
    return Step(
        kind=kind,
        name=name,
        span_id=span["span_id"],
        span_ids=[span["span_id"]],
        parent_span_id=span["parent_span_id"],
        start_time=queries.iso_ns(span["start_time"]),
        offset_ms=(span["start_time"] - origin) / 1e6,
        duration_ms=max(0, span["end_time"] - span["start_time"]) / 1e6,
        usage=queries.usage(span),
        cost_usd=span["cost_usd"],
        status=span["status"],
        error=span["error_message"] or span["error_type"],
    )


def parts(messages: Any) -> list[dict[str, Any]]:
    """Every part of every message, in order."""
    if not isinstance(messages, list):
        return []
    return [
        p
        for m in messages
        if isinstance(m, dict) and isinstance(m.get("parts"), list)
        for p in m["parts"]
        if isinstance(p, dict)
    ]
