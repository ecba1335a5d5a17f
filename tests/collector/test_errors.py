"""The one table of refusals: each ingest exception gets the HTTP status, gRPC code and retry
advice the OTLP specification gives for its case."""

from __future__ import annotations

import grpc
import pytest

from agentreel.collector import errors
from agentreel.collector.decode import DecodeError, TooLarge
from agentreel.collector.pipeline import Busy, PermanentWriteError, Stopped
from agentreel.collector.spool import SpoolError, SpoolFull

# (exception, HTTP status, gRPC status, retryable): OTLP/HTTP "Failures" and OTLP/gRPC
# "Failures": malformed and too-large data are permanent; throttling and unavailability are
# retryable, with Retry-After / RetryInfo.
CASES = [
    (TooLarge("body inflates to more than 1 MiB"), 413, grpc.StatusCode.RESOURCE_EXHAUSTED, False),
    (errors.BodyTimeout(60, 3), 408, grpc.StatusCode.DEADLINE_EXCEEDED, False),
    (errors.UnsupportedMediaType("text/plain"), 415, grpc.StatusCode.INVALID_ARGUMENT, False),
    (DecodeError("not protobuf"), 400, grpc.StatusCode.INVALID_ARGUMENT, False),
    (PermanentWriteError("bad row"), 400, grpc.StatusCode.INVALID_ARGUMENT, False),
    (Busy("queue full"), 429, grpc.StatusCode.RESOURCE_EXHAUSTED, True),
    (Stopped("shutting down"), 503, grpc.StatusCode.UNAVAILABLE, True),
    (SpoolFull("spool full"), 503, grpc.StatusCode.UNAVAILABLE, True),
    (SpoolError("fsync failed"), 503, grpc.StatusCode.UNAVAILABLE, True),
    (errors.StoreTimeout(60), 503, grpc.StatusCode.UNAVAILABLE, True),
    (errors.StoreFailed(OSError("connection refused")), 503, grpc.StatusCode.UNAVAILABLE, True),
]


@pytest.mark.parametrize(("exc", "status", "code", "retry"), CASES, ids=lambda c: str(c)[:30])
def test_each_refusal_follows_the_otlp_spec(
    exc: Exception, status: int, code: grpc.StatusCode, retry: bool
) -> None:
    refused = errors.refusal(exc)
    assert (refused.http_status, refused.rpc_code, refused.retry) == (status, code.value[0], retry)
    assert str(exc) in refused.message


def test_every_known_exception_has_a_case_and_nothing_else_is_answered() -> None:
    assert {type(exc) for exc, *_ in CASES} == set(errors.KNOWN)
    with pytest.raises(TypeError):
        errors.refusal(KeyError("a bug"))


def test_messages_say_what_to_do() -> None:
    assert errors.refusal(Busy("3 bytes waiting")).message == "agentreel is busy: 3 bytes waiting"
    timeout = errors.refusal(errors.StoreTimeout(2.5)).message
    assert "within 2.5 s" in timeout and "not stored twice" in timeout


def test_the_retry_hint_grows_while_pushback_lasts_and_starts_over_after_a_pause() -> None:
    now = [100.0]
    hint = errors.RetryHint(clock=lambda: now[0])
    waits = []
    # Refused every second for 30 s: the OTel gRPC exporter retries 6 times, waiting the
    # hint each time, so the hints must add up to more than a short spell of pushback.
    for _ in range(31):
        waits.append(hint.refused())
        now[0] += 1.0
    assert waits[:4] == [1, 1, 2, 3]
    assert waits[16:] == [errors.MAX_RETRY_AFTER_SECONDS] * 15
    now[0] += errors.PUSHBACK_GAP_SECONDS + 0.1  # a quiet spell ends the pushback
    assert hint.refused() == 1
