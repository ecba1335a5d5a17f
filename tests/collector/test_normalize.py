"""Normalizers on hand-made spans: conventions the captures do not cover, and edge cases."""

from __future__ import annotations

import json
from typing import Any

from agentreel.collector.decode import decode_traces_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.core import content
from agentreel.core.content import ContentCache
from agentreel.core.model import Span
from agentreel.replay.windows import _with_finish_reasons

from support.otlpbuild import new_span_id, new_trace_id, span, traces


def _one(attrs: dict[str, Any], scope: str = "tests", **kw: Any) -> Span:
    request = traces(
        [span(new_trace_id(), new_span_id(), kw.pop("name", "s"), attrs, **kw)], scope=scope
    )
    (out,) = normalize_spans(decode_traces_proto(request.SerializeToString()), "p").spans
    return out


def _messages(s: Span, slot: str = "input") -> list[Any]:
    bodies = {c.hash: c.body for c in s.contents}
    if slot == "input" and s.input_group is not None:
        bodies.update({c.hash: c.body for c in s.input_group.pending()})
    refs = s.input_refs if slot == "input" else s.output_refs
    missing: list[str] = []
    messages = [content.expand(content.decode(bodies[r]), bodies, missing) for r in refs]
    if slot == "output":
        messages = _with_finish_reasons(messages, s.output_finish_reasons)
    return messages


def test_openllmetry_legacy_indexed_attributes() -> None:
    s = _one(
        {
            "llm.request.type": "chat",
            "gen_ai.system": "OpenAI",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.usage.prompt_tokens": 50,
            "gen_ai.usage.completion_tokens": 7,
            "llm.usage.total_tokens": 57,
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "Be brief.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": "Weather?",
            "gen_ai.prompt.2.role": "assistant",
            "gen_ai.prompt.2.tool_calls.0.id": "call_9",
            "gen_ai.prompt.2.tool_calls.0.name": "weather",
            "gen_ai.prompt.2.tool_calls.0.arguments": '{"city": "Oslo"}',
            "gen_ai.prompt.3.role": "tool",
            "gen_ai.prompt.3.tool_call_id": "call_9",
            "gen_ai.prompt.3.content": "-3C",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "Cold.",
            "gen_ai.completion.0.finish_reason": "stop",
            "llm.request.functions.0.name": "weather",
            "llm.request.functions.0.parameters": '{"type": "object"}',
            "traceloop.association.properties.session_id": "s-1",
            "traceloop.association.properties.user_id": "u-1",
        }
    )
    assert (s.kind, s.convention, s.provider, s.model, s.request_model) == (
        "llm",
        "openllmetry",
        "OpenAI",
        "gpt-4o-2024-08-06",
        "gpt-4o",
    )
    assert (s.input_tokens, s.output_tokens, s.total_tokens) == (50, 7, 57)
    assert (s.session, s.user) == ("s-1", "u-1")
    assert _messages(s) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_9",
                    "name": "weather",
                    "arguments": '{"city": "Oslo"}',
                }
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_9", "response": "-3C"}],
        },
    ]
    assert _messages(s, "output") == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Cold."}],
            "finish_reason": "stop",
        }
    ]
    assert s.attributes == {}, "every attribute was understood"


def test_an_output_message_and_the_same_message_as_next_input_are_one_item() -> None:
    call = {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "f"}]}
    first = _one(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.output.messages": json.dumps([{**call, "finish_reason": "tool_call"}]),
        }
    )
    second = _one({"gen_ai.operation.name": "chat", "gen_ai.input.messages": json.dumps([call])})
    assert first.output_refs == second.input_refs
    assert _messages(first, "output") == [{**call, "finish_reason": "tool_call"}]


def test_structured_values_are_accepted_like_json_strings() -> None:
    messages = [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    as_text = _one({"gen_ai.operation.name": "chat", "gen_ai.input.messages": json.dumps(messages)})
    structured = _one({"gen_ai.operation.name": "chat", "gen_ai.input.messages": messages})
    assert _messages(as_text) == _messages(structured) == messages


def test_message_json_that_does_not_parse_is_kept_with_a_warning() -> None:
    s = _one({"gen_ai.operation.name": "chat", "gen_ai.input.messages": "[{oops"})
    assert s.kind == "llm" and s.input_refs == []
    assert s.attributes["gen_ai.input.messages"] == "[{oops"
    assert "not valid JSON" in s.warnings[0]


def test_errors_from_status_and_exception_events() -> None:
    s = _one(
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "pay"},
        status=2,
        events=[("exception", {"exception.type": "TimeoutError", "exception.message": "slow"})],
    )
    # An ERROR status without a message takes the exception's message.
    assert (s.kind, s.status, s.error_type, s.error_message) == (
        "tool",
        "error",
        "TimeoutError",
        "slow",
    )
    unset = _one({"error.type": "RateLimit"})
    assert (unset.status, unset.error_type) == ("error", "RateLimit")
    assert json.loads(s.events)[0]["name"] == "exception"


def test_decisions_and_explicit_kinds() -> None:
    decision = _one({"agentreel.decision.name": "route", "agentreel.decision.chosen": "search"})
    assert decision.kind == "decision"
    assert decision.attributes["agentreel.decision.chosen"] == "search"
    assert _one({"agentreel.span.kind": "guardrail"}).kind == "guardrail"
    assert _one({"http.method": "GET"}).kind == "span"


def test_openinference_tool_span() -> None:
    s = _one(
        {
            "openinference.span.kind": "TOOL",
            "tool.name": "search",
            "input.value": '{"q": "x"}',
            "output.value": "found",
            "session.id": "s",
        }
    )
    assert (s.kind, s.tool_name, s.session, s.convention) == (
        "tool",
        "search",
        "s",
        "openinference",
    )
    bodies = {c.hash: content.decode(c.body) for c in s.contents}
    assert bodies[s.tool_arguments_ref] == '{"q": "x"}' and bodies[s.tool_result_ref] == "found"


def test_a_langchain_tool_span_gives_its_call_id_and_the_tool_messages_content() -> None:
    """OpenInference's LangChain instrumentor records the ToolMessage the tool returned, as
    LangGraph's ToolNode builds it (shape seen from openinference-instrumentation-langchain
    with langgraph 1.x), and as LangChain serializes messages elsewhere."""
    message = {"content": '{"temp_c": 21}', "tool_call_id": "call_0001", "name": "get_weather"}
    for output in (
        {"type": "tool", "data": {**message, "type": "tool", "id": None, "status": "success"}},
        {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", "ToolMessage"],
         "kwargs": {**message, "type": "tool"}},
    ):  # fmt: skip
        s = _one(
            {"openinference.span.kind": "TOOL", "tool.name": "get_weather",
             "input.value": "Paris", "output.value": json.dumps(output)},
            scope="openinference.instrumentation.langchain",
        )  # fmt: skip
        bodies = {c.hash: content.decode(c.body) for c in s.contents}
        assert (s.tool_call_id, bodies[s.tool_result_ref]) == ("call_0001", '{"temp_c": 21}')
    # Any other JSON result is the result as it was.
    s = _one({"openinference.span.kind": "TOOL", "tool.name": "t", "output.value": '{"type": 1}'})
    bodies = {c.hash: content.decode(c.body) for c in s.contents}
    assert (s.tool_call_id, bodies[s.tool_result_ref]) == ("", '{"type": 1}')


def test_autogen_function_results_are_tool_results() -> None:
    """``openinference-instrumentation-autogen-agentchat`` records a tool result message as
    ``function.{i}`` JSON under role ``function``."""
    result = {"name": "get_weather", "content": "21C", "call_id": "call_0001", "is_error": False}
    s = _one(
        {
            "openinference.span.kind": "LLM",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "weather?",
            "llm.input_messages.1.message.role": "assistant",
            "llm.input_messages.1.message.tool_calls.0.tool_call.id": "call_0001",
            "llm.input_messages.1.message.tool_calls.0.tool_call.function.name": "get_weather",
            "llm.input_messages.1.message.tool_calls.0.tool_call.function.arguments": "{}",
            "llm.input_messages.2.message.role": "function",
            "llm.input_messages.2.function.0": json.dumps(result),
            "llm.input_messages.2.function.1": json.dumps({**result, "call_id": "call_0002",
                                                           "content": "boom", "is_error": True}),
        }
    )  # fmt: skip
    last = _messages(s)[2]
    assert last["role"] == "tool" and "attributes" not in last
    assert last["parts"] == [
        {"type": "tool_call_response", "id": "call_0001", "response": "21C"},
        {"type": "tool_call_response", "id": "call_0002", "response": "boom", "is_error": True},
    ]


def test_agent_names_where_openinference_has_no_agent_name() -> None:
    langgraph = "openinference.instrumentation.langchain"
    cases = [
        # CrewAI's agent span: the role in graph.node.id (also the Agents SDK's agent span).
        ({"openinference.span.kind": "AGENT", "graph.node.id": "Weather analyst"},
         "Weather analyst._execute_core", "openinference.instrumentation.crewai", "Weather analyst"),
        # LangGraph's graph span, named after the graph; its nodes' spans name no agent.
        ({"openinference.span.kind": "CHAIN", "metadata": '{"ls_integration": "langgraph"}'},
         "weather_graph", langgraph, "weather_graph"),
        ({"openinference.span.kind": "AGENT",
          "metadata": '{"ls_integration": "langgraph", "langgraph_node": "agent"}'},
         "agent", langgraph, ""),
        # @tracer.agent(name=...) in the agent's own code.
        ({"openinference.span.kind": "AGENT"}, "planner", "my_app", "planner"),
        # A framework's AGENT span that is not named after an agent.
        ({"openinference.span.kind": "AGENT"}, "Agent workflow",
         "openinference.instrumentation.openai_agents", ""),
        # agent.name wins.
        ({"openinference.span.kind": "AGENT", "agent.name": "a", "graph.node.id": "b"},
         "c", "my_app", "a"),
    ]  # fmt: skip
    for attrs, name, scope, agent in cases:
        assert _one(attrs, scope=scope, name=name).agent == agent, (name, scope)


def test_long_strings_are_shared_between_a_tool_span_and_the_next_call() -> None:
    result = "row " * 200
    tool = _one({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.call.result": result})
    message = {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "c", "response": result}],
    }
    chat = _one({"gen_ai.operation.name": "chat", "gen_ai.input.messages": json.dumps([message])})
    leaves = {c.hash for c in chat.input_group.pending() if c.kind == "text"}
    assert tool.tool_result_ref in leaves
    assert _messages(chat) == [message]


def test_a_message_that_looks_like_a_ref_is_kept_as_it_was() -> None:
    tricky = {"role": "user", "parts": [{"type": "text", "content": {"@ref": "00" * 16}}]}
    s = _one({"gen_ai.operation.name": "chat", "gen_ai.input.messages": [tricky]})
    assert _messages(s) == [tricky]


def test_prefix_cache_gives_the_same_items_as_a_full_parse() -> None:
    trace = ("p", "t")
    conversation: list[dict[str, Any]] = []
    cache = ContentCache(max_traces=4)
    # Compact JSON extends the previous call's text; indented JSON does not (full parse).
    indent = [None, None, None, 1, None, None]
    inherited = [0, 1, 2, 0, 0, 5]
    for step in range(6):
        text = f"m{step}" * 100
        conversation.append({"role": "user", "parts": [{"type": "text", "content": text}]})
        raw = json.dumps(conversation, indent=indent[step])
        cached = cache.messages(trace, raw)
        fresh = ContentCache().messages(trace, raw)
        assert cached is not None and fresh is not None
        assert cached.refs == fresh.refs
        assert cached.inherited == inherited[step], step
    # A shorter (earlier, retried) call is parsed in full, not mistaken for an extension.
    earlier = json.dumps(conversation[:2])
    found = cache.messages(trace, earlier)
    assert found is not None and found.inherited == 0 and len(found.refs) == 2
