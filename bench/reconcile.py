"""What exact totals cost (issue 16): the writer's reconcile of the runs it touched
(storage/exact.py), in process on an embedded chDB store.

Writes ``--runs`` runs of ``--calls`` LLM calls each (every call a nested pair of spans, an
instrumentor's and the SDK's, plus a tool span and a root: ``3 * calls + 1`` spans a run)
with one writer, then times:

* the write itself (the reconcile held off), as spans/s;
* a reconcile of all those runs when they are exact (the check alone: two grouped reads);
* a reconcile after a second writer stored every span again as if it had read the store
  before the first wrote (every run inexact: each re-derived from its distinct spans).

Run: ``.venv/bin/python bench/reconcile.py [--runs 500] [--calls 5]``.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' harness

from agentreel.collector.decode import decode_traces_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.storage import schema
from agentreel.storage import writer as writer_module
from agentreel.storage.client import connect
from agentreel.storage.writer import Writer

from support.otlpbuild import new_span_id, new_trace_id, span, traces

SECOND = 1_000_000_000
RUNS_PER_BATCH = 20


def _run(calls: int, start: int) -> list[Any]:
    trace, root = new_trace_id(), new_span_id()
    out = [span(trace, root, "agent", {"gen_ai.operation.name": "invoke_agent"}, start_ns=start)]
    for n in range(calls):
        at = start + (n + 1) * SECOND
        llm = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 100 + n,
            "gen_ai.usage.output_tokens": 20,
        }
        outer = new_span_id()
        out.append(span(trace, outer, "chat", llm, parent=root, start_ns=at))
        out.append(span(trace, new_span_id(), "sdk", llm, parent=outer, start_ns=at + 1))
        tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "fetch"}
        out.append(span(trace, new_span_id(), "fetch", tool, parent=root, start_ns=at + 2))
    return out


def _batches(runs: int, calls: int) -> list[list[Any]]:
    start = int(time.time()) * SECOND
    all_runs = [_run(calls, start + i * SECOND) for i in range(runs)]
    return [
        [s for run in all_runs[i : i + RUNS_PER_BATCH] for s in run]
        for i in range(0, runs, RUNS_PER_BATCH)
    ]


def _write(writer: Writer, batches: list[list[Any]]) -> float:
    started = time.perf_counter()
    for batch in batches:
        body = traces(batch, service="svc").SerializeToString()
        writer.write(normalize_spans(decode_traces_proto(body), "bench").spans, [])
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    print(f"{platform.node()} {platform.machine()}, Python {platform.python_version()}")
    writer_module.RECONCILE_SECONDS = float("inf")  # timed on its own below
    directory = Path(tempfile.mkdtemp(prefix="agentreel-reconcile-"))
    try:
        client = connect(f"chdb://{directory}")
        schema.migrate(client)
        batches = _batches(args.runs, args.calls)
        spans = sum(len(b) for b in batches)
        first = Writer(client)
        seconds = _write(first, batches)
        print(f"write: {spans:,} spans of {args.runs:,} runs in {seconds:.2f} s "
              f"({spans / seconds:,.0f} spans/s)")  # fmt: skip
        started = time.perf_counter()
        done = first.reconcile()
        seconds = time.perf_counter() - started
        print(f"reconcile, all exact: {done.runs_checked:,} runs checked in {seconds:.2f} s "
              f"({seconds / args.runs * 1e3:.2f} ms a run, {seconds / spans * 1e6:.0f} µs a span; "
              f"{done.runs_rederived} re-derived)")  # fmt: skip
        second = Writer(client)
        real = writer_module.stored_keys
        writer_module.stored_keys = lambda _client, _keys: set()  # read before the first wrote
        _write(second, batches)
        writer_module.stored_keys = real
        started = time.perf_counter()
        done = second.reconcile()
        seconds = time.perf_counter() - started
        print(f"reconcile, every span stored twice: {done.runs_rederived:,} of "
              f"{done.runs_checked:,} runs re-derived in {seconds:.2f} s "
              f"({seconds / args.runs * 1e3:.2f} ms a run)")  # fmt: skip
        client.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
