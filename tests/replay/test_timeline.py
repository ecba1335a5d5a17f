"""The run timeline on a real chDB store: steps in order, tool calls matched to the LLM call
that asked for them, the first failure, and what did not arrive said rather than invented."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentreel.replay.timeline import load_timeline
from agentreel.server.routes.replay_json import timeline_json

from support.otlpbuild import new_span_id, span
from support.runbuild import MS, Run, answer, calls, load_payload, new_project, response, user


def _timeline(store: Any, project: str, trace_id: str) -> dict[str, Any]:
    result = load_timeline(store, project, trace_id)
    assert result is not None
    return timeline_json(result)


def _booking_run() -> Run:
    run = Run()
    ask = [user("Book me a table in Paris tonight")]
    weather = ("c1", "get_weather", '{"city": "Paris"}')
    clock = ("c2", "get_time", '{"tz": "CET"}')
    run.llm(ask, calls(weather, clock))
    run.tool(
        "get_time", "c2", '{"tz": "CET"}', '"19:02"'
    )  # parallel calls: the later one ran first
    run.tool("get_weather", "c1", '{"city": "Paris"}', '{"sky": "rain"}')
    run.tool("flush_cache", "", "{}", "ok")  # no call asked for this one
    run.other(
        "route",
        {
            "agentreel.decision.name": "route",
            "agentreel.decision.options": json.dumps(["book", "ask_user"]),
            "agentreel.decision.chosen": "book",
            "agentreel.decision.reason": "the user gave a city",
            "agentreel.decision.confidence": 0.8,
        },
    )
    history = [
        *ask,
        calls(weather, clock),
        response("c1", '{"sky": "rain"}'),
        response("c2", '"19:02"'),
    ]
    lookup, book = ("c3", "lookup", '{"q": "bistro"}'), ("c4", "book", '{"id": 7}')
    run.llm(history, calls(lookup, book))
    run.tool("book", "c4", '{"id": 7}', None, status=2, message="booking API answered 500")
    run.other(
        "escalate",
        {"agentreel.escalation.reason": "booking failed", "agentreel.escalation.target": "human"},
    )
    run.llm(
        [*history, calls(lookup, book), response("c4", "error")],
        answer("Sorry, a human will call you."),
    )
    return run


def test_steps_in_order_with_tool_calls_matched_by_id(store: Any) -> None:
    project = new_project()
    timeline = _timeline(store, project, _booking_run().write(store, project))
    steps = timeline["steps"]
    assert [(s["index"], s["kind"], s["name"]) for s in steps] == [
        (1, "llm", "chat gpt-4o"),
        (2, "tool", "get_time"),
        (3, "tool", "get_weather"),
        (4, "tool", "flush_cache"),
        (5, "decision", "route"),
        (6, "llm", "chat gpt-4o"),
        (7, "tool", "lookup"),
        (8, "tool", "book"),
        (9, "escalation", "escalate"),
        (10, "llm", "chat gpt-4o"),
    ]
    # Matched by id, not by order: c1 ran second.
    assert [(c["id"], c["step"]) for c in steps[0]["llm"]["tool_calls"]] == [("c1", 3), ("c2", 2)]
    assert steps[1]["tool"]["requested_by"] == 1 and steps[2]["tool"]["call_id"] == "c1"
    assert steps[2]["tool"]["arguments"] == '{"city": "Paris"}'
    assert steps[2]["tool"]["result"] == '{"sky": "rain"}'
    assert steps[3]["tool"]["requested_by"] is None and steps[3]["tool"]["recorded"]
    # Asked for, never recorded: still a step, with no invented times.
    lookup = steps[6]["tool"]
    assert (lookup["recorded"], lookup["requested_by"], lookup["call_id"]) == (False, 6, "c3")
    assert steps[6]["start_time"] is None and steps[6]["missing"] == ["span", "result"]
    # The span recorded no result, but the agent sent one back to the model.
    assert steps[7]["tool"]["result"] == "error"
    assert steps[7]["tool"]["sources"] == {"arguments": "span", "result": "llm_input"}
    assert steps[4]["decision"] == {
        "name": "route",
        "options": ["book", "ask_user"],
        "chosen": "book",
        "reason": "the user gave a city",
        "confidence": 0.8,
    }
    assert steps[8]["escalation"] == {
        "reason": "booking failed",
        "target": "human",
        "severity": None,
    }
    assert timeline["first_failure"] == {
        "step": 8,
        "kind": "tool",
        "name": "book",
        "span_id": steps[7]["span_id"],
        "error": "booking API answered 500",
    }
    assert timeline["step_count"] == 9  # 3 LLM calls + 5 tool calls + 1 decision
    assert timeline["counts"] == {"llm_calls": 3, "tool_calls": 5, "decisions": 1, "escalations": 1}
    assert timeline["escalations"] == [9]
    assert timeline["status"] == "error" and timeline["complete"]
    assert timeline["usage"]["input_tokens"] == 300
    assert steps[9]["llm"]["output_text"] == "Sorry, a human will call you."
    assert [s["offset_ms"] for s in steps[:2]] == [10.0, 20.0]
    assert timeline["missing"] == [
        "step 7 (tool lookup): requested by the model but no tool span recorded it",
        "step 7 (tool lookup): not captured: result",
    ]


def test_one_call_recorded_by_two_spans_is_one_step(store: Any) -> None:
    project, run = new_project(), Run()
    outer = run.llm([user("hi")], answer("hello"))
    inner = span(
        run.trace_id,
        new_span_id(),
        "anthropic.messages.create",
        {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 100},
        parent=outer.span_id,
        start_ns=run.clock + MS,
    )
    run.spans.append(inner)
    timeline = _timeline(store, project, run.write(store, project))
    (step,) = timeline["steps"]
    assert step["kind"] == "llm" and len(step["span_ids"]) == 2
    assert step["usage"]["input_tokens"] == 100 and timeline["usage"]["input_tokens"] == 100


def test_missing_content_and_a_partly_arrived_run_are_marked(store: Any) -> None:
    project, run = new_project(), Run(root=False)
    run.llm(None, None)  # content capture off
    run.tool("search", "", None, None)
    timeline = _timeline(store, project, run.write(store, project))
    llm, tool = timeline["steps"]
    assert llm["missing"] == ["input_messages", "output_messages"]
    assert llm["llm"]["output_text"] is None and llm["llm"]["tool_calls"] == []
    assert llm["llm"]["fingerprint"]["input"] is None
    assert tool["missing"] == ["arguments", "result"] and tool["tool"]["requested_by"] is None
    assert not timeline["complete"]
    assert timeline["missing"] == [
        "the root span has not arrived: the run is still going or part of it was lost",
        "2 span(s) whose parent span never arrived",
        "step 1 (llm chat gpt-4o): not captured: input_messages, output_messages",
        "step 2 (tool search): not captured: arguments, result",
    ]


def test_a_failed_call_has_no_output_and_that_is_not_a_gap(store: Any) -> None:
    """The provider answered an error: there is no output to capture, so neither the step nor
    the run says "not captured: output_messages"."""
    project, run = new_project(), Run()
    run.llm([user("x")], None, status=2, message="429 rate limited")
    timeline = _timeline(store, project, run.write(store, project))
    (step,) = timeline["steps"]
    assert step["status"] == "error" and step["missing"] == []
    assert not any("not captured" in note for note in timeline["missing"])
    assert timeline["first_failure"]["error"] == "429 rate limited"


def test_tool_calls_without_ids_match_by_name_and_order(store: Any) -> None:
    project, run = new_project(), Run()
    run.llm([user("x")], calls(("", "search", '{"q": 1}'), ("", "search", '{"q": 2}')))
    run.tool("search", "", '{"q": 1}', "a")
    run.tool("search", "", '{"q": 2}', "b")
    steps = _timeline(store, project, run.write(store, project))["steps"]
    assert [c["step"] for c in steps[0]["llm"]["tool_calls"]] == [2, 3]
    assert [s["tool"]["requested_by"] for s in steps[1:]] == [1, 1]


def test_tool_spans_without_ids_are_the_calls_the_model_asked_for_by_id(store: Any) -> None:
    """Many frameworks' tool spans carry no tool-call id while the model's request does
    (LangChain, CrewAI, the Agents SDK, MCP). Each span is the step of the request it ran:
    by name, then by arguments (parallel calls of one tool may run in any order), never a
    requested-only step beside an unrequested span."""
    project, run = new_project(), Run()
    paris, lyon = (
        ("c1", "get_weather", '{"city": "Paris"}'),
        ("c2", "get_weather", '{"city": "Lyon"}'),
    )
    run.llm([user("x")], calls(paris, lyon))
    run.tool("get_weather", "", '{"city": "Lyon"}', "18C")  # the second request ran first
    run.tool("get_weather", "", '{"city": "Paris"}', "21C")
    run.llm([user("x"), calls(paris, lyon), response("c1", "21C"), response("c2", "18C")],
            answer("done"))  # fmt: skip
    timeline = _timeline(store, project, run.write(store, project))
    steps = timeline["steps"]
    assert [s["kind"] for s in steps] == ["llm", "tool", "tool", "llm"]
    assert timeline["counts"]["tool_calls"] == 2 and timeline["step_count"] == 4
    by_id = {c["id"]: c["step"] for c in steps[0]["llm"]["tool_calls"]}
    assert by_id == {"c1": 3, "c2": 2}
    assert [(s["tool"]["arguments"], s["tool"]["result"]) for s in steps[1:3]] == [
        ('{"city": "Lyon"}', "18C"),
        ('{"city": "Paris"}', "21C"),
    ]
    assert not timeline["missing"]


def test_nested_tool_spans_of_one_call_are_one_step_when_only_one_has_the_id(
    store: Any,
) -> None:
    """AutoGen: OpenInference's span (no id, the result) around autogen-core's
    ``execute_tool`` (the id, no result). One step, as the run totals count one."""
    project, run = new_project(), Run()
    run.llm([user("x")], calls(("c1", "add", '{"a": 2}')))
    outer = run.tool("add", "", '{"a": 2}', "5")
    inner = span(run.trace_id, new_span_id(), "execute_tool add",
                 {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "add",
                  "gen_ai.tool.call.id": "c1"},
                 parent=outer.span_id, start_ns=run.clock + MS)  # fmt: skip
    run.spans.append(inner)
    timeline = _timeline(store, project, trace_id := run.write(store, project))
    (_, tool) = timeline["steps"]
    assert len(tool["span_ids"]) == 2 and tool["tool"]["call_id"] == "c1"
    assert (tool["tool"]["result"], tool["tool"]["requested_by"]) == ("5", 1)
    counted = store.query(
        "SELECT tool_calls FROM runs FINAL WHERE project = {p:String} AND trace_id = {t:String}",
        parameters={"p": project, "t": trace_id},
    ).result_rows
    assert counted == [(1,)] == [(timeline["counts"]["tool_calls"],)]


@pytest.mark.parametrize(
    "name", ["openinference_openai", "otel_genai_openai_latest", "openllmetry_anthropic"]
)
def test_saved_payload_timeline(store: Any, name: str) -> None:
    project, trace_id = load_payload(name, store)
    timeline = _timeline(store, project, trace_id)
    steps = timeline["steps"]
    assert [(s["kind"], s["name"] if s["kind"] == "tool" else "") for s in steps] == [
        ("llm", ""),
        ("tool", "get_weather"),
        ("llm", ""),
        ("tool", "c_to_f"),
        ("llm", ""),
    ]
    assert [c["step"] for c in steps[0]["llm"]["tool_calls"]] == [2]
    assert [c["step"] for c in steps[2]["llm"]["tool_calls"]] == [4]
    assert [s["tool"]["requested_by"] for s in steps if s["kind"] == "tool"] == [1, 3]
    assert json.loads(steps[1]["tool"]["arguments"]) == {"city": "Paris"}
    assert steps[4]["llm"]["output_text"] == "Paris: 21C (69.8F), sunny."
    assert timeline["step_count"] == 5 and timeline["first_failure"] is None
    assert timeline["missing"] == [] and timeline["complete"]
    if name == "openllmetry_anthropic":  # instrumentor + Anthropic SDK span: one step each
        assert [len(s["span_ids"]) for s in steps if s["kind"] == "llm"] == [2, 2, 2]


def test_timeline_endpoint(replay_api: tuple[Any, str], store: Any) -> None:
    http, project = replay_api
    trace_id = _booking_run().write(store, project)
    got = http.get(f"/api/v1/runs/{trace_id.upper()}/timeline")
    assert got.status_code == 200
    body = got.json()
    assert body["trace_id"] == trace_id and body["first_failure"]["step"] == 8
    assert len(body["steps"]) == 10
    unknown = http.get(f"/api/v1/runs/{'0' * 32}/timeline")
    assert unknown.status_code == 404 and unknown.json() == {
        "detail": f"no run with trace id {'0' * 32}"
    }
    bad = http.get("/api/v1/runs/not-a-trace/timeline")
    assert bad.status_code == 400 and "32 hexadecimal" in bad.json()["detail"]


def test_a_tool_and_the_next_call_started_in_the_same_millisecond_keep_their_order(
    store: Any,
) -> None:
    """Emitters with millisecond clocks (the AI SDK) often start a tool and the next call at
    the same instant: the tool the first call asked for still comes between the two."""
    run = Run()
    ask = [user("Weather in Paris?")]
    weather = ("c1", "get_weather", '{"city": "Paris"}')
    run.llm(ask, calls(weather))
    run.tool("get_weather", "c1", '{"city": "Paris"}', '{"sky": "rain"}')
    run.clock -= 10 * MS  # the next call starts when the tool did
    run.llm([*ask, calls(weather), response("c1", '{"sky": "rain"}')], answer("Rain."))
    project = new_project()
    steps = _timeline(store, project, run.write(store, project))["steps"]
    assert [(s["kind"], s["name"]) for s in steps] == [
        ("llm", "chat gpt-4o"),
        ("tool", "get_weather"),
        ("llm", "chat gpt-4o"),
    ]
