"""Writer and queries on a real chDB store: each span once, content once, calls once."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from agentreel.collector.decode import decode_logs_proto, decode_traces_proto
from agentreel.collector.normalize import normalize_logs, normalize_spans
from agentreel.core.content import ContentCache
from agentreel.replay.windows import llm_calls, resolve
from agentreel.server.routes.replay_json import call_json
from agentreel.storage import queries
from agentreel.storage.schema import MIGRATIONS, current_version, migrate
from agentreel.storage.writer import Writer

from support.otlpbuild import log_record, logs, new_span_id, new_trace_id, span, traces

SYSTEM = [{"type": "text", "content": "You are a careful planner."}]


def _project() -> str:
    return "p-" + uuid.uuid4().hex[:8]


def _normalized(request: Any, project: str) -> list[Any]:
    return normalize_spans(decode_traces_proto(request.SerializeToString()), project).spans


def _chat(trace_id: bytes, messages: list[dict[str, Any]], parent: bytes, **extra: Any) -> Any:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 10,
        "gen_ai.system_instructions": json.dumps(SYSTEM),
        "gen_ai.input.messages": json.dumps(messages),
        "gen_ai.output.messages": json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": "ok"}]}]
        ),
        **extra,
    }
    return span(trace_id, new_span_id(), "chat gpt-4o", attrs, parent=parent)


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"type": "text", "content": text}]}


def _llm_calls(store: Any, project: str, trace_id: str) -> list[dict[str, Any]] | None:
    """The run's LLM calls as the REST API answers them."""
    found = llm_calls(store, project, trace_id)
    return None if found is None else [call_json(call) for call in found]


def test_migrations_are_idempotent(store: Any) -> None:
    assert migrate(store) == []
    assert current_version(store) == MIGRATIONS[-1].version


def test_a_span_delivered_twice_is_stored_and_counted_once(store: Any) -> None:
    project, trace_id, root = _project(), new_trace_id(), new_span_id()
    request = traces(
        [
            span(trace_id, root, "invoke_agent a", {"gen_ai.operation.name": "invoke_agent"}),
            _chat(trace_id, [_user("hi")], root),
        ]
    )
    writer = Writer(store)
    first = writer.write(_normalized(request, project), [])
    again = writer.write(_normalized(request, project), [])
    # A new writer (a restarted server) knows nothing in memory and must still refuse them.
    third = Writer(store).write(_normalized(request, project), [])
    assert (first.spans_written, again.spans_written, third.spans_written) == (2, 0, 0)
    assert again.duplicates == 2 and third.duplicates == 2
    stats = queries.stats(store, project)
    assert (stats["spans"], stats["runs"], stats["llm_calls"]) == (2, 1, 1)
    run = queries.run_summary(store, project, trace_id.hex())
    assert run is not None
    assert run["usage"]["input_tokens"] == 100 and run["spans"] == 2


def test_content_is_stored_once_across_calls_and_runs(store: Any) -> None:
    project, writer = _project(), Writer(store)
    conversation = [_user("plan a trip")]
    for _ in range(2):  # two runs of the same agent share the system prompt
        trace_id, root = new_trace_id(), new_span_id()
        spans = [span(trace_id, root, "invoke_agent a")]
        history = list(conversation)
        for step in range(4):
            spans.append(_chat(trace_id, history, root))
            history = [*history, _user(f"step {step} of {trace_id.hex()}")]
        writer.write(_normalized(traces(spans), project), [])
    stats = queries.stats(store, project)
    # distinct: system prompt, "plan a trip", "ok", 3 steps × 2 runs (step 3 never sent)
    assert stats["content_items"] == 3 + 3 * 2


def test_one_call_seen_by_two_spans_counts_once(store: Any) -> None:
    project, writer = _project(), Writer(store)
    # Same batch: instrumentor span over the provider SDK's span.
    trace_a, root_a, outer_a = new_trace_id(), new_span_id(), new_span_id()
    outer = _chat(trace_a, [_user("x")], root_a)
    outer.span_id = outer_a
    inner = span(
        trace_a,
        new_span_id(),
        "anthropic.messages.create",
        {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 100},
        parent=outer_a,
    )
    writer.write(_normalized(traces([span(trace_a, root_a, "agent"), outer, inner]), project), [])
    # Separate batches, child first (it ends first, so it is exported first).
    trace_b, root_b, outer_b = new_trace_id(), new_span_id(), new_span_id()
    inner_b = span(
        trace_b,
        new_span_id(),
        "anthropic.messages.create",
        {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 100},
        parent=outer_b,
    )
    outer2 = _chat(trace_b, [_user("x")], root_b)
    outer2.span_id = outer_b
    writer.write(_normalized(traces([inner_b]), project), [])
    writer.write(_normalized(traces([outer2, span(trace_b, root_b, "agent")]), project), [])
    for trace_id in (trace_a, trace_b):
        run = queries.run_summary(store, project, trace_id.hex())
        assert run is not None
        assert run["llm_calls"] == 1 and run["usage"]["input_tokens"] == 100
        calls = _llm_calls(store, project, trace_id.hex())
        assert calls is not None and len(calls) == 1
        assert len(calls[0]["span_ids"]) == 2
        assert calls[0]["input_messages"] == [_user("x")]
        assert calls[0]["system_instructions"] == SYSTEM


def test_three_spans_of_one_call_arriving_innermost_first_count_once(store: Any) -> None:
    project, writer = _project(), Writer(store)
    trace_id, root, outer_id, middle_id = (
        new_trace_id(),
        new_span_id(),
        new_span_id(),
        new_span_id(),
    )
    usage = {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 40}
    outer = span(trace_id, outer_id, "openai.chat", usage, parent=root)
    middle = span(trace_id, middle_id, "ChatCompletion", usage, parent=outer_id)
    inner = span(trace_id, new_span_id(), "sdk", usage, parent=middle_id)
    # Middle and outer first (separate batches), the innermost last.
    for one in (middle, outer, inner, span(trace_id, root, "agent")):
        writer.write(_normalized(traces([one]), project), [])
    run = queries.run_summary(store, project, trace_id.hex())
    assert run is not None
    assert run["llm_calls"] == 1 and run["usage"]["input_tokens"] == 40


def test_windows_from_log_events_joined_to_their_span(store: Any) -> None:
    project, trace_id, chat_id = _project(), new_trace_id(), new_span_id()
    chat = span(
        trace_id,
        chat_id,
        "chat gpt-4o-mini",
        {"gen_ai.operation.name": "chat", "gen_ai.system": "openai"},
    )
    records = [
        log_record(trace_id, chat_id, "gen_ai.system.message", {"content": "be brief"}, 1),
        log_record(trace_id, chat_id, "gen_ai.user.message", {"content": "hi"}, 2),
        log_record(
            trace_id,
            chat_id,
            "gen_ai.choice",
            {"index": 0, "finish_reason": "stop", "message": {"content": "hello"}},
            3,
        ),
        log_record(b"", b"", "gen_ai.user.message", {"content": "orphan"}, 4),
    ]
    log_batch = normalize_logs(decode_logs_proto(logs(records).SerializeToString()), project)
    assert len(log_batch.rejected) == 1 and "trace and span id" in log_batch.rejected[0].reason
    writer = Writer(store)
    writer.write([], log_batch.messages)  # events may arrive before their span
    writer.write(_normalized(traces([chat]), project), [])
    calls = _llm_calls(store, project, trace_id.hex())
    assert calls is not None
    (call,) = calls
    assert call["convention"] == "otel_genai_legacy"
    assert call["input_messages"] == [
        {"role": "system", "parts": [{"type": "text", "content": "be brief"}]},
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]},
    ]
    assert call["output_messages"] == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "hello"}],
            "finish_reason": "stop",
        }
    ]
    assert call["captured"] == {"system": False, "input": True, "output": True, "tools": False}


def test_list_runs_filters_sorts_and_pages(store: Any) -> None:
    project, writer = _project(), Writer(store)
    base = 1_700_000_000_000_000_000
    ids = []
    for i in range(5):
        trace_id, root = new_trace_id(), new_span_id()
        ids.append(trace_id.hex())
        attrs = {"gen_ai.agent.name": "a" if i % 2 else "b", "user.id": f"u{i}"}
        spans = [span(trace_id, root, f"run {i}", attrs, start_ns=base + i * 10**9)]
        if i == 3:
            spans.append(span(trace_id, new_span_id(), "tool", parent=root, status=2))
        writer.write(_normalized(traces(spans, service="svc"), project), [])
    page = queries.list_runs(store, queries.RunFilter(project=project, limit=2))
    assert page["total"] == 5 and [r["trace_id"] for r in page["runs"]] == [ids[4], ids[3]]
    page2 = queries.list_runs(store, queries.RunFilter(project=project, limit=2, offset=4))
    assert [r["trace_id"] for r in page2["runs"]] == [ids[0]]
    only_a = queries.list_runs(store, queries.RunFilter(project=project, agent="a"))
    assert {r["trace_id"] for r in only_a["runs"]} == {ids[1], ids[3]}
    errors = queries.list_runs(store, queries.RunFilter(project=project, status="error"))
    assert [r["trace_id"] for r in errors["runs"]] == [ids[3]]
    window = queries.list_runs(
        store,
        queries.RunFilter(
            project=project, start_from_ns=base + 10**9, start_to_ns=base + 3 * 10**9
        ),
    )
    assert {r["trace_id"] for r in window["runs"]} == {ids[1], ids[2]}
    by_user = queries.list_runs(store, queries.RunFilter(project=project, user="u2"))
    assert [r["trace_id"] for r in by_user["runs"]] == [ids[2]]
    oldest = queries.list_runs(store, queries.RunFilter(project=project, descending=False))
    assert oldest["runs"][0]["trace_id"] == ids[0]


def test_large_attribute_values_live_in_the_content_store(store: Any) -> None:
    project, trace_id = _project(), new_trace_id()
    big = "x" * 5000
    spans = _normalized(traces([span(trace_id, new_span_id(), "s", {"input.value": big})]), project)
    assert "input.value" not in spans[0].attributes and "input.value" in spans[0].attribute_refs
    Writer(store).write(spans, [])
    (stored,) = queries.trace_spans(store, project, trace_id.hex())
    ref = stored["attribute_refs"]["input.value"]
    assert resolve(store, project, {ref})(ref) == big


def test_parallel_identical_calls_each_with_an_sdk_span_count_twice(store: Any) -> None:
    project, writer = _project(), Writer(store)
    trace_id, root = new_trace_id(), new_span_id()
    usage = {
        "gen_ai.operation.name": "chat",
        "gen_ai.usage.input_tokens": 50,
        "gen_ai.usage.output_tokens": 5,
    }
    start = 1_763_700_000_000_000_000
    spans = []
    for _ in range(2):  # two concurrent, identical calls: instrumentor span over SDK span
        outer_id = new_span_id()
        spans.append(
            span(
                trace_id,
                new_span_id(),
                "sdk",
                usage,
                parent=outer_id,
                start_ns=start + 1,
                duration_ns=8,
            )
        )
        spans.append(
            span(
                trace_id,
                outer_id,
                "instrumented",
                usage,
                parent=root,
                start_ns=start,
                duration_ns=10,
            )
        )
    sdk = _normalized(traces(spans, scope="com.anthropic.sdk.python"), project)
    outer = _normalized(traces(spans), project)
    # The SDK spans come from the SDK's scope, the others from the instrumentor's.
    ordered = [sdk[0], outer[1], sdk[2], outer[3]]
    for one in ordered:  # export (end) order, each in its own batch
        writer.write([one], [])
    run = queries.run_summary(store, project, trace_id.hex())
    assert run is not None
    assert run["llm_calls"] == 2 and run["usage"]["input_tokens"] == 100
    calls = _llm_calls(store, project, trace_id.hex())
    assert calls is not None and [len(c["span_ids"]) for c in calls] == [2, 2]


class _FailFirstInsert:
    """The store, except that its first insert fails (fault injection)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.failed = False

    def insert(self, *args: Any, **kwargs: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise ConnectionError("disk full")
        return self._client.insert(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_call_whose_previous_call_failed_to_write_keeps_all_its_content(store: Any) -> None:
    project, trace_id, root = _project(), new_trace_id(), new_span_id()
    cache = ContentCache()
    history = [_user("first question " * 30)]
    first = _chat(trace_id, list(history), root)
    history.append(_user("second question " * 30))
    second = _chat(trace_id, list(history), root)

    def normalized(one: Any) -> list[Any]:
        decoded = decode_traces_proto(traces([one]).SerializeToString())
        return normalize_spans(decoded, project, cache).spans

    first_spans, second_spans = normalized(first), normalized(second)
    # The second call's messages were encoded as "the first call's plus one".
    assert second_spans[0].input_group.inherited == 1
    flaky = _FailFirstInsert(store)
    writer = Writer(flaky)
    with pytest.raises(ConnectionError):
        writer.write(first_spans, [])  # the exporter would retry it; here it is lost
    writer.write(second_spans, [])
    calls = _llm_calls(store, project, trace_id.hex())
    assert calls is not None and len(calls) == 1
    assert not calls[0]["missing_content"]
    assert calls[0]["input_messages"] == history


def test_content_that_never_arrived_is_marked_not_invented(store: Any) -> None:
    project, trace_id, root = _project(), new_trace_id(), new_span_id()
    spans = _normalized(
        traces([_chat(trace_id, [_user("kept"), _user("lost " * 80)], root)]), project
    )
    (chat,) = spans
    group = chat.input_group
    lost = group.messages[1]  # the second message and its leaf never reach the store
    lost_hashes = {item.hash for item in lost}
    chat.contents = [c for c in chat.contents if c.hash not in lost_hashes]
    chat.input_group = None
    Writer(store).write([chat], [])
    rows = [[project, item.hash, item.kind, item.body] for item in group.messages[0]]
    store.insert("content", rows, column_names=("project", "hash", "kind", "body"))
    (call,) = _llm_calls(store, project, trace_id.hex()) or []
    assert call["input_messages"][0] == _user("kept")
    assert call["input_messages"][1] == {"missing_content": lost[0].hash.hex()}
    assert call["missing_content"] == [lost[0].hash.hex()]
    assert call["system_instructions"] == SYSTEM


def test_one_tool_call_wrapped_by_two_instrumentors_counts_once(store: Any) -> None:
    project, writer = _project(), Writer(store)
    trace_id, root, outer_id = new_trace_id(), new_span_id(), new_span_id()

    def tool(span_id: bytes, parent: bytes, name: str, call_id: str = "") -> Any:
        attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
        if call_id:
            attrs["gen_ai.tool.call.id"] = call_id
        return span(trace_id, span_id, f"execute_tool {name}", attrs, parent=parent)

    # Two instrumentors around one "search" call; inner one exported first, in its own batch.
    writer.write(_normalized(traces([tool(new_span_id(), outer_id, "search")]), project), [])
    writer.write(_normalized(traces([tool(outer_id, root, "search")]), project), [])
    # The same call id seen twice (retried tool, second instrumentor beside the first).
    same_id = [tool(new_span_id(), root, "fetch", "c9"), tool(new_span_id(), root, "fetch", "c9")]
    # An agent used as a tool, with two different tools under it: three calls.
    agent_tool = new_span_id()
    nested = [
        tool(agent_tool, root, "researcher"),
        tool(new_span_id(), agent_tool, "search"),
        tool(new_span_id(), agent_tool, "read"),
    ]
    writer.write(
        _normalized(traces([*same_id, *nested, span(trace_id, root, "agent")]), project), []
    )
    run = queries.run_summary(store, project, trace_id.hex())
    assert run is not None
    assert run["tool_calls"] == 1 + 1 + 3
