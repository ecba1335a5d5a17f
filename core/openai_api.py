"""OpenAI Chat Completions and Responses requests and responses in the GenAI form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentreel.core.exchange import (
    Request,
    Response,
    Usage,
    get,
    given,
    params_of,
    recorded,
    text_part,
)

#: Neutral parameter names (OTel ``gen_ai.request.*``) to Chat Completions request fields:
#: what replay renders with, inverted for what the SDK records.
OPENAI_PARAMS = {
    "max_tokens": "max_tokens",
    "max_completion_tokens": "max_completion_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "stop_sequences": "stop",
    "stop": "stop",
    "seed": "seed",
    "choice.count": "n",
    "n": "n",
    "stream": "stream",
    "tool_choice": "tool_choice",
    "response_format": "response_format",
}

#: Chat Completions request fields recorded as ``gen_ai.request.<name>``.
CHAT_PARAMS = recorded(OPENAI_PARAMS, reasoning_effort="reasoning_effort")
RESPONSES_PARAMS = {
    "max_output_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "stream": "stream",
    "tool_choice": "tool_choice",
    "reasoning": "reasoning",
}


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None or not given(content):
        return []
    if isinstance(content, str):
        return [text_part(content)]
    parts = []
    for block in content:
        kind = get(block, "type")
        if kind in ("text", "input_text", "output_text"):
            parts.append(text_part(get(block, "text", "")))
        elif kind == "image_url":
            image = get(block, "image_url") or {}
            parts.append({"type": "uri", "modality": "image", "uri": get(image, "url", "")})
        elif kind == "refusal":
            parts.append(text_part(get(block, "refusal", "")))
        else:
            parts.append(dict(block) if isinstance(block, Mapping) else {"type": str(kind)})
    return parts


def chat_message(message: Mapping[str, Any]) -> dict[str, Any]:
    role = str(get(message, "role", "user"))
    if role == "tool":
        response = {
            "type": "tool_call_response",
            "id": get(message, "tool_call_id", ""),
            "response": get(message, "content"),
        }
        return {"role": "tool", "parts": [response]}
    out: dict[str, Any] = {"role": role, "parts": _content_parts(get(message, "content"))}
    for call in get(message, "tool_calls") or ():
        function = get(call, "function") or {}
        out["parts"].append(
            {
                "type": "tool_call",
                "id": get(call, "id", ""),
                "name": get(function, "name", ""),
                "arguments": get(function, "arguments", ""),
            }
        )
    name = get(message, "name")
    if name:
        out["name"] = name
    return out


def chat_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    function = get(tool, "function")
    if get(tool, "type") == "function" and function is not None:
        out = {"type": "function", "name": get(function, "name", "")}
        for key in ("description", "parameters", "strict"):
            if get(function, key) is not None:
                out[key] = get(function, key)
        return out
    return dict(tool)


def chat_request(kwargs: Mapping[str, Any], provider: str = "openai") -> Request:
    tools = kwargs.get("tools")
    return Request(
        provider=provider,
        model=str(kwargs.get("model", "")),
        messages=[chat_message(m) for m in kwargs.get("messages") or ()],
        tools=[chat_tool(t) for t in tools] if given(tools) and tools else None,
        params=params_of(kwargs, CHAT_PARAMS),
    )


def chat_usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    prompt = int(get(usage, "prompt_tokens", 0) or 0)
    details = get(usage, "prompt_tokens_details")
    completion_details = get(usage, "completion_tokens_details")
    return Usage(
        input_tokens=prompt,
        output_tokens=int(get(usage, "completion_tokens", 0) or 0),
        cache_read_tokens=int(get(details, "cached_tokens", 0) or 0) if details else 0,
        reasoning_tokens=(
            int(get(completion_details, "reasoning_tokens", 0) or 0) if completion_details else 0
        ),
        otel_input_tokens=prompt,
    )


def chat_response(completion: Any) -> Response:
    messages, reasons = [], []
    for choice in get(completion, "choices") or ():
        message = chat_message(get(choice, "message") or {"role": "assistant"})
        reason = get(choice, "finish_reason")
        if reason:
            message["finish_reason"] = reason
            reasons.append(str(reason))
        messages.append(message)
    return Response(
        model=str(get(completion, "model", "") or ""),
        response_id=str(get(completion, "id", "") or ""),
        messages=messages,
        finish_reasons=reasons,
        usage=chat_usage(get(completion, "usage")),
    )


class ChatStreamAccumulator:
    """Folds Chat Completions chunks into the response they add up to."""

    def __init__(self) -> None:
        self.model = ""
        self.response_id = ""
        self.usage: Any = None
        self.choices: dict[int, dict[str, Any]] = {}

    def add(self, chunk: Any) -> None:
        self.model = get(chunk, "model", "") or self.model
        self.response_id = get(chunk, "id", "") or self.response_id
        if get(chunk, "usage") is not None:
            self.usage = get(chunk, "usage")
        for choice in get(chunk, "choices") or ():
            slot = self.choices.setdefault(
                get(choice, "index", 0),
                {"role": "assistant", "content": [], "calls": {}, "finish_reason": None},
            )
            delta = get(choice, "delta")
            if delta is not None:
                if get(delta, "content"):
                    slot["content"].append(get(delta, "content"))
                for call in get(delta, "tool_calls") or ():
                    entry = slot["calls"].setdefault(
                        get(call, "index", 0), {"id": "", "name": "", "arguments": ""}
                    )
                    entry["id"] = get(call, "id") or entry["id"]
                    function = get(call, "function")
                    if function is not None:
                        entry["name"] += get(function, "name") or ""
                        entry["arguments"] += get(function, "arguments") or ""
            if get(choice, "finish_reason"):
                slot["finish_reason"] = get(choice, "finish_reason")

    def response(self) -> Response:
        messages, reasons = [], []
        for index in sorted(self.choices):
            slot = self.choices[index]
            parts: list[dict[str, Any]] = []
            if slot["content"]:
                parts.append(text_part("".join(slot["content"])))
            for call_index in sorted(slot["calls"]):
                call = slot["calls"][call_index]
                parts.append({"type": "tool_call", **call})
            message: dict[str, Any] = {"role": "assistant", "parts": parts}
            if slot["finish_reason"]:
                message["finish_reason"] = slot["finish_reason"]
                reasons.append(str(slot["finish_reason"]))
            messages.append(message)
        return Response(self.model, self.response_id, messages, reasons, chat_usage(self.usage))


# --- Responses API -----------------------------------------------------------------------------


def _responses_items(items: Any) -> list[dict[str, Any]]:
    if isinstance(items, str):
        return [{"role": "user", "parts": [text_part(items)]}]
    messages: list[dict[str, Any]] = []
    for item in items or ():
        kind = get(item, "type", "message")
        if kind == "function_call":
            call = {
                "type": "tool_call",
                "id": get(item, "call_id", ""),
                "name": get(item, "name", ""),
                "arguments": get(item, "arguments", ""),
            }
            if messages and messages[-1]["role"] == "assistant" and messages[-1].get("_calls"):
                messages[-1]["parts"].append(call)
            else:
                messages.append({"role": "assistant", "parts": [call], "_calls": True})
        elif kind == "function_call_output":
            response = {
                "type": "tool_call_response",
                "id": get(item, "call_id", ""),
                "response": get(item, "output"),
            }
            messages.append({"role": "tool", "parts": [response]})
        elif kind == "reasoning":
            summary = "".join(get(s, "text", "") for s in get(item, "summary") or ())
            messages.append(
                {"role": "assistant", "parts": [{"type": "reasoning", "content": summary}]}
            )
        elif kind == "message":
            role = str(get(item, "role", "user"))
            messages.append({"role": role, "parts": _content_parts(get(item, "content"))})
        else:
            raw = item.model_dump() if hasattr(item, "model_dump") else dict(item)
            messages.append({"role": "user", "parts": [raw]})
    for message in messages:
        message.pop("_calls", None)
    return messages


def responses_request(kwargs: Mapping[str, Any], provider: str = "openai") -> Request:
    instructions = kwargs.get("instructions")
    tools = kwargs.get("tools")
    return Request(
        provider=provider,
        model=str(kwargs.get("model", "")),
        system=[text_part(instructions)] if given(instructions) and instructions else None,
        messages=_responses_items(kwargs.get("input")),
        tools=[dict(t) for t in tools] if given(tools) and tools else None,
        params=params_of(kwargs, RESPONSES_PARAMS),
    )


def responses_response(response: Any) -> Response:
    messages = _responses_items(get(response, "output") or ())
    calls = any(p.get("type") == "tool_call" for m in messages for p in m["parts"])
    reason = "tool_calls" if calls else ("stop" if get(response, "status") == "completed" else "")
    merged: list[dict[str, Any]] = []
    if messages:
        # One assistant output message, parts in the order the model produced them.
        merged = [{"role": "assistant", "parts": [p for m in messages for p in m["parts"]]}]
        if reason:
            merged[0]["finish_reason"] = reason
    usage = get(response, "usage")
    counted = None
    if usage is not None:
        input_tokens = int(get(usage, "input_tokens", 0) or 0)
        details = get(usage, "input_tokens_details")
        out_details = get(usage, "output_tokens_details")
        counted = Usage(
            input_tokens=input_tokens,
            output_tokens=int(get(usage, "output_tokens", 0) or 0),
            cache_read_tokens=int(get(details, "cached_tokens", 0) or 0) if details else 0,
            reasoning_tokens=int(get(out_details, "reasoning_tokens", 0) or 0)
            if out_details
            else 0,
            otel_input_tokens=input_tokens,
        )
    return Response(
        model=str(get(response, "model", "") or ""),
        response_id=str(get(response, "id", "") or ""),
        messages=merged,
        finish_reasons=[reason] if reason else [],
        usage=counted,
    )
