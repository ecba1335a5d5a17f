"""Bounded queue and one batching writer thread.

Receivers hand a normalized batch to :meth:`Pipeline.submit`, with the spool record it was
saved as when there is a spool. The writer takes batches in the order they came, writes
them in larger batches and reports each spooled record stored (:meth:`Spool.done`).

Without a spool record, a batch is acknowledged only once written: when more spans wait
than the queue allows, ``submit`` refuses at once with :class:`Busy`, and when the store
fails, its future fails (the receivers answer 503, exporters retry). A spooled batch is
already safe on disk: it is always taken, kept in memory only while the queue has room
(otherwise it is read back from the spool when its turn comes, so memory stays bounded),
and when the store fails it stays at the head of the queue and is written again after a
pause, until it is stored; at shutdown what is left stays in the spool for the next start.
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

from agentreel.core.model import Batch

from .spool import Ref

log = logging.getLogger("agentreel.collector")

#: The writer stops waiting for more once nothing new has arrived for this long: clients
#: wait for their acknowledgement, so past a short pause no more data is coming.
LINGER_IDLE_SECONDS = 0.01
#: Most request bytes written in one insert, whatever the span count: 20,000 spans of 30 KB
#: would be 600 MB of rows in Python and again in the store's insert buffers. Measured in a
#: flood of 30 KB spans from 256 clients (bench/README.md, soak): RSS peaked at 1,116 MiB with
#: 32 MiB inserts, under 1 GiB with 16 MiB.
BATCH_BYTES = 16 << 20
#: Seconds without anything to write after which the writer calls ``on_idle`` (once per
#: busy spell): the server hands memory freed by a flood back to the system then.
IDLE_SECONDS = 2.0


class Busy(RuntimeError):
    """The queue is full: retry later (HTTP 429, gRPC UNAVAILABLE)."""


class Stopped(RuntimeError):
    """The pipeline is shutting down: retry against the next instance (HTTP 503)."""


class PermanentWriteError(ValueError):
    """The store answers but refuses this request's data: retrying cannot help (400)."""


@dataclass(slots=True)
class _Pending:
    batch: Batch | None  # None: read it back from the spool when its turn comes
    future: Future[Any]
    size: int  # spans and messages
    ref: Ref | None = None  # the spool record, when spooled
    nbytes: int = 0  # bytes of the request as received


#: Pauses before writing again after the store failed (seconds, doubling up to the last).
RETRY_PAUSES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Pipeline:
    """Accepts normalized batches and writes them in larger batches from one thread.

    ``write`` is called with ``(spans, messages)`` and returns whatever the writer reports;
    it runs only on the pipeline's thread. ``load`` turns a spool record back into a batch
    and ``done`` tells the spool a record is finished (both needed for spooled batches).
    ``shutdown()`` is safe without ``start()`` and writes what was accepted, except that
    spooled batches the store will not take are left in the spool.
    """

    def __init__(
        self,
        write: Callable[..., Any],
        *,
        max_queued_spans: int,
        batch_spans: int,
        flush_interval: float,
        max_queued_bytes: int = 1 << 62,
        batch_bytes: int = BATCH_BYTES,
        linger_idle: float = LINGER_IDLE_SECONDS,
        on_idle: Callable[[], None] | None = None,
        on_written: Callable[[int, float], None] | None = None,
        store_answers: Callable[[], bool] | None = None,
        more_coming: Callable[[], bool] | None = None,
        load: Callable[[Ref], Batch] | None = None,
        done: Callable[[Ref], None] | None = None,
    ) -> None:
        self._store_answers = store_answers
        self._more_coming = more_coming
        self._write = write
        self._load = load
        self._done = done
        self._linger_idle = linger_idle
        self._max_queued = max_queued_spans
        self._max_queued_bytes = max_queued_bytes
        self._batch_spans = batch_spans
        self._batch_bytes = batch_bytes
        self._on_idle = on_idle
        self._busy_since_idle = False
        self._flush_interval = flush_interval
        self._on_written = on_written
        self._queue: deque[_Pending] = deque()
        self._queued_spans = 0  # spans held in memory in the queue
        self._queued_bytes = 0  # their requests' bytes
        self._waiting = 0  # spans waiting, in memory or only in the spool
        self._waiting_bytes = 0  # their requests' bytes
        self._cond = threading.Condition()
        self._last_submit = 0.0
        self._stopping = False
        self._failures = 0  # store failures in a row
        self._thread: threading.Thread | None = None

    @property
    def queued_spans(self) -> int:
        """Spans waiting to be written that are held in memory."""
        return self._queued_spans

    @property
    def waiting_spans(self) -> int:
        """Spans waiting to be written, in memory or only in the spool."""
        return self._waiting

    @property
    def waiting_bytes(self) -> int:
        """Bytes of the requests waiting to be written, in memory or only in the spool."""
        return self._waiting_bytes

    @property
    def healthy(self) -> bool:
        """False while the store is failing writes (spooled data waits for it)."""
        return self._failures == 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="agentreel-writer", daemon=True)
            self._thread.start()

    def submit(self, batch: Batch | None, ref: Ref | None = None, nbytes: int = 0) -> Future[Any]:
        """Queue ``batch`` (from a request of ``nbytes``); the future resolves when it is
        written.

        With ``ref`` (its spool record) the batch is always taken; ``batch`` may then be
        None, to be read back from the spool (replay after a restart).
        """
        size = ref.items if batch is None and ref is not None else _size(batch)
        nbytes = nbytes or (ref.size if ref is not None else 0)
        future: Future[Any] = Future()
        # Running from the start: a receiver that stops waiting cannot cancel it, so the
        # writer can always report the outcome (and the data is written either way).
        future.set_running_or_notify_cancel()
        with self._cond:
            if self._stopping:
                raise Stopped("agentreel is shutting down")
            full = (self._queued_spans and self._queued_spans + size > self._max_queued) or (
                self._queued_bytes and self._queued_bytes + nbytes > self._max_queued_bytes
            )
            if full and ref is None:
                # One request larger than the whole queue is still taken when the queue is
                # empty, or it could never be accepted.
                raise Busy(f"{self._queued_spans} spans are waiting to be written")
            if full or batch is None:
                batch = None  # safe in the spool; read back when its turn comes
            else:
                self._queued_spans += size
                self._queued_bytes += nbytes
            self._queue.append(_Pending(batch, future, size, ref, nbytes))
            self._waiting += size
            self._waiting_bytes += nbytes
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
                    self._waiting,
                )
                return
            self._thread = None
        # Never started: write what is queued here.
        while self._queue and self._flush(self._take_all()):
            pass
        self._leave_in_spool()

    def _run(self) -> None:
        while True:
            try:
                if not self._run_once():
                    self._leave_in_spool()
                    return
            except Exception:  # the writer must outlive any one batch
                log.exception("writer loop error; carrying on")

    def _run_once(self) -> bool:
        """Write one batch; False once stopped and drained (or the store is down)."""
        if self._went_idle():
            return True
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if not self._queue and self._stopping:
                return False
            self._busy_since_idle = True
            if self._failures:
                # The store failed: pause before trying again (sooner when stopping, and
                # then only once, so shutdown never hangs on a store that is down).
                if self._stopping and self._failures > 1:
                    return False
                pause = RETRY_PAUSES[min(self._failures, len(RETRY_PAUSES)) - 1]
                until = time.monotonic() + pause
                while not self._stopping and (left := until - time.monotonic()) > 0:
                    self._cond.wait(left)
            # Wait a little for more, so inserts are large (a 20k-span insert costs half the
            # CPU per span of a 2k one, measured): up to the flush interval while data keeps
            # coming, or while requests are still being decoded. Otherwise write at once:
            # group commit, where what arrives during a write goes into the next one.
            deadline = time.monotonic() + self._flush_interval
            while (
                self._waiting < self._batch_spans
                and self._waiting_bytes < self._batch_bytes
                and not self._stopping
            ):
                now = time.monotonic()
                if now >= deadline:
                    break
                idle_until = self._last_submit + self._linger_idle
                if now >= idle_until:
                    if self._more_coming is None or not self._more_coming():
                        break
                    idle_until = now + self._linger_idle
                self._cond.wait(min(deadline, idle_until) - now)
            taken = self._take(self._batch_spans, self._batch_bytes)
        self._flush(taken)
        return True

    def _went_idle(self) -> bool:
        """Wait for work; True when, instead, the writer went idle after a busy spell (then
        ``on_idle`` ran, outside the lock)."""
        with self._cond:
            while not self._queue and not self._stopping:
                if not self._cond.wait(IDLE_SECONDS) and self._busy_since_idle:
                    self._busy_since_idle = False
                    break
            else:
                return False
        if self._on_idle is not None:
            self._on_idle()
        return True

    def _take(self, limit: int, limit_bytes: int = 1 << 62) -> list[_Pending]:
        taken: list[_Pending] = []
        size = nbytes = 0
        while self._queue and (
            not taken
            or (
                size + self._queue[0].size <= limit
                and nbytes + self._queue[0].nbytes <= limit_bytes
            )
        ):
            item = self._queue.popleft()
            taken.append(item)
            size += item.size
            nbytes += item.nbytes
            if item.batch is not None:
                self._queued_spans -= item.size
                self._queued_bytes -= item.nbytes
        return taken

    def _take_all(self) -> list[_Pending]:
        with self._cond:
            return self._take(1 << 62)

    def _finish(self, taken: list[_Pending], report: bool = True) -> None:
        """``taken`` is written (or refused for good): release it, tell the spool."""
        with self._cond:
            for pending in taken:
                self._waiting -= pending.size
                self._waiting_bytes -= pending.nbytes
        refs = [p.ref for p in taken if p.ref is not None]
        if refs and report and self._done is not None:
            self._done(refs[-1])

    def _requeue(self, taken: list[_Pending]) -> None:
        """Put spooled batches the store did not take back at the head, to write again."""
        with self._cond:
            self._queue.extendleft(reversed(taken))
            self._queued_spans += sum(p.size for p in taken if p.batch is not None)
            self._queued_bytes += sum(p.nbytes for p in taken if p.batch is not None)

    def _leave_in_spool(self) -> None:
        """At shutdown with the store down: what is spooled waits for the next start."""
        left = self._take_all()
        for pending in left:
            if pending.ref is None:
                pending.future.set_exception(Stopped("the store did not take the data"))
        left = [p for p in left if p.ref is not None]
        if left:
            log.error(
                "the store did not take %d spooled requests (%d spans); they stay in the "
                "spool and are written at the next start",
                len(left),
                sum(p.size for p in left),
            )

    def _flush(self, taken: list[_Pending]) -> bool:
        """Write ``taken`` together; if that fails, find out whose data is at fault.

        A store that does not answer fails requests that are not spooled with a retryable
        error; spooled ones go back to the head of the queue. A store that answers but
        refused the batch means some request's data is wrong: each request is then written
        alone, and only those refused fail, permanently, so one bad request never holds back
        the others it was batched with. False when the store failed.
        """
        if not taken:
            return True
        try:
            self._load_spooled(taken)
            self._write_together(taken)
            self._failures = 0
            self._finish(taken)
            return True
        except Exception as exc:
            error = exc
        store_answers = self._store_answers is not None and self._answers()
        if not store_answers:
            self._failures += 1
            log.error("writing %d requests failed: %s", len(taken), error)
            spooled = [p for p in taken if p.ref is not None]
            alone = [p for p in taken if p.ref is None]
            for pending in alone:
                pending.future.set_exception(error)
            self._finish(alone)
            self._requeue(spooled)
            return False
        log.warning(
            "the store refused a batch (%s); writing its %d requests one by one", error, len(taken)
        )
        refused: list[tuple[_Pending, Exception]] = []
        unreadable: list[tuple[_Pending, Exception]] = []
        stored = 0
        for pending in taken:
            try:
                self._load_spooled([pending])
            except Exception as exc:  # a spool record this version cannot read: for good
                unreadable.append((pending, exc))
                continue
            try:
                if len(taken) == 1:
                    raise error
                self._write_together([pending])
                stored += 1
            except Exception as exc:
                refused.append((pending, exc))
        waiting = [p for p, _ in refused if p.ref is not None]
        if waiting and not stored:
            # The store took none of them: it may be out of space, or failing in a way a
            # query does not show. Acknowledged (spooled) data is not given up for that: it
            # waits at the head of the queue, and is refused only once the store takes other
            # requests beside it.
            self._failures += 1
            log.error("the store took none of %d spooled requests; retrying", len(waiting))
            self._refuse([(p, e) for p, e in refused if p.ref is None] + unreadable)
            kept = {id(p) for p in waiting}
            # Released without telling the spool: records before those waiting stay until
            # the waiting ones are stored.
            self._finish([p for p in taken if id(p) not in kept], report=False)
            self._requeue(waiting)
            return False
        self._failures = 0
        self._refuse(refused + unreadable)
        self._finish(taken)
        return True

    def _refuse(self, refused: list[tuple[_Pending, Exception]]) -> None:
        for pending, error in refused:
            log.error("the store refused a request's data for good: %s", error)
            pending.future.set_exception(
                PermanentWriteError(f"the store refused this request's data: {error}")
            )

    def _load_spooled(self, taken: list[_Pending]) -> None:
        """Read back the batches that were left in the spool only."""
        for pending in taken:
            if pending.batch is None and pending.ref is not None and self._load is not None:
                pending.batch = self._load(pending.ref)

    def _answers(self) -> bool:
        assert self._store_answers is not None
        try:
            return self._store_answers()
        except Exception:
            return False

    def _write_together(self, taken: list[_Pending]) -> None:
        spans = [s for p in taken if p.batch for s in p.batch.spans]
        messages = [m for p in taken if p.batch for m in p.batch.messages]
        points = [m for p in taken if p.batch for m in p.batch.points]
        started = time.perf_counter()
        # GenAI metric points only when there are some: writers of spans alone take two.
        result = self._write(spans, messages, points) if points else self._write(spans, messages)
        elapsed = time.perf_counter() - started
        if self._on_written is not None:
            self._on_written(len(spans), elapsed)
        for pending in taken:
            pending.future.set_result(result)


def _size(batch: Batch | None) -> int:
    return 0 if batch is None else len(batch.spans) + len(batch.messages) + len(batch.points)
