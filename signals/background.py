"""The server's background work for quality signals: evaluate finished runs online (a
deterministic sample), then check the alert rules; every ``alert_interval`` seconds, in one
thread that ingestion never waits on."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from agentreel.storage import scores as score_store

from .alerting import Alerts
from .evaluators import EVALUATORS, evaluate_run, sampled
from .judge import Judge

log = logging.getLogger("agentreel.signals")

#: Runs evaluated per round at most (the rest wait for the next round).
ROUND_RUNS = 200


class OnlineEvaluator:
    """Evaluates runs that stopped receiving spans ``settle`` seconds ago."""

    def __init__(self, pool: Any, rate: float, judge: Judge | None, settle: float) -> None:
        self._pool = pool
        self.rate = rate
        self.judge = judge
        self.settle = settle
        self._cursor: int | None = None
        self.evaluated = 0

    def round(self) -> int:
        """Evaluate what settled since the last round; returns how many runs were evaluated."""
        if self.rate <= 0:
            return 0
        client = self._pool.get()
        if self._cursor is None:
            self._cursor = self._first_cursor(client)
        found = score_store.settled_traces(client, self._cursor, self.settle, ROUND_RUNS)
        count = 0
        now_ms = int(time.time() * 1000)
        for project, trace_id, last in found:
            self._cursor = max(self._cursor, last)
            if not sampled(trace_id, self.rate):
                continue
            result = evaluate_run(client, project, trace_id, EVALUATORS, self.judge, now_ms)
            if result is None:
                continue
            for error in result.errors:
                log.warning("online evaluation: %s", error)
            score_store.insert(client, [s.row(project) for s in result.scores])
            count += 1
        self.evaluated += count
        return count

    def pending(self, project: str) -> int:
        """Runs of ``project`` still to evaluate: in the sample, with spans that arrived after
        what the evaluator has looked at (runs still receiving spans included); 0 when online
        evaluation is off. What the Quality page says while evaluation catches up."""
        if self.rate <= 0:
            return 0
        client = self._pool.get()
        cursor = self._cursor
        if cursor is None:  # no round yet: where the first round will start
            cursor = self._first_cursor(client)
        return score_store.pending_runs(client, project, cursor, self.rate)

    def _first_cursor(self, client: Any) -> int:
        # Runs ingested before the last evaluation were seen by an earlier server.
        last = score_store.last_evaluated_ms(client, "rule.answered")
        return max(0, last - int(self.settle * 1000)) if last else 0


class SignalsLoop:
    """Runs :class:`OnlineEvaluator` and :meth:`Alerts.check` every ``interval`` seconds."""

    def __init__(self, evaluator: OnlineEvaluator, alerts: Alerts, interval: float) -> None:
        self.evaluator = evaluator
        self.alerts = alerts
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="agentreel-signals", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name, work in (("evaluation", self.evaluator.round), ("alerts", self.alerts.check)):
                try:
                    work()
                except Exception:  # the next round tries again; the server goes on
                    log.exception("background %s round failed", name)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.alerts.close()
