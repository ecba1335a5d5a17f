"""A run's timeline and diffs are kept between requests (``routes/runcache.py``) and built
again when the run's stored data changes: a span that arrives late, a repricing. The
expected answers are the spans written here (their count, the cost set by hand), not an
earlier answer of the route."""

from __future__ import annotations

from typing import Any

from support.runbuild import Run, answer, user


def _steps(http: Any, trace_id: str) -> list[tuple[str, str]]:
    body = http.get(f"/api/v1/runs/{trace_id}/timeline").json()
    return [(s["kind"], s["name"]) for s in body["steps"]]


def test_a_late_span_and_a_repricing_are_seen_through_the_cache(
    replay_api: tuple[Any, str], store: Any
) -> None:
    http, project = replay_api
    run = Run()
    run.llm([user("hi")], answer("hello"))
    run.tool("lookup", "", "{}", '"found"')
    trace_id = run.write(store, project)
    first = http.get(f"/api/v1/runs/{trace_id}/timeline")
    assert first.status_code == 200
    assert _steps(http, trace_id) == [("llm", "chat gpt-4o"), ("tool", "lookup")]
    again = http.get(f"/api/v1/runs/{trace_id}/timeline")
    assert again.content == first.content  # the kept answer, byte for byte
    diffs = http.get(f"/api/v1/runs/{trace_id}/llm-calls/diffs").json()
    assert diffs["llm_calls"] == 1 and len(diffs["diffs"]) == 1

    # The run goes on after it was opened: a second LLM call arrives in another batch.
    late = Run(root=False)
    late.trace_id, late.root, late.clock = run.trace_id, run.root, run.clock
    late.llm([user("hi"), answer("hello"), user("and then?")], answer("bye"), model="gpt-4o-mini")
    late.write(store, project)
    assert _steps(http, trace_id) == [
        ("llm", "chat gpt-4o"),
        ("tool", "lookup"),
        ("llm", "chat gpt-4o-mini"),
    ]
    diffs = http.get(f"/api/v1/runs/{trace_id}/llm-calls/diffs").json()
    assert diffs["llm_calls"] == 2 and diffs["diffs"][1]["messages"]["appended"] == 2

    # Repricing updates spans' cost in place (no new ingest time): 0.25 + 0.5 by hand.
    store.command(
        "ALTER TABLE spans UPDATE cost_usd = if(request_model = 'gpt-4o', 0.25, 0.5) "
        f"WHERE project = '{project}' AND trace_id = '{trace_id}' AND kind = 'llm'",
        settings={"mutations_sync": 2},
    )
    body = http.get(f"/api/v1/runs/{trace_id}/timeline").json()
    assert [s["cost_usd"] for s in body["steps"] if s["kind"] == "llm"] == [0.25, 0.5]
    assert body["cost_usd"] == 0.75


def test_a_run_not_stored_is_404_and_not_kept(replay_api: tuple[Any, str], store: Any) -> None:
    http, project = replay_api
    run = Run()
    run.llm([user("hi")], answer("hello"))
    for path in ("timeline", "llm-calls/diffs"):
        got = http.get(f"/api/v1/runs/{run.id}/{path}")
        assert got.status_code == 404
        assert got.json() == {"detail": f"no run with trace id {run.id}"}
    run.write(store, project)  # it arrives: the next request sees it
    assert _steps(http, run.id) == [("llm", "chat gpt-4o")]
