"""OpenLLMetry (Traceloop) legacy conventions: indexed ``gen_ai.prompt.{i}.*`` and
``gen_ai.completion.{i}.*`` keys, ``llm.request.functions.{i}.*``, ``traceloop.*``."""

from __future__ import annotations

from typing import Any

from agentreel.core.anthropic_api import blocks_to_parts
from agentreel.core.model import Span
from agentreel.core.text import maybe_json

from . import genai
from .common import Attrs, pop_indexed, pop_str, split_indexed, tool_call_part

TRACELOOP_KINDS = {"workflow": "chain", "task": "chain", "agent": "agent", "tool": "tool"}
REQUEST_TYPES = {
    "chat": "llm",
    "completion": "llm",
    "embedding": "embedding",
    "rerank": "retriever",
}
_ASSOCIATION = "traceloop.association.properties."


def detect(attrs: Attrs) -> bool:
    return (
        "gen_ai.prompt.0.role" in attrs
        or "gen_ai.completion.0.role" in attrs
        or "gen_ai.prompt.0.content" in attrs
        or "llm.request.type" in attrs
        or "traceloop.span.kind" in attrs
    )


def normalize(span: Span, attrs: Attrs, content: dict[str, Any]) -> None:
    traceloop_kind = pop_str(attrs, "traceloop.span.kind")
    request_type = pop_str(attrs, "llm.request.type")
    genai.normalize(span, attrs, content)
    span.convention = "openllmetry"
    if request_type in REQUEST_TYPES:
        span.kind = REQUEST_TYPES[request_type]
        span.operation = span.operation or request_type
    elif traceloop_kind in TRACELOOP_KINDS:
        span.kind = TRACELOOP_KINDS[traceloop_kind]
    span.session = span.session or pop_str(attrs, _ASSOCIATION + "session_id")
    span.user = span.user or pop_str(attrs, _ASSOCIATION + "user_id")
    span.agent = span.agent or pop_str(attrs, _ASSOCIATION + "agent", _ASSOCIATION + "agent_name")
    prompts = pop_indexed(attrs, "gen_ai.prompt.")
    if prompts:
        content["input"] = [_message(fields) for fields in prompts.values()]
    completions = pop_indexed(attrs, "gen_ai.completion.")
    if completions:
        content["output"] = [_message(fields) for fields in completions.values()]
    functions = pop_indexed(attrs, "llm.request.functions.")
    if functions:
        content["tools"] = [_function(fields) for fields in functions.values()]
    if span.kind == "tool" and traceloop_kind == "tool":
        span.tool_name = span.tool_name or pop_str(attrs, "traceloop.entity.name")
        if "traceloop.entity.input" in attrs:
            content.setdefault("tool_arguments", attrs.pop("traceloop.entity.input"))
        if "traceloop.entity.output" in attrs:
            content.setdefault("tool_result", attrs.pop("traceloop.entity.output"))
    elif span.kind == "agent":
        span.agent = span.agent or pop_str(attrs, "traceloop.entity.name")


def _message(fields: Attrs) -> dict[str, Any]:
    message: dict[str, Any] = {"role": pop_str(fields, "role") or "user"}
    parts: list[dict[str, Any]] = []
    call_id = pop_str(fields, "tool_call_id")
    if "content" in fields:
        raw = fields.pop("content")
        blocks = maybe_json(raw)
        if isinstance(blocks, list) and all(isinstance(b, dict) and "type" in b for b in blocks):
            parts.extend(blocks_to_parts(blocks))
        elif call_id:
            parts.append({"type": "tool_call_response", "id": call_id, "response": raw})
            call_id = ""
        else:
            parts.append({"type": "text", "content": raw})
    if call_id:
        parts.append({"type": "tool_call_response", "id": call_id, "response": ""})
    for call in split_indexed(fields, "tool_calls.").values():
        parts.append(tool_call_part(call, "id", "name", "arguments"))
    finish = pop_str(fields, "finish_reason")
    message["parts"] = parts
    if finish:
        message["finish_reason"] = finish
    if fields:
        message["attributes"] = fields
    return message


def _function(fields: Attrs) -> dict[str, Any]:
    tool: dict[str, Any] = {"type": "function", "name": pop_str(fields, "name")}
    description = fields.pop("description", None)
    if description is not None:
        tool["description"] = description
    if "parameters" in fields:
        tool["parameters"] = maybe_json(fields.pop("parameters"))
    tool.update(fields)
    return tool
