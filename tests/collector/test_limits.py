"""Each limit on an OTLP request, through the real receivers: what is refused, cut or
dropped, with a message naming the setting, counted in /metrics; the rest still lands."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from agentreel.collector.grpc import GrpcReceiver
from agentreel.collector.http import router
from agentreel.collector.ingest import Ingest
from agentreel.collector.limits import DROPPED_KEY, Limits, truncation_marker
from agentreel.collector.metrics import Metrics
from agentreel.collector.pipeline import Pipeline
from agentreel.collector.spool import Record, Spool
from agentreel.collector.usage import OVER_KEY
from agentreel.settings import Settings

from support.otlpbuild import log_record, logs, new_span_id, new_trace_id, span, to_json, traces

LIMITS = Limits(
    max_request_bytes=8 << 20,
    max_spans_per_request=5,
    max_attributes=4,
    max_attribute_length=10,
    max_anyvalue_depth=3,
    max_decompressed_bytes=4 << 20,
    max_decompression_ratio=10,
    max_past_seconds=24 * 3600,
    max_future_seconds=3600,
    max_tokens_per_span=1000,
)
PB = {"content-type": "application/x-protobuf"}
DAY = 24 * 3600 * 10**9


class Stored:
    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.messages: list[Any] = []

    def __call__(self, spans: list[Any], messages: list[Any]) -> None:
        self.spans += spans
        self.messages += messages


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Stored, Ingest, TestClient]]:
    stored = Stored()
    spool = Spool(tmp_path, 1 << 30)
    spool.open()
    pipeline = Pipeline(stored, max_queued_spans=1000, batch_spans=100, flush_interval=0.001)
    pipeline.start()
    ingest = Ingest(
        pipeline, Metrics(lambda: 0), "default", LIMITS.max_request_bytes, spool, LIMITS
    )
    app = FastAPI()
    app.include_router(router(ingest, LIMITS.max_request_bytes))
    with TestClient(app) as client:
        yield stored, ingest, client
    ingest.shutdown()
    pipeline.shutdown()
    spool.close()


def _post(client: TestClient, request: Any, **headers: str) -> Any:
    return client.post("/v1/traces", content=request.SerializeToString(), headers=PB | headers)


def _status(response: Any) -> str:
    return str(status_pb2.Status.FromString(response.content).message)


def _partial(response: Any) -> Any:
    assert response.status_code == 200, response.content
    return trace_service_pb2.ExportTraceServiceResponse.FromString(response.content)


def _spans(n: int, **attributes: Any) -> list[Any]:
    trace_id = new_trace_id()
    return [span(trace_id, new_span_id(), f"s{i}", attributes) for i in range(n)]


def _metric(ingest: Ingest, name: str) -> float:
    value = ingest.metrics.registry.get_sample_value(name)
    return float(value or 0)


def test_spans_per_request(rig: Any) -> None:
    stored, _, client = rig
    too_many = _post(client, traces(_spans(6)))
    assert too_many.status_code == 413
    assert "max_spans_per_request" in _status(too_many)
    as_json = client.post(
        "/v1/traces",
        content=to_json(traces(_spans(6))),
        headers={"content-type": "application/json"},
    )
    assert as_json.status_code == 413 and "max_spans_per_request" in as_json.json()["message"]
    too_many_logs = client.post(
        "/v1/logs",
        content=logs([log_record(b"", b"", "gen_ai.user.message", "hi")] * 6).SerializeToString(),
        headers=PB,
    )
    assert too_many_logs.status_code == 413
    assert stored.spans == []
    assert _post(client, traces(_spans(5))).status_code == 200
    assert len(stored.spans) == 5


def test_spans_per_request_over_grpc(rig: Any) -> None:
    _, ingest, _ = rig
    receiver = GrpcReceiver(ingest, "127.0.0.1", 0, LIMITS.max_request_bytes)
    port = receiver.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.Export(traces(_spans(6)))
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "max_spans_per_request" in (caught.value.details() or "")
        # Permanent: no retry hint.
        assert "google.rpc.retryinfo-bin" not in dict(caught.value.trailing_metadata() or ())
        stub.Export(traces(_spans(2)))
    receiver.stop(0)


def test_attributes_over_the_limit_are_dropped_and_counted(rig: Any) -> None:
    stored, ingest, client = rig
    attributes = {f"k{i}": f"v{i}" for i in range(10)}
    (one,) = _spans(1, **attributes)
    one.events.add(name="e", time_unix_nano=time.time_ns()).attributes.extend(
        traces(_spans(1, **attributes)).resource_spans[0].scope_spans[0].spans[0].attributes
    )
    _partial(_post(client, traces([one])))
    (kept,) = stored.spans
    assert {k: kept.attributes[k] for k in ("k0", "k3")} == {"k0": "v0", "k3": "v3"}
    assert "k4" not in kept.attributes and "k9" not in kept.attributes
    assert kept.attributes[DROPPED_KEY] == "6"
    assert _metric(ingest, "agentreel_attributes_dropped_total") == 12  # span and event


def test_long_values_are_cut_with_a_marker_and_counted(rig: Any) -> None:
    stored, ingest, client = rig
    (one,) = _spans(1, long="x" * 25, short="y" * 10, listed=["z" * 11, "ok"])
    _partial(_post(client, traces([one])))
    (kept,) = stored.spans
    assert kept.attributes["long"] == "x" * 10 + truncation_marker(15)
    assert kept.attributes["short"] == "y" * 10
    assert "z" * 10 + truncation_marker(1) in kept.attributes["listed"]
    assert kept.service == "test-servi" + truncation_marker(2)  # resources are cut too
    assert _metric(ingest, "agentreel_values_truncated_total") == 3


def test_nesting_deeper_than_the_limit_rejects_that_span_only(rig: Any) -> None:
    stored, _, client = rig
    deep: Any = "leaf"
    for _ in range(4):
        deep = [deep]
    shallow: Any = [["leaf"]]
    spans = _spans(1, deep=deep) + _spans(1, shallow=shallow)
    body = _partial(_post(client, traces(spans)))
    assert body.partial_success.rejected_spans == 1
    assert "max_anyvalue_depth" in body.partial_success.error_message
    assert [s.name for s in stored.spans] == ["s0"] and "shallow" in stored.spans[0].attributes


def test_token_counts_over_the_limit_are_dropped_unpriced_and_said(rig: Any) -> None:
    stored, ingest, client = rig
    chat = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}
    trace_id = new_trace_id()
    spans = [
        span(trace_id, new_span_id(), "at", {**chat, "gen_ai.usage.input_tokens": 1000}),
        span(trace_id, new_span_id(), "over", {**chat, "gen_ai.usage.output_tokens": 1001}),
    ]
    request = traces(spans)
    body = _partial(_post(client, request))
    assert body.partial_success.rejected_spans == 0
    message = body.partial_success.error_message
    assert message == (
        f"accepted with warnings: span {spans[1].span_id.hex()}: output_tokens 1001, "
        "total_tokens 1001 over 1000 (max_tokens_per_span): its token counts are not kept "
        "and it is not priced"
    )
    at, over = sorted(stored.spans, key=lambda s: s.name)
    assert (at.input_tokens, at.total_tokens) == (1000, 1000)
    assert (over.output_tokens, over.total_tokens, over.cost_usd) == (0, 0, 0.0)
    assert over.attributes[OVER_KEY] == '{"output_tokens":1001,"total_tokens":1001}'
    # A request replayed from the spool is held to the same limit.
    record = Record("traces", "proto", "", "p", time.time_ns(), 2, request.SerializeToString())
    ref, durable = ingest.spool.append(record)  # type: ignore[union-attr]
    durable.result(10)
    replayed = {s.name: s for s in ingest.load(ref).spans}
    assert replayed["over"].output_tokens == 0 and replayed["at"].input_tokens == 1000


def test_decompressed_size_and_ratio(rig: Any) -> None:
    stored, _, client = rig
    # A gzip bomb: 2 MiB of zeros in a few KiB, far past the ratio.
    bomb = _post_raw(client, gzip.compress(b"\0" * (2 << 20)))
    assert bomb.status_code == 413 and "max_decompression_ratio" in _status(bomb)
    # Random-looking text does not compress: over the size cap, not the ratio.
    import os

    big = _post_raw(client, gzip.compress(os.urandom(5 << 20)))
    assert big.status_code == 413 and "max_decompressed_bytes" in _status(big)
    # An ordinary compressed request goes through.
    ok = _post_raw(client, gzip.compress(traces(_spans(3)).SerializeToString()))
    assert ok.status_code == 200 and len(stored.spans) == 3


def _post_raw(client: TestClient, body: bytes) -> Any:
    return client.post("/v1/traces", content=body, headers=PB | {"content-encoding": "gzip"})


def test_timestamps_far_in_the_past_or_future_reject_that_span_only(rig: Any) -> None:
    stored, _, client = rig
    now = time.time_ns()
    trace_id = new_trace_id()
    spans = [
        span(trace_id, new_span_id(), "old", start_ns=now - 2 * DAY),
        span(trace_id, new_span_id(), "ahead", start_ns=now + DAY),
        span(trace_id, new_span_id(), "now", start_ns=now),
        span(trace_id, new_span_id(), "zero", start_ns=0, duration_ns=0),
    ]
    body = _partial(_post(client, traces(spans)))
    assert body.partial_success.rejected_spans == 3
    assert "max_past_seconds" in body.partial_success.error_message
    assert "max_future_seconds" in body.partial_success.error_message
    assert [s.name for s in stored.spans] == ["now"]
    old_log = log_record(trace_id, new_span_id(), "gen_ai.user.message", "hi", now - 2 * DAY)
    answer = client.post("/v1/logs", content=logs([old_log]).SerializeToString(), headers=PB)
    assert answer.status_code == 200 and b"max_past_seconds" in answer.content


def test_a_replayed_request_is_judged_by_when_it_was_received(rig: Any) -> None:
    """A request spooled three days ago and replayed now keeps its spans, although they are
    now older than max_past_seconds: acknowledged data is never dropped for being late."""
    _, ingest, _ = rig
    received = time.time_ns() - 3 * DAY
    request = traces(_spans(2))
    for one in request.resource_spans[0].scope_spans[0].spans:
        one.start_time_unix_nano = received - 3600 * 10**9
        one.end_time_unix_nano = received - 3599 * 10**9
    record = Record("traces", "proto", "", "p", received, 2, request.SerializeToString())
    ref, durable = ingest.spool.append(record)
    durable.result(10)
    batch = ingest.load(ref)
    assert len(batch.spans) == 2 and not batch.rejected
    assert {s.project for s in batch.spans} == {"p"}


def test_the_settings_defaults_are_the_limits_defaults() -> None:
    assert Limits.from_settings(Settings.load({})) == Limits()


def test_a_request_larger_than_the_whole_spool_is_413_not_retry(tmp_path: Path) -> None:
    from agentreel.collector.decode import TooLarge

    spool = Spool(tmp_path, 4096)
    spool.open()
    pipeline = Pipeline(Stored(), max_queued_spans=1000, batch_spans=100, flush_interval=0.001)
    ingest = Ingest(pipeline, Metrics(lambda: 0), "default", 1 << 20, spool)
    big = traces(_spans(1, blob="x" * 5000)).SerializeToString()
    with pytest.raises(TooLarge, match="spool_max_bytes"):
        ingest.submit("traces", "proto", big, project="p").result(10)
    ingest.shutdown()
    pipeline.shutdown()
    spool.close()


def test_too_many_bytes_waiting_to_be_decoded_is_429_with_retry_after(rig: Any) -> None:
    """Memory stays bounded however many requests arrive at once: beyond the largest
    request (at least 16 MiB) of bodies waiting, the next one is turned away as its first
    bytes arrive."""
    stored, ingest, client = rig
    held = ingest.admit(32 << 20)  # as if large requests were being read right now
    busy = _post(client, traces(_spans(1)))
    assert busy.status_code == 429 and busy.headers["retry-after"] == "1"
    assert "waiting to be decoded" in _status(busy)
    ingest.release(held)
    assert _post(client, traces(_spans(1))).status_code == 200
    assert len(stored.spans) == 1
