"""Every dashboard page rendered with Streamlit's AppTest against a real server holding the
demo's week of runs; the numbers on the page must be the API's answers."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from agentreel.dashboard.client import ApiClient, Refused
from agentreel.dashboard.filters import Filters
from agentreel.dashboard.ui import count, millis, money, percent
from agentreel.demo import DemoResult, send_demo

from support.dashboard import render
from support.liveserver import RunningServer, start_server
from support.otlpbuild import kv, span
from support.runbuild import BASE, MS, Run, answer, calls, user

TODAY = datetime.now(UTC).date()
#: Whole UTC days, so the page and the test ask the API the very same question.
WEEK = {
    "range": "custom",
    "since": (TODAY - timedelta(days=8)).isoformat(),
    "until": TODAY.isoformat(),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, DemoResult]]:
    # No online evaluation: the scores are the demo's, not whatever a background round adds
    # between the page's request and the test's.
    server = start_server(tmp_path_factory.mktemp("dashboard"), {"AGENTREEL_EVAL_SAMPLE_RATE": "0"})
    try:
        result = send_demo(server.url, seed=11)
        assert result.export_failures == 0
        server.wait_for(lambda s: s.get("/api/v1/stats")["runs"] == result.runs, what="demo runs")
        yield server, result
    finally:
        server.stop()


@pytest.fixture
def api(demo: tuple[RunningServer, DemoResult]) -> RunningServer:
    return demo[0]


def _params(**extra: Any) -> dict[str, Any]:
    since, until = date.fromisoformat(WEEK["since"]), date.fromisoformat(WEEK["until"])
    params = Filters(range="custom", since=since, until=until).api_params(datetime.now(UTC))
    return {k: v for k, v in {**params, **extra}.items() if v is not None}


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _charts(at: AppTest) -> list[Any]:
    return list(at.get("plotly_chart"))


def test_overview_shows_the_apis_numbers(
    demo: tuple[RunningServer, DemoResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, result = demo
    at = render(server.url, monkeypatch, **WEEK)
    ov = server.get("/api/v1/overview", **_params())
    assert ov["runs"] == result.runs and ov["failed_runs"] == result.failed_runs
    shown = _metrics(at)
    assert shown["Runs"] == count(result.runs)
    assert shown["Failed runs"] == count(result.failed_runs)
    assert shown["Error rate"] == percent(result.failed_runs / result.runs)
    assert shown["Cost today (UTC)"] == money(ov["today"]["cost_usd"])
    assert shown["Cost this month"] == money(ov["month"]["cost_usd"])
    assert shown["Month-end projection"] == money(ov["month"]["projected_usd"])
    assert shown["Cost in range"] == money(ov["cost_usd"]) and ov["cost_usd"] > 1
    assert shown["p95 run latency"] == millis(ov["p95_latency_ms"])
    assert shown["LLM calls"] == count(ov["llm_calls"])
    assert shown["Tool calls"] == count(ov["tool_calls"])
    assert len(_charts(at)) == 2
    assert any("No budget set" in c.value for c in at.caption)


@pytest.mark.parametrize("by", ["model", "agent"])
def test_cost_page_by_model_and_agent(
    api: RunningServer, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    at = render(api.url, monkeypatch, page="cost", by=by, **WEEK)
    rows = pl.DataFrame(api.get("/api/v1/cost/daily", **_params(by=by))["rows"])
    shown = _metrics(at)
    assert shown["Cost in range"] == money(rows["cost_usd"].sum())
    assert shown["LLM calls"] == count(rows["llm_calls"].sum())
    assert shown["Cache savings"] == money(rows["cache_savings_usd"].sum())
    totals = at.dataframe[0].value
    expected = (
        rows.group_by("key")
        .agg(pl.col("cost_usd").sum())
        .sort(["cost_usd", "key"], descending=[True, False])
    )
    assert list(totals[by]) == expected["key"].to_list()
    assert [round(v, 9) for v in totals["cost_usd"]] == [
        round(v, 9) for v in expected["cost_usd"].to_list()
    ]
    expensive = api.get("/api/v1/runs", sort="cost", order="desc", limit=10)["runs"]
    assert list(at.dataframe[1].value["trace id"]) == [r["trace_id"] for r in expensive]
    assert at.dataframe[1].value["cost"].iloc[0] == money(expensive[0]["cost_usd"])


def test_failures_page(api: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    at = render(api.url, monkeypatch, page="failures", **WEEK)
    daily = pl.DataFrame(api.get("/api/v1/failures/daily", **_params())["rows"])
    shown = _metrics(at)
    assert shown["Failed runs"] == count(daily["failed_runs"].sum())
    assert shown["LLM call errors"] == count(daily["llm_errors"].sum())
    assert shown["Tool call errors"] == count(daily["tool_errors"].sum())
    failing = api.get("/api/v1/runs", status="error", limit=20)["runs"]
    table = at.dataframe[0].value
    assert list(table["trace id"]) == [r["trace_id"] for r in failing]
    assert all(link.startswith("?") and "page=runs" in link for link in table["replay"])
    escalations = api.get("/api/v1/escalations", **_params(limit=50))["rows"]
    assert len(at.dataframe[1].value) == len(escalations) > 0
    hist = api.get("/api/v1/steps/histogram", **_params())
    assert hist["over_limit"] > 0
    assert any(f"{hist['over_limit']} of" in c.value for c in at.caption)
    assert len(_charts(at)) == 6  # rate, errors, by tool / type / agent, steps


def test_runs_list_and_filters_in_the_url(
    api: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = render(api.url, monkeypatch, page="runs", status="error", agent="support-agent", **WEEK)
    expected = api.get(
        "/api/v1/runs", status="error", agent="support-agent", limit=50,
        start_from=_params()["since"], start_to=_params()["until"],
    )  # fmt: skip
    table = at.dataframe[0].value
    assert list(table["trace id"]) == [r["trace_id"] for r in expected["runs"]]
    assert set(table["agent"]) == {"support-agent"} and set(table["status"]) == {"✗ failed"}
    # Each failed run says why: its earliest failing span's error type and message.
    for row, run in list(zip(table.to_dict("records"), expected["runs"], strict=True))[:5]:
        spans = [s for root in api.get(f"/api/v1/runs/{run['trace_id']}")["spans"]
                 for s in _flat(root)]  # fmt: skip
        first = min(
            (s for s in spans if s["status"] == "error"),
            key=lambda s: (s["start_time"], s["error_type"], s["error_message"][:300]),
        )
        want = ": ".join(p for p in (first["error_type"], first["error_message"]) if p)
        assert row["error"] == (want if len(want) <= 120 else want[:119] + "…"), run
        assert row["run"] == run["name"]
    assert all(row["error"] for row in table.to_dict("records"))
    assert any(f"of {expected['total']:,} matching runs" in c.value for c in at.caption)
    # A filter picked in the sidebar lands in the URL, so the view can be shared.
    at.selectbox(key="f_environment").select("production").run()
    assert (
        at.query_params["environment"] == ["production"]
        or at.query_params["environment"] == "production"
    )
    assert at.query_params["agent"] in ("support-agent", ["support-agent"])


def test_runs_page_through_every_match(api: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs stops at 50 rows no more: the page is in the URL and the table is that page."""
    window = {"start_from": _params()["since"], "start_to": _params()["until"]}
    total = api.get("/api/v1/runs", limit=1, **window)["total"]
    assert total > 100  # the demo week
    at = render(api.url, monkeypatch, page="runs", pg="2", **WEEK)
    expected = api.get("/api/v1/runs", limit=50, offset=50, **window)["runs"]
    assert list(at.dataframe[0].value["trace id"]) == [r["trace_id"] for r in expected]
    assert any(f"Runs 51–100 of {total:,} matching runs" in c.value for c in at.caption)
    assert at.number_input(key="runs_page").value == 2
    at.number_input(key="runs_page").set_value(3).run()
    assert at.query_params["pg"] in ("3", ["3"])
    third = api.get("/api/v1/runs", limit=50, offset=100, **window)["runs"]
    assert list(at.dataframe[0].value["trace id"]) == [r["trace_id"] for r in third]


def _flat(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(s for child in node.get("children", []) for s in _flat(child))]


def test_run_view_replays_a_failing_run(
    api: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _failing_run_with_two_calls(api)
    feedback = {"trace_id": run, "name": "thumbs", "value": False, "source": "user_feedback",
                "comment": "it never refunded me"}  # fmt: skip
    posted = httpx.post(api.url + "/api/v1/scores", json=[feedback], timeout=30)
    assert posted.status_code == 200 and posted.json()["accepted"] == 1, posted.text
    at = render(api.url, monkeypatch, page="runs", run=run)
    timeline = api.get(f"/api/v1/runs/{run}/timeline")
    # What was said of the run is on its page, the user's feedback among it.
    scores = next(d.value for d in at.dataframe if "comment / explanation" in d.value.columns)
    assert len(scores) == len(api.get(f"/api/v1/runs/{run}/scores")["scores"])
    assert "it never refunded me" in list(scores["comment / explanation"])
    shown = _metrics(at)
    assert shown["Steps"] == count(len(timeline["steps"]))  # the page's rows, every one
    assert shown["Cost"] == money(timeline["cost_usd"])
    assert shown["Tokens"] == count(timeline["usage"]["total_tokens"])
    assert shown["Status"] == "error"
    failure = timeline["first_failure"]
    assert any(f"First failure at step {failure['step']}" in e.value for e in at.error)
    # The step list beside the selected step: every step listed, the failing one open.
    assert len(at.radio(key="run_step").options) == len(timeline["steps"])
    assert at.radio(key="run_step").value == failure["step"]

    def opened(kind: str, **match: Any) -> AppTest:
        step = next(s for s in timeline["steps"] if s["kind"] == kind and
                    all(s.get(k) == v or (s.get(kind) or {}).get(k) == v for k, v in match.items()))  # fmt: skip
        page = render(api.url, monkeypatch, page="runs", run=run, step=str(step["index"]))
        assert page.radio(key="run_step").value == step["index"]
        return page

    # The second call's window: what changed since call 1 is marked, message by message.
    diff = api.get(f"/api/v1/runs/{run}/llm-calls/2/diff")
    appended = [c for c in diff["changes"] if c["op"] == "appended"]
    marks = [m for m in opened("llm", call=2).markdown if "appended since call 1" in m.value]
    assert appended and len(marks) == len(appended)
    # Tool calls show their arguments and results as the API has them.
    tool = next(s for s in timeline["steps"] if s["kind"] == "tool" and s["tool"]["result"])
    code = [c.value for c in opened("tool", index=tool["index"]).code]
    assert json.dumps(json.loads(tool["tool"]["arguments"]), indent=2) in code
    decision = next(s for s in timeline["steps"] if s["kind"] == "decision")["decision"]
    shown_decision = opened("decision").markdown
    assert any(f"**{decision['chosen']}** (chosen)" in m.value for m in shown_decision)
    gantt = _charts(at)[0]
    assert gantt.proto.spec  # the timeline figure


def test_compare_marks_the_first_divergence(
    api: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = api.get("/api/v1/runs", agent="support-agent", status="error", limit=2)["runs"]
    first, second = runs[0]["trace_id"], runs[1]["trace_id"]
    at = render(api.url, monkeypatch, page="runs", run=first, against=second)
    diff = api.get(f"/api/v1/runs/{first}/diff", against=second)
    assert any(diff["first_divergence"]["summary"] in e.value for e in at.error)
    table = at.dataframe[0].value
    assert len(table) == len(diff["alignment"])
    marked = [i for i, v in enumerate(table[""]) if v == "first"]
    index = next(
        i for i, p in enumerate(diff["alignment"])
        if p["run_step"] == diff["first_divergence"]["run_step"]
    )  # fmt: skip
    assert marked == [index]


def test_routing_page_shows_each_agents_choices(
    api: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = render(api.url, monkeypatch, page="routing", by="decision", **WEEK)
    rows = pl.DataFrame(api.get("/api/v1/routing", **_params(by="decision"))["rows"])
    agents = sorted(rows["agent"].unique().to_list())
    # One chart and one table per agent, and the drift chart above them.
    assert len(_charts(at)) == len(agents) + 1 and len(agents) == len(at.dataframe)
    drift = api.get("/api/v1/drift", **_params(by="decision", window="day"))
    assert drift["flags"], "the demo's routing shift is a drift flag"
    warnings = [w.value for w in at.warning]
    for flag in drift["flags"]:
        assert any(flag["agent"] in w and f"PSI {flag['psi']:.2f}" in w for w in warnings)
    for agent, frame in zip(agents, at.dataframe, strict=True):
        table = frame.value
        mine = rows.filter(pl.col("agent") == agent).group_by("choice").agg(pl.col("count").sum())
        assert dict(zip(table["choice"], table["count"], strict=True)) == dict(mine.iter_rows())
        assert abs(sum(table["share"]) - 1) < 1e-9


def test_quality_page_shows_the_hallucination_rate_with_its_sample_size(
    api: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = render(api.url, monkeypatch, page="quality", **WEEK)
    daily = api.get("/api/v1/quality/daily", **_params())["hallucination"]["daily"]
    evaluated = sum(d["evaluated"] for d in daily)
    flagged = sum(d["flagged"] for d in daily)
    assert evaluated and flagged, "the demo's judge flags some research answers"
    shown = _metrics(at)
    assert shown["Runs checked (n)"] == count(evaluated)
    assert shown["Runs flagged"] == count(flagged)
    assert shown["Hallucination rate"] == percent(flagged / evaluated)
    links = [v for f in at.dataframe for v in f.value.get("replay", [])]
    assert len([link for link in links if "run=" in link]) == min(flagged, 200)


def _failing_run_with_two_calls(api: RunningServer) -> str:
    """A failed run with two LLM calls, a tool call that returned, and a decision, whose first
    failure is one of its steps (the demo also fails some runs outside the steps, at the
    agent span; which runs the demo fails depends on the day it is generated)."""
    for run in api.get("/api/v1/runs", status="error", limit=100)["runs"]:
        if run["llm_calls"] >= 2 and run["tool_calls"] >= 2:
            failure = api.get(f"/api/v1/runs/{run['trace_id']}/timeline")["first_failure"]
            if failure and failure.get("step"):
                return str(run["trace_id"])
    raise AssertionError("the demo has no failed run with two LLM calls failing at a step")


def test_search_and_model_filter_narrow_the_runs(
    api: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = api.get("/api/v1/runs", agent="research-agent", limit=1)["runs"][0]
    at = render(api.url, monkeypatch, page="runs", q=target["session"], **WEEK)
    assert list(at.dataframe[0].value["trace id"]) == [target["trace_id"]]
    model = "claude-3-5-haiku-20241022"
    at = render(api.url, monkeypatch, page="runs", model=model, **WEEK)
    expected = api.get(
        "/api/v1/runs", model=model, limit=50,
        start_from=_params()["since"], start_to=_params()["until"],
    )  # fmt: skip
    table = at.dataframe[0].value
    assert len(table) > 0 and list(table["trace id"]) == [r["trace_id"] for r in expected["runs"]]
    assert all(model in models for models in table["models"])


def test_auto_refresh_is_a_toggle_kept_in_the_url(
    api: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = render(api.url, monkeypatch, **WEEK)
    assert "refresh" not in at.query_params
    at.toggle(key="auto_refresh").set_value(True).run()
    assert at.query_params["refresh"] in ("30", ["30"])
    assert any("Auto-refresh every 30 s" in c.value for c in at.caption)
    at.selectbox(key="refresh_every").select(60).run()
    assert at.query_params["refresh"] in ("60", ["60"])
    assert _metrics(at)["Runs"] == count(api.get("/api/v1/overview", **_params())["runs"])


def test_run_view_of_a_run_stopped_before_its_tool_ran(
    api: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run stopped between a tool request and its execution (a budget stop, say): the
    requested call has no span, so no usage, cost or times. The page shows it, no traceback."""
    run = Run()
    run.llm([user("Refund order 42")], calls(("call_1", "refund", '{"order": 42}')))
    sent = httpx.post(
        f"{api.url}/v1/traces",
        content=run.request(),
        headers={"content-type": "application/x-protobuf"},
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    timeline = api.get(f"/api/v1/runs/{run.id}/timeline")
    never_ran = [s for s in timeline["steps"] if s["kind"] == "tool"]
    assert [s["usage"] for s in never_ran] == [None]  # what used to crash the page
    at = render(api.url, monkeypatch, page="runs", run=run.id)
    (table,) = [d.value for d in at.dataframe if "duration (s)" in d.value.columns]
    (row,) = table[table["kind"] == "tool"].to_dict("records")
    assert row["name"] == "refund"
    assert math.isnan(row["tokens"]) and math.isnan(row["duration (s)"])  # empty cells


def _rerun_of(original: Run, from_call: int, diverged: tuple[int, str]) -> Run:
    """A re-run of ``original`` as the SDK's re-run mode exports it: its root span names the
    original, the call it went live from and where it diverged; served calls are marked."""
    rerun = Run(root=False)
    for n in range(2):
        call = rerun.llm([user("Refund order 42")], answer(f"Refunded ({n})."))
        if n + 1 < from_call:
            call.attributes.append(kv("agentreel.rerun.served", True))
    attrs = {
        "agentreel.rerun.of": original.id,
        "agentreel.rerun.from_call": from_call,
        "agentreel.rerun.diverged_at": diverged[0],
        "agentreel.rerun.divergence": diverged[1],
    }
    root = span(rerun.trace_id, rerun.root, "invoke_agent travel", attrs, start_ns=BASE,
                duration_ns=rerun.clock - BASE + 10 * MS)  # fmt: skip
    rerun.spans.insert(0, root)
    return rerun


def test_run_view_of_a_rerun_and_of_its_original(
    api: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Run()
    original.llm([user("Refund order 42")], answer("Refunded."))
    original.llm([user("Refund order 42")], answer("Refunded again."))
    rerun = _rerun_of(original, 2, (2, "message 1 differs"))
    for run in (original, rerun):
        sent = httpx.post(f"{api.url}/v1/traces", content=run.request(),
                          headers={"content-type": "application/x-protobuf"}, timeout=30)  # fmt: skip
        assert sent.status_code == 200, sent.text
    api.wait_for(lambda s: s.get(f"/api/v1/runs/{original.id}")["reruns"], what="the re-run")

    # The re-run: what it re-ran, from where, where it diverged, and the diff one click away.
    at = render(api.url, monkeypatch, page="runs", run=rerun.id)
    (said,) = [w.value for w in at.warning if "Re-run of" in w.value]
    assert original.id in said and "from call 2" in said
    assert "Diverged at call 2**: message 1 differs" in said
    assert any(f"against={original.id}" in m.value and f"run={rerun.id}" in m.value
               for m in at.markdown)  # fmt: skip
    code = [c.value for c in at.code]
    assert any(c.startswith(f"agentreel pin {rerun.id} -o cases/") for c in code)
    # Each LLM call says how to re-run from it (steps 1 and 2 are its calls 1 and 2).
    for n in (1, 2):
        opened = render(api.url, monkeypatch, page="runs", run=rerun.id, step=str(n))
        code = [c.value for c in opened.code]
        assert f"AGENTREEL_RERUN_OF={rerun.id} AGENTREEL_RERUN_FROM={n} python" in "\n".join(code)

    # The original lists its re-runs, with the first divergence.
    at = render(api.url, monkeypatch, page="runs", run=original.id)
    (table,) = [d.value for d in at.dataframe if "first divergence" in d.value.columns]
    assert list(table["trace id"]) == [rerun.id]
    assert list(table["from call"]) == ["2"]
    assert list(table["first divergence"]) == ["call 2: message 1 differs"]
    assert not [w for w in at.warning if "Re-run of" in w.value]

    # Pinning fetches the case only when asked: a download, or a clear word why not.
    assert not at.get("download_button")
    at.button(key=f"pin_{original.id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    downloads = at.get("download_button")
    refused = [w.value for w in at.warning if "case" in w.value]
    assert bool(downloads) != bool(refused), refused


def test_pinning_says_why_when_the_server_builds_no_case(
    api: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server older than pinning answers 404 to the case: the page says so, no download."""
    run = _failing_run_with_two_calls(api)
    real_get = ApiClient.get

    def get(self: ApiClient, path: str, params: dict[str, Any] | None = None) -> Any:
        if path.endswith("/case"):
            url = f"{self.base_url}/api/v1{path}"
            raise Refused("Not Found", url, 404, "Not Found")
        return real_get(self, path, params)

    at = render(api.url, monkeypatch, page="runs", run=run)
    monkeypatch.setattr(ApiClient, "get", get)
    at.button(key=f"pin_{run}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.get("download_button")
    assert any("could not build a case" in w.value for w in at.warning)
