"""``agentreel demo``: a week of realistic agent runs, sent through the real OTLP path.

Four agents (support, research, billing, triage) in two environments, each run a trace of
decisions, LLM calls with their messages, tool calls, escalations and evaluation scores, with
some failures, a few very expensive outliers and a routing shift half-way through the week
(the support agent starts reaching for web search instead of its knowledge base; the research
agent moves to a cheaper model). The spans go through the OpenTelemetry SDK and its OTLP/HTTP
exporter to a running server, like any instrumented agent's.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Tracer

from agentreel.demo.agents import AGENTS, Agent
from agentreel.demo.runs import DAY_NS, NS, RunWriter, SeededIds, run_times

__all__ = ["DemoResult", "generate", "send_demo"]


@dataclass
class DemoResult:
    runs: int = 0
    spans: int = 0
    failed_runs: int = 0
    escalated_runs: int = 0
    scored_runs: int = 0
    exported_spans: int = 0
    export_failures: int = 0


def generate(
    exporter_for: Callable[[Resource], SpanExporter],
    *,
    seed: int = 7,
    days: int = 7,
    end: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Generate ``days`` of runs ending at ``end`` (default now) and export them through one
    exporter per service and environment. The same seed and end give the same spans."""
    end_ns = int((end or datetime.now(UTC)).timestamp() * NS)
    rng = random.Random(seed)
    ids = SeededIds(random.Random(seed * 7919 + 1))
    providers: dict[tuple[str, str], TracerProvider] = {}

    def tracer_for(agent: Agent) -> Tracer:
        key = (agent.service, agent.environment)
        if key not in providers:
            resource = Resource.create(
                {
                    "service.name": agent.service,
                    "service.version": "1.4.2",
                    "deployment.environment.name": agent.environment,
                }
            )
            provider = TracerProvider(resource=resource, id_generator=ids)
            provider.add_span_processor(
                BatchSpanProcessor(
                    exporter_for(resource),
                    max_queue_size=100_000,
                    max_export_batch_size=1_000,
                    schedule_delay_millis=200,
                )
            )
            providers[key] = provider
        return providers[key].get_tracer("agentreel.demo")

    writer = RunWriter(tracer_for, rng)
    result = DemoResult()
    first_day = (end_ns // DAY_NS - days + 1) * DAY_NS
    shift_at = end_ns - days * DAY_NS // 2
    for day in range(days):
        day_start = first_day + day * DAY_NS
        day_runs = day_spans = 0
        for agent in AGENTS:
            for start in run_times(agent, day_start, end_ns, rng):
                stats = writer.run(agent, start, shifted=start >= shift_at)
                day_runs += 1
                day_spans += stats.spans
                result.failed_runs += stats.failed
                result.escalated_runs += stats.escalated
                result.scored_runs += stats.scored
        result.runs += day_runs
        result.spans += day_spans
        if progress is not None:
            label = datetime.fromtimestamp(day_start / NS, UTC).strftime("%a %Y-%m-%d")
            progress(f"day {day + 1}/{days} ({label}): {day_runs} runs, {day_spans} spans")
    for provider in providers.values():
        provider.force_flush()
        provider.shutdown()
    return result


class CountingExporter(SpanExporter):
    """Passes spans on and counts what the server acknowledged, so the demo can say whether
    everything arrived (the batch processor itself only logs a failed export)."""

    def __init__(self, inner: SpanExporter, result: DemoResult) -> None:
        self._inner = inner
        self._result = result

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        outcome = self._inner.export(spans)
        if outcome is SpanExportResult.SUCCESS:
            self._result.exported_spans += len(spans)
        else:
            self._result.export_failures += len(spans)
        return outcome

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


def send_demo(
    api_url: str,
    *,
    seed: int = 7,
    days: int = 7,
    api_key: str = "",
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Send the demo to the server at ``api_url`` over OTLP/HTTP (protobuf)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
    counts = DemoResult()

    def exporter_for(_: Resource) -> SpanExporter:
        endpoint = api_url.rstrip("/") + "/v1/traces"
        return CountingExporter(OTLPSpanExporter(endpoint=endpoint, headers=headers), counts)

    started = time.monotonic()
    result = generate(exporter_for, seed=seed, days=days, progress=progress)
    result.exported_spans, result.export_failures = counts.exported_spans, counts.export_failures
    if progress is not None:
        progress(
            f"sent {result.exported_spans} of {result.spans} spans ({result.runs} runs) "
            f"in {time.monotonic() - started:.1f}s"
        )
    return result
