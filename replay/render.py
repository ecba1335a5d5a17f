"""Render a call's context window as the provider API takes it.

The window is in the canonical OTel GenAI form (``role`` + typed ``parts``; see
:mod:`agentreel.replay.windows`). ``openai`` renders a Chat Completions request body,
``anthropic`` a Messages API request body. What the spans did not capture is not invented:
each rendering lists it under ``not_captured`` (tool definitions, system instructions,
parameters, or the messages themselves). Content parts the target API has no place for (an
AI SDK ``custom`` part, reasoning in Chat Completions) are left out of the body and listed under
``not_rendered``; they are never passed through as blocks that were not on the wire.
"""

from __future__ import annotations

import json
from typing import Any

from agentreel.core.anthropic_api import ANTHROPIC_PARAMS
from agentreel.core.openai_api import OPENAI_PARAMS

from .model import LLMCall, RenderedCall

FORMATS = ("otel", "openai", "anthropic")


def render(call: LLMCall, fmt: str) -> RenderedCall:
    """``call`` (one entry of ``llm_calls``) with its request rendered in ``fmt``."""
    skipped: list[str] = []
    if fmt == "openai":
        request, missing = openai_request(call, skipped)
    elif fmt == "anthropic":
        request, missing = anthropic_request(call, skipped)
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return RenderedCall(call, request, missing, skipped)


# --- OpenAI Chat Completions -----------------------------------------------------------------


def openai_request(
    call: LLMCall, skipped: list[str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """A Chat Completions request body, and what the spans did not capture of it; parts the
    API cannot carry are appended to ``skipped``."""
    skipped = [] if skipped is None else skipped
    missing = _missing(call)
    messages: list[dict[str, Any]] = []
    system = _system_text(call.window.system_instructions)
    inputs = call.window.input_messages or []
    if system is not None and not any(m.get("role") == "system" for m in inputs):
        messages.append({"role": "system", "content": system})
    for index, message in enumerate(inputs):
        messages.extend(_openai_messages(message, _Skips(skipped, index)))
    request: dict[str, Any] = {"model": call.request_model or call.model or ""}
    request["messages"] = messages
    tools = call.window.tool_definitions
    if tools:
        request["tools"] = [_openai_tool(_tool(t)) for t in tools]
    request.update(_params(call, OPENAI_PARAMS))
    return request, missing


def _openai_messages(message: dict[str, Any], skips: _Skips) -> list[dict[str, Any]]:
    role = message.get("role", "user")
    parts = skips.keep(message.get("parts", []), _OPENAI_PART_TYPES)
    responses = [p for p in parts if p.get("type") == "tool_call_response"]
    if responses:
        # Each tool result is its own "tool" message in Chat Completions.
        return [
            {"role": "tool", "tool_call_id": p.get("id", ""), "content": _text(_response(p))}
            for p in responses
        ]
    calls = [p for p in parts if p.get("type") == "tool_call"]
    content_parts = [p for p in parts if p.get("type") != "tool_call"]
    out: dict[str, Any] = {"role": role}
    if message.get("name"):
        out["name"] = message["name"]
    out["content"] = _openai_content(content_parts) if content_parts else None
    if calls:
        out["tool_calls"] = [
            {
                "id": p.get("id", ""),
                "type": "function",
                "function": {"name": p.get("name", ""), "arguments": _arguments_text(p)},
            }
            for p in calls
        ]
    return [out]


def _openai_content(parts: list[dict[str, Any]]) -> Any:
    if len(parts) == 1 and parts[0].get("type") == "text":
        return _text(parts[0].get("content"))
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if part.get("type") == "text":
            blocks.append({"type": "text", "text": _text(part.get("content"))})
        elif part.get("type") in ("uri", "blob") and part.get("modality") == "image":
            blocks.append({"type": "image_url", "image_url": {"url": part.get("uri", "")}})
        else:
            blocks.append(part)
    return blocks


def _openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool["name"]}
    if tool.get("description") is not None:
        function["description"] = tool["description"]
    if tool.get("parameters") is not None:
        function["parameters"] = tool["parameters"]
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


# --- Anthropic Messages ----------------------------------------------------------------------


def anthropic_request(
    call: LLMCall, skipped: list[str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """A Messages API request body, and what the spans did not capture of it; parts the API
    cannot carry are appended to ``skipped``."""
    skipped = [] if skipped is None else skipped
    missing = _missing(call)
    inputs = call.window.input_messages or []
    system = _system_text(call.window.system_instructions)
    if system is None:
        system_messages = [m for m in inputs if m.get("role") == "system"]
        if system_messages:
            system = "\n".join(_system_text(m.get("parts")) or "" for m in system_messages)
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(inputs):
        if message.get("role") == "system":
            continue
        rendered = _anthropic_message(message, _Skips(skipped, index))
        # Tool results travel in user turns; consecutive ones belong to one turn.
        if (
            messages
            and rendered["role"] == "user"
            and messages[-1]["role"] == "user"
            and _only_tool_results(rendered)
            and _only_tool_results(messages[-1])
        ):
            messages[-1]["content"] = [*messages[-1]["content"], *rendered["content"]]
            continue
        messages.append(rendered)
    request: dict[str, Any] = {"model": call.request_model or call.model or ""}
    if system is not None:
        request["system"] = system
    request["messages"] = messages
    tools = call.window.tool_definitions
    if tools:
        request["tools"] = [_anthropic_tool(_tool(t)) for t in tools]
    request.update(_params(call, ANTHROPIC_PARAMS))
    if "max_tokens" not in request:
        missing.append("max_tokens")
    return request, missing


def _anthropic_message(message: dict[str, Any], skips: _Skips) -> dict[str, Any]:
    role = message.get("role", "user")
    if role == "tool":
        role = "user"
    parts = skips.keep(message.get("parts", []), _ANTHROPIC_PART_TYPES)
    if role == "user" and len(parts) == 1 and parts[0].get("type") == "text":
        return {"role": role, "content": _text(parts[0].get("content"))}
    blocks: list[dict[str, Any]] = []
    for part in parts:
        kind = part.get("type")
        if kind == "text":
            blocks.append({"type": "text", "text": _text(part.get("content"))})
        elif kind == "tool_call":
            blocks.append(
                {
                    "type": "tool_use",
                    "id": part.get("id", ""),
                    "name": part.get("name", ""),
                    "input": _arguments_object(part),
                }
            )
        elif kind == "tool_call_response":
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": part.get("id", ""),
                "content": _response(part),
            }
            if part.get("is_error"):
                block["is_error"] = True
            blocks.append(block)
        elif kind == "reasoning":
            blocks.append({"type": "thinking", "thinking": _text(part.get("content"))})
        else:
            blocks.append(part)
    return {"role": role, "content": blocks}


def _only_tool_results(message: dict[str, Any]) -> bool:
    content = message.get("content")
    return (
        isinstance(content, list)
        and bool(content)
        and all(b.get("type") == "tool_result" for b in content)
    )


def _anthropic_tool(tool: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool["name"]}
    if tool.get("description") is not None:
        out["description"] = tool["description"]
    out["input_schema"] = tool.get("parameters") or {"type": "object"}
    return out


# --- shared ------------------------------------------------------------------------------------

#: Part types each renderer turns into the API's own blocks (the GenAI ones above), plus the
#: API's native block types, which some instrumentors record verbatim and pass through. Any
#: other part (``custom``, a provider event, another API's block) has no place in the body.
_GENAI_PARTS = frozenset({"text", "tool_call", "tool_call_response"})
_OPENAI_PART_TYPES = _GENAI_PARTS | {
    "uri",
    "blob",
    "image_url",
    "input_audio",
    "file",
    "refusal",
}
_ANTHROPIC_PART_TYPES = _GENAI_PARTS | {
    "reasoning",
    "image",
    "document",
    "search_result",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "container_upload",
}


class _Skips:
    """Filters one input message's parts to what the target API can carry, and notes the rest
    (by position and type) for ``not_rendered``."""

    def __init__(self, skipped: list[str], message: int) -> None:
        self._skipped = skipped
        self._message = message

    def keep(self, parts: Any, allowed: frozenset[str]) -> list[dict[str, Any]]:
        kept: list[dict[str, Any]] = []
        for index, part in enumerate(parts if isinstance(parts, list) else []):
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind in allowed and not _unrenderable_media(part, allowed):
                kept.append(part)
                continue
            label = str(kind)
            if kind == "custom" and part.get("kind"):
                label = f"custom ({part['kind']})"
            elif part.get("modality"):
                label = f"{kind} ({part['modality']})"
            self._skipped.append(f"input_messages[{self._message}].parts[{index}]: {label}")
        return kept


def _unrenderable_media(part: dict[str, Any], allowed: frozenset[str]) -> bool:
    """GenAI ``uri``/``blob`` parts render into Chat Completions only as images."""
    return part.get("type") in ("uri", "blob") and (
        "uri" not in allowed or part.get("modality") != "image"
    )


def _tool(definition: Any) -> dict[str, Any]:
    """A tool definition in any of the shapes instrumentors record, as name/description/schema:
    Chat Completions (``function``), OTel GenAI (flat, ``parameters``), Anthropic
    (``input_schema``), the Vercel AI SDK (``inputSchema``)."""
    if not isinstance(definition, dict):
        return {"name": str(definition), "description": None, "parameters": None, "strict": None}
    inner = definition.get("function") if isinstance(definition.get("function"), dict) else None
    source = inner or definition
    schema = tool_schema(source)
    return {
        "name": source.get("name", ""),
        "description": source.get("description"),
        "parameters": schema,
        "strict": source.get("strict"),
    }


SCHEMA_KEYS = ("parameters", "input_schema", "inputSchema")


def tool_schema(source: dict[str, Any]) -> Any:
    """The JSON schema of a flat tool definition, under whichever key its emitter used: the
    GenAI conventions say ``parameters``, Anthropic ``input_schema``, the AI SDK writes
    ``inputSchema`` in ``gen_ai.tool.definitions``. ``None`` when it has none."""
    for key in SCHEMA_KEYS:
        if source.get(key) is not None:
            return source[key]
    return None


def _system_text(parts: Any) -> str | None:
    if not parts:
        return None
    if isinstance(parts, str):
        return parts
    texts = [_text(p.get("content")) for p in parts if isinstance(p, dict)]
    return "\n".join(texts) if texts else None


def _params(call: LLMCall, names: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (call.parameters or {}).items():
        target = names.get(key)
        if target is not None and target not in out:
            out[target] = value
    return out


def _missing(call: LLMCall) -> list[str]:
    captured = call.window.captured
    missing = []
    if not captured.input:
        missing.append("messages")
    if not captured.tools:
        missing.append("tools")
    inputs = call.window.input_messages or []
    has_system_message = any(m.get("role") == "system" for m in inputs)
    if not captured.system and not has_system_message:
        missing.append("system")
    if not call.parameters:
        missing.append("parameters")
    if not call.request_model and call.model:
        # Only the model that answered is known (often a dated version of the one asked for).
        missing.append("model")
    return missing


def _response(part: dict[str, Any]) -> Any:
    return part.get("response", part.get("result"))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _arguments_text(part: dict[str, Any]) -> str:
    arguments = part.get("arguments")
    if isinstance(arguments, str):
        return arguments
    return json.dumps({} if arguments is None else arguments, separators=(",", ":"))


def _arguments_object(part: dict[str, Any]) -> Any:
    arguments = part.get("arguments")
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return {} if arguments is None else arguments
