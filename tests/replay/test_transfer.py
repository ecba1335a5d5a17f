"""Export a run from one agentreel and import it into another: the same run comes back, a
second import adds nothing, and a damaged or foreign document is refused whole."""

from __future__ import annotations

import argparse
import json
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agentreel.cli.transfer import add_arguments, export_command, import_command
from agentreel.collector.decode import decode_logs_proto, decode_traces_proto
from agentreel.collector.normalize import normalize_logs, normalize_spans
from agentreel.core.content import text_item
from agentreel.replay.export import ExportError, export_run, import_run
from agentreel.replay.rundoc import SPAN_FIELDS, checksum
from agentreel.replay.windows import llm_calls
from agentreel.server.routes.transfer import router
from agentreel.settings import Settings
from agentreel.storage import queries
from agentreel.storage.writer import SPAN_COLUMNS, Writer

from support.liveserver import RunningServer
from support.otlpbuild import log_record, logs, new_span_id, new_trace_id, span, traces

#: A tool result long enough to be stored as a leaf of the message quoting it.
RESULT = "forecast for Oslo: " + "sunny, 21 C, light wind from the west; " * 10
SDK_SCOPE = "com.anthropic.sdk.python"


def _run(trace_id: bytes) -> tuple[list[tuple[Any, str]], dict[str, bytes]]:
    """A run as OTLP requests with the path each goes to, in the order sent, and its span ids.

    The provider SDK's span is sent first, alone: it counts, and the instrumentor's span
    over it (which starts earlier) does not.
    """
    ids = {name: new_span_id() for name in ("root", "chat", "sdk", "tool", "legacy", "oi")}
    base = time.time_ns() - 60 * 10**9
    messages = [
        {"role": "user", "parts": [{"type": "text", "content": "Plan a picnic in Oslo"}]},
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "weather", "arguments": {"c": 1}}
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": RESULT}],
        },
    ]
    usage = {"gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30}
    chat = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4",
        "gen_ai.response.finish_reasons": ["end_turn"],
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
        "gen_ai.input.messages": json.dumps(messages),
        "gen_ai.output.messages": json.dumps(
            [
                {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": "Go on Saturday."}],
                    "finish_reason": "end_turn",
                }
            ]
        ),
        "gen_ai.tool.definitions": json.dumps([{"type": "function", "name": "weather"}]),
        **usage,
    }
    sdk = span(
        trace_id,
        ids["sdk"],
        "anthropic.messages.create",
        {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic", **usage},
        parent=ids["chat"],
        start_ns=base + 2_000_000,
    )
    others = [
        span(
            trace_id,
            ids["root"],
            "invoke_agent planner",
            {"gen_ai.agent.name": "planner", "app.notes": "n" * 5000},
            start_ns=base,
            duration_ns=50_000_000,
            events=[("checkpoint", {"step": 1})],
        ),
        span(
            trace_id,
            ids["chat"],
            "chat claude-sonnet-4",
            chat,
            parent=ids["root"],
            start_ns=base + 1_000_000,
        ),
        span(
            trace_id,
            ids["tool"],
            "execute_tool weather",
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "weather",
                "gen_ai.tool.call.id": "call_1",
                "gen_ai.tool.call.arguments": '{"c": 1}',
                "gen_ai.tool.call.result": RESULT,
            },
            parent=ids["root"],
            start_ns=base + 10_000_000,
        ),
        span(
            trace_id,
            ids["legacy"],
            "chat gpt-4o-mini",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.usage.prompt_tokens": 20,
                "gen_ai.usage.completion_tokens": 5,
            },
            parent=ids["root"],
            start_ns=base + 20_000_000,
        ),
        span(
            trace_id,
            ids["oi"],
            "ChatCompletion",
            {
                "openinference.span.kind": "LLM",
                "llm.model_name": "gpt-4o",
                "llm.token_count.prompt": 11,
                "llm.token_count.completion": 3,
                "llm.cost.total": 0.000123,
                "llm.input_messages.0.message.role": "user",
                "llm.input_messages.0.message.content": "hello",
            },
            parent=ids["root"],
            start_ns=base + 30_000_000,
            status=2,
            message="rate limited",
        ),
    ]
    legacy = ids["legacy"]
    records = [
        log_record(trace_id, legacy, "gen_ai.system.message", {"content": "be brief"}, base + 1),
        log_record(trace_id, legacy, "gen_ai.user.message", {"content": "weather?"}, base + 2),
        log_record(
            trace_id, legacy, "gen_ai.tool.message", {"id": "t1", "content": RESULT * 2}, base + 3
        ),
        log_record(
            trace_id,
            legacy,
            "gen_ai.choice",
            {"index": 0, "finish_reason": "stop", "message": {"content": "sunny"}},
            base + 4,
        ),
    ]
    requests = [
        (traces([sdk], scope=SDK_SCOPE), "/v1/traces"),
        (traces(others), "/v1/traces"),
        (logs(records), "/v1/logs"),
    ]
    return requests, ids


def _send_run(server: RunningServer) -> tuple[str, dict[str, bytes]]:
    trace_id = new_trace_id()
    requests, ids = _run(trace_id)
    for request, path in requests:
        response = httpx.post(
            server.url + path,
            content=request.SerializeToString(),
            headers={"content-type": "application/x-protobuf"},
        )
        assert response.status_code == 200, response.text
    return trace_id.hex(), ids


def _cli(command: str, server: RunningServer, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    export_parser, import_parser = sub.add_parser("export"), sub.add_parser("import")
    add_arguments(export_parser, import_parser)
    args = parser.parse_args([command, *argv])
    settings = Settings.load(environ={}, overrides={"api_url": server.url})
    return (export_command if command == "export" else import_command)(settings, args)


def _counts(server: RunningServer) -> dict[str, int]:
    """What the store holds (bytes on disk left out: background merges change them)."""
    stats = server.get("/api/v1/stats")
    return {k: stats[k] for k in ("spans", "runs", "llm_calls", "content_items", "content_bytes")}


def _views(server: RunningServer, trace_id: str) -> list[Any]:
    return [
        server.get(f"/api/v1/runs/{trace_id}"),
        server.get(f"/api/v1/runs/{trace_id}/llm-calls"),
    ]


def test_an_exported_run_imports_identically_and_only_once(
    server: RunningServer, fresh_server: RunningServer, tmp_path: Any, capsys: Any
) -> None:
    trace_id, ids = _send_run(server)
    path = tmp_path / "run.json"
    assert _cli("export", server, trace_id, "-o", str(path)) == 0
    assert _cli("import", fresh_server, str(path)) == 0
    assert f"imported run {trace_id}: 6 spans (0 already present), 4 message events" in (
        capsys.readouterr().out
    )
    assert _views(fresh_server, trace_id) == _views(server, trace_id)
    # What makes the comparison worth something:
    calls = server.get(f"/api/v1/runs/{trace_id}/llm-calls")["llm_calls"]
    assert [c["span_id"] for c in calls] == [ids["sdk"].hex(), ids["legacy"].hex(), ids["oi"].hex()]
    assert calls[0]["input_messages"][2]["parts"][0]["response"] == RESULT
    assert calls[1]["input_messages"][2]["parts"][0]["response"] == RESULT * 2
    assert calls[2]["cost_usd"] == 0.000123 and calls[2]["error"] == "rate limited"
    counts = _counts(fresh_server)
    assert (counts["spans"], counts["runs"], counts["llm_calls"]) == (6, 1, 3)
    # A second import adds nothing; the run exports the same from either server.
    assert _cli("import", fresh_server, str(path)) == 0
    assert "is already here: nothing new to import" in capsys.readouterr().out
    assert _counts(fresh_server) == counts
    again = fresh_server.get(f"/api/v1/runs/{trace_id}/export")
    source = orjson.loads(path.read_bytes())
    for doc in (again, source):
        del doc["exported_at"], doc["checksum"]
    assert again == source
    assert _cli("export", server, trace_id) == 0  # to stdout
    assert json.loads(capsys.readouterr().out)["trace_id"] == trace_id


def _resealed(document: dict[str, Any], change: Any) -> bytes:
    """``document`` changed by ``change`` and given a checksum that matches the change."""
    copy = orjson.loads(orjson.dumps(document))
    change(copy)
    copy["checksum"] = checksum(copy)
    return orjson.dumps(copy)


def test_a_damaged_or_foreign_document_is_refused_and_nothing_is_written(
    server: RunningServer, fresh_server: RunningServer, tmp_path: Any, capsys: Any
) -> None:
    trace_id, ids = _send_run(server)
    raw = httpx.get(f"{server.url}/api/v1/runs/{trace_id}/export").content
    document = orjson.loads(raw)
    leaf = text_item(RESULT).hash.hex()
    chat = next(s for s in document["spans"] if s["span_id"] == ids["chat"].hex())
    first_message = chat["input_refs"][0]
    changed = orjson.loads(raw)
    changed["content"][leaf]["text"] = '"forecast: storm"'

    def edit(path: str, value: Any) -> Any:
        def change(doc: dict[str, Any]) -> None:
            *keys, last = path.split(".")
            node: Any = doc
            for key in keys:
                node = node[int(key)] if isinstance(node, list) else node[key]
            if value is KeyError:
                del node[last]
            else:
                node[last] = value

        return change

    cases = {
        "truncated": (raw[: len(raw) * 2 // 3], "not complete JSON"),
        "changed": (orjson.dumps(changed), "checksum mismatch"),
        "changed and resealed": (
            _resealed(document, lambda d: d["content"][leaf].update(text='"storm"')),
            f"content item {leaf} does not match its hash",
        ),
        "newer version": (_resealed(document, edit("version", 2)), "version 2 is not supported"),
        "foreign": (orjson.dumps({"resourceSpans": []}), "not an agentreel run export"),
        "missing message": (
            _resealed(document, lambda d: d["content"].pop(first_message)),
            f"content item {first_message} is not in the document",
        ),
        "missing leaf": (
            _resealed(document, lambda d: d["content"].pop(leaf)),
            f"content item {leaf} is not in the document",
        ),
        "missing field": (
            _resealed(document, edit("spans.0.counted", KeyError)),
            "spans[0] has no 'counted' field",
        ),
        "wrong type": (
            _resealed(document, edit("spans.1.input_tokens", "12")),
            "spans[1].input_tokens must be a whole number",
        ),
    }
    before = _counts(fresh_server)
    for name, (body, message) in cases.items():
        response = httpx.post(f"{fresh_server.url}/api/v1/runs/import", content=body)
        assert response.status_code == 400, (name, response.text)
        assert message in response.json()["detail"], (name, response.json())
    path = tmp_path / "cut.json"
    path.write_bytes(cases["truncated"][0])
    assert _cli("import", fresh_server, str(path)) == 1
    assert "import refused: the file is not complete JSON" in capsys.readouterr().err
    assert _counts(fresh_server) == before == dict.fromkeys(before, 0)
    assert httpx.get(f"{fresh_server.url}/api/v1/runs/{trace_id}").status_code == 404


def test_export_of_an_unknown_run_and_an_oversized_import() -> None:
    app = FastAPI()
    pool: Any = None  # neither request reaches the store
    app.include_router(router(pool, lambda: "p", max_request_bytes=1000))
    with TestClient(app) as client:
        assert client.get("/api/v1/runs/not-a-trace/export").status_code == 400
        too_big = client.post("/api/v1/runs/import", content=b"{" + b" " * 2000 + b"}")
        assert too_big.status_code == 413 and "1000 bytes" in too_big.json()["detail"]
        described = client.get("/openapi.json").json()["paths"]["/api/v1/runs/import"]["post"]
        assert "application/json" in described["requestBody"]["content"]


# -- on the in-process store ------------------------------------------------------------------


def test_the_document_carries_every_stored_span_column() -> None:
    not_exported = {"project", "trace_id", "duration_ns", "ingested_at"}
    assert set(SPAN_FIELDS) == set(SPAN_COLUMNS) - not_exported == set(queries.SPAN_FIELD_NAMES)


class _NoStore:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the store was used ({name}) before the document was checked")


def test_a_run_moves_between_projects_row_for_row(store: Any) -> None:
    source, target = "p-" + uuid.uuid4().hex[:8], "p-" + uuid.uuid4().hex[:8]
    trace_id = new_trace_id()
    requests, _ = _run(trace_id)
    writer = Writer(store)
    for request, path in requests:
        body = request.SerializeToString()
        if path == "/v1/logs":
            writer.write([], normalize_logs(decode_logs_proto(body), source).messages)
        else:
            writer.write(normalize_spans(decode_traces_proto(body), source).spans, [])
    document = export_run(store, source, trace_id.hex())
    assert document is not None and export_run(store, source, new_trace_id().hex()) is None
    bad = {**document, "version": 7}
    with pytest.raises(ExportError, match="version 7 is not supported"):
        import_run(_NoStore(), target, bad)
    first = import_run(store, target, document)
    assert (first.spans_written, first.already_present, first.message_events_written) == (6, 0, 4)
    again = import_run(store, target, document)
    assert (again.spans_written, again.already_present, again.message_events_written) == (0, 6, 0)
    assert again.content_written == 0
    same = import_run(store, source, document)  # into the store it came from
    assert (same.spans_written, same.content_written) == (0, 0)
    tid = trace_id.hex()
    for read in (queries.trace_spans, queries.trace_messages, queries.run_summary, llm_calls):
        assert read(store, target, tid) == read(store, source, tid), read.__name__
    assert (
        queries.stats(store, target)["content_items"]
        == queries.stats(store, source)["content_items"]
    )
