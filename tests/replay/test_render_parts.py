"""Tool schemas and content parts the spans carry, rendered into provider bodies.

The AI SDK writes a tool's JSON schema as ``inputSchema`` in ``gen_ai.tool.definitions`` (the
conventions say ``parameters``, Anthropic ``input_schema``); each must come out as the target
API's own key, equal to the schema given. A part no API has a block for (the AI SDK's
``custom`` part for a streamed Anthropic call's ``message_start``) was never on the wire: it is
left out of both renderings and listed under ``not_rendered``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from support.liveserver import RunningServer
from support.otlpbuild import new_span_id, new_trace_id, span, traces

WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
CLOCK = {"type": "object", "properties": {"tz": {"type": "string", "enum": ["UTC", "CET"]}}}
CUSTOM = {"type": "custom", "kind": "anthropic.message_start", "providerMetadata": {"x": 1}}
INPUT = [
    {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]},
    {
        "role": "assistant",
        "parts": [
            CUSTOM,
            {"type": "text", "content": "Looking it up."},
            {"type": "tool_call", "id": "t1", "name": "weather", "arguments": {"city": "Oslo"}},
        ],
    },
    {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "t1", "response": "-3C"}],
    },
]
TOOLS = [
    {"type": "function", "name": "weather", "description": "Now.", "inputSchema": WEATHER},
    {"type": "function", "name": "clock", "input_schema": CLOCK},
]


@pytest.fixture(scope="module")
def trace_id(server: RunningServer) -> str:
    trace = new_trace_id()
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-x",
        "gen_ai.request.max_tokens": 100,
        "gen_ai.input.messages": json.dumps(INPUT),
        "gen_ai.tool.definitions": json.dumps(TOOLS),
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 2,
    }
    body = traces([span(trace, new_span_id(), "chat claude-x", attrs)]).SerializeToString()
    response = httpx.post(
        server.url + "/v1/traces",
        content=body,
        headers={"Content-Type": "application/x-protobuf"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    hex_id = trace.hex()

    def stored(s: RunningServer) -> bool:
        got = httpx.get(f"{s.url}/api/v1/runs/{hex_id}/llm-calls", timeout=30)
        return got.status_code == 200 and len(got.json()["llm_calls"]) == 1

    server.wait_for(stored, what="the call stored")
    return hex_id


def _call(server: RunningServer, trace_id: str, fmt: str) -> dict[str, Any]:
    (call,) = server.get(f"/api/v1/runs/{trace_id}/llm-calls", format=fmt)["llm_calls"]
    return call


def test_openai_tools_carry_the_given_schema_as_parameters(
    server: RunningServer, trace_id: str
) -> None:
    request = _call(server, trace_id, "openai")["request"]
    assert request["tools"] == [
        {
            "type": "function",
            "function": {"name": "weather", "description": "Now.", "parameters": WEATHER},
        },
        {"type": "function", "function": {"name": "clock", "parameters": CLOCK}},
    ]


def test_anthropic_tools_carry_the_given_schema_as_input_schema(
    server: RunningServer, trace_id: str
) -> None:
    request = _call(server, trace_id, "anthropic")["request"]
    assert request["tools"] == [
        {"name": "weather", "description": "Now.", "input_schema": WEATHER},
        {"name": "clock", "input_schema": CLOCK},
    ]


def test_a_custom_part_is_left_out_of_openai_and_listed(
    server: RunningServer, trace_id: str
) -> None:
    call = _call(server, trace_id, "openai")
    assert call["request"]["messages"] == [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": "Looking it up.",
            "tool_calls": [
                {
                    "id": "t1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "-3C"},
    ]
    assert call["not_rendered"] == ["input_messages[1].parts[0]: custom (anthropic.message_start)"]
    assert "anthropic.message_start" not in json.dumps(call["request"])


def test_a_custom_part_is_left_out_of_anthropic_and_listed(
    server: RunningServer, trace_id: str
) -> None:
    call = _call(server, trace_id, "anthropic")
    assert call["request"]["messages"] == [
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking it up."},
                {"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Oslo"}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "-3C"}],
        },
    ]
    assert call["not_rendered"] == ["input_messages[1].parts[0]: custom (anthropic.message_start)"]
    assert "anthropic.message_start" not in json.dumps(call["request"])
