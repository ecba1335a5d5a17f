"""OpenInference (Arize) conventions: flattened ``llm.input_messages.{i}.message.*`` keys.

Messages are rebuilt into the canonical OTel GenAI form (``role`` + typed ``parts``).
"""

from __future__ import annotations

from typing import Any

from agentreel.core.model import Span
from agentreel.core.text import maybe_json

from .common import (
    Attrs,
    pop_float,
    pop_indexed,
    pop_int,
    pop_str,
    split_indexed,
    tool_call_part,
)

SPAN_KINDS = {
    "LLM": "llm",
    "TOOL": "tool",
    "AGENT": "agent",
    "CHAIN": "chain",
    "RETRIEVER": "retriever",
    "RERANKER": "retriever",
    "EMBEDDING": "embedding",
    "GUARDRAIL": "guardrail",
    "EVALUATOR": "evaluator",
    "PROMPT": "chain",
}


def detect(attrs: Attrs) -> bool:
    return "openinference.span.kind" in attrs


def normalize(span: Span, attrs: Attrs, content: dict[str, Any]) -> None:
    span.convention = "openinference"
    raw_kind = pop_str(attrs, "openinference.span.kind").upper()
    span.kind = SPAN_KINDS.get(raw_kind, "span")
    span.provider = pop_str(attrs, "llm.provider", "llm.system").lower()
    span.request_model = pop_str(attrs, "llm.request.model_name")
    span.model = pop_str(attrs, "llm.response.model_name", "llm.model_name") or span.request_model
    span.agent = span.agent or pop_str(attrs, "agent.name") or _agent_name(span, attrs)
    span.session = span.session or pop_str(attrs, "session.id")
    span.user = span.user or pop_str(attrs, "user.id")
    span.input_tokens = pop_int(attrs, "llm.token_count.prompt")
    span.output_tokens = pop_int(attrs, "llm.token_count.completion")
    span.total_tokens = pop_int(attrs, "llm.token_count.total")
    span.cache_read_tokens = pop_int(attrs, "llm.token_count.prompt_details.cache_read")
    span.cache_write_tokens = pop_int(attrs, "llm.token_count.prompt_details.cache_write")
    span.reasoning_tokens = pop_int(attrs, "llm.token_count.completion_details.reasoning")
    cost = pop_float(attrs, "llm.cost.total")
    if cost is not None:
        span.cost_usd, span.cost_source = cost, "span"
    inputs = pop_indexed(attrs, "llm.input_messages.")
    if inputs:
        content["input"] = [_message(fields, span.scope) for fields in inputs.values()]
        if span.scope == _AUTOGEN_SCOPE:
            for message in content["input"]:
                if message["role"] == "developer":
                    message["role"] = "system"
    outputs = pop_indexed(attrs, "llm.output_messages.")
    if outputs:
        content["output"] = [_message(fields, span.scope) for fields in outputs.values()]
    tools = pop_indexed(attrs, "llm.tools.")
    if tools:
        content["tools"] = [maybe_json(f.pop("tool.json_schema", f)) for f in tools.values()]
    if span.kind == "tool":
        span.tool_name = pop_str(attrs, "tool.name")
        span.tool_call_id = pop_str(attrs, "tool_call.id", "tool.id")
        if "input.value" in attrs:
            content["tool_arguments"] = attrs.pop("input.value")
            attrs.pop("input.mime_type", None)
        if "output.value" in attrs:
            content["tool_result"] = _tool_result(span, attrs.pop("output.value"))
            attrs.pop("output.mime_type", None)


#: AutoGen AgentChat's instrumentor labels every ``SystemMessage`` ``developer``, whatever
#: role the model client sent it with (autogen-ext's OpenAI client sends ``system``).
_AUTOGEN_SCOPE = "openinference.instrumentation.autogen_agentchat"

#: OpenInference's Anthropic instrumentor records a ``tool_result`` whose content is a list
#: of blocks (as an MCP tool's result is passed on) as that list's JSON text.
_ANTHROPIC_SCOPE = "openinference.instrumentation.anthropic"
_BLOCK_TYPES = frozenset({"text", "image", "document", "search_result"})


def _blocks(text: Any) -> Any:
    """The list of content blocks that ``text`` is the JSON of, else ``text`` as it is."""
    value = maybe_json(text)
    if (
        isinstance(value, list)
        and value
        and all(isinstance(b, dict) and b.get("type") in _BLOCK_TYPES for b in value)
    ):
        return value
    return text


#: Scopes of OpenInference's framework instrumentors, whose AGENT spans are not always
#: named after an agent (the Agents SDK's "Agent workflow", a LangGraph node "agent").
_FRAMEWORK_SCOPE = "openinference.instrumentation."


def _agent_name(span: Span, attrs: Attrs) -> str:
    """The agent a span names where OpenInference has no ``agent.name``:

    * an AGENT span's ``graph.node.id`` (a CrewAI agent's role, an Agents SDK agent);
    * a LangGraph graph's span (the LangChain instrumentor's span of the compiled graph, whose
      name is the graph's): its ``metadata`` says ``ls_integration: langgraph`` and, unlike
      the spans of the graph's nodes, names no ``langgraph_node``;
    * an AGENT span of the agent's own code (``@tracer.agent(name=...)``): its name.
    """
    if span.kind == "agent" and isinstance(attrs.get("graph.node.id"), str):
        return str(attrs["graph.node.id"])
    if span.scope == "openinference.instrumentation.langchain":
        metadata = maybe_json(attrs.get("metadata"))
        if (
            isinstance(metadata, dict)
            and metadata.get("ls_integration") == "langgraph"
            and "langgraph_node" not in metadata
        ):
            return span.name
    if span.kind == "agent" and not span.scope.startswith(_FRAMEWORK_SCOPE):
        return span.name
    return ""


def _tool_result(span: Span, value: Any) -> Any:
    """A tool span's result. LangChain's instrumentor records the whole ``ToolMessage`` the
    tool returned (serialized, with the call id inside): the call id goes to the span, the
    message's content is the result."""
    message = maybe_json(value)
    if not isinstance(message, dict):
        return value
    if message.get("type") == "tool" and isinstance(message.get("data"), dict):
        data = message["data"]
    elif (
        message.get("lc") == 1
        and isinstance(message.get("id"), list)
        and message["id"][-1:] == ["ToolMessage"]
    ):
        data = message.get("kwargs")
    else:
        return value
    if not isinstance(data, dict) or "content" not in data:
        return value
    span.tool_call_id = span.tool_call_id or str(data.get("tool_call_id") or "")
    return data["content"]


def _message(fields: Attrs, scope: str = "") -> dict[str, Any]:
    """One ``llm.*_messages.{i}`` group to a canonical message."""
    message: dict[str, Any] = {"role": pop_str(fields, "message.role") or "user"}
    name = pop_str(fields, "message.name")
    if name:
        message["name"] = name
    text = fields.pop("message.content", None)
    parts = [_content_part(block) for block in split_indexed(fields, "message.contents.").values()]
    # The Agents SDK's instrumentor records an answer's text twice: as message.content and
    # as its content blocks. The blocks are the message; the same text beside them is not.
    block_text = "".join(str(p.get("content", "")) for p in parts if p.get("type") == "text")
    if text is not None and not (parts and text == block_text):
        parts.insert(0, {"type": "text", "content": text})
    call_id = pop_str(fields, "message.tool_call_id")
    if call_id:
        # A tool result: the whole text is the response to that call.
        texts = [p.get("content", "") for p in parts if p.get("type") == "text"]
        others = [p for p in parts if p.get("type") != "text"]
        response: Any = texts[0] if len(texts) == 1 else "".join(str(t) for t in texts)
        if scope == _ANTHROPIC_SCOPE:
            response = _blocks(response)
        parts = [{"type": "tool_call_response", "id": call_id, "response": response}, *others]
    results = _function_results(fields)
    if results:
        parts.extend(results)
        if message["role"] == "function":
            message["role"] = "tool"
    # Some instrumentors record a tool call twice: as a content block (in the message's own
    # block order) and in message.tool_calls. One part per call id.
    seen = {p.get("id") for p in parts if p.get("type") == "tool_call" and p.get("id")}
    for call in split_indexed(fields, "message.tool_calls.").values():
        part = _tool_call(call)
        if part.get("id") and part["id"] in seen:
            continue
        parts.append(part)
    message["parts"] = parts
    if fields:
        # Keys no rule knows are kept with the message rather than dropped.
        message["attributes"] = fields
    return message


def _function_results(fields: Attrs) -> list[dict[str, Any]]:
    """Tool results recorded as ``function.{i}`` JSON objects with ``call_id``, ``name`` and
    ``content`` (AutoGen AgentChat's instrumentor: one per result of a
    ``FunctionExecutionResultMessage``), consumed; other ``function.*`` keys stay."""
    keys = sorted(
        (k for k in fields if k.startswith("function.") and k[len("function.") :].isdigit()),
        key=lambda k: int(k[len("function.") :]),
    )
    parts = []
    for key in keys:
        value = maybe_json(fields[key])
        if not isinstance(value, dict) or not value.get("call_id"):
            continue
        del fields[key]
        part: dict[str, Any] = {"type": "tool_call_response", "id": str(value["call_id"])}
        part["response"] = value.get("content")
        if value.get("is_error"):
            part["is_error"] = True
        parts.append(part)
    return parts


def _tool_call(call: Attrs) -> dict[str, Any]:
    return tool_call_part(
        call, "tool_call.id", "tool_call.function.name", "tool_call.function.arguments"
    )


def _content_part(block: Attrs) -> dict[str, Any]:
    kind = pop_str(block, "message_content.type") or "text"
    if kind in ("tool_use", "tool_call") or any(k.startswith("tool_call.") for k in block):
        return _tool_call(block)
    if kind == "text":
        part: dict[str, Any] = {"type": "text", "content": block.pop("message_content.text", "")}
    elif kind == "image":
        url = pop_str(block, "message_content.image.image.url")
        part = {"type": "uri", "modality": "image", "uri": url}
    else:
        part = {"type": kind}
    if block:
        part["attributes"] = block
    return part
