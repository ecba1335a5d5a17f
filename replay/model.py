"""Replay's read model: an LLM call with its context window, and a run's timeline of steps.

:mod:`.windows` builds the calls, :mod:`.timeline` the steps; the diffs, the renderers, re-send
and the evaluators read them; the REST routes turn them into JSON, one function per type
(:mod:`agentreel.server.routes.replay_json`), and nothing else does.

What the spans carried stays as it came: messages and their parts in the canonical OTel GenAI
JSON form (``role`` + typed ``parts``), tool definitions, tool arguments and results, request
parameters. That is data, not a model, and is typed :data:`JsonValue`. Token counts are the
storage's ``usage`` mapping (:data:`agentreel.storage.queries.USAGE_FIELDS`): the storage's
column table names those fields, so they are not named a second time here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Captured",
    "Decision",
    "Escalation",
    "Fingerprint",
    "FirstFailure",
    "JsonValue",
    "LLMCall",
    "LLMStep",
    "RenderedCall",
    "Step",
    "StepCounts",
    "Timeline",
    "ToolRequest",
    "ToolSources",
    "ToolStep",
    "Usage",
    "Window",
]

#: A value as the spans carried it (parsed JSON): a message, a part, a tool's arguments...
JsonValue = Any
#: Token counts by :data:`agentreel.storage.queries.USAGE_FIELDS` name.
Usage = dict[str, Any]


# --- an LLM call -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Captured:
    """Which parts of a window the spans captured (a slot can be captured and empty)."""

    system: bool
    input: bool
    output: bool
    tools: bool


@dataclass(slots=True)
class Window:
    """An LLM call's exact context window and what came out of it; None is "not captured",
    never "empty". Each slot is what the spans recorded, content put back from the store (a
    hash the store lacks reads as ``{"missing_content": "<hex>"}``)."""

    #: System instructions given apart from the messages (a list of parts, normally).
    system_instructions: JsonValue = None
    input_messages: list[JsonValue] | None = None
    #: Each with the ``finish_reason`` it ended with, when one was recorded.
    output_messages: list[JsonValue] | None = None
    #: The tools offered, in whatever shape the instrumentor recorded them.
    tool_definitions: JsonValue = None

    @property
    def captured(self) -> Captured:
        return Captured(
            system=self.system_instructions is not None,
            input=self.input_messages is not None,
            output=self.output_messages is not None,
            tools=self.tool_definitions is not None,
        )


@dataclass(slots=True, kw_only=True)
class LLMCall:
    """One LLM call of a run: one span, or two spans of the same call (an instrumentor's and
    the provider SDK's; see :mod:`agentreel.core.calls`) read as one."""

    #: The span that counts the call's tokens and cost.
    span_id: str
    #: Every span of the call, in start order.
    span_ids: list[str]
    name: str
    #: ns-exact ISO 8601 (UTC).
    start_time: str
    duration_ms: float
    provider: str
    request_model: str
    model: str
    convention: str
    #: ``error`` when any span of the call failed, else the counted span's status.
    status: str
    error: str
    finish_reasons: list[str]
    usage: Usage
    cost_usd: float
    #: Request parameters by their neutral (OTel ``gen_ai.request.*``) names.
    parameters: dict[str, JsonValue]
    window: Window
    #: Hashes (hex) the window refers to that the store does not have.
    missing_content: list[str]


@dataclass(slots=True)
class RenderedCall:
    """A call with its window rendered as one provider's API takes it (:mod:`.render`)."""

    call: LLMCall
    #: The request body, as that API takes it.
    request: dict[str, JsonValue]
    #: What the body lacks because the spans did not capture it.
    not_captured: list[str]
    #: Content parts the spans did capture but this API has no place for (an AI SDK
    #: ``custom`` part, reasoning in Chat Completions ...), left out of ``request`` rather than
    #: passed through as something never on the wire; each as ``input_messages[i].parts[j]:
    #: type``.
    not_rendered: list[str] = field(default_factory=list)


# --- a timeline ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """Short hashes of a call's window in a form no instrumentor shapes
    (:func:`agentreel.replay.neutral.neutral_window`); None where the slot was not captured."""

    system: str | None
    tools: str | None
    input: str | None


@dataclass(slots=True)
class ToolRequest:
    """A tool call an LLM call's output asked for; values as the ``tool_call`` part gave them."""

    id: JsonValue
    name: JsonValue
    arguments: JsonValue
    #: The step that ran it (a recorded tool span, or a requested-only step); set by the
    #: timeline once every step exists.
    step: Step | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True, kw_only=True)
class LLMStep:
    """What an ``llm`` step adds to the shared fields."""

    #: The call's number among the run's LLM calls (from 1).
    call: int
    model: str
    request_model: str
    provider: str
    finish_reasons: list[str]
    #: The output's text parts joined; None when the output was not captured.
    output_text: str | None
    tool_calls: list[ToolRequest]
    captured: Captured
    missing_content: list[str]
    fingerprint: Fingerprint


@dataclass(frozen=True, slots=True)
class ToolSources:
    """Where a tool step's arguments and result were read: ``span``, ``llm_output`` (the
    call's request), ``llm_input`` (sent back to a later call) or None (nowhere)."""

    arguments: str | None
    result: str | None


@dataclass(slots=True, kw_only=True)
class ToolStep:
    """What a ``tool`` step adds to the shared fields."""

    name: JsonValue
    call_id: JsonValue
    arguments: JsonValue
    result: JsonValue
    #: False for a call the model asked for that no span recorded.
    recorded: bool
    #: The ``llm`` step that asked for it; None when no call did.
    requested_by: Step | None = field(repr=False, compare=False)
    sources: ToolSources


@dataclass(slots=True, kw_only=True)
class Decision:
    """``agentreel.decision.*``: the named fields, and any other key under its short name."""

    name: JsonValue
    options: JsonValue
    chosen: JsonValue
    reason: JsonValue
    confidence: JsonValue
    extra: dict[str, JsonValue] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class Escalation:
    """``agentreel.escalation.*``: the named fields, and any other key under its short name."""

    reason: JsonValue
    target: JsonValue
    severity: JsonValue
    extra: dict[str, JsonValue] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True, eq=False)
class Step:
    """One step of a run: its shared fields, and what its kind adds (``llm``, ``tool`` or
    ``decision``; ``escalation`` on any step that is, or is also, an escalation). Times and
    span ids are None for a tool call the model asked for that no span recorded."""

    #: Position in the timeline (from 1), set once all steps are in order.
    index: int = 0
    kind: str
    name: str
    span_id: str | None
    span_ids: list[str]
    parent_span_id: str | None
    start_time: str | None
    #: From the run's first span.
    offset_ms: float | None
    duration_ms: float | None
    usage: Usage | None
    cost_usd: float | None
    status: str
    error: str
    #: What did not arrive: ``input_messages``, ``output_messages``, ``arguments``,
    #: ``result``, or ``span`` (a requested tool call no span recorded).
    missing: list[str] = field(default_factory=list)
    llm: LLMStep | None = None
    tool: ToolStep | None = None
    decision: Decision | None = None
    escalation: Escalation | None = None


@dataclass(frozen=True, slots=True)
class StepCounts:
    llm_calls: int
    tool_calls: int
    decisions: int
    escalations: int


@dataclass(frozen=True, slots=True)
class FirstFailure:
    """The first step that failed, or (``step`` None) the span that failed when no step did."""

    step: int | None
    kind: str
    name: str
    span_id: str | None
    error: str


@dataclass(slots=True, kw_only=True)
class Timeline:
    """A run's steps in order, with its totals, its first failure and what is missing."""

    trace_id: str
    #: The root span's name ("" until the root span arrives).
    name: str
    start_time: str
    end_time: str
    duration_ms: float
    status: str
    #: Whether the root span has arrived.
    complete: bool
    #: LLM calls, tool calls and decisions: the work the agent did.
    step_count: int
    counts: StepCounts
    usage: Usage
    cost_usd: float
    first_failure: FirstFailure | None
    #: Step numbers of the escalations.
    escalations: list[int]
    steps: list[Step]
    #: What did not arrive, in words.
    missing: list[str]
