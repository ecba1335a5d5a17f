"""Alert evaluation: each rule's figure against its threshold, per project (and agent or run),
turned into history events and webhook deliveries.

De-duplication and cooldown: an alert is identified by (project, rule, key) — the key is the
agent, the run, or ``*``. While it stays true it is notified once, then again only after the
rule's cooldown. When it stops being true it is ``resolved`` (recorded, not notified)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agentreel.storage import alerts as store

from . import drift
from .evaluators import hallucination
from .notify import Delivery, Notifier
from .rules import Rule, RuleError, parse_rule

log = logging.getLogger("agentreel.signals")

NS = 10**9


@dataclass(frozen=True)
class Firing:
    rule: Rule
    key: str
    value: float
    threshold: float
    message: str


class Alerts:
    """Rules of the alerts file and of the store, checked by :meth:`check` (the server's
    background thread calls it every ``alert_interval`` seconds)."""

    def __init__(
        self,
        pool: Any,
        default_project: str,
        file_rules: list[Rule] | None = None,
        budgets: Callable[[], tuple[float, float]] = lambda: (0.0, 0.0),
        notifier: Notifier | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pool = pool
        self._default = default_project
        self._file_rules = file_rules or []
        self._budgets = budgets
        self.notifier = notifier or Notifier()
        self._clock = clock
        self._lock = threading.Lock()
        #: (project, rule, key) → when it was last notified, for open alerts.
        self._open: dict[tuple[str, str, str], float] | None = None

    def file_rules(self, project: str) -> list[Rule]:
        return [r for r in self._file_rules if (r.project or self._default) == project]

    def rules(self, project: str) -> list[Rule]:
        """The file's rules for ``project``, then those added through the API."""
        out = self.file_rules(project)
        for _, body in store.stored_rules(self.pool.get(), project):
            try:
                out.append(parse_rule(body))
            except RuleError as exc:  # stored by an older version with other rules
                log.warning("stored alert rule %s skipped: %s", body.get("name"), exc)
        return out

    def projects(self) -> list[str]:
        found = {self._default, *(r.project for r in self._file_rules if r.project)}
        found |= {p for p, _ in store.stored_rules(self.pool.get())}
        return sorted(found)

    def check(self, project: str | None = None) -> list[dict[str, Any]]:
        """One round over every enabled rule (of one project, or all); returns the events
        recorded (``firing``, ``resolved``). Deliveries go on in the background."""
        with self._lock:
            client = self.pool.get()
            if self._open is None:
                self._open = {
                    (a["project"], a["rule"], a["key"]): 0.0 for a in store.open_alerts(client)
                }
            now = self._clock()
            events: list[dict[str, Any]] = []
            for name in [project] if project else self.projects():
                events += self._check_project(client, name, now)
            store.add_history(client, events)
            return events

    def _check_project(self, client: Any, project: str, now: float) -> list[dict[str, Any]]:
        assert self._open is not None
        events: list[dict[str, Any]] = []
        for rule in self.rules(project):
            if not rule.enabled:
                continue
            try:
                firings = self.evaluate(client, project, rule, now)
            except Exception:  # one broken rule must not stop the others
                log.exception("alert rule %s could not be evaluated", rule.name)
                continue
            current = {f.key for f in firings}
            for f in firings:
                ident = (project, rule.name, f.key)
                last = self._open.get(ident)
                if last is not None and now - last < rule.cooldown:
                    continue  # already notified and still cooling down
                self._open[ident] = now
                event = _event(project, now, f, "firing")
                event["delivery"] = f"{len(rule.webhooks)} webhook(s)" if rule.webhooks else ""
                events.append(event)
                self._deliver(project, f, event)
            for ident in [i for i in self._open if i[:2] == (project, rule.name)]:
                if ident[2] not in current:
                    del self._open[ident]
                    back = f"{rule.name}: back within its threshold"
                    firing = Firing(rule, ident[2], 0.0, rule.threshold or 0.0, back)
                    events.append(_event(project, now, firing, "resolved"))
        return events

    def _deliver(self, project: str, firing: Firing, event: dict[str, Any]) -> None:
        rule = firing.rule
        alert = {k: event[k] for k in ("project", "rule", "key", "metric", "value", "threshold")}
        alert.update(state="firing", message=firing.message, time=_iso(event["time"] / 1000))
        text = f"agentreel alert [{project}] {firing.message}"

        def done(results: list[Delivery]) -> None:
            rows = []
            for r in results:
                state = "delivered" if r.ok else "delivery_failed"
                row = {**event, "time": int(self._clock() * 1000), "state": state}
                row["delivery"] = f"{r.url}: {r.attempts} attempt(s)" + (
                    f", {r.error}" if r.error else ""
                )
                rows.append(row)
            store.add_history(self.pool.get(), rows)

        self.notifier.submit(rule.webhooks, alert, text, done)

    def evaluate(self, client: Any, project: str, rule: Rule, now: float) -> list[Firing]:
        """What of ``rule`` is over its threshold now."""
        now_ns = int(now * NS)
        since_ns = now_ns - int(rule.window * NS)
        label = f"agent {rule.agent}" if rule.agent else "all agents"
        key = rule.agent or "*"
        if rule.metric in ("cost_daily", "cost_monthly"):
            day = datetime.fromtimestamp(now, UTC).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            start = day if rule.metric == "cost_daily" else day.replace(day=1)
            daily, monthly = self._budgets()
            limit = rule.threshold
            if limit is None:
                limit = (daily if rule.metric == "cost_daily" else monthly) or None
            if limit is None:
                return []  # no threshold and no budget: nothing to compare with
            spent = store.cost(client, project, int(start.timestamp()) * NS, now_ns, rule.agent)
            period = "today" if rule.metric == "cost_daily" else "this month"
            if spent > limit:
                msg = f"{rule.name}: ${spent:,.2f} spent {period} ({label}), over ${limit:,.2f}"
                return [Firing(rule, key, spent, limit, msg)]
            return []
        threshold = rule.threshold or 0.0
        if rule.metric == "cost_per_user":
            users = store.users_over(client, project, since_ns, now_ns, rule.agent, threshold)
            return [
                Firing(
                    rule, f"user:{user}", spent, threshold,
                    f"{rule.name}: user {user} spent ${spent:,.2f} in the last "
                    f"{rule.window / 3600:g}h ({runs} runs, {label}), over ${threshold:,.2f}",
                )
                for user, spent, runs in users
            ]  # fmt: skip
        if rule.metric in ("run_cost", "steps_per_run"):
            over = store.runs_over(
                client, project, rule.metric, since_ns, now_ns, rule.agent, threshold
            )
            what = "costs ${:,.4f}" if rule.metric == "run_cost" else "took {:.0f} steps"
            return [
                Firing(
                    rule, trace, value, threshold,
                    f"{rule.name}: run {trace} ({agent or 'no agent'}) "
                    f"{what.format(value)}, over {threshold:g}",
                )
                for trace, agent, value in over
            ]  # fmt: skip
        if rule.metric in ("error_rate", "hallucination_rate"):
            if rule.metric == "error_rate":
                runs, bad = store.error_rate(client, project, since_ns, now_ns, rule.agent)
                noun = "failed"
            else:
                found = hallucination(client, project, since_ns, now_ns, rule.agent)
                runs = sum(d["evaluated"] for d in found["daily"])
                bad = sum(d["flagged"] for d in found["daily"])
                noun = "flagged as unsupported"
            if runs < rule.min_runs or bad / runs <= threshold:
                return []
            msg = (
                f"{rule.name}: {bad} of {runs} runs {noun} ({bad / runs:.0%}, {label}), "
                f"over {threshold:.0%}"
            )
            return [Firing(rule, key, bad / runs, threshold, msg)]
        # drift_psi: each day in the window (today so far included) against the day before,
        # per agent; a flagged day is one alert (key: agent and day).
        found = drift.report(
            client, project, rule.by, 86400, since_ns, now_ns, agent=rule.agent,
            threshold=threshold, min_count=rule.min_runs,
        )  # fmt: skip
        return [
            Firing(
                rule, f"{row['agent'] or '(no agent)'}@{row['window_start'][:10]}", row["psi"],
                threshold,
                f"{rule.name}: {rule.by} routing of {row['agent'] or '(no agent)'} drifted on "
                f"{row['window_start'][:10]} (PSI {row['psi']:.2f} > {threshold:g}); moved "
                "most: " + ", ".join(
                    f"{m['choice']} {m['baseline_share']:.0%}→{m['current_share']:.0%}"
                    for m in row["top_movers"]
                ),
            )
            for row in found["flags"]
        ]  # fmt: skip

    def close(self) -> None:
        self.notifier.close()


def _event(project: str, now: float, firing: Firing, state: str) -> dict[str, Any]:
    return {
        "project": project,
        "time": int(now * 1000),
        "rule": firing.rule.name,
        "key": firing.key,
        "state": state,
        "metric": firing.rule.metric,
        "value": float(firing.value),
        "threshold": float(firing.threshold),
        "message": firing.message,
        "delivery": "",
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")
