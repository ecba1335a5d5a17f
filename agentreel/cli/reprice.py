"""``agentreel reprice --since T [--until T] [--model M]``: recompute stored cost after prices
change, through the REST API (``POST /api/v1/prices/reprice``), one UTC day per request so
progress shows as it goes and an interrupted reprice can simply be run again."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from agentreel.cli.client import request
from agentreel.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", required=True, help="first day or time to reprice (ISO 8601, UTC)"
    )
    parser.add_argument(
        "--until", help="end of the range, exclusive for a time, inclusive for a day (default now)"
    )
    parser.add_argument("--model", help="only calls of this model (as the price table names it)")


def _moment(name: str, raw: str, *, end: bool = False) -> datetime:
    text = raw.strip()
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--{name} must be an ISO 8601 date or time, such as 2026-11-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def reprice_command(settings: Settings, args: argparse.Namespace) -> int:
    """Send one reprice request per UTC day of the range; print a line per day and totals."""
    try:
        since = _moment("since", args.since)
        until = _moment("until", args.until, end=True) if args.until else datetime.now(UTC)
    except ValueError as exc:
        print(f"agentreel: {exc}", file=sys.stderr)
        return 2
    if until <= since:
        print("agentreel: --until must be after --since", file=sys.stderr)
        return 2
    totals = {"llm_spans": 0, "changed": 0, "unknown": 0, "runs_corrected": 0}
    before = after = 0.0
    start = since
    days = 0
    while start < until:
        end = min(
            datetime.combine(start.date() + timedelta(days=1), datetime.min.time(), UTC), until
        )
        body = {"since": start.isoformat(), "until": end.isoformat(), "model": args.model}
        response = request(settings, "POST", "/api/v1/prices/reprice", json=body, refused="reprice")
        if response is None:
            print(
                f"agentreel: stopped at {start.isoformat()}; run again to finish", file=sys.stderr
            )
            return 1
        done = response.json()
        for key in totals:
            totals[key] += int(done[key])
        before += float(done["cost_before"])
        after += float(done["cost_after"])
        days += 1
        print(
            f"{start.date()}  {done['llm_spans']:>8,} calls  {done['changed']:>8,} repriced  "
            f"{done['unknown']:>6,} unknown  ${done['cost_before']:,.4f} -> ${done['cost_after']:,.4f}",
            flush=True,
        )
        start = end
    print(
        f"repriced {totals['changed']:,} of {totals['llm_spans']:,} LLM calls over {days} day(s); "
        f"{totals['runs_corrected']:,} runs corrected; cost ${before:,.4f} -> ${after:,.4f}"
        + (
            f"; {totals['unknown']:,} calls of unknown models (see /api/v1/prices/unknown)"
            if totals["unknown"]
            else ""
        )
    )
    return 0
