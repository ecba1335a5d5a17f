"""The daily report: one UTC day's cost against budget and the day before, top agents and
models by cost, failures, drift flags, the hallucination rate and escalations — built from
the store (:func:`build`) and rendered as text or Markdown (:func:`render`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from agentreel.storage import daily

from . import drift
from .evaluators import hallucination
from .groundedness import measured_quality

NS = 10**9
TOP = 5


def _ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * NS


def build(
    client: Any, project: str, day: date, budgets: tuple[float, float] = (0.0, 0.0)
) -> dict[str, Any]:
    """The report of ``day`` (UTC) as JSON-ready data."""
    start, end = _ns(day), _ns(day + timedelta(days=1))
    before = _ns(day - timedelta(days=1))
    agents = daily.by_agent(client, project, start, end)
    previous = daily.by_agent(client, project, before, start)
    month = daily.by_agent(client, project, _ns(day.replace(day=1)), end)
    cost = sum(a["cost_usd"] for a in agents)
    runs = sum(a["runs"] for a in agents)
    failed = sum(a["failed_runs"] for a in agents)
    flags = []
    for by in ("tool", "model", "decision"):
        found = drift.report(client, project, by, 86400, start, end)
        flags += [
            {"by": by, "agent": f["agent"], "psi": f["psi"], "top_movers": f["top_movers"]}
            for f in found["flags"]
        ]
    halluc = hallucination(client, project, start, end)
    evaluated = sum(d["evaluated"] for d in halluc["daily"])
    flagged = sum(d["flagged"] for d in halluc["daily"])
    unchecked = sum(d["unchecked"] for d in halluc["daily"])
    daily_budget, monthly_budget = budgets
    return {
        "project": project,
        "day": day.isoformat(),
        "cost": {
            "usd": cost,
            "previous_day_usd": sum(a["cost_usd"] for a in previous),
            "daily_budget_usd": daily_budget or None,
            "month_usd": sum(a["cost_usd"] for a in month),
            "monthly_budget_usd": monthly_budget or None,
        },
        "runs": runs,
        "failed_runs": failed,
        "error_rate": failed / runs if runs else None,
        "top_agents": agents[:TOP],
        "top_models": daily.by_model(client, project, start, end)[:TOP],
        "failures": daily.failures(client, project, start, end),
        "drift_flags": flags,
        "hallucination": {
            # The rate is over checked runs (``evaluated``, its n); runs the check found
            # nothing to check in are counted apart, so they neither pass nor dilute it.
            "evaluated": evaluated,
            "flagged": flagged,
            "rate": flagged / evaluated if evaluated else None,
            "unchecked": unchecked,
            "unchecked_share": unchecked / (evaluated + unchecked)
            if evaluated + unchecked
            else None,
            "detector": measured_quality(),
            "flagged_runs": [r["trace_id"] for r in halluc["flagged_runs"][:TOP]],
        },
        "escalations": daily.escalations(client, project, start, end),
    }


def render(report: dict[str, Any], markdown: bool = False) -> str:
    """The report as plain text, or Markdown for chat tools and issues."""

    def h(title: str) -> str:
        return f"### {title}" if markdown else f"{title}:"

    item = "- " if markdown else "  "
    c = report["cost"]
    lines = [
        f"# agentreel daily report — {report['day']} ({report['project']})"
        if markdown
        else f"agentreel daily report — {report['day']} (project {report['project']})",
        "",
        h("Cost"),
        f"{item}${c['usd']:,.2f} spent"
        + (f" of a ${c['daily_budget_usd']:,.2f} daily budget ({_pct(c['usd'], c['daily_budget_usd'])})"
           if c["daily_budget_usd"] else " (no daily budget set)")
        + f"; the day before: ${c['previous_day_usd']:,.2f} ({_change(c['usd'], c['previous_day_usd'])})",
        f"{item}month so far: ${c['month_usd']:,.2f}"
        + (f" of ${c['monthly_budget_usd']:,.2f}" if c["monthly_budget_usd"] else ""),
        "",
        h("Top agents by cost"),
        *[f"{item}{a['agent'] or '(no agent)'}: ${a['cost_usd']:,.2f}, {a['runs']} runs, "
          f"{a['failed_runs']} failed" for a in report["top_agents"]],
        *([] if report["top_agents"] else [f"{item}no runs"]),
        "",
        h("Top models by cost"),
        *[f"{item}{m['model'] or '(unknown)'}: ${m['cost_usd']:,.2f}, {m['llm_calls']} calls"
          for m in report["top_models"]],
        *([] if report["top_models"] else [f"{item}no LLM calls"]),
        "",
        h("Failures"),
        f"{item}{report['failed_runs']} of {report['runs']} runs failed"
        + (f" ({report['error_rate']:.1%})" if report["error_rate"] is not None else ""),
        *[f"{item}{f['kind']} {f['error']}: {f['errors']} errors in {f['runs']} runs"
          for f in report["failures"]],
        "",
        h("Routing drift"),
        *[f"{item}{f['agent'] or '(no agent)'} {f['by']} choices drifted (PSI {f['psi']:.2f}): "
          + ", ".join(f"{m['choice']} {m['baseline_share']:.0%}→{m['current_share']:.0%}"
                      for m in f["top_movers"])
          for f in report["drift_flags"]],
        *([] if report["drift_flags"] else [f"{item}no drift flagged"]),
        "",
        h("Hallucination rate"),
        _hallucination(report["hallucination"], item),
        "",
        h("Escalations"),
        *[f"{item}{e['count']} × {e['reason'] or '(no reason)'}"
          + (f" → {e['target']}" if e["target"] else "") for e in report["escalations"]],
        *([] if report["escalations"] else [f"{item}none"]),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def _hallucination(h: dict[str, Any], item: str) -> str:
    unchecked = h.get("unchecked") or 0
    if not h["evaluated"]:
        text = f"{item}no runs checked"
        return text + (f" ({unchecked} unchecked: nothing in them to check)" if unchecked else "")
    text = f"{item}{h['rate']:.1%} ({h['flagged']} of {h['evaluated']} checked runs flagged)"
    if unchecked:
        text += f"; {unchecked} more unchecked ({h['unchecked_share']:.0%}, nothing to check)"
    if h["flagged_runs"]:
        text += "; e.g. " + ", ".join(h["flagged_runs"])
    detector = h.get("detector")
    if detector and detector.get("precision") is not None:
        text += (
            f"\n{item}detector measured on {detector['n']} labelled answers: precision "
            f"{detector['precision']:.0%}, recall {detector['recall']:.0%}"
        )
    return text


def _pct(value: float, of: float) -> str:
    return f"{value / of:.0%}"


def _change(now: float, before: float) -> str:
    if not before:
        return "no spend" if not now else "new spend"
    return f"{(now - before) / before:+.0%}"
