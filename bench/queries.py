"""Read-path latency at scale: the queries replay and run listing make, on 1M-10M spans.

Loads synthetic spans straight into an embedded store with SQL (ClickHouse's numbers()
table, so generation is not the bottleneck): 16 spans per run (a root, LLM and tool spans),
four agents, a month of start times, 1% errors. Then times each read query the REST API
makes. Run: ``.venv/bin/python bench/queries.py --spans 10000000``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from agentreel.storage import queries
from agentreel.storage.client import connect
from agentreel.storage.schema import migrate

SPANS_PER_RUN = 16
DAY_NS = 86_400 * 10**9
BASE_NS = 1_761_955_200 * 10**9  # 2025-11-01

LOAD = """
INSERT INTO spans (project, trace_id, span_id, parent_span_id, name, kind, start_time, end_time,
  duration_ns, status, service, agent, session, user, model, input_tokens, output_tokens,
  total_tokens, counted, ingested_at)
SELECT 'default',
  hex(cityHash64(intDiv(number, 16)) * 1000003) || hex(cityHash64(intDiv(number, 16))),
  hex(cityHash64(number, 7)),
  if(number % 16 = 0, '', hex(cityHash64(intDiv(number, 16) * 16, 7))),
  if(number % 16 = 0, 'invoke_agent', if(number % 2 = 1, 'chat', 'execute_tool')),
  if(number % 16 = 0, 'agent', if(number % 2 = 1, 'llm', 'tool')),
  fromUnixTimestamp64Nano(toInt64({base} + intDiv(number, 16) * {gap} + (number % 16) * 1e9)),
  fromUnixTimestamp64Nano(toInt64({base} + intDiv(number, 16) * {gap} + (number % 16) * 1e9
    + 9e8)),
  900000000, if(number % 97 = 0, 'error', 'ok'), 'svc',
  concat('agent-', toString(intDiv(number, 16) % 4)), concat('s-', toString(intDiv(number, 160))),
  concat('u-', toString(intDiv(number, 16) % 1000)), if(number % 2 = 1, 'gpt-4o', ''),
  if(number % 2 = 1, 1000, 0), if(number % 2 = 1, 100, 0), if(number % 2 = 1, 1100, 0), 1,
  now64(3)
FROM numbers({spans})
"""


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spans", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    runs = args.spans // SPANS_PER_RUN
    gap = 30 * DAY_NS // max(runs, 1)  # a month of runs
    client = connect("chdb://" + tempfile.mkdtemp(prefix="agentreel-queries-"))
    migrate(client)
    started = time.perf_counter()
    client.command(LOAD.format(base=BASE_NS, gap=gap, spans=args.spans))
    print(f"loaded {args.spans:,} spans ({runs:,} runs) in {time.perf_counter() - started:.1f}s")
    trace = client.query("SELECT trace_id FROM spans LIMIT 1 OFFSET 123457").result_rows[0][0]
    day = BASE_NS + 10 * DAY_NS
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("spans of one trace (replay)", lambda: queries.trace_spans(client, "default", trace)),
        ("summary of one run", lambda: queries.run_summary(client, "default", trace)),
        ("runs: newest 50", lambda: queries.list_runs(client, queries.RunFilter("default"))),
        (
            "runs: one agent",
            lambda: queries.list_runs(client, queries.RunFilter("default", agent="agent-2")),
        ),
        (
            "runs: failing only",
            lambda: queries.list_runs(client, queries.RunFilter("default", status="error")),
        ),
        (
            "runs: one day",
            lambda: queries.list_runs(
                client, queries.RunFilter("default", start_from_ns=day, start_to_ns=day + DAY_NS)
            ),
        ),
        ("stats", lambda: queries.stats(client, "default")),
    ]
    print(f"{'query':32} {'p50 ms':>8} {'max ms':>8}")
    for label, fn in cases:
        p50, worst = _time(fn, args.repeat)
        print(f"{label:32} {p50:8.1f} {worst:8.1f}")


if __name__ == "__main__":
    main()
