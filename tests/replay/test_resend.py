"""Re-send one call's exact context to a (fake) provider; the answer becomes a linked run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.fakeprovider import Answer, FakeProvider, ToolCall
from support.liveserver import RunningServer, free_port, start_server
from support.taggedrun import send_run


def _resend(server: RunningServer, trace_id: str, n: int, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/runs/{trace_id}/llm-calls/{n}/resend", json=body, timeout=60
    )


@pytest.mark.parametrize("name", ["openinference_openai", "openllmetry_anthropic"])
def test_resend_sends_the_exact_context_and_stores_a_linked_run(
    server: RunningServer, instrumented_runs: Callable[[str], dict[str, Any]], name: str
) -> None:
    original = instrumented_runs(name)
    api = "openai" if "openai" in name else "anthropic"
    sent_then = original["exchanges"][1]["body"]
    with FakeProvider([ToolCall("c_to_f", {"c": 22})]) as fake:
        base = fake.openai_base_url if api == "openai" else fake.base_url
        response = _resend(server, original["trace_id"], 2, base_url=base)
        assert response.status_code == 200, response.text
        (received,) = fake.requests
    # What the provider gets now is what it got then.
    assert received["messages"] == sent_then["messages"]
    assert received.get("tools") == sent_then.get("tools")
    assert received.get("system") == sent_then.get("system")
    result = response.json()
    replay = server.get(f"/api/v1/runs/{result['trace_id']}")
    (root,) = replay["spans"]
    assert root["attributes"]["agentreel.replay.of.trace_id"] == original["trace_id"]
    (llm,) = root["children"]
    assert llm["kind"] == "llm" and llm["provider"] == api
    assert llm["attributes"]["agentreel.replay.of.span_id"] == result["replay_of"]["span_id"]
    assert llm["usage"]["input_tokens"] > 0
    calls = server.get(f"/api/v1/runs/{result['trace_id']}/llm-calls")["llm_calls"]
    before = server.get(f"/api/v1/runs/{original['trace_id']}/llm-calls")["llm_calls"][1]
    assert calls[0]["input_messages"] == before["input_messages"]
    (part,) = calls[0]["output_messages"][0]["parts"]
    assert part["type"] == "tool_call" and part["name"] == "c_to_f"


def test_a_resend_that_fails_reports_it_and_stores_nothing(
    server: RunningServer, instrumented_runs: Callable[[str], dict[str, Any]]
) -> None:
    trace_id = instrumented_runs("openinference_openai")["trace_id"]
    before = server.get("/api/v1/stats")["spans"]
    down = _resend(server, trace_id, 1, base_url=f"http://127.0.0.1:{free_port()}/v1", timeout=5)
    assert down.status_code == 502 and "could not reach" in down.json()["detail"]
    with FakeProvider([Answer("unused")]) as fake:
        fake.fail_next(1, status=401, message="bad key")
        refused = _resend(server, trace_id, 1, base_url=fake.openai_base_url)
    assert refused.status_code == 502 and "answered 401" in refused.json()["detail"]
    assert server.get("/api/v1/stats")["spans"] == before
    assert _resend(server, trace_id, 9, base_url="http://x").status_code == 404
    assert _resend(server, "ab" * 16, 1, base_url="http://x").status_code == 404
    assert _resend(server, trace_id, 1, base_url="ftp://x").status_code == 422


def test_resend_goes_only_to_outbound_hosts(tmp_path: Path) -> None:
    with FakeProvider([Answer("allowed")]) as allowed, FakeProvider([Answer("no")]) as other:
        port = allowed.base_url.rsplit(":", 1)[1]
        server = start_server(tmp_path, {"AGENTREEL_OUTBOUND_HOSTS": f"127.0.0.1:{port}"})
        try:
            trace_id = send_run(server.url, "outbound").trace_id
            for base in (other.openai_base_url, "http://169.254.169.254/v1"):
                refused = _resend(server, trace_id, 1, base_url=base)
                assert refused.status_code == 400, refused.text
                detail = refused.json()["detail"]
                assert detail.startswith("base_url:") and "AGENTREEL_OUTBOUND_HOSTS" in detail
                assert base.split("/")[2] in detail  # names the host (and port)
            assert other.requests == []
            sent = _resend(server, trace_id, 1, base_url=allowed.openai_base_url)
            assert sent.status_code == 200, sent.text
            assert len(allowed.requests) == 1
        finally:
            server.stop()
