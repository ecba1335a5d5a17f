"""The run's state as it goes: counters, spend, limits, and what happens on a breach.

A :class:`RunState` lives for one ``run(...)`` scope. Every LLM call, tool call and decision
inside it is counted (a step, as the server counts steps); LLM calls add their cost from
the same price table the server uses. A limit is checked *before* a step starts (so the
step that would exceed ``max_steps``/``max_llm_calls`` never runs) and spend is checked as
soon as a call's usage is known. A breach is recorded on the run's span; then the run's
handler is called (once per limit) or :class:`BudgetExceeded` is raised.

Prices are computed here, in the agent's process, from the same layers as the server
(:mod:`agentreel.core.prices`: the price file given to ``init``, agentreel's corrections,
genai-prices' bundled data), not asked of the server. Decided by weight: genai-prices is a
3 MB install whose dependencies, pydantic and httpx2, every LLM client an agent runs with
already pulls (openai, anthropic, google-genai, mistralai), so the SDK install grows by that
one package; imported on the first priced call, it costs about 40 ms and 5 MB once. Asking
the server instead would put a network round trip before every budget check, tie the guard
to agentreel's server being up (the SDK may export to any OTLP backend) and leave a run
unguarded offline. Without the package the guard still runs: calls of models only it knows
count as unpriced (``agentreel.run.unpriced_llm_calls``), never as free.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span

from ._errors import SdkError
from ._state import STATE

LIMITS = ("budget_usd", "max_steps", "max_llm_calls")


@dataclass(frozen=True)
class Breach:
    """A limit the run went over: which (``budget_usd``, ``max_steps`` or
    ``max_llm_calls``), the limit, and the value that crossed it."""

    limit: str
    allowed: float
    value: float
    run: str  # the run's name
    trace_id: str = ""  # the run's trace, to find it in agentreel

    def __str__(self) -> str:
        if self.limit == "budget_usd":
            return f"run {self.run!r} spent ${self.value:.6g}, over its budget of ${self.allowed:g}"
        what = "steps" if self.limit == "max_steps" else "LLM calls"
        return (
            f"run {self.run!r} would take {self.value:g} {what}, over its limit of "
            f"{self.allowed:g} ({self.limit})"
        )


class BudgetExceeded(SdkError):
    """Raised inside the agent when a run goes over a limit and has no ``on_breach``
    handler. ``breach`` says which limit."""

    def __init__(self, breach: Breach) -> None:
        super().__init__(str(breach))
        self.breach = breach


@dataclass(frozen=True)
class PendingCall:
    """A tool call the model asked for, waiting for the tool that runs it."""

    name: str
    call_id: str
    arguments: str


@dataclass(eq=False)
class RunState:
    """Counters and limits of one run scope (a nested scope charges its parents too)."""

    name: str
    span: Span
    parent: RunState | None = None
    attributes: dict[str, Any] = field(default_factory=dict)  # stamped on child spans
    budget_usd: float | None = None
    max_steps: int | None = None
    max_llm_calls: int | None = None
    on_breach: Callable[[Breach], Any] | None = None
    cost_usd: float = 0.0
    unpriced_llm_calls: int = 0
    llm_calls: int = 0
    tool_calls: int = 0
    decisions: int = 0
    breaches: list[Breach] = field(default_factory=list)
    pending: list[PendingCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        #: What every span started inside this run carries: its attributes and agent name.
        self.stamp: dict[str, Any] = {**self.attributes, "gen_ai.agent.name": self.name}

    @property
    def steps(self) -> int:
        """LLM calls + tool calls + decisions, as the server counts a run's steps."""
        return self.llm_calls + self.tool_calls + self.decisions

    def chain(self) -> list[RunState]:
        out: list[RunState] = []
        state: RunState | None = self
        while state is not None:
            out.append(state)
            state = state.parent
        return out


CURRENT: ContextVar[RunState | None] = ContextVar("agentreel_run", default=None)


def current() -> RunState | None:
    return CURRENT.get()


def start_span(name: str, attributes: dict[str, Any], **options: Any) -> Span:
    """A span of the SDK's own, with the current run's attributes from its start. Inside a
    LangChain run traced by OpenInference it goes under that run's span (see
    :func:`framework_parent`)."""
    state = CURRENT.get()
    if state is not None:
        attributes = {**state.stamp, **attributes}
    if "context" not in options:
        parent = framework_parent()
        if parent is not None:
            options["context"] = trace.set_span_in_context(parent)
    return STATE.get_tracer().start_span(name, attributes=attributes, **options)


def framework_parent() -> Span | None:
    """The span of the LangChain run this code runs in, when OpenInference's LangChain
    instrumentor traces it and no span of ours or another instrumentor is current below it.

    That instrumentor works through LangChain's callbacks and never makes its spans current,
    so without this an ``@sdk.tool`` body or an LLM call under LangGraph would start a span
    beside the framework's (or a trace of its own) instead of inside it, and one tool or LLM
    call would show as two.
    """
    module = sys.modules.get("openinference.instrumentation.langchain")
    get = getattr(module, "get_current_span", None)
    instrumentor = getattr(module, "LangChainInstrumentor", None)
    if get is None or instrumentor is None:
        return None
    try:
        # Not instrumented (or no longer): its get_span() would print to stdout, which an
        # MCP stdio server cannot afford.
        if getattr(instrumentor(), "_tracer", None) is None:
            return None
        span = get()
    except Exception:  # a framework's internals must never break the agent
        return None
    if not isinstance(span, Span) or not span.is_recording():
        return None
    current = trace.get_current_span()
    if current.is_recording() and _started(current) > _started(span):
        # A span opened inside the framework's run (ours or another instrumentor's) is the
        # deeper one; a span opened before it (the run span around the graph) is not.
        return None
    return span


def _started(span: Span) -> int:
    return int(getattr(span, "start_time", 0) or 0)


def before_step(kind: str) -> None:
    """Check the limits before a step of ``kind`` (``llm``, ``tool``, ``decision``) starts;
    a breach there means the step does not run (unless a handler lets it)."""
    state = CURRENT.get()
    while state is not None:
        if state.max_steps is not None and state.steps + 1 > state.max_steps:
            _breach(state, "max_steps", state.max_steps, state.steps + 1)
        if kind == "llm":
            if state.max_llm_calls is not None and state.llm_calls + 1 > state.max_llm_calls:
                _breach(state, "max_llm_calls", state.max_llm_calls, state.llm_calls + 1)
            if state.budget_usd is not None and state.cost_usd >= state.budget_usd:
                _breach(state, "budget_usd", state.budget_usd, state.cost_usd)
        state = state.parent


def count_step(kind: str) -> None:
    """Count a step that ran (tool calls and decisions; LLM calls count in :func:`charge`)."""
    state = CURRENT.get()
    while state is not None:
        with state.lock:
            if kind == "tool":
                state.tool_calls += 1
            elif kind == "decision":
                state.decisions += 1
        state = state.parent


def charge(provider: str, model: str, usage: Any) -> float | None:
    """Count one LLM call of ``model`` with ``usage`` (a ``prices.Usage``, as the provider
    reported it) in every enclosing run; returns its cost (None when unpriced). Raises
    :class:`BudgetExceeded` (or calls the handler) when spend crosses a budget."""
    cost: float | None = None
    prices = STATE.prices()
    if prices is not None and model:
        cost = prices.cost(model, provider, usage)
    state = CURRENT.get()
    breached: list[RunState] = []
    while state is not None:
        with state.lock:
            state.llm_calls += 1
            if cost is None:
                state.unpriced_llm_calls += 1
            else:
                state.cost_usd += cost
            if state.budget_usd is not None and state.cost_usd > state.budget_usd:
                breached.append(state)
        state = state.parent
    for state in breached:
        _breach(state, "budget_usd", state.budget_usd or 0.0, state.cost_usd)
    return cost


def _breach(state: RunState, limit: str, allowed: float, value: float) -> None:
    with state.lock:
        if any(b.limit == limit for b in state.breaches):
            # Reported once; after a handler let the run go on, the limit is not enforced
            # again (the handler decided).
            if state.on_breach is not None:
                return
            breach = next(b for b in state.breaches if b.limit == limit)
            raise BudgetExceeded(breach)
        context = state.span.get_span_context()
        trace_id = format(context.trace_id, "032x") if context.trace_id else ""
        breach = Breach(limit, allowed, value, state.name, trace_id)
        state.breaches.append(breach)
    span = state.span
    if span.is_recording():
        span.set_attribute("agentreel.budget.breach", limit)
        span.add_event(
            "agentreel.budget.breach",
            {
                "agentreel.budget.limit": limit,
                "agentreel.budget.allowed": float(allowed),
                "agentreel.budget.value": float(value),
            },
        )
    if state.on_breach is None:
        raise BudgetExceeded(breach)
    state.on_breach(breach)
