"""The ``agentreel`` command as a user runs it: reading commands, start-up failures, restarts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from agentreel.cli.replay import STEP_NOTE

from support.cli import agentreel
from support.liveserver import RunningServer, free_port, start_server
from support.otlpbuild import new_span_id, new_trace_id, span, traces


def _send(server: RunningServer, agent: str) -> str:
    trace_id = new_trace_id()
    body = traces(
        [span(trace_id, new_span_id(), f"invoke_agent {agent}", {"gen_ai.agent.name": agent})]
    ).SerializeToString()
    response = httpx.post(
        server.url + "/v1/traces", content=body, headers={"content-type": "application/x-protobuf"}
    )
    assert response.status_code == 200
    return trace_id.hex()


def test_stats_and_runs(server: RunningServer) -> None:
    trace_id = _send(server, "cli-agent")
    stats = agentreel("stats", "--api-url", server.url)
    assert stats.returncode == 0, stats.stderr
    assert "spans" in stats.stdout and "storage bytes on disk" in stats.stdout
    as_json = json.loads(agentreel("stats", "--json", "--api-url", server.url).stdout)
    assert as_json["spans"] >= 1
    runs = agentreel("runs", "--agent", "cli-agent", "--api-url", server.url)
    assert runs.returncode == 0, runs.stderr
    assert trace_id in runs.stdout and "(1 of 1 run)" in runs.stdout
    assert "cost $" in runs.stdout.splitlines()[0]
    # Every option says what it does; a client command's --host is the server's, not a bind.
    helped = agentreel("runs", "--help").stdout
    described = _described_options(helped)
    for option in ("--limit", "--offset", "--agent", "--service", "--session", "--user",
                   "--status", "--since", "--sort", "--host", "--http-port"):  # fmt: skip
        assert described.get(option), (option, helped)
    assert "bind" not in helped
    env = {"AGENTREEL_HTTP_PORT": str(server.http_port)}  # the API address from settings
    listed = json.loads(agentreel("runs", "--json", "--agent", "cli-agent", env=env).stdout)
    assert [r["trace_id"] for r in listed["runs"]] == [trace_id]
    bad = agentreel("runs", "--sort", "nonsense", "--api-url", server.url)
    assert bad.returncode == 1 and "sort must be one of" in bad.stderr


def _described_options(helped: str) -> dict[str, str]:
    """Each option of an argparse --help page with the text that describes it."""
    out: dict[str, str] = {}
    current = ""
    for line in helped.splitlines():
        stripped = line.strip()
        if line.startswith("  -"):
            words = stripped.split("  ", 1)
            current = next(w for w in words[0].split(", ") if w.startswith("--")).split()[0]
            out[current] = words[1].strip() if len(words) > 1 else ""
        elif current and line.startswith(" " * 10) and stripped:
            out[current] = (out[current] + " " + stripped).strip()
        else:
            current = ""
    return out


def test_reading_commands_say_where_they_looked_when_the_server_is_down() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = agentreel("runs", "--api-url", url)
    assert result.returncode == 1
    assert url in result.stderr and "agentreel up" in result.stderr


def test_an_invalid_setting_fails_at_start_naming_it(tmp_path: Path) -> None:
    result = agentreel(
        "serve", env={"AGENTREEL_HTTP_PORT": "http", "AGENTREEL_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode == 2
    assert "AGENTREEL_HTTP_PORT" in _one_line(result.stderr)
    unknown = agentreel("serve", env={"AGENTREEL_GRPC_PROT": "1"})
    assert unknown.returncode == 2
    assert "unknown setting AGENTREEL_GRPC_PROT" in _one_line(unknown.stderr)
    redact = agentreel(
        "serve",
        env={
            "AGENTREEL_REDACT": str(tmp_path / "none.toml"),
            "AGENTREEL_DATA_DIR": str(tmp_path),
            "AGENTREEL_HTTP_PORT": str(free_port()),
            "AGENTREEL_GRPC_PORT": str(free_port()),
        },
    )
    assert redact.returncode == 1 and "AGENTREEL_REDACT" in _one_line(redact.stderr)


def test_a_second_server_on_the_same_store_is_refused_clearly(server: RunningServer) -> None:
    env = {
        "AGENTREEL_DATA_DIR": str(server.data_dir),
        "AGENTREEL_HTTP_PORT": str(free_port()),
        "AGENTREEL_GRPC_PORT": str(free_port()),
    }
    result = agentreel("serve", env=env)
    assert result.returncode == 1
    assert "open in another process" in _one_line(result.stderr)
    assert server.get("/healthz")["status"] == "ok"


def _one_line(stderr: str) -> str:
    """A start-up failure is one line on stderr: no log lines before it, no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agentreel: "), stderr
    return lines[0]


def test_a_second_server_on_the_same_ports_is_one_line(
    server: RunningServer, tmp_path: Path
) -> None:
    for ports in (
        {"AGENTREEL_HTTP_PORT": str(server.http_port), "AGENTREEL_GRPC_PORT": str(free_port())},
        {"AGENTREEL_HTTP_PORT": str(free_port()), "AGENTREEL_GRPC_PORT": str(server.grpc_port)},
        {
            "AGENTREEL_HTTP_PORT": str(server.http_port),
            "AGENTREEL_GRPC_PORT": str(server.grpc_port),
        },
    ):
        result = agentreel("serve", env={"AGENTREEL_DATA_DIR": str(tmp_path), **ports})
        assert result.returncode == 1
        assert "in use" in _one_line(result.stderr)
    assert server.get("/healthz")["status"] == "ok"


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "AGENTREEL_DATA_DIR": str(tmp_path),
            "AGENTREEL_HTTP_PORT": str(free_port()),
            "AGENTREEL_GRPC_PORT": str(port),
        }
        result = agentreel("serve", env=env)
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in _one_line(result.stderr)


def test_data_survives_a_restart(tmp_path: Path) -> None:
    first = start_server(tmp_path / "data")
    try:
        trace_id = _send(first, "durable")
    finally:
        first.stop()
    second = start_server(tmp_path / "data")
    try:
        run = second.get(f"/api/v1/runs/{trace_id}")["run"]
        assert run["agent"] == "durable"
        assert second.get("/api/v1/stats")["spans"] == 1
    finally:
        second.stop()


def test_replay_shows_each_call_with_its_window(
    server: RunningServer, instrumented_runs: Callable[[str], dict[str, Any]]
) -> None:
    from support.payloads import scenario

    trace_id = instrumented_runs("openinference_openai")["trace_id"]
    view = agentreel("replay", trace_id, "--api-url", server.url)
    assert view.returncode == 0, view.stderr
    assert "LLM call 1/3" in view.stdout and "LLM call 3/3" in view.stdout
    assert "timeline · 5 steps" in view.stdout and "since call 1:" in view.stdout
    assert scenario.USER_PROMPT in view.stdout and scenario.ANSWER in view.stdout
    assert "→ get_weather(" in view.stdout and "← [call_0001]" in view.stdout
    # Calls and steps: the timeline numbers its steps (LLM and tool calls), and names the call
    # each LLM step is; --call N is the Nth LLM call.
    timeline = server.get(f"/api/v1/runs/{trace_id}/timeline")
    for step in timeline["steps"]:
        if step["kind"] == "llm":
            assert f" {step['index']:>3} llm        call {step['llm']['call']} " in view.stdout
    body = agentreel(
        "replay", trace_id, "--call", "2", "--format", "openai", "--api-url", server.url
    )
    assert body.returncode == 0, body.stderr
    assert "LLM call 2/3" in body.stdout and "LLM call 1/3" not in body.stdout
    request = json.loads(body.stdout[body.stdout.index("{") :])
    assert [m["role"] for m in request["messages"]] == ["system", "user", "assistant", "tool"]
    assert body.stderr == ""
    # --step is the old name of --call: the same answer, and a one-line note.
    old = agentreel(
        "replay", trace_id, "--step", "2", "--format", "openai", "--api-url", server.url
    )
    assert old.returncode == 0 and old.stdout == body.stdout
    assert old.stderr.strip().splitlines() == [STEP_NOTE]
    one = agentreel("replay", trace_id, "--call", "3", "--api-url", server.url)
    assert "LLM call 3/3" in one.stdout and "since call 2:" in one.stdout
    as_json = json.loads(agentreel("replay", trace_id, "--json", "--api-url", server.url).stdout)
    assert len(as_json["llm_calls"]) == 3
    out_of_range = agentreel("replay", trace_id, "--call", "9", "--api-url", server.url)
    assert out_of_range.returncode == 2 and "has 3 LLM calls" in out_of_range.stderr
    assert "--call takes 1 to 3" in out_of_range.stderr
    # --diff answers the comparison: the run's summary and the diff, not every window first.
    other = instrumented_runs("openinference_openai_stream")["trace_id"]
    compared = agentreel("replay", trace_id, "--diff", other, "--api-url", server.url)
    assert compared.returncode == 0, compared.stderr
    assert "── diff: " in compared.stdout and "LLM call 1/3" not in compared.stdout
    assert "3 LLM calls" in compared.stdout
    # A reader that is gone before the first line (`| head` that already quit): no traceback.
    read_end, write_end = os.pipe()
    os.close(read_end)
    base = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREEL_")}
    gone = subprocess.run(
        [sys.executable, "-m", "agentreel", "replay", trace_id, "--api-url", server.url],
        stdout=write_end,
        stderr=subprocess.PIPE,
        env=base,
        text=True,
        timeout=60,
        check=False,
    )
    os.close(write_end)
    assert gone.returncode == 141 and "Traceback" not in gone.stderr, gone.stderr
    unknown = agentreel("replay", "ab" * 16, "--api-url", server.url)
    assert unknown.returncode == 1 and "no run with trace id" in unknown.stderr
