"""Named points where a test makes the process die with ``SIGKILL``, as a ``kill -9`` would.

``AGENTREEL_TEST_KILL_AT=<point>`` (read at each point, so a test sets it per process) kills
the process the first time it reaches that point. The points sit between the inserts of one
write, where a crash leaves the spans stored without all their derived rows
(:mod:`.rederive` is what puts that right at the next start).
"""

from __future__ import annotations

import os
import signal

#: The environment variable naming the point to die at.
KILL_ENV = "AGENTREEL_TEST_KILL_AT"

#: Every point, in the order a write reaches them.
POINTS = (
    "spans",  # spans inserted (with the views' rows), nothing the writer derives yet
    "step_daily",  # step_daily inserted, user_daily not
    "rollups",  # every rollup inserted, scores not
    "rederive",  # a re-derivation deleted the derived rows and has not filled them again
)


def reached(point: str) -> None:
    """Die here if the environment names this point."""
    if os.environ.get(KILL_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
