"""``agentreel export TRACE [-o FILE]`` and ``agentreel import FILE``, through the REST API.

An export is the document ``GET /api/v1/runs/{trace_id}/export`` answers, byte for byte; an
import posts a file to ``POST /api/v1/runs/import``, which checks all of it before it writes
anything. Like every reading command, these talk to the server, never to its store files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from agentreel.cli.client import request
from agentreel.settings import Settings

#: Seconds to wait for the server: a large run takes a while to check and write.


def add_arguments(
    export_parser: argparse.ArgumentParser, import_parser: argparse.ArgumentParser
) -> None:
    export_parser.add_argument("trace_id", metavar="TRACE", help="Trace id of the run (32 hex).")
    export_parser.add_argument(
        "-o", "--output", metavar="FILE", help="Write the document to FILE (default: stdout)."
    )
    import_parser.add_argument(
        "file", metavar="FILE", help="A document from `agentreel export`; - reads stdin."
    )


def export_command(settings: Settings, args: argparse.Namespace) -> int:
    """Write the run's export document to ``args.output`` or stdout."""
    response = request(settings, "GET", f"/api/v1/runs/{args.trace_id}/export")
    if response is None:
        return 1
    if not args.output:
        sys.stdout.buffer.write(response.content + b"\n")
        sys.stdout.flush()
        return 0
    target = Path(args.output)
    try:
        _write_atomically(target, response.content)
    except OSError as exc:
        print(f"agentreel: cannot write {target}: {exc}", file=sys.stderr)
        return 1
    print(f"exported run {args.trace_id} to {target}", file=sys.stderr)
    return 0


def import_command(settings: Settings, args: argparse.Namespace) -> int:
    """Send an export file to the server; print what it stored."""
    try:
        body = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        print(f"agentreel: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    response = request(
        settings,
        "POST",
        "/api/v1/runs/import",
        content=body,
        headers={"content-type": "application/json"},
        refused="import refused",
    )
    if response is None:
        return 1
    result = response.json()
    if getattr(args, "json", False):
        print(json.dumps(result, indent=2))
    elif result["spans_written"] == 0 and result["message_events_written"] == 0:
        print(f"run {result['trace_id']} is already here: nothing new to import")
    else:
        print(
            f"imported run {result['trace_id']}: {result['spans_written']} spans "
            f"({result['already_present']} already present), "
            f"{result['message_events_written']} message events, "
            f"{result['content_written']} content items"
        )
    return 0


def _write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` whole or not at all: a half-written export is useless."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
