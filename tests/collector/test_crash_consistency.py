"""A ``kill -9`` between the spans insert and the last rollup insert, and during the start-up
replay, hides no acknowledged run: after a restart every run, the run list, overview, cost
per day and the step histogram say exactly what was sent (issue 18).

A real ``agentreel serve`` on a fresh data directory, the real OTLP exporters, SIGKILL at
named points inside the writer (see tests/support/crashrun.py). One round here (every write
point, each with a replay point); ``CRASH_ROUNDS=20`` runs more, as bench/crash.py does.
"""

from __future__ import annotations

import os
from pathlib import Path

from support.crashrun import Truth, crash_round


def test_kill_9_inside_a_write_and_inside_the_replay_hides_no_run(tmp_path: Path) -> None:
    truth = Truth()
    for round_number in range(int(os.environ.get("CRASH_ROUNDS", "1"))):
        crash_round(tmp_path / "data", truth, round_number)
    assert truth.runs
