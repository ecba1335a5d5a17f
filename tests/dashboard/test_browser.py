"""`agentreel up --demo` end to end: both processes start, a real headless Chromium opens
every dashboard page, the README example's runs (examples/support_agent.py: a run that
succeeds, one its budget stops, both of one session), a run whose LLM call failed and that
session, with no exception text on any page and no clipped table or axis label (a screenshot
per view is saved under build/screenshots), and Ctrl-C stops both processes cleanly."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.browser import CHROMIUM, CHROMIUM_FLAGS, SCREENSHOTS, broken, clipped, wait_rendered
from support.liveserver import free_port
from support.otlpbuild import new_span_id, new_trace_id, span, traces
from support.paths import ROOT

PAGES = ("overview", "cost", "failures", "runs", "sessions", "routing", "quality")
#: The session the README example's runs share (``examples/support_agent.py``).
EXAMPLE_SESSION = "chat-7f3a"
START_SECONDS = 180.0


@dataclass
class Up:
    process: subprocess.Popen[str]
    api_url: str
    dashboard_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    data = tmp_path_factory.mktemp("up")
    http, grpc, dash = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREEL_")}
    env.update(
        {
            "AGENTREEL_DATA_DIR": str(data / "data"),
            "AGENTREEL_HTTP_PORT": str(http),
            "AGENTREEL_GRPC_PORT": str(grpc),
            "AGENTREEL_DASHBOARD_PORT": str(dash),
        }
    )
    log = data / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "agentreel", "up", "--demo"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
            start_new_session=True,  # its own process group, so teardown can reach the children
        )
    running = Up(process, f"http://127.0.0.1:{http}", f"http://127.0.0.1:{dash}", log)
    deadline = time.monotonic() + START_SECONDS
    while "Press Ctrl-C to stop." not in running.output():
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"agentreel up did not come up:\n{running.output()}")
        time.sleep(0.2)
    yield running
    if process.poll() is None:
        process.terminate()  # stops the server and the dashboard, as Ctrl-C does
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(60)
    # Whatever is left of its group (a child of an up that did not stop) goes too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def test_up_prints_both_urls_and_serves_both(up: Up, tmp_path: Path) -> None:
    out = up.output()
    assert up.dashboard_url in out and up.api_url in out
    assert "agentreel demo: " in out and " runs (" in out
    assert httpx.get(up.dashboard_url + "/_stcore/health", timeout=10).status_code == 200
    stats = httpx.get(up.api_url + "/api/v1/stats", timeout=10).json()
    assert stats["runs"] > 300
    _dashboard_alone(up, tmp_path)


def test_a_second_up_on_the_same_ports_says_one_is_running(up: Up) -> None:
    """A second `make run` beside the first: a clear refusal, never "agentreel is up"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREEL_")}
    env.update({"AGENTREEL_HTTP_PORT": up.api_url.rsplit(":", 1)[1],
                "AGENTREEL_DASHBOARD_PORT": up.dashboard_url.rsplit(":", 1)[1]})  # fmt: skip
    second = subprocess.run(
        [sys.executable, "-m", "agentreel", "up", "--demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 1, second.stdout + second.stderr
    assert "already running at " + up.api_url in second.stderr
    assert "agentreel is up" not in second.stdout
    assert httpx.get(up.api_url + "/healthz", timeout=10).status_code == 200


def test_every_page_in_headless_chromium(up: Up) -> None:
    _browse_every_page(up)


def test_ctrl_c_stops_both(up: Up) -> None:
    """Runs last in this module: it stops the shared `agentreel up`."""
    up.process.send_signal(signal.SIGINT)
    assert up.process.wait(60) == 0, up.output()
    for url in (up.dashboard_url + "/_stcore/health", up.api_url + "/healthz"):
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=5)
    assert "Application shutdown complete" in up.output()


def _dashboard_alone(up: Up, tmp_path: Path) -> None:
    """`agentreel dashboard` on its own port, reading the running server; Ctrl-C stops it."""
    port = free_port()
    log = tmp_path / "dashboard.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREEL_")}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "agentreel", "dashboard", "--api-url", up.api_url,
             "--dashboard-port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, text=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_SECONDS
        while "Press Ctrl-C to stop." not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert f"http://127.0.0.1:{port} (reading {up.api_url})" in log.read_text()
        health = httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=10)
        assert health.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0, log.read_text()


def _browse_every_page(up: Up) -> None:
    """Open each view in headless Chromium: no exception text and no clipped table on any,
    one screenshot each. Skipped (with the reason) on a machine without Chromium."""
    if not CHROMIUM:
        pytest.skip("chromium is not installed (CI installs Debian's chromium from .ci/run)")
    from playwright.sync_api import sync_playwright

    failing = httpx.get(
        up.api_url + "/api/v1/runs", params={"status": "error", "limit": 500}, timeout=10
    ).json()["runs"]
    llm_error = _llm_error_run(up)
    succeeded, stopped = _example_runs(up)
    views = [(p, f"?page={p}") for p in PAGES]
    views.append(("run", f"?page=runs&run={failing[0]['trace_id']}"))
    views.append(
        ("compare", f"?page=runs&run={failing[0]['trace_id']}&against={failing[1]['trace_id']}")
    )
    views.append(("example-run", f"?page=runs&run={succeeded}"))
    views.append(("example-budget-stopped", f"?page=runs&run={stopped}"))
    views.append(("llm-error-run", f"?page=runs&run={llm_error}"))
    views.append(("session", f"?page=sessions&session={EXAMPLE_SESSION}"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    profile = SCREENSHOTS.parent / "chromium-profile"
    shutil.rmtree(profile, ignore_errors=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1400, "height": 3000},
        )
        problems: list[str] = []
        try:
            page = browser.new_page()
            for name, query in views:
                page.goto(up.dashboard_url + "/" + query, wait_until="domcontentloaded")
                wait_rendered(page)
                shot = SCREENSHOTS / f"{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert page.locator("h1").first.inner_text(), f"{name}: no page title"
                assert shot.stat().st_size > 10_000
                problems += [f"{name}: {p}" for p in broken(page) + clipped(page)]
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
    session = httpx.get(f"{up.api_url}/api/v1/sessions/{EXAMPLE_SESSION}", timeout=10).json()
    assert [r["trace_id"] for r in session["runs"]] == [succeeded, stopped]


def _example_runs(up: Up) -> tuple[str, str]:
    """Run the README's example against the server: the trace ids of its two runs (the one
    that succeeds, the one its budget stops)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTREEL_", "OTEL_"))}
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = up.api_url
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "support_agent.py")],
        env=env, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    ids = dict(re.findall(r"^run (\d): ([0-9a-f]{32})", done.stdout, re.M))
    assert set(ids) == {"1", "2"}, done.stdout
    return ids["1"], ids["2"]


def _llm_error_run(up: Up) -> str:
    """A run whose second LLM call failed (429, no answer), as instrumentors record one."""
    trace, root, ok, failed = new_trace_id(), *(new_span_id() for _ in range(3))
    asked = [{"role": "user", "parts": [{"type": "text", "content": "Where is order A-7?"}]}]
    said = [{"role": "assistant", "parts": [{"type": "text", "content": "Let me check."}]}]
    start = time.time_ns() - 60 * 10**9

    def chat(span_id: bytes, at: int, **outcome: Any) -> Any:
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.input.messages": json.dumps(asked),
        }
        return span(trace, span_id, "chat gpt-4o-mini", {**attrs, **outcome.pop("attrs", {})},
                    parent=root, start_ns=at, duration_ns=10**8, **outcome)  # fmt: skip

    spans = [
        span(trace, root, "invoke_agent support", {"gen_ai.operation.name": "invoke_agent",
             "gen_ai.agent.name": "support"}, start_ns=start, duration_ns=10**9, status=2),
        chat(ok, start + 10**7, attrs={"gen_ai.output.messages": json.dumps(said),
             "gen_ai.usage.input_tokens": 20, "gen_ai.usage.output_tokens": 5}),
        chat(failed, start + 2 * 10**8, attrs={"error.type": "RateLimitError"}, status=2,
             message="429 Too Many Requests: rate limit reached"),
    ]  # fmt: skip
    sent = httpx.post(
        up.api_url + "/v1/traces",
        content=traces(spans).SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    trace_id = trace.hex()
    deadline = time.monotonic() + 30
    while httpx.get(f"{up.api_url}/api/v1/runs/{trace_id}", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "the LLM-error run was not stored"
        time.sleep(0.05)
    return trace_id
