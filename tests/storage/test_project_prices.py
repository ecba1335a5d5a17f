"""Price overrides per project: a real server with auth on and two projects with a key each.
One project's overrides price its own calls (new and repriced) and never another's; the
server's price file applies to both."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.cli import agentreel_on
from support.liveserver import start_server
from support.otlpbuild import new_span_id, new_trace_id, span, traces
from support.tenants import Tenants

MILLION = 1_000_000
#: Each run makes one call of each: 1M input and 1M output tokens.
MODELS = ("gpt-4o", "mystery-x", "house-model")
#: USD per run: gpt-4o shipped (2.5 + 10), mystery-x unknown, house-model the server file's.
SHIPPED_RUN = 12.5 + 0 + 14.0
#: Alpha's overrides: gpt-4o 1 + 1, mystery-x 2 + 3, house-model 4 + 4 (wins over the file).
ALPHA_RUN = 2.0 + 5.0 + 8.0


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    data = tmp_path_factory.mktemp("prices")
    keys = {}
    for project in ("alpha", "beta"):
        agentreel_on(data, "projects", "create", project)
        keys[project] = json.loads(
            agentreel_on(data, "keys", "create", "--project", project, "--json")
        )["key"]
    # The operator's server-wide overrides.
    house = {"model": "house-model", "provider": "openai", "input": 7, "output": 7}
    (data / "prices.json").write_text(json.dumps({"models": [house]}))
    server = start_server(data, {"AGENTREEL_AUTH": "on"})
    try:
        yield Tenants(server, keys, {})
    finally:
        server.stop()


def _send_run(t: Tenants, project: str, start_ns: int) -> str:
    trace, root = new_trace_id(), new_span_id()
    calls = [
        span(
            trace,
            new_span_id(),
            f"chat {model}",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": model,
                "gen_ai.usage.input_tokens": MILLION,
                "gen_ai.usage.output_tokens": MILLION,
            },
            parent=root,
            start_ns=start_ns + i * 1000,
        )
        for i, model in enumerate(MODELS)
    ]
    agent = span(trace, root, "invoke_agent", {"gen_ai.agent.name": "a"}, start_ns=start_ns)
    request = traces([agent, *calls])
    answer = httpx.post(
        t.server.url + "/v1/traces",
        content=request.SerializeToString(),
        headers={"content-type": "application/x-protobuf", **t.headers(project)},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return trace.hex()


def _get(t: Tenants, project: str, path: str) -> Any:
    answer = httpx.get(t.server.url + path, headers=t.headers(project), timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _run_cost(t: Tenants, project: str, trace_id: str) -> float:
    return float(_get(t, project, f"/api/v1/runs/{trace_id}")["run"]["cost_usd"])


def _overrides(t: Tenants, project: str) -> dict[str, tuple[float, float]]:
    listed = _get(t, project, "/api/v1/prices")["models"]
    return {m["model"]: (m["input"], m["output"]) for m in listed if m["override"]}


def _reprice(t: Tenants, project: str, since_ns: int) -> dict[str, Any]:
    body = {"since": str(since_ns / 1e9), "until": str(time.time() + 60)}
    answer = httpx.post(
        t.server.url + "/api/v1/prices/reprice", json=body, headers=t.headers(project), timeout=60
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_projects_overrides_price_only_its_calls(tenants: Tenants) -> None:
    t = tenants
    start = time.time_ns() - 3600 * 10**9
    old = {p: _send_run(t, p, start) for p in ("alpha", "beta")}
    assert [_run_cost(t, p, old[p]) for p in old] == pytest.approx([SHIPPED_RUN] * 2)
    house = {"house-model": (7.0, 7.0)}
    assert _overrides(t, "alpha") == _overrides(t, "beta") == house

    entries = [
        {"model": "gpt-4o", "provider": "openai", "input": 1, "output": 1},
        {"model": "mystery-x", "input": 2, "output": 3},
        {"model": "house-model", "input": 4, "output": 4},
    ]
    put = httpx.put(
        t.server.url + "/api/v1/prices/overrides",
        json=entries,
        headers=t.headers("alpha"),
        timeout=60,
    )
    assert put.status_code == 200, put.text
    # Alpha sees the file's override and its own (its own listed last, and in force).
    assert [m["model"] for m in put.json()["models"] if m["override"]] == [
        "house-model",
        "gpt-4o",
        "house-model",
        "mystery-x",
    ]
    mine = _get(t, "alpha", "/api/v1/prices/overrides")["models"]
    assert sorted(m["model"] for m in mine) == ["gpt-4o", "house-model", "mystery-x"]
    assert _get(t, "beta", "/api/v1/prices/overrides")["models"] == []
    assert _overrides(t, "beta") == house

    # New calls: alpha's at its prices, beta's at the shipped and server ones.
    new = {p: _send_run(t, p, time.time_ns()) for p in ("alpha", "beta")}
    assert _run_cost(t, "alpha", new["alpha"]) == pytest.approx(ALPHA_RUN)
    assert _run_cost(t, "beta", new["beta"]) == pytest.approx(SHIPPED_RUN)

    # Reprice: alpha's stored run follows its prices; beta's stays, and beta's reprice
    # (with beta's table) finds nothing to change.
    done = _reprice(t, "alpha", start - 10**9)
    assert (done["changed"], done["unknown"], done["runs_corrected"]) == (3, 0, 1)
    assert _run_cost(t, "alpha", old["alpha"]) == pytest.approx(ALPHA_RUN)
    assert _run_cost(t, "beta", old["beta"]) == pytest.approx(SHIPPED_RUN)
    assert _reprice(t, "beta", start - 10**9)["changed"] == 0
    assert _run_cost(t, "beta", old["beta"]) == pytest.approx(SHIPPED_RUN)

    # Models without a price: beta's two mystery calls, none of alpha's.
    assert _get(t, "alpha", "/api/v1/prices/unknown")["models"] == []
    unknown = _get(t, "beta", "/api/v1/prices/unknown")["models"]
    assert [(m["model"], m["llm_calls"]) for m in unknown] == [("mystery-x", 2)]
    assert "gpt-4o" not in Path(t.server.data_dir / "prices.json").read_text()
