"""The frameworks agents are built with, each instrumented as its own docs say and exporting
over OTLP to agentreel: every view agentreel gives of the run held against what the fake
provider received and what the tools' own log says they did.

Every agent (``agents/<script>.py``, run in ``.venv-frameworks``) answers the same question
with the same script: 4 LLM calls, 3 tool calls (``get_weather`` twice, ``c_to_f``).

* LangGraph (``langgraph`` + ``langchain-openai``, ``openinference-instrumentation-langchain``):
  a hand-built ReAct graph named ``weather_agent``; plain and streamed.
* OpenAI Agents SDK (``openai-agents``, ``openinference-instrumentation-openai-agents``): the
  Responses API and Chat Completions, ``Runner.run`` and ``Runner.run_streamed``.
* CrewAI (``openinference-instrumentation-crewai`` + ``-openai``): a crew of one agent whose
  role is ``weather_agent``; in its own venv (its pins clash with the others'). Its tool spans
  carry no tool-call id.
* AutoGen (``autogen-agentchat`` + ``autogen-ext[openai]``,
  ``openinference-instrumentation-autogen-agentchat``, beside autogen-core's own spans); it
  also exports a one-span ``create_agent`` trace, which is not a run.
* PydanticAI: its own OTel GenAI instrumentation (``Agent.instrument_all()``).
* MCP: an ``anthropic`` tool loop (an OpenInference agent span) whose tools live on a real
  ``mcp`` server over stdio, traced by ``openinference-instrumentation-anthropic`` and ``-mcp``.
  The server is a second process with a service of its own whose spans join the agent's
  trace: one run over two processes, which belongs to the agent's service.
* agentreel's SDK (``sdk.init()``, which traces the ``openai`` client too) beside LangGraph's
  and the Agents SDK's instrumentors: every call still counts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from support import groundtruth
from support.frameworks import ANSWER, CREWAI_VENV, FRAMEWORKS_VENV, TURNS, FrameworkRun, run_agent
from support.liveserver import RunningServer

AGENT_NAME = "weather_agent"


@dataclass(frozen=True)
class Config:
    """One way of running one framework's agent."""

    script: str
    args: tuple[str, ...] = ()
    protocol: str = "http"
    #: The API the provider sees: ``openai`` (Chat Completions), ``responses``, ``anthropic``.
    api: str = "openai"
    venv: Path = FRAMEWORKS_VENV
    #: Usage the instrumentor does not record (see groundtruth.check_tokens).
    gaps: frozenset[str] = frozenset()
    #: Services of other processes whose spans join the run (the MCP tool server's).
    others: tuple[str, ...] = ()
    #: The agent also exports traces that are not runs (AutoGen's ``create_agent``): only the
    #: run list is held to one run, not the traces the process exported.
    stray_traces: bool = False

    @property
    def streamed(self) -> bool:
        return "--stream" in self.args


CONFIGS = {
    "langgraph": Config("langgraph_agent"),
    "langgraph-stream": Config("langgraph_agent", ("--stream",), "grpc"),
    "openai_agents-responses": Config("openai_agents_agent", ("--api", "responses"), "grpc",
                                      api="responses"),
    "openai_agents-responses-stream": Config("openai_agents_agent",
                                             ("--api", "responses", "--stream"), api="responses"),
    # The SDK's generation span for Chat Completions keeps input and output tokens only.
    # (Streamed, the SDK asks for no usage at all, so the provider answers none.)
    "openai_agents-chat": Config("openai_agents_agent", ("--api", "chat"),
                                 gaps=frozenset({"cache", "reasoning"})),
    "openai_agents-chat-stream": Config("openai_agents_agent", ("--api", "chat", "--stream"),
                                        "grpc"),
    "crewai": Config("crewai_agent", venv=CREWAI_VENV),
    # autogen's RequestUsage has prompt and completion tokens only.
    "autogen": Config("autogen_agent", protocol="grpc", gaps=frozenset({"cache", "reasoning"}),
                      stray_traces=True),
    "pydantic_ai": Config("pydantic_ai_agent"),
    "mcp": Config("mcp_agent", api="anthropic", others=("-tools",), stray_traces=True),
    "langgraph-sdk": Config("langgraph_agent", ("--with-sdk",)),
    "openai_agents-chat-sdk": Config("openai_agents_agent", ("--api", "chat", "--with-sdk"),
                                     "grpc", gaps=frozenset({"cache", "reasoning"})),
    "openai_agents-responses-sdk": Config("openai_agents_agent",
                                          ("--api", "responses", "--with-sdk"), api="responses"),
}  # fmt: skip


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def run(
    request: pytest.FixtureRequest, server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> FrameworkRun:
    label = request.param
    config = CONFIGS[label]
    done = run_agent(
        server,
        config.script,
        TURNS,
        tmp_path_factory.mktemp(label),
        label=label,
        protocol=config.protocol,
        args=config.args,
        venv=config.venv,
    )
    # The agent did what the script says: these are the facts the tests compare with.
    assert done.report["answer"] == ANSWER
    assert [(e.status, e.api, e.streamed) for e in done.exchanges] == [
        (200, config.api, config.streamed and config.api != "anthropic")
    ] * 4
    assert [t.name for t in done.tools] == ["get_weather", "get_weather", "c_to_f"]
    return done


def _config(run: FrameworkRun) -> Config:
    return CONFIGS[run.label]


def test_one_run_per_invocation(run: FrameworkRun) -> None:
    config = _config(run)
    if config.stray_traces or config.others:
        groundtruth.check_one_listed_run(run, [run.service + s for s in config.others])
    else:
        groundtruth.check_one_run(run)


def test_llm_calls_in_totals(run: FrameworkRun) -> None:
    groundtruth.check_llm_totals(run)


def test_llm_calls_in_timeline(run: FrameworkRun) -> None:
    groundtruth.check_llm_timeline(run)


def test_tool_calls_in_totals(run: FrameworkRun) -> None:
    groundtruth.check_tool_totals(run)


def test_tool_calls_in_timeline(run: FrameworkRun) -> None:
    groundtruth.check_tool_timeline(run)


def test_tokens(run: FrameworkRun) -> None:
    groundtruth.check_tokens(run, _config(run).gaps)


def test_agent_service_status(run: FrameworkRun) -> None:
    """The run is the agent's: named after it, and of its service (for MCP, not the tool
    server's). With agentreel's SDK beside the instrumentor too."""
    groundtruth.check_identity(run, AGENT_NAME)


def test_replay_equals_requests(run: FrameworkRun) -> None:
    if _config(run).api == "anthropic":
        groundtruth.check_replay_anthropic(run)
    else:
        groundtruth.check_replay(run)


def test_the_run_holds_the_spans_of_every_process(run: FrameworkRun) -> None:
    """One run, whatever the number of processes: the MCP tool server's spans join the
    agent's trace under their own service."""
    expected = {run.service, *(run.service + s for s in _config(run).others)}
    assert _services(run.detail()["spans"]) == expected


def _services(tree: list[dict[str, object]]) -> set[object]:
    found: set[object] = set()
    for span in tree:
        found |= {span["service"]} | _services(span["children"])  # type: ignore[arg-type]
    return found
