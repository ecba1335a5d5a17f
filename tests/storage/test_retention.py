"""Retention on the embedded store: synthetic old runs written through the normal writer,
then a pass; what must be gone and what must stay is checked in the tables themselves."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agentreel.collector.decode import decode_traces_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.server.routes import retention as retention_routes
from agentreel.server.routes import runs as runs_routes
from agentreel.settings import Settings, SettingsError
from agentreel.storage import retention
from agentreel.storage.writer import Writer

from support.otlpbuild import traces as traces_of
from support.runbuild import Run, answer, new_project, user
from support.store import StorePool

DAY = 86_400 * 10**9


def old_run(
    store: Any, project: str, days_ago: float, *texts: str, writer: Writer | None = None
) -> str:
    """A run of one LLM call that ended ``days_ago`` days ago, asked each of ``texts``."""
    run = Run(root=False)
    run.clock = time.time_ns() - int(days_ago * DAY)
    run.llm([user(t) for t in texts], answer(f"answer {texts[0]}"))
    decoded = decode_traces_proto(traces_of(run.all_spans()).SerializeToString())
    (writer or Writer(store)).write(normalize_spans(decoded, project).spans, [])
    return run.id


def count(store: Any, sql: str, **params: Any) -> int:
    return int(store.query(sql, parameters=params).result_rows[0][0])


def bodies(store: Any, project: str, text: str) -> int:
    return count(
        store,
        "SELECT uniqExact(hash) FROM content WHERE project = {p:String} "
        "AND position(body, {t:String}) > 0",
        p=project,
        t=text,
    )


def traces(store: Any, table: str, project: str, trace: str) -> int:
    return count(
        store,
        f"SELECT count() FROM {table} WHERE project = {{p:String}} AND trace_id = {{t:String}}",
        p=project,
        t=trace,
    )


@pytest.fixture(scope="module")
def data(store: Any) -> dict[str, Any]:
    short, other = new_project(), new_project()
    made = {
        "short": short,
        "other": other,
        "old": old_run(store, short, 100, "old-only question", "shared question"),
        "recent": old_run(store, short, 1, "recent-only question", "shared question"),
        "other_old": old_run(store, other, 100, "old-only question"),
    }
    retention.set_project_days(store, short, 30)
    # Written just now: the grace keeps unreferenced content of an in-flight batch.
    first = retention.run_pass(store, None, only=[short, other])
    made["first"] = first
    made["content_after_first"] = bodies(store, short, "old-only question")
    made["second"] = retention.run_pass(
        store, None, now_ns=time.time_ns() + 5 * 10**9, grace=0, only=[short, other]
    )
    return made


def test_old_runs_of_the_short_project_are_gone(store: Any, data: dict[str, Any]) -> None:
    assert data["first"].runs_deleted == {data["short"]: 1}
    for table in ("spans", "runs", "escalation_rows"):
        assert traces(store, table, data["short"], data["old"]) == 0
    assert traces(store, "spans", data["short"], data["recent"]) == 1
    assert traces(store, "runs", data["short"], data["recent"]) == 1


def test_another_project_keeps_its_old_runs(store: Any, data: dict[str, Any]) -> None:
    assert traces(store, "spans", data["other"], data["other_old"]) == 1
    assert bodies(store, data["other"], "old-only question") == 2  # question and answer


def test_content_goes_only_when_no_span_refers_to_it_and_it_settled(
    store: Any, data: dict[str, Any]
) -> None:
    assert data["content_after_first"] == 2  # question and answer, inside the grace: kept
    assert data["second"].content_deleted >= 2  # the old question and the old answer
    assert bodies(store, data["short"], "old-only question") == 0
    assert bodies(store, data["short"], "shared question") == 1  # the recent run refers to it
    assert bodies(store, data["short"], "recent-only question") == 2  # question and answer


def test_rollups_outlive_the_spans(store: Any, data: dict[str, Any]) -> None:
    old_day = time.gmtime((time.time_ns() - 100 * DAY) / 1e9)
    day = time.strftime("%Y-%m-%d", old_day)
    kept = count(
        store,
        "SELECT count() FROM step_daily WHERE project = {p:String} AND day = toDate32({d:String})",
        p=data["short"],
        d=day,
    )
    assert kept > 0
    retention.run_pass(store, None, rollup_days=50, only=[data["short"]])
    gone = count(
        store,
        "SELECT count() FROM step_daily WHERE project = {p:String} AND day = toDate32({d:String})",
        p=data["short"],
        d=day,
    )
    assert gone == 0
    assert count(
        store, "SELECT count() FROM step_daily WHERE project = {p:String}", p=data["other"]
    )


def test_a_retained_run_still_reads(store: Any, data: dict[str, Any]) -> None:
    app = FastAPI()
    app.include_router(runs_routes.router(StorePool(store), lambda: data["short"]))
    with TestClient(app) as client:
        assert client.get(f"/api/v1/runs/{data['recent']}").status_code == 200
        assert client.get(f"/api/v1/runs/{data['old']}").status_code == 404


def test_a_writer_stores_deleted_content_again(store: Any, data: dict[str, Any]) -> None:
    """The writer remembers content it stored; after a deletion it must write it again."""
    project, writer = new_project(), Writer(store)
    old_run(store, project, 100, "cached question", writer=writer)
    retention.set_project_days(store, project, 30)
    later = time.time_ns() + 5 * 10**9
    assert retention.run_pass(store, None, now_ns=later, grace=0, only=[project]).runs_deleted
    assert bodies(store, project, "cached question") == 0
    again = old_run(store, project, 1, "cached question", writer=writer)
    assert traces(store, "spans", project, again) == 1
    assert bodies(store, project, "cached question") == 2  # question and answer


def test_retention_over_rest_round_trips_and_refuses_bad_days(store: Any) -> None:
    project = new_project()
    app = FastAPI()
    app.include_router(retention_routes.router(StorePool(store), lambda: project, 90))
    with TestClient(app) as client:
        shown = client.get("/api/v1/retention").json()
        assert shown == {"project": project, "days": 90, "project_days": None, "default_days": 90}
        assert client.put("/api/v1/retention", json={"days": 7}).json()["days"] == 7
        assert client.get("/api/v1/retention").json()["project_days"] == 7
        for bad in (-1, 0, 1.5, "7", True):
            answer_ = client.put("/api/v1/retention", json={"days": bad})
            assert answer_.status_code == 400, bad
            assert "days" in answer_.json()["detail"]
        assert client.get("/api/v1/retention").json()["days"] == 7  # the bad ones changed nothing
        assert client.put("/api/v1/retention", json={"days": None}).json()["days"] == 90


def test_settings_from_the_environment() -> None:
    loaded = Settings.load(
        {
            "AGENTREEL_RETENTION_DAYS": "30",
            "AGENTREEL_ROLLUP_RETENTION_DAYS": "400",
            "AGENTREEL_MAX_DISK_GB": "2.5",
        }
    )
    assert (loaded.retention_days, loaded.rollup_retention_days, loaded.max_disk_gb) == (
        30,
        400,
        2.5,
    )
    assert Settings.load({}).retention_days == 0  # keep forever
    with pytest.raises(SettingsError, match="AGENTREEL_RETENTION_DAYS"):
        Settings.load({"AGENTREEL_RETENTION_DAYS": "-3"})
    with pytest.raises(SettingsError, match="AGENTREEL_MAX_DISK_GB"):
        Settings.load({"AGENTREEL_MAX_DISK_GB": "-1"})


def test_per_project_storage_bytes_share_the_store(store: Any) -> None:
    from agentreel.storage.queries import project_bytes_estimate, stats

    big, small = new_project(), new_project()
    for i in range(20):
        old_run(store, big, 1, f"big question {i} " + "x" * 2000)
    old_run(store, small, 1, "small question")
    # One snapshot of the parts: merges in the background change their bytes between reads.
    found = stats(store, big, project_bytes=True)
    assert "project_storage_bytes_estimate" not in stats(store, big)  # a full read: asked for
    on_disk = {name: t["bytes_on_disk"] for name, t in found["tables"].items()}
    every = {
        str(r[0])
        for table in on_disk
        for r in store.query(f"SELECT DISTINCT project FROM {table}").result_rows
    }
    shares = {p: project_bytes_estimate(store, p, on_disk) for p in every}
    assert shares[big] > 5 * shares[small] > 0
    assert abs(sum(shares.values()) - found["storage_bytes"]) <= len(every)  # rounding
