"""Real instrumentors, real provider clients, real OTLP exporters, a running agentreel.

Each configuration runs the weather scenario (two tool calls, then an answer) in a fresh
interpreter against the local fake provider and exports to the session's server; the test
then reads the run back through the REST API and checks the normalized fields against what
the fake provider actually answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from support.instrumented import GAPS, OUTPUT_SURPLUS
from support.liveserver import RunningServer
from support.payloads import scenario
from support.payloads.capture import CONFIGS


def _expected_usage(api: str, usage: dict[str, Any]) -> dict[str, int]:
    """Usage in agentreel's (OTel) semantics: input tokens include cached ones."""
    if api == "openai":
        return {
            "input": usage["prompt_tokens"],
            "output": usage["completion_tokens"],
            "cache_read": usage["prompt_tokens_details"]["cached_tokens"],
            "cache_write": 0,
            "reasoning": usage["completion_tokens_details"]["reasoning_tokens"],
        }
    cache_read = usage["cache_read_input_tokens"]
    cache_write = usage["cache_creation_input_tokens"]
    return {
        "input": usage["input_tokens"] + cache_read + cache_write,
        "output": usage["output_tokens"],
        "cache_read": cache_read,
        "cache_write": cache_write,
        "reasoning": 0,
    }


def _texts(message: dict[str, Any]) -> str:
    """Everything a canonical message says, as one string to search."""
    return json.dumps(message["parts"], ensure_ascii=False)


NAMES = sorted(CONFIGS)


@pytest.mark.parametrize("name", NAMES)
def test_instrumented_run_is_normalized(
    server: RunningServer, instrumented_runs: Callable[[str], dict[str, Any]], name: str
) -> None:
    result = instrumented_runs(name)
    protocol = result["protocol"]
    assert result["flushed"], "the exporters did not flush"
    api = CONFIGS[name].api
    trace_id = result["trace_id"]
    exchanges = result["exchanges"]
    assert len(exchanges) == 3

    detail = server.get(f"/api/v1/runs/{trace_id}")
    summary = detail["run"]
    assert summary["agent"] == scenario.AGENT_NAME
    assert summary["session"] == f"{scenario.SESSION_ID}-{name}-{protocol}"
    assert summary["user"] == scenario.USER_ID
    assert summary["service"] == f"it-{name}"
    # One call, whatever number of spans recorded it.
    assert summary["llm_calls"] == 3
    assert summary["tool_calls"] == 2
    assert summary["status"] == "ok"

    expected = [_expected_usage(api, e["usage"]) for e in exchanges]
    usage = summary["usage"]
    gaps = GAPS.get(name, GAPS.get(name.removesuffix("_stream"), set()))
    assert usage["input_tokens"] == sum(e["input"] for e in expected)
    output = sum(e["output"] for e in expected)
    assert usage["output_tokens"] in {output, output + OUTPUT_SURPLUS.get(name, 0) * 3}
    if "cache" not in gaps:
        assert usage["cache_read_tokens"] == sum(e["cache_read"] for e in expected)
        assert usage["cache_write_tokens"] == sum(e["cache_write"] for e in expected)
    if "reasoning" not in gaps:
        assert usage["reasoning_tokens"] == sum(e["reasoning"] for e in expected)

    spans = _flatten(detail["spans"])
    llm = [s for s in spans if s["kind"] == "llm"]
    model = scenario.OPENAI_MODEL if api == "openai" else scenario.ANTHROPIC_MODEL
    for span in llm:
        assert span["provider"] == api, span
        assert span["model"].startswith(model), span
    tools = sorted((s["tool"]["name"], s["tool"]["call_id"]) for s in spans if s["kind"] == "tool")
    prefix = "call_" if api == "openai" else "toolu_"
    assert tools == [("c_to_f", f"{prefix}0002"), ("get_weather", f"{prefix}0001")]

    calls = server.get(f"/api/v1/runs/{trace_id}/llm-calls")["llm_calls"]
    assert len(calls) == 3
    for call, exchange in zip(calls, exchanges, strict=True):
        assert call["captured"]["input"], call
        assert not call["missing_content"]
        request = exchange["body"]
        window = call["input_messages"]
        system = call["system_instructions"]
        in_messages = [m for m in window if m["role"] != "system"]
        system_texts = json.dumps(system or []) + "".join(
            _texts(m) for m in window if m["role"] == "system"
        )
        # Every message the provider received is in the stored window, in order.
        provider_messages = [m for m in request["messages"] if m["role"] != "system"]
        assert len(in_messages) == len(provider_messages)
        assert scenario.SYSTEM in system_texts
        assert scenario.USER_PROMPT in _texts(in_messages[0])
        for stored, sent in zip(in_messages, provider_messages, strict=True):
            for fragment in _fragments(sent):
                assert fragment in _texts(stored), (fragment, stored)


def _fragments(message: dict[str, Any]) -> list[str]:
    """Distinctive text of a provider message: its text, tool call ids and tool results."""
    content = message.get("content")
    out: list[str] = []
    if isinstance(content, str) and content:
        out.append(json.dumps(content, ensure_ascii=False)[1:-1])
    elif isinstance(content, list):
        for block in content:
            if block.get("type") == "text":
                out.append(json.dumps(block["text"], ensure_ascii=False)[1:-1])
            elif block.get("type") == "tool_use":
                out.append(block["id"])
            elif block.get("type") == "tool_result":
                out.append(block["tool_use_id"])
    for call in message.get("tool_calls") or []:
        out += [call["id"], call["function"]["name"]]
    if message.get("tool_call_id"):
        out.append(message["tool_call_id"])
    return out


def _flatten(tree: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for node in tree:
        out.append(node)
        out += _flatten(node["children"])
    return out
