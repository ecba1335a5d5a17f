"""TypeScript agents on the Vercel AI SDK, traced the two ways the AI SDK offers and exported by
the official OTel JS exporters: every view agentreel gives of the run held against what the
fake provider received and what the tools' own log says they did.

* AI SDK 6 (``tests/js/aisdk6``): ``experimental_telemetry: { isEnabled: true, functionId }``,
  the AI SDK's own ``ai.*`` span convention (``collector/normalize/aisdk.py``).
* AI SDK 7 (``tests/js/aisdk7``): ``registerTelemetry(new OpenTelemetry())`` from
  ``@ai-sdk/otel``, the OTel GenAI conventions.

The same weather agent as the Python frameworks' (4 LLM calls, 3 tool calls, ``functionId``
``weather_agent``) on the OpenAI Responses API, Chat Completions and Anthropic Messages, with
``generateText`` and ``streamText``, exported with the protobuf and the JSON OTLP/HTTP
exporters: one Node process per run.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from support import groundtruth
from support.exactness import same_anthropic, same_openai_messages, same_parameters
from support.frameworks import ANSWER, FrameworkRun
from support.jsagents import JS, run_js_agent
from support.liveserver import RunningServer

AGENT_NAME = "weather_agent"
APIS = ("responses", "chat", "anthropic")
#: Every run: (major, api, mode, exporter).
RUNS = [
    (major, api, mode, exporter)
    for major in (6, 7)
    for api in APIS
    for mode in ("generate", "stream")
    for exporter in ("proto", "json")
]
#: Tool fields the AI SDK puts on the wire but records in no span: ``eager_input_streaming``
#: (Anthropic, streamed), which it adds to every tool of a streamed Messages request.
UNRECORDED_TOOL_FIELDS = ("eager_input_streaming",)
#: AI SDK 7 records each tool as the AI SDK defines it (``gen_ai.tool.definitions``); the
#: ``strict: false`` its OpenAI provider adds to a function tool on the wire is in no span.
UNRECORDED_FUNCTION_FIELDS_7 = ("strict",)


def _label(params: tuple[int, str, str, str]) -> str:
    major, api, mode, exporter = params
    return f"aisdk{major}-{api}-{mode}-{exporter}"


@pytest.fixture(scope="module", params=RUNS, ids=[_label(p) for p in RUNS])
def run(
    request: pytest.FixtureRequest, server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> FrameworkRun:
    major, api, mode, exporter = request.param
    done = run_js_agent(server, major, api, mode, exporter, tmp_path_factory.mktemp("aisdk"))
    # The agent did what the script says: these are the facts the tests compare with.
    assert done.report["answer"] == ANSWER
    assert [(e.status, e.api, e.streamed) for e in done.exchanges] == [
        (200, api if api != "chat" else "openai", mode == "stream")
    ] * 4
    assert [t.name for t in done.tools] == ["get_weather", "get_weather", "c_to_f"]
    return done


def _major(run: FrameworkRun) -> int:
    return int(run.label.split("-")[0].removeprefix("aisdk"))


def _api(run: FrameworkRun) -> str:
    return run.label.split("-")[1]


def test_one_run_per_invocation(run: FrameworkRun) -> None:
    groundtruth.check_one_run(run)


def test_llm_calls_in_totals(run: FrameworkRun) -> None:
    groundtruth.check_llm_totals(run)


def test_llm_calls_in_timeline(run: FrameworkRun) -> None:
    groundtruth.check_llm_timeline(run)


def test_tool_calls_in_totals(run: FrameworkRun) -> None:
    groundtruth.check_tool_totals(run)


def test_tool_calls_in_timeline(run: FrameworkRun) -> None:
    """Tool steps carry the provider's call id, and the arguments and result the tool logged,
    whether the AI SDK put the tool span under the root or under the streamed call."""
    groundtruth.check_tool_timeline(run)


def test_steps_in_the_order_they_ran(run: FrameworkRun) -> None:
    """Each tool ran between the call that asked for it and the next call (the provider saw
    the tool's result in the next request), and the timeline says so, though the AI SDK's
    spans start on a millisecond clock (a tool and the next call often in the same one)."""
    kinds = [s["kind"] for s in run.timeline()["steps"] if s["kind"] in ("llm", "tool")]
    assert kinds == ["llm", "tool"] * len(run.tools) + ["llm"]
    for index, done in enumerate(run.tools):
        sent = json.dumps(done.result)[1:-1].encode()  # as it sits in a JSON body
        assert sent not in run.exchanges[index].raw, index
        assert sent in run.exchanges[index + 1].raw, index


def test_agent_service_status(run: FrameworkRun) -> None:
    """The run is named after the ``functionId`` the agent set."""
    groundtruth.check_identity(run, AGENT_NAME)


def test_tokens(run: FrameworkRun) -> None:
    """The run's tokens are the provider's usage summed over the 4 calls, cache reads and
    writes and reasoning included, never the root's totals on top."""
    if _major(run) == 7:
        # @ai-sdk/otel records reasoning tokens only as its own ai.usage.* details, and only
        # with OpenTelemetry({ usage: true }).
        groundtruth.check_tokens(run, gaps={"reasoning"})
        return
    groundtruth.check_tokens(run)


def test_llm_call_figures(run: FrameworkRun) -> None:
    """Each LLM call, in order, has the model that answered and the usage of the provider's
    answer to that request (cache reads included)."""
    calls = run.llm_calls()
    assert len(calls) == len(run.exchanges)
    for index, (call, exchange) in enumerate(zip(calls, run.exchanges, strict=True)):
        where = f"{run.label} call {index + 1}"
        answer = _final_answer(exchange.response, exchange.api)
        assert call["model"] == answer["model"], where
        want = groundtruth.expected_usage(_only(run, index))
        got = call["usage"]
        assert (got["input_tokens"], got["output_tokens"]) == (want["input"], want["output"]), where
        assert got["cache_read_tokens"] == want["cache_read"], where


def test_replay_equals_requests(run: FrameworkRun) -> None:
    """``llm-calls?format=openai|anthropic`` renders each call as the request the provider
    received: system, messages with every tool call and result, model, parameters."""
    if _api(run) == "anthropic":
        for index, (call, exchange) in enumerate(_rendered(run, "anthropic")):
            where = f"{run.label} call {index + 1}"
            rendered, missing, body = call["request"], call["not_captured"], exchange.body
            same_anthropic(rendered, body, missing, where)
            assert rendered["model"] == body["model"], where
            same_parameters(rendered, body, missing, where)
        return
    for index, (call, exchange) in enumerate(_rendered(run, "openai")):
        where = f"{run.label} call {index + 1}"
        body = exchange.body
        if exchange.api == "responses":
            body = groundtruth.responses_as_chat(body)
        same_openai_messages(call["request"], body, where)
        assert call["request"]["model"] == body["model"], where
        same_parameters(call["request"], body, call["not_captured"], where)


def test_replay_tools_equal_requests(run: FrameworkRun) -> None:
    """The rendered tools are the tools the provider received (schemas included)."""
    fmt = "anthropic" if _api(run) == "anthropic" else "openai"
    for index, (call, exchange) in enumerate(_rendered(run, fmt)):
        where = f"{run.label} call {index + 1}"
        assert "tools" not in call["not_captured"], where
        body = exchange.body
        if exchange.api == "responses":
            body = groundtruth.responses_as_chat(body)
        sent = [
            {k: v for k, v in t.items() if k not in UNRECORDED_TOOL_FIELDS} for t in body["tools"]
        ]
        if _major(run) == 7:
            for tool in sent:
                if "function" in tool:
                    tool["function"] = {
                        k: v
                        for k, v in tool["function"].items()
                        if k not in UNRECORDED_FUNCTION_FIELDS_7
                    }
        assert call["request"]["tools"] == sent, where


def test_the_node_projects_share_their_agent_kit() -> None:
    """Both Node projects run the same tools and harness code (one copy each: Node resolves
    imports from the file's own folder)."""
    six = (JS / "aisdk6" / "common.mjs").read_text(encoding="utf-8")
    assert (JS / "aisdk7" / "common.mjs").read_text(encoding="utf-8") == six


def _rendered(run: FrameworkRun, fmt: str) -> list[tuple[dict[str, Any], Any]]:
    calls = run.llm_calls(fmt)
    assert len(calls) == len(run.exchanges)
    return list(zip(calls, run.exchanges, strict=True))


def _only(run: FrameworkRun, index: int) -> FrameworkRun:
    """``run`` with its ``index``-th exchange alone (for one call's expected usage)."""
    return replace(run, exchanges=[run.exchanges[index]])


def _final_answer(response: Any, api: str) -> dict[str, Any]:
    """The provider's whole answer: as sent, or for a stream the object its events carry."""
    if isinstance(response, dict):
        return response
    events = [e for e in response if isinstance(e, dict)]
    if api == "responses":
        return dict(next(e["response"] for e in events if e.get("type") == "response.completed"))
    if api == "anthropic":
        return dict(next(e["message"] for e in events if e.get("type") == "message_start"))
    return dict(events[0])
