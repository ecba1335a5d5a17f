"""MCP: an ``anthropic`` tool loop whose tools live on a real ``mcp`` server
(``MCPServer``, FastMCP before mcp 2) over stdio, traced by
``openinference-instrumentation-anthropic`` and ``openinference-instrumentation-mcp`` as
OpenInference's docs say; the loop is an OpenInference agent span named ``weather_agent``.

The server is a second process with a service of its own, whose spans (mcp's, one per request
it serves) join the agent's trace: one run over two processes, which belongs to the agent's
service. The agent makes 4 LLM calls (Messages API) and 3 tool calls against the fake
provider; each test holds one of agentreel's views of the run against what the provider and
the tools saw.
"""

from __future__ import annotations

import pytest

from support import groundtruth
from support.fakeprovider import Answer, ToolCall, Turn
from support.frameworks import FrameworkRun, run_agent
from support.liveserver import RunningServer

AGENT_NAME = "weather_agent"
ANSWER = "Paris: 21C (69.8F), Lyon: 18C, both sunny."
TURNS: list[Turn] = [
    ToolCall("get_weather", {"city": "Paris"}),
    ToolCall("get_weather", {"city": "Lyon"}),
    ToolCall("c_to_f", {"c": 21}),
    Answer(ANSWER),
]


@pytest.fixture(scope="module")
def run(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> FrameworkRun:
    tmp = tmp_path_factory.mktemp("mcp")
    done = run_agent(server, "mcp_agent", TURNS, tmp, label="mcp")
    # The agent did what the script says: these are the facts the tests compare with.
    assert done.report["answer"] == ANSWER
    assert [(e.status, e.api) for e in done.exchanges] == [(200, "anthropic")] * 4
    assert [t.name for t in done.tools] == ["get_weather", "get_weather", "c_to_f"]
    return done


def _services(tree: list[dict[str, object]]) -> set[object]:
    found: set[object] = set()
    for span in tree:
        found |= {span["service"]} | _services(span["children"])  # type: ignore[arg-type]
    return found


def test_one_run_per_invocation(run: FrameworkRun) -> None:
    groundtruth.check_one_listed_run(run, [run.service + "-tools"])


def test_the_run_spans_both_processes(run: FrameworkRun) -> None:
    assert _services(run.detail()["spans"]) == {run.service, run.service + "-tools"}


def test_llm_calls_in_totals(run: FrameworkRun) -> None:
    groundtruth.check_llm_totals(run)


def test_llm_calls_in_timeline(run: FrameworkRun) -> None:
    groundtruth.check_llm_timeline(run)


def test_tool_calls_in_totals(run: FrameworkRun) -> None:
    groundtruth.check_tool_totals(run)


def test_tool_calls_in_timeline(run: FrameworkRun) -> None:
    groundtruth.check_tool_timeline(run)


def test_agent_service_status(run: FrameworkRun) -> None:
    """The run is the agent's: its service, not the tool server's."""
    groundtruth.check_identity(run, AGENT_NAME)


def test_tokens(run: FrameworkRun) -> None:
    groundtruth.check_tokens(run)


def test_replay_equals_requests(run: FrameworkRun) -> None:
    groundtruth.check_replay_anthropic(run)
