"""GenAI ≤1.36 message events (OTLP log records) to canonical messages."""

from __future__ import annotations

from typing import Any

from agentreel.core.model import DecodedLog

_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE = "gen_ai.choice"


def is_message_event(name: str) -> bool:
    return name in _ROLES or name == CHOICE


def to_message(record: DecodedLog) -> tuple[str, dict[str, Any]] | None:
    """``(direction, message)`` for a message event joined to a span, else None."""
    if not is_message_event(record.event_name) or not record.trace_id or not record.span_id:
        return None
    body = record.body if isinstance(record.body, dict) else {"content": record.body}
    if record.event_name == CHOICE:
        inner = body.get("message")
        if not isinstance(inner, dict):
            inner = {} if inner is None else {"content": inner}
        message = _message(inner, "assistant")
        if body.get("finish_reason") is not None:
            message["finish_reason"] = body["finish_reason"]
        if body.get("index") not in (None, 0):
            message["index"] = body["index"]
        return "output", message
    return "input", _message(body, _ROLES[record.event_name])


def _message(body: dict[str, Any], default_role: str) -> dict[str, Any]:
    role = body.get("role") or default_role
    parts: list[dict[str, Any]] = []
    content = body.get("content")
    if role == "tool":
        parts.append({"type": "tool_call_response", "id": body.get("id", ""), "response": content})
    elif isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append({"type": "text", "content": block.get("text", "")})
            else:
                parts.append(
                    block if isinstance(block, dict) else {"type": "text", "content": block}
                )
    elif content is not None:
        parts.append({"type": "text", "content": content})
    calls = body.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        if not isinstance(call, dict):
            continue
        function = call.get("function")
        if not isinstance(function, dict):
            function = {}
        part: dict[str, Any] = {"type": "tool_call", "id": call.get("id", "")}
        part["name"] = function.get("name", "")
        if "arguments" in function:
            part["arguments"] = function["arguments"]
        parts.append(part)
    return {"role": role, "parts": parts}
