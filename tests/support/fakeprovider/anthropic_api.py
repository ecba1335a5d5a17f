"""Anthropic Messages responses (``POST /v1/messages``), plain and streamed."""

from __future__ import annotations

import re
from typing import Any

from .script import ANTHROPIC_CALL_PREFIX, Reply, arguments_json
from .usage import anthropic_usage
from .wire import Response, json_response, split_text, sse_event, sse_response

#: Snapshot date the fake appends to a request model, as Anthropic's dated names have.
SNAPSHOTS = {"claude-haiku-4-5": "20251001", "claude-opus-4-5": "20251101"}
DEFAULT_SNAPSHOT = "20250929"

_DATED = re.compile(r"-\d{8}$")

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def response_model(requested: str) -> str:
    """``claude-haiku-4-5`` answers as ``claude-haiku-4-5-20251001``; dated names are kept."""
    if _DATED.search(requested):
        return requested
    return f"{requested}-{SNAPSHOTS.get(requested, DEFAULT_SNAPSHOT)}"


def error_body(status: int, message: str) -> dict[str, Any]:
    """The ``{"type": "error", ...}`` body Anthropic sends with an error status."""
    kind = _ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def _blocks(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    for call in reply.calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.call_id(ANTHROPIC_CALL_PREFIX),
                "name": call.name,
                "input": dict(call.arguments),
            }
        )
    return blocks


def _message(reply: Reply, model: str, seq: int, usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"msg_{seq:04d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _blocks(reply),
        "stop_reason": "tool_use" if reply.calls else "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }


def _block_events(index: int, block: dict[str, Any]) -> list[bytes]:
    start: dict[str, Any]
    if block["type"] == "text":
        start = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in split_text(block["text"])]
    else:
        start = {**block, "input": {}}
        pieces = split_text(arguments_json(block["input"]))
        deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
    events = [
        sse_event(
            {"type": "content_block_start", "index": index, "content_block": start},
            "content_block_start",
        )
    ]
    events += [
        sse_event(
            {"type": "content_block_delta", "index": index, "delta": d}, "content_block_delta"
        )
        for d in deltas
    ]
    events.append(sse_event({"type": "content_block_stop", "index": index}, "content_block_stop"))
    return events


def _stream(message: dict[str, Any]) -> list[bytes]:
    usage = message["usage"]
    opening = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {**usage, "output_tokens": 1},
    }
    events = [
        sse_event({"type": "message_start", "message": opening}, "message_start"),
        sse_event({"type": "ping"}, "ping"),
    ]
    for index, block in enumerate(message["content"]):
        events += _block_events(index, block)
    final_usage = {
        key: usage[key]
        for key in (
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "output_tokens",
        )
    }
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    events.append(
        sse_event({"type": "message_delta", "delta": delta, "usage": final_usage}, "message_delta")
    )
    events.append(sse_event({"type": "message_stop"}, "message_stop"))
    return events


def respond(
    reply: Reply, body: dict[str, Any], raw: bytes, seq: int
) -> tuple[Response, dict[str, Any]]:
    """The response to a scripted call, and the usage object it reports."""
    usage = anthropic_usage(raw, reply.output_text).anthropic()
    message = _message(reply, response_model(str(body.get("model", ""))), seq, usage)
    headers = {"request-id": f"req_{seq:04d}"}
    if body.get("stream"):
        return sse_response(_stream(message), headers), usage
    return json_response(200, message, headers), usage
