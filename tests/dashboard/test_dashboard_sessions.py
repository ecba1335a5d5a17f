"""The Sessions page and a session's view rendered with AppTest against a real server that
holds runs of two sessions (``session.id`` and ``gen_ai.conversation.id``)."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from agentreel.dashboard.ui import count, money, table_time

from support.dashboard import render
from support.liveserver import RunningServer
from support.sessionruns import CONVERSATION_ID, SESSION_ID, SessionRuns


def test_sessions_page_lists_each_session_with_its_figures(
    session_runs: tuple[RunningServer, SessionRuns], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = session_runs
    at = render(server.url, monkeypatch, page="sessions")
    assert at.title[0].value == "Sessions"
    table = at.dataframe[0].value
    expected = server.get("/api/v1/sessions")["sessions"]
    assert list(table["session"]) == [CONVERSATION_ID, SESSION_ID]
    assert list(table["runs"]) == [s["runs"] for s in expected] == [1, 2]
    assert list(table["cost"]) == [money(s["cost_usd"]) for s in expected]
    assert list(table["status"]) == ["✓ ok", "✗ 1 of 2 failed"]
    assert list(table["last active (UTC)"]) == [table_time(s["last_time"]) for s in expected]
    opened = [parse_qs(link[1:]) for link in table["open"]]
    assert [q["session"] for q in opened] == [[CONVERSATION_ID], [SESSION_ID]]
    assert all(q["page"] == ["sessions"] for q in opened)
    searched = render(server.url, monkeypatch, page="sessions", q="sessions-a")
    assert list(searched.dataframe[0].value["session"]) == [SESSION_ID]


def test_a_session_shows_its_runs_in_order_with_cost_status_and_scores(
    session_runs: tuple[RunningServer, SessionRuns], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, runs = session_runs
    at = render(server.url, monkeypatch, page="sessions", session=SESSION_ID)
    assert at.title[0].value == "Session"
    summary = server.get(f"/api/v1/sessions/{SESSION_ID}")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Runs"] == count(2) and metrics["Failed runs"] == count(1)
    assert metrics["Cost"] == money(summary["session"]["cost_usd"])
    table = at.dataframe[0].value
    assert list(table["trace id"]) == [runs.first, runs.failed]
    assert list(table["status"]) == ["✓ ok", "✗ failed"]
    assert list(table["cost"]) == [money(r["cost_usd"]) for r in summary["runs"]]
    assert list(table["scores"]) == ["helpfulness 0.75 (human)", ""]
    assert list(table["error"])[1].endswith("the tool timed out")
    links = [parse_qs(link[1:]) for link in table["replay"]]
    assert [q["run"] for q in links] == [[runs.first], [runs.failed]]
    assert all(q["page"] == ["runs"] for q in links)
    odd = render(server.url, monkeypatch, page="sessions", session=CONVERSATION_ID)
    assert list(odd.dataframe[0].value["trace id"]) == [runs.conversation]


def test_a_runs_page_links_to_its_session(
    session_runs: tuple[RunningServer, SessionRuns], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, runs = session_runs
    at = render(server.url, monkeypatch, page="runs", run=runs.failed)
    links = [m.value for m in at.markdown if m.value.startswith("Part of session")]
    assert len(links) == 1 and f"[`{SESSION_ID}`]" in links[0]
    query = parse_qs(links[0].split("](?", 1)[1].split(")", 1)[0])
    assert query["page"] == ["sessions"] and query["session"] == [SESSION_ID]


def test_an_unknown_session_is_said_not_raised(
    session_runs: tuple[RunningServer, SessionRuns], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = session_runs
    at = render(server.url, monkeypatch, page="sessions", session="no-such-session")
    assert any("no run has session id" in e.value for e in at.error)
