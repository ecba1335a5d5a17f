"""Ingest benchmark: how fast agentreel accepts and persists realistic agent traces.

The benchmark pre-generates agent runs as OTLP export requests (see ``_otlpgen.py``),
starts ``agentreel serve`` with the tests' harness (``tests/support/liveserver.py``: a
temporary data directory and free ports), and sends the requests with several client
threads over OTLP/HTTP and OTLP/gRPC. It reports:

* accepted spans/s: spans acknowledged by the server / wall time of sending;
* persisted spans/s: spans sent / time from the first send until ``GET /api/v1/stats``
  counts them all;
* on-disk bytes per span and on-disk bytes / OTLP bytes received (uncompressed);
* the server's peak resident memory (``VmHWM`` of its process, and the peak of the
  sampled ``VmRSS`` summed over its process tree).

When Arize Phoenix is available (``--phoenix-cmd``, a ``phoenix`` command on ``PATH``,
or an importable ``phoenix`` package), it runs the same payloads through ``phoenix
serve`` in the same invocation (a smaller number of spans: it is much slower) and
prints the ratios.

Run: ``.venv/bin/python bench/ingest.py [--spans N] [--threads N] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import lzma
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
import httpx
from _otlpgen import GenConfig, Payload, Workload, generate, gzip_ratio
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' harness

from support.liveserver import RunningServer, free_port, start_server

TARGET_PERSISTED_SPANS_S = 20_000.0
TARGET_RSS_BYTES = 1 << 30
TARGET_DISK_RATIO = 0.05

_EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
_RETRYABLE_HTTP = {429, 502, 503, 504}
_RETRYABLE_GRPC = {grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE}
_MIB = 1 << 20


def log(msg: str) -> None:
    """Print a progress line on stderr."""
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- processes


def proc_status(pid: int) -> dict[str, int]:
    """Return the ``Vm*`` fields of ``/proc/<pid>/status`` in bytes (empty if gone)."""
    out: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key.startswith("Vm") and rest.strip().endswith("kB"):
            out[key] = int(rest.split()[0]) * 1024
    return out


def proc_cpu_seconds(pid: int, *, children: bool = True) -> float:
    """Return user+system CPU seconds of ``pid`` (plus its reaped children's)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17.
    ticks = sum(int(fields[i]) for i in ((11, 12, 13, 14) if children else (11, 12)))
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """Return CPU seconds of ``pid``, its reaped children and its live descendants."""
    rest = process_tree(pid)[1:]
    return proc_cpu_seconds(pid) + sum(proc_cpu_seconds(p, children=False) for p in rest)


def process_tree(pid: int) -> list[int]:
    """Return ``pid`` and all of its descendants (scans ``/proc``)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(parents.get(p, ()))
    return tree


def dir_bytes(path: Path) -> int:
    """Return the bytes allocated on disk by the files under ``path``."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


class RssSampler:
    """Track the peak resident memory of a process tree from ``/proc``."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.peak_tree = 0
        self.samples = 0
        self._tree: list[int] = [pid] if pid else []
        self._last_scan = 0.0

    def sample(self) -> int:
        """Sample the tree's summed VmRSS now; rescan children once a second."""
        if self.pid is None:
            return 0
        now = time.monotonic()
        if now - self._last_scan > 1.0:
            self._tree = process_tree(self.pid)
            self._last_scan = now
        rss = sum(proc_status(p).get("VmRSS", 0) for p in self._tree)
        self.peak_tree = max(self.peak_tree, rss)
        self.samples += 1
        return rss

    def hwm(self) -> int:
        """Return the kernel's high-water mark (VmHWM) of the main process."""
        return proc_status(self.pid).get("VmHWM", 0) if self.pid else 0


@dataclass
class Server:
    """A server under test: where to send, how to count, and its process if ``spawn`` started
    it (Phoenix; agentreel is started and stopped by the tests' harness)."""

    name: str
    http_url: str
    grpc_target: str | None
    proc: subprocess.Popen[bytes] | None = None
    pid: int | None = None
    data_dir: Path | None = None
    log_path: Path | None = None

    @classmethod
    def of(cls, running: RunningServer) -> Server:
        """The agentreel server that ``start_server`` runs."""
        return cls(
            "agentreel",
            running.url,
            running.grpc_endpoint,
            pid=running.process.pid,
            data_dir=running.data_dir,
            log_path=running.log_path,
        )

    def stop(self, grace: float = 20.0) -> int | None:
        """Stop our own server process (SIGTERM, then SIGKILL); return its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode

    def log_tail(self, lines: int = 30) -> str:
        """Return the last lines of the server's log, if we started it."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def spawn(
    name: str, cmd: Sequence[str], env: dict[str, str], workdir: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in its own session with output to ``log_path``."""
    log(f"[{name}] starting: {' '.join(cmd)}")
    with log_path.open("wb") as out:
        return subprocess.Popen(
            list(cmd),
            cwd=workdir,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def wait_ready(server: Server, path: str, timeout: float) -> None:
    """Poll ``GET <http_url><path>`` until it answers 200 or ``timeout`` expires."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.proc is not None and server.proc.poll() is not None:
                raise RuntimeError(
                    f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if client.get(server.http_url + path).status_code == 200:
                    return
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} not ready after {timeout:.0f}s:\n{server.log_tail()}")


# --------------------------------------------------------------------------- senders


@dataclass
class SendStats:
    """Counters shared by the sender threads of one target."""

    requests: int = 0
    spans_acked: int = 0
    spans_rejected: int = 0
    spans_failed: int = 0
    otlp_bytes_acked: int = 0
    wire_bytes: int = 0
    retries: int = 0
    by_protocol: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(
        self, proto: str, p: Payload, wire: int, rejected: int, retries: int, secs: float
    ) -> None:
        """Account for one acknowledged request."""
        with self.lock:
            self.requests += 1
            self.spans_acked += p.spans - rejected
            self.spans_rejected += rejected
            self.otlp_bytes_acked += len(p.body)
            self.wire_bytes += wire
            self.retries += retries
            self.by_protocol[proto] = self.by_protocol.get(proto, 0) + p.spans - rejected
            self.latencies.append(secs)

    def fail(self, p: Payload, retries: int, err: str) -> None:
        """Account for a request given up on."""
        with self.lock:
            self.spans_failed += p.spans
            self.retries += retries
            if len(self.errors) < 20:
                self.errors.append(err)

    @property
    def spans_done(self) -> int:
        """Spans whose request finished, one way or the other."""
        return self.spans_acked + self.spans_rejected + self.spans_failed


class RetryableError(Exception):
    """The server asked us to back off; ``delay`` is its hint in seconds, if any."""

    def __init__(self, msg: str, delay: float | None) -> None:
        super().__init__(msg)
        self.delay = delay


def _retry_after(value: str | None) -> float | None:
    """Parse a Retry-After header given in seconds (HTTP dates are ignored)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _rejected(content: bytes) -> int:
    """Return ``partial_success.rejected_spans`` of a protobuf export response."""
    if not content:
        return 0
    try:
        return int(ExportTraceServiceResponse.FromString(content).partial_success.rejected_spans)
    except Exception:
        return 0


class HttpExporter:
    """OTLP/HTTP protobuf sender with its own keep-alive connection."""

    protocol = "http"

    def __init__(self, base_url: str, use_gzip: bool) -> None:
        self.url = base_url.rstrip("/") + "/v1/traces"
        self.use_gzip = use_gzip
        headers = {"Content-Type": "application/x-protobuf"}
        if use_gzip:
            headers["Content-Encoding"] = "gzip"
        self.client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(120.0, connect=10.0),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    def export(self, p: Payload) -> tuple[int, int]:
        """Send one request; return ``(rejected spans, wire bytes)``."""
        body = p.gzipped if self.use_gzip else p.body
        try:
            r = self.client.post(self.url, content=body)
        except httpx.TransportError as e:
            raise RetryableError(f"http transport: {e!r}", None) from e
        if r.status_code == 200:
            return _rejected(r.content), len(body)
        if r.status_code in _RETRYABLE_HTTP:
            raise RetryableError(
                f"http {r.status_code}", _retry_after(r.headers.get("Retry-After"))
            )
        raise RuntimeError(f"http {r.status_code}: {r.text[:300]}")

    def close(self) -> None:
        """Close the connection."""
        self.client.close()


def _grpc_retry_delay(err: grpc.RpcError) -> float | None:
    """Extract ``google.rpc.RetryInfo.retry_delay`` from a gRPC error, if present."""
    try:
        from google.rpc import error_details_pb2, status_pb2
    except ImportError:
        return None
    trailers = err.trailing_metadata() if isinstance(err, grpc.Call) else None
    for key, value in trailers or ():
        if key == "google.rpc.retryinfo-bin" and isinstance(value, bytes):
            # Where the OTel Python exporter reads it (agentreel sends it there).
            info = error_details_pb2.RetryInfo.FromString(value)
            return float(info.retry_delay.seconds + info.retry_delay.nanos / 1e9)
        if key != "grpc-status-details-bin" or not isinstance(value, bytes):
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            info = error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                return float(info.retry_delay.seconds + info.retry_delay.nanos / 1e9)
    return None


class GrpcExporter:
    """OTLP/gRPC sender on its own channel.

    It calls ``TraceService/Export`` with the already-serialized request (an identity
    request serializer) so that the client, which shares the machine's cores with the
    server, does not spend CPU re-encoding every request.
    """

    protocol = "grpc"

    def __init__(self, target: str, use_gzip: bool) -> None:
        self.channel = grpc.insecure_channel(
            target,
            options=[
                ("grpc.max_send_message_length", -1),
                ("grpc.max_receive_message_length", -1),
                ("grpc.use_local_subchannel_pool", 1),
            ],
        )
        self.call = self.channel.unary_unary(
            _EXPORT_METHOD,
            request_serializer=None,
            response_deserializer=ExportTraceServiceResponse.FromString,
        )
        self.compression = grpc.Compression.Gzip if use_gzip else None

    def export(self, p: Payload) -> tuple[int, int]:
        """Send one request; return ``(rejected spans, wire bytes)``."""
        try:
            resp = self.call(p.body, timeout=120.0, compression=self.compression)
        except grpc.RpcError as e:
            code = e.code() if isinstance(e, grpc.Call) else None
            details = e.details() if isinstance(e, grpc.Call) else str(e)
            if code in _RETRYABLE_GRPC and "larger than max" not in (details or ""):
                raise RetryableError(f"grpc {code}", _grpc_retry_delay(e)) from e
            raise RuntimeError(f"grpc {code}: {details}") from e
        return int(resp.partial_success.rejected_spans), len(p.body)

    def close(self) -> None:
        """Close the channel."""
        self.channel.close()


Exporter = HttpExporter | GrpcExporter


def send_one(exp: Exporter, p: Payload, stats: SendStats, max_retries: int) -> None:
    """Send ``p``, backing off and retrying the same request while told to."""
    retries = 0
    backoff = 0.1
    while True:
        t = time.perf_counter()
        try:
            rejected, wire = exp.export(p)
        except RetryableError as e:
            if retries >= max_retries:
                stats.fail(p, retries, f"{e} (gave up after {retries} retries)")
                return
            retries += 1
            delay = e.delay if e.delay is not None else backoff
            backoff = min(backoff * 2, 5.0)
            time.sleep(min(delay, 30.0))
            continue
        except Exception as e:
            stats.fail(p, retries, str(e))
            return
        stats.record(exp.protocol, p, wire, rejected, retries, time.perf_counter() - t)
        return


def split_protocols(
    payloads: Sequence[Payload], protocol: str, grpc_share: float
) -> dict[str, list[Payload]]:
    """Assign payloads to protocols: ``both`` interleaves them by ``grpc_share``."""
    if protocol != "both":
        return {protocol: list(payloads)}
    out: dict[str, list[Payload]] = {"http": [], "grpc": []}
    for i, p in enumerate(payloads):
        to_grpc = int((i + 1) * grpc_share) > int(i * grpc_share)
        out["grpc" if to_grpc else "http"].append(p)
    return {k: v for k, v in out.items() if v}


def thread_plan(queues: dict[str, list[Payload]], threads: int) -> list[str]:
    """Return one protocol name per client thread, proportional to the work."""
    total = sum(sum(p.spans for p in q) for q in queues.values()) or 1
    plan: list[str] = []
    for proto, q in queues.items():
        share = sum(p.spans for p in q) / total
        plan += [proto] * max(1, round(threads * share))
    return plan


def run_senders(
    server: Server,
    payloads: Sequence[Payload],
    *,
    protocol: str,
    grpc_share: float,
    threads: int,
    use_gzip: bool,
    max_retries: int,
) -> tuple[SendStats, list[threading.Thread], Callable[[], None]]:
    """Start the sender threads; return the shared stats, the threads and a closer."""
    if server.grpc_target is None and protocol != "http":
        protocol = "http"
    queues = split_protocols(payloads, protocol, grpc_share)
    stats = SendStats()
    locks = {k: threading.Lock() for k in queues}
    cursors = dict.fromkeys(queues, 0)
    exporters: list[Exporter] = []

    def next_payload(proto: str) -> Payload | None:
        with locks[proto]:
            i = cursors[proto]
            if i >= len(queues[proto]):
                return None
            cursors[proto] = i + 1
            return queues[proto][i]

    def worker(exp: Exporter) -> None:
        while (p := next_payload(exp.protocol)) is not None:
            send_one(exp, p, stats, max_retries)

    workers: list[threading.Thread] = []
    for i, proto in enumerate(thread_plan(queues, threads)):
        exp: Exporter
        if proto == "grpc":
            assert server.grpc_target is not None
            exp = GrpcExporter(server.grpc_target, use_gzip)
        else:
            exp = HttpExporter(server.http_url, use_gzip)
        exporters.append(exp)
        workers.append(
            threading.Thread(target=worker, args=(exp,), name=f"send-{proto}-{i}", daemon=True)
        )

    def close() -> None:
        for e in exporters:
            e.close()

    for w in workers:
        w.start()
    return stats, workers, close


# --------------------------------------------------------------------------- counting


class Counter:
    """How a target reports what it has persisted."""

    def spans(self) -> int | None:
        """Spans stored and queryable (``None`` when the query failed)."""
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        """Everything the target reports about its store."""
        raise NotImplementedError

    def disk_bytes(self) -> int | None:
        """Bytes on disk of the target's store (``None`` when unknown)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the HTTP client."""


class AgentreelCounter(Counter):
    """Counts through ``GET /api/v1/stats``."""

    def __init__(self, server: Server) -> None:
        self.url = server.http_url.rstrip("/") + "/api/v1/stats"
        self.client = httpx.Client(timeout=10.0)
        self.last: dict[str, Any] = {}

    def _get(self) -> dict[str, Any] | None:
        """Fetch the stats document."""
        try:
            r = self.client.get(self.url)
            if r.status_code == 200:
                doc = r.json()
                if isinstance(doc, dict):
                    self.last = doc
                    return doc
        except (httpx.HTTPError, ValueError):
            pass
        return None

    def spans(self) -> int | None:
        """Return ``spans`` of the stats document."""
        doc = self._get()
        return int(doc["spans"]) if doc and "spans" in doc else None

    def details(self) -> dict[str, Any]:
        """Return the whole stats document."""
        return self._get() or self.last

    def disk_bytes(self) -> int | None:
        """Return ``storage_bytes`` of the stats document."""
        doc = self.details()
        return int(doc["storage_bytes"]) if "storage_bytes" in doc else None

    def close(self) -> None:
        """Release the HTTP client."""
        self.client.close()


class PhoenixCounter(Counter):
    """Counts spans with Phoenix's GraphQL API (``Project.recordCount``)."""

    QUERY = "{ projects { edges { node { name recordCount traceCount } } } }"

    def __init__(self, server: Server) -> None:
        self.url = server.http_url.rstrip("/") + "/graphql"
        self.client = httpx.Client(timeout=30.0)
        self.data_dir = server.data_dir
        self.last: dict[str, Any] = {}

    def _projects(self) -> list[dict[str, Any]] | None:
        """Return the project nodes."""
        try:
            r = self.client.post(self.url, json={"query": self.QUERY})
            edges = r.json()["data"]["projects"]["edges"]
            return [e["node"] for e in edges]
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None

    def spans(self) -> int | None:
        """Return the span count summed over projects."""
        nodes = self._projects()
        return None if nodes is None else sum(int(n["recordCount"]) for n in nodes)

    def details(self) -> dict[str, Any]:
        """Return span and trace counts summed over projects."""
        nodes = self._projects()
        if nodes is not None:
            self.last = {
                "spans": sum(int(n["recordCount"]) for n in nodes),
                "traces": sum(int(n["traceCount"]) for n in nodes),
            }
        return self.last

    def disk_bytes(self) -> int | None:
        """Return the bytes of Phoenix's working directory (SQLite db, WAL, files)."""
        return dir_bytes(self.data_dir) if self.data_dir else None

    def close(self) -> None:
        """Release the HTTP client."""
        self.client.close()


# --------------------------------------------------------------------------- one target


@dataclass
class Result:
    """Figures measured for one target."""

    name: str
    spans_sent: int
    requests: int
    otlp_bytes: int
    wire_bytes: int
    protocols: dict[str, int]
    threads: int
    send_seconds: float
    accepted_spans_s: float
    persisted: bool
    persist_seconds: float | None
    persisted_spans_s: float | None
    spans_counted: int
    retries: int
    spans_rejected: int
    spans_failed: int
    errors: list[str]
    p50_request_s: float | None
    p99_request_s: float | None
    disk_bytes: int | None
    disk_bytes_per_span: float | None
    disk_ratio: float | None
    data_dir_bytes: int | None
    data_dir_baseline: int
    peak_rss_bytes: int | None
    vmhwm_bytes: int | None
    rss_samples: int
    server_cpu_seconds: float | None
    client_cpu_seconds: float
    stats: dict[str, Any]


def _quantile(values: list[float], q: float) -> float | None:
    """Return the ``q`` quantile of ``values`` (nearest rank)."""
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def _wait_threads(threads: Sequence[threading.Thread], timeout: float) -> None:
    """Sleep ``timeout`` seconds, waking early when the last running thread ends."""
    alive = [t for t in threads if t.is_alive()]
    if not alive:
        time.sleep(timeout)
        return
    end = time.perf_counter() + timeout
    for t in alive:
        t.join(max(0.0, end - time.perf_counter()))


def measure(
    server: Server,
    counter: Counter,
    payloads: Sequence[Payload],
    args: argparse.Namespace,
    *,
    protocol: str,
    poll: float,
) -> Result:
    """Send ``payloads`` to ``server`` and measure until they are all persisted."""
    name = server.name
    expected = sum(p.spans for p in payloads)
    baseline_spans = counter.spans() or 0
    baseline_disk = counter.disk_bytes() or 0
    baseline_dir = dir_bytes(server.data_dir) if server.data_dir else 0
    rss = RssSampler(server.pid)
    rss.sample()
    cpu0 = tree_cpu_seconds(server.pid) if server.pid else 0.0
    client_cpu0 = time.process_time()

    t0 = time.perf_counter()
    stats, workers, close = run_senders(
        server,
        payloads,
        protocol=protocol,
        grpc_share=args.grpc_share,
        threads=args.threads,
        use_gzip=args.gzip,
        max_retries=args.max_retries,
    )
    send_end: float | None = None
    persist_at: float | None = None
    counted = 0
    last_print = 0.0
    deadline = t0 + args.persist_timeout
    while True:
        now = time.perf_counter()
        if send_end is None and not any(w.is_alive() for w in workers):
            send_end = now
        n = counter.spans()
        if n is not None:
            counted = n - baseline_spans
        rss_now = rss.sample()
        target = stats.spans_acked if send_end is not None else expected
        if counted >= target > 0 and send_end is not None:
            persist_at = time.perf_counter()
            break
        if send_end is not None and stats.spans_acked == 0:
            break
        if now > deadline:
            log(
                f"[{name}] persist timeout: {counted:,} of {target:,} spans counted"
                " (an earlier run with the same --seed? the server deduplicates spans)"
            )
            break
        if now - last_print >= 1.0 and not args.quiet:
            last_print = now
            el = now - t0
            log(
                f"[{name}] {el:6.1f}s  acked {stats.spans_acked:>9,}/{expected:,}"
                f"  persisted {counted:>9,}"
                + (f"  rss {rss_now / _MIB:,.0f} MiB" if server.pid else "")
                + (f"  retries {stats.retries}" if stats.retries else "")
            )
        _wait_threads(workers, poll)
    for w in workers:
        w.join()
    close()
    if send_end is None:
        send_end = time.perf_counter()
    send_s = send_end - t0
    persist_s = persist_at - t0 if persist_at is not None else None
    log(f"[{name}] sent in {send_s:.2f}s; persisted in {persist_s or float('nan'):.2f}s")

    # Let background merges settle before reading the disk figure.
    disk = counter.disk_bytes()
    settle_end = time.perf_counter() + args.settle
    while time.perf_counter() < settle_end:
        time.sleep(min(1.0, args.settle))
        rss.sample()
        now_disk = counter.disk_bytes()
        if now_disk == disk and now_disk is not None:
            break
        disk = now_disk
    details = counter.details()
    cpu = tree_cpu_seconds(server.pid) - cpu0 if server.pid else None
    disk_delta = disk - baseline_disk if disk is not None else None
    spans_ok = stats.spans_acked
    return Result(
        name=name,
        spans_sent=expected,
        requests=stats.requests,
        otlp_bytes=stats.otlp_bytes_acked,
        wire_bytes=stats.wire_bytes,
        protocols=dict(stats.by_protocol),
        threads=len(workers),
        send_seconds=send_s,
        accepted_spans_s=spans_ok / send_s if send_s > 0 else 0.0,
        persisted=persist_at is not None,
        persist_seconds=persist_s,
        persisted_spans_s=spans_ok / persist_s if persist_s else None,
        spans_counted=counted,
        retries=stats.retries,
        spans_rejected=stats.spans_rejected,
        spans_failed=stats.spans_failed,
        errors=stats.errors,
        p50_request_s=_quantile(stats.latencies, 0.5),
        p99_request_s=_quantile(stats.latencies, 0.99),
        disk_bytes=disk_delta,
        disk_bytes_per_span=disk_delta / spans_ok if disk_delta is not None and spans_ok else None,
        disk_ratio=(
            disk_delta / stats.otlp_bytes_acked
            if disk_delta is not None and stats.otlp_bytes_acked
            else None
        ),
        data_dir_bytes=None,
        data_dir_baseline=baseline_dir,
        peak_rss_bytes=max(rss.peak_tree, rss.hwm()) if server.pid else None,
        vmhwm_bytes=rss.hwm() if server.pid else None,
        rss_samples=rss.samples,
        server_cpu_seconds=cpu,
        client_cpu_seconds=time.process_time() - client_cpu0,
        stats=details,
    )


#: Settings the harness gives the server itself; the caller's other ``AGENTREEL_*`` are passed on.
_HARNESS_SETTINGS = {
    "AGENTREEL_DATA_DIR",
    "AGENTREEL_HTTP_PORT",
    "AGENTREEL_GRPC_PORT",
    "AGENTREEL_HOST",
}


def launch_agentreel(server_cmd: str | None, work: Path, timeout: float) -> RunningServer:
    """``agentreel serve`` on ``work``/data and two free ports, healthy, its log in ``work``.

    Started by the tests' harness (``server_cmd``, else this interpreter's ``-m agentreel``),
    with this process's ``AGENTREEL_*`` settings (storage tuning, redaction, ...).
    """
    settings = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("AGENTREEL_") and k not in _HARNESS_SETTINGS
    }
    command = server_cmd.split() if server_cmd else (sys.executable, "-m", "agentreel")
    log(f"[agentreel] starting: {' '.join(command)} serve")
    return start_server(
        work / "data", settings, command=command, log_path=work / "server.log", timeout=timeout
    )


def bench_agentreel(wl: Workload, args: argparse.Namespace) -> Result:
    """Start (or attach to) agentreel and measure the whole workload."""
    if args.url:
        parts = urlsplit(args.url)
        grpc_target = args.grpc_target or f"{parts.hostname}:4317"
        server = Server("agentreel", args.url.rstrip("/"), grpc_target, pid=args.pid)
        wait_ready(server, "/healthz", args.start_timeout)
        return _bench_agentreel(server, wl, args)
    work = Path(tempfile.mkdtemp(prefix="agentreel-bench-"))
    data = work / "data"
    running: RunningServer | None = None
    try:
        running = launch_agentreel(args.server_cmd, work, args.start_timeout)
        server = Server.of(running)
        result = _bench_agentreel(server, wl, args)
        code = running.stop()
        result.data_dir_bytes = dir_bytes(data) - result.data_dir_baseline
        if code not in (0, -signal.SIGTERM):
            log(f"[agentreel] exited with {code}:\n{server.log_tail()}")
        return result
    finally:
        if running is not None:
            running.stop()
        if args.keep_data:
            log(f"[agentreel] data and log kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _bench_agentreel(server: Server, wl: Workload, args: argparse.Namespace) -> Result:
    """Measure agentreel on the full workload."""
    counter = AgentreelCounter(server)
    try:
        return measure(server, counter, wl.payloads, args, protocol=args.protocol, poll=args.poll)
    finally:
        counter.close()


def find_phoenix(args: argparse.Namespace) -> list[str] | None:
    """Return the command that runs Phoenix, or ``None`` when it is not available."""
    if args.no_phoenix:
        return None
    if args.phoenix_cmd:
        return [*args.phoenix_cmd.split(), "serve"]
    found = shutil.which("phoenix")
    if found:
        return [found, "serve"]
    try:
        import importlib.util

        if importlib.util.find_spec("phoenix.server.main") is not None:
            return [sys.executable, "-m", "phoenix.server.main", "serve"]
    except (ImportError, ValueError):
        pass
    return None


def bench_phoenix(cmd: list[str], wl: Workload, args: argparse.Namespace) -> Result:
    """Run Phoenix on a temporary working dir and measure a prefix of the workload."""
    work = Path(tempfile.mkdtemp(prefix="phoenix-bench-"))
    data = work / "phoenix"
    data.mkdir()
    port, grpc_port = free_port(), free_port()
    env = {
        "PHOENIX_WORKING_DIR": str(data),
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    log_path = work / "phoenix.log"
    proc = spawn("phoenix", cmd, env, work, log_path)
    server = Server(
        "phoenix",
        f"http://127.0.0.1:{port}",
        None,
        proc=proc,
        pid=proc.pid,
        data_dir=data,
        log_path=log_path,
    )
    counter = PhoenixCounter(server)
    try:
        wait_ready(server, "/healthz", args.start_timeout)
        payloads = wl.head(args.phoenix_spans).payloads
        result = measure(server, counter, payloads, args, protocol="http", poll=max(args.poll, 0.5))
        server.stop()
        # After a clean shutdown SQLite has checkpointed its WAL into the database.
        result.data_dir_bytes = dir_bytes(data) - result.data_dir_baseline
        return result
    finally:
        counter.close()
        server.stop()
        if args.keep_data:
            log(f"[phoenix] working dir and log kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    """Describe this machine (cores, CPU model, memory)."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_bytes": mem}


def _fmt(v: float | None, spec: str, suffix: str = "") -> str:
    """Format ``v`` or a dash."""
    return "-" if v is None else format(v, spec) + suffix


def _ratio(a: float | None, b: float | None) -> float | None:
    """Return ``a / b`` when both are known and ``b`` is non-zero."""
    return a / b if a is not None and b else None


def verdicts(r: Result) -> dict[str, bool | None]:
    """Return PASS (True) / MISS (False) / unknown (None) per target."""
    return {
        "persisted_spans_s": (
            r.persisted_spans_s is not None and r.persisted_spans_s >= TARGET_PERSISTED_SPANS_S
        ),
        "peak_rss": None if r.peak_rss_bytes is None else r.peak_rss_bytes <= TARGET_RSS_BYTES,
        "disk_ratio": None if r.disk_ratio is None else r.disk_ratio <= TARGET_DISK_RATIO,
    }


def render(
    wl: Workload, ref: dict[str, float], agent: Result | None, phoenix: Result | None
) -> str:
    """Return the human-readable report table."""
    lines = [
        f"workload: {wl.spans:,} spans in {wl.runs:,} runs ({wl.llm_spans:,} LLM calls), "
        f"{len(wl.payloads)} requests, {wl.bytes_per_span:,.0f} B OTLP/span; "
        f"typical request: gzip {ref['gzip_ratio']:.1%}, xz {ref['xz_ratio']:.1%}",
    ]
    for r in (agent, phoenix):
        if r is not None:
            proto = ", ".join(f"{k} {v:,}" for k, v in sorted(r.protocols.items()))
            lines.append(
                f"{r.name}: {r.spans_sent:,} spans, {r.threads} threads ({proto}), "
                f"{r.retries} retries, {r.spans_rejected} rejected, {r.spans_failed} failed"
            )
    lines.append("")
    head = f"{'':34s}{'agentreel':>14s}{'Phoenix':>14s}{'ratio':>10s}   target        result"
    lines += [head, "-" * len(head)]
    verdict = verdicts(agent) if agent else {}

    def row(
        label: str,
        get: Callable[[Result], float | None],
        spec: str,
        target: str = "",
        key: str = "",
        suffix: str = "",
        compare: bool = True,
    ) -> None:
        a = get(agent) if agent else None
        p = get(phoenix) if phoenix else None
        ratio = _fmt(_ratio(a, p), ".2f", "x") if compare else ""
        ok = verdict.get(key) if key else None
        mark = "" if not key or agent is None else "n/a" if ok is None else "PASS" if ok else "MISS"
        lines.append(
            f"{label:34s}{_fmt(a, spec, suffix):>14s}{_fmt(p, spec, suffix):>14s}"
            f"{ratio:>10s}   {target:14s}{mark}"
        )

    row("accepted spans/s", lambda r: r.accepted_spans_s, ",.0f")
    row(
        "persisted spans/s",
        lambda r: r.persisted_spans_s,
        ",.0f",
        f">= {TARGET_PERSISTED_SPANS_S:,.0f}",
        "persisted_spans_s",
    )
    row("time to persist all (s)", lambda r: r.persist_seconds, ",.1f", compare=False)
    row(
        "server peak RSS (MiB)",
        lambda r: r.peak_rss_bytes / _MIB if r.peak_rss_bytes is not None else None,
        ",.0f",
        f"<= {TARGET_RSS_BYTES // _MIB:,}",
        "peak_rss",
    )
    row("on-disk bytes/span", lambda r: r.disk_bytes_per_span, ",.0f")
    row(
        "on-disk / OTLP bytes received",
        lambda r: r.disk_ratio * 100 if r.disk_ratio is not None else None,
        ".2f",
        f"<= {TARGET_DISK_RATIO:.0%}",
        "disk_ratio",
        "%",
    )
    row(
        "data dir after stop / OTLP bytes",
        lambda r: (
            r.data_dir_bytes / r.otlp_bytes * 100 if r.data_dir_bytes and r.otlp_bytes else None
        ),
        ".2f",
        suffix="%",
    )
    row(
        "server CPU s per 10k spans",
        lambda r: (
            r.server_cpu_seconds / r.spans_sent * 10_000
            if r.server_cpu_seconds is not None and r.spans_sent
            else None
        ),
        ".2f",
    )
    row("request latency p50 (ms)", lambda r: r.p50_request_s and r.p50_request_s * 1000, ",.0f")
    row("request latency p99 (ms)", lambda r: r.p99_request_s and r.p99_request_s * 1000, ",.0f")
    lines.append("ratio = agentreel / Phoenix (per-span figures; Phoenix ran fewer spans)")
    for r in (agent, phoenix):
        if r is not None and r.errors:
            lines.append(f"{r.name} errors: " + "; ".join(r.errors[:5]))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    ap = argparse.ArgumentParser(
        description="Benchmark OTLP ingest of realistic agent traces (agentreel vs Phoenix).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    w = ap.add_argument_group("workload")
    w.add_argument("--spans", type=int, default=60_000, help="spans to send to agentreel")
    w.add_argument("--seed", type=int, default=1, help="generator seed (deterministic)")
    w.add_argument("--batch-spans", type=int, default=512, help="max spans per request")
    w.add_argument("--concurrency", type=int, default=8, help="simulated concurrent agent runs")
    w.add_argument("--steps", default="5-11", help="LLM calls per run, LO-HI")
    s = ap.add_argument_group("sending")
    s.add_argument("--threads", type=int, default=4, help="client threads")
    s.add_argument("--protocol", choices=("both", "http", "grpc"), default="both")
    s.add_argument(
        "--grpc-share", type=float, default=0.5, help="share of requests over gRPC (both)"
    )
    s.add_argument("--gzip", action="store_true", help="gzip request bodies")
    s.add_argument("--max-retries", type=int, default=100, help="per request")
    t = ap.add_argument_group("agentreel server")
    t.add_argument("--server-cmd", help="agentreel command; None: this python's -m agentreel")
    t.add_argument("--url", help="benchmark an already-running server at this HTTP URL")
    t.add_argument("--grpc-target", help="host:port of its gRPC receiver (with --url)")
    t.add_argument("--pid", type=int, help="its process id, to report RSS (with --url)")
    t.add_argument("--no-agentreel", action="store_true", help="skip agentreel")
    t.add_argument("--keep-data", action="store_true", help="keep temp data dirs and logs")
    p = ap.add_argument_group("Phoenix")
    p.add_argument(
        "--phoenix-cmd",
        help="phoenix executable; None: `phoenix` on PATH, else the importable package",
    )
    p.add_argument("--phoenix-spans", type=int, default=3000, help="spans to send to Phoenix")
    p.add_argument("--no-phoenix", action="store_true", help="skip Phoenix")
    m = ap.add_argument_group("measurement")
    m.add_argument("--poll", type=float, default=0.2, help="stats poll interval (s)")
    m.add_argument("--persist-timeout", type=float, default=900.0, help="seconds")
    m.add_argument("--start-timeout", type=float, default=120.0, help="seconds")
    m.add_argument("--settle", type=float, default=5.0, help="max wait for disk size (s)")
    m.add_argument("--json", metavar="FILE", help="write results as JSON ('-' = stdout)")
    m.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    m.add_argument("--quiet", action="store_true", help="no progress lines")
    return ap.parse_args(argv)


def _steps(text: str) -> tuple[int, int]:
    """Parse ``LO-HI``."""
    lo, _, hi = text.partition("-")
    return int(lo), int(hi or lo)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return the process exit code."""
    args = parse_args(argv)
    phoenix_cmd = find_phoenix(args)
    spans = 0 if args.no_agentreel else args.spans
    if phoenix_cmd:
        spans = max(spans, args.phoenix_spans)
    if not spans:
        raise SystemExit("nothing to benchmark (--no-agentreel and no Phoenix)")
    cfg = GenConfig(
        seed=args.seed,
        spans=spans,
        batch_spans=args.batch_spans,
        concurrency=args.concurrency,
        steps=_steps(args.steps),
    )
    log(f"generating {spans:,} spans ...")
    full = generate(cfg, gzip_bodies=args.gzip)
    typical = full.typical()
    ref = {
        "gzip_ratio": gzip_ratio(typical.body),
        "xz_ratio": len(lzma.compress(typical.body)) / len(typical.body),
    }
    log(
        f"generated {full.spans:,} spans in {full.runs:,} runs, {len(full.payloads)} requests,"
        f" {full.bytes_per_span:,.0f} B/span, in {full.seconds:.1f}s;"
        f" typical request gzip {ref['gzip_ratio']:.1%}, xz {ref['xz_ratio']:.1%}"
    )
    wl = full if args.no_agentreel else full.head(args.spans)

    agent = None if args.no_agentreel else bench_agentreel(wl, args)
    phoenix = bench_phoenix(phoenix_cmd, full, args) if phoenix_cmd else None
    if phoenix_cmd is None and not args.no_phoenix:
        log("Phoenix not found (pass --phoenix-cmd to compare); skipped")

    report = render(wl, ref, agent, phoenix)
    print(report, file=sys.stderr if args.json == "-" else sys.stdout)
    verdict = verdicts(agent) if agent else {}
    if args.json:
        doc = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": machine(),
            "args": vars(args),
            "workload": {
                "spans": wl.spans,
                "runs": wl.runs,
                "llm_spans": wl.llm_spans,
                "requests": len(wl.payloads),
                "otlp_bytes": wl.otlp_bytes,
                "bytes_per_span": wl.bytes_per_span,
                **ref,
            },
            "targets": {
                "persisted_spans_s": TARGET_PERSISTED_SPANS_S,
                "peak_rss_bytes": TARGET_RSS_BYTES,
                "disk_ratio": TARGET_DISK_RATIO,
            },
            "agentreel": asdict(agent) if agent else None,
            "phoenix": asdict(phoenix) if phoenix else None,
            "verdict": verdict,
            "ratios": {
                k: _ratio(getattr(agent, k), getattr(phoenix, k))
                for k in (
                    "accepted_spans_s",
                    "persisted_spans_s",
                    "disk_bytes_per_span",
                    "disk_ratio",
                    "peak_rss_bytes",
                )
            }
            if agent and phoenix
            else None,
        }
        text = json.dumps(doc, indent=2, default=str)
        if args.json == "-":
            print(text)
        else:
            out = Path(args.json)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text + "\n")
    failed = any(r is not None and r.spans_failed for r in (agent, phoenix))
    if failed:
        return 2
    if args.strict and any(v is False for v in verdict.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
