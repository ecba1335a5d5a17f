"""Assemble quality signals for the server from settings: the judge, the alert rules and the
background loop that evaluates runs and fires alerts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentreel.settings import Settings
from agentreel.signals.alerting import Alerts
from agentreel.signals.background import OnlineEvaluator, SignalsLoop
from agentreel.signals.judge import DEFAULT_PROMPT, Judge
from agentreel.signals.rules import load_file


@dataclass
class Signals:
    judge: Judge | None
    alerts: Alerts
    loop: SignalsLoop

    def evaluation(self, project: str) -> tuple[float, int]:
        """The online evaluation's sample rate and the runs of ``project`` it has still to
        evaluate."""
        evaluator = self.loop.evaluator
        return evaluator.rate, evaluator.pending(project)

    def stop(self) -> None:
        self.loop.stop()


def judge_from(settings: Settings) -> Judge | None:
    """The LLM judge when ``judge_url`` is set, with the prompt of ``judge_prompt`` if any."""
    if not settings.judge_url:
        return None
    prompt = Path(settings.judge_prompt).read_text() if settings.judge_prompt else DEFAULT_PROMPT
    return Judge(settings.judge_url, settings.judge_model, settings.judge_api_key, prompt)


def budgets(settings: Settings) -> tuple[float, float]:
    """Daily and monthly budgets (USD; 0 = none)."""
    return settings.budget_daily_usd, settings.budget_monthly_usd


def start(settings: Settings, pool: Any) -> Signals:
    """Build and start the background loop (raises ``RuleError`` for a bad alerts file)."""
    rules = load_file(settings.alerts_file) if settings.alerts_file else []
    judge = judge_from(settings)

    alerts = Alerts(pool, settings.project, rules, lambda: budgets(settings))
    interval = settings.alert_interval
    evaluator = OnlineEvaluator(pool, settings.eval_sample_rate, judge, settle=min(interval, 30.0))
    loop = SignalsLoop(evaluator, alerts, interval)
    loop.start()
    return Signals(judge, alerts, loop)
