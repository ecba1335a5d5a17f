"""The Vercel AI SDK's own ``ai.*`` convention (AI SDK ≤6, ``experimental_telemetry``).

Every span carries ``ai.operationId``. Three shapes matter:

* the call's root (``ai.generateText``, ``ai.streamText``, ``ai.generateObject``,
  ``ai.streamObject``): the agent loop. Its ``ai.usage.*`` (and any ``gen_ai.usage.*``) add
  up its steps, so they are kept as plain attributes and never counted;
* one span per model request (``….doGenerate`` / ``….doStream``): an LLM call. It has
  ``gen_ai.system`` but no ``gen_ai.operation.name``; the whole request is in
  ``ai.prompt.messages`` (the AI SDK's ModelMessages: system message, tool calls and tool
  results included), ``ai.prompt.tools`` (one JSON string per tool, schema in
  ``inputSchema``) and ``ai.prompt.toolChoice``; the answer in ``ai.response.text`` and
  ``ai.response.toolCalls``;
* ``ai.toolCall``: one tool execution (``ai.toolCall.{name,id,args,result}``), under the root
  or under ``doStream``; its id is the one in the requesting call's ``ai.response.toolCalls``.

Messages and tools are rebuilt into the canonical OTel GenAI form, so replay renders them
like any other convention's. The agent is ``ai.telemetry.functionId`` (else ``resource.name``,
which the AI SDK sets to the same).
"""

from __future__ import annotations

import json
from typing import Any

from agentreel.core.model import Span

from . import genai
from .common import Attrs, pop_int, pop_str

#: Model requests: one LLM call each.
CALL_OPERATIONS = frozenset(
    {
        "ai.generateText.doGenerate",
        "ai.streamText.doStream",
        "ai.generateObject.doGenerate",
        "ai.streamObject.doStream",
    }
)
#: The calls' roots: the loop over steps, whose usage is the sum of theirs.
ROOT_OPERATIONS = frozenset(
    {"ai.generateText", "ai.streamText", "ai.generateObject", "ai.streamObject"}
)
TOOL_OPERATION = "ai.toolCall"


def detect(attrs: Attrs) -> bool:
    operation = attrs.get("ai.operationId")
    return isinstance(operation, str) and operation.startswith("ai.")


def normalize(span: Span, attrs: Attrs, content: dict[str, Any]) -> None:
    """Fill ``span`` from ``ai.*`` attributes; put content values into ``content``."""
    operation = str(attrs.get("ai.operationId"))
    span.convention = "aisdk"
    span.agent = span.agent or pop_str(attrs, "ai.telemetry.functionId")
    if not span.agent:
        span.agent = str(attrs.get("resource.name") or "")
    if operation in CALL_OPERATIONS:
        _call(span, attrs, content)
    elif operation == TOOL_OPERATION:
        _tool(span, attrs, content)
    elif operation in ROOT_OPERATIONS:
        # The loop itself. Its usage totals stay plain attributes: counted, they would
        # double every step's tokens.
        span.kind = "agent"
    elif genai.detect(attrs):
        # An operation this reader does not know (embeddings, …): read as the gen_ai.* it
        # carries, as before this reader existed.
        agent = span.agent
        genai.normalize(span, attrs, content)
        span.agent = span.agent or agent


#: The instrumentation scope of AI SDK 7's ``@ai-sdk/otel`` (OTel GenAI conventions).
OTEL_SCOPE = "gen_ai"


def unquote_tool_result(span: Span, content: dict[str, Any]) -> None:
    """AI SDK 7 writes ``gen_ai.tool.call.result`` as ``JSON.stringify(output)``, so a tool
    that returned text has it quoted (``"\"69.8\""``), unlike the conventions' plain text
    and unlike what the provider is sent. Its execute_tool spans get the text back."""
    raw = content.get("tool_result")
    if span.scope != OTEL_SCOPE or span.kind != "tool" or not isinstance(raw, str):
        return
    if raw.startswith('"'):
        value = _loads(raw)
        if isinstance(value, str):
            content["tool_result"] = value


def _call(span: Span, attrs: Attrs, content: dict[str, Any]) -> None:
    span.kind = "llm"
    span.operation = "chat"
    span.provider = pop_str(attrs, "gen_ai.system", "ai.model.provider")
    span.request_model = pop_str(attrs, "gen_ai.request.model", "ai.model.id")
    span.model = pop_str(attrs, "gen_ai.response.model", "ai.response.model") or span.request_model
    span.response_id = span.response_id or pop_str(attrs, "ai.response.id")
    reasons = attrs.pop("gen_ai.response.finish_reasons", None)
    reason = pop_str(attrs, "ai.response.finishReason")
    if isinstance(reasons, list) and reasons:
        span.finish_reasons = [str(r) for r in reasons]
    elif reason:
        span.finish_reasons = [reason]
    _usage(span, attrs)
    messages = _json(span, attrs, "ai.prompt.messages")
    if isinstance(messages, list):
        content["input"] = [_message(m) for m in messages if isinstance(m, dict)]
    # An array attribute of JSON strings (older releases: one JSON string).
    tools = attrs.pop("ai.prompt.tools") if isinstance(attrs.get("ai.prompt.tools"), list) else None
    tools = tools if tools is not None else _json(span, attrs, "ai.prompt.tools")
    if isinstance(tools, list):
        content["tools"] = [_tool_definition(t) for t in tools]
    raw_choice = attrs.get("ai.prompt.toolChoice")
    choice = _json(span, attrs, "ai.prompt.toolChoice")
    wire = _tool_choice(span.provider, choice) if isinstance(choice, dict) else None
    if wire is not None:
        # As the provider's API spells it (replay renders it as a request parameter).
        attrs["gen_ai.request.tool_choice"] = json.dumps(wire, separators=(",", ":"))
    elif raw_choice is not None:
        attrs["ai.prompt.toolChoice"] = raw_choice  # not known how to spell it: kept as it came
    output = _output(span, attrs)
    if output is not None:
        content["output"] = [output]


def _usage(span: Span, attrs: Attrs) -> None:
    """The step's own usage. ``ai.usage.inputTokens`` counts every prompt token (cache reads
    and writes included), as ``gen_ai.usage.input_tokens`` does."""
    span.input_tokens = pop_int(
        attrs, "ai.usage.inputTokens", "ai.usage.promptTokens", "gen_ai.usage.input_tokens"
    )
    span.output_tokens = pop_int(
        attrs, "ai.usage.outputTokens", "ai.usage.completionTokens", "gen_ai.usage.output_tokens"
    )
    span.cache_read_tokens = pop_int(
        attrs, "ai.usage.inputTokenDetails.cacheReadTokens", "ai.usage.cachedInputTokens"
    )
    span.cache_write_tokens = pop_int(attrs, "ai.usage.inputTokenDetails.cacheWriteTokens")
    span.reasoning_tokens = pop_int(
        attrs, "ai.usage.outputTokenDetails.reasoningTokens", "ai.usage.reasoningTokens"
    )
    span.total_tokens = pop_int(attrs, "ai.usage.totalTokens")


def _tool(span: Span, attrs: Attrs, content: dict[str, Any]) -> None:
    span.kind = "tool"
    span.operation = "execute_tool"
    span.tool_name = pop_str(attrs, "ai.toolCall.name")
    span.tool_call_id = pop_str(attrs, "ai.toolCall.id")
    if "ai.toolCall.args" in attrs:
        content["tool_arguments"] = attrs.pop("ai.toolCall.args")
    if "ai.toolCall.result" in attrs:
        # JSON of what execute() returned: a tool that returns text has it quoted.
        raw = attrs.pop("ai.toolCall.result")
        value = _loads(raw) if isinstance(raw, str) else raw
        content["tool_result"] = value if isinstance(value, str) else raw


def _json(span: Span, attrs: Attrs, key: str) -> Any:
    """The parsed JSON of ``key``, consumed; text that does not parse stays as it came, with
    a warning on the span."""
    raw = attrs.get(key)
    if not isinstance(raw, str):
        return None
    value = _loads(raw)
    if value is _INVALID:
        span.warnings.append(f"{key} is not valid JSON; kept as a plain attribute")
        return None
    attrs.pop(key)
    return value


_INVALID = object()


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _INVALID


def _message(message: dict[str, Any]) -> dict[str, Any]:
    """An AI SDK ModelMessage as a GenAI message (``role`` + typed ``parts``)."""
    role = str(message.get("role", "user"))
    body = message.get("content")
    if isinstance(body, str):
        return {"role": role, "parts": [{"type": "text", "content": body}]}
    parts = [_part(p) for p in body if isinstance(p, dict)] if isinstance(body, list) else []
    return {"role": role, "parts": parts}


def _part(part: dict[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "content": part.get("text", "")}
    if kind == "reasoning":
        return {"type": "reasoning", "content": part.get("text", "")}
    if kind == "tool-call":
        return {
            "type": "tool_call",
            "id": str(part.get("toolCallId", "")),
            "name": str(part.get("toolName", "")),
            "arguments": part.get("input", part.get("args")),
        }
    if kind == "tool-result":
        out: dict[str, Any] = {"type": "tool_call_response", "id": str(part.get("toolCallId", ""))}
        output = part.get("output")
        if isinstance(output, dict) and "type" in output:
            out["response"] = _result_text(output)
            if str(output["type"]).startswith("error"):
                out["is_error"] = True
        else:  # before AI SDK 5: ``result``
            out["response"] = part.get("result", output)
        return out
    if kind in ("image", "file"):
        data = part.get("image", part.get("data"))
        modality = "image" if kind == "image" else str(part.get("mediaType", "file"))
        if isinstance(data, str) and data.startswith(("http://", "https://", "data:")):
            return {"type": "uri", "modality": modality, "uri": data}
        return {"type": "blob", "modality": modality, "content": data}
    # A part no rule knows is kept as it came (never dropped).
    return dict(part)


def _result_text(output: dict[str, Any]) -> Any:
    """A tool result as the provider gets it: text as is, JSON values as compact JSON."""
    value = output.get("value")
    if output["type"] in ("text", "error-text") and isinstance(value, str):
        return value
    if output["type"] in ("json", "error-json"):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


def _tool_definition(raw: Any) -> Any:
    """One ``ai.prompt.tools`` entry (JSON text) as a GenAI tool definition: the schema,
    which the AI SDK calls ``inputSchema``, under ``parameters``."""
    tool = _loads(raw) if isinstance(raw, str) else raw
    if not isinstance(tool, dict):
        return raw
    if "inputSchema" not in tool:
        return tool
    out = {k: v for k, v in tool.items() if k != "inputSchema"}
    out["parameters"] = tool["inputSchema"]
    return out


def _tool_choice(provider: str, choice: dict[str, Any]) -> Any:
    """``{"type": "auto" | "none" | "required" | "tool", "toolName"?}`` as the provider's API
    spells it; ``None`` for a provider whose spelling is not known."""
    kind = choice.get("type")
    name = choice.get("toolName")
    if provider.startswith("openai"):
        if kind == "tool":
            if provider == "openai.responses":
                return {"type": "function", "name": name}
            return {"type": "function", "function": {"name": name}}
        return kind
    if provider.startswith("anthropic"):
        spelled = {"auto": "auto", "none": "none", "required": "any", "tool": "tool"}
        if kind not in spelled:
            return None
        out: dict[str, Any] = {"type": spelled[str(kind)]}
        if kind == "tool":
            out["name"] = name
        return out
    return None


def _output(span: Span, attrs: Attrs) -> dict[str, Any] | None:
    """The answer of one model request: its text, then its tool calls."""
    parts: list[dict[str, Any]] = []
    text = attrs.get("ai.response.text")
    if isinstance(text, str):
        attrs.pop("ai.response.text")
        if text:
            parts.append({"type": "text", "content": text})
    calls = _json(span, attrs, "ai.response.toolCalls")
    for call in calls if isinstance(calls, list) else []:
        if not isinstance(call, dict):
            continue
        arguments = call.get("input", call.get("args"))
        if isinstance(arguments, str):
            parsed = _loads(arguments)
            arguments = arguments if parsed is _INVALID else parsed
        parts.append(
            {
                "type": "tool_call",
                "id": str(call.get("toolCallId", "")),
                "name": str(call.get("toolName", "")),
                "arguments": arguments,
            }
        )
    if not parts and text is None and calls is None:
        return None
    message: dict[str, Any] = {"role": "assistant", "parts": parts}
    if span.finish_reasons:
        message["finish_reason"] = span.finish_reasons[0]
    return message
