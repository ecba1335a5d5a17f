"""OTLP metrics on a running server, sent by the real OpenTelemetry SDK's exporters.

The GenAI client metrics are stored and summed: the figures ``/api/v1/metrics/genai`` gives
must equal the values this test recorded (added up by hand here), whether the exporter sent
them as cumulative points (the SDK's default: every export repeats the running totals) or
as delta points. Other metrics are accepted and counted as dropped; a JSON body works too;
and exporters configured by ``OTEL_EXPORTER_OTLP_ENDPOINT`` alone get no 404 for metrics.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetricExporter,
)
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetricExporter,
)
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

from support.liveserver import RunningServer, start_server

TOKENS = "gen_ai.client.token.usage"
DURATION = "gen_ai.client.operation.duration"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of this module's own: its metric figures and counters are these tests'."""
    running = start_server(tmp_path_factory.mktemp("otlp-metrics"))
    yield running
    running.stop()


def _record(exporter: MetricExporter, model: str, calls: list[tuple[int, int, float]]) -> None:
    """Record each call's input/output tokens and duration, exporting after every call (so a
    cumulative exporter sends the running totals again and again); one unrelated metric too."""
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(
        metric_readers=[reader], resource=Resource.create({"service.name": "metrics-test"})
    )
    meter = provider.get_meter("genai-client")
    tokens = meter.create_histogram(TOKENS, unit="{token}")
    duration = meter.create_histogram(DURATION, unit="s")
    other = meter.create_counter("http.client.requests")
    base = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
    }
    for input_tokens, output_tokens, seconds in calls:
        tokens.record(input_tokens, {**base, "gen_ai.token.type": "input"})
        tokens.record(output_tokens, {**base, "gen_ai.token.type": "output"})
        duration.record(seconds, base)
        other.add(1, {"route": "/x"})
        assert provider.force_flush(10_000)
    provider.shutdown()


def _group(server: RunningServer, model: str) -> dict[str, Any]:
    (group,) = [g for g in server.get("/api/v1/metrics/genai")["groups"] if g["model"] == model]
    return group


def _dropped(server: RunningServer) -> float:
    text = httpx.get(server.url + "/metrics", timeout=10).text
    found = re.search(
        r'agentreel_otlp_metric_points_dropped_total\{reason="not_genai"\} (\S+)', text
    )
    return float(found.group(1)) if found else 0.0


CALLS = [(1_000, 120, 0.8), (2_500, 40, 1.7), (300, 600, 4.2)]


def _check(group: dict[str, Any]) -> None:
    assert group["operation"] == "chat"
    assert group["provider"] == "openai"
    assert group["input_tokens"] == 1_000 + 2_500 + 300
    assert group["output_tokens"] == 120 + 40 + 600
    assert group["duration"]["count"] == 3
    assert group["duration"]["sum_s"] == pytest.approx(0.8 + 1.7 + 4.2)
    # The SDK's default bounds are 0, 5, 10, 25 ...: all three fall in (0, 5], so the middle
    # one is estimated at 5 * 1.5/3 = 2.5 by linear interpolation within that bucket.
    assert group["duration"]["p50_s"] == pytest.approx(2.5)


def test_grpc_cumulative_points_are_summed_once(server: RunningServer) -> None:
    before = _dropped(server)
    exporter = GrpcMetricExporter(endpoint=server.grpc_endpoint, insecure=True)
    _record(exporter, "gpt-grpc", CALLS)
    _check(_group(server, "gpt-grpc"))
    # One counter point per export: three flushes, and shutdown's last collection (a
    # cumulative series is sent again even with nothing new).
    assert _dropped(server) - before == 4


def test_http_delta_points_are_added_up(server: RunningServer) -> None:
    before = _dropped(server)
    exporter = HttpMetricExporter(
        endpoint=server.url + "/v1/metrics",
        preferred_temporality={Histogram: AggregationTemporality.DELTA},
    )
    _record(exporter, "gpt-http", CALLS)
    _check(_group(server, "gpt-http"))
    # The counter stays cumulative (only histograms were asked for as delta): 3 + 1 again.
    assert _dropped(server) - before == 4


def _json_point(count: int, total: float, buckets: list[int], bounds: list[float]) -> Any:
    return {
        "startTimeUnixNano": "1765000000000000000",
        "timeUnixNano": "1765000060000000000",
        "count": str(count),
        "sum": total,
        "bucketCounts": [str(b) for b in buckets],
        "explicitBounds": bounds,
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.system", "value": {"stringValue": "anthropic"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": "claude-json"}},
            {"key": "gen_ai.token.type", "value": {"stringValue": "input"}},
        ],
    }


def test_a_json_body_is_stored_and_a_bad_point_rejected_alone(server: RunningServer) -> None:
    body = {
        "resourceMetrics": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "js"}}]
                },
                "scopeMetrics": [
                    {
                        "scope": {"name": "ai"},
                        "metrics": [
                            {
                                "name": TOKENS,
                                "histogram": {
                                    "aggregationTemporality": 1,
                                    "dataPoints": [
                                        _json_point(2, 700.0, [1, 1, 0], [256, 1024]),
                                        # 3 counts for 1 bound: rejected on its own
                                        _json_point(1, 5.0, [1, 0, 0], [256]),
                                        # 2001: older than max_past_seconds (5 years)
                                        {
                                            **_json_point(1, 9.0, [1, 0, 0], [256, 1024]),
                                            "timeUnixNano": "1000000000000000000",
                                        },
                                    ],
                                },
                            },
                            {
                                "name": "process.cpu.time",
                                "sum": {
                                    "aggregationTemporality": 2,
                                    "isMonotonic": True,
                                    "dataPoints": [
                                        {"timeUnixNano": "1765000060000000000", "asDouble": 1.5}
                                    ],
                                },
                            },
                        ],
                    }
                ],
            }
        ]
    }
    before = _dropped(server)
    response = httpx.post(
        server.url + "/v1/metrics",
        content=orjson.dumps(body),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    partial = response.json()["partialSuccess"]
    assert partial["rejectedDataPoints"] == "2"
    assert "bucket counts" in partial["errorMessage"]
    assert "max_past_seconds" in partial["errorMessage"]
    (group,) = [
        g
        for g in server.get("/api/v1/metrics/genai", since="2025-12-01")["groups"]
        if g["model"] == "claude-json"
    ]
    assert (group["provider"], group["input_tokens"], group["output_tokens"]) == (
        "anthropic",
        700,
        0,
    )
    assert _dropped(server) - before == 1


def test_exporters_configured_by_the_base_endpoint_get_no_404(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``OTEL_EXPORTER_OTLP_ENDPOINT`` alone: each HTTP exporter appends its signal's path."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics.export import MetricExportResult
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.url)
    spans = OTLPSpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    with tracer_provider.get_tracer("t").start_as_current_span("auto-configured"):
        pass
    tracer_provider.shutdown()
    results: list[MetricExportResult] = []

    class Watching(HttpMetricExporter):
        def export(self, *args: Any, **kwargs: Any) -> MetricExportResult:
            result = super().export(*args, **kwargs)
            results.append(result)
            return result

    _record(Watching(), "gpt-auto", CALLS[:1])
    assert results and all(r == MetricExportResult.SUCCESS for r in results)
    assert _group(server, "gpt-auto")["input_tokens"] == 1_000
    log = server.log()
    assert " 404 " not in log


def test_a_retried_and_replayed_request_counts_once(store: Any, tmp_path: Path) -> None:
    """Spooled like traces: a request sent twice (an exporter retry), then replayed from the
    spool after a crash that lost the checkpoint, leaves the same figures as one send."""
    import uuid

    from agentreel.collector.ingest import Ingest
    from agentreel.collector.metrics import Metrics
    from agentreel.collector.pipeline import Pipeline
    from agentreel.collector.spool import Ref, Spool
    from agentreel.storage import genai_metrics
    from agentreel.storage.writer import Writer

    project = f"p-{uuid.uuid4().hex[:8]}"
    point = _json_point(3, 900.0, [2, 1, 0], [256, 1024])
    body = orjson.dumps(
        {
            "resourceMetrics": [
                {
                    "scopeMetrics": [
                        {
                            "metrics": [
                                {
                                    "name": TOKENS,
                                    "histogram": {
                                        "aggregationTemporality": 1,
                                        "dataPoints": [point],
                                    },
                                }
                            ]
                        }
                    ]
                }
            ]
        }
    )

    def start() -> tuple[Spool, Ingest, Pipeline, list[Ref]]:
        spool = Spool(tmp_path, 1 << 30)
        refs = spool.open()
        holder: list[Ingest] = []
        pipeline = Pipeline(
            Writer(store).write,
            max_queued_spans=1000,
            batch_spans=100,
            flush_interval=0.001,
            load=lambda ref: holder[0].load(ref),
            done=spool.done,
        )
        ingest = Ingest(pipeline, Metrics(lambda: 0), project, 1 << 20, spool)
        holder.append(ingest)
        pipeline.start()
        return spool, ingest, pipeline, refs

    def stop(spool: Spool, ingest: Ingest, pipeline: Pipeline) -> None:
        ingest.shutdown()
        pipeline.shutdown()
        spool.close()

    def input_tokens() -> int:
        return int(genai_metrics.summary(store, project, 0, 1 << 62)["input_tokens"])

    spool, ingest, pipeline, refs = start()
    for _ in range(2):
        taken = ingest.submit("metrics", "json", body, project=project).result(10)
        assert taken.durable is not None, "acknowledged only once fsync'ed, as traces are"
        taken.durable.result(10)
        assert taken.future.result(10).points_written == 1
    assert input_tokens() == 900
    segments = {p: p.read_bytes() for p in tmp_path.glob("*.spool")}
    stop(spool, ingest, pipeline)
    for path, data in segments.items():
        path.write_bytes(data)
    (tmp_path / "checkpoint").unlink()
    spool, ingest, pipeline, refs = start()
    assert len(refs) == 2
    for future in [pipeline.submit(None, ref) for ref in refs]:
        assert future.result(10).points_written >= 1  # written again, stored once
    assert input_tokens() == 900
    stop(spool, ingest, pipeline)


def test_the_cost_page_shows_client_reported_tokens_only_when_there_are_some(
    fresh_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentreel.dashboard.ui import clear_cache

    from support.dashboard import render
    from support.otlpbuild import new_span_id, new_trace_id, span, traces

    label = "Client-reported (OTLP metrics)"
    chat = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 20,
    }
    body = traces([span(new_trace_id(), new_span_id(), "chat gpt-4o-mini", chat)])
    response = httpx.post(
        fresh_server.url + "/v1/traces",
        content=body.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    at = render(fresh_server.url, monkeypatch, page="cost")
    assert label not in {m.label for m in at.metric}

    _record(HttpMetricExporter(endpoint=fresh_server.url + "/v1/metrics"), "gpt-dash", CALLS)
    clear_cache()  # the first render's answers are reused for a few seconds
    at = render(fresh_server.url, monkeypatch, page="cost")
    (shown,) = [m for m in at.metric if m.label == label]
    assert shown.value == f"{1_000 + 2_500 + 300 + 120 + 40 + 600:,} tokens"
    assert "3,800 input, 760 output, over 3 timed calls" in shown.proto.help
    assert "From spans: 120 tokens" in shown.proto.help
