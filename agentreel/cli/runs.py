"""``agentreel runs``: recent runs, newest first, with filters."""

from __future__ import annotations

import argparse
from typing import Any

from agentreel.cli.client import get_json, print_json
from agentreel.cli.words import count
from agentreel.settings import Settings


def add_arguments(runs: argparse.ArgumentParser) -> None:
    runs.add_argument("--limit", type=int, default=20, help="runs to list (default 20)")
    runs.add_argument("--offset", type=int, default=0, help="skip this many runs first (paging)")
    runs.add_argument("--agent", help="only runs of this agent")
    runs.add_argument("--service", help="only runs of this service (the root span's)")
    runs.add_argument("--session", help="only runs of this session (conversation) id")
    runs.add_argument("--user", help="only runs of this user id")
    runs.add_argument("--status", choices=("ok", "error"), help="only runs that failed, or not")
    runs.add_argument("--since", help="only runs started since: ISO 8601 time or epoch seconds")
    runs.add_argument(
        "--sort",
        default="start_time",
        help="order, largest or newest first: start_time (default), duration, cost, tokens, "
        "spans, errors or llm_calls",
    )


def runs_command(settings: Settings, args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"limit": args.limit, "offset": args.offset, "sort": args.sort}
    for name in ("agent", "service", "session", "user", "status"):
        if getattr(args, name):
            params[name] = getattr(args, name)
    if args.since:
        params["start_from"] = args.since
    data = get_json(settings, "/api/v1/runs", params)
    if data is None:
        return 1
    if args.json:
        print_json(data)
        return 0
    if not data["runs"]:
        print("no runs yet: point an OTLP exporter at this server (see README)")
        return 0
    header = f"{'trace id':<32}  {'started (UTC)':<19}  {'status':<6} {'spans':>5} "
    header += f"{'llm':>4} {'tokens':>8} {'cost $':>9} {'ms':>9}  agent / name"
    print(header)
    for run in data["runs"]:
        started = run["start_time"][:19].replace("T", " ")
        label = run["agent"] or run["name"] or run["service"]
        print(
            f"{run['trace_id']:<32}  {started:<19}  {run['status']:<6} {run['spans']:>5} "
            f"{run['llm_calls']:>4} {run['usage']['total_tokens']:>8} "
            f"{_money(run['cost_usd']):>9} {run['duration_ms']:>9.1f}  {label}"
        )
    shown = data["offset"] + len(data["runs"])
    print(f"({shown} of {count(data['total'], 'run')})")
    return 0


def _money(usd: float) -> str:
    """Dollars with four decimals, or three significant digits below a cent."""
    if usd == 0:
        return "0"
    return f"{usd:.4f}" if usd >= 0.01 else f"{usd:.3g}"
