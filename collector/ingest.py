"""The receiver-independent part of taking an OTLP request: decode, normalize, queue.

Both receivers (gRPC and HTTP) call :meth:`Ingest.take` and translate its errors once, at
their edge: :class:`~.decode.DecodeError` is permanent (400 / INVALID_ARGUMENT),
:class:`~.decode.TooLarge` is 413 / RESOURCE_EXHAUSTED, :class:`~.pipeline.Busy` and
:class:`~.pipeline.Stopped` are retryable (429, 503 / UNAVAILABLE).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from .content import ContentCache
from .decode import inflate
from .metrics import Metrics
from .model import Batch, Decoded
from .normalize import normalize_logs, normalize_spans
from .pipeline import Pipeline

Signal = Literal["traces", "logs"]

#: How many rejection reasons one partial_success message lists before summarizing.
MAX_REASONS = 5


@dataclass(slots=True)
class Taken:
    """A request queued for writing; wait on ``future`` before acknowledging it."""

    future: Future[Any]
    rejected: int
    message: str


class Ingest:
    """Decodes and normalizes on one dedicated thread, then queues for the writer.

    One thread on purpose: the work is CPU-bound Python, and with several threads each
    release of the GIL (hashing a large string, a store call) hands it to another thread
    for up to a switch interval; measured, four request threads were slower than one.
    """

    def __init__(
        self, pipeline: Pipeline, metrics: Metrics, project: str, max_request_bytes: int
    ) -> None:
        self.pipeline = pipeline
        self.metrics = metrics
        self.project = project
        self.max_request_bytes = max_request_bytes
        self.cache = ContentCache()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentreel-ingest")
        self._in_hand = 0  # requests submitted and not yet queued for the writer
        self._in_hand_lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """True while requests are being decoded: the writer can expect more."""
        return self._in_hand > 0

    def submit(
        self, signal: Signal, decoder: Callable[[bytes], Decoded], body: bytes, encoding: str = ""
    ) -> Future[Taken]:
        """Inflate, decode, normalize and queue ``body`` on the ingest thread.

        The future raises DecodeError, TooLarge, Busy or Stopped as :meth:`take` does.
        """
        with self._in_hand_lock:
            self._in_hand += 1
        return self._thread.submit(self._take_body, signal, decoder, body, encoding)

    def _take_body(
        self, signal: Signal, decoder: Callable[[bytes], Decoded], body: bytes, encoding: str
    ) -> Taken:
        try:
            if encoding:
                body = inflate(body, encoding, self.max_request_bytes)
            return self.take(signal, decoder(body))
        finally:
            with self._in_hand_lock:
                self._in_hand -= 1

    def shutdown(self) -> None:
        self._thread.shutdown(wait=True)

    def take(self, signal: Signal, decoded: Decoded) -> Taken:
        """Normalize and queue ``decoded``. Raises Busy or Stopped when it cannot be queued."""
        received = len(decoded.spans) + len(decoded.logs) + len(decoded.rejected)
        self.metrics.received.labels(signal).inc(received)
        if signal == "traces":
            batch = normalize_spans(decoded, self.project, self.cache)
        else:
            batch = normalize_logs(decoded, self.project)
        future = self.pipeline.submit(batch)
        if batch.rejected:
            self.metrics.rejected.labels(signal).inc(len(batch.rejected))
        return Taken(future, len(batch.rejected), _message(signal, batch))


def _message(signal: Signal, batch: Batch) -> str:
    """The partial_success message: why items were rejected, or warnings when none were."""
    what = "span" if signal == "traces" else "log record"
    if len(batch.rejected) != 1:
        what += "s"
    if batch.rejected:
        reasons = [r.reason for r in batch.rejected[:MAX_REASONS]]
        more = len(batch.rejected) - len(reasons)
        tail = f"; and {more} more" if more > 0 else ""
        return f"{len(batch.rejected)} {what} rejected: {'; '.join(reasons)}{tail}"
    warnings = [f"span {s.span_id}: {w}" for s in batch.spans for w in s.warnings]
    if warnings:
        more = len(warnings) - MAX_REASONS
        tail = f"; and {more} more" if more > 0 else ""
        return "accepted with warnings: " + "; ".join(warnings[:MAX_REASONS]) + tail
    return ""
