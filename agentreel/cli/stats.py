"""``agentreel stats``: what the server has stored."""

from __future__ import annotations

import argparse

from agentreel.cli.client import get_json, print_json
from agentreel.settings import Settings


def stats_command(settings: Settings, args: argparse.Namespace) -> int:
    data = get_json(settings, "/api/v1/stats", {"project_bytes": "true"})
    if data is None:
        return 1
    if args.json:
        print_json(data)
        return 0
    rows = [
        ("spans", data["spans"]),
        ("runs", data["runs"]),
        ("LLM calls", data["llm_calls"]),
        ("distinct content items", data["content_items"]),
        ("content bytes (raw)", data["content_bytes"]),
        ("storage bytes on disk (store)", data["storage_bytes"]),
    ]
    if "project_storage_bytes_estimate" in data:
        rows.append(("of them this project's (est.)", data["project_storage_bytes_estimate"]))
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value:>14,}")
    return 0
