"""Rebuild the context window of every LLM call of a run from the content store.

Messages come from the span's own content (current GenAI, OpenInference, OpenLLMetry) or,
for GenAI ≤1.36 instrumentors, from the message events joined to the span. Two spans of one
call (an instrumentor's span and the provider SDK's span under it) are returned as one call.
What was never captured is said, per call, instead of being invented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from agentreel.collector.model import CONTENT_FLAG
from agentreel.storage import queries

ZERO_REF = bytes(16)


def llm_calls(client: Any, project: str, trace_id: str) -> list[dict[str, Any]] | None:
    """The run's LLM calls in start order, canonical (OTel GenAI) form; None if no such run."""
    spans = queries.trace_spans(client, project, trace_id)
    if not spans:
        return None
    events = queries.trace_messages(client, project, trace_id)
    by_span: dict[str, dict[str, list[bytes]]] = {}
    for event in events:
        slot = by_span.setdefault(event["span_id"], {"input": [], "output": []})
        slot[event["direction"]].append(event["ref"])
    llm = [s for s in spans if s["kind"] == "llm"]
    groups = _group_calls(llm)
    wanted: set[bytes] = set()
    for span in llm:
        wanted.update(_refs(span, by_span.get(span["span_id"])))
    bodies = queries.content(client, project, wanted)
    return [_call(group, by_span, bodies) for group in groups]


def _group_calls(llm: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """LLM spans nested directly in another LLM span join their outermost LLM ancestor."""
    by_id = {s["span_id"]: s for s in llm}
    groups: dict[str, list[dict[str, Any]]] = {}
    order: list[str] = []
    for span in llm:
        top = span
        while top["parent_span_id"] in by_id:
            top = by_id[top["parent_span_id"]]
        if top["span_id"] not in groups:
            groups[top["span_id"]] = []
            order.append(top["span_id"])
        groups[top["span_id"]].append(span)
    ordered = [groups[i] for i in order]
    ordered.sort(key=lambda g: min(s["start_time"] for s in g))
    return ordered


def _refs(span: dict[str, Any], events: dict[str, list[bytes]] | None) -> list[bytes]:
    refs = [span["system_ref"], span["tools_ref"], *span["input_refs"], *span["output_refs"]]
    if events:
        refs += events["input"] + events["output"]
    return [r for r in refs if r and r != ZERO_REF]


def _call(
    group: list[dict[str, Any]],
    events: dict[str, dict[str, list[bytes]]],
    bodies: dict[bytes, bytes],
) -> dict[str, Any]:
    # The span that counts carries the usage; the richest span carries the content.
    counted = next((s for s in group if s["counted"]), group[0])
    missing: list[str] = []
    load = _loader(bodies, missing)
    slots: dict[str, Any] = {"system": None, "input": None, "output": None, "tools": None}
    sources: dict[str, str] = {}
    for span in group:
        flags = span["content_flags"]
        for slot, column in (("system", "system_ref"), ("tools", "tools_ref")):
            if slots[slot] is None and flags & CONTENT_FLAG[slot]:
                slots[slot] = load(span[column])
                sources[slot] = span["span_id"]
        for slot in ("input", "output"):
            if slots[slot] is None and flags & CONTENT_FLAG[slot]:
                slots[slot] = [load(r) for r in span[f"{slot}_refs"]]
                sources[slot] = span["span_id"]
            joined = events.get(span["span_id"], {}).get(slot)
            if slots[slot] is None and joined:
                slots[slot] = [load(r) for r in joined]
                sources[slot] = span["span_id"] + " (log events)"
    return {
        "span_id": counted["span_id"],
        "span_ids": [s["span_id"] for s in group],
        "name": group[0]["name"],
        "start_time": queries.iso_ns(group[0]["start_time"]),
        "duration_ms": max(0, group[0]["end_time"] - group[0]["start_time"]) / 1e6,
        "provider": _first(group, "provider"),
        "request_model": _first(group, "request_model"),
        "model": _first(group, "model"),
        "convention": group[0]["convention"],
        "status": "error" if any(s["status"] == "error" for s in group) else counted["status"],
        "error": _first(group, "error_message") or _first(group, "error_type"),
        "finish_reasons": next((s["finish_reasons"] for s in group if s["finish_reasons"]), []),
        "usage": {
            k: counted[k]
            for k in (
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cache_write_tokens",
                "reasoning_tokens",
                "total_tokens",
            )
        },
        "cost_usd": counted["cost_usd"],
        "system_instructions": slots["system"],
        "input_messages": slots["input"],
        "output_messages": slots["output"],
        "tool_definitions": slots["tools"],
        "captured": {slot: value is not None for slot, value in slots.items()},
        "missing_content": missing,
    }


def _first(group: list[dict[str, Any]], field: str) -> Any:
    return next((s[field] for s in group if s[field]), "")


def _loader(bodies: dict[bytes, bytes], missing: list[str]) -> Callable[[bytes], Any]:
    def load(ref: bytes) -> Any:
        body = bodies.get(ref)
        if body is None:
            missing.append(ref.hex())
            return {"missing_content": ref.hex()}
        return orjson.loads(body)

    return load
