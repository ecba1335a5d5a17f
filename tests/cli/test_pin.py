"""``agentreel pin`` and the re-run line of ``agentreel replay``, as a user runs them, against
the session's server holding a run sent over OTLP/HTTP (the spans sent are the ground truth)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from agentreel.core import cases

from support.cli import agentreel
from support.liveserver import RunningServer, free_port
from support.runbuild import Run, answer, calls, response, user


@pytest.fixture(scope="module")
def trace_id(server: RunningServer) -> str:
    """A run of two LLM calls and one tool, stored by the server."""
    run = Run()
    ask = [user("Weather in Paris?")]
    weather = ("call_1", "get_weather", '{"city": "Paris"}')
    run.llm(ask, calls(weather))
    run.tool("get_weather", "call_1", '{"city": "Paris"}', '{"temp_c": 21}')
    run.llm([*ask, calls(weather), response("call_1", '{"temp_c": 21}')], answer("21C."))
    sent = httpx.post(
        server.url + "/v1/traces",
        content=run.request(),
        headers={"content-type": "application/x-protobuf"},
    )
    assert sent.status_code == 200
    server.wait_for(lambda s: s.get("/api/v1/runs", q=run.id)["total"] == 1, what="the run")
    return run.id


def test_pin_writes_a_case_that_checks_out(
    server: RunningServer, trace_id: str, tmp_path: Path
) -> None:
    target = tmp_path / "cases" / "paris.json"  # the folder does not exist yet
    done = agentreel(
        "pin", trace_id, "-o", str(target), "--command", "python agent.py", "--api-url", server.url
    )
    assert done.returncode == 0, done.stderr
    case = cases.load(target)
    assert (case.trace_id, case.name, case.command) == (trace_id, "paris", "python agent.py")
    assert [c.call for c in case.calls] == [1, 2]
    assert [(t.name, t.call_id, t.result, t.after_call) for t in case.tools] == [
        ("get_weather", "call_1", '{"temp_c": 21}', 1)
    ]
    out = done.stdout
    assert str(target) in out and case.document["checksum"] in out
    assert "2 LLM calls" in out and "1 tool result" in out
    assert "agentreel test" in out
    # --name names the case whatever the file is called; --json says the same as data.
    named = tmp_path / "other.json"
    done = agentreel(
        "pin", trace_id, "-o", str(named), "--name", "weather", "--json", "--api-url", server.url
    )
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert (said["path"], said["name"], said["calls"], said["tools"]) == (
        str(named),
        "weather",
        2,
        1,
    )
    assert said["checksum"] == cases.load(named).document["checksum"]
    # A folder gets the case under the run's name.
    into = agentreel("pin", trace_id, "-o", f"{tmp_path}/more/", "--api-url", server.url)
    assert into.returncode == 0, into.stderr
    assert cases.load(tmp_path / "more" / f"run-{trace_id[:12]}.json").trace_id == trace_id


def test_pin_does_not_overwrite_without_force(
    server: RunningServer, trace_id: str, tmp_path: Path
) -> None:
    target = tmp_path / "kept.json"
    target.write_text("my own notes\n")
    refused = agentreel("pin", trace_id, "-o", str(target), "--api-url", server.url)
    assert refused.returncode == 1
    assert "exists" in refused.stderr and "--force" in refused.stderr
    assert target.read_text() == "my own notes\n"
    forced = agentreel("pin", trace_id, "-o", str(target), "--force", "--api-url", server.url)
    assert forced.returncode == 0, forced.stderr
    assert cases.load(target).trace_id == trace_id
    assert [p.name for p in tmp_path.iterdir()] == ["kept.json"]  # no temporary file left


def test_pin_says_what_went_wrong(server: RunningServer, tmp_path: Path) -> None:
    target = tmp_path / "cases" / "x.json"
    unknown = agentreel("pin", "ab" * 16, "-o", str(target), "--api-url", server.url)
    assert unknown.returncode == 1
    assert f"no run with trace id {'ab' * 16}" in unknown.stderr and server.url in unknown.stderr
    bad = agentreel("pin", "not-a-trace", "-o", str(target), "--api-url", server.url)
    assert bad.returncode == 1 and "32 hexadecimal" in bad.stderr
    down = f"http://127.0.0.1:{free_port()}"
    gone = agentreel("pin", "ab" * 16, "-o", str(target), "--api-url", down)
    assert gone.returncode == 1 and down in gone.stderr and "agentreel up" in gone.stderr
    assert not target.exists()
    assert "Traceback" not in unknown.stderr + bad.stderr + gone.stderr


def test_replay_prints_the_rerun_command_under_each_call(
    server: RunningServer, trace_id: str
) -> None:
    view = agentreel("replay", trace_id, "--api-url", server.url)
    assert view.returncode == 0, view.stderr
    lines = [line.strip() for line in view.stdout.splitlines() if "re-run from here" in line]
    assert lines == [
        f"re-run from here: AGENTREEL_RERUN_OF={trace_id} AGENTREEL_RERUN_FROM={n} "
        "python your_agent.py"
        for n in (1, 2)
    ]
    mine = agentreel(
        "replay", trace_id, "--call", "2", "--command", "uv run bot.py", "--api-url", server.url
    )
    assert mine.returncode == 0, mine.stderr
    assert "AGENTREEL_RERUN_FROM=2 uv run bot.py" in mine.stdout
    assert "AGENTREEL_RERUN_FROM=1" not in mine.stdout
