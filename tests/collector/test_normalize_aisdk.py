"""The AI SDK's ``ai.*`` convention on hand-made spans (attribute names and shapes as AI SDK 6
emits them; tests/frameworks/test_aisdk.py runs the real thing): what is counted, what is
rebuilt, and what bad input costs."""

from __future__ import annotations

import json
from typing import Any

from agentreel.collector.decode import decode_traces_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.core import content
from agentreel.core.model import Span

from support.otlpbuild import new_span_id, new_trace_id, span, traces

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
MESSAGES = [
    {"role": "system", "content": "Be terse."},
    {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
    {
        "role": "assistant",
        "content": [
            {"type": "tool-call", "toolCallId": "call_1", "toolName": "get_weather",
             "input": {"city": "Paris"}},
        ],
    },
    {
        "role": "tool",
        "content": [
            {"type": "tool-result", "toolCallId": "call_1", "toolName": "get_weather",
             "output": {"type": "json", "value": {"temp_c": 21}}},
        ],
    },
]  # fmt: skip


def _one(attrs: dict[str, Any], name: str = "s", scope: str = "ai") -> Span:
    request = traces([span(new_trace_id(), new_span_id(), name, attrs)], scope=scope)
    (out,) = normalize_spans(decode_traces_proto(request.SerializeToString()), "p").spans
    return out


def _step(provider: str = "openai.chat", **extra: Any) -> dict[str, Any]:
    return {
        "ai.operationId": "ai.generateText.doGenerate",
        "ai.telemetry.functionId": "weather_agent",
        "gen_ai.system": provider,
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.id": "chatcmpl-9",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 9,
        "ai.usage.inputTokens": 120,
        "ai.usage.outputTokens": 9,
        "ai.usage.totalTokens": 129,
        "ai.usage.cachedInputTokens": 30,
        "ai.usage.inputTokenDetails.cacheReadTokens": 30,
        "ai.usage.inputTokenDetails.cacheWriteTokens": 15,
        "ai.usage.reasoningTokens": 2,
        "ai.prompt.messages": json.dumps(MESSAGES),
        "ai.prompt.tools": [json.dumps(TOOL)],
        "ai.prompt.toolChoice": json.dumps({"type": "auto"}),
        "ai.response.text": "21C.",
        **extra,
    }


def _bodies(s: Span) -> dict[str, Any]:
    found = {c.hash: c.body for c in s.contents}
    if s.input_group is not None:
        found.update({c.hash: c.body for c in s.input_group.pending()})
    return found


def _messages(s: Span, refs: list[str]) -> list[Any]:
    bodies, missing = _bodies(s), []
    return [content.expand(content.decode(bodies[r]), bodies, missing) for r in refs]


def test_a_step_is_one_llm_call_with_its_own_usage() -> None:
    s = _one(_step(), name="ai.generateText.doGenerate")
    assert (s.kind, s.operation, s.convention) == ("llm", "chat", "aisdk")
    assert (s.provider, s.request_model, s.model) == (
        "openai.chat",
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
    )
    assert (s.response_id, s.finish_reasons, s.agent) == ("chatcmpl-9", ["stop"], "weather_agent")
    usage = (s.input_tokens, s.output_tokens, s.total_tokens)
    assert usage == (120, 9, 129)
    assert (s.cache_read_tokens, s.cache_write_tokens, s.reasoning_tokens) == (30, 15, 2)
    # Read once: no usage key is left over to be read again.
    assert not [k for k in s.attributes if "usage" in k]


def test_a_step_window_is_rebuilt_as_genai_messages() -> None:
    s = _one(_step(), name="ai.generateText.doGenerate")
    assert _messages(s, s.input_refs) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be terse."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "get_weather",
                    "arguments": {"city": "Paris"},
                }
            ],
        },
        # A JSON tool output goes to the provider as compact JSON text.
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1",
                                    "response": '{"temp_c":21}'}]},
    ]  # fmt: skip
    assert _messages(s, s.output_refs) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "21C."}]}
    ]
    tools = content.decode(_bodies(s)[s.tools_ref])
    assert tools == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": TOOL["inputSchema"],
        }
    ]
    assert s.attributes["gen_ai.request.tool_choice"] == '"auto"'


def test_tool_choice_is_spelled_as_the_provider_takes_it() -> None:
    named = json.dumps({"type": "tool", "toolName": "get_weather"})
    cases = {
        "openai.chat": {"type": "function", "function": {"name": "get_weather"}},
        "openai.responses": {"type": "function", "name": "get_weather"},
        "anthropic.messages": {"type": "tool", "name": "get_weather"},
    }
    for provider, wire in cases.items():
        s = _one(_step(provider, **{"ai.prompt.toolChoice": named}))
        assert json.loads(s.attributes["gen_ai.request.tool_choice"]) == wire, provider
    required = json.dumps({"type": "required"})
    s = _one(_step("anthropic.messages", **{"ai.prompt.toolChoice": required}))
    assert json.loads(s.attributes["gen_ai.request.tool_choice"]) == {"type": "any"}
    # A provider whose spelling is not known: kept as the AI SDK wrote it, not guessed.
    s = _one(_step("mistral.chat"))
    assert "gen_ai.request.tool_choice" not in s.attributes
    assert s.attributes["ai.prompt.toolChoice"] == '{"type": "auto"}'


def test_the_root_total_is_never_counted() -> None:
    """The root adds up its steps' usage (and may carry gen_ai.* too): an agent span with no
    tokens, whose totals stay readable as attributes."""
    s = _one(
        {
            "ai.operationId": "ai.streamText",
            "ai.telemetry.functionId": "weather_agent",
            "ai.model.provider": "openai.chat",
            "ai.model.id": "gpt-4o-mini",
            "gen_ai.system": "openai.chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "ai.usage.inputTokens": 1062,
            "ai.usage.outputTokens": 57,
            "gen_ai.usage.input_tokens": 1062,
            "gen_ai.usage.output_tokens": 57,
        },
        name="ai.streamText",
    )
    assert (s.kind, s.agent) == ("agent", "weather_agent")
    assert (s.input_tokens, s.output_tokens, s.total_tokens) == (0, 0, 0)
    assert s.attributes["ai.usage.inputTokens"] == "1062"
    assert s.attributes["gen_ai.usage.input_tokens"] == "1062"


def test_a_tool_call_span() -> None:
    s = _one(
        {
            "ai.operationId": "ai.toolCall",
            "ai.telemetry.functionId": "weather_agent",
            "ai.toolCall.name": "get_weather",
            "ai.toolCall.id": "call_1",
            "ai.toolCall.args": '{"city":"Paris"}',
            # JSON of what execute() returned: here a string.
            "ai.toolCall.result": json.dumps('{"temp_c":21}'),
        },
        name="ai.toolCall",
    )
    assert (s.kind, s.tool_name, s.tool_call_id) == ("tool", "get_weather", "call_1")
    bodies = _bodies(s)
    assert content.decode(bodies[s.tool_arguments_ref]) == '{"city":"Paris"}'
    assert content.decode(bodies[s.tool_result_ref]) == '{"temp_c":21}'


def test_the_agent_falls_back_to_the_resource_name() -> None:
    s = _one({"ai.operationId": "ai.generateText", "resource.name": "planner"})
    assert s.agent == "planner"


def test_a_prompt_that_does_not_parse_is_kept_and_the_rest_is_read() -> None:
    s = _one(_step(**{"ai.prompt.messages": "[{not json"}))
    assert s.attributes["ai.prompt.messages"] == "[{not json"
    assert s.warnings == ["ai.prompt.messages is not valid JSON; kept as a plain attribute"]
    assert s.input_refs == []
    assert (s.kind, s.input_tokens, s.output_tokens) == ("llm", 120, 9)
    assert s.tools_ref and s.output_refs


def test_ai_sdk_7_tool_results_are_unquoted_only_for_its_scope() -> None:
    attrs = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "c_to_f",
        "gen_ai.tool.call.id": "call_3",
        "gen_ai.tool.call.result": json.dumps("69.8"),
    }
    s = _one(attrs, scope="gen_ai")
    assert content.decode(_bodies(s)[s.tool_result_ref]) == "69.8"
    other = _one(attrs, scope="someone-else")
    assert content.decode(_bodies(other)[other.tool_result_ref]) == '"69.8"'


def test_an_operation_it_does_not_know_is_read_as_its_gen_ai_attributes() -> None:
    s = _one(
        {
            "ai.operationId": "ai.embed.doEmbed",
            "ai.telemetry.functionId": "indexer",
            "gen_ai.operation.name": "embeddings",
            "gen_ai.request.model": "text-embedding-3-small",
            "gen_ai.usage.input_tokens": 12,
        }
    )
    assert (s.kind, s.agent, s.request_model, s.input_tokens) == (
        "embedding",
        "indexer",
        "text-embedding-3-small",
        12,
    )
