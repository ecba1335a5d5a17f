"""Dashboard latency at scale: every aggregate query the dashboard makes, at 1M and 10M spans.

Loads synthetic agent runs into an embedded store with ``INSERT ... SELECT FROM numbers()``
in batches of ``--batch`` spans, so the materialized views fire per insert as they do when
the writer stores a batch, and adds the batch's ``step_daily`` rows as the writer would (the
real OTLP path would take hours at 10M spans; its throughput is ``bench/ingest.py``'s
subject). A run has 4-28 spans: a root ``invoke_agent`` span naming
the agent and user, then LLM calls (seven models of two providers, one unknown to the price
table), tool calls (3% fail), a decision now and then, and an escalation in 1 run of 200.
Runs spread over 30 days ending now, over five services, eight agents, 2,000 users and two
environments.

Then it times each aggregate query (the functions the REST routes call, with the routes'
filter check), for the default range (last 7 days) and the whole month, and prints p50/p95.

    .venv/bin/python bench/dashboard.py                 # 1M then 10M spans
    .venv/bin/python bench/dashboard.py --spans 1000000 --repeat 20

``--big-run`` instead opens one big run (2,000 spans, 200 LLM calls, windows of 80k to 100k
tokens, ``tests/support/bigrun.py``) sent over OTLP to a live server: the time of each REST
answer the run page asks for (the first request apart: it builds the run's timeline and diffs,
which the server keeps after that), the page's Streamlit script time (AppTest), and with
Chromium the page's open time and the time from picking a step to seeing it, on a second big
run the server has not built yet, with a run of one call opened the same way as the baseline.

    .venv/bin/python bench/dashboard.py --big-run --repeat 5
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from agentreel.core.prices import load_prices
from agentreel.storage import aggregates, queries
from agentreel.storage.client import connect
from agentreel.storage.schema import TABLES, migrate
from agentreel.storage.scope import check_values, make_scope

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "bench"
DAYS = 30
AVG_SPANS_PER_RUN = 16  # 4 + (0..24) spans, uniformly

# One row per span: run r (0-based, global), slot s within the run. Everything is derived
# from (r, s) with cityHash64 so batches are independent and reproducible.
GENERATE = """
SELECT r, s, n, h, run_start, kind, agent_, model_, tool_, input_,
  40 + h % 400 AS output_,
  if(kind = 'tool' AND h % 100 < 3, 'error', 'ok') AS status_,
  concat('svc-', toString(r % 5)) AS service_,
  concat('user-', toString(cityHash64(r) % 2000)) AS user_,
  if(r % 4 = 0, 'staging', 'prod') AS env_,
  if(startsWith(model_, 'claude'), 'anthropic', 'openai') AS provider_,
  if(model_ != 'house-model', (input_ * 2.5 + (40 + h % 400) * 10) / 1e6, 0) AS cost_,
  ['fast', 'careful'][1 + h % 2] AS chosen_,
  toInt64(run_start + s * 2e9) AS start_ns
FROM (
  SELECT r, s, n, h, run_start,
    multiIf(s = 0, 'agent', s = n - 1 AND r % 200 = 0, 'escalation',
            s % 7 = 6, 'decision', s % 2 = 1, 'llm', 'tool') AS kind,
    concat('agent-', toString(r % 8)) AS agent_,
    ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'o4-mini', 'claude-sonnet-4', 'claude-haiku-4-5',
     'house-model'][1 + (cityHash64(r) + intDiv(s, 4)) % 7] AS model_,
    ['search', 'fetch', 'sql', 'python', 'email'][1 + h % 5] AS tool_,
    toUInt64(500 + h % 6000 + s * 300) AS input_
  FROM (
    SELECT number AS r, 4 + cityHash64(number) % 25 AS n,
           toInt64({start_ns} + number * {gap_ns}) AS run_start
    FROM numbers({first_run}, {runs})
  )
  ARRAY JOIN range(toUInt64(n)) AS s
  ARRAY JOIN [cityHash64(r, s, 1)] AS h
)
"""

LOAD_SPANS = """
INSERT INTO spans (project, trace_id, span_id, parent_span_id, name, kind, start_time, end_time,
  duration_ns, status, error_type, service, agent, session, user, model, provider,
  input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, total_tokens, cost_usd,
  cost_source, counted, tool_name, attributes, resource, ingested_at)
SELECT
  'bench',
  lower(hex(MD5(toString(r)))),
  lower(hex(cityHash64(r, s))),
  if(s = 0, '', lower(hex(cityHash64(r, 0)))),
  multiIf(s = 0, 'invoke_agent', kind = 'llm', concat('chat ', model_), kind = 'tool',
          concat('execute_tool ', tool_), kind),
  kind,
  fromUnixTimestamp64Nano(start_ns),
  fromUnixTimestamp64Nano(toInt64(start_ns + if(s = 0, n * 2e9, 1.5e9))),
  toUInt64(if(s = 0, n * 2e9, 1.5e9)),
  status_,
  if(status_ = 'error', ['TimeoutError', 'ValueError', 'HTTPError'][1 + h % 3], ''),
  service_,
  if(s = 0, agent_, ''),
  concat('session-', toString(intDiv(r, 3))),
  if(s = 0, user_, ''),
  if(kind = 'llm', model_, ''),
  if(kind = 'llm', provider_, ''),
  if(kind = 'llm', input_, 0),
  if(kind = 'llm', output_, 0),
  if(kind = 'llm', intDiv(input_, 4), 0),
  if(kind = 'llm' AND provider_ = 'anthropic', intDiv(input_, 8), 0),
  if(kind = 'llm', input_ + output_, 0),
  if(kind = 'llm', cost_, 0),
  if(kind = 'llm' AND model_ != 'house-model', 'price_table', ''),
  1,
  if(kind = 'tool', tool_, ''),
  multiIf(kind = 'decision', map('agentreel.decision.name', 'route',
                                 'agentreel.decision.chosen', chosen_),
          kind = 'escalation', map('agentreel.escalation.reason', 'refund over limit',
                                   'agentreel.escalation.target', 'support',
                                   'agentreel.escalation.severity', 'high'),
          map()),
  map('service.name', service_, 'deployment.environment.name', env_),
  now64(3)
FROM ({generate})
"""

# What the writer adds to step_daily and user_daily for the same batch (rows summed by key,
# as it does; the run's agent and user known, as for calls whose root is stored or in the batch).
_STEP_SUMS = """
  toInt64(count()), toInt64(countIf(status_ = 'error')),
  toInt64(sumIf(input_, kind = 'llm')), toInt64(sumIf(output_, kind = 'llm')),
  toInt64(sumIf(intDiv(input_, 4), kind = 'llm')),
  toInt64(sumIf(intDiv(input_, 8), kind = 'llm' AND provider_ = 'anthropic')), toInt64(0),
  sumIf(cost_, kind = 'llm'), toInt64(countIf(kind = 'llm' AND model_ = 'house-model'))
"""
LOAD_STEPS = f"""
INSERT INTO step_daily
SELECT 'bench', toDate(fromUnixTimestamp64Nano(start_ns)) AS day,
  multiIf(kind = 'llm', 'model', kind = 'tool', 'tool', 'decision') AS dim,
  multiIf(kind = 'llm', model_, kind = 'tool', tool_, concat('route: ', chosen_)) AS key,
  agent_, service_, env_, if(kind = 'llm', provider_, '') AS provider, {_STEP_SUMS}
FROM ({{generate}})
WHERE kind IN ('llm', 'tool', 'decision')
GROUP BY day, dim, key, agent_, service_, env_, provider
"""
LOAD_USERS = f"""
INSERT INTO user_daily
SELECT 'bench', toDate(fromUnixTimestamp64Nano(start_ns)) AS day, user_, agent_, service_, env_,
  provider_, model_, {_STEP_SUMS}
FROM ({{generate}})
WHERE kind = 'llm'
GROUP BY day, user_, agent_, service_, env_, provider_, model_
"""


def load(client: Any, first_run: int, runs: int, total_runs: int, batch_runs: int) -> None:
    now = datetime.now(UTC)
    start_ns = int((now - timedelta(days=DAYS)).timestamp() * 1e9)
    gap_ns = int(DAYS * 86_400 * 1e9 / total_runs)
    done = 0
    while done < runs:
        count = min(batch_runs, runs - done)
        generate = GENERATE.format(
            start_ns=start_ns, gap_ns=gap_ns, first_run=first_run + done, runs=count
        )
        client.command(LOAD_SPANS.format(generate=generate))
        client.command(LOAD_STEPS.format(generate=generate))
        client.command(LOAD_USERS.format(generate=generate))
        done += count


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    fn()  # warm: the first read also loads marks and primary keys
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.95 * len(samples)))]


def measure(client: Any, repeat: int) -> list[tuple[str, float, float]]:
    table = load_prices()
    week = make_scope(PROJECT, None, None, {})
    month = make_scope(
        PROJECT, (datetime.now(UTC) - timedelta(days=DAYS + 1)).isoformat(), None, {}
    )
    agent = make_scope(PROJECT, None, None, {"agent": "agent-3", "environment": "prod"})
    model = make_scope(PROJECT, None, None, {"model": "claude-sonnet-4"})

    def checked(scope: Any, fn: Callable[[Any], Any]) -> Callable[[], Any]:
        def run() -> Any:
            check_values(client, scope)
            return fn(scope)

        return run

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("facets (7 days)", checked(week, lambda s: aggregates.facets(client, s))),
        ("overview (7 days)", checked(week, lambda s: aggregates.overview(client, s, (50, 1000)))),
        ("overview (30 days)", checked(month, lambda s: aggregates.overview(client, s, (0, 0)))),
        ("overview agent+env", checked(agent, lambda s: aggregates.overview(client, s, (0, 0)))),
        ("overview model", checked(model, lambda s: aggregates.overview(client, s, (0, 0)))),
    ]
    by_kinds: list[tuple[str, Any, tuple[str, ...], Callable[[Any, str], Any]]] = [
        ("cost/daily", month, aggregates.COST_BY, lambda s, b: aggregates.cost_daily(client, s, b, table)),
        ("failures/by", week, aggregates.FAILURES_BY, lambda s, b: aggregates.failures_by(client, s, b)),
        ("routing", month, aggregates.ROUTING_BY, lambda s, b: aggregates.routing(client, s, b)),
    ]  # fmt: skip
    for label, scope, choices, query in by_kinds:
        days = "30 days" if scope is month else "7 days"
        for by in choices:
            cases.append(
                (f"{label} by={by} ({days})", checked(scope, lambda s, q=query, b=by: q(s, b)))
            )
    cases += [
        (
            "failures/daily (30 days)",
            checked(month, lambda s: aggregates.failures_daily(client, s)),
        ),
        (
            "steps/histogram (7 days)",
            checked(week, lambda s: aggregates.steps_histogram(client, s)),
        ),
        ("escalations (30 days)", checked(month, lambda s: aggregates.escalations(client, s, 100))),
        (
            "prices/unknown (30 days)",
            checked(month, lambda s: aggregates.unknown_models(client, s)),
        ),
        ("runs page (newest 50)", lambda: queries.list_runs(client, queries.RunFilter(PROJECT))),
        (
            "runs page, model+env filter",
            lambda: queries.list_runs(
                client, queries.RunFilter(PROJECT, model="gpt-4.1", environment="staging")
            ),
        ),
        (
            "runs page, sort by cost, errors",
            lambda: queries.list_runs(
                client, queries.RunFilter(PROJECT, status="error", sort="cost")
            ),
        ),
        (
            "runs search q",
            lambda: queries.list_runs(client, queries.RunFilter(PROJECT, q="user-17")),
        ),
    ]
    return [(name, *_time(fn, repeat)) for name, fn in cases]


def sizes(client: Any) -> dict[str, int]:
    rows = client.query(
        "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE active "
        "AND database = currentDatabase() AND table IN {t:Array(String)} GROUP BY table",
        parameters={"t": list(TABLES)},
    ).result_rows
    return {f"{t} rows": int(r) for t, r, _ in rows} | {f"{t} bytes": int(b) for t, _, b in rows}


# --- a big run in the browser ----------------------------------------------------------------

#: Seconds between two measured opens: longer than the dashboard's answer cache (5 s), as a
#: user's next visit; the run's own answers (timeline, diffs) stay cached for a minute.
COLD_GAP = 6.0


def big_run(repeat: int) -> dict[str, Any]:
    """Open a run of 2,000 spans and 200 LLM calls (tests/support/bigrun.py) on a live server:
    the REST answers the run page asks for, then, with Chromium, the page itself."""
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(ROOT / "tests" / "dashboard"))
    from support.bigrun import send_big_run
    from support.liveserver import start_server

    directory = Path(tempfile.mkdtemp(prefix="agentreel-bigrun-bench-"))
    server = start_server(directory / "data", {"AGENTREEL_EVAL_SAMPLE_RATE": "0"})
    figures: dict[str, Any] = {}
    try:
        t = time.perf_counter()
        run = send_big_run(server.url)
        figures["ingest_seconds"] = time.perf_counter() - t
        # A second big run for the browser, which the server has never built: the first
        # open includes building its timeline and diffs (the server keeps them after that).
        fresh = send_big_run(server.url)
        base = f"{server.url}/api/v1/runs/{run.trace_id}"
        middle = run.calls // 2
        requests = {
            "run summary with its span tree": base,
            "run summary alone (what the page asks)": f"{base}?spans=false",
            "timeline": f"{base}/timeline",
            "all diffs (one request)": f"{base}/llm-calls/diffs",
            "one call's window": f"{base}/llm-calls/{middle}",
            f"per-call diff (call {middle})": f"{base}/llm-calls/{middle}/diff",
            "every window at once (what the page no longer asks)": f"{base}/llm-calls",
        }
        api = {}
        for name, url in requests.items():
            t = time.perf_counter()
            size = _get_size(url)  # the first request: a run's timeline and diffs are built
            cold = (time.perf_counter() - t) * 1000
            api[name] = (*_time(lambda u=url: _get_size(u), repeat), size / 1e6, cold)
        figures["api"] = api
        figures["browser"] = _browser(server.url, fresh.trace_id, repeat)
        figures["script"] = _script(server.url, fresh.trace_id, repeat)
        # The same page for a run of one call: what any run page costs in this browser.
        small = send_big_run(server.url, spans=2, calls=1, tools_per_call=0, document_tokens=500)
        figures["browser_small"] = _browser(server.url, small.trace_id, repeat, pick=False)
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
    return figures


def _script(api_url: str, trace_id: str, repeat: int) -> list[float]:
    """Seconds of Streamlit script time for the run page (AppTest: no browser, no websocket),
    its answers cached as in a live dashboard after the first render: the Python part of an
    open."""
    import os

    from streamlit.testing.v1 import AppTest

    os.environ["AGENTREEL_API_URL"] = api_url
    app = str(ROOT / "dashboard" / "app.py")
    samples = []
    for _ in range(repeat + 1):
        at = AppTest.from_file(app, default_timeout=120)
        at.query_params.update({"page": "runs", "run": trace_id})
        t = time.perf_counter()
        at.run()
        samples.append(time.perf_counter() - t)
        if at.exception:
            raise RuntimeError(f"the run page failed: {[e.value for e in at.exception]}")
    return samples


def _get_size(url: str) -> int:
    answer = httpx.get(url, timeout=300)
    answer.raise_for_status()
    return len(answer.content)


def _browser(
    api_url: str, trace_id: str, repeat: int, *, pick: bool = True
) -> dict[str, list[float]] | None:
    """Seconds from opening the run page to its first step shown (what the user waits for;
    Streamlit may still be finishing the page below it), and from picking a step in the list
    to that step shown (``pick``); None without Chromium."""
    from test_browser_bigrun import STEP_LIST

    from support.browser import CHROMIUM, CHROMIUM_FLAGS, wait_rendered

    if not CHROMIUM:
        return None
    from playwright.sync_api import sync_playwright

    from support.liveserver import start_dashboard

    log = Path(tempfile.mkdtemp(prefix="agentreel-bigrun-dashboard-")) / "dashboard.log"
    dashboard = start_dashboard(api_url, log)
    url = f"{dashboard.url}/?page=runs&run={trace_id}"
    out: dict[str, list[float]] = {
        "first open (nothing cached)": [],
        "open again": [],
        "to the selected step": [],
    }
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                for i in range(repeat):
                    time.sleep(COLD_GAP)
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    t = time.perf_counter()
                    page.goto(url, wait_until="domcontentloaded")
                    page.wait_for_selector("h4:has-text('Step 1 ')", timeout=120_000)
                    out["open again" if i else "first open (nothing cached)"].append(
                        time.perf_counter() - t
                    )
                    wait_rendered(page)
                    if not pick:
                        page.close()
                        continue
                    step = 10 + i
                    t = time.perf_counter()
                    page.locator(STEP_LIST).nth(step - 1).click()
                    page.wait_for_selector(f"h4:has-text('Step {step} ')", timeout=120_000)
                    out["to the selected step"].append(time.perf_counter() - t)
                    page.close()
            finally:
                browser.close()
    finally:
        dashboard.stop()
        shutil.rmtree(log.parent, ignore_errors=True)
    return out


def print_big_run(figures: dict[str, Any]) -> None:
    print(
        f"\n== big run: 2,000 spans, 200 LLM calls (ingested in {figures['ingest_seconds']:.0f} s) =="
    )
    print(f"{'request':<54} {'first ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'MB':>7}")
    for name, (p50, p95, mb, cold) in figures["api"].items():
        print(f"{name:<54} {cold:>8.0f} {p50:>8.0f} {p95:>8.0f} {mb:>7.2f}")
    script = figures["script"]
    print(f"script time (AppTest): first {script[0]:.2f} s, "
          f"again median {statistics.median(script[1:]):.2f} s")  # fmt: skip
    if figures["browser"] is None:
        print("browser: skipped (no chromium)")
        return
    for label, key in (("big run", "browser"), ("one-call run", "browser_small")):
        for name, samples in figures[key].items():
            if not samples:
                continue
            flag = "" if statistics.median(samples) < 2 else "  (over the 2 s target)"
            print(f"{label:<13} {name:<28} median {statistics.median(samples):.2f} s, "
                  f"max {max(samples):.2f} s over {len(samples)}{flag}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--batch", type=int, default=100_000, help="spans per insert")
    parser.add_argument("--data-dir", help="store here (kept) instead of a temporary directory")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--big-run",
        action="store_true",
        help="instead: open a run of 2,000 spans and 200 LLM calls on a live server (REST "
        "answers, and the page in Chromium when installed)",
    )
    args = parser.parse_args()
    if args.big_run:
        figures = big_run(min(args.repeat, 5))
        print_big_run(figures)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2))
        return 0
    directory = Path(args.data_dir or tempfile.mkdtemp(prefix="agentreel-dashboard-bench-"))
    client = connect(f"chdb://{directory}")
    migrate(client)
    total_runs = max(args.spans) // AVG_SPANS_PER_RUN
    batch_runs = max(1, args.batch // AVG_SPANS_PER_RUN)
    loaded_runs, report = 0, []
    try:
        for target in sorted(args.spans):
            runs = target // AVG_SPANS_PER_RUN - loaded_runs
            t = time.perf_counter()
            load(client, loaded_runs, runs, total_runs, batch_runs)
            loaded_runs += runs
            seconds = time.perf_counter() - t
            spans = client.query("SELECT count() FROM spans").result_rows[0][0]
            print(f"\n== {spans:,} spans, {loaded_runs:,} runs (loaded in {seconds:.0f} s) ==")
            figures = measure(client, args.repeat)
            print(f"{'query':<36} {'p50 ms':>8} {'p95 ms':>8}")
            for name, p50, p95 in figures:
                flag = "" if p50 < 300 else "  (over the 300 ms target)"
                print(f"{name:<36} {p50:>8.1f} {p95:>8.1f}{flag}")
            table_sizes = sizes(client)
            print(json.dumps(table_sizes))
            report.append(
                {
                    "spans": spans,
                    "runs": loaded_runs,
                    "load_seconds": seconds,
                    "queries": figures,
                    "sizes": table_sizes,
                }
            )
    finally:
        client.close()
        if not args.data_dir:
            shutil.rmtree(directory, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
