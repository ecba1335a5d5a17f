"""Tool steps of a timeline: tool spans grouped per call and matched to the LLM call that
asked for them, as :mod:`agentreel.core.calls` defines one tool call (by tool-call id; by
nesting, tool name, arguments and order where a side has none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentreel.core.calls import ToolSpan, ran_request, same_tool_call
from agentreel.core.model import CONTENT_FLAG
from agentreel.core.text import maybe_json

from .memo import Memo
from .model import LLMCall, Step, ToolRequest, ToolSources, ToolStep
from .steps import ZERO, common, parts


def tool_responses(calls: list[LLMCall], memo: Memo) -> dict[str, list[tuple[int, Any]]]:
    """Tool results the agent sent back to the model, by call id: (call number, response)."""
    out: dict[str, list[tuple[int, Any]]] = {}
    for number, call in enumerate(calls, 1):
        messages = call.window.input_messages
        for message in messages if isinstance(messages, list) else []:
            found = memo.get("responses", id(message), message, _responses, message)
            for call_id, response in found:
                out.setdefault(call_id, []).append((number, response))
    return out


def _responses(message: Any) -> list[tuple[str, Any]]:
    return [
        (str(p["id"]), p.get("response", p.get("result")))
        for p in parts([message])
        if p.get("type") == "tool_call_response" and p.get("id")
    ]


def _sent_back(
    responses: dict[str, list[tuple[int, Any]]], call_id: str, after: int
) -> tuple[bool, Any]:
    for number, response in responses.get(call_id, []) if call_id else []:
        if number > after:
            return True, response
    return False, None


def tool_groups(tools: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Tool spans, one group per tool call: a span nested in a tool span of the same call
    joins its parent's group (outermost span first)."""
    by_id = {s["span_id"]: s for s in tools}
    groups: dict[str, list[dict[str, Any]]] = {}
    for span in tools:  # start order: a parent comes before its children
        head = span
        seen = {span["span_id"]}
        parent = by_id.get(head["parent_span_id"])
        while parent is not None and parent["span_id"] not in seen and _same_tool(parent, head):
            seen.add(parent["span_id"])
            head = parent
            parent = by_id.get(head["parent_span_id"])
        groups.setdefault(head["span_id"], []).append(span)
    return sorted(groups.values(), key=lambda g: g[0]["start_time"])


def _same_tool(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return same_tool_call(_tool_span(a), _tool_span(b))


def _tool_span(row: dict[str, Any]) -> ToolSpan:
    return ToolSpan(row["span_id"], row["parent_span_id"], row["tool_name"], row["tool_call_id"])


class ToolSpans:
    """Tool-span groups not matched to a request yet (start order), indexed by call id and by
    tool name so that a run of thousands of tool calls matches in linear time."""

    def __init__(self, groups: list[list[dict[str, Any]]], content: Callable[[bytes], Any]) -> None:
        self.left = {g[0]["span_id"]: g for g in groups}
        self._content = content
        self._ids = {key: _ids(group) for key, group in self.left.items()}
        self._by_id: dict[str, list[str]] = {}
        self._by_name: dict[str, list[str]] = {}
        for key, group in self.left.items():
            for call_id in self._ids[key]:
                self._by_id.setdefault(call_id, []).append(key)
            for name in dict.fromkeys(s["tool_name"] for s in group):
                self._by_name.setdefault(name, []).append(key)
        self._parsed: dict[str, Any] = {}

    def take(self, request: ToolRequest, after_ns: int) -> list[dict[str, Any]] | None:
        """Remove and return the group that ran ``request``, if any: the one carrying its id;
        else, of the groups :func:`ran_request` allows that started after the call, the first
        whose arguments are the request's, or the first."""
        request_id, name = str(request.id or ""), str(request.name or "")
        if request_id:
            key = next((k for k in self._by_id.get(request_id, []) if k in self.left), None)
            if key is not None:
                return self.left.pop(key)
        candidates = [
            key
            for key in self._by_name.get(name, [])
            if key in self.left
            and ran_request(request_id, name, self._ids[key], {name})
            and self.left[key][0]["start_time"] >= after_ns
        ]
        if not candidates:
            return None
        wanted = _comparable(request.arguments)
        same = (k for k in candidates if self._arguments(k) == wanted)
        return self.left.pop(next(same, candidates[0]))

    def _arguments(self, key: str) -> Any:
        if key not in self._parsed:
            value, found = _slot(self.left[key], "tool_arguments", self._content)
            self._parsed[key] = _comparable(value) if found else None
        return self._parsed[key]


def _ids(group: list[dict[str, Any]]) -> set[str]:
    return {s["tool_call_id"] for s in group} - {""}


def _comparable(arguments: Any) -> Any:
    """Arguments as a value, whether recorded as JSON text or as an object."""
    return maybe_json(arguments) if isinstance(arguments, str) else arguments


def tool_step(
    group: list[dict[str, Any]],
    content: Callable[[bytes], Any],
    origin: int,
    request: ToolRequest | None,
    llm_step: Step | None,
    responses: dict[str, list[tuple[int, Any]]],
) -> Step:
    head = group[0]
    name = next((s["tool_name"] for s in group if s["tool_name"]), "") or head["name"]
    step = common(head, origin, "tool", name)
    step.span_ids = [s["span_id"] for s in group]
    failed = next((s for s in group if s["status"] == "error"), None)
    if failed is not None:
        step.status, step.error = "error", failed["error_message"] or failed["error_type"]
    recorded_id = next((s["tool_call_id"] for s in group if s["tool_call_id"]), "")
    call_id = recorded_id or (str(request.id or "") if request is not None else "")
    arguments, arguments_from = _slot(group, "tool_arguments", content)
    asked = None if request is None else request.arguments
    if asked is not None and (arguments_from is None or _flattened(arguments, asked)):
        arguments, arguments_from = asked, "llm_output"
    result, result_from = _slot(group, "tool_result", content)
    if result_from is None:
        found, result = _sent_back(responses, call_id, _call_number(llm_step))
        result_from = "llm_input" if found else None
    result = lone_text(result)
    step.tool = ToolStep(
        name=name,
        call_id=call_id,
        arguments=arguments,
        result=result,
        recorded=True,
        requested_by=llm_step,
        sources=ToolSources(arguments=arguments_from, result=result_from),
    )
    step.missing = [
        slot for slot, src in (("arguments", arguments_from), ("result", result_from)) if not src
    ]
    return step


def _flattened(recorded: Any, requested: Any) -> bool:
    """The span recorded the arguments as bare text where the model asked with an object:
    LangChain's tool span holds ``Paris`` for ``{"city": "Paris"}``. The request is then
    the better record of what the tool was called with."""
    return (
        isinstance(recorded, str)
        and not isinstance(_comparable(recorded), dict | list)
        and isinstance(_comparable(requested), dict)
    )


def lone_text(result: Any) -> Any:
    """A result that is one text block (an MCP tool's, passed on as Anthropic content) is that
    text; any other value is shown as it is."""
    if (
        isinstance(result, list)
        and len(result) == 1
        and isinstance(result[0], dict)
        and result[0].get("type") == "text"
        and isinstance(result[0].get("text"), str)
        and set(result[0]) <= {"type", "text"}
    ):
        return result[0]["text"]
    return result


def _call_number(llm_step: Step | None) -> int:
    return llm_step.llm.call if llm_step is not None and llm_step.llm is not None else 0


def _slot(
    group: list[dict[str, Any]], slot: str, content: Callable[[bytes], Any]
) -> tuple[Any, str | None]:
    for span in group:
        if span["content_flags"] & CONTENT_FLAG[slot] and span[f"{slot}_ref"] != ZERO:
            return content(span[f"{slot}_ref"]), "span"
    return None, None


def requested_tool(
    request: ToolRequest,
    llm_step: Step,
    responses: dict[str, list[tuple[int, Any]]],
) -> Step:
    """A tool call the model asked for that no span recorded."""
    found, result = _sent_back(responses, request.id, _call_number(llm_step))
    result = lone_text(result)
    return Step(
        kind="tool",
        name=request.name,
        span_id=None,
        span_ids=[],
        parent_span_id=None,
        start_time=None,
        offset_ms=None,
        duration_ms=None,
        usage=None,
        cost_usd=None,
        status="unset",
        error="",
        missing=["span"] + ([] if found else ["result"]),
        tool=ToolStep(
            name=request.name,
            call_id=request.id,
            arguments=request.arguments,
            result=result,
            recorded=False,
            requested_by=llm_step,
            sources=ToolSources(arguments="llm_output", result="llm_input" if found else None),
        ),
    )
