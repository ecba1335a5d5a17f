"""The disk cap in a real server with a store of its own (dropping partitions would take
other tests' data with it): runs in three months, a cap far below any store, and what the
log, ``/metrics`` and the run routes say after the retention thread's pass. And the
``agentreel retention`` command against the same server."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from support.cli import agentreel
from support.liveserver import RunningServer, start_server
from support.otlpbuild import traces
from support.runbuild import Run, answer, user

DAY = 86_400 * 10**9
DROP = re.compile(r"disk cap: dropped partition table=spans partition=(\d+) bytes=(\d+)")


def month(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y%m")


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict]]:
    server = start_server(
        Path(tmp_path_factory.mktemp("capped")),
        {"AGENTREEL_MAX_DISK_GB": "0.000001", "AGENTREEL_RETENTION_INTERVAL": "0.5"},
    )
    try:
        now = time.time_ns()
        runs: dict[str, Run] = {}
        for name, ago in (("oldest", 200), ("older", 100), ("newest", 0)):
            run = Run(root=False)
            run.clock = now - ago * DAY - 60 * 10**9
            run.llm([user(f"{name} question")], answer(f"{name} answer"))
            runs[name] = run
        # One request, so the three months are stored before a pass can see any of them.
        body = traces([s for r in runs.values() for s in r.all_spans()]).SerializeToString()
        sent = httpx.post(
            server.url + "/v1/traces",
            content=bytes(body),
            headers={"Content-Type": "application/x-protobuf"},
            timeout=30,
        )
        assert sent.status_code == 200, sent.text
        # The counter moves once the pass is over (its run rows deleted too), after the log.
        server.wait_for(
            lambda s: (
                "agentreel_partitions_dropped_total 2.0" in httpx.get(s.url + "/metrics").text
            ),
            timeout=60,
            what="two drops",
        )
        yield server, {name: (r.id, r.clock) for name, r in runs.items()}
    finally:
        server.stop()


def test_the_oldest_months_go_first_and_the_newest_stays(capped: tuple) -> None:
    server, runs = capped
    drops = DROP.findall(server.log())
    assert [p for p, _ in drops] == [month(runs["oldest"][1]), month(runs["older"][1])]
    for name in ("oldest", "older"):
        assert httpx.get(f"{server.url}/api/v1/runs/{runs[name][0]}").status_code == 404
    assert httpx.get(f"{server.url}/api/v1/runs/{runs['newest'][0]}").status_code == 200
    assert server.get("/api/v1/stats")["spans"] == 1


def test_metrics_count_the_drops(capped: tuple) -> None:
    server, _ = capped
    drops = DROP.findall(server.log())
    text = httpx.get(server.url + "/metrics").text

    def value(name: str) -> float:
        found = re.search(rf"^{name} (\S+)$", text, re.M)
        assert found, name
        return float(found.group(1))

    assert value("agentreel_partitions_dropped_total") == len(drops)
    assert value("agentreel_partition_bytes_dropped_total") == sum(int(b) for _, b in drops)
    assert value("agentreel_store_bytes") > 0


def test_the_retention_command_round_trips(capped: tuple) -> None:
    server, _ = capped
    env = {"AGENTREEL_API_URL": server.url}
    shown = agentreel("retention", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "forever" in shown.stdout
    bad = agentreel("retention", "--days", "-1", env=env)
    assert bad.returncode != 0
    assert "above 0" in bad.stderr
    assert agentreel("retention", "--days", "14", env=env).returncode == 0
    assert server.get("/api/v1/retention")["days"] == 14
    assert "14 days" in agentreel("retention", env=env).stdout
    assert agentreel("retention", "--default", env=env).returncode == 0
    assert server.get("/api/v1/retention")["days"] is None


def test_stats_shows_the_project_share_of_the_store(capped: tuple) -> None:
    server, _ = capped
    done = agentreel("stats", "--json", env={"AGENTREEL_API_URL": server.url})
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    # One project holds everything: its share is the whole store (to rounding).
    assert abs(shown["project_storage_bytes_estimate"] - shown["storage_bytes"]) <= 20
