"""Rebuild the context window of every LLM call of a run from the content store.

Messages come from the span's own content (current GenAI, OpenInference, OpenLLMetry) or,
for GenAI ≤1.36 instrumentors, from the message events joined to the span. Two spans of one
call (an instrumentor's span and the provider SDK's span under it) are returned as one call.
What was never captured is said, per call, instead of being invented.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from agentreel.core import content
from agentreel.core.calls import CallSpan, group_calls
from agentreel.core.model import CONTENT_FLAG
from agentreel.storage import queries

from .model import LLMCall, Window

ZERO_REF = bytes(16)


def llm_calls(client: Any, project: str, trace_id: str) -> list[LLMCall] | None:
    """The run's LLM calls in start order, canonical (OTel GenAI) form; None if no such run."""
    spans = queries.trace_spans(client, project, trace_id)
    if not spans:
        return None
    return calls_from(client, project, trace_id, spans)[0]


def calls_from(
    client: Any,
    project: str,
    trace_id: str,
    spans: list[dict[str, Any]],
    extra_refs: set[bytes] | frozenset[bytes] = frozenset(),
) -> tuple[list[LLMCall], Resolved]:
    """The LLM calls of ``spans`` (one trace, already read), and the content they and
    ``extra_refs`` point to, fetched together."""
    by_span = _events_by_span(client, project, trace_id)
    llm = [s for s in spans if s["kind"] == "llm"]
    groups = _group_calls(llm)
    wanted: set[bytes] = set(extra_refs)
    for span in llm:
        wanted.update(_refs(span, by_span.get(span["span_id"])))
    resolved = resolve(client, project, wanted)
    return [_call(group, by_span, resolved) for group in groups], resolved


def some_llm_calls(
    client: Any, project: str, trace_id: str, numbers: Iterable[int]
) -> tuple[int, dict[int, LLMCall]] | None:
    """How many LLM calls the run has, and calls ``numbers`` (1-based; numbers out of range
    are left out) with their windows; None if no such run. Only the content of the calls
    asked for is read: a page that shows one call of a long run reads one window."""
    spans = queries.trace_spans(client, project, trace_id)
    if not spans:
        return None
    groups = _group_calls([s for s in spans if s["kind"] == "llm"])
    chosen = {n: groups[n - 1] for n in sorted(set(numbers)) if 1 <= n <= len(groups)}
    if not chosen:
        return len(groups), {}
    by_span = _events_by_span(client, project, trace_id)
    wanted = {
        r for group in chosen.values() for s in group for r in _refs(s, by_span.get(s["span_id"]))
    }
    resolved = resolve(client, project, wanted)
    return len(groups), {n: _call(group, by_span, resolved) for n, group in chosen.items()}


def _events_by_span(client: Any, project: str, trace_id: str) -> dict[str, dict[str, list[bytes]]]:
    """The message events' content hashes per span and direction (GenAI ≤1.36 log events)."""
    by_span: dict[str, dict[str, list[bytes]]] = {}
    for event in queries.trace_messages(client, project, trace_id):
        slot = by_span.setdefault(event["span_id"], {"input": [], "output": []})
        slot[event["direction"]].append(event["ref"])
    return by_span


class Resolved:
    """Content values by hash, with message leaves put back; unknown hashes are recorded."""

    def __init__(self, values: dict[bytes, Any]) -> None:
        self._values = values
        self.missing: list[str] = []

    def __call__(self, ref: bytes) -> Any:
        if ref in self._values:
            return self._values[ref]
        self.missing.append(ref.hex())
        return {"missing_content": ref.hex()}


def resolve(client: Any, project: str, refs: set[bytes]) -> Resolved:
    """Fetch ``refs`` and the leaves their messages point to, in two queries at most."""
    refs = {r for r in refs if r and r != ZERO_REF}
    items = queries.content_items(client, project, refs)
    bodies = {ref: body for ref, (body, _) in items.items()}
    parsed = {ref: orjson.loads(body) for ref, body in bodies.items()}
    # Only messages were written with leaves; anything else is exactly as it came.
    messages = {ref for ref, (_, kind) in items.items() if kind == "message"}
    leaves = {leaf for ref in messages for leaf in content.leaf_refs(parsed[ref])}
    leaf_bodies = queries.content(client, project, leaves - bodies.keys())
    bodies.update(leaf_bodies)
    missing: list[str] = []
    values = {
        ref: content.expand(value, bodies, missing) if ref in messages else value
        for ref, value in parsed.items()
    }
    result = Resolved(values)
    result.missing.extend(missing)
    return result


def _group_calls(llm: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The LLM spans of each call together (see :mod:`agentreel.core.calls`)."""
    by_id = {s["span_id"]: s for s in llm}
    calls = [
        CallSpan(
            s["span_id"],
            s["parent_span_id"],
            s["response_id"],
            s["scope"],
            s["start_time"],
            s["end_time"],
            s["input_tokens"],
            s["output_tokens"],
        )
        for s in llm
    ]
    return [[by_id[c.span_id] for c in group] for group in group_calls(calls)]


def _refs(span: dict[str, Any], events: dict[str, list[bytes]] | None) -> list[bytes]:
    refs = [span["system_ref"], span["tools_ref"], *span["input_refs"], *span["output_refs"]]
    if events:
        refs += events["input"] + events["output"]
    return [r for r in refs if r and r != ZERO_REF]


def _call(
    group: list[dict[str, Any]],
    events: dict[str, dict[str, list[bytes]]],
    resolved: Resolved,
) -> LLMCall:
    # The span that counts carries the usage; the richest span carries the content.
    counted = next((s for s in group if s["counted"]), group[0])
    parameters = _parameters(group)
    before = len(resolved.missing)
    load = resolved
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
                if slot == "output":
                    slots[slot] = _with_finish_reasons(slots[slot], span["output_finish_reasons"])
                sources[slot] = span["span_id"]
            joined = events.get(span["span_id"], {}).get(slot)
            if slots[slot] is None and joined:
                slots[slot] = [load(r) for r in joined]
                sources[slot] = span["span_id"] + " (log events)"
    return LLMCall(
        span_id=counted["span_id"],
        span_ids=[s["span_id"] for s in group],
        name=group[0]["name"],
        start_time=queries.iso_ns(group[0]["start_time"]),
        duration_ms=max(0, group[0]["end_time"] - group[0]["start_time"]) / 1e6,
        provider=_first(group, "provider"),
        # OpenInference keeps the requested model only among the invocation parameters.
        request_model=_first(group, "request_model") or str(parameters.get("model", "")),
        model=_first(group, "model"),
        convention=group[0]["convention"],
        status="error" if any(s["status"] == "error" for s in group) else counted["status"],
        error=_first(group, "error_message") or _first(group, "error_type"),
        finish_reasons=next((s["finish_reasons"] for s in group if s["finish_reasons"]), []),
        usage=queries.usage(counted),
        cost_usd=counted["cost_usd"],
        parameters=parameters,
        window=Window(
            system_instructions=slots["system"],
            input_messages=slots["input"],
            output_messages=slots["output"],
            tool_definitions=slots["tools"],
        ),
        missing_content=resolved.missing[before:],
    )


def _first(group: list[dict[str, Any]], field: str) -> Any:
    return next((s[field] for s in group if s[field]), "")


def _with_finish_reasons(messages: list[Any], reasons: list[str]) -> list[Any]:
    """Put back the finish_reason each output message carried (stored beside its hash)."""
    out = []
    for message, reason in zip(messages, [*reasons, *[""] * len(messages)], strict=False):
        if reason and isinstance(message, dict) and "missing_content" not in message:
            message = {**message, "finish_reason": reason}
        out.append(message)
    return out


#: Keys of OpenInference's llm.invocation_parameters that are content, not parameters.
_CONTENT_KEYS = {"messages", "tools", "system", "input", "functions"}


def _parameters(group: list[dict[str, Any]]) -> dict[str, Any]:
    """Request parameters the spans recorded (OTel ``gen_ai.request.*`` names, or the keys of
    OpenInference's ``llm.invocation_parameters``), values parsed from their stored text."""
    found: dict[str, Any] = {}
    for span in group:
        attributes = span["attributes"]
        raw = attributes.get("llm.invocation_parameters")
        if raw:
            try:
                invocation = orjson.loads(raw)
            except orjson.JSONDecodeError:
                invocation = None
            if isinstance(invocation, dict) and not _is_response(invocation):
                # LangChain's instrumentor records the model's settings, unset ones as null
                # (``stop``), which langchain-openai does not send; elsewhere a null was sent.
                unset = None if span["scope"] == _LANGCHAIN_SCOPE else _NOTHING
                for key, value in invocation.items():
                    if key not in _CONTENT_KEYS and value is not unset:
                        found.setdefault(key, value)
        for key, text in attributes.items():
            if key.startswith("gen_ai.request.") and key != "gen_ai.request.model":
                found.setdefault(key[len("gen_ai.request.") :], _value(text))
    return found


_LANGCHAIN_SCOPE = "openinference.instrumentation.langchain"
_NOTHING = object()


def _is_response(invocation: dict[str, Any]) -> bool:
    """OpenInference's Agents SDK instrumentor records the Responses API *response* (less its
    output) as the invocation parameters: its model, temperature and tool choice are what
    the provider answered with, not what was asked, so none of it is taken as the request."""
    return invocation.get("object") == "response" or (
        str(invocation.get("id", "")).startswith("resp_") and "created_at" in invocation
    )


def _value(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
