"""agentreel's own SDK (``agentreel.sdk.init()``, which also traces the ``openai`` client)
beside a framework's OpenInference instrumentor, on one tracer provider: every LLM call and
every tool call still counts once, in the run's totals, its timeline and its tokens.

Same agents and script as ``test_langgraph.py`` and ``test_openai_agents.py``.
"""

from __future__ import annotations

import pytest

from support import groundtruth
from support.fakeprovider import Answer, ToolCall, Turn
from support.frameworks import FrameworkRun, run_agent
from support.liveserver import RunningServer

ANSWER = "Paris: 21C (69.8F), Lyon: 18C, both sunny."
TURNS: list[Turn] = [
    ToolCall("get_weather", {"city": "Paris"}),
    ToolCall("get_weather", {"city": "Lyon"}),
    ToolCall("c_to_f", {"c": 21}),
    Answer(ANSWER),
]

#: label -> (agent script, its arguments, OTLP protocol)
CONFIGS = {
    "langgraph-sdk": ("langgraph_agent", ("--with-sdk",), "http"),
    "openai_agents-chat-sdk": ("openai_agents_agent", ("--api", "chat", "--with-sdk"), "grpc"),
    "openai_agents-responses-sdk": (
        "openai_agents_agent",
        ("--api", "responses", "--with-sdk"),
        "http",
    ),
}
#: Usage the instrumentors do not record (see test_openai_agents.py).
GAPS = {"openai_agents-chat-sdk": {"cache", "reasoning"}}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def run(
    request: pytest.FixtureRequest, server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> FrameworkRun:
    label = request.param
    script, args, protocol = CONFIGS[label]
    tmp = tmp_path_factory.mktemp(label)
    done = run_agent(server, script, TURNS, tmp, label=label, protocol=protocol, args=args)
    assert done.report["answer"] == ANSWER
    assert [e.status for e in done.exchanges] == [200] * 4
    assert [t.name for t in done.tools] == ["get_weather", "get_weather", "c_to_f"]
    return done


def test_one_run_per_invocation(run: FrameworkRun) -> None:
    groundtruth.check_one_run(run)


def test_llm_calls_once_in_totals(run: FrameworkRun) -> None:
    groundtruth.check_llm_totals(run)


def test_llm_calls_once_in_timeline(run: FrameworkRun) -> None:
    groundtruth.check_llm_timeline(run)


def test_tool_calls_once_in_totals(run: FrameworkRun) -> None:
    groundtruth.check_tool_totals(run)


def test_tool_calls_once_in_timeline(run: FrameworkRun) -> None:
    groundtruth.check_tool_timeline(run)


def test_tokens_once(run: FrameworkRun) -> None:
    groundtruth.check_tokens(run, GAPS.get(run.label, set()))
