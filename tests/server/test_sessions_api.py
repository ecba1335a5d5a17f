"""Sessions over the REST API, from runs sent over OTLP/HTTP with either session attribute
(``session.id`` on root spans, ``gen_ai.conversation.id`` on an LLM span only)."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from support.liveserver import RunningServer
from support.sessionruns import CONVERSATION_ID, SESSION_ID, SessionRuns


def test_sessions_list_both_attributes_as_sessions(
    session_runs: tuple[RunningServer, SessionRuns],
) -> None:
    server, runs = session_runs
    listed = server.get("/api/v1/sessions")
    assert listed["total"] == 2
    latest, earlier = listed["sessions"]  # the most recently active first
    assert latest["session"] == CONVERSATION_ID and earlier["session"] == SESSION_ID
    assert (earlier["runs"], earlier["failed_runs"], earlier["status"]) == (2, 1, "error")
    assert (latest["runs"], latest["failed_runs"], latest["status"]) == (1, 0, "ok")
    by_run = {r["trace_id"]: r for r in server.get("/api/v1/runs", limit=10)["runs"]}
    assert earlier["cost_usd"] == pytest.approx(
        by_run[runs.first]["cost_usd"] + by_run[runs.failed]["cost_usd"]
    )
    assert earlier["cost_usd"] > 0 and earlier["llm_calls"] == 2
    assert earlier["first_time"] == by_run[runs.first]["start_time"]
    assert earlier["last_time"] == by_run[runs.failed]["end_time"]
    assert earlier["agents"] == ["support"]
    assert by_run[runs.conversation]["session"] == CONVERSATION_ID
    assert by_run[runs.lone]["session"] == ""


def test_sessions_filters_and_pages(session_runs: tuple[RunningServer, SessionRuns]) -> None:
    server, _ = session_runs
    assert [s["session"] for s in server.get("/api/v1/sessions", q="SESSIONS-A")["sessions"]] == [
        SESSION_ID
    ]
    page = server.get("/api/v1/sessions", limit=1, offset=1)
    assert page["total"] == 2 and [s["session"] for s in page["sessions"]] == [SESSION_ID]
    assert server.get("/api/v1/sessions", since="2000-01-01", until="2000-01-02")["total"] == 0
    assert server.get("/api/v1/sessions", agent="support", model="gpt-4o")["total"] == 2
    assert server.get("/api/v1/sessions", agent="support", model="other")["total"] == 0
    bad = httpx.get(server.url + "/api/v1/sessions", params={"q": "x'; DROP"}, timeout=10)
    assert bad.status_code == 400 and "q must be" in bad.json()["detail"]


def test_a_session_shows_its_runs_in_order_with_scores(
    session_runs: tuple[RunningServer, SessionRuns],
) -> None:
    server, runs = session_runs
    one = server.get(f"/api/v1/sessions/{SESSION_ID}")
    assert one["session"]["session"] == SESSION_ID and one["total"] == 2
    assert [r["trace_id"] for r in one["runs"]] == [runs.first, runs.failed]
    assert [r["status"] for r in one["runs"]] == ["ok", "error"]
    assert one["runs"][1]["error"]["message"] == "the tool timed out"
    (score,) = one["runs"][0]["scores"]
    assert (score["name"], score["value"], score["source"]) == ("helpfulness", 0.75, "human")
    assert one["runs"][1]["scores"] == []
    # A session id is the caller's own text (here with a slash, spaces and '#'): any text
    # round-trips through the path.
    conversation = server.get("/api/v1/sessions/" + quote(CONVERSATION_ID, safe=""))
    assert [r["trace_id"] for r in conversation["runs"]] == [runs.conversation]
    missing = httpx.get(server.url + "/api/v1/sessions/no-such-session", timeout=10)
    assert missing.status_code == 404 and "no-such-session" in missing.json()["detail"]
