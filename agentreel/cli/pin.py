"""``agentreel pin TRACE -o cases/NAME.json``: keep a stored run as a regression case.

The case (:mod:`agentreel.core.cases`) is what ``GET /api/v1/runs/{trace_id}/case`` answers:
the run's LLM calls and tool results, checksummed. It is checked here before it is written,
written whole or not at all, and never over an existing file without ``--force``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from agentreel.cli.client import ApiError, call
from agentreel.cli.words import count
from agentreel.core import cases
from agentreel.settings import Settings

#: Where a case goes when no ``-o`` is given.
DEFAULT_DIR = "cases"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace_id", metavar="TRACE", help="Trace id of the run (32 hex).")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help=f"Write the case to FILE, or to NAME.json in a folder FILE/ (default: "
        f"{DEFAULT_DIR}/NAME.json); the folder is created.",
    )
    parser.add_argument(
        "--name",
        help="The case's name (default: the file's name without .json, else run-<trace id>).",
    )
    parser.add_argument(
        "--command",
        dest="agent_command",
        metavar="CMD",
        help='What runs the agent, e.g. "python agent.py": `agentreel test` runs it.',
    )
    parser.add_argument("--force", action="store_true", help="Overwrite FILE if it exists.")


def pin_command(settings: Settings, args: argparse.Namespace) -> int:
    trace_id = args.trace_id.strip().lower()
    output = args.output or DEFAULT_DIR + "/"
    # A folder (an existing one, or a path ending in /) gets NAME.json in it.
    into = output.endswith(("/", os.sep)) or Path(output).is_dir()
    name = args.name or (f"run-{trace_id[:12]}" if into else Path(output).stem)
    target = Path(output) / f"{name}.json" if into else Path(output)
    if target.exists() and not args.force:
        print(f"agentreel: {target} exists; --force overwrites it", file=sys.stderr)
        return 1
    params = {"name": name, **({"command": args.agent_command} if args.agent_command else {})}
    try:
        response = call(settings, "GET", f"/api/v1/runs/{trace_id}/case", params=params)
    except ApiError as exc:
        message = str(exc)
        if exc.status == 404:
            message = (
                f"{exc.detail} on the server at {settings.api_url} (`agentreel runs` lists runs)"
            )
        elif exc.status == 400:
            message = f"cannot pin {args.trace_id!r}: {exc.detail}"
        print(f"agentreel: {message}", file=sys.stderr)
        return 1
    try:
        case = cases.parse(response.json(), source="the server's case")
    except (ValueError, cases.CaseError) as exc:
        print(f"agentreel: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(case.document, indent=2, ensure_ascii=False) + "\n"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(target, text.encode(), replace=args.force)
    except FileExistsError:
        print(f"agentreel: {target} exists; --force overwrites it", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"agentreel: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    _report(case, target, args)
    return 0


def _report(case: cases.Case, target: Path, args: argparse.Namespace) -> None:
    unrecorded = sum(not t.recorded for t in case.tools)
    if getattr(args, "json", False):
        out: dict[str, Any] = {
            "path": str(target),
            "trace_id": case.trace_id,
            "name": case.name,
            "calls": len(case.calls),
            "tools": len(case.tools),
            "tools_not_recorded": unrecorded,
            "checksum": case.document["checksum"],
        }
        print(json.dumps(out, indent=2))
        return
    tools = count(len(case.tools), "tool result")
    if unrecorded:
        tools += f" ({unrecorded} asked for but never run: a re-run runs them live)"
    print(f"pinned run {case.trace_id} as {case.name!r} to {target}")
    print(f"  {count(len(case.calls), 'LLM call')}, {tools}")
    print(f"  {case.document['checksum']}")
    print(f"next: agentreel test {target.parent}/   (or pytest, with the agentreel plugin)")


def _write(target: Path, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to ``target`` whole or not at all; FileExistsError rather than replace
    a file that appeared meanwhile, unless ``replace``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        if replace:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if target exists: no check-then-write race
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links
                with target.open("xb") as out:
                    out.write(data)
    finally:
        Path(tmp).unlink(missing_ok=True)
