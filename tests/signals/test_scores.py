"""Scores: the batch REST endpoint (bad entries refused one by one, the rest stored) and
scores that arrive as OTel ``gen_ai.evaluation.result`` events."""

from __future__ import annotations

import httpx

from support.otlpbuild import new_span_id, span, traces
from support.qualityruns import Run, send


def test_batch_stores_good_scores_and_names_what_is_wrong_with_the_rest(server) -> None:
    run = Run(answer="Your order shipped.")
    send(server, [run])
    t = run.trace_hex
    batch = [
        {"trace_id": t, "name": "helpfulness", "value": 0.8, "source": "human", "comment": "ok"},
        {"trace_id": t, "name": "thumbs", "value": False, "source": "user_feedback"},
        {"trace_id": t, "name": "tone", "value": "polite", "source": "llm_judge"},
        {"trace_id": t, "name": "answer", "kind": "correction", "correction": "It ships Monday",
         "source": "user_feedback"},
        {"trace_id": "f" * 32, "name": "helpfulness", "value": 1},
        {"trace_id": t, "name": "helpfulness", "value": "high", "data_type": "numeric"},
        {"trace_id": t, "name": "helpfulness", "value": 1, "source": "robot"},
        {"trace_id": t, "name": "nan", "value": 0},  # replaced by NaN below
        {"trace_id": t, "span_id": "ab" * 8, "name": "helpfulness", "value": 1},
    ]  # fmt: skip
    body = httpx.Request("POST", "/", json=batch).content.replace(
        b'"name":"nan","value":0', b'"name":"nan","value":NaN'
    )
    answer = httpx.post(
        server.url + "/api/v1/scores",
        content=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["accepted"] == 4
    errors = {r["index"]: r["error"] for r in data["rejected"]}
    assert set(errors) == {4, 5, 6, 7, 8}
    assert errors[4].startswith("trace_id: no run")
    assert errors[5] == "value: expected a number, got string"
    assert errors[6].startswith("source: must be one of")
    assert errors[7] == "value: must be a finite number, got nan"
    assert errors[8] == f"span_id: no span {'ab' * 8} in run {t}"

    stored = server.get(f"/api/v1/runs/{t}/scores")["scores"]
    by_name = {s["name"]: s for s in stored}
    assert set(by_name) == {"helpfulness", "thumbs", "tone", "answer"}
    assert by_name["helpfulness"]["value"] == 0.8 and by_name["helpfulness"]["comment"] == "ok"
    assert by_name["thumbs"]["data_type"] == "boolean"
    assert (by_name["thumbs"]["value"], by_name["thumbs"]["label"]) == (0.0, "false")
    assert by_name["tone"]["data_type"] == "categorical" and by_name["tone"]["value"] is None
    assert by_name["answer"]["kind"] == "correction"
    assert by_name["answer"]["correction"] == "It ships Monday"


def test_a_body_that_is_not_scores_is_400(server) -> None:
    answer = httpx.post(server.url + "/api/v1/scores", json="hello", timeout=30)
    assert answer.status_code == 400
    assert "score object" in answer.json()["detail"]


def test_evaluation_events_become_scores_once(server) -> None:
    event = {
        "gen_ai.evaluation.name": "relevance",
        "gen_ai.evaluation.score.value": 0.25,
        "gen_ai.evaluation.score.label": "low",
        "gen_ai.evaluation.explanation": "off topic",
        "agentreel.score.source": "llm_judge",
    }
    run = Run(root_events=[("gen_ai.evaluation.result", event)])
    send(server, [run])
    # Feedback after the run ended: an agentreel.score span, child of the scored span.
    feedback = {
        "gen_ai.evaluation.name": "thumbs",
        "gen_ai.evaluation.score.value": 1.0,
        "agentreel.score.source": "user_feedback",
        "agentreel.score.kind": "correction",
        "agentreel.score.correction": "better answer",
    }
    broken = {"gen_ai.evaluation.score.value": 1.0}  # no name: not a score
    tool_span = server.get(f"/api/v1/runs/{run.trace_hex}")["spans"][0]["span_id"]
    score_span = span(
        run.trace_id,
        new_span_id(),
        "agentreel.score",
        {"agentreel.span.kind": "evaluator"},
        parent=bytes.fromhex(tool_span),
        events=[("gen_ai.evaluation.result", feedback), ("gen_ai.evaluation.result", broken)],
    )
    body = traces([score_span]).SerializeToString()
    for _ in range(2):  # a retried export stores its scores once
        answer = httpx.post(
            server.url + "/v1/traces",
            content=body,
            headers={"content-type": "application/x-protobuf"},
            timeout=30,
        )
        assert answer.status_code == 200

    def scores(s):
        found = s.get(f"/api/v1/runs/{run.trace_hex}/scores")["scores"]
        return found if len(found) >= 2 else None

    found = {s["name"]: s for s in server.wait_for(scores, what="two scores")}
    assert len(server.get(f"/api/v1/runs/{run.trace_hex}/scores")["scores"]) == 2
    relevance, thumbs = found["relevance"], found["thumbs"]
    assert (relevance["value"], relevance["label"], relevance["source"]) == (
        0.25,
        "low",
        "llm_judge",
    )
    assert relevance["span_id"] == "" and relevance["explanation"] == "off topic"
    assert thumbs["span_id"] == tool_span and thumbs["kind"] == "correction"
    assert thumbs["correction"] == "better answer" and thumbs["source"] == "user_feedback"
    spans = server.get(f"/api/v1/runs/{run.trace_hex}")["spans"]
    warnings = [w for s in _walk(spans) for w in s["warnings"]]
    assert any("gen_ai.evaluation.name: required" in w for w in warnings), warnings


def _walk(spans):
    for s in spans:
        yield s
        yield from _walk(s["children"])
