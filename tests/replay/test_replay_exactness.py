"""The rendered request of every LLM call equals the body the provider received.

For every instrumentor configuration (real instrumentors, real ``openai``/``anthropic``
clients, the local fake provider recording each request body), the OpenAI or Anthropic
rendering of each stored call is compared field by field with what the provider got: roles,
text, tool calls (id, name, arguments as JSON), tool call ids, Anthropic ``system``,
``tool_use`` and ``tool_result`` blocks, tools offered, model and parameters. A field the
instrumentor did not capture must be listed in ``not_captured``, never invented.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from support.liveserver import RunningServer
from support.payloads.capture import CONFIGS

NAMES = sorted(CONFIGS)
_BODY_KEYS = {"messages", "tools", "system", "model"}


@pytest.mark.parametrize("name", NAMES)
def test_rendered_requests_equal_what_the_provider_received(
    server: RunningServer, instrumented_runs: Callable[[str], dict[str, Any]], name: str
) -> None:
    result = instrumented_runs(name)
    api = CONFIGS[name].api
    calls = server.get(f"/api/v1/runs/{result['trace_id']}/llm-calls", format=api)["llm_calls"]
    sent = [e["body"] for e in result["exchanges"]]
    assert len(calls) == len(sent)
    for index, (call, body) in enumerate(zip(calls, sent, strict=True)):
        rendered, missing = call["request"], call["not_captured"]
        where = f"{name} call {index + 1}"
        assert rendered["model"] == body["model"], where
        if api == "openai":
            _same_openai_messages(rendered, body, where)
        else:
            _same_anthropic(rendered, body, missing, where)
        _same_tools(api, rendered, body, missing, where)
        _same_parameters(rendered, body, missing, where)


def _same_openai_messages(rendered: dict[str, Any], body: dict[str, Any], where: str) -> None:
    assert len(rendered["messages"]) == len(body["messages"]), where
    for got, want in zip(rendered["messages"], body["messages"], strict=True):
        assert got["role"] == want["role"], (where, got, want)
        assert (got.get("content") or None) == (want.get("content") or None), (where, got, want)
        assert got.get("tool_call_id") == want.get("tool_call_id"), where
        got_calls, want_calls = got.get("tool_calls") or [], want.get("tool_calls") or []
        assert len(got_calls) == len(want_calls), where
        for g, w in zip(got_calls, want_calls, strict=True):
            assert (g["id"], g["type"], g["function"]["name"]) == (
                w["id"],
                w["type"],
                w["function"]["name"],
            ), where
            arguments = json.loads(g["function"]["arguments"])
            assert arguments == json.loads(w["function"]["arguments"]), where


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [_block(b) for b in content]


def _block(block: dict[str, Any]) -> dict[str, Any]:
    if block.get("type") == "tool_result" and not isinstance(block.get("content"), str):
        return {**block, "content": _blocks(block["content"])}
    return block


def _same_anthropic(
    rendered: dict[str, Any], body: dict[str, Any], missing: list[str], where: str
) -> None:
    if "system" in body:
        if "system" in missing:
            assert "system" not in rendered, where
        else:
            assert _blocks(rendered["system"]) == _blocks(body["system"]), where
    assert len(rendered["messages"]) == len(body["messages"]), (where, rendered["messages"])
    for got, want in zip(rendered["messages"], body["messages"], strict=True):
        assert got["role"] == want["role"], where
        assert _blocks(got["content"]) == _blocks(want["content"]), (where, got, want)


def _same_tools(
    api: str, rendered: dict[str, Any], body: dict[str, Any], missing: list[str], where: str
) -> None:
    if "tools" in missing:
        assert "tools" not in rendered, where
        return
    assert rendered["tools"] == body["tools"], where


def _same_parameters(
    rendered: dict[str, Any], body: dict[str, Any], missing: list[str], where: str
) -> None:
    parameters = {k: v for k, v in rendered.items() if k not in _BODY_KEYS}
    for key, value in parameters.items():
        assert key in body and body[key] == value, (where, key, value)
    if "parameters" in missing:
        assert not parameters, where
