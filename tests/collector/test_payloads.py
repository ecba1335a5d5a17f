"""Decode and normalize the saved payloads of every instrumentor, without a server.

The payloads are what the real instrumentors exported for the weather scenario (see
``payloads/README.md``); the request bodies the fake provider received are saved beside
them. Written to a real chDB store, each run must read back as three calls with their
context windows, tokens counted once.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from agentreel.collector.decode import decode_logs_proto, decode_traces_proto
from agentreel.collector.normalize import normalize_logs, normalize_spans
from agentreel.replay.windows import llm_calls
from agentreel.server.routes.replay_json import call_json
from agentreel.storage import queries
from agentreel.storage.writer import Writer

from support.paths import PAYLOADS
from support.payloads import scenario
from support.payloads.capture import CONFIGS

HERE = PAYLOADS
CONVENTIONS = {
    "openinference_openai": "openinference",
    "openinference_anthropic": "openinference",
    "otel_genai_openai_latest": "otel_genai",
    "otel_genai_openai_events": "otel_genai_legacy",
    "openllmetry_openai": "otel_genai",
    "openllmetry_anthropic": "otel_genai",
    "openinference_and_openllmetry_openai": "otel_genai",
}


def _load(name: str, store: Any) -> tuple[str, str, list[dict[str, Any]]]:
    project = f"payload-{uuid.uuid4().hex[:8]}"
    decoded = decode_traces_proto((HERE / f"{name}.traces.pb").read_bytes())
    assert not decoded.rejected
    batch = normalize_spans(decoded, project)
    messages = []
    logs = HERE / f"{name}.logs.pb"
    if logs.exists():
        log_batch = normalize_logs(decode_logs_proto(logs.read_bytes()), project)
        assert not log_batch.rejected
        messages = log_batch.messages
    Writer(store).write(batch.spans, messages)
    (trace_id,) = {s.trace_id for s in batch.spans}
    requests = json.loads((HERE / f"{name}.requests.json").read_text())
    return project, trace_id, requests


def _llm_calls(store: Any, project: str, trace_id: str) -> list[dict[str, Any]] | None:
    """The run's LLM calls as the REST API answers them."""
    found = llm_calls(store, project, trace_id)
    return None if found is None else [call_json(call) for call in found]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_payload_reads_back_as_three_calls(store: Any, name: str) -> None:
    project, trace_id, requests = _load(name, store)
    run = queries.run_summary(store, project, trace_id)
    assert run is not None
    assert (run["llm_calls"], run["tool_calls"], run["errors"]) == (3, 2, 0)
    assert run["agent"] == scenario.AGENT_NAME and run["user"] == scenario.USER_ID

    calls = _llm_calls(store, project, trace_id)
    assert calls is not None and len(calls) == 3
    api = CONFIGS[name].api
    for call, request in zip(calls, requests, strict=True):
        assert call["provider"] == api
        assert call["convention"] == CONVENTIONS[name.removesuffix("_stream")]
        assert call["usage"]["input_tokens"] > 0 and call["usage"]["output_tokens"] > 0
        window = [m for m in call["input_messages"] if m["role"] != "system"]
        sent = [m for m in request["messages"] if m["role"] != "system"]
        assert len(window) == len(sent)
        assert call["output_messages"], call
    # Tokens count once even where two spans record a call.
    per_call = sum(c["usage"]["input_tokens"] for c in calls)
    assert run["usage"]["input_tokens"] == per_call


def test_openinference_tool_calls_and_results_are_canonical(store: Any) -> None:
    project, trace_id, requests = _load("openinference_openai", store)
    calls = _llm_calls(store, project, trace_id)
    assert calls is not None
    third = calls[2]["input_messages"]
    assert [m["role"] for m in third] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]
    call_part = third[2]["parts"][0]
    assert call_part == {
        "type": "tool_call",
        "id": "call_0001",
        "name": "get_weather",
        "arguments": requests[2]["messages"][2]["tool_calls"][0]["function"]["arguments"],
    }
    result_part = third[3]["parts"][0]
    assert result_part["type"] == "tool_call_response" and result_part["id"] == "call_0001"
    assert result_part["response"] == requests[2]["messages"][3]["content"]
    assert calls[0]["tool_definitions"][0]["function"]["name"] == "get_weather"


def test_events_mode_joins_messages_from_logs(store: Any) -> None:
    project, trace_id, requests = _load("otel_genai_openai_events", store)
    calls = _llm_calls(store, project, trace_id)
    assert calls is not None
    for call, request in zip(calls, requests, strict=True):
        assert len(call["input_messages"]) == len(request["messages"])
        assert call["input_messages"][0] == {
            "role": "system",
            "parts": [{"type": "text", "content": scenario.SYSTEM}],
        }
    assert calls[2]["output_messages"][0]["parts"] == [{"type": "text", "content": scenario.ANSWER}]


def test_a_tool_call_recorded_twice_is_one_part(store: Any) -> None:
    project, trace_id, _ = _load("openinference_anthropic", store)
    calls = _llm_calls(store, project, trace_id)
    assert calls is not None
    assistant = calls[2]["input_messages"][2]
    assert assistant == {
        "role": "assistant",
        "parts": [
            {
                "type": "tool_call",
                "id": "toolu_0001",
                "name": "get_weather",
                "arguments": '{"city": "Paris"}',
            }
        ],
    }


def test_anthropic_sdk_span_is_folded_into_the_instrumentor_call(store: Any) -> None:
    for name in (
        "openinference_anthropic",
        "openllmetry_anthropic",
        "openinference_anthropic_stream",
    ):
        project, trace_id, _ = _load(name, store)
        calls = _llm_calls(store, project, trace_id)
        assert calls is not None
        assert [len(c["span_ids"]) for c in calls] == [2, 2, 2], name
        assert all(c["captured"]["input"] for c in calls), name


def test_one_conversation_recorded_by_two_instrumentors_does_not_diverge(store: Any) -> None:
    from agentreel.replay.rundiff import run_diff
    from agentreel.replay.timeline import load_timeline

    timelines = []
    for name in ("openinference_anthropic", "openllmetry_anthropic"):
        project, trace_id, _ = _load(name, store)
        timeline = load_timeline(store, project, trace_id)
        assert timeline is not None
        timelines.append(timeline)
    diff = run_diff(*timelines)
    assert diff["first_divergence"] is None, diff["summary"]
    assert diff["identical"] is True
