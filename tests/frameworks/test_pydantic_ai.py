"""PydanticAI (``pydantic-ai-slim[openai]``) traced by its own OpenTelemetry GenAI
instrumentation (``Agent.instrument_all()``), exporting over OTLP to agentreel.

The agent ``weather_agent`` makes 4 LLM calls (Chat Completions) and 3 tool calls against the
fake provider; each test holds one of agentreel's views of the run against what the provider
and the tools saw.
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
    tmp = tmp_path_factory.mktemp("pydantic_ai")
    done = run_agent(server, "pydantic_ai_agent", TURNS, tmp, label="pydantic_ai")
    # The agent did what the script says: these are the facts the tests compare with.
    assert done.report["answer"] == ANSWER
    assert [(e.status, e.api) for e in done.exchanges] == [(200, "openai")] * 4
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
    groundtruth.check_identity(run, AGENT_NAME)


def test_tokens(run: FrameworkRun) -> None:
    # PydanticAI records every figure, reasoning tokens included
    # (gen_ai.usage.details.reasoning_tokens).
    groundtruth.check_tokens(run)


def test_replay_equals_requests(run: FrameworkRun) -> None:
    groundtruth.check_replay(run)
