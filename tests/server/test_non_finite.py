"""NaN, Infinity and -Infinity on every REST route: 400 naming the field, nothing changed.

Python's JSON reader (FastAPI's) takes the literals ``NaN``, ``Infinity`` and ``-Infinity``,
and float query parameters take ``nan`` and ``inf``. Every number-typed parameter and body
field of the server's own OpenAPI document is covered (the test fails on a new one), and so
are the routes where such a number once reached a string field and gave a 500.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support.liveserver import RunningServer

NON_FINITE = ["NaN", "Infinity", "-Infinity"]
TRACE = "0" * 31 + "1"
PRICE = '{"model": "m-finite", "input": 1.0, "output": 2.0}'

#: (method, path, body or query, the field the 400 must name); ``{x}`` is the bad number.
BODIES: list[tuple[str, str, str, str]] = [
    ("PUT", "/api/v1/prices/overrides", '[{"model": "m", "input": {x}, "output": 1}]', "input"),
    ("PUT", "/api/v1/prices/overrides", '[{"model": "m", "input": 1, "output": {x}}]', "output"),
    (
        "PUT",
        "/api/v1/prices/overrides",
        '[{"model": "m", "input": 1, "output": 1, "cache_read": {x}}]',
        "cache_read",
    ),
    (
        "PUT",
        "/api/v1/prices/overrides",
        '[{"model": "m", "input": 1, "output": 1, "cache_write": {x}}]',
        "cache_write",
    ),
    (
        "PUT",
        "/api/v1/prices/overrides",
        '[{"model": "m", "input": 1, "output": 1, "reasoning": {x}}]',
        "reasoning",
    ),
    (
        "POST",
        f"/api/v1/runs/{TRACE}/llm-calls/1/resend",
        '{"base_url": "http://127.0.0.1:9/v1", "timeout": {x}}',
        "timeout",
    ),
    ("POST", "/api/v1/eval", '{"trace_ids": [{x}]}', "trace_ids[0]"),
    ("POST", "/api/v1/prices/reprice", '{"since": {x}, "until": "2026-11-22"}', "since"),
    ("POST", "/api/v1/prices/reprice", '{"since": "2026-11-21", "until": {x}}', "until"),
]
#: Number-typed query parameters: (path, parameter).
QUERIES = [("/api/v1/drift", "threshold")]


@pytest.mark.parametrize("number", NON_FINITE)
@pytest.mark.parametrize(("method", "path", "body", "field"), BODIES)
def test_a_non_finite_number_in_a_body_is_400_naming_the_field(
    server: RunningServer, method: str, path: str, body: str, field: str, number: str
) -> None:
    before = server.get("/api/v1/prices/overrides")
    answer = httpx.request(
        method,
        server.url + path,
        content=body.replace("{x}", number),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert detail.endswith(f"{field}: must be a finite number (not NaN or ±Infinity)"), detail
    assert server.get("/api/v1/prices/overrides") == before


def test_a_finite_price_still_goes_through(server: RunningServer) -> None:
    answer = httpx.put(
        server.url + "/api/v1/prices/overrides",
        content=f"[{PRICE}]",
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert [p["model"] for p in server.get("/api/v1/prices/overrides")["models"]] == ["m-finite"]
    httpx.put(server.url + "/api/v1/prices/overrides", json=[], timeout=30).raise_for_status()
    drift = httpx.get(server.url + "/api/v1/drift", params={"threshold": "0.3"}, timeout=30)
    assert drift.status_code == 200 and drift.json()["threshold"] == 0.3


def test_every_number_the_document_takes_is_covered(server: RunningServer) -> None:
    document = server.get("/openapi.json")
    found_queries, found_fields = set(), set()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if _numeric(parameter.get("schema", {}), document):
                    found_queries.add((path, parameter["name"]))
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            for field in _numeric_fields(schema, document):
                found_fields.add(field)
    assert found_queries == set(QUERIES)
    covered = {field for _, _, _, field in BODIES}
    assert found_fields <= covered, found_fields - covered


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _numeric(schema: dict[str, Any], document: dict[str, Any]) -> bool:
    schema = _resolve(schema, document)
    options = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
    return any(_resolve(o, document).get("type") == "number" for o in options)


def _numeric_fields(schema: dict[str, Any], document: dict[str, Any], depth: int = 0) -> set[str]:
    """Names of number-typed properties anywhere in a body schema."""
    schema = _resolve(schema, document)
    out: set[str] = set()
    if depth > 6:
        return out
    for name, inner in schema.get("properties", {}).items():
        if _numeric(inner, document):
            out.add(name)
        out |= _numeric_fields(inner, document, depth + 1)
    for key in ("items", "anyOf", "oneOf", "allOf"):
        inner_schemas = schema.get(key, [])
        for inner in inner_schemas if isinstance(inner_schemas, list) else [inner_schemas]:
            out |= _numeric_fields(inner, document, depth + 1)
    return out


#: Times are strings in the document but take epoch seconds: (path, parameter).
TIMES = [
    ("/api/v1/runs", "start_from"),
    ("/api/v1/runs", "start_to"),
    ("/api/v1/overview", "since"),
    ("/api/v1/cost/daily", "until"),
    ("/api/v1/quality/daily", "since"),
    ("/api/v1/drift", "until"),
]


@pytest.mark.parametrize("number", ["nan", "inf", "-inf", "Infinity", "NaN"])
@pytest.mark.parametrize(("path", "name"), QUERIES + TIMES)
def test_a_non_finite_number_in_a_query_is_400_naming_it(
    server: RunningServer, path: str, name: str, number: str
) -> None:
    answer = httpx.get(server.url + path, params={name: number}, timeout=30)
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert detail.startswith(f"{name} ") or detail.startswith(f"{name}:"), detail
    if (path, name) in QUERIES:
        assert detail == f"{name}: must be a finite number (not NaN or ±Infinity)"


def test_bodies_read_as_any_json_name_the_non_finite_field(server: RunningServer) -> None:
    """Scores and alert rules are read by their own parsers, entry by entry."""
    score = '{"trace_id": "TRACE", "name": "q", "value": NaN}'.replace("TRACE", TRACE)
    answer = httpx.post(
        server.url + "/api/v1/scores",
        content=score,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200 and answer.json()["accepted"] == 0
    assert answer.json()["rejected"][0]["error"].startswith("value: must be a finite number")
    for field, rule in [
        ("threshold", '{"name": "nf", "metric": "cost_daily", "threshold": Infinity}'),
        ("window", '{"name": "nf", "metric": "error_rate", "threshold": 0.5, "window": NaN}'),
    ]:
        answer = httpx.post(
            server.url + "/api/v1/alerts",
            content=rule,
            headers={"content-type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 400 and answer.json()["detail"].startswith(f"{field}:")
    assert all(r["name"] != "nf" for r in server.get("/api/v1/alerts")["rules"])
