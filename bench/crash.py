"""Crash consistency in a loop: ``kill -9`` at every point between the spans insert and the
last rollup insert, and during the start-up replay, for ``--rounds`` rounds (issue 18).

Each round is tests/collector/test_crash_consistency.py's round (tests/support/crashrun.py):
a real ``agentreel serve`` on one data directory kept across rounds, runs sent through the
real OTLP exporters and acknowledged from the spool, the server killed with SIGKILL at each
write point in turn (``spans``, ``step_daily``, ``rollups``), each kill followed by a start
killed during its replay (no kill, in the re-derivation, or in the replay's write, in turn),
then a clean start whose every run, run list, overview, cost per day and step histogram must
say exactly what was acknowledged in all rounds so far.

Run: ``nice .venv/bin/python bench/crash.py [--rounds 20]``. Prints a line per round; exit
code 0 when every round's checks passed, 1 at the first that did not.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' harness

from support.crashrun import REPLAY_POINTS, WRITE_POINTS, Truth, crash_round


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    print(f"{platform.node()} {platform.machine()}, Python {platform.python_version()}")
    print(f"write points {', '.join(WRITE_POINTS)}; replay points {REPLAY_POINTS}")
    directory = Path(tempfile.mkdtemp(prefix="agentreel-crash-"))
    truth = Truth()
    started = time.monotonic()
    try:
        for n in range(args.rounds):
            try:
                seconds = crash_round(directory / "data", truth, n)
            except AssertionError as exc:
                print(f"round {n + 1}: FAILED\n{exc}", flush=True)
                return 1
            print(
                f"round {n + 1}/{args.rounds}: {len(WRITE_POINTS)} kills in writes, "
                f"{len(truth.runs):,} runs acknowledged so far, all checks passed "
                f"({seconds:.0f} s)",
                flush=True,
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(
        f"{args.rounds} rounds, {args.rounds * len(WRITE_POINTS)} kills in writes, "
        f"{len(truth.runs):,} runs: every check passed in {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
