"""Quality-signal figures on an embedded store: evaluation throughput (groundedness and rule
checks per run), and the time of the drift, hallucination-rate and alert-rule queries that
the dashboard and the background loop run, over a week of synthetic runs.

    .venv/bin/python bench/signals.py --runs 20000

No targets are set for these; the figures say what a round of the background loop costs."""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' harness

from agentreel.signals import drift
from agentreel.signals.alerting import Alerts
from agentreel.signals.evaluators import EVALUATORS, evaluate_run, hallucination
from agentreel.signals.rules import METRICS, parse_rule
from agentreel.storage import scores
from agentreel.storage.client import connect
from agentreel.storage.schema import migrate

from support.qualityruns import Run, write
from support.store import StorePool

DAY = 86_400
TOOLS = ("search", "lookup", "calc", "web")
ORDER = '{"order_id": "ORD-%d", "total": %d.50, "shipped": "2026-03-%02d"}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--evaluate", type=int, default=1000, help="runs evaluated (timed)")
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        client = connect(f"chdb://{tmp}/store")
        migrate(client)
        now = int(time.time())
        runs = []
        for i in range(args.runs):
            n = rng.randrange(1000, 9999)
            tools = [(rng.choice(TOOLS), ORDER % (n, n % 500, 1 + n % 28)) for _ in range(2)]
            answer = f"Order ORD-{n} totals ${n % 500}.50" + (" plus $12.00" if i % 7 else "")
            start = (now - 7 * DAY + i * 7 * DAY // args.runs) * 10**9
            runs.append(Run(agent=f"agent-{i % 4}", tools=tools, answer=answer, start_ns=start))
        t = time.perf_counter()
        for chunk in range(0, len(runs), 1000):
            write(client, "bench", runs[chunk : chunk + 1000])
        spans = int(client.query("SELECT count() FROM spans").result_rows[0][0])
        print(f"stored {args.runs} runs ({spans} spans) in {time.perf_counter() - t:.1f} s")

        sample = runs[: args.evaluate]
        t = time.perf_counter()
        for run in sample:
            found = evaluate_run(client, "bench", run.trace_hex, EVALUATORS)
            assert found is not None
            scores.insert(client, [s.row("bench") for s in found.scores])
        took = time.perf_counter() - t
        print(f"evaluated {len(sample)} runs: {len(sample) / took:.0f} runs/s "
              f"({1000 * took / len(sample):.1f} ms a run, 4 evaluators, score writes included)")  # fmt: skip

        since, until = (now - 7 * DAY) * 10**9, now * 10**9
        for label, work in (
            ("drift, 7 daily windows, by tool", lambda: drift.report(client, "bench", "tool", DAY, since, until)),
            ("drift, 168 hourly windows, by tool", lambda: drift.report(client, "bench", "tool", 3600, since, until)),
            ("hallucination rate, 7 days", lambda: hallucination(client, "bench", since, until)),
        ):  # fmt: skip
            work()
            t = time.perf_counter()
            for _ in range(5):
                work()
            print(f"{label}: {1000 * (time.perf_counter() - t) / 5:.0f} ms")
        rules = [
            parse_rule({"name": m, "metric": m, "threshold": 0.5 if "rate" in m else 100})
            for m in METRICS
        ]
        alerts = Alerts(StorePool(client), "bench", rules)
        alerts.check("bench")
        t = time.perf_counter()
        alerts.check("bench")
        print(f"alert round, {len(rules)} rules (one per metric): "
              f"{1000 * (time.perf_counter() - t):.0f} ms")  # fmt: skip
        alerts.close()
        client.close()


if __name__ == "__main__":
    main()
