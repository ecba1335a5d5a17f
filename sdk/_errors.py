"""What the SDK does with its own failures: log them once, keep the agent running.

An exception inside the SDK's bookkeeping (a bad argument, an attribute that cannot be
encoded, a provider response of an unexpected shape) must never reach the agent's code:
it is logged once per place and kind, and the agent carries on with less telemetry.
Under pytest it is raised instead, so the SDK's own tests and users' tests see it
(``agentreel.sdk._errors.RAISE_ERRORS`` overrides that).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from types import TracebackType

log = logging.getLogger("agentreel.sdk")

_seen: set[tuple[str, type[BaseException]]] = set()
_seen_lock = threading.Lock()


class SdkError(Exception):
    """Base of the exceptions the SDK raises on purpose (they are not swallowed)."""


#: Raise internal errors instead of logging them: None means "under pytest only". Set it
#: to False in a test that checks the agent survives the SDK's errors.
RAISE_ERRORS: bool | None = None


def raise_internal_errors() -> bool:
    """Whether internal errors propagate (tests) instead of being logged."""
    if RAISE_ERRORS is not None:
        return RAISE_ERRORS
    return "PYTEST_CURRENT_TEST" in os.environ


def log_once(where: str, exc: BaseException) -> None:
    """Log ``exc`` raised at ``where``, the first time this kind happens there."""
    key = (where, type(exc))
    with _seen_lock:
        if key in _seen:
            return
        _seen.add(key)
    log.warning(
        "agentreel.sdk: internal error in %s (%s: %s); the agent continues with less "
        "telemetry. Further errors of this kind here are not logged.",
        where,
        type(exc).__name__,
        exc,
        exc_info=exc,
    )


def warn_once(key: str, message: str, *args: object) -> None:
    """A warning logged once per ``key`` for the life of the process."""
    with _seen_lock:
        if (key, Warning) in _seen:
            return
        _seen.add((key, Warning))
    log.warning(message, *args)


class guard:
    """Swallow (log once) an exception from the SDK's own work inside the block.

    A class rather than ``@contextmanager``: it runs on every span the SDK makes, and this
    costs a fraction of a generator-based context manager. ``SdkError`` (budget breaches)
    always propagates.
    """

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, SdkError):
            return False
        if raise_internal_errors():
            return False
        log_once(self.where, exc)
        return True


class on_error:
    """Calls ``handle(exc)`` when the block raises (any exception, also ``KeyboardInterrupt``),
    then lets the exception go on: a span records the error the caller sees."""

    __slots__ = ("handle",)

    def __init__(self, handle: Callable[[BaseException], object]) -> None:
        self.handle = handle

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self.handle(exc)
