"""Evaluators: groundedness with supported and unsupported numbers, ids, dates and names;
the LLM judge against the fake provider; rule checks; the hallucination rate per day with
its sample size — over a real store."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agentreel.server.routes.quality import router
from agentreel.signals.groundedness import check, claims
from agentreel.signals.judge import Judge

from support.fakeprovider import Answer, FakeProvider
from support.qualityruns import Run, write
from support.store import StorePool

ORDER = {
    "order_id": "ORD-88213",
    "total": 1250.0,
    "shipped": "2026-03-15",
    "carrier": "Acme Freight",
}


@pytest.mark.parametrize(
    ("answer", "unsupported"),
    [
        ('Order ORD-88213 ($1,250.00) shipped on March 15, 2026 with "Acme Freight".', []),
        ("Order ORD-88213 ($1,350.00) shipped on 2026-03-15.", ["$1,350.00"]),
        ("Order ORD-88231 shipped 15 March 2026.", ["ORD-88231"]),
        ('It shipped on 2026-03-16 with "Zenith Cargo".', ["2026-03-16", '"Zenith Cargo"']),
        ("Your refund of 1250 EUR is 12% of the order.", ["12%"]),
        ("I checked 3 systems and all is fine.", []),  # small counts are not claims
    ],
)
def test_groundedness_flags_claims_in_no_evidence(answer: str, unsupported: list[str]) -> None:
    import json

    verdict = check(answer, [json.dumps(ORDER), "Where is order ORD-88213?"])
    assert [c.text for c in verdict.unsupported] == unsupported
    assert verdict.grounded == (not unsupported)


def test_claims_are_found_once_each() -> None:
    found = claims("Pay $40 now; $40 later, ref INV-2026-001 and INV-2026-001.")
    assert [(c.kind, c.text) for c in found] == [("amount", "$40"), ("id", "INV-2026-001")]


@pytest.fixture
def quality_api(store: Any) -> Iterator[tuple[TestClient, str, dict[str, Any]]]:
    project = f"p-{uuid.uuid4().hex[:8]}"
    judge: dict[str, Any] = {"judge": None}
    app = FastAPI()
    app.include_router(router(StorePool(store), lambda: project, lambda: judge["judge"]))
    with TestClient(app) as client:
        yield client, project, judge


def _runs(store: Any, project: str) -> dict[str, Run]:
    day = 86_400 * 10**9
    now = time.time_ns()
    runs = {
        "grounded": Run(
            tools=[("get_order", ORDER)],
            answer="Order ORD-88213 ($1,250.00) shipped March 15, 2026.",
            start_ns=now - 2 * day,
        ),
        "invented": Run(
            tools=[("get_order", ORDER)],
            answer="Order ORD-88213 was refunded $980.00 on 2026-03-20.",
            start_ns=now - 2 * day + 10**9,
        ),
        "long": Run(
            tools=[("search", f"result {i}") for i in range(6)],
            answer="Nothing found.",
            start_ns=now - day,
            escalation="customer asked for a human",
        ),
        "unanswered": Run(tools=[("get_order", ORDER)], answer=None, start_ns=now - day),
    }
    write(store, project, list(runs.values()))
    return runs


def test_evaluate_runs_and_hallucination_rate_per_day(store: Any, quality_api: Any) -> None:
    client, project, _ = quality_api
    runs = _runs(store, project)
    answer = client.post("/api/v1/eval", json={"trace_ids": [r.trace_hex for r in runs.values()]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["evaluated"] == 4
    scores = {
        name: {
            s["name"]: s for s in client.get(f"/api/v1/runs/{r.trace_hex}/scores").json()["scores"]
        }
        for name, r in runs.items()
    }
    assert scores["grounded"]["groundedness"]["value"] == 1.0
    invented = scores["invented"]["groundedness"]
    assert invented["value"] == 0.0 and invented["source"] == "heuristic"
    assert "$980.00" in invented["explanation"] and "2026-03-20" in invented["explanation"]
    assert "groundedness" not in scores["unanswered"]  # no answer: nothing to ground
    assert scores["unanswered"]["rule.answered"]["label"] == "no_answer"
    assert scores["grounded"]["rule.answered"]["value"] == 1.0
    assert scores["long"]["rule.max_steps"]["label"] == "over"  # 7 LLM + 6 tool steps
    assert scores["grounded"]["rule.max_steps"]["label"] == "ok"
    assert scores["long"]["rule.escalation"]["label"] == "escalated"
    assert "customer asked for a human" in scores["long"]["rule.escalation"]["explanation"]

    # Evaluating again replaces the verdicts rather than adding to them.
    client.post("/api/v1/eval", json={"trace_ids": [runs["invented"].trace_hex]})
    again = client.get(f"/api/v1/runs/{runs['invented'].trace_hex}/scores").json()["scores"]
    assert len(again) == len(scores["invented"])

    daily = client.get("/api/v1/quality/daily").json()["hallucination"]
    by_day = {d["day"]: d for d in daily["daily"]}
    two_days_ago = sorted(by_day)[0]
    assert (by_day[two_days_ago]["evaluated"], by_day[two_days_ago]["flagged"]) == (2, 1)
    assert by_day[two_days_ago]["rate"] == 0.5
    assert [r["trace_id"] for r in daily["flagged_runs"]] == [runs["invented"].trace_hex]
    rows = [r for r in daily["rows"] if r["day"] == two_days_ago]
    assert rows == [
        {
            "day": two_days_ago,
            "agent": "support",
            "model": "gpt-4o",
            "evaluated": 2,
            "flagged": 1,
            "unchecked": 0,
            "rate": 0.5,
            "unchecked_share": 0.0,
        }
    ]
    # "Nothing found." has nothing to check: unchecked, with no value, in no rate's n.
    long = scores["long"]["groundedness"]
    assert (long["label"], long["value"], long["data_type"]) == ("unchecked", None, "categorical")
    yesterday = sorted(by_day)[1]
    assert by_day[yesterday] | {"day": ""} == {
        "day": "", "evaluated": 0, "flagged": 0, "unchecked": 1, "rate": None,
        "unchecked_share": 1.0,
    }  # fmt: skip
    unknown = client.post("/api/v1/eval", json={"trace_ids": [], "evaluators": ["vibes"]})
    assert unknown.status_code == 400 and "vibes" in unknown.json()["detail"]


def test_judge_asks_an_openai_compatible_endpoint(store: Any, quality_api: Any) -> None:
    client, project, judge = quality_api
    runs = _runs(store, project)
    verdict = (
        '{"score": 0, "label": "unsupported", "explanation": "the refund is not in the evidence"}'
    )
    with FakeProvider([Answer(verdict)]) as fake:
        judge["judge"] = Judge(fake.openai_base_url, "judge-model", api_key="sk-test")
        answer = client.post(
            "/api/v1/eval",
            json={"trace_ids": [runs["invented"].trace_hex], "evaluators": ["judge"]},
        )
        assert answer.status_code == 200, answer.text
        [exchange] = fake.exchanges
    sent = exchange.body["messages"][0]["content"]
    assert exchange.body["model"] == "judge-model"
    assert "refunded $980.00" in sent and "ORD-88213" in sent and "1250" in sent
    assert exchange.headers["authorization"] == "Bearer sk-test"
    [score] = client.get(f"/api/v1/runs/{runs['invented'].trace_hex}/scores").json()["scores"]
    assert (score["name"], score["source"], score["value"]) == ("judge", "llm_judge", 0.0)
    assert score["explanation"] == "the refund is not in the evidence"


def test_a_judge_that_fails_is_reported_and_other_evaluators_still_score(
    store: Any, quality_api: Any
) -> None:
    client, project, judge = quality_api
    runs = _runs(store, project)
    with FakeProvider([Answer("I think it is fine")]) as fake:  # no JSON verdict
        judge["judge"] = Judge(fake.openai_base_url, "judge-model")
        data = client.post("/api/v1/eval", json={"trace_ids": [runs["grounded"].trace_hex]}).json()
    assert any("no JSON verdict" in e for e in data["errors"]), data
    names = {s["name"] for s in data["runs"][0]["scores"]}
    assert "groundedness" in names and "judge" not in names


def test_a_detectors_hallucination_score_counts_when_high(store: Any, quality_api: Any) -> None:
    client, project, _ = quality_api

    def event(value: float) -> tuple[str, dict[str, Any]]:
        return ("gen_ai.evaluation.result", {"gen_ai.evaluation.name": "hallucination",
                "gen_ai.evaluation.score.value": value, "agentreel.score.source": "llm_judge"})  # fmt: skip

    bad, fine = Run(root_events=[event(1.0)]), Run(root_events=[event(0.0)])
    write(store, project, [bad, fine])
    daily = client.get("/api/v1/quality/daily").json()["hallucination"]
    assert [(d["evaluated"], d["flagged"]) for d in daily["daily"]] == [(2, 1)]
    assert [r["trace_id"] for r in daily["flagged_runs"]] == [bad.trace_hex]
    assert daily["flagged_runs"][0]["by"] == ["hallucination"]


def test_rates_are_over_checked_runs_and_a_person_decides(store: Any, quality_api: Any) -> None:
    """Five runs today: grounded, invented, claimless, invented but a person says it is
    fine, grounded but the user corrected it. By hand: 4 checked (the claimless one is
    unchecked), 2 flagged (invented, corrected), rate 2/4, unchecked share 1/5."""
    client, project, _ = quality_api
    order = [("get_order", ORDER)]
    runs = {
        "grounded": Run(tools=order, answer="ORD-88213 totals $1,250.00."),
        "invented": Run(tools=order, answer="ORD-88213 totals $1,520.00."),
        "claimless": Run(tools=order, answer="Happy to help with that!"),
        "overruled": Run(tools=order, answer="ORD-88213 went with Zenith Cargo."),
        "corrected": Run(tools=order, answer="ORD-88213 shipped on March 15, 2026."),
    }
    write(store, project, list(runs.values()))
    ids = {name: r.trace_hex for name, r in runs.items()}
    assert client.post("/api/v1/eval", json={"trace_ids": list(ids.values())}).status_code == 200
    people = [
        {"trace_id": ids["overruled"], "name": "hallucination", "value": 0.0, "source": "human"},
        {"trace_id": ids["corrected"], "name": "user_feedback", "kind": "correction",
         "correction": "It shipped on March 16.", "source": "user_feedback"},
    ]  # fmt: skip
    assert client.post("/api/v1/scores", json=people).json()["accepted"] == 2

    today = client.get("/api/v1/quality/daily").json()["hallucination"]["daily"][-1]
    assert (today["evaluated"], today["flagged"], today["unchecked"]) == (4, 2, 1)
    assert today["rate"] == 0.5 and today["unchecked_share"] == 0.2
    report = client.get("/api/v1/report/daily").json()["hallucination"]
    assert (report["evaluated"], report["flagged"], report["unchecked"]) == (4, 2, 1)
    assert report["rate"] == 0.5 and report["unchecked_share"] == 0.2
    text = client.get("/api/v1/report/daily", params={"format": "text"}).text
    assert "50.0% (2 of 4 checked runs flagged); 1 more unchecked (20%" in text

    def verdict(name: str) -> dict[str, Any]:
        return client.get(f"/api/v1/runs/{ids[name]}/scores").json()["hallucination"]

    assert verdict("claimless")["verdict"] == "unchecked"
    invented = verdict("invented")
    assert invented["verdict"] == "flagged"
    assert invented["decided_by"] == [{"name": "groundedness", "source": "heuristic"}]
    assert invented["unsupported"] == [
        {"kind": "amount", "text": "$1,520.00", "evidence": "total: 1250.0"}
    ]
    overruled = verdict("overruled")
    assert overruled["verdict"] == "grounded"
    assert overruled["decided_by"] == [{"name": "hallucination", "source": "human"}]
    assert [c["text"] for c in overruled["unsupported"]] == ["Zenith Cargo"]
    corrected = verdict("corrected")
    assert corrected["verdict"] == "flagged"
    assert corrected["decided_by"] == [{"name": "user_feedback", "source": "user_feedback"}]
