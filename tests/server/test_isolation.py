"""One project never sees another's data: a real server with auth on, two projects with a
key each, and every endpoint of its OpenAPI document tried with the wrong key."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from support.apiroutes import Operation, example, operations, send
from support.cli import agentreel, agentreel_on
from support.fakeprovider import Answer, FakeProvider
from support.liveserver import start_server
from support.taggedrun import send_run
from support.tenants import Tenants

#: Routes whose answer holds the run's messages or tool results.
_RUN_DATA = {
    "/api/v1/runs/{trace_id}",
    "/api/v1/runs/{trace_id}/llm-calls",
    "/api/v1/runs/{trace_id}/export",
    "/api/v1/runs/{trace_id}/timeline",
}
#: Paths anyone may read (no project data behind them).
OPEN = {"/", "/healthz", "/openapi.json", "/docs"}


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    data = tmp_path_factory.mktemp("isolation")
    keys = {}
    for project in ("alpha", "beta"):
        agentreel_on(data, "projects", "create", project)
        made = json.loads(agentreel_on(data, "keys", "create", "--project", project, "--json"))
        keys[project] = made["key"]
    # The fake provider re-sent calls go to listens on 127.0.0.1 (any port).
    server = start_server(data, {"AGENTREEL_AUTH": "on", "AGENTREEL_OUTBOUND_HOSTS": "127.0.0.1"})
    try:
        t = Tenants(server, keys, {})
        for project in keys:
            t.runs[project] = send_run(
                server.url, f"{project}-{uuid.uuid4().hex[:8]}", t.headers(project)
            )
        yield t
    finally:
        server.stop()


def _values(op: Operation, trace_id: str) -> dict[str, Any]:
    """Every parameter of ``op`` set: ids to ``trace_id``, call numbers to 1, enums to a
    valid choice; free text to ``trace_id`` as well (a filter on another project's id)."""
    values: dict[str, Any] = {}
    for p in op.params:
        if p.kind in ("integer", "number"):
            values[p.name] = 1
        elif p.kind == "enum":
            values[p.name] = example(p.schema, lambda n, s: "")
        elif p.kind == "string" and (p.required or p.where == "path"):
            values[p.name] = trace_id
    return values


def test_every_route_needs_a_key(tenants: Tenants) -> None:
    ops = operations(tenants.server.url)
    assert len(ops) >= 10
    bad_keys = [
        {},
        {"Authorization": "Bearer ar_00000000_" + "A" * 43},
        {"Authorization": "Bearer ' OR 1=1 --"},
        {"Authorization": f"Basic {tenants.keys['alpha']}"},  # the key, but not as a bearer
        {"x-api-key": tenants.keys["alpha"][:-1]},
    ]
    refusals = 3  # the two exports and /metrics below
    with httpx.Client(base_url=tenants.server.url, timeout=30) as client:
        for op in ops:
            values = _values(op, tenants.runs["beta"].trace_id)
            for headers in bad_keys:
                answer = send(client, op, values, headers=headers)
                if op.path in OPEN:
                    assert answer.status_code == 200, op
                else:
                    assert answer.status_code == 401, (str(op), headers, answer.text)
                    refusals += 1
                    assert "secret" not in answer.text
        for path in ("/v1/traces", "/v1/logs"):
            assert client.post(path, content=b"", headers=bad_keys[0]).status_code == 401
        assert client.get("/metrics").status_code == 401
        metrics = client.get("/metrics", headers=tenants.headers("alpha"))
        assert metrics.status_code == 200
        refused = re.search(r'agentreel_auth_refused_total\{protocol="http"\} (\S+)', metrics.text)
        assert refused is not None and float(refused.group(1)) >= refusals


def test_a_key_reads_its_own_project(tenants: Tenants) -> None:
    """The control: with its own key, every run route answers with the run's data."""
    beta = tenants.runs["beta"]
    with httpx.Client(base_url=tenants.server.url, timeout=30) as client:
        for op in operations(tenants.server.url):
            if op.method != "GET" or not any(p.name == "trace_id" for p in op.params):
                continue
            answer = send(client, op, _values(op, beta.trace_id), headers=tenants.headers("beta"))
            assert answer.status_code == 200, (str(op), answer.text)
            if op.path in _RUN_DATA:
                assert beta.secret in answer.text, op
        runs = client.get("/api/v1/runs", headers=tenants.headers("beta")).json()["runs"]
        assert [r["trace_id"] for r in runs] == [beta.trace_id]


def test_a_key_never_reaches_another_projects_data(tenants: Tenants) -> None:
    alpha, beta = tenants.runs["alpha"], tenants.runs["beta"]
    checked = 0
    with httpx.Client(base_url=tenants.server.url, timeout=60) as client:
        for op in operations(tenants.server.url):
            if op.path in OPEN:
                continue
            answer = send(client, op, _values(op, beta.trace_id), headers=tenants.headers("alpha"))
            where = f"{op} with alpha's key -> {answer.status_code}: {answer.text[:300]}"
            assert answer.status_code < 500, where
            for marker in beta.markers:
                assert marker not in answer.text, where
            if answer.status_code == 200:
                assert beta.trace_id not in answer.text, where
            elif any(p.name == "trace_id" for p in op.params):
                assert answer.status_code == 404, where  # beta's run does not exist for alpha
            checked += 1
        assert checked >= 10
        # Alpha's own view holds alpha's run and only it.
        stats = client.get("/api/v1/stats", headers=tenants.headers("alpha")).json()
        assert (stats["runs"], stats["llm_calls"]) == (1, 2)
        runs = client.get("/api/v1/runs", headers=tenants.headers("alpha")).json()["runs"]
        assert [r["trace_id"] for r in runs] == [alpha.trace_id]


def _exported_run(project: str, exporter: Any) -> str:
    provider = TracerProvider(resource=Resource.create({"service.name": f"otel-{project}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("tests.isolation").start_as_current_span(
        "invoke_agent", attributes={"gen_ai.agent.name": f"exported-{project}"}
    ) as root:
        trace_id = f"{root.get_span_context().trace_id:032x}"
    provider.shutdown()
    return trace_id


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_otlp_with_a_key_lands_in_its_project(tenants: Tenants, protocol: str) -> None:
    key = tenants.keys["alpha"]
    exporter: Any
    if protocol == "grpc":
        exporter = GrpcExporter(
            endpoint=tenants.server.grpc_endpoint,
            insecure=True,
            headers={"authorization": f"Bearer {key}"},
        )
    else:
        exporter = HttpExporter(
            endpoint=tenants.server.url + "/v1/traces", headers={"x-agentreel-api-key": key}
        )
    trace_id = _exported_run("alpha", exporter)
    with httpx.Client(base_url=tenants.server.url, timeout=30) as client:
        mine = client.get(f"/api/v1/runs/{trace_id}", headers=tenants.headers("alpha"))
        assert mine.status_code == 200 and "exported-alpha" in mine.text
        theirs = client.get(f"/api/v1/runs/{trace_id}", headers=tenants.headers("beta"))
        assert theirs.status_code == 404


def test_otlp_grpc_without_a_valid_key_is_unauthenticated(tenants: Tenants) -> None:
    request = trace_service_pb2.ExportTraceServiceRequest().SerializeToString()
    with grpc.insecure_channel(tenants.server.grpc_endpoint) as channel:
        export = channel.unary_unary(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            request_serializer=None,
            response_deserializer=None,
        )
        for metadata in ((), (("authorization", "Bearer ar_00000000_" + "A" * 43),)):
            with pytest.raises(grpc.RpcError) as refused:
                export(request, metadata=metadata, timeout=30)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        answer = export(
            request, metadata=(("x-agentreel-api-key", tenants.keys["beta"]),), timeout=30
        )
        assert answer == b""  # an empty request, accepted


def test_cli_sends_its_key(tenants: Tenants) -> None:
    def runs(**env: str) -> subprocess.CompletedProcess[str]:
        return agentreel("runs", "--json", env={"AGENTREEL_API_URL": tenants.server.url, **env})

    mine = runs(AGENTREEL_API_KEY=tenants.keys["beta"])
    assert mine.returncode == 0, mine.stderr
    assert [r["trace_id"] for r in json.loads(mine.stdout)["runs"]] == [
        tenants.runs["beta"].trace_id
    ]
    refused = runs()
    assert refused.returncode == 1 and "AGENTREEL_API_KEY" in refused.stderr


def test_a_resent_call_is_stored_in_the_callers_project(tenants: Tenants) -> None:
    beta = tenants.runs["beta"]
    with FakeProvider([Answer("resent answer")]) as fake:
        answer = httpx.post(
            f"{tenants.server.url}/api/v1/runs/{beta.trace_id}/llm-calls/1/resend",
            json={"base_url": fake.openai_base_url},
            headers=tenants.headers("beta"),
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
    new_trace = answer.json()["trace_id"]
    with httpx.Client(base_url=tenants.server.url, timeout=30) as client:
        mine = client.get(f"/api/v1/runs/{new_trace}", headers=tenants.headers("beta"))
        assert mine.status_code == 200 and "resent answer" in json.dumps(
            client.get(
                f"/api/v1/runs/{new_trace}/llm-calls", headers=tenants.headers("beta")
            ).json()
        )
        theirs = client.get(f"/api/v1/runs/{new_trace}", headers=tenants.headers("alpha"))
        assert theirs.status_code == 404


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://collector.example.com/hook", "not in outbound_hosts"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ],
)
def test_a_webhook_outside_outbound_hosts_is_refused(tenants: Tenants, url: str, says: str) -> None:
    rule = {"name": "hook", "metric": "run_cost", "threshold": 1, "webhooks": [url]}
    refused = httpx.post(
        f"{tenants.server.url}/api/v1/alerts", json=rule, headers=tenants.headers("alpha")
    )
    assert refused.status_code == 400, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("webhooks[0].url:") and says in detail
    assert "AGENTREEL_OUTBOUND_HOSTS" in detail
    listed = httpx.get(f"{tenants.server.url}/api/v1/alerts", headers=tenants.headers("alpha"))
    assert all(r["name"] != "hook" for r in listed.json()["rules"])


def test_the_api_document_says_a_key_is_needed(tenants: Tenants) -> None:
    spec = httpx.get(tenants.server.url + "/openapi.json", timeout=30).json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, methods in spec["paths"].items():
        for operation in methods.values():
            needs_key = path not in OPEN
            assert ("401" in operation["responses"]) is needs_key, path
            assert (operation.get("security") == [{"bearer": []}]) is needs_key, path
