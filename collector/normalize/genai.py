"""OpenTelemetry GenAI semantic conventions: the current ones, and the ≤1.36 attribute names.

Content (current): ``gen_ai.system_instructions``, ``gen_ai.input.messages``,
``gen_ai.output.messages``, ``gen_ai.tool.definitions``, as JSON strings or structured
values. Messages are kept as they came (they already are the canonical form).
"""

from __future__ import annotations

from typing import Any

from agentreel.core.model import Span
from agentreel.core.text import maybe_json

from .common import Attrs, RawJson, pop_float, pop_int, pop_str

OPERATION_KINDS = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "completion": "llm",
    "responses": "llm",
    "embeddings": "embedding",
    "embedding": "embedding",
    "execute_tool": "tool",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "invoke_workflow": "chain",
}

_CONTENT_KEYS = {
    "system": "gen_ai.system_instructions",
    "input": "gen_ai.input.messages",
    "output": "gen_ai.output.messages",
    "tools": "gen_ai.tool.definitions",
}


_MARKERS = ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.system")


def _strict_tools(attrs: Attrs, content: dict[str, Any]) -> None:
    """PydanticAI's ``gen_ai.tool.definitions`` leave out ``strict``, which its
    ``model_request_parameters`` (``function_tools``) keep: a tool sent strict says so."""
    raw = attrs.get("model_request_parameters")
    if raw is None or "tools" not in content:
        return
    tools = content["tools"]
    if isinstance(tools, RawJson):
        tools = maybe_json(tools.text)
    if not isinstance(tools, list):
        return
    parameters = maybe_json(raw)
    declared = parameters.get("function_tools") if isinstance(parameters, dict) else None
    if not isinstance(declared, list):
        return
    strict = {
        t.get("name"): t["strict"]
        for t in declared
        if isinstance(t, dict) and isinstance(t.get("strict"), bool)
    }
    for tool in tools:
        if isinstance(tool, dict) and "strict" not in tool and tool.get("name") in strict:
            tool["strict"] = strict[tool["name"]]
    content["tools"] = tools


def detect(attrs: Attrs) -> bool:
    if any(marker in attrs for marker in _MARKERS):
        return True
    return any(k.startswith("gen_ai.") for k in attrs)


def normalize(span: Span, attrs: Attrs, content: dict[str, Any]) -> None:
    """Fill ``span`` from GenAI attributes; put content values into ``content``."""
    operation = pop_str(attrs, "gen_ai.operation.name")
    span.operation = operation
    if operation:
        span.kind = OPERATION_KINDS.get(operation, span.kind)
    # ≤1.36 named the provider gen_ai.system; current conventions say gen_ai.provider.name.
    legacy = "gen_ai.system" in attrs and "gen_ai.provider.name" not in attrs
    span.convention = "otel_genai_legacy" if legacy else "otel_genai"
    span.provider = pop_str(attrs, "gen_ai.provider.name", "gen_ai.system")
    span.request_model = pop_str(attrs, "gen_ai.request.model")
    span.model = pop_str(attrs, "gen_ai.response.model") or span.request_model
    span.agent = span.agent or pop_str(attrs, "gen_ai.agent.name")
    span.session = span.session or pop_str(attrs, "gen_ai.conversation.id")
    read_usage(span, attrs)
    if not operation and span.kind == "span":
        # The conventions name a span "{operation} {name}": an "invoke_agent x" span that
        # lost its operation attribute is still an agent span, never a model call below.
        named = OPERATION_KINDS.get(span.name.split(" ", 1)[0])
        if named in ("agent", "chain"):
            span.kind = named
    if not operation and span.kind == "span" and span.model and span.input_tokens:
        # A model call named by no operation (Google ADK's call_llm spans: gen_ai.system,
        # the model and token counts only) is still an LLM call to count and price.
        span.kind = "llm"
    cost = pop_float(attrs, "gen_ai.usage.cost", "gen_ai.usage.cost_usd")
    if cost is not None:
        span.cost_usd, span.cost_source = cost, "span"
    reasons = attrs.pop("gen_ai.response.finish_reasons", None)
    if reasons is not None:
        span.finish_reasons = [
            str(r) for r in (reasons if isinstance(reasons, list) else [reasons])
        ]
    for slot, key in _CONTENT_KEYS.items():
        if key in attrs:
            take_json(span, attrs, key, slot, content)
    _strict_tools(attrs, content)
    if span.kind == "tool" or "gen_ai.tool.name" in attrs:
        span.tool_name = pop_str(attrs, "gen_ai.tool.name")
        span.tool_call_id = pop_str(attrs, "gen_ai.tool.call.id")
        for key, slot in (
            ("gen_ai.tool.call.arguments", "tool_arguments"),
            ("gen_ai.tool.call.result", "tool_result"),
        ):
            if key in attrs:
                content[slot] = attrs.pop(key)
    if span.kind == "span" and span.tool_name:
        span.kind = "tool"


def read_usage(span: Span, attrs: Attrs) -> None:
    """Token counts under their current and ≤1.36 names."""
    span.input_tokens = pop_int(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
    span.output_tokens = pop_int(
        attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"
    )
    span.cache_read_tokens = pop_int(
        attrs,
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.cached_tokens",
    )
    span.cache_write_tokens = pop_int(
        attrs,
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
    )
    span.reasoning_tokens = pop_int(
        attrs,
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        # Google ADK before 2.3 (Gemini's thoughts; its output count leaves them out).
        "gen_ai.usage.experimental.reasoning_tokens",
        # PydanticAI's instrumentation (its usage details under their own names).
        "gen_ai.usage.details.reasoning_tokens",
    )
    span.total_tokens = pop_int(attrs, "gen_ai.usage.total_tokens", "llm.usage.total_tokens")


def take_json(span: Span, attrs: Attrs, key: str, slot: str, content: dict[str, Any]) -> None:
    """Move a JSON-text or structured content attribute into ``content[slot]``.

    JSON text is parsed by the content step (which memoizes it); text that does not parse
    goes back to the attributes there, with a warning: nothing accepted is dropped.
    """
    value = attrs.pop(key)
    if isinstance(value, str):
        content[slot] = RawJson(value, key)
    elif slot in ("input", "output") and not isinstance(value, list):
        content[slot] = [value]
    else:
        content[slot] = value
