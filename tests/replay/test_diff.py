"""Diffs on a real chDB store: what changed in the context window from one LLM call to the
next (growth, truncation, summarization, prompt edits), and where two runs part ways."""

from __future__ import annotations

import json
from typing import Any

from agentreel.replay.diff import context_diff, fingerprint
from agentreel.replay.memo import Memo
from agentreel.replay.model import LLMCall, Window
from agentreel.replay.neutral import neutral_fingerprints, neutral_window
from agentreel.replay.rundiff import run_diff
from agentreel.replay.timeline import load_timeline
from agentreel.replay.windows import llm_calls

from support.runbuild import (
    SYSTEM,
    Run,
    answer,
    calls,
    load_payload,
    new_project,
    response,
    user,
)

WEATHER_TOOL = {"type": "function", "name": "get_weather", "description": "Weather of a city."}


def _calls(store: Any, project: str, run: Run) -> list[LLMCall]:
    result = llm_calls(store, project, run.write(store, project))
    assert result is not None
    return result


def _diff(store: Any, run: Run, n: int) -> dict[str, Any]:
    project = new_project()
    found = _calls(store, project, run)
    return context_diff(found[n - 2] if n > 1 else None, found[n - 1], n)


def test_a_growing_conversation_is_appended_from_the_previous_output(store: Any) -> None:
    run = Run()
    request = calls(("call_1", "get_weather", '{"city": "Paris"}'))
    run.llm([user("Weather in Paris?")], request)
    run.tool("get_weather", "call_1", '{"city": "Paris"}', "sunny")
    run.llm([user("Weather in Paris?"), request, response("call_1", "sunny")], answer("Sunny."))
    diff = _diff(store, run, 2)
    assert diff["labels"] == ["appended"] and diff["previous_call"] == 1
    assert diff["messages"] == {
        "before": 1,
        "after": 3,
        "kept": 1,
        "appended": 2,
        "inserted": 0,
        "removed": 0,
        "changed": 0,
        "comparable": True,
    }
    assert [
        (c["op"], c["index"], c["role"], c["from_previous_output"]) for c in diff["changes"]
    ] == [
        ("appended", 1, "assistant", True),
        ("appended", 2, "tool", False),
    ]
    assert not diff["system_instructions"]["changed"] and diff["system_instructions"]["comparable"]
    assert diff["summary"] == "call 2 vs call 1: 2 message(s) appended"


def _conversation(turns: int) -> list[dict[str, Any]]:
    out = []
    for i in range(turns):
        out += [user(f"question {i}"), answer(f"answer {i}")]
    return out


def test_a_truncated_context_is_detected(store: Any) -> None:
    run, history = Run(), _conversation(3)
    run.llm(history, answer("answer 3"))
    # The agent drops the oldest exchange to fit the window, then asks the next question.
    run.llm([*history[2:], answer("answer 3"), user("question 4")], answer("answer 4"))
    diff = _diff(store, run, 2)
    assert diff["labels"] == ["appended", "truncated"]
    removed = [(c["previous_index"], c["role"]) for c in diff["changes"] if c["op"] == "removed"]
    assert removed == [(0, "user"), (1, "assistant")]
    assert diff["messages"]["removed"] == 2 and diff["messages"]["appended"] == 2
    assert "2 message(s) removed" in diff["summary"] and "context truncated" in diff["summary"]


def test_a_summarized_context_is_detected(store: Any) -> None:
    run, history = Run(), _conversation(3)
    run.llm(history, answer("answer 3"))
    summary = user("Summary so far: three questions answered.")
    run.llm([summary, *history[4:], user("question 3")], answer("answer 3"))
    diff = _diff(store, run, 2)
    assert diff["labels"] == ["appended", "summarized"]
    changed = [c for c in diff["changes"] if c["op"] == "changed"]
    assert [(c["previous_index"], c["index"]) for c in changed] == [(0, 0)]
    assert changed[0]["text_diff"] == [
        "@@ -1 +1 @@",
        "-question 0",
        "+" + summary["parts"][0]["content"],
    ]
    assert [c["previous_index"] for c in diff["changes"] if c["op"] == "removed"] == [1, 2, 3]


def test_a_changed_system_prompt_is_detected(store: Any) -> None:
    run = Run()
    run.llm([user("hi")], answer("hello"))
    stricter = [{"type": "text", "content": "You are a travel agent.\nNever book without asking."}]
    run.llm([user("hi"), answer("hello"), user("book it")], answer("ok"), system=stricter)
    diff = _diff(store, run, 2)
    assert diff["labels"] == ["appended", "system_instructions_changed"]
    system = diff["system_instructions"]
    assert system["where"] == "system_instructions"
    assert (system["before"], system["after"]) == (SYSTEM, stricter)
    assert system["text_diff"] == [
        "@@ -1 +1,2 @@",
        " You are a travel agent.",
        "+Never book without asking.",
    ]


def test_a_system_message_edited_in_place(store: Any) -> None:
    run = Run()
    first = {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]}
    second = {"role": "system", "parts": [{"type": "text", "content": "Be very brief."}]}
    run.llm([first, user("hi")], answer("hello"), system=None)
    run.llm([second, user("hi"), answer("hello"), user("more")], answer("ok"), system=None)
    diff = _diff(store, run, 2)
    assert diff["labels"] == ["appended", "edited", "system_instructions_changed"]
    assert diff["system_instructions"]["where"] == "messages"
    assert diff["system_instructions"]["before"] == [first]
    assert diff["system_instructions"]["after"] == [second]


def test_tool_definitions_and_model_changes(store: Any) -> None:
    run = Run()
    run.llm([user("hi")], answer("hello"), tools=[WEATHER_TOOL])
    book = {"type": "function", "name": "book", "description": "Book a table."}
    vaguer = {**WEATHER_TOOL, "description": "Weather."}
    run.llm([user("hi")], answer("hello"), tools=[vaguer, book], model="gpt-4o-mini")
    diff = _diff(store, run, 2)
    assert diff["labels"] == ["tool_definitions_changed", "model_changed"]
    tools = diff["tool_definitions"]
    assert (tools["added"], tools["removed"], tools["modified"]) == (["book"], [], ["get_weather"])
    assert diff["model"] == {"before": "gpt-4o", "after": "gpt-4o-mini", "changed": True}


def test_the_first_call_diffs_against_an_empty_window_and_missing_input_is_said(
    store: Any,
) -> None:
    run = Run()
    run.llm([user("hi")], answer("hello"))
    run.llm(None, None, system=None)  # content capture was off for this one
    project = new_project()
    found = _calls(store, project, run)
    first = context_diff(None, found[0], 1)
    assert first["previous_call"] is None and first["messages"]["appended"] == 1
    assert first["labels"] == ["appended", "system_instructions_changed"]
    second = context_diff(found[0], found[1], 2)
    assert second["messages"]["comparable"] is False and second["changes"] == []
    assert second["missing"] == ["this call's input messages were not captured"]
    assert second["summary"].startswith("call 2 vs call 1: input messages not captured")
    assert not second["system_instructions"]["comparable"]


def test_step_diff_on_a_saved_payload(store: Any) -> None:
    project, trace_id = load_payload("openinference_openai", store)
    found = llm_calls(store, project, trace_id)
    assert found is not None
    first = context_diff(None, found[0], 1)
    assert [(c["op"], c["role"]) for c in first["changes"]] == [
        ("appended", "system"),
        ("appended", "user"),
    ]
    for n in (2, 3):  # the model's tool call goes back verbatim, then the tool's answer
        diff = context_diff(found[n - 2], found[n - 1], n)
        assert diff["labels"] == ["appended"]
        assert [(c["role"], c["from_previous_output"]) for c in diff["changes"]] == [
            ("assistant", True),
            ("tool", False),
        ]


def _weather_run(city: str, ids: str, executed_city: str | None = None, audit: bool = False) -> Run:
    run = Run()
    arguments = json.dumps({"city": city})
    request = calls((f"{ids}1", "get_weather", arguments))
    run.llm([user("Weather?")], request)
    run.tool("get_weather", f"{ids}1", json.dumps({"city": executed_city or city}), "sunny")
    if audit:  # a step the agent's code adds, unseen by the model
        run.tool("audit_log", "", "{}", "ok")
    run.llm([user("Weather?"), request, response(f"{ids}1", "sunny")], answer("Sunny."))
    return run


def _run_diff(store: Any, run: Run, against: Run) -> dict[str, Any]:
    project = new_project()
    mine = load_timeline(store, project, run.write(store, project))
    theirs = load_timeline(store, project, against.write(store, project))
    assert mine is not None and theirs is not None
    return run_diff(mine, theirs)


def test_runs_that_differ_only_in_tool_call_ids_match(store: Any) -> None:
    diff = _run_diff(store, _weather_run("Paris", "call_a"), _weather_run("Paris", "call_b"))
    assert diff["identical"] and diff["first_divergence"] is None
    assert [r["match"] for r in diff["alignment"]] == ["same", "same", "same"]
    assert diff["summary"] == "the runs match step for step (3 steps)"


def test_runs_diverging_at_a_tool_argument(store: Any) -> None:
    diff = _run_diff(store, _weather_run("Paris", "call_a"), _weather_run("Lyon", "call_b"))
    first = diff["first_divergence"]
    assert (first["type"], first["run_step"], first["against_step"]) == (
        "different_arguments",
        1,
        1,
    )
    assert first["run"] == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    assert first["against"] == [{"name": "get_weather", "arguments": {"city": "Lyon"}}]
    assert first["summary"] == (
        "step 1 (against step 1): llm gpt-4o: different tool calls: "
        '[{"name":"get_weather","arguments":{"city":"Paris"}}] vs '
        '[{"name":"get_weather","arguments":{"city":"Lyon"}}]'
    )
    assert [r["divergence"]["type"] for r in diff["alignment"]] == [
        "different_arguments",
        "different_arguments",
        "different_input",
    ]
    assert diff["summary"] == "the runs diverge first at " + first["summary"]


def test_a_tool_run_with_other_arguments_than_the_model_asked_for(store: Any) -> None:
    rewritten = _weather_run("Paris", "call_b", executed_city="Lyon")
    diff = _run_diff(store, _weather_run("Paris", "call_a"), rewritten)
    first = diff["first_divergence"]
    assert (first["type"], first["run_step"], first["against_step"]) == (
        "different_arguments",
        2,
        2,
    )
    assert (first["run"], first["against"]) == ({"city": "Paris"}, {"city": "Lyon"})
    assert first["summary"].startswith("step 2 (against step 2): tool get_weather: different")


def test_a_different_model_and_an_extra_step(store: Any) -> None:
    other_model = Run()
    other_model.llm([user("Weather?")], answer("Sunny."), model="gpt-4o-mini")
    plain = Run()
    plain.llm([user("Weather?")], answer("Sunny."))
    diff = _run_diff(store, other_model, plain)
    first = diff["first_divergence"]
    assert (first["type"], first["run"], first["against"]) == (
        "different_model",
        "gpt-4o-mini",
        "gpt-4o",
    )

    audited = _weather_run("Paris", "call_a", audit=True)
    diff = _run_diff(store, audited, _weather_run("Paris", "call_b"))
    first = diff["first_divergence"]
    assert (first["type"], first["run_step"], first["against_step"]) == ("extra_step", 3, None)
    assert first["summary"] == "step 3 (not in against): tool audit_log only in this run"
    assert [r["match"] for r in diff["alignment"]] == ["same", "same", "extra", "same"]
    back = _run_diff(store, _weather_run("Paris", "call_c"), audited)["first_divergence"]
    assert (back["type"], back["run_step"], back["against_step"]) == ("missing_step", None, 3)
    assert back["summary"] == "against step 3: tool audit_log missing from this run"


def test_diff_endpoints(replay_api: tuple[Any, str], store: Any) -> None:
    http, project = replay_api
    run = _weather_run("Paris", "call_a").write(store, project)
    other = _weather_run("Lyon", "call_b").write(store, project)
    got = http.get(f"/api/v1/runs/{run}/llm-calls/2/diff")
    assert got.status_code == 200 and got.json()["labels"] == ["appended"]
    assert got.json()["trace_id"] == run
    assert http.get(f"/api/v1/runs/{run}/llm-calls/1/diff").json()["previous_call"] is None
    for n in (0, 3):
        out_of_range = http.get(f"/api/v1/runs/{run}/llm-calls/{n}/diff")
        assert out_of_range.status_code == 404
        assert (
            out_of_range.json()["detail"] == f"run {run} has no LLM call {n} (it has calls 1 to 2)"
        )
    unknown = "f" * 32
    assert http.get(f"/api/v1/runs/{unknown}/llm-calls/1/diff").status_code == 404
    assert http.get("/api/v1/runs/xyz/llm-calls/1/diff").status_code == 400

    diff = http.get(f"/api/v1/runs/{run}/diff", params={"against": other})
    assert diff.status_code == 200
    assert diff.json()["first_divergence"]["type"] == "different_arguments"
    missing = http.get(f"/api/v1/runs/{run}/diff", params={"against": unknown})
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"no run to compare against with trace id {unknown}"
    assert http.get(f"/api/v1/runs/{unknown}/diff", params={"against": run}).status_code == 404
    assert http.get(f"/api/v1/runs/{run}/diff", params={"against": "nope"}).status_code == 400
    assert http.get(f"/api/v1/runs/{run}/diff").status_code == 422


def test_all_diffs_of_a_run_in_one_answer_are_the_per_call_answers(
    replay_api: tuple[Any, str], store: Any
) -> None:
    http, project = replay_api
    run = _weather_run("Paris", "call_a")
    run.llm([user("And Lyon?")], answer("Cloudy."))  # a new conversation: context replaced
    trace_id = run.write(store, project)
    got = http.get(f"/api/v1/runs/{trace_id}/llm-calls/diffs")
    assert got.status_code == 200
    body = got.json()
    assert body["trace_id"] == trace_id and body["llm_calls"] == len(body["diffs"]) == 3
    for n, diff in enumerate(body["diffs"], 1):
        one = http.get(f"/api/v1/runs/{trace_id}/llm-calls/{n}/diff").json()
        assert {"trace_id": trace_id, **diff} == one
    assert [d["call"] for d in body["diffs"]] == [1, 2, 3]
    unknown = "f" * 32
    assert http.get(f"/api/v1/runs/{unknown}/llm-calls/diffs").status_code == 404
    assert http.get("/api/v1/runs/xyz/llm-calls/diffs").status_code == 400


def test_one_call_is_the_calls_entry_of_the_run(replay_api: tuple[Any, str], store: Any) -> None:
    http, project = replay_api
    trace_id = _weather_run("Paris", "call_a").write(store, project)
    for format in ("otel", "openai", "anthropic"):
        every = http.get(f"/api/v1/runs/{trace_id}/llm-calls", params={"format": format}).json()
        assert len(every["llm_calls"]) == 2  # the weather run makes two LLM calls
        for n, call in enumerate(every["llm_calls"], 1):
            one = http.get(f"/api/v1/runs/{trace_id}/llm-calls/{n}", params={"format": format})
            assert one.status_code == 200
            expected = {"trace_id": trace_id, "format": format, "call": n, "of": 2, **call}
            assert one.json() == expected
    missing = http.get(f"/api/v1/runs/{trace_id}/llm-calls/3")
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"run {trace_id} has no LLM call 3 (it has calls 1 to 2)"
    bad = http.get(f"/api/v1/runs/{trace_id}/llm-calls/1", params={"format": "xml"})
    assert bad.status_code == 400


def test_runs_without_captured_content_still_diff(replay_api: tuple[Any, str], store: Any) -> None:
    http, project = replay_api
    blind = Run(root=False)
    blind.llm(None, None)
    blind.tool("search", "", None, None)
    trace_id = blind.write(store, project)
    other = _weather_run("Paris", "call_a").write(store, project)
    step = http.get(f"/api/v1/runs/{trace_id}/llm-calls/1/diff")
    assert step.status_code == 200 and step.json()["messages"]["comparable"] is False
    diff = http.get(f"/api/v1/runs/{trace_id}/diff", params={"against": trace_id}).json()
    assert diff["first_divergence"] is None and not diff["identical"]
    assert diff["not_compared"] == [
        "step 1 (llm gpt-4o): input not captured in either run",
        "step 1 (llm gpt-4o): output not captured in either run",
        "step 2 (tool search): arguments not captured in either run",
        "step 2 (tool search): result not captured in either run",
    ]
    assert diff["summary"].endswith("(2 steps; 4 comparison(s) skipped, content missing)")
    against = http.get(f"/api/v1/runs/{trace_id}/diff", params={"against": other})
    assert against.status_code == 200
    assert (
        against.json()["not_compared"][0] == "step 1 (llm gpt-4o): input not captured in this run"
    )


def test_odd_values_in_a_window_still_diff() -> None:
    odd: list[Any] = [
        None,
        "plain text",
        {"role": "user"},
        {"parts": "x"},
        {"missing_content": "ab"},
    ]
    previous = Window(
        input_messages=odd,
        output_messages=["x"],
        system_instructions="be brief",
        tool_definitions={"not": "a list"},
    )
    current = Window(
        input_messages=[*odd[1:], {"role": "user", "parts": [None, {"type": "text"}]}],
        system_instructions=None,
        tool_definitions=[1, "two"],
    )
    diff = context_diff(_bare_call(previous), _bare_call(current), 2)
    assert diff["labels"] == [
        "appended",
        "truncated",
        "system_instructions_changed",
        "tool_definitions_changed",
    ]
    assert diff["tool_definitions"]["added"] == ["#0", "#1"]
    assert diff["system_instructions"]["text_diff"] == ["@@ -1 +0,0 @@", "-be brief"]


def _bare_call(window: Window) -> LLMCall:
    """A call that is only its window (what a context diff compares)."""
    return LLMCall(
        span_id="",
        span_ids=[],
        name="",
        start_time="",
        duration_ms=0.0,
        provider="",
        request_model="",
        model="",
        convention="",
        status="unset",
        error="",
        finish_reasons=[],
        usage={},
        cost_usd=0.0,
        parameters={},
        window=window,
        missing_content=[],
    )


def test_a_call_that_failed_in_one_run_only(store: Any) -> None:
    ok, failed = Run(), Run()
    ok.llm([user("Weather?")], answer("Sunny."))
    failed.llm([user("Weather?")], None)
    failed.spans[-1].status.code, failed.spans[-1].status.message = 2, "rate limited"
    diff = _run_diff(store, failed, ok)
    first = diff["first_divergence"]
    assert (first["type"], first["run"], first["against"]) == ("different_output", "error", "unset")
    assert first["summary"].endswith("llm gpt-4o: status error (rate limited) vs unset (-)")
    assert diff["not_compared"] == []


def test_neutral_fingerprints_hash_the_neutral_window_once_per_message() -> None:
    tool_results = [response("call_1", "sunny"), response("call_2", "rain")]
    system_message = {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]}
    inputs = [system_message, user("Weather?"), calls(("call_1", "w", "{}")), *tool_results]
    tools = [WEATHER_TOOL]
    memo = Memo()
    for window in ((SYSTEM, tools, inputs), (None, None, inputs[:3]), (SYSTEM, None, None)):
        neutral = neutral_window(*window)
        expected = {k: None if v is None else fingerprint(v) for k, v in neutral.items()}
        assert neutral_fingerprints(*window, memo) == expected
        assert neutral_fingerprints(*window, Memo()) == expected
