"""Windows in a neutral form, for comparing runs recorded by different instrumentors
(:mod:`agentreel.replay.rundiff`): the system prompt as text, tool results as one turn however
they were split, arguments parsed, ids and instrumentor extras left out."""

from __future__ import annotations

import hashlib
from typing import Any

from .diff import canonical_json, fingerprint, json_or_text, text_of
from .memo import Memo
from .render import tool_schema

__all__ = ["neutral_fingerprints", "neutral_window"]


def neutral_window(system: Any, tools: Any, inputs: Any) -> dict[str, Any]:
    """A call's window in a form that does not depend on the instrumentor that recorded it,
    for comparing runs: the system prompt as text (instructions or ``system`` messages
    alike), tool results as one turn however they were split, arguments parsed, ids and
    instrumentor extras left out, tool definitions as name, description and schema."""
    texts, groups = _neutral_input(system, inputs, Memo())
    messages: list[dict[str, Any]] = []
    for role, members in groups:
        parts = [p for _, neutral in members for p in neutral]
        messages.append({"role": role, "parts": parts})
    return {
        "system": "\n".join(texts) if texts else None,
        "tools": _neutral_tools(tools),
        "input": None if inputs is None else messages,
    }


def neutral_fingerprints(system: Any, tools: Any, inputs: Any, memo: Memo) -> dict[str, Any]:
    """:func:`fingerprint` of each slot of :func:`neutral_window`, each message converted and
    serialized once per ``memo`` (the canonical JSON of a list is its items' joined)."""
    texts, groups = _neutral_input(system, inputs, memo)
    chunks = []
    for role, members in groups:
        key = id(members[0][0]) if len(members) == 1 else tuple(id(m) for m, _ in members)
        chunks.append(memo.get("neutral JSON", key, members, _neutral_json, role, members))
    joined = b"[" + b",".join(chunks) + b"]"
    return {
        "system": fingerprint("\n".join(texts)) if texts else None,
        "tools": None if tools is None else fingerprint(_neutral_tools(tools)),
        "input": None if inputs is None else hashlib.blake2b(joined, digest_size=8).hexdigest(),
    }


def _neutral_json(role: str, members: list[tuple[Any, list[Any]]]) -> bytes:
    return canonical_json({"role": role, "parts": [p for _, neutral in members for p in neutral]})


def _neutral_tools(tools: Any) -> Any:
    if tools is None:
        return None
    return sorted((_neutral_tool(t) for t in tools), key=lambda t: str(t["name"]))


_Group = tuple[str, list[tuple[Any, list[dict[str, Any]]]]]


def _neutral_input(system: Any, inputs: Any, memo: Memo) -> tuple[list[str], list[_Group]]:
    """The system texts, and the input messages as (role, [(message, its neutral parts)])
    groups: consecutive tool-result messages form one ``tool_results`` group."""
    texts: list[str] = []
    if isinstance(system, list):
        texts += [text_of(p.get("content")) for p in system if isinstance(p, dict)]
    groups: list[_Group] = []
    for message in inputs if isinstance(inputs, list) else []:
        if not isinstance(message, dict):
            continue
        role, neutral = memo.get("neutral", id(message), message, _neutral_message, message)
        if role == "system":
            texts += neutral
        elif role == "tool_results" and groups and groups[-1][0] == role:
            groups[-1][1].append((message, neutral))
        else:
            groups.append((role, [(message, neutral)]))
    return texts, groups


def _neutral_message(message: dict[str, Any]) -> tuple[str, list[Any]]:
    """(role, neutral parts) of a message; a system message gives its texts instead."""
    parts = [p for p in message.get("parts") or [] if isinstance(p, dict)]
    if message.get("role") == "system":
        return "system", [text_of(p.get("content")) for p in parts if p.get("type") == "text"]
    results = bool(parts) and all(p.get("type") == "tool_call_response" for p in parts)
    role = "tool_results" if results else str(message.get("role", ""))
    return role, [_neutral_part(p) for p in parts]


def _neutral_part(part: dict[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "content": text_of(part.get("content"))}
    if kind == "tool_call":
        return {
            "type": "tool_call",
            "name": part.get("name"),
            "arguments": json_or_text(part.get("arguments")),
        }
    if kind == "tool_call_response":
        return {"type": "tool_call_response", "response": part.get("response", part.get("result"))}
    return {k: v for k, v in part.items() if k not in ("id", "attributes")}


def _neutral_tool(tool: Any) -> dict[str, Any]:
    if not isinstance(tool, dict):
        return {"name": str(tool)}
    inner = tool.get("function") if isinstance(tool.get("function"), dict) else None
    source = inner or tool
    return {
        "name": source.get("name"),
        "description": source.get("description"),
        "schema": tool_schema(source),
    }
