"""OpenAI Chat Completions responses (``POST /v1/chat/completions``), plain and streamed, and
the model list (``GET /v1/models``)."""

from __future__ import annotations

import re
from typing import Any

from .script import OPENAI_CALL_PREFIX, Reply, arguments_json
from .usage import openai_usage
from .wire import Response, json_response, split_text, sse_event, sse_response

#: Snapshot date the fake appends to a request model, as OpenAI's dated names have.
SNAPSHOTS = {"gpt-4o": "2024-08-06", "gpt-4.1": "2025-04-14", "gpt-4.1-mini": "2025-04-14"}
DEFAULT_SNAPSHOT = "2024-07-18"
#: Fixed ``created`` timestamp, so payloads are reproducible.
CREATED = 1_767_225_600
SYSTEM_FINGERPRINT = "fp_fake0001"

_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_exceeded",
}


def response_model(requested: str) -> str:
    """``gpt-4o-mini`` answers as ``gpt-4o-mini-2024-07-18``; dated names are kept."""
    if _DATED.search(requested):
        return requested
    return f"{requested}-{SNAPSHOTS.get(requested, DEFAULT_SNAPSHOT)}"


def models() -> dict[str, Any]:
    """The ``GET /v1/models`` list: the models the fake knows by their undated names."""
    data = [
        {"id": name, "object": "model", "created": CREATED, "owned_by": "system"}
        for name in ("gpt-4o-mini", *SNAPSHOTS)
    ]
    return {"object": "list", "data": data}


def error_body(status: int, message: str) -> dict[str, Any]:
    """The ``{"error": {...}}`` body OpenAI sends with an error status."""
    kind = _ERROR_TYPES.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _tool_calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": call.call_id(OPENAI_CALL_PREFIX),
            "type": "function",
            "function": {"name": call.name, "arguments": arguments_json(call.arguments)},
        }
        for call in reply.calls
    ]


def _finish_reason(reply: Reply) -> str:
    return "tool_calls" if reply.calls else "stop"


def _completion(reply: Reply, model: str, seq: int, usage: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.text,
        "refusal": None,
        "annotations": [],
    }
    if reply.calls:
        message["tool_calls"] = _tool_calls(reply)
    return {
        "id": f"chatcmpl-{seq:04d}",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _finish_reason(reply),
            }
        ],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def _deltas(reply: Reply) -> list[dict[str, Any]]:
    """The ``delta`` objects of a stream: role first, then text pieces, then tool-call pieces."""
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": "", "refusal": None}]
    if reply.text:
        deltas += [{"content": piece} for piece in split_text(reply.text)]
    for index, call in enumerate(reply.calls):
        head = {
            "index": index,
            "id": call.call_id(OPENAI_CALL_PREFIX),
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        deltas.append({"tool_calls": [head]})
        for piece in split_text(arguments_json(call.arguments)):
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    return deltas


def _stream(reply: Reply, model: str, seq: int, usage: dict[str, Any] | None) -> list[bytes]:
    base = {
        "id": f"chatcmpl-{seq:04d}",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    # With include_usage every chunk carries "usage": null until the final usage-only chunk.
    tail = {"usage": None} if usage is not None else {}
    choices: list[dict[str, Any]] = [
        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
        for delta in _deltas(reply)
    ]
    choices.append(
        {"index": 0, "delta": {}, "logprobs": None, "finish_reason": _finish_reason(reply)}
    )
    events = [sse_event({**base, "choices": [choice], **tail}) for choice in choices]
    if usage is not None:
        events.append(sse_event({**base, "choices": [], "usage": usage}))
    events.append(sse_event("[DONE]"))
    return events


def respond(
    reply: Reply, body: dict[str, Any], raw: bytes, seq: int
) -> tuple[Response, dict[str, Any] | None]:
    """The response to a scripted call, and the usage object it carries (``None`` if none)."""
    model = response_model(str(body.get("model", "")))
    usage = openai_usage(raw, reply.output_text).openai()
    headers = {"x-request-id": f"req_{seq:04d}", "openai-processing-ms": "42"}
    if not body.get("stream"):
        return json_response(200, _completion(reply, model, seq, usage), headers), usage
    options = body.get("stream_options") or {}
    sent = usage if options.get("include_usage") else None
    return sse_response(_stream(reply, model, seq, sent), headers), sent
