"""The JSON of replay's read model (:mod:`agentreel.replay.model`), one function per type.

The REST answers are built here and nowhere else, so their keys and key order live in one
place. Messages, parts, tool definitions and the other values the spans carried go out as they
are: they are JSON already.
"""

from __future__ import annotations

from typing import Any

from agentreel.replay.model import (
    Captured,
    Decision,
    Escalation,
    Fingerprint,
    FirstFailure,
    LLMCall,
    LLMStep,
    RenderedCall,
    Step,
    StepCounts,
    Timeline,
    ToolRequest,
    ToolSources,
    ToolStep,
    Window,
)

__all__ = [
    "call_json",
    "captured_json",
    "counts_json",
    "decision_json",
    "escalation_json",
    "fingerprint_json",
    "first_failure_json",
    "llm_step_json",
    "rendered_json",
    "sources_json",
    "step_json",
    "timeline_json",
    "tool_request_json",
    "tool_step_json",
    "window_json",
]

#: Window slots a rendered call leaves out: the rendered request carries them.
_RENDERED_AWAY = ("system_instructions", "input_messages")


# --- an LLM call -----------------------------------------------------------------------------


def captured_json(captured: Captured) -> dict[str, Any]:
    return {
        "system": captured.system,
        "input": captured.input,
        "output": captured.output,
        "tools": captured.tools,
    }


def window_json(window: Window) -> dict[str, Any]:
    return {
        "system_instructions": window.system_instructions,
        "input_messages": window.input_messages,
        "output_messages": window.output_messages,
        "tool_definitions": window.tool_definitions,
        "captured": captured_json(window.captured),
    }


def call_json(call: LLMCall) -> dict[str, Any]:
    return {
        "span_id": call.span_id,
        "span_ids": call.span_ids,
        "name": call.name,
        "start_time": call.start_time,
        "duration_ms": call.duration_ms,
        "provider": call.provider,
        "request_model": call.request_model,
        "model": call.model,
        "convention": call.convention,
        "status": call.status,
        "error": call.error,
        "finish_reasons": call.finish_reasons,
        "usage": call.usage,
        "cost_usd": call.cost_usd,
        "parameters": call.parameters,
        **window_json(call.window),
        "missing_content": call.missing_content,
    }


def rendered_json(rendered: RenderedCall) -> dict[str, Any]:
    """The call without the window slots its request carries, then the request."""
    out = {k: v for k, v in call_json(rendered.call).items() if k not in _RENDERED_AWAY}
    out["request"] = rendered.request
    out["not_captured"] = rendered.not_captured
    out["not_rendered"] = rendered.not_rendered
    return out


# --- a timeline ------------------------------------------------------------------------------


def fingerprint_json(fingerprint: Fingerprint) -> dict[str, Any]:
    return {"system": fingerprint.system, "tools": fingerprint.tools, "input": fingerprint.input}


def tool_request_json(request: ToolRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "name": request.name,
        "arguments": request.arguments,
        "step": None if request.step is None else request.step.index,
    }


def llm_step_json(llm: LLMStep) -> dict[str, Any]:
    return {
        "call": llm.call,
        "model": llm.model,
        "request_model": llm.request_model,
        "provider": llm.provider,
        "finish_reasons": llm.finish_reasons,
        "output_text": llm.output_text,
        "tool_calls": [tool_request_json(r) for r in llm.tool_calls],
        "captured": captured_json(llm.captured),
        "missing_content": llm.missing_content,
        "fingerprint": fingerprint_json(llm.fingerprint),
    }


def sources_json(sources: ToolSources) -> dict[str, Any]:
    return {"arguments": sources.arguments, "result": sources.result}


def tool_step_json(tool: ToolStep) -> dict[str, Any]:
    return {
        "name": tool.name,
        "call_id": tool.call_id,
        "arguments": tool.arguments,
        "result": tool.result,
        "recorded": tool.recorded,
        "requested_by": None if tool.requested_by is None else tool.requested_by.index,
        "sources": sources_json(tool.sources),
    }


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "name": decision.name,
        "options": decision.options,
        "chosen": decision.chosen,
        "reason": decision.reason,
        "confidence": decision.confidence,
        **decision.extra,
    }


def escalation_json(escalation: Escalation) -> dict[str, Any]:
    return {
        "reason": escalation.reason,
        "target": escalation.target,
        "severity": escalation.severity,
        **escalation.extra,
    }


def step_json(step: Step) -> dict[str, Any]:
    """The shared fields, then what the step's kind adds, then its escalation if any."""
    out: dict[str, Any] = {
        "index": step.index,
        "kind": step.kind,
        "name": step.name,
        "span_id": step.span_id,
        "span_ids": step.span_ids,
        "parent_span_id": step.parent_span_id,
        "start_time": step.start_time,
        "offset_ms": step.offset_ms,
        "duration_ms": step.duration_ms,
        "usage": step.usage,
        "cost_usd": step.cost_usd,
        "status": step.status,
        "error": step.error,
        "missing": step.missing,
    }
    if step.llm is not None:
        out["llm"] = llm_step_json(step.llm)
    if step.tool is not None:
        out["tool"] = tool_step_json(step.tool)
    if step.decision is not None:
        out["decision"] = decision_json(step.decision)
    if step.escalation is not None:
        out["escalation"] = escalation_json(step.escalation)
    return out


def counts_json(counts: StepCounts) -> dict[str, Any]:
    return {
        "llm_calls": counts.llm_calls,
        "tool_calls": counts.tool_calls,
        "decisions": counts.decisions,
        "escalations": counts.escalations,
    }


def first_failure_json(failure: FirstFailure) -> dict[str, Any]:
    return {
        "step": failure.step,
        "kind": failure.kind,
        "name": failure.name,
        "span_id": failure.span_id,
        "error": failure.error,
    }


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    failure = timeline.first_failure
    return {
        "trace_id": timeline.trace_id,
        "name": timeline.name,
        "start_time": timeline.start_time,
        "end_time": timeline.end_time,
        "duration_ms": timeline.duration_ms,
        "status": timeline.status,
        "complete": timeline.complete,
        "step_count": timeline.step_count,
        "counts": counts_json(timeline.counts),
        "usage": timeline.usage,
        "cost_usd": timeline.cost_usd,
        "first_failure": None if failure is None else first_failure_json(failure),
        "escalations": timeline.escalations,
        "steps": [step_json(s) for s in timeline.steps],
        "missing": timeline.missing,
    }
