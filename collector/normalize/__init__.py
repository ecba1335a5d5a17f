"""Normalize decoded OTLP into agentreel's one span model, whatever the convention.

Pure functions: ``normalize_spans`` and ``normalize_logs`` take what :mod:`..decode` produced
and return a :class:`~agentreel.core.model.Batch` for the writer. The convention is
detected per span (the AI SDK's ``ai.*``, OpenInference, OpenLLMetry, OTel GenAI, or
generic).
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import orjson

from agentreel.core import content as content_store
from agentreel.core import scores
from agentreel.core.content import ContentCache, MessageGroup
from agentreel.core.model import (
    CONTENT_FLAG,
    KINDS,
    Batch,
    ContentItem,
    Decoded,
    DecodedLog,
    DecodedSpan,
    MessageEvent,
    Rejection,
    Span,
)

from ..usage import aggregate_usage
from . import aisdk, events, genai, openinference, openllmetry
from .common import MAX_COUNT, Attrs, RawJson, pop_str

__all__ = ["ATTRIBUTE_INLINE_LIMIT", "normalize_logs", "normalize_spans"]

log = logging.getLogger("agentreel.collector")

#: Attribute values longer than this go to the content store (stored once, by hash).
ATTRIBUTE_INLINE_LIMIT = 1024

_OTEL_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
_STATUS = ("unset", "ok", "error")


def normalize_spans(decoded: Decoded, project: str, cache: ContentCache | None = None) -> Batch:
    """Normalize every span; ``cache`` (kept across requests) spares repeated content work."""
    cache = cache if cache is not None else ContentCache()
    batch = Batch(rejected=list(decoded.rejected))
    for index, span in enumerate(decoded.spans):
        try:
            batch.spans.append(normalize_span(span, project, cache))
        except Exception as exc:  # one span's surprise must not cost the rest of the request
            log.exception("span %s could not be normalized", span.span_id.hex())
            reason = (
                f"span {span.span_id.hex()}: cannot be normalized ({type(exc).__name__}: {exc})"
            )
            batch.rejected.append(Rejection(index, reason))
    return batch


def normalize_span(raw: DecodedSpan, project: str, cache: ContentCache) -> Span:
    attrs: Attrs = dict(raw.attributes)
    span = Span(
        project=project,
        trace_id=raw.trace_id.hex(),
        span_id=raw.span_id.hex(),
        parent_span_id=raw.parent_span_id.hex(),
        name=raw.name,
        kind="span",
        otel_kind=_OTEL_KINDS[raw.otel_kind] if 0 <= raw.otel_kind < 6 else str(raw.otel_kind),
        start_ns=raw.start_ns,
        end_ns=raw.end_ns,
        status=_STATUS[raw.status_code] if 0 <= raw.status_code < 3 else "unset",
        error_message=raw.status_message if raw.status_code == 2 else "",
        service=raw.resource.service,
        scope=raw.scope_name,
    )
    if raw.end_ns < raw.start_ns:
        span.warnings.append("end time is before start time; duration reported as 0")
    content: dict[str, Any] = {}
    # Scope attributes shared by all conventions; each convention may refine them.
    span.session = pop_str(attrs, "session.id", "gen_ai.conversation.id")
    span.user = pop_str(attrs, "user.id", "enduser.id")
    span.agent = pop_str(attrs, "gen_ai.agent.name", "agent.name")
    span.response_id = pop_str(attrs, "gen_ai.response.id")
    if aisdk.detect(attrs):
        aisdk.normalize(span, attrs, content)
    elif openinference.detect(attrs):
        openinference.normalize(span, attrs, content)
    elif openllmetry.detect(attrs):
        openllmetry.normalize(span, attrs, content)
    elif genai.detect(attrs):
        genai.normalize(span, attrs, content)
        aisdk.unquote_tool_result(span, content)
    if not span.total_tokens:
        span.total_tokens = min(span.input_tokens + span.output_tokens, MAX_COUNT)
    _agentreel_keys(span, attrs)
    _errors(span, raw, attrs)
    _store_content(span, content, attrs, cache)
    span.attributes = _flatten(span, attrs)
    aggregate_usage(span)
    resource = raw.resource
    if resource.as_text is None:
        resource.as_text = {k: _as_text(v) for k, v in resource.attributes.items()}
    span.resource = resource.as_text
    if raw.events:
        span.events = orjson.dumps(
            [
                {"name": e.name, "time_ns": e.time_ns, "attributes": _jsonable(e.attributes)}
                for e in raw.events
            ]
        ).decode()
        span.scores, warnings = scores.of_span(span)
        span.warnings.extend(warnings)
    if raw.links:
        span.attributes["agentreel.links"] = orjson.dumps(_jsonable(raw.links)).decode()
    return span


def _agentreel_keys(span: Span, attrs: Attrs) -> None:
    """agentreel's own keys: an explicit kind (one of ``KINDS``), and the decision and
    escalation conventions. Those only name a span no convention recognized: an LLM call
    annotated with the routing choice it made stays an LLM call."""
    explicit = attrs.get("agentreel.span.kind")
    if isinstance(explicit, str) and explicit:
        if explicit in KINDS:
            span.kind = explicit
        else:
            span.warnings.append(f"agentreel.span.kind {explicit!r} is not one of {KINDS}")
    elif span.kind == "span":
        if any(k.startswith("agentreel.decision.") for k in attrs):
            span.kind = "decision"
        elif any(k.startswith("agentreel.escalation.") for k in attrs):
            span.kind = "escalation"


def _errors(span: Span, raw: DecodedSpan, attrs: Attrs) -> None:
    span.error_type = pop_str(attrs, "error.type")
    for event in raw.events:
        if event.name == "exception":
            span.error_type = span.error_type or _as_text(event.attributes.get("exception.type"))
            if span.status == "error" and not span.error_message:
                span.error_message = _as_text(event.attributes.get("exception.message"))
            break
    if span.error_type and span.status == "unset":
        # error.type is only set on failure, per the OTel conventions.
        span.status = "error"


def _store_content(span: Span, content: dict[str, Any], attrs: Attrs, cache: ContentCache) -> None:
    for slot, value in content.items():
        try:
            if slot in ("input", "output"):
                group = _messages(span, slot, value, cache)
                if slot == "input":
                    span.input_refs = group.refs
                    span.input_group = group
                else:
                    span.output_refs = group.refs
                    span.output_finish_reasons = group.finish_reasons
                    span.contents.extend(group.pending())
            else:
                item = _single(slot, value, cache)
                span.contents.append(item)
                setattr(span, f"{slot}_ref", item.hash)
        except (orjson.JSONDecodeError, TypeError, RecursionError) as exc:
            # Text that does not parse, or nests deeper than JSON encoding goes: kept as it came.
            key = value.key if isinstance(value, RawJson) else _CONTENT_KEYS.get(slot, slot)
            if isinstance(value, RawJson):
                attrs[key] = value.text
            else:
                attrs[key] = value
            why = (
                "is not valid JSON" if isinstance(exc, orjson.JSONDecodeError) else "nests too deep"
            )
            span.warnings.append(f"{key} {why} ({exc}); kept as a plain attribute")
            continue
        span.content_flags |= CONTENT_FLAG[slot]


#: Where each content slot came from, for content kept as a plain attribute instead.
_CONTENT_KEYS = {
    "system": "gen_ai.system_instructions",
    "input": "gen_ai.input.messages",
    "output": "gen_ai.output.messages",
    "tools": "gen_ai.tool.definitions",
    "tool_arguments": "gen_ai.tool.call.arguments",
    "tool_result": "gen_ai.tool.call.result",
}


def _messages(span: Span, slot: str, value: Any, cache: ContentCache) -> MessageGroup:
    if isinstance(value, RawJson):
        if slot == "input":
            found = cache.messages((span.project, span.trace_id), value.text)
            if found is not None:
                return found
        value = orjson.loads(value.text)
    if not isinstance(value, list):
        value = [value]
    if slot == "input":
        return MessageGroup([content_store.message_items(m) for m in value])
    # An output message differs from the same message as the next call's input only by its
    # finish_reason: kept beside the hash, so both are one stored item.
    reasons = []
    messages = []
    for message in value:
        reason = message.get("finish_reason") if isinstance(message, dict) else None
        if isinstance(reason, str) and reason:
            message = {k: v for k, v in message.items() if k != "finish_reason"}
            reasons.append(reason)
        else:
            reasons.append("")
        messages.append(content_store.message_items(message))
    group = MessageGroup(messages)
    group.finish_reasons = reasons
    return group


def _single(slot: str, value: Any, cache: ContentCache) -> ContentItem:
    if isinstance(value, RawJson):
        return cache.value(slot, value.text)
    if slot in ("tool_arguments", "tool_result") and isinstance(value, str):
        # The exact text; a tool message quoting the same result shares this item.
        return content_store.text_item(value)
    return content_store.item(slot, value)


def _flatten(span: Span, attrs: Attrs) -> dict[str, str]:
    """What no convention consumed, as strings; long values by reference to the content store."""
    out: dict[str, str] = {}
    for key, value in attrs.items():
        text = _as_text(value)
        if len(text) > ATTRIBUTE_INLINE_LIMIT:
            item = content_store.text_item(text)
            span.contents.append(item)
            span.attribute_refs[key] = item.hash
        else:
            out[key] = text
    return out


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return orjson.dumps(_jsonable(value)).decode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def normalize_logs(decoded: Decoded, project: str) -> Batch:
    """GenAI message events (≤1.36 conventions) become messages joined to their span."""
    batch = Batch(rejected=list(decoded.rejected))
    for record in decoded.logs:
        try:
            message = events.to_message(record)
            items = content_store.message_items(message[1]) if message else []
        except Exception as exc:  # one record's surprise must not cost the rest
            log.exception("log record %d could not be normalized", record.seq)
            reason = f"log record {record.seq}: cannot be normalized ({type(exc).__name__}: {exc})"
            batch.rejected.append(Rejection(record.seq, reason))
            continue
        if message is None:
            batch.rejected.append(
                Rejection(record.seq, f"log record {record.seq}: {_why_not(record)}")
            )
            continue
        direction = message[0]
        batch.messages.append(
            MessageEvent(
                project=project,
                trace_id=record.trace_id.hex(),
                span_id=record.span_id.hex(),
                time_ns=record.time_ns,
                seq=record.seq,
                event_name=record.event_name,
                direction=direction,
                ref=items[0].hash,
                contents=items,
            )
        )
    return batch


def _why_not(record: DecodedLog) -> str:
    if not events.is_message_event(record.event_name):
        name = record.event_name or "(no event name)"
        return f"{name} is not a GenAI message event; agentreel stores traces, not general logs"
    return "a GenAI message event needs the trace and span id of its span"
