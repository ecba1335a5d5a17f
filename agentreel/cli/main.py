"""The ``agentreel`` command: its parser and the table of commands (one module each).

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

from agentreel.cli import (
    casetest,
    evaluate,
    launch,
    mcpserve,
    migrate,
    pin,
    prices,
    projects,
    repair,
    replay,
    report,
    reprice,
    retention,
    runs,
    serve,
    stats,
    transfer,
)
from agentreel.cli.client import get_json
from agentreel.core.version import __version__
from agentreel.settings import SETTINGS, Settings, SettingsError

#: Settings only the server needs; reading commands take just the API address.
_CLIENT_SETTINGS = {"api_url", "host", "http_port", "api_key"}
#: What those settings mean to a command that talks to a server rather than being one.
_CLIENT_HELP = {
    "host": "Host of the agentreel server to ask, when --api-url is not given "
    "[AGENTREEL_HOST; default 127.0.0.1].",
    "http_port": "HTTP port of that server, when --api-url is not given "
    "[AGENTREEL_HTTP_PORT; default 4318].",
}


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

    def client_command(name: str, help_text: str, prints: bool = True) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        for setting in SETTINGS:
            if setting.name in _CLIENT_SETTINGS:
                doc = _CLIENT_HELP.get(setting.name, setting.doc)
                cmd.add_argument(setting.flag, dest=setting.name, default=None, help=doc)
        if prints:
            cmd.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
        return cmd

    client_command("stats", "Show what the server has stored.")
    runs.add_arguments(client_command("runs", "List recent runs."))
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
    pin.add_arguments(
        client_command("pin", "Keep a stored run as a regression case file (re-run offline).")
    )
    casetest.add_arguments(
        sub.add_parser(
            "test",
            help="Run pinned regression cases offline (no server needed); print a table.",
            description="Run each case's agent command with its LLM calls and tools answered "
            "from the case, and report where any run stopped matching its recording.",
        )
    )
    evaluate.add_arguments(client_command("eval", "Evaluate stored runs now."))
    report.add_arguments(client_command("report", "Print (or send) the daily report."))
    reprice.add_arguments(
        client_command("reprice", "Recompute stored cost with the prices in force now.")
    )
    prices.add_arguments(
        client_command("prices", "Show what prices each model called, or the unpriced ones.")
    )
    retention.add_arguments(
        client_command("retention", "Show or set how many days your project keeps its runs.")
    )
    mcpserve.add_arguments(
        client_command(
            "mcp",
            "Serve runs, replays and diffs to coding agents over MCP (stdio, or HTTP with --http).",
            prints=False,
        )
    )
    projects.add_commands(sub)
    repair.add_command(sub)
    migrate.add_command(sub)
    return parser


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    return replay.replay_command(partial(get_json, settings), args)


_COMMANDS = {
    "up": launch.up_command,
    "dashboard": launch.dashboard_command,
    "demo": launch.demo_command,
    "serve": serve.serve_command,
    "stats": stats.stats_command,
    "runs": runs.runs_command,
    "replay": _replay,
    "export": transfer.export_command,
    "import": transfer.import_command,
    "pin": pin.pin_command,
    "test": casetest.test_command,
    "eval": evaluate.eval_command,
    "report": report.report_command,
    "reprice": reprice.reprice_command,
    "prices": prices.prices_command,
    "retention": retention.retention_command,
    "repair": repair.repair_command,
    "migrate": migrate.migrate_command,
    "mcp": mcpserve.mcp_command,
    **projects.COMMANDS,
}
