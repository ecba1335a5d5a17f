"""``agentreel runs``: recent runs, newest first, with filters."""

from __future__ import annotations

import argparse
from typing import Any

from agentreel.cli.client import get_json, print_json
from agentreel.settings import Settings


def add_arguments(runs: argparse.ArgumentParser) -> None:
    runs.add_argument("--limit", type=int, default=20)
    runs.add_argument("--offset", type=int, default=0)
    runs.add_argument("--agent")
    runs.add_argument("--service")
    runs.add_argument("--session")
    runs.add_argument("--user")
    runs.add_argument("--status", choices=("ok", "error"))
    runs.add_argument("--since", help="ISO 8601 time or epoch seconds")
    runs.add_argument("--sort", default="start_time")


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
    header += f"{'llm':>4} {'tokens':>8} {'ms':>9}  agent / name"
    print(header)
    for run in data["runs"]:
        started = run["start_time"][:19].replace("T", " ")
        label = run["agent"] or run["name"] or run["service"]
        print(
            f"{run['trace_id']:<32}  {started:<19}  {run['status']:<6} {run['spans']:>5} "
            f"{run['llm_calls']:>4} {run['usage']['total_tokens']:>8} "
            f"{run['duration_ms']:>9.1f}  {label}"
        )
    shown = data["offset"] + len(data["runs"])
    print(f"({shown} of {data['total']} runs)")
    return 0
