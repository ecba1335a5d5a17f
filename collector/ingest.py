"""The receiver-independent part of taking an OTLP request: decode, check, spool, queue.

Both receivers (gRPC and HTTP) call :meth:`Ingest.submit` with the request's project and
translate its errors once, at their edge: :class:`~.decode.DecodeError` is permanent (400 /
INVALID_ARGUMENT), :class:`~.decode.TooLarge` is 413 / RESOURCE_EXHAUSTED,
:class:`~.pipeline.Busy` is 429 / RESOURCE_EXHAUSTED, :class:`~.pipeline.Stopped` and
:class:`~.spool.SpoolFull` are 503 / UNAVAILABLE (both retryable, with a retry hint).

With a spool, a request is safe once :attr:`Taken.durable` resolves (its record is
fsync'ed): the receivers then wait a little for the write (so a client that reads right
after its export sees its data), but acknowledge anyway once that wait is over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Literal

from agentreel.core.content import ContentCache
from agentreel.core.model import Batch, Decoded

from . import decode, errors, memory
from .limits import Limits, enforce
from .metrics import Metrics
from .normalize import normalize_logs, normalize_spans
from .otlp_metrics import DecodedMetrics, decode_metrics_json, decode_metrics_proto
from .pipeline import Busy, Pipeline
from .redact import IngestRedactor
from .spool import Record, Ref, Spool
from .usage import drop_counts_over

Signal = Literal["traces", "logs", "metrics"]
#: How a request body is encoded: OTLP protobuf or OTLP/JSON.
Format = Literal["proto", "json"]

_DECODERS: dict[tuple[str, str], Callable[[bytes, Limits], Decoded]] = {
    ("traces", "proto"): decode.decode_traces_proto,
    ("traces", "json"): decode.decode_traces_json,
    ("logs", "proto"): decode.decode_logs_proto,
    ("logs", "json"): decode.decode_logs_json,
}
_METRIC_DECODERS: dict[str, Callable[[bytes, Limits, int], DecodedMetrics]] = {
    "proto": decode_metrics_proto,
    "json": decode_metrics_json,
}
#: Seconds a receiver waits for a spooled request to be written before acknowledging it
#: anyway (it is safe in the spool); not at all while the store is failing. The default of
#: the ``spool_ack_wait`` setting.
SPOOLED_WRITE_WAIT = 5.0

#: How many rejection reasons one partial_success message lists before summarizing.
MAX_REASONS = 5


@dataclass(slots=True)
class Taken:
    """A request queued for writing; wait on ``future`` before acknowledging it."""

    future: Future[Any]
    rejected: int
    message: str
    #: Resolves once the request is fsync'ed to the spool; None when it was not spooled
    #: (no spool, or nothing in it to keep): then only ``future`` says it is safe.
    durable: Future[None] | None = None
    ack_wait: float = SPOOLED_WRITE_WAIT

    def write_wait(self, pipeline: Pipeline, timeout: float) -> float:
        """How long a receiver should wait for the write before answering."""
        if self.durable is None:
            return timeout
        return min(timeout, self.ack_wait) if pipeline.healthy else 0.0


class Ingest:
    """Decodes and normalizes on one dedicated thread, then queues for the writer.

    One thread on purpose: the work is CPU-bound Python, and with several threads each
    release of the GIL (hashing a large string, a store call) hands it to another thread
    for up to a switch interval; measured, four request threads were slower than one.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        metrics: Metrics,
        project: str,
        max_request_bytes: int,
        spool: Spool | None = None,
        limits: Limits | None = None,
        ack_wait: float = SPOOLED_WRITE_WAIT,
        max_backlog_bytes: int = 1 << 62,
        max_rss_bytes: int = 1 << 62,
    ) -> None:
        self.pipeline = pipeline
        self.metrics = metrics
        #: What the receivers tell a refused client to wait (grows while pushback lasts).
        self.retry_hint = errors.RetryHint()
        #: The project of requests that name none (the receivers pass one per request).
        self.project = project
        self.max_request_bytes = max_request_bytes
        self.spool = spool
        self.ack_wait = ack_wait
        #: Bytes waiting for the writer beyond which new requests are refused (Busy) while
        #: the store is writing: the clients are faster than the store, and a prompt 429
        #: tells them so where a slow acknowledgement would only hold their memory and ours.
        self.max_backlog_bytes = max_backlog_bytes
        #: Resident memory above which requests are refused while the writer is behind by
        #: more than one insert: what holds the memory (decoding, inserts, the store's own
        #: buffers) is then released before more is taken.
        self.max_rss_bytes = max_rss_bytes
        self.limits = limits or Limits(
            max_request_bytes=max_request_bytes, max_decompressed_bytes=max_request_bytes
        )
        self.cache = ContentCache()
        #: Redaction applied to every request before it is normalized (None: none).
        self.redactor: IngestRedactor | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentreel-ingest")
        self._in_hand = 0  # requests submitted and not yet queued for the writer
        self._in_hand_bytes = 0
        # Bodies waiting to be decoded: beyond this the receivers answer 429 (memory bound;
        # one largest request, not two: measured in a flood of many clients, bench/README).
        self._max_in_hand_bytes = max(max_request_bytes, 16 << 20)
        self._in_hand_lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """True while requests are being decoded: the writer can expect more."""
        return self._in_hand > 0

    def admit(self, size: int) -> int:
        """Count ``size`` bytes about to be read as waiting; raises Busy when too many wait
        already (one request is always let in). Hand the result to :meth:`submit` as
        ``admitted``, or to :meth:`release` if the body is never submitted."""
        with self._in_hand_lock:
            if self._in_hand_bytes and self._in_hand_bytes + size > self._max_in_hand_bytes:
                raise Busy(f"{self._in_hand_bytes} bytes of requests are waiting to be decoded")
            self._in_hand_bytes += size
        return size

    def release(self, admitted: int) -> None:
        with self._in_hand_lock:
            self._in_hand_bytes -= admitted

    def submit(
        self,
        signal: Signal,
        fmt: Format,
        body: bytes,
        *,
        project: str,
        encoding: str = "",
        admitted: int = 0,
    ) -> Future[Taken]:
        """Inflate, decode, check, spool and queue ``body`` for ``project`` on the ingest
        thread. Raises Busy at once when too many bytes wait to be decoded (unless they were
        ``admitted`` already); the future raises DecodeError, TooLarge, Busy, Stopped or
        SpoolFull."""
        self.check_backlog(admitted)
        held = admitted or self.admit(len(body))
        with self._in_hand_lock:
            self._in_hand += 1
        return self._thread.submit(self._take_body, signal, fmt, body, encoding, project, held)

    def check_backlog(self, admitted: int = 0) -> None:
        """Raise Busy (releasing ``admitted``, this request's bytes in hand) while the store
        is writing but behind: more than ``max_backlog_bytes`` wait for it, or the server
        holds more than ``max_rss_bytes`` while any other request waits."""
        if not self.pipeline.healthy:
            return
        backlog = self.pipeline.waiting_bytes
        # Others' bodies being read or decoded count too: in a burst they come first.
        waiting = backlog + self._in_hand_bytes - admitted
        why = ""
        if backlog > self.max_backlog_bytes:
            why = f"{backlog} bytes of requests are waiting to be written"
        elif waiting > 0 and (rss := memory.rss_bytes()) > self.max_rss_bytes:
            why = (
                f"{waiting} bytes of requests are waiting and the server holds {rss >> 20} MiB "
                "(max_rss_bytes)"
            )
        if why:
            self.release(admitted)
            raise Busy(why)

    def _take_body(
        self, signal: Signal, fmt: Format, body: bytes, encoding: str, project: str, held: int
    ) -> Taken:
        try:
            record = Record(signal, fmt, encoding, project, time.time_ns(), 0, body)
            if signal == "metrics":
                return self.take_metrics(self._decode_metrics(record, live=True), record)
            decoded = self._decode(record, live=True)
            return self.take(signal, decoded, project, record)
        finally:
            with self._in_hand_lock:
                self._in_hand -= 1
                self._in_hand_bytes -= held

    def _decode(self, record: Record, live: bool) -> Decoded:
        """Decode a request and apply the limits."""
        body = record.body
        if record.encoding:
            body = decode.inflate(body, record.encoding, self.limits)
        decoded = _DECODERS[(record.signal, record.format)](body, self.limits)
        tally = enforce(decoded, self.limits, record.received_ns)
        if live:  # counted when received, not again when replayed
            self.metrics.truncated.inc(tally.truncated)
            self.metrics.dropped_attributes.inc(tally.dropped)
        return decoded

    def _decode_metrics(self, record: Record, live: bool) -> DecodedMetrics:
        body = record.body
        if record.encoding:
            body = decode.inflate(body, record.encoding, self.limits)
        metrics = _METRIC_DECODERS[record.format](body, self.limits, record.received_ns)
        for point in metrics.points:
            point.project = record.project
        if live:  # counted when received, not again when replayed
            for reason, count in metrics.dropped.items():
                self.metrics.metric_points_dropped.labels(reason).inc(count)
        return metrics

    def take_metrics(self, metrics: DecodedMetrics, record: Record) -> Taken:
        """Queue a metrics request's GenAI points (spooled first, as spans are); the other
        points were counted as dropped when decoded."""
        received = len(metrics.points) + len(metrics.rejected)
        self.metrics.received.labels("metrics").inc(received)
        batch = Batch(points=metrics.points)
        ref, durable = None, None
        if self.spool is not None and batch.points:
            if len(record.body) >= self.spool.max_bytes:
                raise decode.TooLarge(
                    f"request of {len(record.body)} bytes is over spool_max_bytes "
                    f"({self.spool.max_bytes})"
                )
            ref, durable = self.spool.append(replace(record, items=len(batch.points)))
        future = self.pipeline.submit(batch, ref, len(record.body))
        if metrics.rejected:
            self.metrics.rejected.labels("metrics").inc(len(metrics.rejected))
        message = ""
        if metrics.rejected:
            shown = metrics.rejected[:MAX_REASONS]
            message = f"{len(metrics.rejected)} data points rejected: " + _listed(
                shown, metrics.rejected
            )
        return Taken(future, len(metrics.rejected), message, durable, self.ack_wait)

    def load(self, ref: Ref) -> Batch:
        """A spooled request's batch, read back from the spool (on the writer thread)."""
        assert self.spool is not None
        record = self.spool.load(ref)
        if record.signal == "metrics":
            return Batch(points=self._decode_metrics(record, live=False).points)
        decoded = self._decode(record, live=False)
        if self.redactor is not None:  # the spool keeps requests as received
            self.redactor.apply(decoded, count=False)
        # A cache of its own: the ingest thread's is not shared across threads.
        if record.signal == "traces":
            batch = normalize_spans(decoded, record.project, None)
            drop_counts_over(batch.spans, self.limits.max_tokens_per_span)
            return batch
        return normalize_logs(decoded, record.project)

    def shutdown(self) -> None:
        self._thread.shutdown(wait=True)

    def take(
        self,
        signal: Signal,
        decoded: Decoded,
        project: str | None = None,
        record: Record | None = None,
    ) -> Taken:
        """Normalize and queue ``decoded`` (spooled first when ``record`` is its request).

        Raises Busy, Stopped or SpoolFull when it cannot be taken.
        """
        project = self.project if project is None else project
        received = len(decoded.spans) + len(decoded.logs) + len(decoded.rejected)
        self.metrics.received.labels(signal).inc(received)
        if self.redactor is not None:
            self.redactor.apply(decoded)
        if signal == "traces":
            batch = normalize_spans(decoded, project, self.cache)
            drop_counts_over(batch.spans, self.limits.max_tokens_per_span)
        else:
            batch = normalize_logs(decoded, project)
        ref, durable = None, None
        if record is not None and self.spool is not None and (batch.spans or batch.messages):
            if len(record.body) >= self.spool.max_bytes:  # could never fit: do not say "retry"
                raise decode.TooLarge(
                    f"request of {len(record.body)} bytes is over spool_max_bytes "
                    f"({self.spool.max_bytes})"
                )
            items = len(batch.spans) + len(batch.messages)
            ref, durable = self.spool.append(replace(record, project=project, items=items))
        future = self.pipeline.submit(batch, ref, len(record.body) if record else 0)
        if batch.rejected:
            self.metrics.rejected.labels(signal).inc(len(batch.rejected))
        return Taken(future, len(batch.rejected), _message(signal, batch), durable, self.ack_wait)


def _message(signal: Signal, batch: Batch) -> str:
    """The partial_success message: why items were rejected, then the warnings on the rest."""
    what = "span" if signal == "traces" else "log record"
    if len(batch.rejected) != 1:
        what += "s"
    parts = []
    if batch.rejected:
        reasons = [r.reason for r in batch.rejected[:MAX_REASONS]]
        parts.append(f"{len(batch.rejected)} {what} rejected: {_listed(reasons, batch.rejected)}")
    warnings = [f"span {s.span_id}: {w}" for s in batch.spans for w in s.warnings]
    if warnings:
        parts.append("accepted with warnings: " + _listed(warnings[:MAX_REASONS], warnings))
    return "; ".join(parts)


def _listed(shown: list[str], every: list[Any]) -> str:
    more = len(every) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
