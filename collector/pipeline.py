"""Bounded queue and one batching writer thread.

Receivers hand a normalized batch to :meth:`Pipeline.submit` and wait on the returned future,
which resolves once the batch is in the store: an OTLP request is acknowledged only after
what it carried is written. When more spans wait than the queue allows, ``submit`` refuses
at once with :class:`Busy` (the receiver answers 429/UNAVAILABLE with a retry hint); when
the store fails, the futures fail and the receivers answer 503, so exporters retry and
nothing acknowledged is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from .model import Batch

log = logging.getLogger("agentreel.collector")

#: Seconds a busy receiver tells the client to wait before retrying.
RETRY_AFTER_SECONDS = 1
#: The writer stops waiting for more once nothing new has arrived for this long: clients
#: wait for their acknowledgement, so past a short pause no more data is coming.
LINGER_IDLE_SECONDS = 0.01


class Busy(RuntimeError):
    """The queue is full: retry later (HTTP 429, gRPC UNAVAILABLE)."""


class Stopped(RuntimeError):
    """The pipeline is shutting down: retry against the next instance (HTTP 503)."""


class PermanentWriteError(ValueError):
    """The store answers but refuses this request's data: retrying cannot help (400)."""


@dataclass(slots=True)
class _Pending:
    batch: Batch
    future: Future[Any]
    size: int


class Pipeline:
    """Accepts normalized batches and writes them in larger batches from one thread.

    ``write`` is called with ``(spans, messages)`` and returns whatever the writer reports;
    it runs only on the pipeline's thread. ``shutdown()`` is safe without ``start()`` and
    always writes what was accepted.
    """

    def __init__(
        self,
        write: Callable[[list[Any], list[Any]], Any],
        *,
        max_queued_spans: int,
        batch_spans: int,
        flush_interval: float,
        linger_idle: float = LINGER_IDLE_SECONDS,
        on_written: Callable[[int, float], None] | None = None,
        store_answers: Callable[[], bool] | None = None,
        more_coming: Callable[[], bool] | None = None,
    ) -> None:
        self._store_answers = store_answers
        self._more_coming = more_coming
        self._write = write
        self._linger_idle = linger_idle
        self._max_queued = max_queued_spans
        self._batch_spans = batch_spans
        self._flush_interval = flush_interval
        self._on_written = on_written
        self._queue: deque[_Pending] = deque()
        self._queued_spans = 0
        self._cond = threading.Condition()
        self._last_submit = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None

    @property
    def queued_spans(self) -> int:
        return self._queued_spans

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="agentreel-writer", daemon=True)
            self._thread.start()

    def submit(self, batch: Batch) -> Future[Any]:
        """Queue ``batch``; the future resolves when it is written."""
        size = len(batch.spans) + len(batch.messages)
        future: Future[Any] = Future()
        # Running from the start: a receiver that stops waiting cannot cancel it, so the
        # writer can always report the outcome (and the data is written either way).
        future.set_running_or_notify_cancel()
        with self._cond:
            if self._stopping:
                raise Stopped("agentreel is shutting down")
            # One request larger than the whole queue is still taken when the queue is empty,
            # or it could never be accepted.
            if self._queued_spans and self._queued_spans + size > self._max_queued:
                raise Busy(f"{self._queued_spans} spans are waiting to be written")
            self._queue.append(_Pending(batch, future, size))
            self._queued_spans += size
            self._last_submit = time.monotonic()
            self._cond.notify()
        return future

    def shutdown(self, timeout: float = 60.0) -> None:
        """Stop taking batches, write everything queued, stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                # Still writing: writing beside it on the same client is not safe.
                log.error(
                    "the writer did not finish within %.0f s; %d spans left unwritten",
                    timeout,
                    self._queued_spans,
                )
                return
            self._thread = None
        # Never started: write what is queued here.
        while self._queue:
            self._flush(self._take_all())

    def _run(self) -> None:
        while True:
            try:
                if not self._run_once():
                    return
            except Exception:  # the writer must outlive any one batch
                log.exception("writer loop error; carrying on")

    def _run_once(self) -> bool:
        """Write one batch; False once stopped and drained."""
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if not self._queue and self._stopping:
                return False
            # Wait a little for more, so inserts are large (a 20k-span insert costs half the
            # CPU per span of a 2k one, measured): up to the flush interval while data keeps
            # coming, or while requests are still being decoded. Otherwise write at once:
            # group commit, where what arrives during a write goes into the next one.
            deadline = time.monotonic() + self._flush_interval
            while self._queued_spans < self._batch_spans and not self._stopping:
                now = time.monotonic()
                if now >= deadline:
                    break
                idle_until = self._last_submit + self._linger_idle
                if now >= idle_until:
                    if self._more_coming is None or not self._more_coming():
                        break
                    idle_until = now + self._linger_idle
                self._cond.wait(min(deadline, idle_until) - now)
            taken = self._take(self._batch_spans)
        self._flush(taken)
        return True

    def _take(self, limit: int) -> list[_Pending]:
        taken: list[_Pending] = []
        size = 0
        while self._queue and (not taken or size + self._queue[0].size <= limit):
            item = self._queue.popleft()
            taken.append(item)
            size += item.size
            self._queued_spans -= item.size
        return taken

    def _take_all(self) -> list[_Pending]:
        with self._cond:
            return self._take(1 << 62)

    def _flush(self, taken: list[_Pending]) -> None:
        """Write ``taken`` together; if that fails, find out whose data is at fault.

        A store that does not answer fails every request with a retryable error. A store that
        answers but refused the batch means some request's data is wrong: each request is
        then written alone, and only those refused fail, permanently, so one bad request
        never holds back the others it was batched with.
        """
        if not taken:
            return
        try:
            self._write_together(taken)
            return
        except Exception as exc:
            error = exc
        store_answers = self._store_answers is not None and self._answers()
        if not store_answers:
            log.error("writing %d requests failed: %s", len(taken), error)
            for pending in taken:
                pending.future.set_exception(error)
            return
        log.warning(
            "the store refused a batch (%s); writing its %d requests one by one", error, len(taken)
        )
        for pending in taken:
            try:
                if len(taken) > 1:
                    self._write_together([pending])
                    continue
            except Exception as exc:
                error = exc
            pending.future.set_exception(
                PermanentWriteError(f"the store refused this request's data: {error}")
            )

    def _answers(self) -> bool:
        assert self._store_answers is not None
        try:
            return self._store_answers()
        except Exception:
            return False

    def _write_together(self, taken: list[_Pending]) -> None:
        spans = [s for p in taken for s in p.batch.spans]
        messages = [m for p in taken for m in p.batch.messages]
        started = time.perf_counter()
        result = self._write(spans, messages)
        elapsed = time.perf_counter() - started
        if self._on_written is not None:
            self._on_written(len(spans), elapsed)
        for pending in taken:
            pending.future.set_result(result)
