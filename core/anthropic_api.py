"""Anthropic Messages requests and responses in the GenAI form."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agentreel.core.exchange import Request, Response, Usage, get, params_of, recorded, text_part

#: Neutral parameter names (OTel ``gen_ai.request.*``) to Messages API request fields.
ANTHROPIC_PARAMS = {
    "max_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop_sequences": "stop_sequences",
    "stream": "stream",
    "tool_choice": "tool_choice",
}

#: Messages request fields recorded as ``gen_ai.request.<name>``.
PARAMS = recorded(ANTHROPIC_PARAMS, thinking="thinking")


def _dump(block: Any) -> dict[str, Any]:
    if hasattr(block, "model_dump"):
        return dict(block.model_dump(exclude_none=True))
    return dict(block)


def blocks_to_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[dict[str, Any]] = []
    for block in content or ():
        kind = get(block, "type")
        if kind == "text":
            parts.append(text_part(get(block, "text", "")))
        elif kind in ("tool_use", "server_tool_use"):
            parts.append(
                {
                    "type": "tool_call",
                    "id": get(block, "id", ""),
                    "name": get(block, "name", ""),
                    "arguments": get(block, "input") or {},
                }
            )
        elif kind == "tool_result":
            part = {
                "type": "tool_call_response",
                "id": get(block, "tool_use_id", ""),
                "response": get(block, "content"),
            }
            if get(block, "is_error"):
                part["is_error"] = True
            parts.append(part)
        elif kind == "thinking":
            parts.append({"type": "reasoning", "content": get(block, "thinking", "")})
        else:
            parts.append(_dump(block))
    return parts


def message(msg: Mapping[str, Any]) -> dict[str, Any]:
    parts = blocks_to_parts(get(msg, "content"))
    role = str(get(msg, "role", "user"))
    if role == "user" and parts and all(p["type"] == "tool_call_response" for p in parts):
        role = "tool"  # GenAI: tool results are the tool role's
    return {"role": role, "parts": parts}


def _system(system: Any) -> list[dict[str, Any]] | None:
    if system is None or type(system).__name__ in ("NotGiven", "Omit"):
        return None
    if isinstance(system, str):
        return [text_part(system)] if system else None
    return [text_part(get(b, "text", "")) for b in system if get(b, "type") == "text"] or None


def _tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    if "input_schema" not in tool:
        return dict(tool)  # server tools (web search, ...) as they were given
    out: dict[str, Any] = {"type": "function", "name": tool.get("name", "")}
    if tool.get("description") is not None:
        out["description"] = tool["description"]
    out["parameters"] = tool["input_schema"]
    return out


def request(kwargs: Mapping[str, Any], stream: bool = False) -> Request:
    tools = kwargs.get("tools")
    params = params_of(kwargs, PARAMS)
    if stream:
        params["stream"] = True
    return Request(
        provider="anthropic",
        model=str(kwargs.get("model", "")),
        system=_system(kwargs.get("system")),
        messages=[message(m) for m in kwargs.get("messages") or ()],
        tools=[_tool(t) for t in tools] if isinstance(tools, list | tuple) and tools else None,
        params=params,
    )


def usage(value: Any) -> Usage | None:
    if value is None:
        return None
    input_tokens = int(get(value, "input_tokens", 0) or 0)
    read = int(get(value, "cache_read_input_tokens", 0) or 0)
    write = int(get(value, "cache_creation_input_tokens", 0) or 0)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=int(get(value, "output_tokens", 0) or 0),
        cache_read_tokens=read,
        cache_write_tokens=write,
        # OTel input tokens include what the cache served and what it stored.
        otel_input_tokens=input_tokens + read + write,
    )


def response(msg: Any) -> Response:
    reason = get(msg, "stop_reason")
    output: dict[str, Any] = {"role": "assistant", "parts": blocks_to_parts(get(msg, "content"))}
    if reason:
        output["finish_reason"] = reason
    return Response(
        model=str(get(msg, "model", "") or ""),
        response_id=str(get(msg, "id", "") or ""),
        messages=[output],
        finish_reasons=[str(reason)] if reason else [],
        usage=usage(get(msg, "usage")),
    )


class StreamAccumulator:
    """Folds raw Messages stream events into the message they add up to."""

    def __init__(self) -> None:
        self.message: dict[str, Any] = {"content": []}
        self.usage: dict[str, int] = {}
        self._json: dict[int, list[str]] = {}

    def add(self, event: Any) -> None:
        kind = get(event, "type")
        if kind == "message_start":
            start = get(event, "message")
            self.message.update(id=get(start, "id", ""), model=get(start, "model", ""))
            self._usage(get(start, "usage"))
        elif kind == "content_block_start":
            self.message["content"].append(_dump(get(event, "content_block")))
        elif kind == "content_block_delta":
            index = int(get(event, "index", 0))
            delta = get(event, "delta")
            block = self.message["content"][index] if index < len(self.message["content"]) else {}
            dtype = get(delta, "type")
            if dtype == "text_delta":
                block["text"] = block.get("text", "") + get(delta, "text", "")
            elif dtype == "input_json_delta":
                self._json.setdefault(index, []).append(get(delta, "partial_json", ""))
            elif dtype == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + get(delta, "thinking", "")
        elif kind == "message_delta":
            delta = get(event, "delta")
            if get(delta, "stop_reason"):
                self.message["stop_reason"] = get(delta, "stop_reason")
            self._usage(get(event, "usage"))

    def _usage(self, value: Any) -> None:
        if value is None:
            return
        for key in (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
        ):
            number = get(value, key)
            if number is not None:
                self.usage[key] = int(number)

    def response(self) -> Response:
        for index, chunks in self._json.items():
            text = "".join(chunks)
            try:
                self.message["content"][index]["input"] = json.loads(text) if text else {}
            except (ValueError, IndexError):
                self.message["content"][index]["input"] = text
        self.message["usage"] = self.usage
        return response(self.message)
