"""Run an agent function under a pinned case, offline, and say what it did: what the pytest
plugin's ``agentreel_case`` fixture calls (:mod:`agentreel.sdk.pytest_plugin`).

The function runs inside ``rerun(case=..., on_divergence="fail")``: every LLM call and every
``@sdk.tool`` call is answered from the recording, so nothing reaches the provider and no
tool body runs. A request that differs from the recording is answered with an HTTP 400 (the
client raises), and the run is reported as diverged at that call.

The spans the run produces are kept in memory by a processor added to the TracerProvider in
use. When the process has not called ``sdk.init()``, it is set up for the run with an
exporter that sends nothing, and shut down after it: the run costs no network either way.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from agentreel.core.cases import Case

from . import _config
from ._rerun import Divergence, Report, Rerun
from ._state import STATE

__all__ = ["CaseDiverged", "CaseResult", "Decision", "run_case"]

#: ``gen_ai.operation.name`` of a model call.
_LLM_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "responses"})


@dataclass(frozen=True)
class Decision:
    """One ``sdk.decision(...)`` the agent took."""

    name: str
    chosen: str
    options: tuple[str, ...] = ()
    reason: str | None = None


@dataclass
class CaseResult:
    """What the agent did when re-run under a case."""

    case: str
    #: What the agent function returned (None when it raised).
    output: Any
    report: Report
    #: Every span that ended during the run, in the order they ended.
    spans: list[ReadableSpan] = field(default_factory=list, repr=False)
    #: What the agent function raised, when a tolerated divergence made it fail.
    error: BaseException | None = None

    @property
    def divergence(self) -> Divergence | None:
        return self.report.divergence

    @property
    def tools(self) -> list[str]:
        """The ``@sdk.tool`` functions called, by name, in the order they were called."""
        return [str(name) for kind, name, _ in self.report.events if kind == "tool"]

    @property
    def decisions(self) -> list[Decision]:
        """The decisions taken (``sdk.decision``), in order."""
        out = []
        for span in sorted(self.spans, key=lambda s: s.start_time or 0):
            attributes = span.attributes or {}
            name = attributes.get("agentreel.decision.name")
            if name is None:
                continue
            options = attributes.get("agentreel.decision.options") or ()
            reason = attributes.get("agentreel.decision.reason")
            out.append(
                Decision(
                    str(name),
                    str(attributes.get("agentreel.decision.chosen", "")),
                    tuple(str(o) for o in options) if isinstance(options, Sequence) else (),
                    None if reason is None else str(reason),
                )
            )
        return out

    @property
    def llm_calls(self) -> int:
        """LLM calls the agent made (a call refused for diverging included)."""
        numbers = [int(number) for kind, number, _ in self.report.events if kind == "call"]
        if self.divergence is not None:
            numbers.append(self.divergence.call)
        return max(numbers, default=0)

    @property
    def steps(self) -> int:
        """LLM calls + tool calls + decisions, as ``sdk.run`` counts a run's steps."""
        return self.llm_calls + len(self.tools) + len(self.decisions)

    @property
    def cost_usd(self) -> float:
        """What the calls sent to the provider cost (0 offline: served calls are free)."""
        return _live_cost(self.spans)

    # --- assertions ------------------------------------------------------------------------

    def assert_tools(self, expected: Sequence[str]) -> None:
        """The tools called were exactly ``expected``, in that order."""
        __tracebackhide__ = True
        if self.tools != list(expected):
            _fail(f"tools called: {self.tools}; expected {list(expected)}", self)

    def assert_decisions(self, expected: Mapping[str, Any] | Sequence[Any]) -> None:
        """A dict ``{name: chosen}``: each named decision was taken, choosing that every
        time (other decisions may be taken too). A list: exactly these decisions in order,
        each a name or a ``(name, chosen)`` pair."""
        __tracebackhide__ = True
        taken = self.decisions
        if isinstance(expected, Mapping):
            for name, chosen in expected.items():
                choices = [d.chosen for d in taken if d.name == name]
                if not choices:
                    _fail(f"decision {name!r} was not taken (taken: {_pairs(taken)})", self)
                if any(c != str(chosen) for c in choices):
                    _fail(f"decision {name!r} chose {choices}; expected {str(chosen)!r}", self)
            return
        wanted = [(e, None) if isinstance(e, str) else (str(e[0]), str(e[1])) for e in expected]
        same = len(taken) == len(wanted) and all(
            d.name == name and (chosen is None or d.chosen == chosen)
            for d, (name, chosen) in zip(taken, wanted, strict=True)
        )
        if not same:
            _fail(f"decisions taken: {_pairs(taken)}; expected {_pairs_of(wanted)}", self)

    def assert_output(self, equals: Any = None, contains: Any = None) -> None:
        """The function returned ``equals``, and/or its output contains ``contains`` (a
        substring of a text; an item of a list, tuple, set or dict; else a substring of
        its ``str``)."""
        __tracebackhide__ = True
        if equals is not None and self.output != equals:
            _fail(f"output {self.output!r}; expected {equals!r}", self)
        if contains is not None:
            output = self.output
            within = output if isinstance(output, str | list | tuple | set | dict) else str(output)
            if contains not in within:
                _fail(f"output {output!r} does not contain {contains!r}", self)

    def assert_steps(self, max: int | None = None, min: int | None = None) -> None:
        """The run took at most ``max`` (and at least ``min``) steps."""
        __tracebackhide__ = True
        detail = " + ".join(
            _count(n, noun)
            for n, noun in (
                (self.llm_calls, "LLM call"),
                (len(self.tools), "tool call"),
                (len(self.decisions), "decision"),
            )
        )
        if max is not None and self.steps > max:
            _fail(f"{self.steps} steps ({detail}), over the maximum of {max}", self)
        if min is not None and self.steps < min:
            _fail(f"{self.steps} steps ({detail}), under the minimum of {min}", self)

    def assert_cost(self, max_usd: float) -> None:
        """The calls sent to the provider cost at most ``max_usd``."""
        __tracebackhide__ = True
        if self.cost_usd > max_usd:
            _fail(f"the run cost ${self.cost_usd:.6g}, over ${max_usd:g}", self)

    def assert_no_divergence(self, before: int | None = None) -> None:
        """The run matched the recording (``before=n``: up to call n, not included)."""
        __tracebackhide__ = True
        divergence = self.divergence
        if divergence is None or (before is not None and divergence.call >= before):
            return
        where = f" (before call {before})" if before is not None else ""
        _fail(f"diverged at call {divergence.call}{where}: {divergence.what}", self)


class CaseDiverged(AssertionError):
    """The agent's requests stopped matching the case; ``result`` says where."""

    def __init__(self, result: CaseResult) -> None:
        divergence = result.divergence
        assert divergence is not None
        super().__init__(
            f"agentreel case {result.case}: the re-run diverged at call {divergence.call}: "
            f"{divergence.what}\n(the agent no longer sends the recorded request; if the "
            "change is intended, pin a new run as the case)"
        )
        self.result = result


def _fail(message: str, result: CaseResult) -> NoReturn:
    raise AssertionError(f"agentreel case {result.case}: {message}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _pairs(decisions: list[Decision]) -> str:
    return _pairs_of([(d.name, d.chosen) for d in decisions])


def _pairs_of(pairs: Sequence[tuple[str, str | None]]) -> str:
    return "[" + ", ".join(n if c is None else f"{n}={c}" for n, c in pairs) + "]"


def _live_cost(spans: Sequence[ReadableSpan]) -> float:
    """The price of every model call the provider answered, as agentreel prices it."""
    prices = STATE.prices()
    if prices is None:
        return 0.0
    from agentreel.core.prices import Usage

    total = 0.0
    for span in spans:
        a = span.attributes or {}
        if a.get("gen_ai.operation.name") not in _LLM_OPERATIONS or a.get("agentreel.rerun.served"):
            continue
        usage = Usage(
            input_tokens=_int(a.get("gen_ai.usage.input_tokens")),
            output_tokens=_int(a.get("gen_ai.usage.output_tokens")),
            cache_read_tokens=_int(a.get("gen_ai.usage.cache_read.input_tokens")),
            cache_write_tokens=_int(a.get("gen_ai.usage.cache_creation.input_tokens")),
            reasoning_tokens=_int(a.get("gen_ai.usage.reasoning.output_tokens")),
        )
        model = str(a.get("gen_ai.response.model") or a.get("gen_ai.request.model") or "")
        provider = str(a.get("gen_ai.provider.name") or a.get("gen_ai.system") or "")
        total += prices.cost_as_stored(model, provider, usage) or 0.0
    return total


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --- spans in memory -------------------------------------------------------------------------


class _Capture(SpanProcessor):
    """Keeps the spans that end while a case runs; does nothing between runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sink: list[ReadableSpan] | None = None

    def open(self, sink: list[ReadableSpan]) -> None:
        with self._lock:
            self._sink = sink

    def close(self) -> None:
        with self._lock:
            self._sink = None

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        sink = self._sink
        if sink is not None:
            sink.append(span)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class _Discard(SpanExporter):
    """The exporter of a setup made for a case run: spans go nowhere."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


_CAPTURE = _Capture()
#: Providers the capture processor is added to (OpenTelemetry cannot take one off again).
_capturing: weakref.WeakSet[TracerProvider] = weakref.WeakSet()
#: The provider used when the process has none. One for the process rather than one per
#: case: a TracerProvider stays alive until exit (it registers its own shutdown there).
_offline: TracerProvider | None = None
_offline_lock = threading.Lock()


def _offline_provider() -> TracerProvider:
    global _offline
    with _offline_lock:
        if _offline is None:
            _offline = TracerProvider()
        return _offline


@contextmanager
def _captured() -> Iterator[list[ReadableSpan]]:
    """The spans that end inside the block; tracing set up offline for it if it was not."""
    initialized = False
    setup = _config._setup
    if setup is None:
        current = trace.get_tracer_provider()
        given = current if isinstance(current, TracerProvider) else _offline_provider()
        _config.init(tracer_provider=given, exporter=_Discard())
        initialized = True
        setup = _config._setup
    providers = [setup.provider] if setup is not None else []
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        providers.append(current)  # spans of the application's own tracers
    for provider in providers:
        if provider not in _capturing:
            provider.add_span_processor(_CAPTURE)
            _capturing.add(provider)
    sink: list[ReadableSpan] = []
    _CAPTURE.open(sink)
    try:
        yield sink
    finally:
        _CAPTURE.close()
        if initialized:
            _config.shutdown()


# --- running ---------------------------------------------------------------------------------


def _call(fn: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
    """``fn(*args, **kwargs)``, awaited to its end when it is a coroutine function."""
    result = fn(*args, **kwargs)
    if inspect.isawaitable(result):
        return _await(result)
    return result


def _await(awaitable: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    # An async test already runs a loop in this thread: the agent gets a thread of its own
    # (the re-run is process-wide, so it serves there too).
    context = contextvars.copy_context()
    with ThreadPoolExecutor(1, thread_name_prefix="agentreel-case") as pool:
        return pool.submit(context.run, asyncio.run, main()).result()


def run_case(
    case: str | Path | Case,
    fn: Callable[..., Any],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    allow_divergence: bool = False,
    live: bool = False,
) -> CaseResult:
    """Run ``fn(*args, **kwargs)`` (sync or async) under ``case``, every call and tool
    answered from the recording, and return what it did.

    A request that differs from the recording fails the call; then :class:`CaseDiverged`
    is raised, unless ``allow_divergence`` (the result then has the divergence, and what
    the function raised in ``error``). ``live``: the model calls go to the provider (each
    request still compared with the recording), the tools are still served.
    Raises :class:`~agentreel.sdk.RerunError` for a case that cannot be read, and what
    ``fn`` raised for any other reason.
    """
    name = case.name if isinstance(case, Case) else str(case)
    session = Rerun(
        case=case,
        on_divergence="live" if live and allow_divergence else "fail",
        live_models=live,
        quiet=True,
    )
    output: Any = None
    error: Exception | None = None
    with _captured() as spans, session:
        try:
            output = _call(fn, args, kwargs or {})
        except Exception as exc:
            error = exc
    result = CaseResult(name, output, session.report, list(spans), error)
    if result.divergence is not None and not allow_divergence:
        raise CaseDiverged(result) from error
    if error is not None and result.divergence is None:
        raise error
    return result
