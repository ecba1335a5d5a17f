"""``agentreel eval``: evaluate stored runs now (groundedness, rule checks, the judge when the
server has one), through the server's REST API, with progress on stderr."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from agentreel.cli.client import get_json, request
from agentreel.settings import Settings
from agentreel.signals.evaluators import EVALUATORS

#: Runs per request (the server evaluates them before answering).
BATCH = 25
PAGE = 500


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--since", help="Runs started at or after (ISO 8601 or epoch s); default 24h")
    cmd.add_argument("--until", help="Runs started before (ISO 8601 or epoch seconds)")
    cmd.add_argument(
        "--run",
        action="append",
        dest="runs",
        metavar="TRACE_ID",
        help="Evaluate this run (repeatable) instead of a time range",
    )
    cmd.add_argument("--agent", help="Only runs of this agent")
    cmd.add_argument("--evaluator", action="append", dest="evaluators", choices=EVALUATORS,
                     help="Run only this evaluator (repeatable); default all but the judge "
                     "unless the server has one")  # fmt: skip


def eval_command(settings: Settings, args: argparse.Namespace) -> int:
    ids = args.runs or _run_ids(settings, args)
    if ids is None:
        return 1
    if not ids:
        print("no runs in that range", file=sys.stderr)
        return 0
    totals: dict[str, Counter[str]] = {}
    flagged: list[tuple[str, str, str]] = []
    errors: list[str] = []
    done = 0
    for i in range(0, len(ids), BATCH):
        body: dict[str, Any] = {"trace_ids": ids[i : i + BATCH]}
        if args.evaluators:
            body["evaluators"] = args.evaluators
        response = request(
            settings, "POST", "/api/v1/eval", refused="evaluation refused", json=body
        )
        if response is None:
            return 1
        data = response.json()
        errors += data["errors"]
        for run in data["runs"]:
            for score in run["scores"]:
                totals.setdefault(score["name"], Counter())[score["label"]] += 1
                if score["value"] is not None and score["value"] < 0.5:
                    flagged.append((run["trace_id"], score["name"], score["explanation"]))
        done += len(data["runs"])
        print(f"evaluated {done}/{len(ids)} runs", file=sys.stderr)
    if args.json:
        import json

        print(json.dumps({"evaluated": done, "labels": totals, "flagged": flagged,
                          "errors": errors}, indent=2))  # fmt: skip
        return 0
    for name in sorted(totals):
        labels = ", ".join(f"{label} {n}" for label, n in totals[name].most_common())
        print(f"{name:<16} {labels}")
    if flagged:
        print("\nflagged:")
        for trace_id, name, why in flagged:
            print(f"  {trace_id}  {name}: {why}")
    for error in errors:
        print(f"agentreel: {error}", file=sys.stderr)
    return 0


def _run_ids(settings: Settings, args: argparse.Namespace) -> list[str] | None:
    import time

    params: dict[str, Any] = {"start_from": args.since or str(int(time.time()) - 86400)}
    if args.until:
        params["start_to"] = args.until
    if args.agent:
        params["agent"] = args.agent
    ids: list[str] = []
    offset = 0
    while True:
        page = get_json(settings, "/api/v1/runs", {**params, "limit": PAGE, "offset": offset})
        if page is None:
            return None
        ids += [r["trace_id"] for r in page["runs"]]
        offset += len(page["runs"])
        if not page["runs"] or offset >= page["total"]:
            return ids
