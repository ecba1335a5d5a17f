"""Alerts: rules validated with the field named; webhook delivery to local HTTP receivers —
one that fails first and succeeds on retry, Slack's format, no duplicate within the
cooldown — and a receiver that never answers blocks no other alert."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agentreel.core import outbound
from agentreel.signals.alerting import Alerts
from agentreel.signals.notify import send
from agentreel.signals.rules import RuleError, Webhook, load_file, parse_rule
from agentreel.storage import alerts as alert_store

from support.qualityruns import Receiver, Run, write
from support.store import StorePool


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for r in made:
        r.close()


def _history(store: Any, project: str, state: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        rows = [e for e in alert_store.history(store, project) if e["state"] == state]
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_retry_slack_format_and_no_duplicate_within_cooldown(store: Any, receivers: Any) -> None:
    project = f"p-{uuid.uuid4().hex[:8]}"
    flaky, slack = Receiver(statuses=[500]), Receiver()
    receivers += [flaky, slack]
    expensive = Run(agent="billing", cost=2.5, start_ns=time.time_ns() - 60 * 10**9)
    write(store, project, [expensive, Run(agent="billing", cost=0.1)])
    rule = parse_rule(
        {
            "name": "pricey-run",
            "metric": "run_cost",
            "threshold": 1.0,
            "webhooks": [flaky.url, {"url": slack.url, "format": "slack"}],
            "cooldown": "1h",
        }
    )
    alerts = Alerts(StorePool(store), project, [rule])
    try:
        [event] = alerts.check(project)
        assert (event["state"], event["key"], event["value"]) == (
            "firing",
            expensive.trace_hex,
            2.5,
        )
        bodies = flaky.wait(2)  # the first answer was 500: retried
        assert bodies[0] == bodies[1]
        assert bodies[0]["alert"]["rule"] == "pricey-run"
        assert bodies[0]["alert"]["key"] == expensive.trace_hex
        [slack_body] = slack.wait(1)
        assert set(slack_body) == {"text"} and expensive.trace_hex in slack_body["text"]
        delivered = _history(store, project, "delivered", 2)
        assert sorted(d["delivery"].split(": ")[1] for d in delivered) == [
            "1 attempt(s)",
            "2 attempt(s)",
        ]
        assert alerts.check(project) == []  # still true, within the cooldown: not again
        assert len(flaky.bodies) == 2 and len(slack.bodies) == 1
        [open_alert] = alert_store.open_alerts(store, project)
        assert open_alert["rule"] == "pricey-run"
    finally:
        alerts.close()


def test_a_webhook_that_never_answers_blocks_no_other_alert(store: Any, receivers: Any) -> None:
    project = f"p-{uuid.uuid4().hex[:8]}"
    dead, alive = Receiver(hang=True), Receiver()
    receivers += [dead, alive]
    write(store, project, [Run(agent="a", error=True) for _ in range(3)])
    rules = [
        parse_rule({"name": "to-dead", "metric": "error_rate", "threshold": 0.5, "min_runs": 3,
                    "webhooks": [{"url": dead.url, "timeout": 0.5}]}),
        parse_rule({"name": "to-alive", "metric": "error_rate", "threshold": 0.5, "min_runs": 3,
                    "webhooks": [alive.url]}),
    ]  # fmt: skip
    alerts = Alerts(StorePool(store), project, rules)
    try:
        events = alerts.check(project)  # returns while the dead webhook still hangs
        assert {e["rule"] for e in events} == {"to-dead", "to-alive"}
        [body] = alive.wait(1)
        assert body["alert"]["rule"] == "to-alive" and body["alert"]["value"] == 1.0
        assert dead.wait(1) and not dead.release.is_set()  # reached, and still hanging
        [failed] = _history(store, project, "delivery_failed", 1)
        assert failed["rule"] == "to-dead" and "3 attempt(s)" in failed["delivery"]
    finally:
        alerts.close()


def test_cost_against_budget_and_resolution(store: Any) -> None:
    project = f"p-{uuid.uuid4().hex[:8]}"
    write(store, project, [Run(agent="x", cost=3.0), Run(agent="y", cost=1.0)])
    rules = [
        parse_rule({"name": "budget", "metric": "cost_daily"}),  # threshold = the budget
        parse_rule({"name": "agent-y", "metric": "cost_daily", "threshold": 2, "agent": "y"}),
    ]
    budget = {"daily": 2.5}
    alerts = Alerts(StorePool(store), project, rules, budgets=lambda: (budget["daily"], 0.0))
    try:
        [event] = alerts.check(project)
        assert (event["rule"], event["value"], event["threshold"]) == ("budget", 4.0, 2.5)
        budget["daily"] = 10.0
        [resolved] = alerts.check(project)
        assert (resolved["rule"], resolved["state"]) == ("budget", "resolved")
        assert alert_store.open_alerts(store, project) == []
    finally:
        alerts.close()


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"metric": "run_cost", "threshold": 1}, "name"),
        ({"name": "x", "metric": "vibes", "threshold": 1}, "metric"),
        ({"name": "x", "metric": "run_cost"}, "threshold"),
        ({"name": "x", "metric": "error_rate", "threshold": 5}, "threshold"),
        ({"name": "x", "metric": "run_cost", "threshold": -1}, "threshold"),
        ({"name": "x", "metric": "run_cost", "threshold": 1, "window": "soon"}, "window"),
        ({"name": "x", "metric": "run_cost", "threshold": 1, "webhooks": ["ftp://x"]}, "webhooks[0].url"),
        ({"name": "x", "metric": "run_cost", "threshold": 1, "webhooks": [{"url": "http://x", "format": "xml"}]}, "webhooks[0].format"),
        ({"name": "x", "metric": "run_cost", "threshold": 1, "colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_an_invalid_rule_names_the_field(rule: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(rule)
    assert str(caught.value).startswith(f"{field}:")


def test_rules_through_rest(server) -> None:
    url = server.url + "/api/v1/alerts"
    bad = httpx.post(url, json={"name": "r", "metric": "run_cost", "threshold": "lots"})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("threshold:")
    rule = {"name": f"r-{uuid.uuid4().hex[:6]}", "metric": "steps_per_run", "threshold": 50}
    assert httpx.post(url, json=rule).status_code == 200
    listed = httpx.get(url).json()
    assert rule["name"] in {r["name"] for r in listed["rules"]}
    assert httpx.post(url + "/check").status_code == 200
    assert "events" in httpx.get(url + "/history").json()
    assert httpx.delete(f"{url}/{rule['name']}").status_code == 200
    assert httpx.delete(f"{url}/{rule['name']}").status_code == 404
    assert rule["name"] not in {r["name"] for r in httpx.get(url).json()["rules"]}


def test_server_evaluates_online_and_alerts_from_its_rules_file(tmp_path: Any) -> None:
    """The background loop: finished runs are evaluated, then the rules file's rule fires to
    its webhook; a bad rules file stops the server with the field named."""
    from support.liveserver import start_server

    hook = Receiver()
    rules = tmp_path / "alerts.toml"
    rules.write_text(
        "[[rules]]\n"
        'name = "made-up-answers"\nmetric = "hallucination_rate"\nthreshold = 0.4\n'
        f'min_runs = 2\nwebhooks = ["{hook.url}"]\n'
    )
    env = {"AGENTREEL_ALERTS_FILE": str(rules), "AGENTREEL_ALERT_INTERVAL": "0.3"}
    server = start_server(tmp_path / "data", env)
    try:
        order = '{"id": "ORD-7", "total": 12.5}'
        runs = [
            Run(tools=[("get_order", order)], answer="Order ORD-7 is $12.50."),
            Run(tools=[("get_order", order)], answer="Order ORD-7 is $99.00."),
        ]
        from support.qualityruns import send

        send(server, runs)

        def evaluated(s: Any) -> bool:
            return all(
                any(
                    x["name"] == "groundedness"
                    for x in s.get(f"/api/v1/runs/{r.trace_hex}/scores")["scores"]
                )
                for r in runs
            )

        server.wait_for(evaluated, what="online evaluation")
        [body] = hook.wait(1)
        assert body["alert"]["rule"] == "made-up-answers" and body["alert"]["value"] == 0.5
        listed = server.get("/api/v1/alerts")
        assert [r["source"] for r in listed["rules"]] == ["file"]
        assert [a["rule"] for a in listed["open"]] == ["made-up-answers"]
        overview = server.get("/api/v1/overview")
        assert [a["rule"] for a in overview["open_alerts"]] == ["made-up-answers"]
    finally:
        server.stop()
        hook.close()
    rules.write_text('[[rules]]\nname = "x"\nmetric = "error_rate"\n')
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "agentreel", "serve", "--alerts-file", str(rules),
         "--data-dir", str(tmp_path / "other"), "--http-port", "0", "--grpc-port", "0"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "rule 1: threshold: required" in done.stderr


def test_webhooks_go_only_to_outbound_hosts(tmp_path: Any) -> None:
    receiver = Receiver()
    previous = outbound.configure(outbound.Policy.from_setting("", auth_on=True))
    try:
        rule = {"name": "x", "metric": "run_cost", "threshold": 1, "webhooks": [receiver.url]}
        with pytest.raises(RuleError, match=r"^webhooks\[0\]\.url: .*AGENTREEL_OUTBOUND_HOSTS"):
            parse_rule(rule)
        rules = tmp_path / "alerts.json"
        rules.write_text(json.dumps([rule]))
        with pytest.raises(RuleError, match=r"rule 1: webhooks\[0\]\.url: .*127\.0\.0\.1"):
            load_file(rules)
        # Delivery checks again: a rule made before the list narrowed sends nothing.
        delivery = send(Webhook(receiver.url), {"text": "t"}, sleep=lambda _: None)
        assert not delivery.ok and delivery.attempts == 0 and "outbound_hosts" in delivery.error
        assert receiver.bodies == []
    finally:
        outbound.configure(previous)
        receiver.close()


def test_cost_per_user_over_a_rolling_day(store: Any) -> None:
    # Langfuse's oldest open request: alert when one user costs more than $X in 24 hours.
    project = f"p-{uuid.uuid4().hex[:8]}"
    now = time.time()
    hour = 3600 * 10**9
    at = int(now * 10**9)
    write(
        store,
        project,
        [
            Run(user="ann", cost=3.0, start_ns=at - 2 * hour),
            Run(user="ann", cost=2.5, start_ns=at - 20 * hour),
            Run(user="ann", cost=9.0, start_ns=at - 30 * hour),  # outside the 24 h window
            Run(user="bob", cost=4.0, start_ns=at - hour),
            Run(cost=50.0, start_ns=at - hour),  # no user: nobody's
        ],
    )
    rule = parse_rule({"name": "per-user", "metric": "cost_per_user", "threshold": 5})
    assert rule.window == 86400
    alerts = Alerts(StorePool(store), project, [rule], clock=lambda: now)
    try:
        # ann: 3.00 + 2.50 = 5.50 in the last 24 h, over 5; bob's 4.00 is not.
        [event] = alerts.check(project)
        assert (event["key"], event["value"], event["threshold"]) == ("user:ann", 5.5, 5.0)
        assert "user ann spent $5.50 in the last 24h (2 runs" in event["message"]
        # A day later, ann's runs have left the window: resolved.
        later = Alerts(StorePool(store), project, [rule], clock=lambda: now + 86400)
        [resolved] = later.check(project)
        assert (resolved["key"], resolved["state"]) == ("user:ann", "resolved")
        later.close()
    finally:
        alerts.close()
