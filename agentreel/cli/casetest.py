"""``agentreel test cases/``: run every pinned regression case's agent offline; a table.

Each case file (:mod:`agentreel.core.cases`, written by ``agentreel pin ... --command CMD``)
names the command that runs its agent. The command runs once per case, in a process of its
own, with the SDK's re-run mode switched on by the environment (``AGENTREEL_RERUN_CASE``,
``AGENTREEL_RERUN_ON_DIVERGENCE=fail``, ``AGENTREEL_RERUN_REPORT``): every LLM call and
``@sdk.tool`` call is answered from the case, and a request that differs from the
recording fails that call. The re-run's report, written when the agent's process ends, says
what was served and where it diverged.

A case passes when its agent exits 0, wrote a report (it called ``sdk.init()``) and never
diverged. ``--live`` sends the model calls to the provider and compares each request with
the recording: where does each case diverge with today's model? No server is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from agentreel.cli.words import count
from agentreel.core import cases
from agentreel.settings import Settings

DEFAULT_TIMEOUT_S = 300.0
#: Lines of a failing agent's output shown under the table.
OUTPUT_LINES = 12
#: Characters of a divergence in the table (it is printed whole under it).
DIVERGENCE_CHARS = 60


@dataclass
class Outcome:
    """One case's run."""

    case: str
    path: str
    passed: bool
    #: The agent's exit status; None when it did not run or ran out of time.
    exit_code: int | None = None
    calls_served: int = 0
    calls_live: int = 0
    tools_served: int = 0
    tools_live: int = 0
    #: ``call N: what differs``, or None.
    divergence: str | None = None
    #: Why the case failed when it is not a divergence.
    problem: str | None = None
    seconds: float = 0.0
    output: str = ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="DIR_OR_FILE",
        help="Case files, or folders whose *.json files are cases (agentreel pin writes them).",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="Send the model calls to the provider (tools still served) and report where each "
        "case diverges now: the check before a model or prompt upgrade.",
    )
    parser.add_argument(
        "--cwd",
        metavar="DIR",
        help="Run every agent command in DIR (default: where agentreel test runs, as pytest).",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"Stop an agent that runs longer than this (default {DEFAULT_TIMEOUT_S:g}).",
    )
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")


def test_command(settings: Settings, args: argparse.Namespace) -> int:
    found, missing = case_files(args.paths)
    if missing:
        print(f"agentreel: no such case file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not found:
        print(
            f"agentreel: no case files (*.json) in {', '.join(args.paths)}; "
            "pin one with `agentreel pin TRACE -o cases/NAME.json --command CMD`",
            file=sys.stderr,
        )
        return 2
    cwd = Path(args.cwd) if args.cwd else None
    if cwd is not None and not cwd.is_dir():
        print(f"agentreel: --cwd {cwd} is not a folder", file=sys.stderr)
        return 2
    progress = sys.stderr if args.json else sys.stdout
    outcomes = []
    for path in found:
        outcome = run_case(path, live=args.live, cwd=cwd, timeout=args.timeout)
        _progress(outcome, progress)
        outcomes.append(outcome)
    failed = sum(not o.passed for o in outcomes)
    if args.json:
        summary = {"passed": len(outcomes) - failed, "failed": failed}
        print(json.dumps({**summary, "cases": [asdict(o) for o in outcomes]}, indent=2))
    else:
        _table(outcomes)
        print(f"{count(len(outcomes), 'case')}: {len(outcomes) - failed} passed, {failed} failed")
    return 1 if failed else 0


def case_files(paths: list[str]) -> tuple[list[Path], list[str]]:
    """The case files ``paths`` name (a folder: its ``*.json``, sorted), and the paths that
    do not exist."""
    found: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.json") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            missing.append(raw)
    return found, missing


def run_case(path: Path, *, live: bool, cwd: Path | None, timeout: float) -> Outcome:
    """Run the agent of the case at ``path`` under it and judge the run."""
    try:
        case = cases.load(path)
    except cases.CaseError as exc:
        return Outcome(path.stem, str(path), False, problem=str(exc))
    name = case.name or path.stem
    if not case.command:
        return Outcome(
            name,
            str(path),
            False,
            problem=f"{path} has no command: pin it with --command, e.g. "
            f'`agentreel pin {case.trace_id} -o {path} --force --command "python agent.py"`',
        )
    with tempfile.TemporaryDirectory(prefix="agentreel-test-") as tmp:
        report_path = Path(tmp) / "report.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREEL_RERUN_")}
        env.update(
            {
                "AGENTREEL_RERUN_CASE": str(path.resolve()),
                "AGENTREEL_RERUN_ON_DIVERGENCE": "fail",
                "AGENTREEL_RERUN_REPORT": str(report_path),
            }
        )
        if live:
            env["AGENTREEL_RERUN_LIVE"] = "1"
        workdir = cwd or Path.cwd()
        started = time.monotonic()
        code, output, problem = _run(case.command, workdir, env, timeout)
        report = _report(report_path)
    outcome = Outcome(name, str(path), False, code, seconds=time.monotonic() - started)
    outcome.output = output
    if report is not None:
        outcome.calls_served = len(report.get("calls_served") or [])
        outcome.calls_live = len(report.get("calls_live") or [])
        outcome.tools_served = len(report.get("tools_served") or [])
        outcome.tools_live = len(report.get("tools_live") or [])
        divergence = report.get("divergence")
        if isinstance(divergence, dict):
            outcome.divergence = f"call {divergence.get('call')}: {divergence.get('what')}"
    if problem is None and report is None:
        problem = (
            "the agent wrote no re-run report: it never called sdk.init() "
            "(or ended without running its exit handlers)"
        )
    if problem is None and code != 0 and outcome.divergence is None:
        problem = f"the agent exited with status {code}"
    outcome.problem = problem
    outcome.passed = problem is None and outcome.divergence is None and code == 0
    return outcome


def _run(
    command: str, cwd: Path, env: dict[str, str], timeout: float
) -> tuple[int | None, str, str | None]:
    """``(exit status, output, problem)`` of ``command``, stopped (with what it started)
    after ``timeout`` seconds."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return None, "", f"cannot read the command {command!r}: {exc}"
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a timeout stops what it started too
        )
    except OSError as exc:
        return None, "", f"cannot run {command!r} in {cwd}: {exc.strerror or exc}"
    try:
        raw, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(process)
        raw, _ = process.communicate()
        return None, _text(raw), f"the agent ran out of time ({timeout:g} s) and was stopped"
    except BaseException:  # interrupted: its own group does not get the terminal's Ctrl-C
        _stop(process)
        raise
    return process.returncode, _text(raw), None


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (AttributeError, OSError):  # no process groups (Windows), or gone already
        process.kill()


def _text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", "replace")


def _report(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _progress(outcome: Outcome, out: TextIO) -> None:
    verdict = "PASS" if outcome.passed else "FAIL"
    why = outcome.problem or (f"diverged at {outcome.divergence}" if outcome.divergence else "")
    line = f"{verdict}  {outcome.case}  ({outcome.seconds:.1f} s)" + (f": {why}" if why else "")
    print(line, file=out, flush=True)


def _table(outcomes: list[Outcome]) -> None:
    rows = [("case", "calls served/live", "tools served", "divergence", "exit", "result")]
    for o in outcomes:
        tools = str(o.tools_served) + (f", {o.tools_live} live" if o.tools_live else "")
        divergence = o.divergence or "none"
        if len(divergence) > DIVERGENCE_CHARS:
            divergence = divergence[: DIVERGENCE_CHARS - 1] + "…"
        code = "-" if o.exit_code is None else str(o.exit_code)
        verdict = "PASS" if o.passed else "FAIL"
        rows.append((o.case, f"{o.calls_served}/{o.calls_live}", tools, divergence, code, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    for o in outcomes:
        if o.passed:
            continue
        print(f"\n{o.case} ({o.path}):")
        print(f"  diverged at {o.divergence}" if o.divergence else f"  {o.problem}")
        tail = o.output.rstrip().splitlines()[-OUTPUT_LINES:]
        if tail and not o.divergence:
            print("  last lines of its output:")
            for line in tail:
                print(f"    {line}")
    print()
