"""Re-run mode end to end: a run recorded through a real ``agentreel serve``, re-run with every
flavour of the real ``openai``/``anthropic`` clients against the fake provider.

Ground truth is the fake provider's own record of the requests it received and the tools'
own execution log (:data:`support.flavours.TOOL_LOG`), never agentreel's report alone.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from agentreel import sdk

from support.cli import agentreel
from support.fakeprovider import FakeProvider
from support.flavours import FLAVOURS, TOOL_LOG, WEATHER, openai_agent
from support.liveserver import RunningServer
from support.payloads import scenario
from support.sdkrun import stored_spans

CALLS = 3  # the scenario: two tool calls, then the answer


def _record(server: RunningServer, flavour: str) -> tuple[str, list[Any]]:
    """Run the agent for real once; (its trace id, the bodies the provider received)."""
    with FakeProvider(scenario.script()) as fake, sdk.run("weather", session=flavour) as run:
        FLAVOURS[flavour](fake)
    stored_spans(server, run.trace_id)  # flushed and stored
    return run.trace_id, [e.body for e in fake.exchanges]


def _windows(server: RunningServer, trace_id: str) -> list[tuple[Any, Any]]:
    calls = server.get(f"/api/v1/runs/{trace_id}/llm-calls")["llm_calls"]
    return [(c["input_messages"], c["output_messages"]) for c in calls]


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_a_rerun_from_call_2_sends_only_calls_2_on_and_runs_only_their_tools(
    to_server: RunningServer, flavour: str
) -> None:
    original, sent = _record(to_server, flavour)
    assert len(sent) == CALLS
    TOOL_LOG.clear()
    with (
        FakeProvider(scenario.script()[1:]) as fake,
        sdk.rerun(original, from_call=2, server=to_server.url, quiet=True) as rerun,
        sdk.run("weather", session=flavour) as again,
    ):
        FLAVOURS[flavour](fake)
    # The provider saw calls 2 and 3 only, and call 2 exactly as the original sent it (call 1
    # was answered from the recording, tool results included). Call 3 carries the tool-call
    # id this provider made up live, so it is not the original's.
    assert len(fake.exchanges) == CALLS - 1, rerun.report.summary()
    assert fake.exchanges[0].body == sent[1]
    # The tool call 1 asked for (get_weather) was served; the one call 2 asked for ran.
    assert [name for name, _ in TOOL_LOG] == ["c_to_f"]
    report = rerun.report
    assert (report.calls_served, report.calls_live, report.divergence) == ([1], [2, 3], None)
    assert report.tools_served == ["get_weather"] and report.tools_missing == []
    spans = stored_spans(to_server, again.trace_id)
    root = next(s for s in spans if s["parent_span_id"] in ("", None))
    assert root["attributes"]["agentreel.rerun.of"] == original
    assert str(root["attributes"]["agentreel.rerun.from_call"]) == "2"
    # The re-run's call 1 shows the same window as the original's.
    assert _windows(to_server, again.trace_id)[0] == _windows(to_server, original)[0]


@pytest.mark.parametrize("flavour", ["openai_stream", "anthropic", "openai_async"])
def test_a_full_offline_rerun_sends_nothing_runs_no_tool_and_costs_nothing(
    to_server: RunningServer, flavour: str
) -> None:
    original, _ = _record(to_server, flavour)
    TOOL_LOG.clear()
    with (
        FakeProvider([]) as fake,
        sdk.rerun(original, server=to_server.url, quiet=True) as rerun,
        sdk.run("weather", session=flavour) as again,
    ):
        FLAVOURS[flavour](fake)
    assert fake.exchanges == [] and TOOL_LOG == []
    assert rerun.report.calls_served == [1, 2, 3] and rerun.report.divergence is None
    assert again.llm_calls == CALLS and again.cost_usd == 0
    stored_spans(to_server, again.trace_id)
    assert _windows(to_server, again.trace_id) == _windows(to_server, original)


def test_an_edited_system_prompt_is_a_divergence_at_call_1(
    to_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    original, _ = _record(to_server, "openai")
    monkeypatch.setattr(scenario, "SYSTEM", "You are a verbose weather bot.")
    with (
        FakeProvider(scenario.script()) as fake,
        sdk.rerun(original, server=to_server.url, quiet=True) as rerun,
    ):
        FLAVOURS["openai"](fake)
    divergence = rerun.report.divergence
    assert divergence is not None and divergence.call == 1
    assert "system prompt" in divergence.what and "verbose" in divergence.what
    assert len(fake.exchanges) == CALLS  # live from the divergence on (the default)
    assert fake.exchanges[0].body["messages"][0]["content"] == "You are a verbose weather bot."

    with (
        FakeProvider(scenario.script()) as fake,
        sdk.rerun(original, server=to_server.url, on_divergence="fail", quiet=True),
        pytest.raises(openai.BadRequestError, match="diverged at call 1: system prompt"),
    ):
        FLAVOURS["openai"](fake)
    assert fake.exchanges == []


def test_an_edit_changes_the_first_live_call_as_the_provider_receives_it(
    to_server: RunningServer,
) -> None:
    original, sent = _record(to_server, "openai")
    edit = {"system": "Answer in Celsius only.", "params": {"temperature": 0.0}}
    with (
        FakeProvider(scenario.script()[1:]) as fake,
        sdk.rerun(original, from_call=2, edit=edit, server=to_server.url, quiet=True),
    ):
        openai_agent(fake.openai_base_url, stream=False)
    first = fake.exchanges[0].body
    assert first["messages"][1:] == sent[1]["messages"][1:]  # the rest as recorded
    assert len(fake.exchanges) == 2
    for exchange in fake.exchanges:  # call 2 and every later call
        assert exchange.body["messages"][0] == {
            "role": "system",
            "content": "Answer in Celsius only.",
        }
        assert exchange.body["temperature"] == 0.0


def test_a_rerun_refuses_what_cannot_work(to_server: RunningServer) -> None:
    original, _ = _record(to_server, "openai")
    with pytest.raises(sdk.RerunError, match="has no run"):
        sdk.rerun("0" * 32, server=to_server.url)
    with pytest.raises(sdk.RerunError, match="from_call takes 1 to 3"):
        sdk.rerun(original, from_call=7, server=to_server.url)
    with pytest.raises(sdk.RerunError, match="unknown keys"):
        sdk.rerun(original, from_call=2, edit={"prompt": "x"}, server=to_server.url)
    with pytest.raises(sdk.RerunError, match="is it running"):
        sdk.rerun(original, server="http://127.0.0.1:9")


def test_replay_shows_a_rerun_beside_its_original_with_its_divergence(
    to_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    original, _ = _record(to_server, "openai")
    monkeypatch.setattr(scenario, "USER_PROMPT", "Weather in Lyon, in F?")
    with (
        FakeProvider(scenario.script()) as fake,
        sdk.rerun(original, server=to_server.url, quiet=True),
        sdk.run("weather") as again,
    ):
        FLAVOURS["openai"](fake)
    stored_spans(to_server, again.trace_id)

    shown = agentreel("replay", again.trace_id, "--api-url", to_server.url)
    assert shown.returncode == 0, shown.stderr
    assert f"re-run of {original} (fully offline); diverged at call 1: message 1 (user)" in (
        shown.stdout
    )
    assert f"compare: agentreel replay {again.trace_id} --diff {original}" in shown.stdout
    listed = agentreel("replay", original, "--api-url", to_server.url).stdout
    assert "1 re-run:" in listed
    assert f"{again.trace_id}  ok  offline  diverged at call 1: message 1 (user) text" in listed


def test_a_tool_result_edit_is_what_the_served_tool_returns_and_the_provider_receives(
    to_server: RunningServer,
) -> None:
    original, sent = _record(to_server, "openai")
    tool_message = next(m for m in sent[1]["messages"] if m["role"] == "tool")
    rain = {"city": "Paris", "temp_c": 12, "sky": "rain"}
    edit = {"tool_results": {tool_message["tool_call_id"]: rain}}
    TOOL_LOG.clear()
    with (
        FakeProvider(scenario.script()[1:]) as fake,
        sdk.rerun(original, from_call=2, edit=edit, server=to_server.url, quiet=True) as rerun,
    ):
        openai_agent(fake.openai_base_url, stream=False)
    received = next(m for m in fake.exchanges[0].body["messages"] if m["role"] == "tool")
    assert received == {**tool_message, "content": json.dumps(rain)}
    assert [name for name, _ in TOOL_LOG] == ["c_to_f"]  # get_weather did not run
    assert rerun.report.divergence is None


def test_a_strict_rerun_does_not_run_a_tool_the_recording_lacks(to_server: RunningServer) -> None:
    original, _ = _record(to_server, "openai")
    TOOL_LOG.clear()
    with (
        sdk.rerun(original, on_divergence="fail", server=to_server.url, quiet=True) as rerun,
        pytest.raises(
            sdk.ToolNotRecorded, match=r"tool get_weather .*Rome.* is not in the recording"
        ),
    ):
        WEATHER["get_weather"](city="Rome")
    assert TOOL_LOG == []
    assert rerun.report.divergence is not None


def test_a_retried_live_call_is_sent_edited_again(to_server: RunningServer) -> None:
    original, sent = _record(to_server, "openai")
    edit = {"system": "Answer in Celsius only."}
    with (
        FakeProvider(scenario.script()) as fake,
        sdk.rerun(original, from_call=1, edit=edit, server=to_server.url, quiet=True),
        openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=1) as client,
    ):
        fake.fail_next(1, 500)  # injected: the first attempt fails, the client retries
        client.chat.completions.create(**sent[0])
    assert len(fake.exchanges) == 2
    for exchange in fake.exchanges:
        assert exchange.body["messages"][0] == {"role": "system", "content": edit["system"]}
