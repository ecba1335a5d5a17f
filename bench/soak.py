"""Soak benchmark: sustained ingestion at a fixed rate, memory sampled, every span counted.

Starts ``agentreel serve`` on a temporary data directory with the tests' harness (as
``bench/ingest.py`` does), then sends the ingest benchmark's realistic agent traces at
``--rate`` spans/s (default: half of ``--max-rate``, the maximum measured by
``bench/ingest.py``) for ``--minutes``, over OTLP/HTTP and OTLP/gRPC from several threads,
retrying on 429/503 as exporters do.
A pool of requests is generated once and re-sent with fresh trace and span ids each round
(ids XOR-ed with a per-round key, so parent links still hold).

Every ``--sample`` seconds it prints the server's resident memory (its process tree's
VmRSS), spans acknowledged and stored, and the spool's size. At the end it waits until the
store holds every acknowledged span and checks the count: stored == acknowledged (none
lost, none doubled). RSS is "flat" when the median of the last third of the samples is
within ``--rss-tolerance`` of the median of the second third (the first third is warm-up).

Run: ``nice .venv/bin/python bench/soak.py [--minutes 10] [--max-rate 5200]``.
Exit code 0 when nothing was lost and RSS stayed flat, 1 otherwise.

Flood: ``--span-bytes 30000 --rate 2000`` sends spans of that many bytes each (one text
attribute, ``--spans-per-request`` to a request) at that rate, more than the server can
write, with the shipped defaults. It then reports the server's RSS before, at most and
``--after`` seconds after the flood, and the 429/503 answers (with their retry hint);
the exit code says whether RSS stayed under 1 GiB, came back near idle (within
``--idle-tolerance`` of it), pushback was seen and nothing acknowledged was lost.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from _otlpgen import GenConfig, Payload, generate
from ingest import (
    AgentreelCounter,
    GrpcExporter,
    HttpExporter,
    RetryableError,
    RssSampler,
    SendStats,
    Server,
    launch_agentreel,
    log,
    send_one,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

_MIB = 1 << 20
#: RSS the server must stay under in a flood with the shipped defaults.
FLOOD_RSS_LIMIT = 1 << 30


def flood_pool(span_bytes: int, per_request: int, requests: int, seed: int) -> list[Payload]:
    """Requests of ``per_request`` spans, each carrying ``span_bytes`` of text that does not
    repeat (one trace per request)."""
    rng = random.Random(seed)
    now = time.time_ns()
    pool = []
    for _ in range(requests):
        trace_id = rng.randbytes(16)
        spans = [
            Span(
                trace_id=trace_id,
                span_id=rng.randbytes(8),
                name="tool payload",
                start_time_unix_nano=now - 2_000_000,
                end_time_unix_nano=now,
                attributes=[
                    KeyValue(
                        key="output.value",
                        value=AnyValue(string_value=rng.randbytes(span_bytes // 2).hex()),
                    )
                ],
            )
            for _ in range(per_request)
        ]
        request = ExportTraceServiceRequest(
            resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]
        )
        pool.append(Payload(request.SerializeToString(), per_request))
    return pool


class Pushback:
    """Counts the server's retryable answers (429, 503 and their gRPC codes) by kind."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_kind: dict[str, int] = {}
        self.with_hint = 0

    def counting(self, exporter: HttpExporter | GrpcExporter) -> HttpExporter | GrpcExporter:
        """``exporter`` with its refusals counted here (they still reach ``send_one``)."""
        export = exporter.export

        def counted(payload: Payload) -> tuple[int, int]:
            try:
                return export(payload)
            except RetryableError as exc:
                with self.lock:
                    kind = str(exc).removeprefix("http ").removeprefix("grpc ")
                    self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
                    self.with_hint += exc.delay is not None
                raise

        exporter.export = counted  # type: ignore[method-assign]
        return exporter

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def fresh_ids(body: bytes, trace_key: int, span_key: int) -> bytes:
    """``body`` with every trace and span id XOR-ed with the keys (0: unchanged)."""
    if not trace_key:
        return body
    request = ExportTraceServiceRequest.FromString(body)
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                span.trace_id = _xor(span.trace_id, trace_key)
                span.span_id = _xor(span.span_id, span_key)
                if span.parent_span_id:
                    span.parent_span_id = _xor(span.parent_span_id, span_key)
    return request.SerializeToString()


def _xor(raw: bytes, key: int) -> bytes:
    return (int.from_bytes(raw, "big") ^ key).to_bytes(len(raw), "big")


@dataclass
class Sample:
    seconds: float
    rss: int
    acked: int
    stored: int
    spool: float


class Schedule:
    """Hands out (payload, round) in order, each due when the rate allows it."""

    def __init__(self, pool: list[Payload], rate: float, seconds: float, seed: int) -> None:
        self.pool, self.rate, self.seconds = pool, rate, seconds
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.index = 0
        self.spans = 0
        self.keys = (0, 0)
        self.start = time.monotonic()

    def __iter__(self) -> Iterator[tuple[Payload, int, int]]:
        while True:
            with self.lock:
                due = self.start + self.spans / self.rate
                # Over when the schedule or the clock says so (a server that cannot keep up
                # gets the same ten minutes, at what it can take).
                if (
                    due - self.start >= self.seconds
                    or time.monotonic() - self.start >= self.seconds
                ):
                    return
                payload = self.pool[self.index % len(self.pool)]
                if self.index and self.index % len(self.pool) == 0:
                    self.keys = (self.rng.getrandbits(128) | 1, self.rng.getrandbits(64) | 1)
                keys = self.keys
                self.index += 1
                self.spans += payload.spans
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield payload, *keys


def metric(client: httpx.Client, url: str, name: str) -> float:
    try:
        text = client.get(url + "/metrics").text
    except httpx.HTTPError:
        return float("nan")
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return float("nan")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="Soak agentreel at a fixed rate; print RSS every few seconds; count.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--max-rate", type=float, default=5200.0, help="measured max spans/s")
    ap.add_argument("--rate", type=float, help="spans/s to send; default: half of --max-rate")
    ap.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples")
    ap.add_argument("--pool-spans", type=int, default=20_000, help="spans generated once")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rss-tolerance", type=float, default=0.10)
    ap.add_argument("--span-bytes", type=int, default=0, help="flood: bytes per span (0: off)")
    ap.add_argument("--spans-per-request", type=int, default=20, help="flood: spans per request")
    ap.add_argument("--after", type=float, default=60.0, help="flood: seconds sampled after it")
    ap.add_argument("--idle-tolerance", type=float, default=0.25, help="flood: 'near idle'")
    ap.add_argument("--server-cmd", help="agentreel command (default: this python's -m agentreel)")
    ap.add_argument("--keep-data", action="store_true")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rate = args.rate or args.max_rate / 2
    seconds = args.minutes * 60
    log(f"generating a pool of {args.pool_spans:,} spans ...")
    if args.span_bytes:
        per = args.spans_per_request
        requests = max(1, min(args.pool_spans, 2000) // per)
        pool = flood_pool(args.span_bytes, per, requests, args.seed)
    else:
        pool = generate(GenConfig(seed=args.seed, spans=args.pool_spans)).payloads
    work = Path(tempfile.mkdtemp(prefix="agentreel-soak-"))
    try:
        running = launch_agentreel(args.server_cmd, work, 120)
        try:
            return soak(Server.of(running), pool, rate, seconds, args)
        finally:
            log(f"[agentreel] exited with {running.stop()}")
    finally:
        if args.keep_data:
            log(f"data and log kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def soak(
    server: Server, pool: list[Payload], rate: float, seconds: float, args: argparse.Namespace
) -> int:
    """Send for ``seconds``, sampling as it goes; check the count; print the report."""
    stats = SendStats()
    schedule = Schedule(pool, rate, seconds, args.seed)
    items = iter(schedule)
    items_lock = threading.Lock()
    assert server.grpc_target is not None
    counter = AgentreelCounter(server)
    rss = RssSampler(server.pid)
    client = httpx.Client(timeout=10)
    pushback = Pushback()
    idle = rss.sample()

    def worker(n: int) -> None:
        exporter = pushback.counting(
            GrpcExporter(server.grpc_target, False)
            if n % 2
            else HttpExporter(server.http_url, False)
        )
        try:
            while True:
                with items_lock:
                    item = next(items, None)
                if item is None:
                    return
                payload, trace_key, span_key = item
                body = fresh_ids(payload.body, trace_key, span_key)
                send_one(exporter, Payload(body, payload.spans), stats, max_retries=1000)
        finally:
            exporter.close()

    log(f"soaking at {rate:,.0f} spans/s for {seconds / 60:g} min, {args.threads} threads")
    print(f"{'time':>6} {'RSS MiB':>8} {'acked':>11} {'stored':>11} {'spool KiB':>10}", flush=True)
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(args.threads)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    samples: list[Sample] = []
    next_at = started + args.sample
    while alive := [t for t in threads if t.is_alive()]:
        alive[0].join(max(0.0, next_at - time.monotonic()))
        if time.monotonic() < next_at:
            continue
        next_at += args.sample
        sample = Sample(
            time.monotonic() - started,
            rss.sample(),
            stats.spans_acked,
            counter.spans() or 0,
            metric(client, server.http_url, "agentreel_spool_bytes"),
        )
        samples.append(sample)
        print(
            f"{sample.seconds:6.0f} {sample.rss / _MIB:8.0f} {sample.acked:11,} "
            f"{sample.stored:11,} {sample.spool / 1024:10,.0f}",
            flush=True,
        )
    sent_for = time.monotonic() - started
    log("sending done; waiting for the store to hold every acknowledged span ...")
    deadline = time.monotonic() + 300
    stored = counter.spans() or 0
    while stored < stats.spans_acked and time.monotonic() < deadline:
        time.sleep(1)
        stored = counter.spans() or 0
    time.sleep(2)  # anything more would be a duplicate: give it a moment to show
    stored = counter.spans() or 0
    after: list[Sample] = []
    if args.span_bytes:
        log(f"flood over; sampling RSS for {args.after:g} s more ...")
        until = time.monotonic() + args.after
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(args.sample, left))
            after.append(Sample(time.monotonic() - started, rss.sample(), 0, stored, 0.0))
            print(f"{after[-1].seconds:6.0f} {after[-1].rss / _MIB:8.0f}  (after)", flush=True)
    counter.close()
    client.close()
    code = report(samples, stats, stored, sent_for, rate, args.rss_tolerance)
    if not args.span_bytes:
        return code
    return report_flood(idle, samples, after, pushback, stats.spans_acked - stored, args)


def report_flood(
    idle: int,
    samples: list[Sample],
    after: list[Sample],
    pushback: Pushback,
    lost: int,
    args: argparse.Namespace,
) -> int:
    """The flood's verdict: RSS bounded, back near idle, pushback seen, nothing lost."""
    peak = max([s.rss for s in samples + after] + [idle])
    settled = after[-1].rss if after else samples[-1].rss
    near_idle = settled <= idle * (1 + args.idle_tolerance)
    kinds = ", ".join(f"{k}: {n:,}" for k, n in sorted(pushback.by_kind.items())) or "none"
    print(
        f"flood                  {args.span_bytes:,}-byte spans, {args.spans_per_request}/request"
    )
    print(f"RSS idle before        {idle / _MIB:,.0f} MiB")
    print(f"RSS max                {peak / _MIB:,.0f} MiB (limit {FLOOD_RSS_LIMIT / _MIB:,.0f})")
    print(
        f"RSS {args.after:g} s after       {settled / _MIB:,.0f} MiB "
        f"(near idle within {args.idle_tolerance:.0%}: {'yes' if near_idle else 'NO'})"
    )
    print(
        f"pushback answers       {pushback.total:,} ({kinds}); with a retry hint {pushback.with_hint:,}"
    )
    ok = peak < FLOOD_RSS_LIMIT and near_idle and pushback.total > 0 and lost == 0
    print(f"flood result           {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def report(
    samples: list[Sample],
    stats: SendStats,
    stored: int,
    sent_for: float,
    rate: float,
    tolerance: float,
) -> int:
    third = max(1, len(samples) // 3)
    warm = [s.rss for s in samples[third : 2 * third]] or [s.rss for s in samples]
    late = [s.rss for s in samples[-third:]]
    warm_mib, late_mib = statistics.median(warm) / _MIB, statistics.median(late) / _MIB
    growth = (late_mib - warm_mib) / warm_mib if warm_mib else 0.0
    lost = stats.spans_acked - stored
    flat = growth <= tolerance
    ok = lost == 0 and stats.spans_failed == 0 and stats.spans_rejected == 0 and flat
    print()
    print(f"target rate            {rate:,.0f} spans/s")
    print(
        f"achieved send rate     {stats.spans_acked / sent_for:,.0f} spans/s over {sent_for:.0f} s"
    )
    print(f"spans acknowledged     {stats.spans_acked:,}")
    print(f"spans stored           {stored:,}")
    print(f"lost (acked - stored)  {lost:,}   (negative would mean stored twice)")
    print(f"rejected / given up    {stats.spans_rejected:,} / {stats.spans_failed:,}")
    print(f"retries                {stats.retries:,}")
    if stats.latencies:
        lat = sorted(stats.latencies)
        print(
            f"request latency        p50 {lat[len(lat) // 2] * 1000:,.0f} ms, "
            f"p99 {lat[int(len(lat) * 0.99)] * 1000:,.0f} ms"
        )
    print(
        f"RSS min / max          {min(s.rss for s in samples) / _MIB:,.0f} / "
        f"{max(s.rss for s in samples) / _MIB:,.0f} MiB"
    )
    print(
        f"RSS median 2nd third   {warm_mib:,.0f} MiB; last third {late_mib:,.0f} MiB "
        f"({growth:+.1%}; flat within {tolerance:.0%}: {'yes' if flat else 'NO'})"
    )
    print(f"result                 {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
