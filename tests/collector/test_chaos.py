"""Chaos: break the server on purpose and check that nothing acknowledged is lost or doubled.

Each test runs its own ``agentreel serve`` process on a fresh data directory. Faults are
injected into that real process through ``AGENTREEL_TEST_FAULTS``: a file that, while it
exists, makes every write to the store fail ("fail") or take longer ("slow <seconds>").
A request is one trace of ``SPANS`` LLM spans with known tokens, so "stored exactly once"
is checked against the run totals, which the store sums as spans arrive: a span stored
twice would count twice there.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from support.crashrun import exporter
from support.liveserver import RunningServer, start_server
from support.otlpbuild import new_span_id, new_trace_id, span, traces

SPANS = 4
INPUT, OUTPUT = 7, 3


_LLM = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": INPUT,
    "gen_ai.usage.output_tokens": OUTPUT,
}


def _llm(trace_id: bytes, n: int) -> Any:
    return span(trace_id, new_span_id(), "chat gpt-4o", _LLM | {"step": n})


class Sender(threading.Thread):
    """Sends one-trace requests until told to stop; remembers which were acknowledged."""

    def __init__(self, server: RunningServer, protocol: str) -> None:
        super().__init__(daemon=True)
        self.server, self.protocol = server, protocol
        self.stop = threading.Event()
        self.sent: list[str] = []
        self.acked: list[str] = []

    def run(self) -> None:
        channel = grpc.insecure_channel(self.server.grpc_endpoint)
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        http = httpx.Client(timeout=10)
        try:
            while not self.stop.is_set():
                trace_id = new_trace_id()
                request = traces([_llm(trace_id, n) for n in range(SPANS)])
                self.sent.append(trace_id.hex())
                try:
                    if self.protocol == "grpc":
                        stub.Export(request, timeout=10)
                    else:
                        response = http.post(
                            self.server.url + "/v1/traces",
                            content=request.SerializeToString(),
                            headers={"content-type": "application/x-protobuf"},
                        )
                        if response.status_code != 200:
                            continue
                except (grpc.RpcError, httpx.HTTPError):
                    if self.server.process.poll() is not None:
                        return  # killed: nothing more can be acknowledged
                    continue
                self.acked.append(trace_id.hex())
        finally:
            http.close()
            channel.close()


def _run(server: RunningServer, trace_id: str) -> dict[str, Any] | None:
    response = httpx.get(f"{server.url}/api/v1/runs/{trace_id}", timeout=30)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return dict(response.json())


def _spans_stored(server: RunningServer) -> int:
    return int(server.get("/api/v1/stats")["spans"])


def _check_exactly_once(
    server: RunningServer, acked: list[str], sent: list[str], roots: int = 0
) -> None:
    """Every acknowledged trace is stored whole, once; the others whole once or not at all;
    and the store holds no other copies. A trace is ``SPANS`` LLM spans and ``roots``."""
    found = 0
    for trace_id in sent:
        body = _run(server, trace_id)
        if body is None:
            assert trace_id not in acked, f"acknowledged trace {trace_id} was lost"
            continue
        found += 1
        run = body["run"]
        assert run["spans"] == SPANS + roots, (trace_id, run)
        assert run["llm_calls"] == SPANS, (trace_id, run)
        assert run["usage"]["input_tokens"] == SPANS * INPUT, (trace_id, run)
        assert run["usage"]["output_tokens"] == SPANS * OUTPUT, (trace_id, run)
        assert run["cost_usd"] == pytest.approx(sum(_costs(body["spans"]))), (trace_id, run)
    assert _spans_stored(server) == found * (SPANS + roots)


def _costs(spans: list[dict[str, Any]]) -> Iterator[float]:
    for s in spans:
        yield float(s["cost_usd"] or 0)
        yield from _costs(s["children"])


def _fault(path: Path, what: str | None) -> None:
    if what is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(what)


def test_kill_9_during_ingestion_loses_no_acknowledged_span(tmp_path: Path) -> None:
    data, faults = tmp_path / "data", tmp_path / "faults"
    env = {"AGENTREEL_TEST_FAULTS": str(faults)}
    server = start_server(data, env)
    senders = [Sender(server, "http"), Sender(server, "grpc")]
    try:
        for sender in senders:
            sender.start()
        # Healthy for a while (stored, some perhaps not yet marked finished in the spool)...
        server.wait_for(lambda _: sum(len(s.acked) for s in senders) >= 10, what="acks")
        # ...then the store fails: requests are acknowledged from the spool alone.
        _fault(faults, "fail")
        before = sum(len(s.acked) for s in senders)
        server.wait_for(lambda _: sum(len(s.acked) for s in senders) >= before + 20, what="acks")
        server.stop(signal.SIGKILL)
    finally:
        for sender in senders:
            sender.stop.set()
        for sender in senders:
            sender.join(30)
    assert server.process.returncode == -signal.SIGKILL
    _fault(faults, None)
    acked = [t for s in senders for t in s.acked]
    sent = [t for s in senders for t in s.sent]
    again = start_server(data, env)
    try:
        again.wait_for(lambda s: _spans_stored(s) >= len(acked) * SPANS, timeout=60, what="replay")
        _check_exactly_once(again, acked, sent)
        assert "to replay" in again.log()
    finally:
        again.stop()


def _spans(runs: int, service: str) -> list[ReadableSpan]:
    """Finished SDK spans of ``runs`` runs (a root and ``SPANS`` LLM calls each), as the
    SDK hands them to exporters."""
    finished: list[ReadableSpan] = []

    class Keep(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            finished.extend(spans)
            return SpanExportResult.SUCCESS

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(Keep()))
    tracer = provider.get_tracer("tests.chaos")
    for _ in range(runs):
        with tracer.start_as_current_span("agent"):
            for n in range(SPANS):
                with tracer.start_as_current_span("chat gpt-4o", attributes=_LLM | {"step": n}):
                    pass
    provider.shutdown()
    return finished


def _deliver(server: RunningServer, spans: list[ReadableSpan], batch: int, threads: int) -> None:
    """Export ``spans`` through the real OTLP exporters (half gRPC, half HTTP) from several
    threads at once, each batch once, as BatchSpanProcessors would; the exporters retry on
    429/503/RESOURCE_EXHAUSTED/UNAVAILABLE as they do in production. Fails if one gives up."""
    batches = [spans[i : i + batch] for i in range(0, len(spans), batch)]
    failures: list[int] = []

    def work(index: int) -> None:
        sender = exporter(server, grpc=bool(index % 2), timeout=60)
        for n in range(index, len(batches), threads):
            if sender.export(batches[n]) is not SpanExportResult.SUCCESS:
                failures.append(n)
        sender.shutdown()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(300)
    assert not failures, f"the exporters gave up on batches {failures}"


def _trace_ids(spans: list[ReadableSpan]) -> list[str]:
    return sorted({f"{s.context.trace_id:032x}" for s in spans if s.context is not None})


def _metric(server: RunningServer, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` that carry ``labels``."""
    text = httpx.get(server.url + "/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample.split("{")[0] == name and all(f'{k}="{v}"' in sample for k, v in labels.items()):
            total += float(value)
    return total


def test_a_store_that_fails_for_a_while_loses_nothing(tmp_path: Path) -> None:
    faults = tmp_path / "faults"
    _fault(faults, "fail")
    server = start_server(tmp_path / "data", {"AGENTREEL_TEST_FAULTS": str(faults)})
    try:
        spans = _spans(24, "chaos-failing-store")
        _deliver(server, spans, batch=12, threads=4)
        # All acknowledged while the store took nothing: they wait in the spool.
        assert _spans_stored(server) == 0
        assert _metric(server, "agentreel_spool_bytes") > 0
        _fault(faults, None)
        server.wait_for(lambda s: _spans_stored(s) >= len(spans), timeout=60, what="recovery")
        traces_ = _trace_ids(spans)
        _check_exactly_once(server, traces_, traces_, roots=1)
    finally:
        server.stop()


def test_a_slow_store_gets_backpressure_and_the_exporters_deliver_everything(
    tmp_path: Path,
) -> None:
    faults = tmp_path / "faults"
    _fault(faults, "slow 0.3")
    server = start_server(
        tmp_path / "data",
        # Room for a few requests only, so the slow store fills it.
        {"AGENTREEL_TEST_FAULTS": str(faults), "AGENTREEL_SPOOL_MAX_BYTES": "8000"},
    )
    try:
        spans = _spans(48, "chaos-slow-store")
        _deliver(server, spans, batch=12, threads=6)
        refused = _metric(server, "agentreel_otlp_requests_total", outcome="503") + _metric(
            server, "agentreel_otlp_requests_total", outcome="unavailable"
        )
        assert refused > 0, "the spool never filled: no backpressure was exercised"
        server.wait_for(lambda s: _spans_stored(s) >= len(spans), timeout=60, what="all stored")
        traces_ = _trace_ids(spans)
        _check_exactly_once(server, traces_, traces_, roots=1)
    finally:
        server.stop()
