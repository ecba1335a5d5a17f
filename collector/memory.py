"""Handing memory back to the system after a flood (glibc only; a no-op elsewhere).

Measured (bench/README.md, soak flood): after a flood of 30 KB spans the server's RSS stayed
~200 MiB above idle although the queue was empty: glibc keeps freed memory in its arenas
(one per thread that allocated, and the collector has dozens of threads) instead of
returning it. ``malloc_trim(0)`` returns the free pages of every arena; fewer arenas leave
less to fragment in the first place.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import time
from typing import Any

log = logging.getLogger("agentreel.collector")

#: mallopt parameter M_ARENA_MAX (malloc.h).
_M_ARENA_MAX = -8
#: Arenas glibc may create: fewer means less memory kept per thread, at a little lock
#: contention (the heavy work runs on the ingest and writer threads only).
ARENAS = 2


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _libc()


def limit_arenas() -> None:
    """Cap glibc's malloc arenas (call at start, before the receivers' threads run)."""
    if _LIBC is not None:
        _LIBC.mallopt(_M_ARENA_MAX, ARENAS)


#: Seconds a reading of the resident size is reused (reading it costs a file read).
RSS_EVERY = 0.1
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_last: list[float] = [0.0, 0.0]  # when, bytes


def rss_bytes() -> int:
    """This process's resident memory (0 where /proc is not there), read at most every
    ``RSS_EVERY`` seconds."""
    now = time.monotonic()
    if now - _last[0] >= RSS_EVERY:
        try:
            with open("/proc/self/statm", "rb") as statm:
                _last[1] = int(statm.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            _last[1] = 0
        _last[0] = now
    return int(_last[1])


def release_freed() -> None:
    """Return the memory freed since the last call to the system."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


#: Least seconds between two trims while over the limit (a trim walks every arena).
TRIM_EVERY = 1.0
_trimmed = [0.0]


def release_if_over(limit: int) -> None:
    """:func:`release_freed` when resident memory is over ``limit`` (at most every
    ``TRIM_EVERY`` seconds): under a flood the writer is never idle, and what the last
    insert freed is handed back before the next one grows the heap again."""
    now = time.monotonic()
    if now - _trimmed[0] >= TRIM_EVERY and rss_bytes() > limit:
        _trimmed[0] = now
        release_freed()
