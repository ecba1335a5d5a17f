"""A flood faster than the store against a real ``agentreel serve``: the server pushes back
(429 / RESOURCE_EXHAUSTED, each with its retry hint) instead of holding the clients'
requests, and every span it acknowledged is stored, once.

Small on purpose: ``queue_bytes`` of a few requests and a store slowed by fault injection
make the backlog (what ``bench/soak.py --span-bytes`` shows at full size) in seconds.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import cast

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from agentreel.collector.ingest import Ingest
from agentreel.collector.metrics import Metrics
from agentreel.collector.pipeline import BATCH_BYTES, Busy, Pipeline

from support.liveserver import RunningServer, start_server
from support.otlpbuild import new_span_id, new_trace_id, span, traces

REQUESTS = 16
SPANS = 5
SPAN_BYTES = 10_000
_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


class _Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: list[str] = []
        self.pushback = 0
        self.without_hint: list[str] = []

    def refused(self, hint: bool, what: str) -> None:
        with self.lock:
            self.pushback += 1
            if not hint:
                self.without_hint.append(what)


def _request(n: int) -> tuple[str, bytes]:
    trace_id = new_trace_id()
    body = traces(
        [
            span(trace_id, new_span_id(), f"tool {n}.{i}", {"output.value": "x" * SPAN_BYTES})
            for i in range(SPANS)
        ]
    ).SerializeToString()
    return trace_id.hex(), body


def _send_http(server: RunningServer, body: bytes, tally: _Tally) -> None:
    headers = {"content-type": "application/x-protobuf"}
    with httpx.Client(timeout=30) as client:
        while True:
            answer = client.post(server.url + "/v1/traces", content=body, headers=headers)
            if answer.status_code == 200:
                return
            assert answer.status_code in (429, 503), answer.text
            hint = answer.headers.get("retry-after")
            tally.refused(hint is not None, f"http {answer.status_code}")
            time.sleep(float(hint or 1))


def _send_grpc(channel: grpc.Channel, body: bytes, tally: _Tally) -> None:
    call = channel.unary_unary(
        _EXPORT,
        request_serializer=None,
        response_deserializer=ExportTraceServiceResponse.FromString,
    )
    while True:
        try:
            call(body, timeout=30)
            return
        except grpc.RpcError as exc:
            assert isinstance(exc, grpc.Call)
            codes = (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE)
            assert exc.code() in codes, exc.details()
            trailers = dict(exc.trailing_metadata() or ())
            tally.refused("google.rpc.retryinfo-bin" in trailers, f"grpc {exc.code().name}")
            time.sleep(1)


def test_a_flood_is_pushed_back_and_nothing_acknowledged_is_lost(tmp_path: Path) -> None:
    faults = tmp_path / "faults"
    faults.write_text("slow 0.2")  # the store takes ~5 inserts a second
    server = start_server(
        tmp_path / "data",
        {
            "AGENTREEL_TEST_FAULTS": str(faults),
            "AGENTREEL_QUEUE_BYTES": str(2 * SPANS * SPAN_BYTES),
        },
    )
    tally = _Tally()
    work = [_request(n) for n in range(REQUESTS)]
    lock = threading.Lock()

    def client(n: int) -> None:
        channel = grpc.insecure_channel(server.grpc_endpoint)
        try:
            while True:
                with lock:
                    if not work:
                        return
                    trace_id, body = work.pop()
                if n % 2:
                    _send_grpc(channel, body, tally)
                else:
                    _send_http(server, body, tally)
                with tally.lock:
                    tally.acked.append(trace_id)
        finally:
            channel.close()

    try:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(tally.acked) == REQUESTS
        assert tally.pushback > 0, "the flood was never pushed back"
        assert tally.without_hint == []
        faults.unlink()
        server.wait_for(
            lambda s: s.get("/api/v1/stats")["spans"] >= REQUESTS * SPANS, what="all stored"
        )
        for trace_id in tally.acked:
            assert server.get(f"/api/v1/runs/{trace_id}")["run"]["spans"] == SPANS
        assert server.get("/api/v1/stats")["spans"] == REQUESTS * SPANS
    finally:
        server.stop()


class _Behind:
    """A writer behind by a little over one insert (the state a flood leaves it in)."""

    waiting_bytes = BATCH_BYTES + 1
    healthy = True


@pytest.mark.parametrize(
    ("backlog", "rss", "why"),
    [(BATCH_BYTES, 1 << 62, "waiting to be written"), (1 << 62, 1, "max_rss_bytes")],
)
def test_a_writer_behind_refuses_at_once_over_the_backlog_or_the_memory_bound(
    backlog: int, rss: int, why: str
) -> None:
    ingest = Ingest(
        cast(Pipeline, _Behind()),
        Metrics(lambda: 0),
        "p",
        1 << 20,
        max_backlog_bytes=backlog,
        max_rss_bytes=rss,
    )
    try:
        with pytest.raises(Busy, match=why):
            ingest.submit("traces", "proto", b"", project="p")
    finally:
        ingest.shutdown()
