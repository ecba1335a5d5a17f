"""The Quality page and the run page on groundedness (issue 21), rendered with Streamlit's
AppTest against a live server: the rate over checked runs with its n, the unchecked share
and the detector's measured precision and recall beside it; a run's verdict, which signal
decided it, and each unsupported claim with the evidence value it was compared with."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from streamlit.testing.v1 import AppTest

from agentreel.dashboard.ui import count, percent

from support.dashboard import render
from support.liveserver import RunningServer, start_server
from support.qualityruns import Run, send

ORDER = '{"order_id": "ORD-4410", "total": 88.5, "status": "pending"}'
#: What ``bench/groundedness.py --write`` stored, read here as a file (not through agentreel).
QUALITY = Path(__file__).parents[2] / "signals" / "groundedness_quality.json"


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningServer, dict[str, Run]]]:
    server = start_server(tmp_path_factory.mktemp("ground"), {"AGENTREEL_EVAL_SAMPLE_RATE": "0"})
    try:
        sent = {
            "grounded": Run(tools=[("get_order", ORDER)], answer="ORD-4410 totals $88.50."),
            "inverted": Run(tools=[("get_order", ORDER)], answer="ORD-4410 ($95.00) has shipped."),
            "claimless": Run(tools=[("get_order", ORDER)], answer="Glad to help!"),
        }
        send(server, list(sent.values()))
        ids = [r.trace_hex for r in sent.values()]
        evaluated = httpx.post(f"{server.url}/api/v1/eval", json={"trace_ids": ids}, timeout=60)
        assert evaluated.status_code == 200, evaluated.text
        yield server, sent
    finally:
        server.stop()


def test_quality_page_rate_is_over_checked_runs_with_the_detectors_quality(
    runs: tuple[RunningServer, dict[str, Run]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = runs
    at = render(server.url, monkeypatch, page="quality")
    shown = {m.label: m.value for m in at.metric}
    # by hand: 2 checked (grounded, inverted), 1 flagged, 1 of 3 unchecked
    assert shown["Hallucination rate"] == percent(1 / 2)
    assert shown["Runs checked (n)"] == count(2)
    assert shown["Runs flagged"] == count(1)
    assert shown["Unchecked"] == percent(1 / 3)
    captions = " ".join(c.value for c in at.caption)
    if not QUALITY.exists():  # a checkout where the bench has not stored its figures
        assert "precision and recall have not been measured" in captions
        return
    sets = orjson.loads(QUALITY.read_bytes())["sets"]
    stored = sets.get("holdout") or sets["dev"]
    assert f"{percent(stored['recall'])} of hallucinated answers (recall)" in captions
    assert f"{percent(stored['precision'])} of its flags are right (precision)" in captions


def _texts(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def test_run_page_lists_unsupported_claims_with_their_evidence(
    runs: tuple[RunningServer, dict[str, Run]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, sent = runs
    at = render(server.url, monkeypatch, page="runs", run=sent["inverted"].trace_hex)
    assert "Hallucination flagged" in _texts(at)
    assert "decided by groundedness (heuristic)" in _texts(at)
    [claims] = [d.value for d in at.dataframe if "evidence had" in d.value.columns]
    rows = {(r["claim"], r["kind"], r["evidence had"]) for _, r in claims.iterrows()}
    assert rows == {("$95.00", "amount", "total: 88.5"), ("shipped", "status", "status: pending")}
    at = render(server.url, monkeypatch, page="runs", run=sent["claimless"].trace_hex)
    assert "**Unchecked**" in _texts(at)
