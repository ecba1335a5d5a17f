"""SQL injection strings in every parameter of every endpoint (read from the OpenAPI
document): each is answered exactly as a harmless unknown value is, never with more data,
never with a 500, and the stored data is intact afterwards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.apiroutes import Operation, example, operations, send
from support.liveserver import RunningServer, start_server
from support.taggedrun import send_run

INJECTIONS = (
    "' OR '1'='1",
    "x' OR 1=1 --",
    "'; DROP TABLE spans; --",
    "1) UNION ALL SELECT name FROM system.tables --",
    "{project:String}",
    "default' AND sleep(3) --",
    "\\' OR 1=1 #",
    "x\x00' OR ''='",
)
#: What a harmless value that matches nothing looks like.
CONTROL = "zz-no-such-value"
_ID = re.compile(r"\b[0-9a-f]{32}\b")


def _ids(answer: httpx.Response) -> set[str]:
    return set(_ID.findall(answer.text)) if answer.status_code == 200 else set()


def _base(op: Operation, trace_id: str) -> dict[str, Any]:
    """Values that make the operation succeed on the seeded run."""
    values: dict[str, Any] = {}
    for p in op.params:
        if p.where == "path" or p.required:
            values[p.name] = 1 if p.kind in ("integer", "number") else trace_id
        if p.kind == "enum" and p.required:
            values[p.name] = example(p.schema, lambda n, s: "")
    return values


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of this module's own: the attacks write (price overrides, scores) where
    other tests would see it."""
    running = start_server(tmp_path_factory.mktemp("injection"))
    yield running
    running.stop()


def test_injection_strings_in_every_parameter(server: RunningServer) -> None:
    seeded = send_run(server.url, "injection")
    before = server.get("/api/v1/stats")
    tried = 0
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for op in operations(server.url):
            if op.method != "GET":
                continue  # bodies: see test_injection_strings_in_request_bodies
            base = _base(op, seeded.trace_id)
            for param in op.params:
                control = send(client, op, {**base, param.name: CONTROL})
                for attack in INJECTIONS:
                    answer = send(client, op, {**base, param.name: attack})
                    where = (
                        f"{op} {param.name}={attack!r} -> {answer.status_code} {answer.text[:200]}"
                    )
                    assert answer.status_code < 500, where
                    tried += 1
                    if answer.status_code >= 400:
                        continue  # refused: an allow-list or format check said no
                    # Taken as a value: answered as any value that matches nothing is.
                    assert answer.status_code == control.status_code, where
                    assert _ids(answer) <= _ids(control), where  # never more runs than no match
    assert tried >= 100
    _intact(server, before, seeded.trace_id)


def test_injection_strings_in_request_bodies(server: RunningServer) -> None:
    seeded = send_run(server.url, "injection-body")
    before = server.get("/api/v1/stats")
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for op in operations(server.url):
            if op.body is None and op.method == "GET":
                continue
            # An unknown run: whatever the body says, nothing may be read or sent for it.
            base = _base(op, "0" * 32)
            for attack in INJECTIONS:
                body = example(op.body, lambda name, schema, a=attack: a, every_property=True)
                for sent in (body, attack):
                    answer = send(client, op, base, body=sent)
                    where = f"{op} body {sent!r} -> {answer.status_code} {answer.text[:200]}"
                    assert answer.status_code < 500, where
                    assert seeded.trace_id not in answer.text, where  # it named no such run
    _intact(server, before, seeded.trace_id)


def _intact(server: RunningServer, before: dict[str, Any], trace_id: str) -> None:
    after = server.get("/api/v1/stats")
    assert (after["spans"], after["runs"], after["llm_calls"]) == (
        before["spans"],
        before["runs"],
        before["llm_calls"],
    )
    run = server.get(f"/api/v1/runs/{trace_id}")
    assert run["run"]["llm_calls"] == 2
    assert len(server.get(f"/api/v1/runs/{trace_id}/llm-calls")["llm_calls"]) == 2
