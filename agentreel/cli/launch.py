"""``agentreel up``, ``agentreel dashboard`` and ``agentreel demo``: start the parts as
child processes, wait for them, stop them together.

``up`` runs the server (collector + REST API) and the Streamlit dashboard side by side and
prints where each listens; Ctrl-C (or SIGTERM) stops both, the server first flushing what
it accepted. With ``--demo`` an empty store is seeded with a week of sample runs first.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import httpx

from agentreel.cli.client import auth_headers
from agentreel.settings import SETTINGS, Settings

if TYPE_CHECKING:
    from agentreel.demo import DemoResult

#: Seconds the server gets to answer /healthz after it is started (migrations run first).
SERVER_START_SECONDS = 120.0
#: Seconds each child gets to stop after SIGTERM before it is killed.
STOP_SECONDS = 30.0


class _Stop(Exception):
    """SIGTERM arrived: stop like Ctrl-C."""


def add_arguments(
    up: argparse.ArgumentParser, dashboard: argparse.ArgumentParser, demo: argparse.ArgumentParser
) -> None:
    up.add_argument(
        "--demo",
        action="store_true",
        help="On first start (an empty store), load a week of sample runs (agentreel demo).",
    )
    up.add_argument("--no-dashboard", action="store_true", help="Start the server only.")
    demo.add_argument("--seed", type=int, default=7, help="Same seed, same runs (default 7).")
    demo.add_argument("--days", type=int, default=7, help="Days of runs, ending now (default 7).")
    del dashboard  # takes the client settings only: where the server is, and the port


def dashboard_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run the dashboard until Ctrl-C."""
    del args
    child = _start_dashboard(settings)
    if not _wait_dashboard(settings, child):
        return _stop_all({"dashboard": child}, 1)
    print(f"agentreel dashboard: {settings.dashboard_url} (reading {settings.api_url})")
    print("Press Ctrl-C to stop.", flush=True)
    return _supervise({"dashboard": child})


def demo_command(settings: Settings, args: argparse.Namespace) -> int:
    """Send the demo runs to a running server."""
    if args.days < 1 or args.days > 90:
        print("agentreel: --days must be between 1 and 90", file=sys.stderr)
        return 2
    problem = _health(settings)
    if problem:
        print(f"agentreel: {problem}", file=sys.stderr)
        return 1
    result = _send_demo(settings, args.seed, args.days)
    if result is not None and args.json:
        print(json.dumps(dataclasses.asdict(result), indent=2))
    return 0 if result is not None else 1


def up_command(settings: Settings, args: argparse.Namespace) -> int:
    """Start the server and the dashboard; seed an empty store with ``--demo``."""
    if _health(settings) is None:
        # Another agentreel holds these ports (a second `make run`): waiting for "our" server
        # would find that one healthy and announce a start that did not happen.
        print(
            f"agentreel: one is already running at {settings.api_url} (dashboard "
            f"{settings.dashboard_url}); use it, stop it first, or start this one on other "
            "ports (--http-port, --grpc-port, --dashboard-port) and another --data-dir",
            file=sys.stderr,
        )
        return 1
    children: dict[str, subprocess.Popen[bytes]] = {}
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        children["server"] = subprocess.Popen(
            [sys.executable, "-m", "agentreel", "serve", *_given_flags(args)]
        )
        if not _wait_healthy(settings, children["server"]):
            return _stop_all(children, 1)
        if args.demo:
            seed_if_empty(settings)
        if not args.no_dashboard:
            children["dashboard"] = _start_dashboard(settings)
            if not _wait_dashboard(settings, children["dashboard"]):
                return _stop_all(children, 1)
        _announce(settings, dashboard="dashboard" in children)
        return _supervise(children)
    except (KeyboardInterrupt, _Stop):
        return _stop_all(children, 0)
    finally:
        signal.signal(signal.SIGTERM, previous)


def seed_if_empty(settings: Settings) -> bool:
    """Load the demo when the server has no run yet; True when it did."""
    url = settings.api_url.rstrip("/") + "/api/v1/stats"
    try:
        stats = httpx.get(url, headers=auth_headers(settings), timeout=30)
    except httpx.HTTPError as exc:
        print(f"agentreel: --demo skipped: {url} did not answer ({exc})", file=sys.stderr)
        return False
    if stats.status_code != 200:
        hint = (
            " (set AGENTREEL_API_KEY to a key of the project)" if stats.status_code == 401 else ""
        )
        print(
            f"agentreel: --demo skipped: {url} answered {stats.status_code}{hint}", file=sys.stderr
        )
        return False
    stored = stats.json().get("runs", 0)
    if stored:
        print(f"agentreel: opening the store with its {stored} runs (sample runs load only once)")
        return False
    return _send_demo(settings, seed=7, days=7) is not None


def _send_demo(settings: Settings, seed: int, days: int) -> DemoResult | None:
    """Send the demo with progress lines; the result, or None once the failure is printed."""
    from agentreel.demo import send_demo

    print(f"agentreel demo: sending {days} days of sample runs to {settings.api_url} (seed {seed})")
    result = send_demo(
        settings.api_url,
        seed=seed,
        days=days,
        api_key=settings.api_key,
        progress=lambda line: print(f"  {line}", flush=True),
    )
    if result.export_failures:
        print(
            f"agentreel: {result.export_failures} of {result.spans} spans were not accepted; "
            "see the messages above",
            file=sys.stderr,
        )
        return None
    print(
        f"agentreel demo: {result.runs} runs ({result.failed_runs} failed, "
        f"{result.escalated_runs} escalated, {result.scored_runs} scored)"
    )
    return result


def _given_flags(args: argparse.Namespace) -> list[str]:
    """The setting flags given to this command, for the server child (which also inherits
    the AGENTREEL_* environment): it parses exactly what the user wrote."""
    flags = []
    for setting in SETTINGS:
        value = getattr(args, setting.name, None)
        if value is not None:
            flags += [setting.flag, str(value)]
    return flags


def _start_dashboard(settings: Settings) -> subprocess.Popen[bytes]:
    app = str(files("agentreel.dashboard") / "app.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREEL_")}
    env["AGENTREEL_API_URL"] = settings.api_url
    if settings.api_key:
        env["AGENTREEL_API_KEY"] = settings.api_key
    command = [
        sys.executable, "-m", "streamlit", "run", app,
        "--server.port", str(settings.dashboard_port),
        "--server.address", settings.host,
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
        "--logger.level", "warning",
    ]  # fmt: skip
    # Streamlit's stdout is only its own "view your app" banner; agentreel prints the URLs.
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def _supervise(children: dict[str, subprocess.Popen[bytes]]) -> int:
    """Wait until a child exits or the user stops us; then stop the others."""
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        while True:
            for name, child in children.items():
                code = child.poll()
                if code is not None:
                    print(f"agentreel: the {name} stopped (exit code {code})", file=sys.stderr)
                    return _stop_all(children, code or 1)
            time.sleep(0.5)
    except (KeyboardInterrupt, _Stop):
        return _stop_all(children, 0)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_all(children: dict[str, subprocess.Popen[bytes]], code: int) -> int:
    # The dashboard first (it only reads), then the server, which flushes what it accepted.
    for name in sorted(children, key=lambda n: n == "server"):
        child = children[name]
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                print(f"agentreel: the {name} did not stop in time; killing it", file=sys.stderr)
                child.kill()
                child.wait()
    return code


def _wait_healthy(settings: Settings, server: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            print(f"agentreel: the server exited with code {server.returncode}", file=sys.stderr)
            return False
        if _health(settings) is None:
            return True
        time.sleep(0.2)
    print(
        f"agentreel: the server did not answer within {SERVER_START_SECONDS:.0f}s", file=sys.stderr
    )
    return False


def _wait_dashboard(settings: Settings, child: subprocess.Popen[bytes]) -> bool:
    """Wait until the dashboard answers, so the URLs are printed once they work."""
    url = settings.dashboard_url + "/_stcore/health"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if child.poll() is not None:
            print(
                f"agentreel: the dashboard exited with code {child.returncode} (is port "
                f"{settings.dashboard_port} taken? set --dashboard-port)",
                file=sys.stderr,
            )
            return False
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    print(f"agentreel: the dashboard did not answer at {url}", file=sys.stderr)
    return False


def _health(settings: Settings) -> str | None:
    """None when the server answers /healthz, else what is wrong."""
    url = settings.api_url.rstrip("/") + "/healthz"
    try:
        response = httpx.get(url, timeout=5)
    except httpx.HTTPError as exc:
        return (
            f"cannot reach the server at {settings.api_url} ({type(exc).__name__}); start "
            "it with `agentreel up` or point --api-url / AGENTREEL_API_URL at it"
        )
    if response.status_code != 200:
        return f"{url} answered {response.status_code}: {response.text[:200]}"
    return None


def _announce(settings: Settings, dashboard: bool) -> None:
    host = urlparse(settings.api_url).hostname or settings.host
    lines = ["", "agentreel is up:"]
    if dashboard:
        lines.append(f"  dashboard        {settings.dashboard_url}")
    lines += [
        f"  OTLP/HTTP + REST {settings.api_url}  (API docs {settings.api_url}/docs)",
        f"  OTLP/gRPC        {host}:{settings.grpc_port}",
        "Press Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)


def _raise_stop(signum: int, frame: Any) -> None:
    raise _Stop
