"""Build the *case* document of a stored run: what a re-run serves from the recording.

The format is fixed in :mod:`agentreel.core.cases` (the SDK reads it there, with the standard
library alone); this module fills it from the store. Calls come from the replay windows, in
the order ``GET /api/v1/runs/{id}/llm-calls`` numbers them; tools from the timeline, in the
order they ran, each with the number of the last LLM call that started before it.

What the spans do not say is not invented, with one exception the SDK needs: which OpenAI
API a call used. agentreel's SDK (and most instrumentors) record a Responses API call as
``gen_ai.operation.name = chat``, so :func:`operation` reads it from what only a Responses
call carries: a ``resp_`` response id, a ``reasoning`` object among the parameters, or an
instrumentor's record of a Responses request or ``response`` object. (Tool definitions do not
tell: the GenAI form is flat for both APIs.) A failed Responses call recorded with none of
these reads as ``chat``.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from agentreel.core import cases
from agentreel.core.version import __version__
from agentreel.storage import queries

from .export import export_run
from .model import LLMCall, Step
from .timeline import RunData, build_timeline, load_run

__all__ = ["build_case", "operation"]

#: Operations the GenAI conventions (and OpenLLMetry's request types) name for a model call,
#: as a case takes them; anything else recorded on an LLM span reads as ``chat``.
_OPERATIONS = {
    "chat": "chat",
    "responses": "responses",
    "response": "responses",
    "text_completion": "text_completion",
    "completion": "text_completion",
    "generate_content": "generate_content",
}
#: Keys of a Responses API request that a Chat Completions request does not have.
_RESPONSES_ONLY = frozenset({"instructions", "max_output_tokens", "previous_response_id"})


def build_case(
    client: Any,
    project: str,
    trace_id: str,
    *,
    name: str | None = None,
    command: str | None = None,
) -> dict[str, Any] | None:
    """The case document of run ``trace_id`` (checksummed, readable by
    :func:`agentreel.core.cases.parse`); None when no span of it is stored."""
    run = load_run(client, project, trace_id)
    if run is None:
        return None
    timeline = build_timeline(run)
    by_id = {span["span_id"]: span for span in run.spans}
    calls = [
        _call(number, call, [by_id[i] for i in call.span_ids if i in by_id])
        for number, call in enumerate(run.calls, 1)
    ]
    summary = queries.run_summary(client, project, trace_id) or _summary(run, timeline.status)
    document: dict[str, Any] = {
        "format": cases.FORMAT,
        "version": cases.VERSION,
        "trace_id": trace_id,
        "pinned_at": queries.iso_ns(time.time_ns()),
        "pinned_by": f"agentreel {__version__}",
        "name": name or f"run-{trace_id[:12]}",
        "command": command or None,
        "run": summary,
        "calls": calls,
        "tools": _tools(timeline.steps),
        "export": export_run(client, project, trace_id),
    }
    document["checksum"] = cases.checksum(document)
    return document


def _call(number: int, call: LLMCall, spans: list[dict[str, Any]]) -> dict[str, Any]:
    window = call.window
    return {
        "call": number,
        "provider": call.provider,
        "operation": operation(call, spans),
        "request_model": call.request_model,
        "model": call.model,
        # The counted span's id first: the provider SDK's span, when there are two, has it.
        "response_id": next((s["response_id"] for s in _counted_first(call, spans)), ""),
        "status": "error" if call.status == "error" else "ok",
        "error": call.error,
        "system_instructions": window.system_instructions,
        "input_messages": window.input_messages,
        "tool_definitions": window.tool_definitions,
        "output_messages": window.output_messages,
        "parameters": call.parameters,
        "finish_reasons": list(call.finish_reasons),
        "usage": {field: int(value or 0) for field, value in call.usage.items()},
    }


def _counted_first(call: LLMCall, spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = sorted(spans, key=lambda s: s["span_id"] != call.span_id)
    return [s for s in ordered if s["response_id"]]


def operation(call: LLMCall, spans: list[dict[str, Any]]) -> str:
    """The API shape of ``call``: ``responses`` for an OpenAI Responses API call, else the
    operation its spans recorded (``chat`` when they recorded none)."""
    recorded = [_OPERATIONS.get(s["operation"], "") for s in spans if s["operation"]]
    if "responses" in recorded or _responses_api(call, spans):
        return "responses"
    return next((op for op in recorded if op), "chat")


def _responses_api(call: LLMCall, spans: list[dict[str, Any]]) -> bool:
    """Whether what the spans carry is only found on an OpenAI Responses API call."""
    if call.provider == "anthropic":
        return False
    # Responses ids are resp_…; Chat Completions ids chatcmpl-….
    if any(str(s["response_id"]).startswith("resp_") for s in spans):
        return True
    if "reasoning" in call.parameters and isinstance(call.parameters["reasoning"], dict):
        return True  # Chat Completions takes reasoning_effort, a string
    for span in spans:
        raw = span["attributes"].get("llm.invocation_parameters")
        try:
            invocation = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            invocation = None
        if isinstance(invocation, dict) and (
            invocation.get("object") == "response" or _RESPONSES_ONLY & invocation.keys()
        ):
            return True
    return False


def _tools(steps: list[Step]) -> list[dict[str, Any]]:
    out = []
    after = 0
    for step in steps:
        if step.llm is not None:
            after = step.llm.call
        tool = step.tool
        if tool is None:
            continue
        out.append(
            {
                "name": _text(tool.name),
                "call_id": _text(tool.call_id),
                "arguments": tool.arguments,
                "result": tool.result,
                "status": "error" if step.status == "error" else "ok",
                "error": step.error,
                "after_call": after,
                "recorded": tool.recorded,
            }
        )
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _summary(run: RunData, status: str) -> dict[str, Any]:
    """A run the run table does not list (only setup spans): what its spans say."""
    root = next((s for s in run.spans if not s["parent_span_id"]), None)
    return {
        "trace_id": run.trace_id,
        "name": root["name"] if root else "",
        "status": status,
        "llm_calls": len(run.calls),
    }
