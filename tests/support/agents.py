"""Small tool-calling agents on the real ``openai`` and ``anthropic`` clients, for tests.

Each run is one trace: a root ``invoke_agent {agent}`` span, the clients' calls (traced by
whatever instrumentor is installed) and one ``execute_tool {tool}`` span per tool call, all
under the global TracerProvider in force when the run starts. Attributes follow the current
OpenTelemetry GenAI conventions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anthropic
import openai
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

TRACER_NAME = "tests.agents"
ToolImpl = Callable[..., Any]


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model: name, description and JSON schema of its arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]

    def openai(self) -> dict[str, Any]:
        """As a Chat Completions ``tools`` entry."""
        function = {"name": self.name, "description": self.description}
        return {"type": "function", "function": {**function, "parameters": dict(self.parameters)}}

    def anthropic(self) -> dict[str, Any]:
        """As a Messages API ``tools`` entry."""
        schema = dict(self.parameters)
        return {"name": self.name, "description": self.description, "input_schema": schema}


@dataclass(frozen=True)
class ToolRun:
    """One executed tool call."""

    call_id: str
    name: str
    arguments: Mapping[str, Any]
    result: str
    is_error: bool


@dataclass
class AgentRun:
    """The outcome of a run: final text, the whole conversation, what ran, and the trace id."""

    text: str
    messages: list[dict[str, Any]]
    trace_id: str
    llm_calls: int = 0
    tool_runs: list[ToolRun] = field(default_factory=list)


@dataclass(frozen=True)
class _RunContext:
    """Who runs the agent: recorded on the root span."""

    agent_name: str
    session_id: str
    user_id: str


@contextmanager
def _agent_span(provider: str, model: str, who: _RunContext) -> Iterator[Span]:
    tracer = trace.get_tracer(TRACER_NAME)
    attributes = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": who.agent_name,
        "gen_ai.conversation.id": who.session_id,
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "user.id": who.user_id,
    }
    name = f"invoke_agent {who.agent_name}"
    with tracer.start_as_current_span(name, kind=SpanKind.INTERNAL, attributes=attributes) as s:
        yield s


def _trace_id(span: Span) -> str:
    return format(span.get_span_context().trace_id, "032x")


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def execute_tool(
    call_id: str, name: str, arguments: Mapping[str, Any], impls: Mapping[str, ToolImpl]
) -> ToolRun:
    """Run one tool in an ``execute_tool {name}`` span; an error becomes an error result."""
    tracer = trace.get_tracer(TRACER_NAME)
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.call.arguments": json.dumps(dict(arguments), separators=(",", ":")),
    }
    with tracer.start_as_current_span(
        f"execute_tool {name}", attributes=attributes, record_exception=False
    ) as span:
        try:
            if name not in impls:
                raise KeyError(f"unknown tool {name!r}")
            result, is_error = _as_text(impls[name](**arguments)), False
        except Exception as exc:  # the model sees the error, as agent frameworks do
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            span.set_attribute("error.type", type(exc).__qualname__)
            result, is_error = f"error: {exc}", True
        span.set_attribute("gen_ai.tool.call.result", result)
    return ToolRun(call_id, name, arguments, result, is_error)


def openai_stream(client: openai.OpenAI, request: dict[str, Any]) -> dict[str, Any]:
    """Call with ``stream=True`` and fold the chunks into an assistant message."""
    content: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    stream = client.chat.completions.create(
        **request, stream=True, stream_options={"include_usage": True}
    )
    with stream:
        for chunk in stream:
            for choice in chunk.choices:
                content.append(choice.delta.content or "")
                for delta in choice.delta.tool_calls or []:
                    call = calls.setdefault(
                        delta.index,
                        {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
                    )
                    call["id"] = delta.id or call["id"]
                    if delta.function is not None:
                        call["function"]["name"] += delta.function.name or ""
                        call["function"]["arguments"] += delta.function.arguments or ""
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content) or None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message


def run_openai_agent(
    base_url: str,
    model: str,
    user_prompt: str,
    tools: Sequence[ToolSpec],
    tool_impls: Mapping[str, ToolImpl],
    *,
    system: str | None = None,
    agent_name: str = "test_agent",
    session_id: str = "session-0001",
    user_id: str = "user-0001",
    stream: bool = False,
    max_steps: int = 8,
    max_retries: int = 2,
) -> AgentRun:
    """Chat Completions tool loop until the model answers without tool calls."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user_prompt})
    offered = [tool.openai() for tool in tools]
    with (
        _agent_span("openai", model, _RunContext(agent_name, session_id, user_id)) as root,
        openai.OpenAI(base_url=base_url, api_key="test", max_retries=max_retries) as client,
    ):
        run = AgentRun("", messages, _trace_id(root))
        for _ in range(max_steps):
            request: dict[str, Any] = {"model": model, "messages": messages}
            if offered:
                request["tools"] = offered
            if stream:
                message = openai_stream(client, request)
            else:
                completion = client.chat.completions.create(**request)
                message = completion.choices[0].message.model_dump(
                    include={"role", "content", "tool_calls"}, exclude_none=True
                )
                message.setdefault("content", None)
            run.llm_calls += 1
            messages.append(message)
            if not message.get("tool_calls"):
                run.text = message.get("content") or ""
                return run
            for call in message["tool_calls"]:
                function = call["function"]
                arguments = json.loads(function["arguments"] or "{}")
                done = execute_tool(call["id"], function["name"], arguments, tool_impls)
                run.tool_runs.append(done)
                messages.append(
                    {"role": "tool", "tool_call_id": call["id"], "content": done.result}
                )
        raise RuntimeError(f"agent did not finish in {max_steps} steps")


def anthropic_blocks(message: anthropic.types.Message) -> list[dict[str, Any]]:
    """The response's content as request blocks (text and tool_use)."""
    blocks: list[dict[str, Any]] = []
    for block in message.content:
        if block.type == "text":
            blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
    return blocks


def run_anthropic_agent(
    base_url: str,
    model: str,
    user_prompt: str,
    tools: Sequence[ToolSpec],
    tool_impls: Mapping[str, ToolImpl],
    *,
    system: str | None = None,
    agent_name: str = "test_agent",
    session_id: str = "session-0001",
    user_id: str = "user-0001",
    stream: bool = False,
    max_tokens: int = 1024,
    max_steps: int = 8,
    max_retries: int = 2,
) -> AgentRun:
    """Messages API tool loop (tool_use / tool_result blocks) until ``end_turn``."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": user_prompt}]
    request: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": messages}
    if system:
        request["system"] = system
    if tools:
        request["tools"] = [tool.anthropic() for tool in tools]
    with (
        _agent_span("anthropic", model, _RunContext(agent_name, session_id, user_id)) as root,
        anthropic.Anthropic(base_url=base_url, api_key="test", max_retries=max_retries) as client,
    ):
        run = AgentRun("", messages, _trace_id(root))
        for _ in range(max_steps):
            if stream:
                with client.messages.stream(**request) as events:
                    response = events.get_final_message()
            else:
                response = client.messages.create(**request)
            run.llm_calls += 1
            blocks = anthropic_blocks(response)
            messages.append({"role": "assistant", "content": blocks})
            uses = [block for block in blocks if block["type"] == "tool_use"]
            if not uses:
                run.text = "".join(b["text"] for b in blocks if b["type"] == "text")
                return run
            results = []
            for use in uses:
                done = execute_tool(use["id"], use["name"], use["input"], tool_impls)
                run.tool_runs.append(done)
                result = {"type": "tool_result", "tool_use_id": use["id"], "content": done.result}
                results.append({**result, "is_error": True} if done.is_error else result)
            messages.append({"role": "user", "content": results})
        raise RuntimeError(f"agent did not finish in {max_steps} steps")
