"""The run timeline: an agent run's steps in order, each with its timing, usage and outcome.

Steps are numbered from 1 in start order. A step is one of:

* ``llm`` — one LLM call. Two spans of one call (an instrumentor's and the provider SDK's)
  are one step, grouped as :mod:`agentreel.core.calls` says. The step lists the tool
  calls the call's output requested, each with the number of the step that ran it.
* ``tool`` — one tool call. A tool span is matched to the LLM call that requested it by
  tool-call id: the ``tool_call`` parts of the call's output messages against the span's
  ``tool_call_id`` (``gen_ai.tool.call.id``). When the spans carry no id (many frameworks'
  tool spans do not), the unmatched span of that tool name that started after the call did
  and has the request's arguments is taken, else the first such span of that name. A tool
  span nested in a tool span of the same call (two instrumentors, perhaps only one knowing
  the id) is part of the same step (:func:`agentreel.core.calls.same_tool_call`).
  Both leftovers are shown: a requested call that no span recorded is a step with
  ``recorded: false`` and no times (its result is read from a later call's input when the
  agent sent one back); a tool span that no call requested has ``requested_by: null``.
* ``decision`` — a span of kind ``decision``: ``agentreel.decision.name``, ``options``,
  ``chosen``, ``reason``, ``confidence``.
* ``escalation`` — agentreel's escalation convention: a span of kind ``escalation``
  (``agentreel.span.kind = "escalation"``) or any span carrying ``agentreel.escalation.*``
  attributes: ``reason`` (why the agent handed over), ``target`` (to whom: ``human``, a
  queue, another agent), ``severity``; other ``agentreel.escalation.*`` keys are kept under
  their short names. An LLM call, tool call or decision carrying these attributes stays that
  step and gets an ``escalation`` field; every escalation's step number is in
  ``escalations``.

``step_count`` is the number of LLM calls, tool calls (recorded or only requested) and
decisions: the work the agent did. Escalations are steps but not counted. ``first_failure``
is the first step whose status is ``error``; when no step failed but another span did (the
agent span, a retriever), that span, with ``step: null``.

What was not captured is said, never invented: a step's ``missing`` names what did not
arrive (``input_messages``, ``output_messages``, ``arguments``, ``result``, or ``span`` for
a requested call no span recorded), and the run's ``missing`` says it in words, along with a
root span or parents that never arrived. Step times are ns-exact ISO 8601 (UTC);
``offset_ms`` is from the run's first span.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentreel.core.text import maybe_json
from agentreel.replay.memo import Memo
from agentreel.replay.neutral import neutral_fingerprints
from agentreel.replay.windows import calls_from
from agentreel.storage import queries

from .model import (
    Decision,
    Escalation,
    Fingerprint,
    FirstFailure,
    LLMCall,
    LLMStep,
    Step,
    StepCounts,
    Timeline,
    ToolRequest,
)
from .steps import common, parts
from .toolsteps import ToolSpans, requested_tool, tool_groups, tool_responses, tool_step

__all__ = ["RunData", "build_timeline", "load_run", "load_timeline"]

DECISION_PREFIX = "agentreel.decision."
ESCALATION_PREFIX = "agentreel.escalation."
#: Step kinds counted in ``step_count``.
COUNTED_KINDS = frozenset({"llm", "tool", "decision"})


@dataclass(frozen=True)
class RunData:
    """What a timeline is built from: the run's spans (rows of :func:`queries.trace_spans`),
    its LLM calls (:func:`agentreel.replay.windows.llm_calls`) and a content lookup by hash."""

    trace_id: str
    spans: list[dict[str, Any]]
    calls: list[LLMCall]
    content: Callable[[bytes], Any]


def load_run(client: Any, project: str, trace_id: str) -> RunData | None:
    """Read one run from the store; None when no span of it is stored."""
    # One read of the spans serves the calls and the steps, and one fetch all their content.
    spans = queries.trace_spans(client, project, trace_id)
    if not spans:
        return None
    refs: set[bytes] = set()
    for span in spans:
        if span["kind"] == "tool":
            refs.update((span["tool_arguments_ref"], span["tool_result_ref"]))
        if _marked(span):
            refs.update(span["attribute_refs"].values())
    calls, resolved = calls_from(client, project, trace_id, spans, refs)
    return RunData(trace_id, spans, calls, resolved)


def load_timeline(client: Any, project: str, trace_id: str) -> Timeline | None:
    """The timeline of one stored run; None when no span of it is stored."""
    run = load_run(client, project, trace_id)
    return None if run is None else build_timeline(run)


def build_timeline(run: RunData) -> Timeline:
    """The run's steps in order, with totals, the first failure and what is missing."""
    spans = run.spans
    by_id = {s["span_id"]: s for s in spans}
    origin = min(s["start_time"] for s in spans)
    # (order in ns, tie, sequence, step): requested-only tool calls sort after their call. On
    # a tie in time (emitters with millisecond clocks, such as the AI SDK, start a tool and the
    # next call in the same millisecond) a tool step sorts after the call that asked for it
    # and before the next one; any other step after every call, as it was added.
    # The calls share their message objects: each message is converted and hashed once.
    memo = Memo()
    entries: list[tuple[int, int, int, Step]] = []
    llm_steps: list[tuple[Step, list[dict[str, Any]], list[ToolRequest]]] = []
    after_calls = 2 * len(run.calls) + 2
    for number, call in enumerate(run.calls, 1):
        own = [by_id[i] for i in call.span_ids if i in by_id]
        later = run.calls[number] if number < len(run.calls) else None
        step, requests = _llm_step(call, number, own, origin, later, memo)
        _escalation_field(step, own, run.content)
        llm_steps.append((step, own, requests))
        entries.append((_start(own, origin), 2 * number, len(entries), step))
    unmatched = ToolSpans(tool_groups([s for s in spans if s["kind"] == "tool"]), run.content)
    responses = tool_responses(run.calls, memo)
    for number, (step, own, requests) in enumerate(llm_steps, 1):
        for request in requests:
            group = unmatched.take(request, _start(own, origin))
            if group is None:
                tool = requested_tool(request, step, responses)
                entries.append((_end(own, origin), 2 * number + 1, len(entries), tool))
            else:
                tool = tool_step(group, run.content, origin, request, step, responses)
                _escalation_field(tool, group, run.content)
                entries.append((group[0]["start_time"], 2 * number + 1, len(entries), tool))
            request.step = tool
    for group in unmatched.left.values():
        tool = tool_step(group, run.content, origin, None, None, responses)
        _escalation_field(tool, group, run.content)
        entries.append((group[0]["start_time"], after_calls, len(entries), tool))
    for span in spans:
        if span["kind"] not in ("llm", "tool") and _marked(span):
            step = _marked_step(span, run, origin)
            entries.append((span["start_time"], after_calls, len(entries), step))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    steps = [step for _, _, _, step in entries]
    # Steps link to steps by object (a tool call to the step that ran it, a tool step to the
    # call that asked for it); the JSON gives the numbers set here.
    for index, step in enumerate(steps, 1):
        step.index = index
    return _run_view(run, steps, origin)


def _run_view(run: RunData, steps: list[Step], origin: int) -> Timeline:
    spans = run.spans
    end = max(s["end_time"] for s in spans)
    root = next((s for s in spans if not s["parent_span_id"]), None)
    usage = {f: sum((s.usage or {}).get(f, 0) for s in steps) for f in queries.USAGE_FIELDS}
    counts = StepCounts(
        llm_calls=sum(s.kind == "llm" for s in steps),
        tool_calls=sum(s.kind == "tool" for s in steps),
        decisions=sum(s.kind == "decision" for s in steps),
        escalations=sum(s.escalation is not None for s in steps),
    )
    return Timeline(
        trace_id=run.trace_id,
        name=root["name"] if root else "",
        start_time=queries.iso_ns(origin),
        end_time=queries.iso_ns(end),
        duration_ms=max(0, end - origin) / 1e6,
        status="error" if any(s["status"] == "error" for s in spans) else "ok",
        complete=root is not None,
        step_count=sum(s.kind in COUNTED_KINDS for s in steps),
        counts=counts,
        usage=usage,
        cost_usd=sum(s.cost_usd or 0.0 for s in steps),
        first_failure=_first_failure(steps, spans),
        escalations=[s.index for s in steps if s.escalation is not None],
        steps=steps,
        missing=_missing_notes(steps, spans, root is not None),
    )


def _llm_step(
    call: LLMCall,
    number: int,
    own: list[dict[str, Any]],
    origin: int,
    later: LLMCall | None,
    memo: Memo,
) -> tuple[Step, list[ToolRequest]]:
    """The step of one call, and the tool calls its output asked for (when the output was
    not captured, as the next call's input repeats it)."""
    start = _start(own, origin)
    window = call.window
    inputs, outputs = window.input_messages, window.output_messages
    asked = outputs if outputs is not None else _repeated_output(inputs, later)
    requests = [
        ToolRequest(p.get("id", ""), p.get("name", ""), p.get("arguments"))
        for p in parts(asked)
        if p.get("type") == "tool_call"
    ]
    texts = [p.get("content") for p in parts(outputs) if p.get("type") == "text"]
    # For comparing runs: the window in a form no instrumentor shapes (see
    # neutral.neutral_window), so runs recorded differently still compare equal.
    hashes = neutral_fingerprints(window.system_instructions, window.tool_definitions, inputs, memo)
    step = Step(
        kind="llm",
        name=call.name,
        span_id=call.span_id,
        span_ids=call.span_ids,
        parent_span_id=own[0]["parent_span_id"] if own else "",
        start_time=call.start_time or queries.iso_ns(start),
        offset_ms=(start - origin) / 1e6,
        duration_ms=call.duration_ms,
        usage=call.usage,
        cost_usd=call.cost_usd,
        status=call.status,
        error=call.error,
        # A failed call has no output: that is not a gap in what was captured.
        missing=[
            slot
            for slot, value in (("input_messages", inputs), ("output_messages", outputs))
            if value is None and not (slot == "output_messages" and call.status == "error")
        ],
        llm=LLMStep(
            call=number,
            model=call.model,
            request_model=call.request_model,
            provider=call.provider,
            finish_reasons=call.finish_reasons,
            output_text=None if outputs is None else "".join(str(t) for t in texts if t),
            tool_calls=requests,
            captured=window.captured,
            missing_content=call.missing_content,
            fingerprint=Fingerprint(hashes["system"], hashes["tools"], hashes["input"]),
        ),
    )
    return step, requests


def _repeated_output(inputs: Any, later: LLMCall | None) -> list[Any] | None:
    """A call's output as the next call's input repeats it: the assistant message right after
    this call's input (an instrumentor that records no streamed output, such as the Agents
    SDK's for a streamed chat completion, still records the next request whole)."""
    following = later.window.input_messages if later is not None else None
    if not isinstance(inputs, list) or not isinstance(following, list):
        return None
    if len(following) <= len(inputs) or following[: len(inputs)] != inputs:
        return None
    message = following[len(inputs)]
    return [message] if isinstance(message, dict) and message.get("role") == "assistant" else None


def _marked(span: dict[str, Any]) -> bool:
    """A decision or escalation, by kind or by agentreel's attributes."""
    if span["kind"] in ("decision", "escalation"):
        return True
    keys = [*span["attributes"], *span["attribute_refs"]]
    return any(k.startswith((DECISION_PREFIX, ESCALATION_PREFIX)) for k in keys)


def _marked_step(span: dict[str, Any], run: RunData, origin: int) -> Step:
    decision = _prefixed(span, DECISION_PREFIX, run.content)
    escalation = _prefixed(span, ESCALATION_PREFIX, run.content)
    kind = "decision" if span["kind"] == "decision" or decision else "escalation"
    subject = decision if kind == "decision" else escalation
    step = common(span, origin, kind, str(subject.get("name") or span["name"]))
    if kind == "decision":
        step.decision = Decision(
            name=decision.get("name", span["name"]),
            options=decision.get("options"),
            chosen=decision.get("chosen"),
            reason=decision.get("reason"),
            confidence=_number(decision.get("confidence")),
            extra={k: v for k, v in decision.items() if k not in _DECISION_KEYS},
        )
    if kind == "escalation" or escalation:
        step.escalation = _escalation(escalation)
    return step


def _escalation_field(
    step: Step, own: list[dict[str, Any]], content: Callable[[bytes], Any]
) -> None:
    """An LLM or tool call that is also an escalation (an ``ask_human`` tool) says so."""
    for span in own:
        escalation = _prefixed(span, ESCALATION_PREFIX, content)
        if escalation:
            step.escalation = _escalation(escalation)
            return


def _escalation(values: dict[str, Any]) -> Escalation:
    return Escalation(
        reason=values.get("reason"),
        target=values.get("target"),
        severity=values.get("severity"),
        extra={k: v for k, v in values.items() if k not in _ESCALATION_KEYS},
    )


_DECISION_KEYS = frozenset({"name", "options", "chosen", "reason", "confidence"})
_ESCALATION_KEYS = frozenset({"reason", "target", "severity"})


def _prefixed(span: dict[str, Any], prefix: str, content: Callable[[bytes], Any]) -> dict[str, Any]:
    """``prefix.*`` attributes under their short names, JSON text parsed (options lists)."""
    values: dict[str, Any] = {k: v for k, v in span["attributes"].items() if k.startswith(prefix)}
    for key, ref in span["attribute_refs"].items():
        if key.startswith(prefix):
            values[key] = content(ref)
    return {key[len(prefix) :]: maybe_json(value) for key, value in values.items()}


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _start(own: list[dict[str, Any]], default: int) -> int:
    return min((s["start_time"] for s in own), default=default)


def _end(own: list[dict[str, Any]], default: int) -> int:
    return max((s["end_time"] for s in own), default=default)


def _first_failure(steps: list[Step], spans: list[dict[str, Any]]) -> FirstFailure | None:
    step = next((s for s in steps if s.status == "error"), None)
    if step is not None:
        return FirstFailure(step.index, step.kind, step.name, step.span_id, step.error)
    span = next((s for s in spans if s["status"] == "error"), None)
    if span is None:
        return None
    # No step failed but the run did (the agent span, a retriever): say where.
    error = span["error_message"] or span["error_type"]
    return FirstFailure(None, span["kind"], span["name"], span["span_id"], error)


def _missing_notes(steps: list[Step], spans: list[dict[str, Any]], rooted: bool) -> list[str]:
    notes = []
    if not rooted:
        notes.append("the root span has not arrived: the run is still going or part of it was lost")
    ids = {s["span_id"] for s in spans}
    orphans = sum(1 for s in spans if s["parent_span_id"] and s["parent_span_id"] not in ids)
    if orphans:
        notes.append(f"{orphans} span(s) whose parent span never arrived")
    for step in steps:
        where = f"step {step.index} ({step.kind} {step.name})"
        if "span" in step.missing:
            notes.append(f"{where}: requested by the model but no tool span recorded it")
        slots = [m for m in step.missing if m != "span"]
        if slots:
            notes.append(f"{where}: not captured: {', '.join(slots)}")
        lost = step.llm.missing_content if step.llm is not None else []
        if lost:
            notes.append(f"{where}: {len(lost)} content item(s) referenced but not in the store")
    return notes
