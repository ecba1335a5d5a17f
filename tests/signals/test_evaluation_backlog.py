"""What the Quality page's "evaluating N runs…" rests on: the online evaluator's backlog, the
runs of a project in its sample that it has not looked at, counted by the store as the
evaluator draws its sample."""

from __future__ import annotations

from typing import Any

from agentreel.signals.background import OnlineEvaluator
from agentreel.signals.evaluators import sampled

from support.runbuild import Run, answer, new_project, user
from support.store import StorePool


def test_backlog_counts_the_evaluators_sample_of_the_projects_runs(store: Any) -> None:
    project, other = new_project(), new_project()
    ids = []
    for _ in range(24):
        run = Run()
        run.llm([user("hi")], answer("hello"))
        ids.append(run.write(store, project))
    run = Run()
    run.llm([user("hi")], answer("hello"))
    run.write(store, other)
    for rate in (0.0, 0.25, 0.5, 0.75, 1.0):
        evaluator = OnlineEvaluator(StorePool(store), rate, None, settle=30)
        assert evaluator.pending(project) == sum(sampled(t, rate) for t in ids), rate
    assert OnlineEvaluator(StorePool(store), 1.0, None, settle=30).pending(other) == 1
