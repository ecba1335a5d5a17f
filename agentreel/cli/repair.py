"""``agentreel repair``: rebuild the run and rollup tables from the spans.

For a store damaged before the server re-derived interrupted writes at start (a ``kill -9``
between the spans insert and the rollup inserts left runs that answer 404 while their spans
export), or a reprice interrupted between its steps. The spans are the record; ``runs``,
``step_daily``, ``user_daily``, ``facet_values`` and ``escalation_rows`` are emptied and
filled again from them a month at a time (:func:`agentreel.storage.rederive.rebuild`).

It opens the store directly, like ``agentreel projects``: with the embedded store, run it while
the server is stopped. Interrupted, it leaves those tables partly filled: run it again.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from agentreel.cli.projects import add_store_flags, with_store
from agentreel.settings import Settings

#: What ``--help`` says.
ABOUT = (
    "Rebuild the derived tables (runs, daily cost and step rollups, filter values, "
    "escalations) from the stored spans, for a store where runs whose spans are stored are "
    "missing from run lists and totals. Opens the store directly: with the embedded store, "
    "stop the server first. Safe to run again; while it runs, run lists and totals are "
    "incomplete."
)


def add_command(sub: Any) -> None:
    """Add ``repair`` to the CLI's subparsers."""
    cmd = sub.add_parser("repair", help="Rebuild runs and rollups from the stored spans "
                         "(opens the store directly).", description=ABOUT)  # fmt: skip
    add_store_flags(cmd)


def repair_command(settings: Settings, args: argparse.Namespace) -> int:
    """Rebuild, printing a line per month of spans and a summary."""
    from agentreel.storage.rederive import rebuild

    started = time.monotonic()

    def run(client: Any) -> None:
        print("rebuilding runs and rollups from the spans, a month at a time", flush=True)
        done = rebuild(client, lambda line: print(f"  {line}", flush=True))
        print(
            f"rebuilt {done.runs:,} runs over {done.days:,} day(s) from {done.spans:,} spans "
            f"in {time.monotonic() - started:.1f} s"
        )

    return with_store(
        settings,
        run,
        "repair works on the store itself: stop the server, run `agentreel repair`, "
        "start the server again.",
    )
