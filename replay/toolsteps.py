"""Tool steps of a timeline: tool spans grouped per call and matched to the LLM call that
asked for them, by tool-call id (by name, in start order, where no side has an id)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentreel.core.model import CONTENT_FLAG

from .model import LLMCall, Step, ToolRequest, ToolSources, ToolStep
from .steps import ZERO, common, parts


def tool_responses(calls: list[LLMCall]) -> dict[str, list[tuple[int, Any]]]:
    """Tool results the agent sent back to the model, by call id: (call number, response)."""
    out: dict[str, list[tuple[int, Any]]] = {}
    for number, call in enumerate(calls, 1):
        for part in parts(call.window.input_messages):
            if part.get("type") == "tool_call_response" and part.get("id"):
                response = part.get("response", part.get("result"))
                out.setdefault(str(part["id"]), []).append((number, response))
    return out


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
    if a["tool_call_id"] or b["tool_call_id"]:
        return bool(a["tool_call_id"] == b["tool_call_id"])
    return bool(a["tool_name"] == b["tool_name"])


class ToolSpans:
    """Tool-span groups not matched yet, found by call id (or by name where ids are absent)."""

    def __init__(self, groups: list[list[dict[str, Any]]]) -> None:
        self.left = {g[0]["span_id"]: g for g in groups}  # start order
        self._by_call_id: dict[str, list[str]] = {}
        for group in groups:
            for call_id in {s["tool_call_id"] for s in group} - {""}:
                self._by_call_id.setdefault(call_id, []).append(group[0]["span_id"])

    def take(self, request: ToolRequest, after_ns: int) -> list[dict[str, Any]] | None:
        """Remove and return the group that ran ``request``, if any."""
        if request.id:
            key = next((k for k in self._by_call_id.get(request.id, []) if k in self.left), None)
            return None if key is None else self.left.pop(key)
        for key, group in self.left.items():
            if (
                not any(s["tool_call_id"] for s in group)
                and any(s["tool_name"] == request.name for s in group)
                and group[0]["start_time"] >= after_ns
            ):
                return self.left.pop(key)
        return None


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
    call_id = next((s["tool_call_id"] for s in group if s["tool_call_id"]), "")
    arguments, arguments_from = _slot(group, "tool_arguments", content)
    if arguments_from is None and request is not None and request.arguments is not None:
        arguments, arguments_from = request.arguments, "llm_output"
    result, result_from = _slot(group, "tool_result", content)
    if result_from is None:
        found, result = _sent_back(responses, call_id, _call_number(llm_step))
        result_from = "llm_input" if found else None
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
