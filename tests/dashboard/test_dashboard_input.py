"""Bad input on the dashboard: a clear message, and no page query with it; a server that is
down, refuses, or wants an API key is said so, never with a traceback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from streamlit.testing.v1 import AppTest

from agentreel.dashboard.client import ApiClient, Refused
from agentreel.dashboard.filters import parse_filters, search_problem

from support.dashboard import APP
from support.dashboard import render as _render
from support.liveserver import RunningServer, free_port


def _nothing_queried(at: AppTest) -> None:
    """No page content: no metric, chart or table was drawn from a query."""
    assert not at.metric and not at.dataframe and not list(at.get("plotly_chart"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"range": "custom", "since": "2026-11-20", "until": "2026-11-01"},
            "The end date 2026-11-01 is before the start date 2026-11-20",
        ),
        ({"range": "custom", "since": "yesterday", "until": "2026-11-01"}, "is not a date"),
        ({"range": "forever"}, "Unknown time range 'forever'"),
        ({"agent": "nobody"}, "Unknown agent 'nobody'"),
        ({"model": "gpt-99"}, "Unknown model 'gpt-99'"),
        ({"page": "runs", "agent": "x'; DROP TABLE spans; --"}, "Unknown agent"),
    ],
)
def test_bad_filters_are_named_and_nothing_is_queried(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch, query: dict[str, str], message: str
) -> None:
    at = _render(server.url, monkeypatch, **query)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    _nothing_queried(at)
    assert any("Nothing was queried" in c.value for c in at.caption)


@pytest.mark.parametrize(
    "text", ["x' OR '1'='1", "abc; DROP TABLE runs --", "run/**/UNION SELECT", "a\\b", "a" * 201]
)
def test_search_injection_is_refused_before_any_query(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    problem = search_problem(text)
    assert problem is not None
    at = _render(server.url, monkeypatch, page="runs", q=text)
    assert [e.value for e in at.error] == [problem]
    _nothing_queried(at)


def test_ordinary_searches_pass() -> None:
    for text in ("0af7651916cd43dd8448eb211c80319c", "invoke_agent support-agent", "u-ana@acme.io"):
        assert search_problem(text) is None
    assert parse_filters({"range": "custom", "since": "2026-11-01", "until": "2026-11-01"})[1] == []


def test_a_server_that_is_down_gets_a_banner_with_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    at = _render(url, monkeypatch, page="cost")
    banner = " ".join(e.value for e in at.error)
    assert "Server unreachable" in banner and url in banner and "agentreel up" in banner
    _nothing_queried(at)


def test_the_servers_own_400_message_is_shown(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A date the page accepts but the server refuses: its reason reaches the user.
    at = _render(server.url, monkeypatch, range="custom", since="1900-01-01", until="1900-01-02")
    assert any("refused" in e.value and "is out of range" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    with pytest.raises(Refused) as refused:
        ApiClient(server.url).get("/cost/daily", {"by": "weather"})
    assert refused.value.status == 400 and "by" in refused.value.detail


class _KeyedServer(BaseHTTPRequestHandler):
    """A server that wants an API key (fault injection: the real auth layer answers 401 the
    same way); it records the Authorization headers it saw."""

    seen: list[str] = []  # noqa: RUF012 (one per test, reset by the fixture)

    def do_GET(self) -> None:
        header = self.headers.get("Authorization", "")
        self.seen.append(header)
        if header != "Bearer sk-test-key":
            body, status = b'{"detail": "an API key is required"}', 401
        else:
            body, status = b'{"detail": "Not Found"}', 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def keyed_server() -> Iterator[str]:
    _KeyedServer.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _KeyedServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_401_asks_for_an_api_key_and_sends_it_as_bearer(
    keyed_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _render(keyed_server, monkeypatch)
    assert any("API key needed" in w.value for w in at.warning)
    assert _KeyedServer.seen == [""]
    at.text_input(key="api_key").input("sk-test-key").run()
    assert _KeyedServer.seen[-1] == "Bearer sk-test-key"
    assert not any("API key needed" in w.value for w in at.warning)
    monkeypatch.setenv("AGENTREEL_API_KEY", "sk-test-key")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert _KeyedServer.seen[-1] == "Bearer sk-test-key"


def test_an_empty_store_explains_how_to_send_data(
    fresh_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for page in ("overview", "runs"):
        at = _render(fresh_server.url, monkeypatch, page=page)
        assert any("No runs yet" in i.value for i in at.info)
        snippet = " ".join(c.value for c in at.code)
        assert f'OTLPSpanExporter("{fresh_server.url}/v1/traces")' in snippet
        assert any(f"agentreel demo --api-url {fresh_server.url}" in m.value for m in at.markdown)
        _nothing_queried(at)


def test_an_amount_under_a_cent_keeps_two_significant_digits() -> None:
    # A budget-stopped run costs a few millionths: "$0.0000" would say it cost nothing.
    from agentreel.cli.words import dollars
    from agentreel.dashboard.ui import money

    assert [money(v) for v in (0, 0.000042, 0.0013, 0.05, 1.5, 250)] == [
        "$0.00",
        "$0.000042",
        "$0.0013",
        "$0.0500",
        "$1.50",
        "$250",
    ]
    assert [dollars(v) for v in (0, 0.000042, 0.25)] == ["$0.0000", "$0.000042", "$0.2500"]
