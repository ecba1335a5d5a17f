"""agentreel.sdk end to end: real ``openai``/``anthropic`` clients against the fake provider,
spans exported over real OTLP to a running ``agentreel serve``, read back through the REST API.

Checks what arrives (kinds, parent/child structure, session and user on every span,
decisions, escalations, scores), that the replay of every LLM call equals the request the
provider received, and that budgets stop a run as configured.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from agentreel import sdk

from support.exactness import same_anthropic, same_openai_messages, same_parameters, same_tools
from support.fakeprovider import Answer, FakeProvider, ToolCall
from support.flavours import FLAVOURS
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


# --- every client flavour: sync, async, streaming (support.flavours) -------------------------


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
