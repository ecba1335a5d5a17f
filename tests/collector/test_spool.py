"""The on-disk spool: records survive a restart, torn or corrupt records are skipped, it is
bounded, and the pipeline keeps spooled batches until the store takes them."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agentreel.collector.pipeline import PermanentWriteError, Pipeline
from agentreel.collector.spool import Record, Ref, Spool, SpoolError, SpoolFull
from agentreel.core.model import Batch, Span


def _record(n: int, body: bytes = b"x" * 100, project: str = "p") -> Record:
    return Record("traces", "proto", "", project, 1_700_000_000_000_000_000 + n, n, body)


def _reopen(spool: Spool, max_bytes: int = 1 << 30) -> tuple[Spool, list[Ref]]:
    spool.close()
    again = Spool(spool.directory, max_bytes)
    return again, again.open()


def test_records_round_trip_and_finished_ones_are_not_replayed(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 30)
    assert spool.open() == []
    written = []
    for n in range(1, 6):
        ref, durable = spool.append(_record(n, bytes([n]) * (n * 10), project=f"proj-{n}"))
        durable.result(10)  # fsync'ed
        written.append(ref)
    assert spool.load(written[2]) == _record(3, bytes([3]) * 30, project="proj-3")
    spool.done(written[1])
    spool, refs = _reopen(spool)
    assert refs == written[2:]
    assert [spool.load(r).project for r in refs] == ["proj-3", "proj-4", "proj-5"]
    spool.close()


def _segment(directory: Path, records: int) -> tuple[list[Ref], bytearray]:
    """Spool ``records`` records, close; their refs and the segment's bytes."""
    spool = Spool(directory, 1 << 30)
    spool.open()
    refs = [spool.append(_record(n))[0] for n in range(records)]
    spool.close()
    return refs, bytearray(next(directory.glob("*.spool")).read_bytes())


def _reopen_with(
    directory: Path, data: bytes, caplog: pytest.LogCaptureFixture
) -> tuple[Spool, list[Ref]]:
    """Replace the segment's bytes and open the spool again."""
    next(directory.glob("*.spool")).write_bytes(bytes(data))
    again = Spool(directory, 1 << 30)
    with caplog.at_level(logging.WARNING, "agentreel.collector"):
        return again, again.open()


def test_a_torn_last_record_is_skipped_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    refs, data = _segment(tmp_path, 3)
    # A kill -9 in the middle of the last write leaves part of it.
    again, replay = _reopen_with(tmp_path, data[: refs[2].offset + refs[2].size // 2], caplog)
    assert replay == refs[:2]
    assert again.skipped == 1
    assert "skipped a truncated record" in caplog.text
    again.close()


def test_a_corrupt_record_is_skipped_and_the_next_ones_are_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    refs, data = _segment(tmp_path, 4)
    data[refs[1].offset + refs[1].size - 5] ^= 0xFF  # a flipped bit in the body
    data[refs[2].offset + 5] ^= 0xFF  # a damaged length field
    again, replay = _reopen_with(tmp_path, data, caplog)
    assert replay == [refs[0], refs[3]]
    assert again.skipped == 2
    assert caplog.text.count("skipped a corrupt record") == 2
    assert again.load(refs[3]) == _record(3)
    again.close()


def test_garbage_files_never_stop_a_start(tmp_path: Path) -> None:
    (tmp_path / "000000000001.spool").write_bytes(b"\x00" * 3 + b"ARS1" + b"\xff" * 50)
    (tmp_path / "checkpoint").write_text("not numbers")
    (tmp_path / "notes.spool").write_text("ignored: not a segment name")
    spool = Spool(tmp_path, 1 << 30)
    assert spool.open() == []
    assert spool.skipped >= 1
    ref, durable = spool.append(_record(1))
    durable.result(10)
    spool, refs = _reopen(spool)
    assert refs == [ref]
    spool.close()


def test_the_spool_is_bounded_and_frees_finished_segments(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 4 << 20)  # segments of 256 KiB
    spool.open()
    body = b"y" * (200 << 10)
    refs = []
    with pytest.raises(SpoolFull, match="spool_max_bytes"):
        for n in range(100):
            refs.append(spool.append(_record(n, body))[0])
    assert 15 <= len(refs) <= 20
    assert spool.bytes <= 4 << 20
    assert len(list(tmp_path.glob("*.spool"))) >= 4
    spool.done(refs[-1])  # everything stored: all but the segment in use are deleted
    assert len(list(tmp_path.glob("*.spool"))) == 1
    spool.append(_record(1, body))
    spool.close()


def test_one_process_at_a_time(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 30)
    spool.open()
    with pytest.raises(SpoolError, match="in use"):
        Spool(tmp_path, 1 << 30).open()
    spool.close()
    Spool(tmp_path, 1 << 30).open()


# -- the pipeline over a spool ---------------------------------------------------------------


def _batch(first: int, n: int) -> Batch:
    return Batch(
        spans=[
            Span("p", "t" * 32, f"{i:016x}", "", "s", "span", "internal", 0, 1)
            for i in range(first, first + n)
        ]
    )


class FlakyStore:
    """Fails while ``down`` is set, then stores (a fault injected through the write)."""

    def __init__(self) -> None:
        self.down = threading.Event()
        self.attempts_while_down = 0
        self.stored: list[str] = []
        self.answers = False  # what a "SELECT 1" says while writes fail
        self.poison = ""  # a span id this store never takes

    def __call__(self, spans: list[Any], messages: list[Any]) -> None:
        if self.down.is_set():
            self.attempts_while_down += 1
            raise ConnectionError("store down")
        if any(s.span_id == self.poison for s in spans):
            raise ValueError("cannot store the poison span")
        self.stored += [s.span_id for s in spans]


def _spooled_pipeline(
    tmp_path: Path, store: FlakyStore, memory_spans: int
) -> tuple[Spool, Pipeline]:
    spool = Spool(tmp_path, 1 << 30)
    spool.open()

    def load(ref: Ref) -> Batch:
        record = spool.load(ref)
        first, n = (int(x) for x in record.body.split(b","))
        return _batch(first, n)

    pipeline = Pipeline(
        store,
        max_queued_spans=memory_spans,
        batch_spans=25,
        flush_interval=0.001,
        store_answers=lambda: store.answers,
        load=load,
        done=spool.done,
    )
    return spool, pipeline


def _submit(spool: Spool, pipeline: Pipeline, first: int, n: int) -> Any:
    ref, durable = spool.append(_record(n, f"{first},{n}".encode()))
    durable.result(10)
    return pipeline.submit(_batch(first, n), ref)


def _wait(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def test_spooled_batches_wait_out_a_store_failure_and_none_is_lost(tmp_path: Path) -> None:
    store = FlakyStore()
    store.down.set()
    spool, pipeline = _spooled_pipeline(tmp_path, store, memory_spans=30)
    pipeline.start()
    # Ten requests while the store is down: only 30 spans are kept in memory, the rest
    # are read back from the spool when their turn comes.
    futures = [_submit(spool, pipeline, i * 10, 10) for i in range(10)]
    assert pipeline.queued_spans <= 30 + 25
    _wait(lambda: store.attempts_while_down >= 2)
    assert not pipeline.healthy and not any(f.done() for f in futures)
    store.down.clear()
    for future in futures:
        future.result(20)
    assert sorted(store.stored) == sorted(f"{i:016x}" for i in range(100))
    assert pipeline.healthy and pipeline.waiting_spans == 0
    pipeline.shutdown()
    spool, refs = _reopen(spool)
    assert refs == []  # all finished
    spool.close()


def test_at_shutdown_with_the_store_down_spooled_batches_stay_for_the_next_start(
    tmp_path: Path,
) -> None:
    store = FlakyStore()
    store.down.set()
    spool, pipeline = _spooled_pipeline(tmp_path, store, memory_spans=1000)
    pipeline.start()
    for i in range(3):
        _submit(spool, pipeline, i * 5, 5)
    _wait(lambda: store.attempts_while_down >= 1)
    pipeline.shutdown()  # returns although the store never came back
    spool, refs = _reopen(spool)
    assert [r.items for r in refs] == [5, 5, 5]
    # The next start writes them.
    store.down.clear()
    pipeline = Pipeline(
        store,
        max_queued_spans=1000,
        batch_spans=25,
        flush_interval=0.001,
        load=lambda ref: _batch(*(int(x) for x in spool.load(ref).body.split(b","))),
        done=spool.done,
    )
    for ref in refs:
        pipeline.submit(None, ref)
    pipeline.start()
    pipeline.shutdown()
    assert sorted(store.stored) == sorted(f"{i:016x}" for i in range(15))
    spool, refs = _reopen(spool)
    assert refs == []
    spool.close()


def test_a_store_that_answers_but_takes_nothing_keeps_spooled_data_waiting(
    tmp_path: Path,
) -> None:
    """Out of disk space: queries work, inserts fail. Acknowledged data must not be given
    up as "refused"; a request the store refuses while it takes others is."""
    store = FlakyStore()
    store.answers = True
    store.down.set()
    spool, pipeline = _spooled_pipeline(tmp_path, store, memory_spans=1000)
    pipeline.start()
    futures = [_submit(spool, pipeline, i * 3, 3) for i in range(4)]
    _wait(lambda: store.attempts_while_down >= 8)
    assert not any(f.done() for f in futures)
    store.poison = f"{100:016x}"
    poison = _submit(spool, pipeline, 100, 1)
    store.down.clear()
    for future in futures:
        future.result(20)
    with pytest.raises(PermanentWriteError, match="poison"):
        poison.result(20)
    assert sorted(store.stored) == sorted(f"{i:016x}" for i in range(12))
    pipeline.shutdown()
    spool, refs = _reopen(spool)
    assert refs == []
    spool.close()


def test_a_replayed_spool_stores_and_counts_each_span_once(store: Any, tmp_path: Path) -> None:
    """An exporter retry, then a restart that replays requests the store already has (the
    spool's checkpoint was lost): the run's counts, tokens and cost do not change."""
    import uuid

    from agentreel.collector.ingest import Ingest
    from agentreel.collector.metrics import Metrics
    from agentreel.storage import queries
    from agentreel.storage.writer import Writer

    from support.otlpbuild import new_span_id, new_trace_id, span, traces

    project, trace_id = f"p-{uuid.uuid4().hex[:8]}", new_trace_id()
    llm = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 30,
        "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]',
    }
    body = traces(
        [span(trace_id, new_span_id(), "chat gpt-4o", llm | {"step": n}) for n in range(3)]
    ).SerializeToString()

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

    def snapshot() -> tuple[Any, ...]:
        run = queries.run_summary(store, project, trace_id.hex())
        assert run is not None
        stats = queries.stats(store, project)
        return (run["spans"], run["llm_calls"], run["usage"], run["cost_usd"], stats["spans"])

    spool, ingest, pipeline, refs = start()
    assert refs == []
    for _ in range(2):  # the exporter retried: the same request twice
        taken = ingest.submit("traces", "proto", body, project=project).result(10)
        assert taken.durable is not None
        taken.durable.result(10)
        taken.future.result(10)
    before = snapshot()
    assert before[:2] == (3, 3) and before[4] == 3
    # The process dies after the inserts, before the spool learns they are done.
    segments = {p: p.read_bytes() for p in tmp_path.glob("*.spool")}
    stop(spool, ingest, pipeline)
    for path, data in segments.items():
        path.write_bytes(data)
    (tmp_path / "checkpoint").unlink()
    spool, ingest, pipeline, refs = start()
    assert len(refs) == 2  # both copies are replayed...
    futures = [pipeline.submit(None, ref) for ref in refs]
    for future in futures:
        assert future.result(10).spans_written == 0  # ...and every span is found stored
    assert snapshot() == before
    stop(spool, ingest, pipeline)
