"""The OpenAI Agents SDK (``openai-agents``) traced by
``openinference-instrumentation-openai-agents``, as its docs say, exporting over OTLP.

The agent ``weather_agent`` makes 4 LLM calls and 3 tool calls against the fake provider, on
the Responses API (the SDK's default) and on Chat Completions (``OpenAIChatCompletionsModel``),
with ``Runner.run`` and ``Runner.run_streamed``; each test holds one of agentreel's views of
the run against what the provider and the tools saw.
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

#: label -> (agent script arguments, OTLP protocol)
CONFIGS = {
    "openai_agents-responses": (("--api", "responses"), "grpc"),
    "openai_agents-responses-stream": (("--api", "responses", "--stream"), "http"),
    "openai_agents-chat": (("--api", "chat"), "http"),
    "openai_agents-chat-stream": (("--api", "chat", "--stream"), "grpc"),
}
#: Usage the instrumentor does not record: the SDK's generation span for Chat Completions
#: keeps input and output tokens only. (Streamed, the SDK asks for no usage at all, so the
#: provider answers none and every figure is 0.)
GAPS = {"openai_agents-chat": {"cache", "reasoning"}}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def run(
    request: pytest.FixtureRequest, server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> FrameworkRun:
    label = request.param
    args, protocol = CONFIGS[label]
    tmp = tmp_path_factory.mktemp(label)
    done = run_agent(
        server, "openai_agents_agent", TURNS, tmp, label=label, protocol=protocol, args=args
    )
    # The agent did what the script says: these are the facts the tests compare with.
    assert done.report["answer"] == ANSWER
    api = "responses" if "responses" in label else "openai"
    assert [(e.status, e.api, e.streamed) for e in done.exchanges] == [
        (200, api, label.endswith("-stream"))
    ] * 4
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
    groundtruth.check_tokens(run, GAPS.get(run.label, set()))


def test_replay_equals_requests(run: FrameworkRun) -> None:
    groundtruth.check_replay(run)
