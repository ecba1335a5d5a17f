"""On-disk spool: what an OTLP request carried is fsync'ed here before it is acknowledged.

The spool is an append-only log of records in segment files (``<n>.spool``) under one
directory. A record is one accepted request as it arrived (the body, still compressed if
it came so, with its signal, format, encoding, project, receive time and item count), so
it can be decoded again after a restart with the same code path as a live request.

Layout of a record: ``magic (4) | payload length (u32) | CRC-32 of length and payload
(u32) | payload``. A record whose length runs past the end of its file (a torn write at a
``kill -9``) or whose checksum does not match is skipped with a log line when the spool is
read back; reading carries on at the next magic, so one bad record never stops a start.

Appends are made durable in groups: :meth:`Spool.append` writes the record and returns a
future that a syncer thread resolves after the next ``fsync`` covering it, so concurrent
requests share one ``fsync``. The writer reports each record it has stored with
:meth:`Spool.done`; everything up to that record is then finished, the position is kept
in ``checkpoint`` and finished segments are deleted. After a crash the records after the
checkpoint are replayed: some may be stored already, which the writer's duplicate check
folds (a span delivered twice is stored once). A write cut short may have stored spans
without their derived rows, so the server re-derives the runs these records touch before it
replays them (``agentreel.storage.rederive``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import threading
import zlib
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("agentreel.collector")

MAGIC = b"ARS1"
_HEADER = struct.Struct("<4sII")  # magic, payload length, crc32(length + payload)
_LENGTH = struct.Struct("<I")
# version, signal, format, received_ns, items, project length
_FIXED = struct.Struct("<BBBQIH")
VERSION = 1
SIGNALS = ("traces", "logs", "metrics")
FORMATS = ("proto", "json")
#: Largest segment file before a new one is started (smaller when the spool is small).
SEGMENT_BYTES = 64 * 1024 * 1024
CHECKPOINT = "checkpoint"
SUFFIX = ".spool"


class SpoolFull(RuntimeError):
    """The spool holds as much as it may: retry later (HTTP 503, gRPC UNAVAILABLE)."""


class SpoolError(RuntimeError):
    """The spool could not be opened (another server uses it) or written."""


@dataclass(frozen=True, slots=True)
class Record:
    """One accepted OTLP request, as spooled."""

    signal: str  # "traces" | "logs"
    format: str  # "proto" | "json"
    encoding: str  # Content-Encoding as received ("" or "gzip"/"deflate")
    project: str
    received_ns: int
    items: int  # spans and log records it was accepted with
    body: bytes

    def encode(self) -> bytes:
        project = self.project.encode()
        encoding = self.encoding.encode()
        fixed = _FIXED.pack(
            VERSION,
            SIGNALS.index(self.signal),
            FORMATS.index(self.format),
            self.received_ns,
            self.items,
            len(project),
        )
        parts = (fixed, project, bytes((len(encoding),)), encoding, self.body)
        # The body (up to max_request_bytes) is copied once, into the joined record.
        length = sum(len(part) for part in parts)
        crc = zlib.crc32(_LENGTH.pack(length))
        for part in parts:
            crc = zlib.crc32(part, crc)
        return b"".join((_HEADER.pack(MAGIC, length, crc), *parts))

    @classmethod
    def decode(cls, payload: bytes) -> Record:
        version, signal, fmt, received_ns, items, plen = _FIXED.unpack_from(payload)
        if version != VERSION:
            raise ValueError(f"spool record version {version} is not {VERSION}")
        at = _FIXED.size
        project = payload[at : at + plen].decode()
        at += plen
        elen = payload[at]
        encoding = payload[at + 1 : at + 1 + elen].decode()
        at += 1 + elen
        return cls(
            SIGNALS[signal], FORMATS[fmt], encoding, project, received_ns, items, payload[at:]
        )


@dataclass(frozen=True, slots=True, order=True)
class Ref:
    """Where a record sits: segment number, offset of its header, its size with the header."""

    segment: int
    offset: int
    size: int
    items: int


class Spool:
    """The spool directory. ``open()`` before use; one process at a time (a lock file)."""

    def __init__(self, directory: str | Path, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        # Finished records leave the disk a segment at a time: small segments keep the
        # share of the bound they hold small (a sixteenth).
        self.segment_bytes = max(4096, min(SEGMENT_BYTES, max_bytes // 16))
        self._lock = threading.Lock()  # appends, rotation, deletion
        self._sync_cond = threading.Condition()
        self._sizes: dict[int, int] = {}  # segment -> bytes on disk
        self._total = 0
        self._segment = 0
        self._fd = -1
        self._appended = 0  # bytes appended since open, for the syncer
        self._waiting: list[tuple[int, Future[None]]] = []
        self._readers: dict[int, int] = {}  # segment -> fd for reading back
        self._cursor = (0, 0)  # (segment, offset): everything before it is finished
        self._lock_fd = -1
        self._closed = False
        self._syncer: threading.Thread | None = None
        self.skipped = 0  # corrupt or torn records found when opening

    # -- opening and replay -----------------------------------------------------------------

    def open(self) -> list[Ref]:
        """Lock the directory and return the records not yet finished, oldest first."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise SpoolError(f"the spool {self.directory} is in use by another agentreel") from None
        segment, offset = self._read_checkpoint()
        self._cursor = (segment, offset)
        refs: list[Ref] = []
        for number in self._segments():
            path = self._path(number)
            if number < segment:
                path.unlink(missing_ok=True)
                continue
            self._sizes[number] = path.stat().st_size
            self._total += self._sizes[number]
            refs += self._scan(number, offset if number == segment else 0)
        if refs:
            log.info(
                "spool: %d requests (%d items) to replay", len(refs), sum(r.items for r in refs)
            )
        self._segment = max(self._sizes, default=segment) + 1
        self._start_segment()
        self._syncer = threading.Thread(target=self._sync_loop, name="agentreel-spool", daemon=True)
        self._syncer.start()
        return refs

    def _segments(self) -> list[int]:
        found = []
        for path in self.directory.glob("*" + SUFFIX):
            stem = path.name[: -len(SUFFIX)]
            if stem.isdigit():
                found.append(int(stem))
        return sorted(found)

    def _path(self, number: int) -> Path:
        return self.directory / f"{number:012d}{SUFFIX}"

    def _read_checkpoint(self) -> tuple[int, int]:
        try:
            segment, offset = (self.directory / CHECKPOINT).read_text().split()
            return int(segment), int(offset)
        except (OSError, ValueError):
            return 0, 0

    def _scan(self, number: int, start: int) -> list[Ref]:
        """Valid records of one segment from ``start``; bad ones are logged and skipped."""
        data = self._path(number).read_bytes()
        refs: list[Ref] = []
        at = start
        while at < len(data):
            bad = _check(data, at)
            if bad is None:
                _, length, _ = _HEADER.unpack_from(data, at)
                payload = data[at + _HEADER.size : at + _HEADER.size + length]
                items = _FIXED.unpack_from(payload)[4]
                refs.append(Ref(number, at, _HEADER.size + length, items))
                at += _HEADER.size + length
                continue
            self.skipped += 1
            following = data.find(MAGIC, at + 1)
            if following >= 0:
                bad = "corrupt"  # a length running past the next record is damaged
            log.warning(
                "spool: skipped a %s record in %s at byte %d (%d bytes)",
                bad,
                self._path(number).name,
                at,
                (following if following >= 0 else len(data)) - at,
            )
            if following < 0:
                break
            at = following
        return refs

    # -- appending ----------------------------------------------------------------------------

    @property
    def bytes(self) -> int:
        """Bytes of spool files on disk."""
        return self._total

    @property
    def pending_bytes(self) -> int:
        """Bytes of records not yet finished: what ``max_bytes`` bounds. (On disk there may
        be up to one segment more: finished records leave with their segment.)"""
        segment, end = self._cursor
        return self._total - (end if segment in self._sizes else 0)

    def append(self, record: Record) -> tuple[Ref, Future[None]]:
        """Write ``record``; the future resolves once it is fsync'ed. Raises SpoolFull."""
        data = record.encode()
        future: Future[None] = Future()
        with self._lock:
            if self._closed:
                raise SpoolError("the spool is closed")
            if self.pending_bytes + len(data) > self.max_bytes:
                raise SpoolFull(
                    f"the spool holds {self.pending_bytes} bytes of requests not yet stored "
                    f"(spool_max_bytes={self.max_bytes})"
                )
            if self._sizes[self._segment] and self._sizes[self._segment] + len(data) > (
                self.segment_bytes
            ):
                self._rotate()
            offset = self._sizes[self._segment]
            try:
                _write_all(self._fd, data)
            except OSError as exc:
                # A part-written record would be skipped as corrupt; better not leave it.
                os.ftruncate(self._fd, offset)
                raise SpoolError(f"writing to the spool failed: {exc}") from None
            self._sizes[self._segment] = offset + len(data)
            self._total += len(data)
            ref = Ref(self._segment, offset, len(data), record.items)
            with self._sync_cond:
                self._appended += len(data)
                self._waiting.append((self._appended, future))
                self._sync_cond.notify()
        return ref, future

    def _start_segment(self) -> None:
        self._fd = os.open(self._path(self._segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._sizes[self._segment] = 0
        _fsync_dir(self.directory)  # the new file's name is durable before records in it are

    def _rotate(self) -> None:
        os.fsync(self._fd)  # everything in the old segment is durable before it is left
        os.close(self._fd)
        self._segment += 1
        self._start_segment()

    def _sync_loop(self) -> None:
        while True:
            with self._sync_cond:
                while not self._waiting and not self._closed:
                    self._sync_cond.wait()
                if not self._waiting and self._closed:
                    return
                target = self._appended
            error: Exception | None = None
            # fsync a duplicate outside the lock, so appends go on meanwhile; a rotation
            # fsyncs the segment it leaves itself.
            with self._lock:
                fd = os.dup(self._fd) if self._fd >= 0 else -1
            try:
                if fd >= 0:
                    os.fsync(fd)
            except OSError as exc:
                error = exc
            finally:
                if fd >= 0:
                    os.close(fd)
            with self._sync_cond:
                ready = [f for n, f in self._waiting if n <= target]
                self._waiting = [(n, f) for n, f in self._waiting if n > target]
            for future in ready:
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(SpoolError(f"fsync of the spool failed: {error}"))

    # -- reading back and finishing -----------------------------------------------------------

    def load(self, ref: Ref) -> Record:
        """Read a record back (to write it to the store when it was not kept in memory)."""
        with self._lock:
            fd = self._readers.get(ref.segment)
            if fd is None:
                fd = os.open(self._path(ref.segment), os.O_RDONLY)
                self._readers[ref.segment] = fd
        data = os.pread(fd, ref.size, ref.offset)
        bad = _check(data, 0)
        if bad is not None:
            raise SpoolError(f"spool record at {ref} is {bad}")
        return Record.decode(data[_HEADER.size :])

    def done(self, ref: Ref) -> None:
        """Everything up to and including ``ref`` is stored (or refused for good)."""
        with self._lock:
            end = ref.offset + ref.size
            if (ref.segment, end) <= self._cursor:
                return
            self._cursor = (ref.segment, end)
            tmp = self.directory / (CHECKPOINT + ".tmp")
            # Not fsync'ed: a lost checkpoint only replays records the store already has.
            tmp.write_text(f"{ref.segment} {end}\n")
            os.replace(tmp, self.directory / CHECKPOINT)
            finished = [n for n in self._sizes if n < ref.segment]
            if ref.segment != self._segment and end >= self._sizes.get(ref.segment, 0):
                finished.append(ref.segment)
            for number in finished:
                fd = self._readers.pop(number, None)
                if fd is not None:
                    os.close(fd)
                self._path(number).unlink(missing_ok=True)
                self._total -= self._sizes.pop(number)

    def close(self) -> None:
        """Sync what was appended and release the directory. Safe to call twice."""
        with self._sync_cond:
            if self._closed:
                return
            self._closed = True
            self._sync_cond.notify()
        if self._syncer is not None:
            self._syncer.join(30)
        with self._lock:
            if self._fd >= 0:
                os.fsync(self._fd)
                os.close(self._fd)
                self._fd = -1
            if self._cursor == (self._segment, self._sizes.get(self._segment)):
                # Everything is stored: leave no finished records behind.
                self._path(self._segment).unlink(missing_ok=True)
            for fd in self._readers.values():
                os.close(fd)
            self._readers.clear()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = -1


def _check(data: bytes, at: int) -> str | None:
    """None when a whole, intact record starts at ``at``; else what is wrong with it."""
    if len(data) - at < _HEADER.size:
        return "truncated"
    magic, length, crc = _HEADER.unpack_from(data, at)
    if magic != MAGIC:
        return "corrupt"
    end = at + _HEADER.size + length
    if end > len(data):
        return "truncated"
    payload = data[at + _HEADER.size : end]
    if length < _FIXED.size or zlib.crc32(payload, zlib.crc32(_LENGTH.pack(length))) != crc:
        return "corrupt"
    return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
