"""Re-runs in the store (migration 42): a re-run's root spans name the run it re-ran, the call it
went live from and where it diverged; the run detail says so, the original lists its re-runs,
and calls served from the recording cost nothing. Spans go through the real decode, normalize
and writer into a real chDB store; the REST answers come from the real routes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import clickhouse_connect
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agentreel.server.routes.runs import router as runs_router
from agentreel.storage import reprice, runtable, schema
from agentreel.storage.costing import RERUN_SERVED, shipped_prices

from support.otlpbuild import kv, new_span_id, span
from support.runbuild import BASE, MS, Run, answer, new_project, user
from support.store import StorePool

SECOND = 1_000_000_000


def _original() -> Run:
    run = Run()
    for n in range(4):
        run.llm([user(f"step {n}")], answer(f"done {n}"))
    return run


def _rerun(of: str, from_call: int, *, at: int = 0, diverged: tuple[int, str] | None = None,
           served: int = 0, roots: int = 1) -> Run:  # fmt: skip
    """A re-run of ``of`` started ``at`` seconds after BASE: its first ``served`` calls answered
    from the recording, ``roots`` root spans (the divergence, if any, on the last)."""
    run = Run(root=False)
    run.clock = BASE + at * SECOND
    for n in range(3):
        call = run.llm([user(f"step {n}")], answer(f"done {n}"))
        if n < served:
            call.attributes.append(kv("agentreel.rerun.served", True))
    for index in range(roots):
        attrs: dict[str, Any] = {"agentreel.rerun.of": of, "agentreel.rerun.from_call": from_call}
        if diverged and index == roots - 1:
            attrs |= {
                "agentreel.rerun.diverged_at": diverged[0],
                "agentreel.rerun.divergence": diverged[1],
            }
        start = BASE + at * SECOND + index * MS
        root = run.root if index == 0 else new_span_id()
        run.spans.insert(index, span(run.trace_id, root, "invoke_agent travel", attrs,
                                     start_ns=start, duration_ns=100 * MS))  # fmt: skip
    return run


def _api(client: Any, project: str) -> TestClient:
    app = FastAPI()
    app.include_router(runs_router(StorePool(client), lambda: project))
    return TestClient(app)


def _get(api: TestClient, path: str, **params: Any) -> Any:
    response = api.get(f"/api/v1{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _spans(detail: dict[str, Any]) -> list[dict[str, Any]]:
    out, todo = [], list(detail["spans"])
    while todo:
        node = todo.pop()
        out.append(node)
        todo.extend(node["children"])
    return out


NOT_A_RERUN = {
    "rerun_of": None,
    "rerun_from_call": None,
    "rerun_diverged_at": None,
    "rerun_divergence": None,
}


def test_a_rerun_names_its_original_and_the_original_lists_its_reruns(store: Any) -> None:
    project, other = new_project(), new_project()
    original = _original()
    original.write(store, project)
    offline = _rerun(original.id, 0, at=10, served=3)
    live = _rerun(original.id, 3, at=20, diverged=(3, "system instructions differ"), served=2)
    # Delivered in pieces: the calls first, the root spans (what names the original) later.
    two_roots = _rerun(original.id, 2, at=30, diverged=(2, "message 1 differs"), roots=2)
    for run in (offline, live):
        run.write(store, project)
    calls, roots = two_roots.spans[2:], two_roots.spans[:2]
    for part in (calls, roots[1:], roots[:1]):
        two_roots.spans = part
        two_roots.write(store, project)
    # A re-run of the same trace id in another project is not this project's re-run.
    _rerun(original.id, 1, at=40).write(store, other)

    api = _api(store, project)
    detail = _get(api, f"/runs/{original.id}")
    assert {k: detail["run"][k] for k in NOT_A_RERUN} == NOT_A_RERUN
    assert detail["reruns"] == [
        {"trace_id": two_roots.id, "start_time": detail["reruns"][0]["start_time"],
         "status": "ok", "from_call": 2, "diverged_at": 2, "divergence": "message 1 differs"},
        {"trace_id": live.id, "start_time": detail["reruns"][1]["start_time"], "status": "ok",
         "from_call": 3, "diverged_at": 3, "divergence": "system instructions differ"},
        {"trace_id": offline.id, "start_time": detail["reruns"][2]["start_time"], "status": "ok",
         "from_call": 0, "diverged_at": None, "divergence": None},
    ]  # fmt: skip
    starts = [r["start_time"] for r in detail["reruns"]]
    assert starts == sorted(starts, reverse=True) and detail["reruns_total"] == 3
    # Without the span tree (what the run page asks): the same summary and re-runs.
    lean = _get(api, f"/runs/{original.id}", spans="false")
    assert lean == {k: detail[k] for k in ("run", "reruns", "reruns_total")}

    one = _get(api, f"/runs/{live.id}")
    assert {k: one["run"][k] for k in NOT_A_RERUN} == {
        "rerun_of": original.id,
        "rerun_from_call": 3,
        "rerun_diverged_at": 3,
        "rerun_divergence": "system instructions differ",
    }
    assert one["reruns"] == [] and one["reruns_total"] == 0
    assert _get(api, f"/runs/{offline.id}")["run"]["rerun_from_call"] == 0
    assert _get(api, f"/runs/{offline.id}")["run"]["rerun_diverged_at"] is None
    # The list rows say which runs are re-runs, and of what.
    listed = {r["trace_id"]: r["rerun_of"] for r in _get(api, "/runs", limit=10)["runs"]}
    assert listed == {original.id: None, offline.id: original.id, live.id: original.id,
                      two_roots.id: original.id}  # fmt: skip


def test_a_long_divergence_is_whole_in_the_run_and_cut_in_the_list(store: Any) -> None:
    """A divergence longer than an inline attribute is stored as content: the run detail reads
    it from the root span, the original's list of re-runs keeps what fits the table."""
    project = new_project()
    original = _original()
    original.write(store, project)
    long_text = "message 2 differs: " + "x" * 2000
    short_text = "the model differs: " + "y" * 500
    long_run = _rerun(original.id, 2, at=10, diverged=(2, long_text))
    short_run = _rerun(original.id, 2, at=20, diverged=(1, short_text))
    for run in (long_run, short_run):
        run.write(store, project)
    api = _api(store, project)
    assert _get(api, f"/runs/{long_run.id}")["run"]["rerun_divergence"] == long_text
    lean = _get(api, f"/runs/{long_run.id}", spans="false")  # read from the root span all the same
    assert lean["run"]["rerun_divergence"] == long_text and "spans" not in lean
    assert _get(api, f"/runs/{short_run.id}")["run"]["rerun_divergence"] == short_text
    listed = {r["trace_id"]: r for r in _get(api, f"/runs/{original.id}")["reruns"]}
    assert listed[long_run.id]["diverged_at"] == 2
    assert listed[short_run.id]["divergence"] == short_text[: runtable.DIVERGENCE_CHARS]


def test_calls_served_from_the_recording_cost_nothing(store: Any) -> None:
    project = new_project()
    rerun = _rerun("ab" * 16, 3, served=2)
    # A served call that carried a cost of its own (an instrumentor pricing the recorded
    # usage) costs nothing either.
    rerun.spans[2].attributes.append(kv("gen_ai.usage.cost", 0.5))
    rerun.write(store, project)
    api = _api(store, project)

    def calls() -> list[dict[str, Any]]:
        detail = _get(api, f"/runs/{rerun.id}")
        llm = sorted(
            (s for s in _spans(detail) if s["kind"] == "llm"), key=lambda s: s["start_time"]
        )
        assert len(llm) == 3
        return llm

    served, live = calls()[:2], calls()[2]
    assert [(s["cost_usd"], s["cost_source"]) for s in served] == [(0.0, RERUN_SERVED)] * 2
    assert [s["usage"]["input_tokens"] for s in served] == [100, 100]  # tokens are kept
    assert live["cost_source"] == "price_table" and live["cost_usd"] > 0
    run = _get(api, f"/runs/{rerun.id}")["run"]
    assert run["cost_usd"] == pytest.approx(live["cost_usd"])
    assert run["usage"]["input_tokens"] == 300
    # A reprice prices the live call again and leaves the served ones alone.
    result = reprice.reprice(store, project, BASE - SECOND, BASE + 60 * SECOND, shipped_prices())
    assert (result.llm_spans, result.changed) == (1, 0)
    assert [(s["cost_usd"], s["cost_source"]) for s in calls()[:2]] == [(0.0, RERUN_SERVED)] * 2
    assert _get(api, f"/runs/{rerun.id}")["run"]["cost_usd"] == pytest.approx(live["cost_usd"])


#: The view's re-run columns, as migration 42 added them to migration 41's view.
_RERUN_COLUMNS = ("rerun_of", "rerun_from_call", "rerun_divergence")


def _view_of_migration_41() -> str:
    """The runs view as migration 41 made it: this release's without the re-run columns."""
    view = runtable.RUNS_MV
    start = view.index(",\n    max(if(parent_span_id = '', attributes['agentreel.rerun.of']")
    end = view.index("AS rerun_divergence") + len("AS rerun_divergence")
    return view[:start] + view[end:]


@pytest.fixture
def before_42(store: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A database of its own in the session's store, as the release before migration 42 left
    it: migrations up to 41 applied, ``runs`` and its view without the re-run columns."""
    database = f"before42_{uuid.uuid4().hex[:10]}"
    store.command(f"CREATE DATABASE {database}")
    client = clickhouse_connect.get_client(dsn=f"chdb://{store.path}", database=database)
    earlier = [m for m in schema.MIGRATIONS if m.version < 42]
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", earlier)
        assert schema.migrate(client) == [m.version for m in earlier]
    client.command("DROP VIEW runs_mv")
    for column in _RERUN_COLUMNS:
        client.command(f"ALTER TABLE runs DROP COLUMN {column}")
    client.command(_view_of_migration_41())
    try:
        yield client
    finally:
        client.close()
        store.command(f"DROP DATABASE IF EXISTS {database} SYNC")


def _run_columns(client: Any) -> set[str]:
    rows = client.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'runs'"
    ).result_rows
    return {name for (name,) in rows}


def test_migration_42_on_a_store_made_before_it(before_42: Any) -> None:
    client, project = before_42, new_project()
    original = _original()
    original.write(client, project)
    # Re-run spans stored before the migration: not backfilled, the run is not a re-run.
    early = _rerun(original.id, 1, at=10, diverged=(1, "tools differ"))
    early.write(client, project)

    assert not set(_RERUN_COLUMNS) & _run_columns(client)

    assert schema.migrate(client) == [42, 43, 44, 45]
    assert set(_RERUN_COLUMNS) <= _run_columns(client)
    runtable.add_reruns(client)  # a start interrupted after the step: nothing changes

    late = _rerun(original.id, 2, at=20, diverged=(2, "message 2 differs"))
    late.write(client, project)
    api = _api(client, project)
    detail = _get(api, f"/runs/{original.id}")
    assert [(r["trace_id"], r["from_call"], r["divergence"]) for r in detail["reruns"]] == [
        (late.id, 2, "message 2 differs")
    ]
    assert {k: _get(api, f"/runs/{early.id}")["run"][k] for k in NOT_A_RERUN} == NOT_A_RERUN
    assert _get(api, f"/runs/{late.id}")["run"]["rerun_of"] == original.id
    # What the run list said before the migration, it still says.
    listed = {r["trace_id"]: r for r in _get(api, "/runs")["runs"]}
    assert listed[original.id]["llm_calls"] == 4 and listed[early.id]["llm_calls"] == 3
