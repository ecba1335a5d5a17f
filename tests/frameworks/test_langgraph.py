"""LangGraph (``langgraph`` + ``langchain-openai``) traced by
``openinference-instrumentation-langchain``, as its docs say, exporting over OTLP to agentreel.

A hand-built ReAct graph named ``weather_agent`` (model node, ``ToolNode``, ``tools_condition``)
makes 4 LLM calls and 3 tool calls against the fake provider; each test holds one of
agentreel's views of the run against what the provider and the tools saw.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support import groundtruth
from support.fakeprovider import Answer, ToolCall, Turn
from support.frameworks import FrameworkRun, run_agent
from support.liveserver import RunningServer

GRAPH_NAME = "weather_agent"
ANSWER = "Paris: 21C (69.8F), Lyon: 18C, both sunny."
TURNS: list[Turn] = [
    ToolCall("get_weather", {"city": "Paris"}),
    ToolCall("get_weather", {"city": "Lyon"}),
    ToolCall("c_to_f", {"c": 21}),
    Answer(ANSWER),
]

#: label -> (agent script arguments, OTLP protocol)
CONFIGS = {
    "langgraph": ((), "http"),
    "langgraph-stream": (("--stream",), "grpc"),
}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def run(
    request: pytest.FixtureRequest, server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> FrameworkRun:
    label = request.param
    args, protocol = CONFIGS[label]
    tmp: Path = tmp_path_factory.mktemp(label)
    done = run_agent(
        server, "langgraph_agent", TURNS, tmp, label=label, protocol=protocol, args=args
    )
    # The agent did what the script says: these are the facts the tests compare with.
    assert done.report["answer"] == ANSWER
    assert [e.status for e in done.exchanges] == [200] * 4
    assert [t.name for t in done.tools] == ["get_weather", "get_weather", "c_to_f"]
    return done


def test_one_run_per_invocation(run: FrameworkRun) -> None:
    groundtruth.check_one_run(run)


def test_llm_calls_in_totals(run: FrameworkRun) -> None:
    groundtruth.check_llm_totals(run)


def test_llm_calls_in_timeline(run: FrameworkRun) -> None:
    groundtruth.check_llm_timeline(run)


def test_tool_calls_in_totals(run: FrameworkRun) -> None:
    groundtruth.check_tool_totals(run)


def test_tool_calls_in_timeline(run: FrameworkRun) -> None:
    groundtruth.check_tool_timeline(run)


def test_agent_service_status(run: FrameworkRun) -> None:
    groundtruth.check_identity(run, GRAPH_NAME)


def test_tokens(run: FrameworkRun) -> None:
    groundtruth.check_tokens(run)


def test_replay_equals_requests(run: FrameworkRun) -> None:
    groundtruth.check_replay(run)
