"""Replay latency and content storage: a 50-step run among 10,000 ordinary runs.

Starts ``agentreel serve`` on a fresh data directory (the tests' harness, as
``bench/ingest.py`` does), sends one long run (50 LLM calls whose
context grows to about 100k tokens) and 10,000 ordinary runs (5-11 steps) over OTLP/HTTP,
then times the replay endpoints on the long run and on ordinary ones, and compares the
content bytes stored (each message once, by hash) with the bytes of the same context windows
stored verbatim (every call's whole window, as the spans carry them).

Run: ``.venv/bin/python bench/replay.py`` (about two minutes on two cores).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _otlpgen import GenConfig, Payload, generate, iter_batches
from ingest import Server, launch_agentreel, run_senders

CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
)
TARGET_P50_MS, TARGET_P99_MS, TARGET_RATIO = 50.0, 200.0, 10.0


def verbatim_bytes(cfg: GenConfig) -> tuple[int, int]:
    """Bytes of every LLM call's window as the spans carry it, and the largest window."""
    total = largest = 0
    for batch, _ in iter_batches(cfg):
        for span in batch:
            size = sum(len(str(v)) for k, v in span.attrs if k in CONTENT_KEYS)
            total += size
            largest = max(largest, size)
    return total, largest


def distinct_bytes(calls: list[dict[str, Any]]) -> int:
    """Bytes of the distinct messages, system instructions and tool lists of one run's calls
    (what the content store keeps for it, before compression)."""
    seen: set[str] = set()
    for call in calls:
        items = [*(call["input_messages"] or []), *(call["output_messages"] or [])]
        items += [call["system_instructions"], call["tool_definitions"]]
        seen.update(json.dumps(item, sort_keys=True) for item in items if item)
    return sum(len(text) for text in seen)


def send(server: Server, payloads: list[Payload], threads: int = 4) -> None:
    """Send every request over OTLP/HTTP with the ingest benchmark's senders (they retry
    while the server asks them to back off)."""
    stats, workers, close = run_senders(
        server,
        payloads,
        protocol="http",
        grpc_share=0.0,
        threads=threads,
        use_gzip=False,
        max_retries=1000,
    )
    for w in workers:
        w.join()
    close()
    if stats.spans_failed or stats.spans_rejected:
        raise SystemExit(f"requests failed: {stats.errors[:5]}")


def timed(client: httpx.Client, url: str, repeat: int) -> tuple[float, float, int]:
    samples, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        size = len(response.content)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return statistics.median(samples), p99, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10_000, help="ordinary runs around it")
    parser.add_argument("--repeat", type=int, default=100, help="requests timed per endpoint")
    args = parser.parse_args()

    long_cfg = GenConfig(
        seed=50, spans=100, concurrency=1, steps=(50, 50), tool_result_chars=(7000, 9000)
    )
    # ~16 spans per ordinary run on average.
    many_cfg = GenConfig(seed=51, spans=args.runs * 16)
    print("generating ...", file=sys.stderr)
    long_run, many = generate(long_cfg), generate(many_cfg)
    long_verbatim, largest = verbatim_bytes(long_cfg)
    many_verbatim, _ = verbatim_bytes(many_cfg)

    work = Path(tempfile.mkdtemp(prefix="agentreel-replay-bench-"))
    running = launch_agentreel(None, work, 120)
    server = Server.of(running)
    try:
        print(f"sending {many.spans + long_run.spans:,} spans ...", file=sys.stderr)
        send(server, long_run.payloads + many.payloads)
        with httpx.Client(timeout=60) as client:
            api = server.http_url + "/api/v1"
            longest = client.get(api + "/runs", params={"sort": "llm_calls", "limit": 1}).json()
            long_id = longest["runs"][0]["trace_id"]
            sample = client.get(api + "/runs", params={"limit": 200}).json()["runs"]
            ordinary = random.Random(1).choice(
                [r["trace_id"] for r in sample if r["trace_id"] != long_id]
            )
            stats = client.get(api + "/stats").json()
            windows = client.get(f"{api}/runs/{long_id}/llm-calls").json()["llm_calls"]
            long_distinct = distinct_bytes(windows)
            rows = []
            for label, trace in (("50-step run", long_id), ("ordinary run", ordinary)):
                for endpoint in ("llm-calls", "timeline"):
                    url = f"{api}/runs/{trace}/{endpoint}"
                    if client.get(url).status_code == 404 and endpoint == "timeline":
                        continue
                    p50, p99, size = timed(client, url, args.repeat)
                    rows.append((f"{label} /{endpoint}", p50, p99, size))
    finally:
        running.stop()
    print(
        f"\nworkload: 1 run of 50 LLM calls (largest window {largest:,} chars, about "
        f"{largest // 4:,} tokens) + {many.runs:,} runs; {stats['spans']:,} spans stored"
    )
    print(f"\n{'endpoint':30} {'p50 ms':>8} {'p99 ms':>8} {'body KB':>9}   target")
    for label, p50, p99, size in rows:
        verdict = "PASS" if p50 < TARGET_P50_MS and p99 < TARGET_P99_MS else "MISS"
        print(f"{label:30} {p50:8.1f} {p99:8.1f} {size / 1024:9.0f}   p50<50 p99<200 {verdict}")
    verbatim = long_verbatim + many_verbatim
    stored_raw = stats["content_bytes"]
    stored_disk = stats["tables"].get("content", {}).get("bytes_on_disk", 0)
    long_ratio = long_verbatim / max(long_distinct, 1)
    print(f"\ncontent of the 50-step run: windows verbatim {long_verbatim:,} B, distinct content")
    print(
        f"  {long_distinct:,} B: {long_ratio:.1f}x less   target >= 10x "
        f"{'PASS' if long_ratio >= TARGET_RATIO else 'MISS'}"
    )
    raw_ratio, disk_ratio = verbatim / max(stored_raw, 1), verbatim / max(stored_disk, 1)
    print(f"all runs: windows verbatim {verbatim:,} B; content store {stored_raw:,} B raw")
    print(
        f"  ({raw_ratio:.1f}x less, {'PASS' if raw_ratio >= TARGET_RATIO else 'MISS'}), "
        f"{stored_disk:,} B on disk ({disk_ratio:.1f}x less, "
        f"{'PASS' if disk_ratio >= TARGET_RATIO else 'MISS'})"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
