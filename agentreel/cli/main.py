"""The ``agentreel`` command: ``up``, ``serve``, ``stats``, ``runs``.

Server commands take every setting as a flag (``--http-port``) or an ``AGENTREEL_*``
variable; reading commands reach the server through its REST API (``--api-url``), never the
store's files, which belong to the server process.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from functools import partial
from typing import Any

from agentreel.cli import evaluate, launch, projects, replay, report, reprice, transfer
from agentreel.cli.client import get_json
from agentreel.core.version import __version__
from agentreel.settings import SETTINGS, Settings, SettingsError

#: Settings only the server needs; reading commands take just the API address.
_CLIENT_SETTINGS = {"api_url", "host", "http_port", "api_key"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    overrides = {s.name: getattr(args, s.name, None) for s in SETTINGS}
    try:
        settings = Settings.load(overrides=overrides)
    except SettingsError as exc:
        print(f"agentreel: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # A reading command prints its answer, not the HTTP client's chatter.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    handler = _COMMANDS[args.command]
    try:
        return handler(settings, args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`agentreel replay … | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentreel", description="Observability and replay backend for AI-agent runs."
    )
    parser.add_argument("--version", action="version", version=f"agentreel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def server_command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        for setting in SETTINGS:
            cmd.add_argument(
                setting.flag,
                dest=setting.name,
                default=None,
                help=f"{setting.doc} [{setting.env}; default {setting.default!r}]",
            )
        return cmd

    up = server_command("up", "Start agentreel: collector, REST API and the dashboard.")
    server_command("serve", "Start the collector and REST API only.")
    dashboard = server_command(
        "dashboard", "Start the dashboard; it reads the server at --api-url."
    )

    def client_command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        for setting in SETTINGS:
            if setting.name in _CLIENT_SETTINGS:
                cmd.add_argument(setting.flag, dest=setting.name, default=None, help=setting.doc)
        cmd.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
        return cmd

    client_command("stats", "Show what the server has stored.")
    runs = client_command("runs", "List recent runs.")
    runs.add_argument("--limit", type=int, default=20)
    runs.add_argument("--offset", type=int, default=0)
    runs.add_argument("--agent")
    runs.add_argument("--service")
    runs.add_argument("--session")
    runs.add_argument("--user")
    runs.add_argument("--status", choices=("ok", "error"))
    runs.add_argument("--since", help="ISO 8601 time or epoch seconds")
    runs.add_argument("--sort", default="start_time")
    launch.add_arguments(
        up, dashboard, client_command("demo", "Send a week of sample agent runs to the server.")
    )
    replay.add_arguments(
        client_command("replay", "Show a run's LLM calls with the exact context window of each.")
    )
    transfer.add_arguments(
        client_command("export", "Write a run as one self-contained JSON document."),
        client_command("import", "Store a run from an export document (idempotent)."),
    )
    evaluate.add_arguments(client_command("eval", "Evaluate stored runs now."))
    report.add_arguments(client_command("report", "Print (or send) the daily report."))
    reprice.add_arguments(
        client_command("reprice", "Recompute stored cost with the prices in force now.")
    )
    projects.add_commands(sub)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from agentreel.server import serve
    from agentreel.signals.rules import RuleError
    from agentreel.storage.client import StoreUnavailable

    try:
        serve(settings)
    except (StoreUnavailable, SettingsError) as exc:
        print(f"agentreel: {exc}", file=sys.stderr)
        return 1
    except RuleError as exc:  # a bad alerts file
        print(f"agentreel: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"agentreel: {exc}", file=sys.stderr)
        return 1
    return 0


def _stats(settings: Settings, args: argparse.Namespace) -> int:
    data = get_json(settings, "/api/v1/stats")
    if data is None:
        return 1
    if args.json:
        _print_json(data)
        return 0
    rows = [
        ("spans", data["spans"]),
        ("runs", data["runs"]),
        ("LLM calls", data["llm_calls"]),
        ("distinct content items", data["content_items"]),
        ("content bytes (raw)", data["content_bytes"]),
        ("storage bytes on disk", data["storage_bytes"]),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value:>14,}")
    return 0


def _runs(settings: Settings, args: argparse.Namespace) -> int:
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
        _print_json(data)
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


def _print_json(data: Any) -> None:
    import json

    print(json.dumps(data, indent=2))


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    return replay.replay_command(partial(get_json, settings), args)


_COMMANDS = {
    "up": launch.up_command,
    "dashboard": launch.dashboard_command,
    "demo": launch.demo_command,
    "serve": _serve,
    "stats": _stats,
    "runs": _runs,
    "replay": _replay,
    "export": transfer.export_command,
    "import": transfer.import_command,
    "eval": evaluate.eval_command,
    "report": report.report_command,
    "reprice": reprice.reprice_command,
    **projects.COMMANDS,
}
