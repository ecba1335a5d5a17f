"""The run page as a debugger, rendered with Streamlit's AppTest against a live server: the
step list beside the selected step, what changed since the previous call with the rest
folded, a long run paged with only the selected call's window fetched, the Gantt chart's
clicks, and a comparison's two sides as text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from agentreel.dashboard.client import ApiClient
from agentreel.dashboard.ui import count
from agentreel.dashboard.views.run_view import PAGE_STEPS, step_label, step_of_selection

from support.bigrun import BigRun, send_big_run
from support.dashboard import render
from support.liveserver import RunningServer, start_server
from support.runbuild import Run, answer, calls, response, user


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("runview"), {"AGENTREEL_EVAL_SAMPLE_RATE": "0"})
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def long_run(server: RunningServer) -> BigRun:
    """More steps than a page: 60 calls, a tool call after each but the last, 5 decisions."""
    return send_big_run(server.url, spans=125, calls=60, tools_per_call=1, document_tokens=300)


def _send(server: RunningServer, run: Run) -> str:
    sent = httpx.post(f"{server.url}/v1/traces", content=run.request(),
                      headers={"content-type": "application/x-protobuf"}, timeout=30)  # fmt: skip
    assert sent.status_code == 200, sent.text
    server.wait_for(lambda s: httpx.get(f"{s.url}/api/v1/runs/{run.id}").status_code == 200)
    return run.id


def _weather(city: str) -> Run:
    run = Run()
    request = calls(("call_1", "get_weather", f'{{"city": "{city}"}}'))
    run.llm([user(f"Weather in {city}?")], request)
    run.tool("get_weather", "call_1", f'{{"city": "{city}"}}', "sunny")
    run.llm([user(f"Weather in {city}?"), request, response("call_1", "sunny")], answer("Sunny."))
    return run


def _headings(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("#### ")]


def test_a_long_run_is_paged_and_its_counts_match_its_rows(
    server: RunningServer, long_run: BigRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    real_get = ApiClient.get

    def get(self: ApiClient, path: str, params: dict[str, Any] | None = None) -> Any:
        asked.append(path)
        return real_get(self, path, params)

    monkeypatch.setattr(ApiClient, "get", get)
    at = render(server.url, monkeypatch, page="runs", run=long_run.trace_id)
    timeline = server.get(f"/api/v1/runs/{long_run.trace_id}/timeline")
    steps = timeline["steps"]
    assert len(steps) == long_run.steps > PAGE_STEPS
    shown = {m.label: m.value for m in at.metric}
    assert shown["Steps"] == count(len(steps))  # the rows of the timeline, every one
    assert shown["LLM calls"] == count(long_run.calls)
    # The step list holds one page; the page picker says where it is.
    listed = at.radio(key="run_step")
    assert len(listed.options) == PAGE_STEPS and listed.value == 1
    assert at.selectbox(key="run_page").value == 0
    assert "of 124" in at.selectbox(key="run_page").format_func(0)
    # One request for every diff, and only the selected call's window.
    base = f"/runs/{long_run.trace_id}"
    assert asked.count(f"{base}/llm-calls/diffs") == 1
    assert [p for p in asked if p.startswith(f"{base}/llm-calls")] == [
        f"{base}/llm-calls/diffs",
        f"{base}/llm-calls/1",
    ]
    # The chart draws the page's steps, and a click on a bar opens its step.
    (gantt,) = at.get("plotly_chart")
    assert gantt.proto.selection_mode and gantt.proto.form_id == ""
    assert gantt.proto.spec.count('"customdata"') >= 1
    # The next page opens at its first step.
    at.selectbox(key="run_page").select(1).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["step"] in ("51", ["51"])
    assert at.radio(key="run_step").options[0].startswith("51. ")
    assert _headings(at)[0].startswith("#### ") and "Step 51 · " in _headings(at)[0]


def test_a_call_shows_what_changed_and_folds_the_rest(
    server: RunningServer, long_run: BigRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline = server.get(f"/api/v1/runs/{long_run.trace_id}/timeline")
    step = next(s for s in timeline["steps"] if s.get("llm") and s["llm"]["call"] == 5)
    at = render(
        server.url, monkeypatch, page="runs", run=long_run.trace_id, step=str(step["index"])
    )
    assert f"Step {step['index']} · LLM call 5 · " in _headings(at)[0]
    diff = server.get(f"/api/v1/runs/{long_run.trace_id}/llm-calls/5/diff")
    assert diff["labels"] == ["appended"]
    appended = [m for m in at.markdown if "appended since call 4" in m.value]
    assert len(appended) == diff["messages"]["appended"] == 2
    kept = diff["messages"]["kept"]
    assert any(f"{kept} unchanged message(s) folded" in c.value for c in at.caption)
    assert any(f"What changed since call 4**: {diff['summary']}" in m.value for m in at.markdown)
    # Unfolded, the whole window is there, in order.
    at.toggle(key="run_unchanged_5").set_value(True).run()
    window = server.get(f"/api/v1/runs/{long_run.trace_id}/llm-calls/5")
    roles = [m.value for m in at.markdown if m.value.startswith("**") and "badge" not in m.value]
    assert not any("folded" in c.value for c in at.caption)
    assert (
        sum(r.startswith(("**user", "**assistant", "**tool")) for r in roles)
        >= len(window["input_messages"]) - 2
    )
    # The step list marks what changed at each call; picking a step opens it.
    labels = at.radio(key="run_step").options
    assert any(f"{step['index']}. LLM call 5 · gpt-4o · +2" in label for label in labels)
    at.radio(key="run_step").set_value(step["index"] + 1).run()
    assert at.query_params["step"] in (str(step["index"] + 1), [str(step["index"] + 1)])
    assert f"Step {step['index'] + 1} · tool · " in _headings(at)[0]


def test_a_gantt_click_names_its_step() -> None:
    assert step_of_selection({"selection": {"points": [{"customdata": [7], "y": "7 tool"}]}}) == 7
    assert step_of_selection({"selection": {"points": []}}) is None
    assert step_of_selection(None) is None
    llm = {"index": 3, "kind": "llm", "name": "chat", "status": "error",
           "llm": {"call": 2, "model": "gpt-4o"}}  # fmt: skip
    diff = {"previous_call": 1, "messages": {"appended": 2, "comparable": True}, "labels": []}
    assert step_label(llm, [{}, diff]) == "✗ 3. LLM call 2 · gpt-4o · +2"


def test_compare_shows_the_two_sides_as_text(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    paris, lyon = _send(server, _weather("Paris")), _send(server, _weather("Lyon"))
    at = render(server.url, monkeypatch, page="runs", run=paris, against=lyon)
    diff = server.get(f"/api/v1/runs/{paris}/diff", against=lyon)
    first = diff["first_divergence"]
    assert first["type"] == "different_input"  # the user asked about another city
    table = at.dataframe[0].value
    assert "different input" in list(table["what differs"])
    code = [c.value for c in at.code]
    assert any("[user] Weather in Paris?" in c for c in code)
    assert any("[user] Weather in Lyon?" in c for c in code)
    assert all(c.proto.wrap_lines for c in at.code)
