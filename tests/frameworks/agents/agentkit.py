"""What every framework agent script shares. Runs in ``.venv-frameworks``, never in the tests'.

- :func:`tracing`: a ``TracerProvider`` exporting over OTLP exactly as OpenTelemetry's
  environment says (``OTEL_EXPORTER_OTLP_PROTOCOL`` ``grpc`` or ``http/protobuf``,
  ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_SERVICE_NAME``), with a counter of what it ended.
- the tools of the weather agent, :func:`get_weather` and :func:`c_to_f`, which append one JSON
  line (name, arguments, result) to ``FRAMEWORK_TOOL_LOG`` each time they actually run.
- :func:`report`: flush and shut down the provider, then print one JSON line for the harness
  (trace ids seen, spans ended in each, whether the flush succeeded, the agent's answer);
  :func:`flush` alone, for a process the agent starts (its spans are counted in the report).

The agents ask the provider at ``OPENAI_BASE_URL`` with ``OPENAI_API_KEY``: the clients read
both from the environment, as a user's agent would.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterable
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

#: The system prompt and question every agent gets.
SYSTEM = "You are a terse weather bot. Use the tools."
QUESTION = "Weather in Paris and Lyon, with Paris in Fahrenheit?"
#: Milliseconds the final flush may take; agentreel acknowledges only what it stored.
FLUSH_TIMEOUT_MS = 30_000


class _Seen(SpanProcessor):
    """Counts ended spans and the traces they belong to (the harness waits for them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spans = 0
        #: Spans ended per trace, traces in the order their first span ended.
        self.trace_ids: dict[str, int] = {}

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        context = span.get_span_context()
        if context is None:
            return
        with self._lock:
            self.spans += 1
            trace_id = f"{context.trace_id:032x}"
            self.trace_ids[trace_id] = self.trace_ids.get(trace_id, 0) + 1


_seen = _Seen()


def _exporter() -> SpanExporter:
    """The OTLP exporter the environment names; endpoint, headers and TLS come from it too."""
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[assignment]
            OTLPSpanExporter,
        )
    return OTLPSpanExporter()


def tracing(with_sdk: bool = False) -> TracerProvider:
    """A provider exporting to agentreel; the service name comes from ``OTEL_SERVICE_NAME``.

    ``with_sdk``: the provider is the one ``agentreel.sdk.init()`` sets up (from the same
    environment), which also traces the ``openai`` client itself, as a user who adds
    agentreel's SDK beside a framework's instrumentor has it.
    """
    if with_sdk:
        from agentreel import sdk

        provider = sdk.init()
    else:
        provider = TracerProvider(resource=Resource.create())
        provider.add_span_processor(BatchSpanProcessor(_exporter()))
    provider.add_span_processor(_seen)
    return provider


def _log_tool(name: str, arguments: dict[str, Any], result: str) -> str:
    line = json.dumps({"name": name, "arguments": arguments, "result": result})
    with open(os.environ["FRAMEWORK_TOOL_LOG"], "a", encoding="utf-8") as log:
        log.write(line + "\n")
    return result


def get_weather(city: str) -> str:
    """Current weather for a city."""
    forecast = {"city": city, "temp_c": 21 if city == "Paris" else 18, "sky": "sunny"}
    return _log_tool("get_weather", {"city": city}, json.dumps(forecast))


def c_to_f(c: float) -> str:
    """Celsius to Fahrenheit."""
    return _log_tool("c_to_f", {"c": c}, str(round(c * 9 / 5 + 32, 1)))


if os.environ.get("FRAMEWORK_SDK_TOOLS"):
    # The tools under agentreel's @sdk.tool, as a user who re-runs the agent has them: in a
    # re-run, a tool called before the first live call is answered from the recording and
    # its body (and its log line) does not run.
    from agentreel import sdk

    get_weather = sdk.tool(get_weather)
    c_to_f = sdk.tool(c_to_f)


def flush(provider: TracerProvider) -> dict[str, Any]:
    """Flush and shut down ``provider``; what it ended: trace ids, spans per trace, spans, and
    whether the flush succeeded. (A process the agent starts, such as an MCP server, hands
    this to the agent, whose :func:`report` counts it in.)"""
    flushed = provider.force_flush(FLUSH_TIMEOUT_MS)
    provider.shutdown()
    if "agentreel.sdk" in sys.modules:
        sys.modules["agentreel.sdk"].shutdown()
    return {
        "trace_ids": list(_seen.trace_ids),
        "spans_per_trace": dict(_seen.trace_ids),
        "spans": _seen.spans,
        "flushed": flushed,
    }


def report(
    provider: TracerProvider,
    answer: str,
    others: Iterable[dict[str, Any]] = (),
    **extra: Any,
) -> None:
    """Flush and shut down ``provider``, then print what the harness reads (last stdout line).

    ``others``: :func:`flush` results of the agent's own child processes, added in."""
    result = flush(provider)
    for other in others:
        for trace_id, spans in other["spans_per_trace"].items():
            per_trace = result["spans_per_trace"]
            per_trace[trace_id] = per_trace.get(trace_id, 0) + spans
        result["trace_ids"] = list(result["spans_per_trace"])
        result["spans"] += other["spans"]
        result["flushed"] = result["flushed"] and other["flushed"]
    result = {**result, "answer": answer, **extra}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
