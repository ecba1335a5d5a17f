"""Re-running real framework agents (LangGraph, the OpenAI Agents SDK on Responses and on Chat
Completions): the run is recorded once for real, then re-run from call 3 and fully offline
in a fresh process, as a user does it (``AGENTREEL_RERUN_OF``/``AGENTREEL_RERUN_FROM`` and
``sdk.init()``; the tools under ``@sdk.tool``).

Ground truth: the requests the fake provider received and the tools' own log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support.fakeprovider import ToolCall, Turn
from support.frameworks import TURNS, FrameworkRun, run_agent
from support.liveserver import RunningServer

CONFIGS = {
    "langgraph": ("langgraph_agent", ("--with-sdk",)),
    "openai_agents-responses-stream": (
        "openai_agents_agent",
        ("--api", "responses", "--stream", "--with-sdk"),
    ),
    "openai_agents-chat": ("openai_agents_agent", ("--api", "chat", "--with-sdk")),
    # anthropic, its tools on an MCP server: ClientSession.call_tool answered from the recording
    "mcp": ("mcp_agent", ("--with-sdk",)),
}
SDK_TOOLS = {"FRAMEWORK_SDK_TOOLS": "1"}
#: What the provider answers live from call 3: the original's turns, with a tool-call id of
#: its own (a new provider would number from 1 again, reusing call 1's id).
LIVE_FROM_3: list[Turn] = [ToolCall("c_to_f", {"c": 21}, id="call_live_0003"), TURNS[3]]


def _run(
    server: RunningServer,
    tmp_path: Path,
    name: str,
    label: str,
    turns: list[Turn],
    rerun: dict[str, str] | None = None,
) -> tuple[FrameworkRun, dict[str, Any] | None]:
    script, args = CONFIGS[name]
    env = dict(SDK_TOOLS)
    report_path = tmp_path / f"{label}.rerun.json"
    if rerun is not None:
        env |= {**rerun, "AGENTREEL_SERVER": server.url, "AGENTREEL_RERUN_REPORT": str(report_path)}
    done = run_agent(server, script, turns, tmp_path, label=label, args=args, env=env)
    report = json.loads(report_path.read_text()) if rerun is not None else None
    return done, report


def _no_call_item_ids(body: dict[str, Any]) -> dict[str, Any]:
    """A request without the item ids of the Responses function calls it sends back: a served
    answer has none (no instrumentor records them; the call ids are kept and compared)."""
    items = body.get("input")
    if not isinstance(items, list):
        return body
    kept = [
        {k: v for k, v in item.items() if not (k == "id" and item.get("type") == "function_call")}
        for item in items
    ]
    return {**body, "input": kept}


def _windows(run: FrameworkRun) -> list[tuple[Any, Any, Any]]:
    return [
        (c["system_instructions"], c["input_messages"], c["output_messages"])
        for c in run.llm_calls()
    ]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_rerun_from_call_3_sends_calls_3_and_4_only_and_runs_only_the_last_tool(
    server: RunningServer, tmp_path: Path, name: str
) -> None:
    original, _ = _run(server, tmp_path, name, f"{name}-original", TURNS)
    assert len(original.exchanges) == 4 and len(original.tools) == 3

    again, report = _run(
        server,
        tmp_path,
        name,
        f"{name}-rerun",
        LIVE_FROM_3,
        {"AGENTREEL_RERUN_OF": original.trace_id, "AGENTREEL_RERUN_FROM": "3"},
    )
    # The provider received exactly the original's requests of calls 3 and 4 (call 4's
    # carries the id of the tool call this provider made up live at call 3; the rest equal).
    assert len(again.exchanges) == 2, report
    assert _no_call_item_ids(again.exchanges[0].body) == _no_call_item_ids(
        original.exchanges[2].body
    )
    # The two get_weather calls before call 3 were answered from the recording.
    assert [t.name for t in again.tools] == ["c_to_f"]
    assert report is not None and report["divergence"] is None
    assert report["calls_served"] == [1, 2] and report["calls_live"] == [3, 4]
    assert sorted(report["tools_served"]) == ["get_weather", "get_weather"]
    # Calls 1 and 2 of the re-run show the windows of the original's.
    assert _windows(again)[:2] == _windows(original)[:2]
    rerun_run = server.get(f"/api/v1/runs/{again.trace_id}")["run"]
    assert rerun_run["rerun_of"] == original.trace_id and rerun_run["rerun_from_call"] == 3
    reruns = server.get(f"/api/v1/runs/{original.trace_id}")["reruns"]
    assert [r["trace_id"] for r in reruns] == [again.trace_id]


@pytest.mark.parametrize("name", ["langgraph", "openai_agents-responses-stream"])
def test_a_full_offline_rerun_sends_nothing_and_runs_no_tool(
    server: RunningServer, tmp_path: Path, name: str
) -> None:
    original, _ = _run(server, tmp_path, name, f"{name}-original", TURNS)
    again, report = _run(
        server, tmp_path, name, f"{name}-offline", [], {"AGENTREEL_RERUN_OF": original.trace_id}
    )
    assert again.exchanges == [] and again.tools == []
    assert report is not None and report["calls_served"] == [1, 2, 3, 4]
    assert report["divergence"] is None
    assert _windows(again) == _windows(original)
    assert again.report["answer"] == original.report["answer"]
