"""``agentreel retention [--days N | --default]``: show or set how many days your project
keeps its runs (``GET|PUT /api/v1/retention``). The project is the one your API key
belongs to (the server's default project without a key)."""

from __future__ import annotations

import argparse
from typing import Any

from agentreel.cli.client import get_json, print_json, request
from agentreel.settings import Settings


def _days(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"retention is a whole number of days above 0, not {value} (--default: the "
            "server's AGENTREEL_RETENTION_DAYS)"
        )
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--days", type=_days, help="Keep runs this many days after their end.")
    group.add_argument(
        "--default",
        action="store_true",
        help="Drop the project's own setting: the server's AGENTREEL_RETENTION_DAYS applies.",
    )


def retention_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.days is None and not args.default:
        data = get_json(settings, "/api/v1/retention")
    else:
        days = None if args.default else args.days
        response = request(
            settings, "PUT", "/api/v1/retention", json={"days": days}, refused="retention"
        )
        data = None if response is None else response.json()
    if data is None:
        return 1
    if args.json:
        print_json(data)
    else:
        print(_describe(data))
    return 0


def _describe(data: dict[str, Any]) -> str:
    def days(value: Any) -> str:
        return "forever" if value is None else f"{value} days"

    origin = "its own setting" if data["project_days"] is not None else "the server's default"
    return (
        f"project {data['project']}: runs kept {days(data['days'])} ({origin}; server default: "
        f"{days(data['default_days'])})"
    )
