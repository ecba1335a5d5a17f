"""The same server on a ClickHouse server instead of the embedded store.

Runs when ``AGENTREEL_TEST_CLICKHOUSE_URL`` points at a server (``docker compose up -d
clickhouse`` and ``http://agentreel:agentreel@127.0.0.1:8123``); each run uses a database of
its own and drops it afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import clickhouse_connect
import httpx
import pytest

from support.liveserver import RunningServer, start_server
from support.otlpbuild import new_span_id, new_trace_id, span, traces

URL = os.environ.get("AGENTREEL_TEST_CLICKHOUSE_URL", "")
pytestmark = pytest.mark.skipif(
    not URL,
    reason="set AGENTREEL_TEST_CLICKHOUSE_URL to a ClickHouse server to run these "
    "(no ClickHouse server is installed on this machine)",
)


@pytest.fixture
def ch_server(tmp_path: Path) -> Iterator[RunningServer]:
    database = f"agentreel_test_{uuid.uuid4().hex[:10]}"
    url = f"{URL.rstrip('/')}/{database}"
    running = start_server(tmp_path / "data", {"AGENTREEL_CLICKHOUSE_URL": url})
    try:
        yield running
    finally:
        running.stop()
        admin = clickhouse_connect.get_client(dsn=URL)
        admin.command(f"DROP DATABASE IF EXISTS {database}")
        admin.close()


def test_ingest_dedup_and_read_on_a_server(ch_server: RunningServer) -> None:
    trace_id = new_trace_id()
    root = new_span_id()
    body = traces(
        [
            span(trace_id, root, "invoke_agent a", {"gen_ai.agent.name": "a"}),
            span(
                trace_id,
                new_span_id(),
                "chat",
                {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 9},
                parent=root,
            ),
        ]
    ).SerializeToString()
    for _ in range(2):  # a retried delivery
        response = httpx.post(
            ch_server.url + "/v1/traces",
            content=body,
            headers={"content-type": "application/x-protobuf"},
        )
        assert response.status_code == 200
    stats = ch_server.get("/api/v1/stats")
    assert (stats["spans"], stats["runs"], stats["llm_calls"]) == (2, 1, 1)
    assert stats["storage_bytes"] > 0
    run = ch_server.get(f"/api/v1/runs/{trace_id.hex()}")
    assert run["run"]["usage"]["input_tokens"] == 9
    assert [c["name"] for c in run["spans"][0]["children"]] == ["chat"]
