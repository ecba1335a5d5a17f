"""What someone who opens the server's address in a browser gets: where the pages are."""

from __future__ import annotations

import httpx

from support.liveserver import RunningServer


def test_the_root_points_to_the_dashboard_and_the_api_docs(server: RunningServer) -> None:
    answer = httpx.get(server.url + "/", timeout=30)
    assert answer.status_code == 200
    pointer = answer.json()
    port = server.env.get("AGENTREEL_DASHBOARD_PORT", "8501")
    assert pointer["dashboard"] == f"http://127.0.0.1:{port}"
    assert pointer["otlp_http"] == ["/v1/traces", "/v1/logs", "/v1/metrics"]
    docs = httpx.get(server.url + pointer["api_docs"], timeout=30)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    stats = httpx.get(server.url + pointer["api"] + "/stats", timeout=30)
    assert stats.status_code == 200 and "spans" in stats.json()
