"""The bounded queue and batching writer: acknowledged means written, full means retry."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from agentreel.collector.pipeline import Busy, Pipeline, Stopped
from agentreel.core.model import Batch, Span


def _batch(n: int) -> Batch:
    return Batch(
        spans=[
            Span("p", "t" * 32, f"{i:016x}", "", "s", "span", "internal", 0, 1) for i in range(n)
        ]
    )


class Recorder:
    def __init__(self, gate: threading.Event | None = None, fail: int = 0) -> None:
        self.calls: list[int] = []
        self.gate = gate
        self.fail = fail

    def __call__(self, spans: list[Any], messages: list[Any]) -> int:
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail:
            self.fail -= 1
            raise ConnectionError("store down")
        self.calls.append(len(spans))
        return len(spans)


def test_batches_are_combined_and_futures_resolve_after_the_write() -> None:
    gate = threading.Event()
    write = Recorder(gate)
    # The writer waits for the batch to fill: no time limit plays a part in this test.
    pipeline = Pipeline(
        write, max_queued_spans=1000, batch_spans=90, flush_interval=60.0, linger_idle=60.0
    )
    pipeline.start()
    futures = [pipeline.submit(_batch(30)) for _ in range(3)]
    assert not any(f.done() for f in futures)
    gate.set()
    assert [f.result(10) for f in futures] == [90, 90, 90]
    assert write.calls == [90]
    pipeline.shutdown()


def test_a_full_queue_refuses_at_once() -> None:
    gate = threading.Event()
    pipeline = Pipeline(Recorder(gate), max_queued_spans=50, batch_spans=10, flush_interval=0.01)
    pipeline.start()
    first = pipeline.submit(_batch(10))
    _wait(lambda: pipeline.queued_spans == 0)  # the writer holds the first batch
    # Fill the queue behind it.
    queued = [pipeline.submit(_batch(10)) for _ in range(5)]
    with pytest.raises(Busy, match="waiting to be written"):
        pipeline.submit(_batch(10))
    gate.set()
    for future in [first, *queued]:
        future.result(10)
    pipeline.shutdown()


def _wait(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def test_one_request_larger_than_the_queue_is_taken_when_the_queue_is_empty() -> None:
    pipeline = Pipeline(Recorder(), max_queued_spans=5, batch_spans=5, flush_interval=0.01)
    pipeline.start()
    assert pipeline.submit(_batch(20)).result(10) == 20
    pipeline.shutdown()


def test_shutdown_writes_everything_accepted_even_without_start() -> None:
    write = Recorder()
    pipeline = Pipeline(write, max_queued_spans=1000, batch_spans=10, flush_interval=60)
    futures = [pipeline.submit(_batch(7)) for _ in range(4)]
    pipeline.shutdown()
    assert all(f.done() and not f.exception() for f in futures)
    assert sum(write.calls) == 28
    with pytest.raises(Stopped):
        pipeline.submit(_batch(1))


def test_a_failed_write_fails_its_requests_and_the_next_ones_go_through() -> None:
    pipeline = Pipeline(Recorder(fail=1), max_queued_spans=100, batch_spans=5, flush_interval=0.01)
    pipeline.start()
    failed = pipeline.submit(_batch(5))
    with pytest.raises(ConnectionError):
        failed.result(10)
    assert pipeline.submit(_batch(5)).result(10) == 5
    pipeline.shutdown()
