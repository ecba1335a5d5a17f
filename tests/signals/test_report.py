"""``agentreel eval`` and ``agentreel report --daily`` against a live server: evaluation
with progress, and the day's summary printed and sent to a webhook."""

from __future__ import annotations

import uuid
from typing import Any

from agentreel.cli import main

from support.qualityruns import Receiver, Run, send

ORDER = '{"order_id": "ORD-4410", "total": 88.5}'


def test_eval_then_daily_report(server, capsys: Any) -> None:
    agent = f"agent-{uuid.uuid4().hex[:6]}"
    good = Run(
        agent=agent, tools=[("get_order", ORDER)], answer="ORD-4410 totals $88.50.", cost=0.4
    )
    invented = Run(
        agent=agent,
        tools=[("get_order", ORDER)],
        answer="ORD-4410 totals $95.00.",
        cost=0.2,
        escalation="angry customer",
    )
    failed = Run(agent=agent, error=True, answer=None, cost=0.1)  # fmt: skip
    send(server, [good, invented, failed])

    ids = [a for r in (good, invented, failed) for a in ("--run", r.trace_hex)]
    assert main(["eval", "--api-url", server.url, *ids]) == 0
    out = capsys.readouterr()
    assert "evaluated 3/3 runs" in out.err
    assert "groundedness" in out.out and "unsupported 1" in out.out
    assert f"{invented.trace_hex}  groundedness:" in out.out and "$95.00" in out.out

    hook = Receiver()
    try:
        code = main(["report", "--api-url", server.url, "--daily", "--format", "markdown",
                     "--webhook", hook.url])  # fmt: skip
        assert code == 0
        text = capsys.readouterr().out
        [sent] = hook.wait(1)
    finally:
        hook.close()
    assert text.startswith("# agentreel daily report")
    # cost is per LLM call: two calls of 0.4, two of 0.2, none for the failed run
    assert f"- {agent}: $1.20, 3 runs, 1 failed" in text
    assert "### Hallucination rate" in text and "checked runs flagged" in text
    assert "angry customer → human" in text
    assert sent == {"text": text}


def test_report_of_a_bad_day_is_refused(server, capsys: Any) -> None:
    assert main(["report", "--api-url", server.url, "--daily", "--day", "someday"]) == 1
    assert "day must be a date" in capsys.readouterr().err
