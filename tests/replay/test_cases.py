"""The case document (what a re-run serves and `agentreel pin` writes), built from stored runs.

The main run is made by ``agentreel.sdk`` driving the real ``openai`` client (Chat Completions,
then the Responses API) and the real ``anthropic`` client against the fake provider, exported
over OTLP to a running server. The case is held against what the fake provider answered and
what the tools returned, never against agentreel's other views.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
import pytest

from agentreel import sdk
from agentreel.core import cases
from agentreel.replay.cases import build_case

from support.agents import anthropic_blocks
from support.fakeprovider import Answer, Exchange, FakeProvider, ToolCall
from support.liveserver import RunningServer
from support.payloads import scenario
from support.runbuild import Run, answer, calls, new_project, response, user
from support.sdkrun import connect

#: One turn per provider call: two Chat Completions calls, two Responses, two Messages.
SCRIPT = [
    ToolCall("get_weather", {"city": "Paris"}),
    Answer("It is 21C and sunny in Paris."),
    ToolCall("c_to_f", {"c": 21}),
    Answer("21C is 69.8F."),
    ToolCall("get_weather", {"city": "Oslo"}),
    Answer("Oslo: 21C, sunny."),
]
#: The API of each call, in order: what the case's ``operation`` must say.
APIS = ["openai", "openai", "responses", "responses", "anthropic", "anthropic"]

#: Each execution of a tool, as the tool itself logs it: (name, arguments, what it returned).
RAN: list[tuple[str, dict[str, Any], Any]] = []


@sdk.tool
def get_weather(city: str) -> dict[str, Any]:
    result = scenario.get_weather(city)
    RAN.append(("get_weather", {"city": city}, result))
    return result


@sdk.tool
def c_to_f(c: float) -> float:
    result = scenario.c_to_f(c)
    RAN.append(("c_to_f", {"c": c}, result))
    return result


TOOLS: dict[str, Any] = {"get_weather": get_weather, "c_to_f": c_to_f}


def _run_tool(name: str, arguments: Any) -> str:
    return json.dumps(TOOLS[name](**arguments))


def _chat(client: openai.OpenAI) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": scenario.SYSTEM},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    while True:
        reply = (
            client.chat.completions.create(
                model=scenario.OPENAI_MODEL,
                messages=messages,  # type: ignore[arg-type]
                tools=[t.openai() for t in scenario.TOOLS],  # type: ignore[misc]
                temperature=0.2,
            )
            .choices[0]
            .message
        )
        messages.append(reply.model_dump(include={"role", "content", "tool_calls"}))
        if not reply.tool_calls:
            return
        for call in reply.tool_calls:
            content = _run_tool(call.function.name, json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})


def _responses(client: openai.OpenAI) -> None:
    tools = [
        {
            "type": "function",
            "name": t.name,
            "description": t.description,
            **{"parameters": dict(t.parameters)},
        }
        for t in scenario.TOOLS
    ]
    items: list[dict[str, Any]] = [{"role": "user", "content": "21C in F?"}]
    while True:
        answered = client.responses.create(
            model=scenario.OPENAI_MODEL,
            instructions=scenario.SYSTEM,
            input=items,  # type: ignore[arg-type]
            tools=tools,  # type: ignore[arg-type]
            max_output_tokens=200,
        )
        asked = [item for item in answered.output if item.type == "function_call"]
        if not asked:
            return
        for call in asked:
            items.append(call.model_dump(include={"type", "call_id", "name", "arguments"}))
            output = _run_tool(call.name, json.loads(call.arguments))
            items.append(
                {"type": "function_call_output", "call_id": call.call_id, "output": output}
            )


def _messages(client: anthropic.Anthropic) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Oslo?"}]
    while True:
        reply = client.messages.create(
            model=scenario.ANTHROPIC_MODEL,
            system=scenario.SYSTEM,
            max_tokens=256,
            messages=messages,  # type: ignore[arg-type]
            tools=[t.anthropic() for t in scenario.TOOLS],  # type: ignore[misc]
        )
        blocks = anthropic_blocks(reply)
        messages.append({"role": "assistant", "content": blocks})
        uses = [b for b in blocks if b["type"] == "tool_use"]
        if not uses:
            return
        results = [
            {
                "type": "tool_result",
                "tool_use_id": u["id"],
                "content": _run_tool(u["name"], u["input"]),
            }
            for u in uses
        ]
        messages.append({"role": "user", "content": results})


@dataclass
class Recorded:
    server: RunningServer
    trace_id: str
    exchanges: list[Exchange]
    ran: list[tuple[str, dict[str, Any], Any]]


@pytest.fixture(scope="module")
def recorded(server: RunningServer) -> Iterator[Recorded]:
    """The SDK's run of the three APIs, stored by the session's server."""
    provider = connect(server.url)
    RAN.clear()
    try:
        with (
            FakeProvider(SCRIPT) as fake,
            openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0) as oai,
            anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0) as claude,
        ):
            with sdk.run("weather-case") as run:
                _chat(oai)
                _responses(oai)
                _messages(claude)
            exchanges = fake.exchanges
        assert sdk.force_flush(30), sdk.stats()  # acknowledged by agentreel = stored
    finally:
        sdk.shutdown()
        provider.shutdown()
    assert [e.api for e in exchanges] == APIS and all(e.status == 200 for e in exchanges)
    yield Recorded(server, run.trace_id, exchanges, list(RAN))


def _case(server: RunningServer, trace_id: str, **params: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}/api/v1/runs/{trace_id}/case", params=params, timeout=60)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


# --- what the provider answered -----------------------------------------------------------


def _said(exchange: Exchange) -> tuple[list[str], list[tuple[str, str, Any]]]:
    """The texts and (id, name, arguments) tool calls of the provider's answer."""
    body = exchange.response
    if exchange.api == "anthropic":
        texts = [b["text"] for b in body["content"] if b["type"] == "text"]
        uses = [
            (b["id"], b["name"], b["input"]) for b in body["content"] if b["type"] == "tool_use"
        ]
        return texts, uses
    if exchange.api == "responses":
        items = body["output"]
        texts = [p["text"] for i in items if i["type"] == "message" for p in i["content"]]
        asked = [
            (i["call_id"], i["name"], json.loads(i["arguments"]))
            for i in items
            if i["type"] == "function_call"
        ]
        return texts, asked
    message = body["choices"][0]["message"]
    texts = [message["content"]] if message.get("content") else []
    asked = [
        (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
        for c in message.get("tool_calls") or []
    ]
    return texts, asked


def _usage(exchange: Exchange) -> dict[str, int]:
    """The provider's usage in agentreel's (OTel) terms: input counts cached tokens."""
    usage = exchange.usage or {}
    if exchange.api == "anthropic":
        read, write = usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]
        return {
            "input_tokens": usage["input_tokens"] + read + write,
            "output_tokens": usage["output_tokens"],
            "cache_read_tokens": read,
            "cache_write_tokens": write,
        }
    if exchange.api == "responses":
        inputs, outputs = usage["input_tokens"], usage["output_tokens"]
        details, out = usage["input_tokens_details"], usage["output_tokens_details"]
    else:
        inputs, outputs = usage["prompt_tokens"], usage["completion_tokens"]
        details, out = usage["prompt_tokens_details"], usage["completion_tokens_details"]
    return {
        "input_tokens": inputs,
        "output_tokens": outputs,
        "cache_read_tokens": details["cached_tokens"],
        "reasoning_tokens": out["reasoning_tokens"],
    }


def _parts(call: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, Any]]]:
    parts = [p for m in call["output_messages"] for p in m["parts"]]
    texts = [p["content"] for p in parts if p["type"] == "text"]
    asked = [
        (
            p["id"],
            p["name"],
            json.loads(p["arguments"]) if isinstance(p["arguments"], str) else p["arguments"],
        )
        for p in parts
        if p["type"] == "tool_call"
    ]
    return texts, asked


def test_calls_carry_exactly_what_the_provider_answered(recorded: Recorded) -> None:
    document = _case(recorded.server, recorded.trace_id)
    calls_ = document["calls"]
    assert [c["call"] for c in calls_] == [1, 2, 3, 4, 5, 6]
    for call, exchange in zip(calls_, recorded.exchanges, strict=True):
        where = f"call {call['call']} ({exchange.api})"
        assert call["provider"] == ("anthropic" if exchange.api == "anthropic" else "openai"), where
        assert call["operation"] == ("responses" if exchange.api == "responses" else "chat"), where
        assert call["request_model"] == exchange.body["model"], where
        assert call["model"] == exchange.response["model"], where
        assert call["response_id"] == exchange.response["id"], where
        assert _parts(call) == _said(exchange), where
        usage = _usage(exchange)
        assert {k: call["usage"][k] for k in usage} == usage, where
        assert (call["status"], call["error"]) == ("ok", ""), where
    # What the provider said it stopped for, where it says it in the answer.
    assert [c["finish_reasons"] for c in calls_[:2]] == [
        [e.response["choices"][0]["finish_reason"]] for e in recorded.exchanges[:2]
    ]
    assert [c["finish_reasons"] for c in calls_[4:]] == [
        [e.response["stop_reason"]] for e in recorded.exchanges[4:]
    ]
    # The request's parameters, under their neutral names.
    assert calls_[0]["parameters"]["temperature"] == recorded.exchanges[0].body["temperature"]
    assert calls_[2]["parameters"]["max_tokens"] == recorded.exchanges[2].body["max_output_tokens"]
    assert calls_[4]["parameters"]["max_tokens"] == recorded.exchanges[4].body["max_tokens"]
    # The window each call was sent: its last user turn, its tools' names.
    assert calls_[0]["input_messages"][-1]["parts"][0]["content"] == "Weather in Paris?"
    assert calls_[2]["system_instructions"] == [{"type": "text", "content": scenario.SYSTEM}]
    assert calls_[4]["input_messages"][0]["parts"][0]["content"] == "Weather in Oslo?"


def test_tools_carry_what_the_tools_returned_after_the_call_that_asked(
    recorded: Recorded,
) -> None:
    document = _case(recorded.server, recorded.trace_id)
    tools = document["tools"]
    asked = [a for e in recorded.exchanges for a in _said(e)[1]]
    assert [(t["name"], t["call_id"]) for t in tools] == [(name, i) for i, name, _ in asked]
    assert [t["call_id"] for t in tools] == ["call_0001", "call_0002", "toolu_0003"]
    assert [(t["name"], t["after_call"], t["recorded"]) for t in tools] == [
        ("get_weather", 1, True),
        ("c_to_f", 3, True),
        ("get_weather", 5, True),
    ]
    for tool, (name, arguments, returned) in zip(tools, recorded.ran, strict=True):
        assert tool["name"] == name
        assert json.loads(tool["arguments"]) == arguments
        # A tool's value is recorded as JSON text (text as it is).
        assert json.loads(tool["result"]) == returned
        assert (tool["status"], tool["error"]) == ("ok", "")


def test_the_case_is_whole_and_checksummed(recorded: Recorded) -> None:
    document = _case(recorded.server, recorded.trace_id, name="paris", command="python agent.py")
    case = cases.parse(document)
    assert (case.trace_id, case.name, case.command) == (
        recorded.trace_id,
        "paris",
        "python agent.py",
    )
    assert document["format"] == "agentreel.case" and document["version"] == 1
    assert document["pinned_by"].startswith("agentreel ")
    assert len(case.calls) == len(recorded.exchanges) and len(case.tools) == len(recorded.ran)
    assert case.calls[2].operation == "responses"
    run = document["run"]
    assert (run["trace_id"], run["agent"], run["status"]) == (
        recorded.trace_id,
        "weather-case",
        "ok",
    )
    assert "weather-case" in run["name"]
    assert (run["llm_calls"], run["tool_calls"]) == (6, 3)
    assert run["cost_usd"] > 0
    # The export document, for `agentreel import`: the run's spans, checksummed on their own.
    export = document["export"]
    assert (export["format"], export["trace_id"]) == ("agentreel.run", recorded.trace_id)
    assert len(export["spans"]) == 1 + 6 + 3
    # The checksum is over the canonical JSON: formatting the file does not change it.
    assert cases.parse(json.loads(json.dumps(document, indent=2))).document == document
    # A default name names the run.
    assert _case(recorded.server, recorded.trace_id)["name"] == f"run-{recorded.trace_id[:12]}"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["tools"][0].update(result='{"city": "Paris", "temp_c": 35}'),
        lambda d: d["calls"][1]["output_messages"][0]["parts"][0].update(content="Rain."),
        lambda d: d["calls"][0]["usage"].update(output_tokens=1),
        lambda d: d.update(command="python other.py"),
        lambda d: d["export"]["spans"].pop(),
    ],
)
def test_a_changed_case_fails_its_checksum(recorded: Recorded, tamper: Any) -> None:
    document = _case(recorded.server, recorded.trace_id)
    changed = copy.deepcopy(document)
    tamper(changed)
    with pytest.raises(cases.CaseError, match="does not match its checksum"):
        cases.parse(changed)


def test_the_route_refuses_an_unknown_run_and_a_bad_id(recorded: Recorded) -> None:
    unknown = "ab" * 16
    answer = httpx.get(f"{recorded.server.url}/api/v1/runs/{unknown}/case", timeout=30)
    assert answer.status_code == 404
    assert answer.json()["detail"] == f"no run with trace id {unknown}"
    bad = httpx.get(f"{recorded.server.url}/api/v1/runs/not-a-trace/case", timeout=30)
    assert bad.status_code == 400 and "32 hexadecimal" in bad.json()["detail"]


# --- runs written straight to the store ------------------------------------------------------


def test_unrecorded_and_failed_steps(store: Any, replay_api: tuple[Any, str]) -> None:
    """A tool the model asked for that never ran, a tool that failed and a failed call, in
    a run built span by span (the spans are the ground truth)."""
    client, project = replay_api
    run = Run()
    ask = [user("Book a table in Paris")]
    look, book = ("c1", "lookup", '{"q": "bistro"}'), ("c2", "book", '{"id": 7}')
    run.llm(ask, calls(look, book))
    run.tool("book", "c2", '{"id": 7}', None, status=2, message="booking API answered 500")
    history = [*ask, calls(look, book), response("c2", "error")]
    run.llm(history, None, status=2, message="rate limited")
    run.llm(history, answer("Sorry."))
    trace_id = run.write(store, project)

    document = build_case(store, project, trace_id, name="booking")
    assert document is not None
    case = cases.parse(document)
    assert [(c.call, c.status, c.error) for c in case.calls] == [
        (1, "ok", ""),
        (2, "error", "rate limited"),
        (3, "ok", ""),
    ]
    assert case.calls[1].output_messages is None  # a failed call answered nothing
    # The call that asked for both ended before the book span started: the lookup that never
    # ran is placed at that end, so it comes first.
    assert [(t.name, t.call_id, t.after_call, t.recorded, t.status) for t in case.tools] == [
        ("lookup", "c1", 1, False, "ok"),
        ("book", "c2", 1, True, "error"),
    ]
    assert case.tools[1].error == "booking API answered 500"
    assert case.tools[0].arguments == '{"q": "bistro"}'  # as the model asked for it
    assert case.tools[0].result is None
    # The same document through the route, and None / 404 for a run the project lacks.
    routed = client.get(f"/api/v1/runs/{trace_id}/case", params={"name": "booking"}).json()
    made = ("pinned_at", "checksum", "export")  # when it was made, and so its checksums
    assert {k: v for k, v in routed.items() if k not in made} == {
        k: v for k, v in document.items() if k not in made
    }
    assert routed["export"]["spans"] == document["export"]["spans"]
    assert build_case(store, new_project(), trace_id) is None
    missing = client.get(f"/api/v1/runs/{'0' * 32}/case")
    assert missing.status_code == 404 and "no run with trace id" in missing.json()["detail"]
