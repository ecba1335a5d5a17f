"""Why an OTLP request was refused, and how each receiver says so: one table, read by the
HTTP and the gRPC receiver alike.

Each ingest exception maps to an HTTP status, a ``google.rpc`` code (gRPC's status code has
the same number), whether the exporter should retry (then HTTP answers ``Retry-After`` and
gRPC attaches ``RetryInfo``), and the message. Permanent refusals (400, 413, 415) tell the
exporter to drop the data; retryable ones (429, 503) to send it again later, which is safe:
a span already stored is not stored twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from google.rpc import code_pb2

from .decode import DecodeError, TooLarge
from .pipeline import Busy, PermanentWriteError, Stopped
from .spool import SpoolError, SpoolFull


class UnsupportedMediaType(ValueError):
    """An OTLP/HTTP body that is neither protobuf nor JSON."""


class BodyTimeout(RuntimeError):
    """An OTLP/HTTP body did not arrive within ``body_read_timeout`` (a slow or stalled
    upload): answered 408 and the connection closed, so it holds nothing longer."""

    def __init__(self, seconds: float, received: int) -> None:
        super().__init__(
            f"the request body did not arrive within {seconds:g} s (body_read_timeout; "
            f"{received} bytes received)"
        )


class StoreFailed(RuntimeError):
    """The store raised while writing the request's data."""

    def __init__(self, error: Exception) -> None:
        super().__init__(f"the store did not take the data: {error}")


class StoreTimeout(RuntimeError):
    """The store did not confirm the write in time, and the request was not spooled."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"the store did not confirm the write within {seconds:g} s; "
            "retry (a span already stored is not stored twice)"
        )


@dataclass(frozen=True, slots=True)
class Refusal:
    """How a receiver answers a request it could not take."""

    http_status: int
    #: A ``google.rpc.Code``; ``grpc.StatusCode`` members carry the same number.
    rpc_code: int
    retry: bool
    message: str


@dataclass(frozen=True, slots=True)
class _Rule:
    http_status: int
    rpc_code: int
    retry: bool
    prefix: str = ""


#: First match wins (a subclass above its base).
_RULES: tuple[tuple[type[Exception], _Rule], ...] = (
    # Over a size limit: permanent (RESOURCE_EXHAUSTED without RetryInfo means "don't retry").
    (TooLarge, _Rule(413, code_pb2.RESOURCE_EXHAUSTED, retry=False)),
    # Not retryable per the OTLP spec; a client this slow rarely reads the answer anyway.
    (BodyTimeout, _Rule(408, code_pb2.DEADLINE_EXCEEDED, retry=False)),
    (UnsupportedMediaType, _Rule(415, code_pb2.INVALID_ARGUMENT, retry=False)),
    (DecodeError, _Rule(400, code_pb2.INVALID_ARGUMENT, retry=False)),
    (PermanentWriteError, _Rule(400, code_pb2.INVALID_ARGUMENT, retry=False)),
    (Busy, _Rule(429, code_pb2.RESOURCE_EXHAUSTED, retry=True, prefix="agentreel is busy: ")),
    (Stopped, _Rule(503, code_pb2.UNAVAILABLE, retry=True)),
    (SpoolFull, _Rule(503, code_pb2.UNAVAILABLE, retry=True)),
    (SpoolError, _Rule(503, code_pb2.UNAVAILABLE, retry=True)),
    (StoreTimeout, _Rule(503, code_pb2.UNAVAILABLE, retry=True)),
    (StoreFailed, _Rule(503, code_pb2.UNAVAILABLE, retry=True)),
)

#: The exceptions the table answers. Receivers catch these and only these: anything else is
#: a bug and surfaces as one.
KNOWN: tuple[type[Exception], ...] = tuple(kind for kind, _ in _RULES)


def refusal(exc: Exception) -> Refusal:
    """How to answer a request that raised ``exc``, one of :data:`KNOWN`, while being taken."""
    for kind, rule in _RULES:
        if isinstance(exc, kind):
            return Refusal(rule.http_status, rule.rpc_code, rule.retry, f"{rule.prefix}{exc}")
    raise TypeError(f"no refusal for {type(exc).__name__}") from exc


#: The longest wait a refused client is told (seconds).
MAX_RETRY_AFTER_SECONDS = 16
#: Refusals this far apart belong to one spell of pushback (seconds).
PUSHBACK_GAP_SECONDS = 5.0


class RetryHint:
    """How long a refused client is told to wait: 1 s at first, then as long as the server
    has been refusing (up to :data:`MAX_RETRY_AFTER_SECONDS`).

    The OTel exporters retry a refused export at most 6 times, and the gRPC one waits exactly
    the server's hint between tries: a fixed 1 s hint made it give up after 6 s of pushback,
    although the data would have been taken a few seconds later. A spell of pushback ends
    when no request has been refused for :data:`PUSHBACK_GAP_SECONDS`.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._since = 0.0
        self._last = float("-inf")

    def refused(self) -> int:
        """Seconds to tell the client refused now."""
        with self._lock:
            now = self._clock()
            if now - self._last > PUSHBACK_GAP_SECONDS:
                self._since = now
            self._last = now
            return max(1, min(MAX_RETRY_AFTER_SECONDS, round(now - self._since)))
