"""agentreel.sdk end to end: real ``openai``/``anthropic`` clients against the fake provider,
spans exported over real OTLP to a running ``agentreel serve``, read back through the REST API.

Checks what arrives (kinds, parent/child structure, session and user on every span,
decisions, escalations, scores), that the replay of every LLM call equals the request the
provider received, and that budgets stop a run as configured.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import anthropic
import openai
import pytest

from agentreel import sdk

from support.agents import anthropic_blocks, openai_stream
from support.exactness import same_anthropic, same_openai_messages, same_parameters, same_tools
from support.fakeprovider import Answer, FakeProvider, ToolCall
from support.liveserver import RunningServer
from support.payloads import scenario
from support.sdkrun import openai_client, stored_spans, support_agent


def test_example_run_arrives_with_structure_people_decisions_escalations_and_scores(
    to_server: RunningServer,
) -> None:
    with FakeProvider(support_agent.SCRIPT) as fake, openai_client(fake) as client:
        done = support_agent.answer(client, support_agent.QUESTION, budget_usd=0.05, max_steps=10)
        sdk.feedback(done, value=1, comment="solved")
        sdk.score("helpfulness", 0.8, target=done, source="llm_judge", explanation="polite")
        sent = [e.body for e in fake.exchanges]
    spans = stored_spans(to_server, done.trace_id)

    assert Counter(s["kind"] for s in spans) == {
        "agent": 1,
        "decision": 1,
        "llm": 3,
        "tool": 2,
        "escalation": 1,
        "evaluator": 2,
    }
    root = next(s for s in spans if s["kind"] == "agent")
    assert root["parent_span_id"] == "" and root["span_id"] == done.span_id
    by_id = {s["span_id"]: s for s in spans}
    for span in spans:
        assert (span["session"], span["user"]) == ("chat-7f3a", "customer-1042"), span["name"]
        assert span["agent"] == "support_agent", span["name"]
        if span is not root:
            assert span["parent_span_id"] in by_id, span["name"]
    escalation = next(s for s in spans if s["kind"] == "escalation")
    assert by_id[escalation["parent_span_id"]]["tool"]["name"] == "refund"
    tools = [s["tool"] for s in spans if s["kind"] == "tool"]
    assert [(t["name"], t["call_id"]) for t in tools] == [
        ("lookup_order", "call_0001"),
        ("refund", "call_0002"),
    ]
    assert tools[1]["arguments"] == '{"order_id":"A-1042","amount":149.0}'  # the model's text
    assert root["attributes"]["agentreel.run.llm_calls"] == "3"
    assert float(root["attributes"]["agentreel.run.cost_usd"]) == pytest.approx(done.cost_usd)
    assert done.cost_usd > 0 and done.steps == 6

    steps = to_server.get(f"/api/v1/runs/{done.trace_id}/timeline")["steps"]
    decision = next(s for s in steps if s["kind"] == "decision")["decision"]
    assert decision == {
        "name": "route",
        "options": ["orders", "faq", "human"],
        "chosen": "orders",
        "reason": "mentions an order id and a refund",
        "confidence": 0.92,
    }
    step = next(s for s in steps if s["kind"] == "escalation")["escalation"]
    assert (step["target"], step["severity"]) == ("human", "warning")
    assert step["reason"] == "refund of $149.00 is over $100"

    events = [e for s in spans if s["kind"] == "evaluator" for e in s["events"]]
    scores = {e["attributes"]["gen_ai.evaluation.name"]: e["attributes"] for e in events}
    assert scores["user_feedback"]["agentreel.score.source"] == "user_feedback"
    assert scores["user_feedback"]["gen_ai.evaluation.score.value"] == 1.0
    assert scores["user_feedback"]["agentreel.score.comment"] == "solved"
    assert scores["helpfulness"]["agentreel.score.source"] == "llm_judge"
    assert scores["helpfulness"]["gen_ai.evaluation.explanation"] == "polite"
    assert all(by_id[s["parent_span_id"]] is root for s in spans if s["kind"] == "evaluator")

    calls = to_server.get(f"/api/v1/runs/{done.trace_id}/llm-calls", format="openai")
    assert_replay_equals("openai", calls["llm_calls"], sent)


def assert_replay_equals(api: str, calls: list[dict[str, Any]], sent: list[Any]) -> None:
    assert len(calls) == len(sent)
    for index, (call, body) in enumerate(zip(calls, sent, strict=True)):
        rendered, missing = call["request"], call["not_captured"]
        where = f"{api} call {index + 1}"
        # Nothing the request had is missing: only what it did not have at all.
        absent = {"system"} if "system" not in body else set()
        if not set(body) - {"model", "messages", "tools", "system"}:
            absent.add("parameters")
        assert set(missing) <= absent, (where, missing)
        assert rendered["model"] == body["model"], where
        if api == "openai":
            same_openai_messages(rendered, body, where)
        else:
            same_anthropic(rendered, body, missing, where)
        same_tools(api, rendered, body, missing, where)
        same_parameters(rendered, body, missing, where)


# --- every client flavour: sync, async, streaming ---------------------------------------------

WEATHER = {t.name: sdk.tool(name=t.name)(scenario.TOOL_IMPLS[t.name]) for t in scenario.TOOLS}


def _tool_result(name: str, arguments: dict[str, Any]) -> str:
    result = WEATHER[name](**arguments)
    return result if isinstance(result, str) else json.dumps(result)


def openai_turn(messages: list[dict[str, Any]], message: dict[str, Any]) -> bool:
    """Add the model's message and run the tools it asked for; True when it answered."""
    messages.append(message)
    for call in message.get("tool_calls") or []:
        content = _tool_result(call["function"]["name"], json.loads(call["function"]["arguments"]))
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
    return not message.get("tool_calls")


def anthropic_turn(messages: list[dict[str, Any]], response: Any) -> bool:
    blocks = anthropic_blocks(response)
    messages.append({"role": "assistant", "content": blocks})
    uses = [b for b in blocks if b["type"] == "tool_use"]
    if uses:
        results = [
            {
                "type": "tool_result",
                "tool_use_id": u["id"],
                "content": _tool_result(u["name"], u["input"]),
            }
            for u in uses
        ]
        messages.append({"role": "user", "content": results})
    return not uses


def openai_agent(base_url: str, stream: bool, raw: bool = False) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": scenario.SYSTEM},
        {"role": "user", "content": scenario.USER_PROMPT},
    ]
    request = {
        "model": scenario.OPENAI_MODEL,
        "messages": messages,
        "tools": [t.openai() for t in scenario.TOOLS],
        "temperature": 0.2,
    }
    with openai.OpenAI(base_url=base_url, api_key="test", max_retries=0) as client:
        done = False
        while not done:
            if stream:
                message = openai_stream(client, request)
            else:
                if raw:  # as langchain-openai calls it
                    response = client.chat.completions.with_raw_response.create(**request).parse()
                else:
                    response = client.chat.completions.create(**request)
                reply = response.choices[0].message
                message = reply.model_dump(include={"role", "content", "tool_calls"})
            done = openai_turn(messages, message)


async def _folded(chunks: Any) -> dict[str, Any]:
    """An async Chat Completions stream folded into the assistant message."""
    calls: dict[int, dict[str, Any]] = {}
    text = []
    async with chunks:
        async for chunk in chunks:
            for choice in chunk.choices:
                text.append(choice.delta.content or "")
                for delta in choice.delta.tool_calls or []:
                    empty = {
                        "id": "",
                        "type": "function",
                        "function": {"name": "", "arguments": ""},
                    }
                    slot = calls.setdefault(delta.index, empty)
                    slot["id"] = delta.id or slot["id"]
                    if delta.function is not None:
                        slot["function"]["name"] += delta.function.name or ""
                        slot["function"]["arguments"] += delta.function.arguments or ""
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text) or None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message


async def openai_agent_async(base_url: str, stream: bool) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": scenario.USER_PROMPT}]
    request = {
        "model": scenario.OPENAI_MODEL,
        "messages": messages,
        "tools": [t.openai() for t in scenario.TOOLS],
    }
    async with openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0) as client:
        done = False
        while not done:
            if stream:
                options = {"stream": True, "stream_options": {"include_usage": True}}
                message = await _folded(await client.chat.completions.create(**request, **options))
            else:
                reply = (await client.chat.completions.create(**request)).choices[0].message
                message = reply.model_dump(include={"role", "content", "tool_calls"})
            done = openai_turn(messages, message)


def anthropic_agent(base_url: str, mode: str) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": scenario.USER_PROMPT}]
    request = {
        "model": scenario.ANTHROPIC_MODEL,
        "max_tokens": 512,
        "messages": messages,
        "system": scenario.SYSTEM,
        "tools": [t.anthropic() for t in scenario.TOOLS],
    }
    with anthropic.Anthropic(base_url=base_url, api_key="test", max_retries=0) as client:
        done = False
        while not done:
            if mode == "stream":
                with client.messages.stream(**request) as events:
                    response = events.get_final_message()
            else:
                response = client.messages.create(**request)
            done = anthropic_turn(messages, response)


async def anthropic_agent_async(base_url: str) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": scenario.USER_PROMPT}]
    request = {
        "model": scenario.ANTHROPIC_MODEL,
        "max_tokens": 512,
        "messages": messages,
        "tools": [t.anthropic() for t in scenario.TOOLS],
    }
    async with anthropic.AsyncAnthropic(base_url=base_url, api_key="test", max_retries=0) as c:
        done = False
        while not done:
            async with c.messages.stream(**request) as events:
                response = await events.get_final_message()
            done = anthropic_turn(messages, response)


FLAVOURS = {
    "openai": lambda fake: openai_agent(fake.openai_base_url, False),
    "openai_stream": lambda fake: openai_agent(fake.openai_base_url, True),
    "openai_raw_response": lambda fake: openai_agent(fake.openai_base_url, False, raw=True),
    "openai_async": lambda fake: asyncio.run(openai_agent_async(fake.openai_base_url, False)),
    "openai_async_stream": lambda fake: asyncio.run(openai_agent_async(fake.openai_base_url, True)),
    "anthropic": lambda fake: anthropic_agent(fake.base_url, "create"),
    "anthropic_stream": lambda fake: anthropic_agent(fake.base_url, "stream"),
    "anthropic_async_stream": lambda fake: asyncio.run(anthropic_agent_async(fake.base_url)),
}


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_every_client_flavour_replays_exactly(to_server: RunningServer, flavour: str) -> None:
    with FakeProvider(scenario.script()) as fake, sdk.run("weather", session=flavour) as run:
        FLAVOURS[flavour](fake)
    sent = [e.body for e in fake.exchanges]
    spans = stored_spans(to_server, run.trace_id)
    llm = [s for s in spans if s["kind"] == "llm"]
    assert len(llm) == len(sent) == 3
    assert all(s["scope"] == "agentreel.sdk" and s["counted"] for s in llm)
    usage = [e.usage for e in fake.exchanges]
    api = "anthropic" if flavour.startswith("anthropic") else "openai"
    for span, reported in zip(llm, usage, strict=True):
        assert reported is not None
        if api == "openai":
            assert span["usage"]["input_tokens"] == reported["prompt_tokens"]
            assert (
                span["usage"]["cache_read_tokens"]
                == (reported["prompt_tokens_details"]["cached_tokens"])
            )
            assert (
                span["usage"]["reasoning_tokens"]
                == (reported["completion_tokens_details"]["reasoning_tokens"])
            )
        else:  # OTel input tokens include what the cache read and wrote
            assert span["usage"]["input_tokens"] == (
                reported["input_tokens"]
                + reported["cache_read_input_tokens"]
                + reported["cache_creation_input_tokens"]
            )
            assert span["usage"]["cache_write_tokens"] == reported["cache_creation_input_tokens"]
    calls = to_server.get(f"/api/v1/runs/{run.trace_id}/llm-calls", format=api)["llm_calls"]
    assert_replay_equals(api, calls, sent)
    assert [s["tool"]["call_id"] for s in spans if s["kind"] == "tool"] == [
        p["id"]
        for c in calls
        for m in c["output_messages"]
        for p in m["parts"]
        if p["type"] == "tool_call"
    ]


# --- the cost guard -----------------------------------------------------------------------------


def test_a_run_over_budget_stops_after_the_call_that_crossed_it(to_server: RunningServer) -> None:
    with FakeProvider(support_agent.SCRIPT) as fake, openai_client(fake) as client:
        with pytest.raises(sdk.BudgetExceeded) as raised:
            support_agent.answer(client, support_agent.QUESTION, budget_usd=0.00001)
        assert len(fake.exchanges) == 1  # no tool ran, no second call was made
    breach = raised.value.breach
    assert breach.limit == "budget_usd" and breach.value > breach.allowed == 0.00001
    spans = stored_spans(to_server, breach.trace_id)
    root = next(s for s in spans if s["kind"] == "agent")
    assert root["status"] == "error" and root["error_type"] == "BudgetExceeded"
    assert root["attributes"]["agentreel.budget.breach"] == "budget_usd"
    assert [s["kind"] for s in spans].count("tool") == 0


def test_limits_refuse_the_step_before_it_runs_and_a_handler_replaces_the_exception(
    to_server: RunningServer,
) -> None:
    breaches: list[sdk.Breach] = []

    def hand_over(breach: sdk.Breach) -> None:
        breaches.append(breach)
        sdk.escalate(str(breach), to="on-call", severity="critical")

    script = [ToolCall("lookup_order", {"order_id": "A-1"}), Answer("done")]
    with FakeProvider(script) as fake, openai_client(fake) as client:
        with pytest.raises(sdk.BudgetExceeded, match="max_llm_calls"):
            support_agent.answer(client, "?", max_llm_calls=1)
        assert len(fake.exchanges) == 1  # the second call was never sent
        fake.set_script(script)
        done = support_agent.answer(client, "?", max_steps=2, on_breach=hand_over)
    assert [(b.limit, b.allowed, b.value) for b in breaches] == [("max_steps", 2, 3)]
    spans = stored_spans(to_server, done.trace_id)
    escalation = next(s for s in spans if s["kind"] == "escalation")
    assert escalation["attributes"]["agentreel.escalation.target"] == "on-call"
    root = next(s for s in spans if s["kind"] == "agent")
    assert root["attributes"]["agentreel.budget.breach"] == "max_steps"
    assert root["status"] != "error"  # the handler let the run finish
