"""OTLP/HTTP and OTLP/gRPC receivers answer per the OTLP spec.

The receivers run in this process over a real pipeline; faults (a full queue, a store that
fails) are injected through the write function only.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from google.rpc import code_pb2, status_pb2
from google.rpc.error_details_pb2 import RetryInfo
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from agentreel.collector.grpc import GrpcReceiver
from agentreel.collector.http import router
from agentreel.collector.ingest import Ingest
from agentreel.collector.metrics import Metrics
from agentreel.collector.pipeline import PermanentWriteError, Pipeline

from support.otlpbuild import log_record, logs, new_span_id, new_trace_id, span, to_json, traces

LIMIT = 200_000


class Store:
    """Stands in for the writer: records, or blocks, or fails, as a test asks."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.messages: list[Any] = []
        self.gate = threading.Event()
        self.gate.set()
        self.error: Exception | None = None
        self.refuse_name: str | None = None
        self.answers = False

    def __call__(self, spans: list[Any], messages: list[Any]) -> None:
        self.gate.wait(30)
        if self.error is not None:
            raise self.error
        if self.refuse_name and any(s.name == self.refuse_name for s in spans):
            raise ValueError(f"cannot store span named {self.refuse_name}")
        self.spans += spans
        self.messages += messages


@pytest.fixture
def rig() -> Iterator[tuple[Store, Pipeline, Ingest]]:
    store = Store()
    pipeline = Pipeline(
        store,
        max_queued_spans=20,
        batch_spans=10,
        flush_interval=0.001,
        store_answers=lambda: store.answers,
    )
    pipeline.start()
    ingest = Ingest(pipeline, Metrics(lambda: pipeline.queued_spans), "default", LIMIT)
    yield store, pipeline, ingest
    store.gate.set()
    ingest.shutdown()
    pipeline.shutdown()


@pytest.fixture
def http(rig: tuple[Store, Pipeline, Ingest]) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(router(rig[2], LIMIT, write_timeout=2.0))
    with TestClient(app) as client:
        yield client


def _request(n: int = 2, bad: int = 0) -> Any:
    trace_id = new_trace_id()
    spans = [span(trace_id, new_span_id(), f"s{i}") for i in range(n)]
    for _ in range(bad):
        spans.append(span(bytes(16), new_span_id(), "bad"))
    return traces(spans)


PB = {"content-type": "application/x-protobuf"}
JS = {"content-type": "application/json"}


def test_http_protobuf_with_partial_success(http: TestClient, rig: Any) -> None:
    response = http.post("/v1/traces", content=_request(2, bad=1).SerializeToString(), headers=PB)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    body = trace_service_pb2.ExportTraceServiceResponse.FromString(response.content)
    assert body.partial_success.rejected_spans == 1
    assert "trace id must be 16 bytes" in body.partial_success.error_message
    assert [s.name for s in rig[0].spans] == ["s0", "s1"]


def test_http_json_and_gzip(http: TestClient, rig: Any) -> None:
    response = http.post("/v1/traces", content=to_json(_request(3)), headers=JS)
    assert response.status_code == 200 and response.json() == {}
    zipped = gzip.compress(_request(1).SerializeToString())
    response = http.post("/v1/traces", content=zipped, headers={**PB, "content-encoding": "gzip"})
    assert response.status_code == 200
    assert len(rig[0].spans) == 4


def test_http_logs(http: TestClient, rig: Any) -> None:
    trace_id, span_id = new_trace_id(), new_span_id()
    request = logs(
        [
            log_record(trace_id, span_id, "gen_ai.user.message", {"content": "hi"}),
            log_record(trace_id, span_id, "app.started", {"content": "x"}),
        ]
    )
    response = http.post("/v1/logs", content=request.SerializeToString(), headers=PB)
    body = ExportLogsServiceResponse.FromString(response.content)
    assert response.status_code == 200
    assert body.partial_success.rejected_log_records == 1
    assert "not a GenAI message event" in body.partial_success.error_message
    assert len(rig[0].messages) == 1


@pytest.mark.parametrize(
    ("headers", "content", "status", "message"),
    [
        ({"content-type": "text/plain"}, b"x", 415, "unsupported content type"),
        ({}, b"x", 415, "unsupported content type"),
        (PB, b"\x0a\xff\xff", 400, "not a valid ExportTraceServiceRequest"),
        (JS, b"{nope", 400, "not valid JSON"),
        # Bad UTF-8 is read past (its span alone is rejected) but broken syntax is not.
        (JS, b'{"resourceSpans": [{"x": "\xff\xfe"}]', 400, "not valid JSON"),
        ({**PB, "content-encoding": "gzip"}, b"not gzip", 400, "not valid gzip"),
        ({**PB, "content-encoding": "zstd"}, b"x", 400, "unsupported Content-Encoding"),
        (PB, b"x" * (LIMIT + 1), 413, "over"),
        ({**PB, "content-encoding": "gzip"}, gzip.compress(b"\0" * (LIMIT * 50)), 413, "inflates"),
    ],
)
def test_http_refusals(
    http: TestClient, rig: Any, headers: dict[str, str], content: bytes, status: int, message: str
) -> None:
    response = http.post("/v1/traces", content=content, headers=headers)
    assert response.status_code == status
    if headers.get("content-type") == PB["content-type"]:
        detail = status_pb2.Status.FromString(response.content)
        assert message in detail.message
    else:
        assert message in response.json()["message"]
    assert rig[0].spans == []
    # The server keeps serving.
    ok = http.post("/v1/traces", content=_request(1).SerializeToString(), headers=PB)
    assert ok.status_code == 200


def test_http_busy_is_429_with_retry_after(http: TestClient, rig: Any) -> None:
    store, pipeline, _ = rig
    store.gate.clear()
    held = [pipeline.submit(_batch_of(10))]
    _wait(lambda: pipeline.queued_spans == 0)  # the writer holds the first batch
    held += [pipeline.submit(_batch_of(10)) for _ in range(2)]  # and the queue is full
    response = http.post("/v1/traces", content=_request(1).SerializeToString(), headers=PB)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    status = status_pb2.Status.FromString(response.content)
    assert status.code == code_pb2.RESOURCE_EXHAUSTED and "busy" in status.message
    store.gate.set()
    for future in held:
        future.result(10)
    assert len(store.spans) == 30


def _batch_of(n: int) -> Any:
    from agentreel.collector.decode import decode_traces_proto
    from agentreel.collector.normalize import normalize_spans

    return normalize_spans(decode_traces_proto(_request(n).SerializeToString()), "default")


def test_http_store_failure_is_503_and_nothing_is_acknowledged(http: TestClient, rig: Any) -> None:
    rig[0].error = ConnectionError("disk on fire")
    response = http.post("/v1/traces", content=_request(1).SerializeToString(), headers=PB)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert "disk on fire" in status_pb2.Status.FromString(response.content).message


def test_http_write_slower_than_the_timeout_is_503_and_the_writer_lives_on(rig: Any) -> None:
    store, _, ingest = rig
    app = FastAPI()
    app.include_router(router(ingest, LIMIT, write_timeout=0.2))
    with TestClient(app) as client:
        store.gate.clear()
        slow = client.post("/v1/traces", content=_request(3).SerializeToString(), headers=PB)
        assert slow.status_code == 503 and slow.headers["retry-after"] == "1"
        assert (
            "did not confirm the write within 0.2 s"
            in status_pb2.Status.FromString(slow.content).message
        )
        store.gate.set()
        # The slow write still lands, and the writer keeps writing.
        _wait(lambda: len(store.spans) == 3)
        ok = client.post("/v1/traces", content=_request(2).SerializeToString(), headers=PB)
        assert ok.status_code == 200 and len(store.spans) == 5


def test_one_refused_request_does_not_fail_the_others_batched_with_it(rig: Any) -> None:
    store, pipeline, _ = rig
    store.answers, store.refuse_name = True, "poison"
    store.gate.clear()
    first = pipeline.submit(_batch_of(1))
    _wait(lambda: pipeline.queued_spans == 0)  # the writer holds it; the next three batch up
    good = pipeline.submit(_batch_of(2))
    poison = _batch_of(1)
    poison.spans[0].name = "poison"
    bad = pipeline.submit(poison)
    also_good = pipeline.submit(_batch_of(3))
    store.gate.set()
    first.result(10)
    good.result(10)
    also_good.result(10)
    with pytest.raises(PermanentWriteError, match="cannot store span named poison"):
        bad.result(10)
    assert len(store.spans) == 1 + 2 + 3


def test_a_store_that_does_not_answer_fails_everything_retryably(
    http: TestClient, rig: Any
) -> None:
    store = rig[0]
    store.error, store.answers = ConnectionError("connection refused"), False
    response = http.post("/v1/traces", content=_request(1).SerializeToString(), headers=PB)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    store.error, store.answers, store.refuse_name = None, True, "s0"
    refused = http.post("/v1/traces", content=_request(1).SerializeToString(), headers=PB)
    assert refused.status_code == 400
    assert "refused this request's data" in status_pb2.Status.FromString(refused.content).message


def _wait(condition: Any, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.002)


@pytest.fixture
def grpc_stub(rig: Any) -> Iterator[tuple[Any, grpc.Channel]]:
    receiver = GrpcReceiver(rig[2], "127.0.0.1", 0, LIMIT, write_timeout=2.0)
    port = receiver.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield trace_service_pb2_grpc.TraceServiceStub(channel), channel
    channel.close()
    receiver.stop(0)


def test_grpc_export_with_partial_success(grpc_stub: Any, rig: Any) -> None:
    stub, _ = grpc_stub
    response = stub.Export(_request(2, bad=2))
    assert response.partial_success.rejected_spans == 2
    assert len(rig[0].spans) == 2


def test_grpc_malformed_is_invalid_argument(grpc_stub: Any) -> None:
    _, channel = grpc_stub
    raw = channel.unary_unary(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        request_serializer=None,
        response_deserializer=None,
    )
    with pytest.raises(grpc.RpcError) as caught:
        raw(b"\x0a\xff\xff")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid" in caught.value.details()


def test_grpc_store_failure_is_unavailable_with_retry_info(grpc_stub: Any, rig: Any) -> None:
    stub, _ = grpc_stub
    rig[0].error = ConnectionError("store down")
    with pytest.raises(grpc.RpcError) as caught:
        stub.Export(_request(1))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    trailing = dict(caught.value.trailing_metadata())
    assert RetryInfo.FromString(trailing["google.rpc.retryinfo-bin"]).retry_delay.seconds == 1


def test_grpc_busy_is_resource_exhausted_with_retry_info(grpc_stub: Any, rig: Any) -> None:
    stub, _ = grpc_stub
    store, pipeline, _ = rig
    store.gate.clear()
    held = [pipeline.submit(_batch_of(10))]
    _wait(lambda: pipeline.queued_spans == 0)
    held += [pipeline.submit(_batch_of(10)) for _ in range(2)]
    with pytest.raises(grpc.RpcError) as caught:
        stub.Export(_request(1))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "busy" in caught.value.details()
    trailing = dict(caught.value.trailing_metadata())
    assert RetryInfo.FromString(trailing["google.rpc.retryinfo-bin"]).retry_delay.seconds == 1
    store.gate.set()
    for future in held:
        future.result(10)


def test_grpc_too_large_is_refused(grpc_stub: Any) -> None:
    stub, _ = grpc_stub
    big = span(new_trace_id(), new_span_id(), "big", {"blob": "x" * (LIMIT + 10)})
    with pytest.raises(grpc.RpcError) as caught:
        stub.Export(traces([big]))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
