"""`agentreel mcp` through the real `mcp` client, against a live server holding the demo's runs,
an instrumented weather run and a support-agent run whose refund tool failed.

Every answer is checked against the REST API's JSON or what the fake provider received, never
against the MCP code's own helpers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from mcp import ClientSession, MCPError

from agentreel.demo import send_demo

from support import failingrun
from support.exactness import same_openai_messages
from support.instrumented import run as instrumented_run
from support.liveserver import RunningServer, free_port, start_server
from support.mcpclient import answer, error, http_server, http_session, run, stdio_session, text

TOOLS = {"list_runs", "get_run", "get_llm_call", "diff_runs", "failures", "cost", "rerun_command"}


@dataclass
class Loaded:
    server: RunningServer
    weather: dict[str, Any]
    failed: dict[str, Any]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    server = start_server(tmp_path_factory.mktemp("mcp"), {"AGENTREEL_EVAL_SAMPLE_RATE": "0"})
    try:
        demo = send_demo(server.url, seed=5, days=2)
        assert demo.export_failures == 0
        server.wait_for(lambda s: s.get("/api/v1/stats")["runs"] == demo.runs, what="demo runs")
        weather = instrumented_run("openinference_openai", "http", server.url, server.grpc_endpoint)
        failed = failingrun.run(server.url)
        assert weather["flushed"] and failed["flushed"]
        yield Loaded(server, weather, failed)
    finally:
        server.stop()


def over_stdio(api_url: str, body: Callable[[ClientSession], Awaitable[None]]) -> None:
    async def main() -> None:
        async with stdio_session(api_url) as session:
            await body(session)

    run(main)


def test_lists_the_tools_and_the_run_resources(loaded: Loaded) -> None:
    api = loaded.server

    async def body(session: ClientSession) -> None:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert tool.description and len(tool.description) > 80, tool.name
            assert tool.input_schema["type"] == "object"
            assert tool.annotations is not None and tool.annotations.read_only_hint
        assert tools["get_run"].input_schema["required"] == ["trace_id"]
        assert tools["diff_runs"].input_schema["required"] == ["trace_id", "against"]
        formats = tools["get_llm_call"].input_schema["properties"]["format"]["enum"]
        assert formats == ["otel", "openai", "anthropic"]
        templates = (await session.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["agentreel://runs/{trace_id}"]
        listed = [r.uri for r in (await session.list_resources()).resources]
        newest = api.get("/api/v1/runs", limit=20)["runs"]
        assert listed == [f"agentreel://runs/{r['trace_id']}" for r in newest]

        read = await session.read_resource(f"agentreel://runs/{loaded.failed['trace_id']}")
        run = json.loads(read.contents[0].text)  # type: ignore[union-attr]
        assert run["run"]["trace_id"] == loaded.failed["trace_id"]
        assert run["first_failure"]["name"] == "refund"

    over_stdio(api.url, body)


def test_list_runs_answers_what_the_api_lists(loaded: Loaded) -> None:
    api = loaded.server

    async def body(session: ClientSession) -> None:
        got = answer(await session.call_tool("list_runs", {"status": "error", "limit": 4}))
        want = api.get("/api/v1/runs", status="error", limit=4)
        assert got["total"] == want["total"]
        assert [r["trace_id"] for r in got["runs"]] == [r["trace_id"] for r in want["runs"]]
        for mine, theirs in zip(got["runs"], want["runs"], strict=True):
            assert mine["agent"] == theirs["agent"] and mine["status"] == "error"
            assert mine["cost_usd"] == pytest.approx(theirs["cost_usd"], abs=1e-6)
            assert (mine["llm_calls"], mine["tool_calls"]) == (
                theirs["llm_calls"],
                theirs["tool_calls"],
            )
            failure = api.get(f"/api/v1/runs/{theirs['trace_id']}/timeline")["first_failure"]
            assert failure["error"] in mine["error"]
        assert got["next_offset"] == 4

        second = answer(
            await session.call_tool("list_runs", {"status": "error", "limit": 4, "offset": 4})
        )
        want = api.get("/api/v1/runs", status="error", limit=4, offset=4)
        assert [r["trace_id"] for r in second["runs"]] == [r["trace_id"] for r in want["runs"]]

        # A model the store has (which models the demo draws depends on the day it runs).
        name = next(m for r in api.get("/api/v1/runs", limit=50)["runs"] for m in r["models"])
        model = answer(await session.call_tool("list_runs", {"model": name, "limit": 50}))
        want = api.get("/api/v1/runs", model=name, limit=50)
        assert want["runs"]
        assert [r["trace_id"] for r in model["runs"]] == [r["trace_id"] for r in want["runs"]]
        found = answer(await session.call_tool("list_runs", {"search": "chat-failing-refund"}))
        assert [r["trace_id"] for r in found["runs"]] == [loaded.failed["trace_id"]]
        recent = answer(await session.call_tool("list_runs", {"since": "10m", "limit": 50}))
        ids = {r["trace_id"] for r in recent["runs"]}
        assert {loaded.failed["trace_id"], loaded.weather["trace_id"]} <= ids

    over_stdio(api.url, body)


def test_get_run_gives_the_timeline_the_api_gives(loaded: Loaded) -> None:
    api, trace_id = loaded.server, loaded.failed["trace_id"]
    timeline = api.get(f"/api/v1/runs/{trace_id}/timeline")

    async def body(session: ClientSession) -> None:
        got = answer(await session.call_tool("get_run", {"trace_id": trace_id}))
        assert got["run"]["agent"] == failingrun.AGENT and got["run"]["status"] == "error"
        assert got["step_count"] == timeline["step_count"]
        kinds = [(s["step"], s["kind"], s["name"]) for s in got["steps"]]
        assert kinds == [(s["index"], s["kind"], s["name"]) for s in timeline["steps"]]
        for mine, theirs in zip(got["steps"], timeline["steps"], strict=True):
            if theirs["kind"] == "tool":
                result = theirs["tool"]["result"]
                assert mine["result"] == (result if isinstance(result, str) else json.dumps(result))
        assert got["first_failure"]["step"] == timeline["first_failure"]["step"]
        assert got["first_failure"]["error"] == timeline["first_failure"]["error"]

        paged = answer(
            await session.call_tool(
                "get_run", {"trace_id": trace_id, "first_step": 2, "max_steps": 2}
            )
        )
        assert [s["step"] for s in paged["steps"]] == [2, 3]
        assert paged["steps_shown"] == f"2-3 of {len(timeline['steps'])}"
        assert paged["next_first_step"] == 4

    over_stdio(api.url, body)


def test_get_llm_call_is_the_request_the_provider_received(loaded: Loaded) -> None:
    api, weather = loaded.server, loaded.weather
    trace_id, bodies = weather["trace_id"], [e["body"] for e in weather["exchanges"]]

    async def body(session: ClientSession) -> None:
        for number, sent in enumerate(bodies, 1):
            args = {"trace_id": trace_id, "call": number, "format": "openai"}
            got = answer(
                await session.call_tool("get_llm_call", {**args, "include_tool_schemas": True})
            )
            assert (got["call"], got["of"]) == (number, len(bodies))
            messages = [{k: v for k, v in m.items() if k != "n"} for m in got["input_messages"]]
            same_openai_messages({**got["request"], "messages": messages}, sent, f"call {number}")
            assert got["request"]["tools"] == sent["tools"]
            assert got["request"]["model"] == sent["model"]

            otel = answer(
                await session.call_tool("get_llm_call", {"trace_id": trace_id, "call": number})
            )
            window = api.get(f"/api/v1/runs/{trace_id}/llm-calls")["llm_calls"][number - 1]
            assert [m["role"] for m in otel["input_messages"]] == [
                m["role"] for m in window["input_messages"]
            ]
            assert otel["window"]["system_instructions"] == window["system_instructions"]
            # Definitions as the instrumentor recorded them: flat or under "function".
            offered = [t.get("name") or t["function"]["name"] for t in window["tool_definitions"]]
            assert [t["name"] for t in otel["window"]["tool_definitions"]] == offered
            if number > 1:
                diff = api.get(f"/api/v1/runs/{trace_id}/llm-calls/{number}/diff")
                assert otel["changed_since_previous_call"]["summary"] == diff["summary"]
                assert otel["changed_since_previous_call"]["messages"] == diff["messages"]

        page = {"first_message": 2, "max_messages": 2, "format": "openai"}
        paged = answer(
            await session.call_tool("get_llm_call", {"trace_id": trace_id, "call": 3, **page})
        )
        messages = bodies[2]["messages"]
        assert [m["n"] for m in paged["input_messages"]] == [2, 3]
        assert [m["role"] for m in paged["input_messages"]] == [m["role"] for m in messages[1:3]]
        assert paged["messages_shown"] == f"2-3 of {len(messages)}"
        assert paged["next_first_message"] == 4

    over_stdio(api.url, body)


def test_long_values_are_clipped_with_a_marker_and_answers_are_compact(loaded: Loaded) -> None:
    trace_id, system = loaded.failed["trace_id"], failingrun.SYSTEM
    assert len(system) > 50

    async def body(session: ClientSession) -> None:
        args = {"trace_id": trace_id, "call": 1, "format": "openai", "max_chars": 50}
        raw = text(await session.call_tool("get_llm_call", args))
        got = json.loads(raw)
        # Compact JSON: no indentation or spaces a model would pay for.
        assert raw == json.dumps(got, ensure_ascii=False, separators=(",", ":"))
        first = got["input_messages"][0]
        assert first["role"] == "system"
        assert first["content"] == f"{system[:50]}…[truncated: {len(system) - 50} more chars]"
        whole = answer(await session.call_tool("get_llm_call", {**args, "max_chars": 1000}))
        assert whole["input_messages"][0]["content"] == system

    over_stdio(loaded.server.url, body)


def test_diff_failures_and_cost_match_the_api(loaded: Loaded) -> None:
    api = loaded.server
    failed, weather = loaded.failed["trace_id"], loaded.weather["trace_id"]

    async def body(session: ClientSession) -> None:
        got = answer(await session.call_tool("diff_runs", {"trace_id": failed, "against": weather}))
        want = api.get(f"/api/v1/runs/{failed}/diff", against=weather)
        assert got["summary"] == want["summary"]
        assert got["first_divergence"]["type"] == want["first_divergence"]["type"]
        assert got["divergences"] == want["divergences"]

        got = answer(await session.call_tool("failures", {"since": "7d"}))
        for by in ("error_type", "tool", "agent"):
            assert (
                got[f"by_{by}"] == api.get("/api/v1/failures/by", by=by, since=_days_ago(7))["rows"]
            )
        assert got["latest_failed_runs"][0]["trace_id"] == failed
        assert failingrun.REFUSAL in got["latest_failed_runs"][0]["error"]

        for by, key in (("model", "model"), ("agent", "agent"), ("day", "day")):
            got = answer(await session.call_tool("cost", {"by": by, "since": "7d"}))
            rows = api.get(
                "/api/v1/cost/daily", by="none" if by == "day" else by, since=_days_ago(7)
            )["rows"]
            assert got["total_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows), abs=1e-5)
            per_key: dict[str, float] = {}
            for r in rows:
                k = r["day"] if by == "day" else r["key"]
                per_key[k] = per_key.get(k, 0.0) + r["cost_usd"]
            assert {r[key]: pytest.approx(r["cost_usd"], abs=1e-5) for r in got["rows"]} == per_key

    over_stdio(api.url, body)


def _days_ago(days: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


def test_rerun_command_gives_the_commands_that_rerun_and_pin(loaded: Loaded) -> None:
    trace_id = loaded.failed["trace_id"]

    async def body(session: ClientSession) -> None:
        args = {"trace_id": trace_id, "from_call": 2}
        got = answer(await session.call_tool("rerun_command", args))
        assert got["command"] == (
            f"AGENTREEL_RERUN_OF={trace_id} AGENTREEL_RERUN_FROM=2 python your_agent.py"
        )
        assert got["python"].startswith(f'with sdk.rerun("{trace_id}", from_call=2):')
        assert got["pin"] == f"agentreel pin {trace_id} -o cases/run-{trace_id[:12]}.json"
        assert got["llm_calls"] == len(loaded.failed["bodies"]) == 3
        assert (
            got["what_happens"].startswith("call 1 and the tool results before call 2")
            and "your_agent.py" in got["note"]
        )
        mine = {**args, "from_call": 3, "command": "python shop.py --order A-1042"}
        got = answer(await session.call_tool("rerun_command", mine))
        assert got["command"].endswith("AGENTREEL_RERUN_FROM=3 python shop.py --order A-1042")
        assert got["pin"].endswith("--command 'python shop.py --order A-1042'")
        assert "note" not in got
        message = error(await session.call_tool("rerun_command", {**args, "from_call": 9}))
        assert "has 3 LLM calls" in message

    over_stdio(loaded.server.url, body)


def test_bad_requests_are_tool_errors_and_the_server_carries_on(loaded: Loaded) -> None:
    unknown, trace_id = "0" * 31 + "1", loaded.failed["trace_id"]

    async def body(session: ClientSession) -> None:
        cases: list[tuple[str, dict[str, Any], str]] = [
            ("get_run", {"trace_id": unknown}, f"no run with trace id {unknown}"),
            ("get_llm_call", {"trace_id": unknown}, f"no run with trace id {unknown}"),
            ("diff_runs", {"trace_id": trace_id, "against": unknown}, "no run to compare against"),
            ("get_run", {"trace_id": "not-a-trace"}, "a trace id is 32 hexadecimal characters"),
            (
                "get_llm_call",
                {"trace_id": trace_id, "call": 7},
                "has no LLM call 7 (it has calls 1 to 3)",
            ),
            ("list_runs", {"since": "last tuesday"}, "since must be ISO 8601"),
            ("cost", {"agent": "no-such-agent"}, "unknown agent 'no-such-agent'"),
            ("list_runs", {"limit": 0}, "limit"),
            ("cost", {"by": "planet"}, "by"),
            ("get_run", {}, "trace_id"),
        ]
        for name, args, expected in cases:
            message = error(await session.call_tool(name, args))
            assert expected in message, (name, args, message)
            assert "Traceback" not in message
        with pytest.raises(MCPError, match=f"no run with trace id {unknown}"):
            await session.read_resource(f"agentreel://runs/{unknown}")
        # Still serving after every refusal.
        got = answer(await session.call_tool("get_run", {"trace_id": trace_id}))
        assert got["run"]["trace_id"] == trace_id

    over_stdio(loaded.server.url, body)


def test_server_down_is_a_tool_error_not_a_crash() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    async def body(session: ClientSession) -> None:
        for _ in range(2):  # the process is still there for the second call
            message = error(await session.call_tool("list_runs", {}))
            assert f"cannot reach the server at {url}" in message
        assert "cannot reach" in error(await session.call_tool("get_run", {"trace_id": "a" * 32}))
        assert (await session.list_resources()).resources == []

    over_stdio(url, body)


def test_streamable_http_answers_as_stdio_does(loaded: Loaded) -> None:
    trace_id = loaded.failed["trace_id"]

    async def main(url: str) -> None:
        async with http_session(url) as session:
            assert {t.name for t in (await session.list_tools()).tools} == TOOLS
            got = answer(await session.call_tool("get_run", {"trace_id": trace_id}))
            timeline = loaded.server.get(f"/api/v1/runs/{trace_id}/timeline")
            assert got["first_failure"]["error"] == timeline["first_failure"]["error"]
            assert "no run with trace id" in error(
                await session.call_tool("get_run", {"trace_id": "f" * 32})
            )

    with http_server(loaded.server.url) as url:
        run(main, url)


def test_why_did_the_last_failed_run_of_support_agent_fail(loaded: Loaded) -> None:
    """The issue's "done when": the right run, call and tool result, through the tools only.
    The expected answers are the failing run's own: its trace id, the refund the fake model
    asked for and the refusal the tool raised."""
    sent = loaded.failed["bodies"]

    async def body(session: ClientSession) -> None:
        runs = answer(
            await session.call_tool(
                "list_runs", {"agent": "support-agent", "status": "error", "limit": 1}
            )
        )
        last = runs["runs"][0]
        assert last["trace_id"] == loaded.failed["trace_id"]
        assert failingrun.REFUSAL in last["error"]

        run = answer(await session.call_tool("get_run", {"trace_id": last["trace_id"]}))
        failure = run["first_failure"]
        assert (failure["kind"], failure["name"]) == ("tool", "refund")
        assert failure["error"] == failingrun.REFUSAL
        assert failure["detail"]["result"] == f"error: {failingrun.REFUSAL}"
        assert json.loads(failure["detail"]["arguments"]) == failingrun.REFUND
        asking = failure["requested_by"]
        assert asking["kind"] == "llm" and asking["call"] == 2
        assert [c["name"] for c in asking["tool_calls"]] == ["refund"]

        # The call that asked for the refund saw the order lookup's result; the next call was
        # told the refund failed. Both as the provider received them.
        call = answer(
            await session.call_tool(
                "get_llm_call",
                {"trace_id": last["trace_id"], "call": asking["call"], "format": "openai"},
            )
        )
        assert call["input_messages"][-1]["content"] == sent[1]["messages"][-1]["content"]
        after = answer(
            await session.call_tool(
                "get_llm_call",
                {"trace_id": last["trace_id"], "call": asking["call"] + 1, "format": "openai"},
            )
        )
        told = after["input_messages"][-1]
        assert told["role"] == "tool" and told["content"] == f"error: {failingrun.REFUSAL}"
        assert told["content"] == sent[2]["messages"][-1]["content"]

    over_stdio(loaded.server.url, body)


def test_sends_the_api_key_it_is_given(tmp_path_factory: pytest.TempPathFactory) -> None:
    from support.cli import agentreel_on
    from support.taggedrun import send_run

    data = tmp_path_factory.mktemp("mcp-auth")
    agentreel_on(data, "projects", "create", "shop")
    key = json.loads(agentreel_on(data, "keys", "create", "--project", "shop", "--json"))["key"]
    server = start_server(data, {"AGENTREEL_AUTH": "on"})
    try:
        stored = send_run(server.url, "mcpauth", {"Authorization": f"Bearer {key}"})

        async def main() -> None:
            async with stdio_session(server.url, {"AGENTREEL_API_KEY": key}) as session:
                got = answer(await session.call_tool("list_runs", {}))
                assert [r["trace_id"] for r in got["runs"]] == [stored.trace_id]
            async with stdio_session(server.url) as session:
                message = error(await session.call_tool("list_runs", {}))
                assert "wants an API key" in message and "AGENTREEL_API_KEY" in message
            async with stdio_session(server.url, {"AGENTREEL_API_KEY": "ar_wrong"}) as session:
                message = error(await session.call_tool("get_run", {"trace_id": stored.trace_id}))
                assert "not an active key" in message

        run(main)
    finally:
        server.stop()


def test_without_the_mcp_extra_it_says_what_to_install() -> None:
    # The SDK install has no `mcp`: hide it from a fresh interpreter (the fault injected).
    code = (
        "import sys; sys.modules['mcp'] = None\n"
        "from agentreel.cli import main\n"
        "raise SystemExit(main(['mcp', '--api-url', 'http://127.0.0.1:9']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert "pip install 'agentreel[mcp]'" in done.stderr and "Traceback" not in done.stderr
