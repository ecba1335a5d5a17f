"""Run a real ``agentreel serve`` process for tests and benchmarks, on free ports and a fresh
data dir."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

#: Seconds a server gets to answer /healthz after it is started.
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    data_dir: Path
    http_port: int
    grpc_port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(self.url + path, params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, predicate: Any, timeout: float = 30.0, what: str = "condition") -> Any:
        """Poll ``predicate(self)`` until it returns a truthy value."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = predicate(self)
            if last:
                return last
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; last value {last!r}\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        return stop_process(self.process, sig, timeout)


def stop_process(process: subprocess.Popen[bytes], sig: int, timeout: float) -> int:
    """Send ``sig``; kill the process if it has not exited within ``timeout``. Its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return int(process.returncode)


def start_server(
    data_dir: Path,
    extra_env: dict[str, str] | None = None,
    *,
    command: Sequence[str] = (sys.executable, "-m", "agentreel"),
    log_path: Path | None = None,
    timeout: float = START_TIMEOUT,
) -> RunningServer:
    """``<command> serve`` on ``data_dir`` and two free ports, once it answers /healthz.

    ``extra_env`` adds settings (``AGENTREEL_*`` of the caller's environment are not passed
    on); the log goes to ``log_path``, by default ``server.log`` in ``data_dir``.
    """
    http_port, grpc_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREEL_")}
    env.update(
        {
            "AGENTREEL_DATA_DIR": str(data_dir),
            "AGENTREEL_HTTP_PORT": str(http_port),
            "AGENTREEL_GRPC_PORT": str(grpc_port),
            "AGENTREEL_LOG_LEVEL": "info",
        }
    )
    env.update(extra_env or {})
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_path or data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "serve"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = RunningServer(data_dir, http_port, grpc_port, process, log_path, env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"agentreel serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"agentreel serve did not become healthy:\n{server.log()}")


@dataclass
class RunningDashboard:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def stop(self, timeout: float = 60.0) -> int:
        """Ctrl-C, as a user stops it; killed if it does not stop within ``timeout``."""
        return stop_process(self.process, signal.SIGINT, timeout)


def start_dashboard(
    api_url: str, log_path: Path, *, timeout: float = 3 * START_TIMEOUT
) -> RunningDashboard:
    """``agentreel dashboard`` on a free port reading ``api_url``, once it says it is up."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREEL_")}
    command = [sys.executable, "-m", "agentreel", "dashboard", "--api-url", api_url]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--dashboard-port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env
        )
    dashboard = RunningDashboard(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while "Press Ctrl-C to stop." not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            dashboard.stop()
            raise RuntimeError(f"agentreel dashboard did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    return dashboard
