"""Slow and vanishing clients against a real ``agentreel serve``: uploads that trickle or
stall hold no more than the bytes they sent, for no longer than ``body_read_timeout``,
while real OTLP exporters over HTTP and gRPC are served; a client that drops mid-upload is
one INFO line."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from support.liveserver import RunningServer, start_server

#: Short, so the test is: the slow connections must be cut after this many seconds.
BODY_READ_TIMEOUT = 6.0
DECLARED = 64 * 1024 * 1024


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        tmp_path_factory.mktemp("slow-clients") / "data",
        {"AGENTREEL_BODY_READ_TIMEOUT": str(BODY_READ_TIMEOUT)},
    )
    yield running
    running.stop()


def _upload_start(server: RunningServer, declared: int = DECLARED) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.http_port), timeout=30)
    sock.sendall(
        b"POST /v1/traces HTTP/1.1\r\nHost: agentreel\r\n"
        b"Content-Type: application/x-protobuf\r\n"
        + f"Content-Length: {declared}\r\n\r\n".encode()
        + b"\n\x00" * 8
    )
    return sock


def _trickle(sock: socket.socket, stop: threading.Event) -> None:
    """One byte at a time until told to stop or the server hangs up."""
    while not stop.wait(0.25):
        try:
            sock.send(b"\x00")
        except OSError:
            return


def _closed_by_server(sock: socket.socket) -> bytes:
    """Everything the server sent until it closed the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _unanswered(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable


def _export_run(server: RunningServer, protocol: str) -> str:
    exporter = (
        GrpcExporter(endpoint=server.grpc_endpoint, insecure=True)
        if protocol == "grpc"
        else HttpExporter(endpoint=server.url + "/v1/traces")
    )
    provider = TracerProvider(resource=Resource.create({"service.name": f"beside-{protocol}"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.slow_clients")
    with (
        tracer.start_as_current_span("invoke_agent patient") as root,
        tracer.start_as_current_span("chat", attributes={"gen_ai.operation.name": "chat"}),
    ):
        pass
    assert provider.force_flush(30_000)
    provider.shutdown()
    return f"{root.get_span_context().trace_id:032x}"


def _refusals(server: RunningServer) -> list[str]:
    text = httpx.get(server.url + "/metrics", timeout=10).text
    return [
        line
        for line in text.splitlines()
        if line.startswith("agentreel_otlp_requests_total")
        and ('outcome="429"' in line or 'outcome="resource_exhausted"' in line)
    ]


def test_slow_uploads_neither_stall_others_nor_stay_open(slow_server: RunningServer) -> None:
    stop = threading.Event()
    slow = [_upload_start(slow_server) for _ in range(4)]
    trickles = [threading.Thread(target=_trickle, args=(s, stop), daemon=True) for s in slow[:2]]
    for thread in trickles:
        thread.start()
    opened = time.monotonic()
    try:
        # Four uploads promising 64 MiB each (twice what may wait to be decoded) are open,
        # two trickling, two stalled: real exporters beside them are served at once.
        stored = {protocol: _export_run(slow_server, protocol) for protocol in ("http", "grpc")}
        # ... while the slow ones were still open (nothing answered them yet).
        assert all(_unanswered(sock) for sock in slow)
        for protocol, trace_id in stored.items():
            run = slow_server.get(f"/api/v1/runs/{trace_id}")["run"]
            assert run["spans"] == 2 and run["service"] == f"beside-{protocol}"
        assert _refusals(slow_server) == []
        # Then each slow upload is answered 408 and closed, trickling or not.
        for sock in slow:
            answer = _closed_by_server(sock)
            assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
            assert b"body_read_timeout" in answer
        assert time.monotonic() - opened < BODY_READ_TIMEOUT + 10
    finally:
        stop.set()
        for sock in slow:
            sock.close()
    assert "Traceback" not in slow_server.log()


def test_a_client_gone_mid_upload_is_one_info_line(slow_server: RunningServer) -> None:
    sock = _upload_start(slow_server, declared=100_000)
    sock.close()
    line = slow_server.wait_for(
        lambda s: [x for x in s.log().splitlines() if "went away" in x], what="the log line"
    )
    assert " INFO " in line[0]
    assert "Traceback" not in slow_server.log()
    assert "ClientDisconnect" not in slow_server.log()
