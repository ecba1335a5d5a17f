"""``agentreel prices [unknown]``: which layer prices each model your project called
(``GET /api/v1/prices``), or the models called without any price (``GET /api/v1/prices/unknown``).
"""

from __future__ import annotations

import argparse
from typing import Any

from agentreel.cli.client import get_json, print_json
from agentreel.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what",
        nargs="?",
        choices=("called", "unknown"),
        default="called",
        help="called (default): each model called and what prices it; unknown: models "
        "called without a price",
    )


def prices_command(settings: Settings, args: argparse.Namespace) -> int:
    unknown = args.what == "unknown"
    data = get_json(settings, "/api/v1/prices/unknown" if unknown else "/api/v1/prices")
    if data is None:
        return 1
    if args.json:
        print_json(data)
    elif unknown:
        _print_unknown(data)
    else:
        _print_called(data)
    return 0


def _print_called(data: dict[str, Any]) -> None:
    about = data.get("data") or {}
    if about.get("installed"):
        mode = "auto-update" if about.get("auto_update") else "bundled snapshot"
        print(
            f"price data: genai-prices {about['version']} ({mode}, prices up to "
            f"{about['data_date']}; {about['models']:,} models of {about['providers']} providers)"
        )
    else:
        print("price data: genai-prices not installed (only agentreel's entries and overrides)")
    _table(
        ["model", "provider", "calls", "priced by", "input", "output", "cache read"],
        [_called_row(row) for row in data.get("called", [])],
    )


def _called_row(row: dict[str, Any]) -> list[str]:
    price = row.get("price") or {}
    figures = [
        f"{price[name]:g}" if name in price else "-" for name in ("input", "output", "cache_read")
    ]
    if price.get("tiered"):
        figures[0] += " (tiered)"
    return [row["model"], row["provider"], f"{row['llm_calls']:,}", row["origin"], *figures]


def _print_unknown(data: dict[str, Any]) -> None:
    rows = [
        [r["model"], r["provider"], f"{r['llm_calls']:,}", r["first_seen"], r["last_seen"]]
        for r in data.get("models", [])
    ]
    if rows:
        _table(["model", "provider", "calls", "first seen", "last seen"], rows)
    else:
        print("every model called has a price")


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]
    for line in [header, *rows]:
        print("  ".join(f"{cell:<{w}}" for cell, w in zip(line, widths, strict=True)).rstrip())
