"""Field-by-field comparisons of a rendered request with the body the provider received:
roles, text, tool calls, tool call ids, Anthropic ``system`` and blocks, tools, parameters. A
field the instrumentor did not capture must be listed in ``not_captured``, never invented."""

from __future__ import annotations

import json
from typing import Any

_BODY_KEYS = {"messages", "tools", "system", "model"}


def same_openai_messages(rendered: dict[str, Any], body: dict[str, Any], where: str) -> None:
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


def same_anthropic(
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


def same_tools(
    api: str, rendered: dict[str, Any], body: dict[str, Any], missing: list[str], where: str
) -> None:
    if "tools" in missing:
        assert "tools" not in rendered, where
        return
    assert rendered["tools"] == body["tools"], where


def same_parameters(
    rendered: dict[str, Any], body: dict[str, Any], missing: list[str], where: str
) -> None:
    parameters = {k: v for k, v in rendered.items() if k not in _BODY_KEYS}
    for key, value in parameters.items():
        assert key in body and body[key] == value, (where, key, value)
    if "parameters" in missing:
        assert not parameters, where
