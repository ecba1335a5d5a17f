"""What agentreel shows of a framework run, held against what really happened: the requests
the fake provider received and answered, and the executions the tools logged themselves.

Each check reads one view of the REST API (the run list, the timeline, the LLM calls) and
compares it with :class:`~support.frameworks.FrameworkRun`'s ground truth, never with another
of agentreel's views. The framework tests call one check per test, so a report lists each
wrong view apart.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from support.exactness import same_anthropic, same_openai_messages, same_parameters, same_tools
from support.frameworks import FrameworkRun

#: Usage figures a check can leave out when the instrumentor does not record them.
USAGE_PARTS = ("cache", "reasoning")


def _json_or_text(value: Any) -> Any:
    """A JSON string as its value (so ``{"c":21}`` equals ``{"c": 21.0}``), other values as is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def expected_usage(run: FrameworkRun) -> dict[str, int]:
    """The sum of the usage the provider answered, in agentreel's (OTel) terms."""
    total = {"input": 0, "output": 0, "cache_read": 0, "reasoning": 0}
    for exchange in run.exchanges:
        usage = exchange.usage or {}
        if exchange.api == "anthropic":  # input_tokens leaves the cache figures out
            cache_read = usage.get("cache_read_input_tokens", 0)
            total["input"] += (
                usage.get("input_tokens", 0)
                + cache_read
                + usage.get("cache_creation_input_tokens", 0)
            )
            total["output"] += usage.get("output_tokens", 0)
            total["cache_read"] += cache_read
            continue
        if exchange.api == "responses":
            details = usage.get("input_tokens_details") or {}
            out_details = usage.get("output_tokens_details") or {}
            parts = (usage.get("input_tokens", 0), usage.get("output_tokens", 0))
        else:
            details = usage.get("prompt_tokens_details") or {}
            out_details = usage.get("completion_tokens_details") or {}
            parts = (usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
        total["input"] += parts[0]
        total["output"] += parts[1]
        total["cache_read"] += details.get("cached_tokens", 0)
        total["reasoning"] += out_details.get("reasoning_tokens", 0)
    return total


def provider_call_ids(run: FrameworkRun) -> list[str]:
    """The tool-call ids the provider handed out, in order."""
    ids: list[str] = []
    for exchange in run.exchanges:
        response = exchange.response
        if exchange.streamed and exchange.api == "anthropic":
            ids += [
                e["content_block"]["id"]
                for e in response
                if isinstance(e, dict)
                and e.get("type") == "content_block_start"
                and e["content_block"].get("type") == "tool_use"
            ]
            continue
        if exchange.streamed:  # the last event with a whole response or message
            finals = [
                e for e in response if isinstance(e, dict) and e.get("type") == "response.completed"
            ]
            if finals:
                response = finals[-1]["response"]
            else:
                ids += _streamed_chat_ids(response)
                continue
        if exchange.api == "anthropic":
            ids += [b["id"] for b in response["content"] if b["type"] == "tool_use"]
        elif exchange.api == "responses":
            ids += [i["call_id"] for i in response["output"] if i["type"] == "function_call"]
        else:
            message = response["choices"][0]["message"]
            ids += [c["id"] for c in message.get("tool_calls") or []]
    return ids


def _streamed_chat_ids(events: list[Any]) -> list[str]:
    ids: list[str] = []
    for event in events:
        if not isinstance(event, dict):
            continue
        for choice in event.get("choices") or []:
            ids += [c["id"] for c in choice["delta"].get("tool_calls") or [] if c.get("id")]
    return ids


def check_one_run(run: FrameworkRun) -> None:
    """One invocation is one trace, and agentreel lists exactly that run for its service."""
    assert len(run.trace_ids) == 1, f"the agent's spans are in {len(run.trace_ids)} traces"
    listed = [r["trace_id"] for r in run.runs()]
    assert listed == run.trace_ids


def check_one_listed_run(run: FrameworkRun, services: Collection[str] = ()) -> None:
    """One invocation is one run in agentreel's list, for its service and ``services`` (the
    other processes it started), even when the framework also ends spans in traces of their
    own (autogen-core's one-span ``create_agent``, an MCP server's ``notifications/initialized``):
    those are no runs of their own."""
    listed = {
        row["trace_id"]
        for service in (run.service, *services)
        for row in run.server.get("/api/v1/runs", service=service)["runs"]
    }
    assert listed == {run.trace_id}, (listed, run.report["spans_per_trace"])


def _run_row(run: FrameworkRun) -> dict[str, Any]:
    rows = [r for r in run.runs() if r["trace_id"] == run.trace_id]
    assert len(rows) == 1, f"run {run.trace_id} not listed for service {run.service}"
    return rows[0]


def check_llm_totals(run: FrameworkRun) -> None:
    """The run's LLM call count is the number of requests the provider received (summed over
    every run of the invocation's service, so a call counted in a stray trace shows too)."""
    assert sum(r["llm_calls"] for r in run.runs()) == len(run.exchanges)
    assert run.detail()["run"]["llm_calls"] == len(run.exchanges)


def check_llm_timeline(run: FrameworkRun) -> None:
    """The timeline has one LLM step per provider request, and its count says so."""
    timeline = run.timeline()
    steps = [s for s in timeline["steps"] if s["kind"] == "llm"]
    assert len(steps) == len(run.exchanges), [s["name"] for s in steps]
    assert timeline["counts"]["llm_calls"] == len(run.exchanges)


def check_tool_totals(run: FrameworkRun) -> None:
    """The run's tool call count is the number of executions the tools logged (summed over
    every run of the invocation's service)."""
    assert sum(r["tool_calls"] for r in run.runs()) == len(run.tools)
    assert run.detail()["run"]["tool_calls"] == len(run.tools)


def check_tool_timeline(run: FrameworkRun) -> None:
    """One tool step per execution, in order, with the call id the provider gave and the
    arguments and result the tool logged; no tool step missing its span (notes on LLM steps,
    such as an output the instrumentor did not capture, are not the tools' business)."""
    timeline = run.timeline()
    steps = [s for s in timeline["steps"] if s["kind"] == "tool"]
    seen = [(s["tool"]["name"], s["tool"]["call_id"], s["missing"]) for s in steps]
    assert timeline["counts"]["tool_calls"] == len(run.tools), seen
    assert len(steps) == len(run.tools), seen
    ids = provider_call_ids(run)
    for index, (step, done) in enumerate(zip(steps, run.tools, strict=True)):
        tool, where = step["tool"], f"tool step {index + 1}"
        assert tool["name"] == done.name, where
        assert tool["call_id"] == ids[index], (where, tool)
        assert _json_or_text(tool.get("arguments")) == done.arguments, (where, tool)
        assert _json_or_text(tool.get("result")) == _json_or_text(done.result), (where, tool)
        assert step["missing"] == [], (where, step["missing"])


def check_identity(run: FrameworkRun, agent: str) -> None:
    """The run names the agent and the service that ran it, and ended well."""
    row = _run_row(run)
    summary = run.detail()["run"]
    for view in (row, summary):
        assert (view["agent"], view["service"], view["status"]) == (agent, run.service, "ok")
    assert run.timeline()["status"] == "ok"


def check_tokens(run: FrameworkRun, gaps: Collection[str] = ()) -> None:
    """The run's tokens are the sum of the usage the provider answered; ``gaps`` names the
    figures the instrumentor does not record (``cache``, ``reasoning``)."""
    want = expected_usage(run)
    rows = run.runs()
    assert rows, f"no run listed for service {run.service}"
    service_usage = {key: sum(r["usage"][key] for r in rows) for key in rows[0]["usage"]}
    for usage in (service_usage, run.timeline()["usage"]):
        got = {
            "input": usage["input_tokens"],
            "output": usage["output_tokens"],
            "cache_read": usage["cache_read_tokens"],
            "reasoning": usage["reasoning_tokens"],
        }
        if "cache" in gaps:
            del got["cache_read"]
        if "reasoning" in gaps:
            del got["reasoning"]
        assert got == {k: want[k] for k in got}
        assert usage["total_tokens"] == want["input"] + want["output"]


def responses_as_chat(body: dict[str, Any]) -> dict[str, Any]:
    """A Responses API request as the Chat Completions request that says the same: the
    instructions as the system message, input items as messages (function calls folded into
    the assistant message before them), function tools in the ``function`` wrapper."""
    messages: list[dict[str, Any]] = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": body["instructions"]})
    items = body.get("input") or []
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            messages.append({"role": item["role"], "content": _item_text(item["content"])})
        elif kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            if not messages or messages[-1]["role"] != "assistant":
                messages.append({"role": "assistant", "content": None})
            messages[-1].setdefault("tool_calls", []).append(call)
        elif kind == "function_call_output":
            messages.append(
                {"role": "tool", "tool_call_id": item["call_id"], "content": item["output"]}
            )
        else:
            raise AssertionError(f"no Chat Completions form for input item {item}")
    chat = {k: v for k, v in body.items() if k not in {"input", "instructions", "include"}}
    chat["messages"] = messages
    if "tools" in body:
        chat["tools"] = [
            {"type": "function", "function": {k: v for k, v in t.items() if k != "type"}}
            for t in body["tools"]
        ]
    return chat


def _item_text(content: Any) -> Any:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)


def check_replay(run: FrameworkRun) -> None:
    """``llm-calls?format=openai`` renders each call as the request the provider received:
    messages, tool calls (ids, JSON arguments), tool results, tools, model and parameters;
    whatever the instrumentor did not capture is listed in ``not_captured``."""
    calls = run.llm_calls("openai")
    assert len(calls) == len(run.exchanges)
    for index, (call, exchange) in enumerate(zip(calls, run.exchanges, strict=True)):
        body = responses_as_chat(exchange.body) if exchange.api == "responses" else exchange.body
        rendered, missing = call["request"], call["not_captured"]
        where = f"{run.label} call {index + 1}"
        same_openai_messages(rendered, body, where)
        same_tools("openai", rendered, body, missing, where)
        if "model" not in missing:
            assert rendered["model"] == body["model"], where
        same_parameters(rendered, body, missing, where)


def check_replay_anthropic(run: FrameworkRun) -> None:
    """``llm-calls?format=anthropic`` renders each call as the Messages request the provider
    received: system, messages with their ``tool_use`` and ``tool_result`` blocks, tools, model
    and parameters; whatever the instrumentor did not capture is listed in ``not_captured``."""
    calls = run.llm_calls("anthropic")
    assert len(calls) == len(run.exchanges)
    for index, (call, exchange) in enumerate(zip(calls, run.exchanges, strict=True)):
        rendered, missing, body = call["request"], call["not_captured"], exchange.body
        where = f"{run.label} call {index + 1}"
        same_anthropic(rendered, body, missing, where)
        same_tools("anthropic", rendered, body, missing, where)
        if "model" not in missing:
            assert rendered["model"] == body["model"], where
        same_parameters(rendered, body, missing, where)
