"""``agentreel.sdk`` set up against a server, the example support agent (``examples/``) and
the spans a run left in the server, for the SDK tests."""

from __future__ import annotations

import sys
from typing import Any

import openai
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from agentreel import sdk

from support.fakeprovider import FakeProvider
from support.liveserver import RunningServer
from support.paths import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import support_agent  # examples/ is put on the path above

__all__ = ["connect", "flatten", "openai_client", "stored_spans", "support_agent"]


def openai_client(fake: FakeProvider) -> openai.OpenAI:
    """A client of the fake provider (a context manager: closing it closes its sockets)."""
    return openai.OpenAI(base_url=fake.openai_base_url, api_key="test", max_retries=0)


def connect(endpoint: str, **options: Any) -> TracerProvider:
    """The SDK set up to export to ``endpoint`` with a provider of the test's own."""
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-e2e"}))
    sdk.init(endpoint=endpoint, tracer_provider=provider, **options)
    return provider


def flatten(node: dict[str, Any]) -> list[dict[str, Any]]:
    out = [node]
    for child in node.get("children", []):
        out.extend(flatten(child))
    return out


def stored_spans(server: RunningServer, trace_id: str) -> list[dict[str, Any]]:
    assert sdk.force_flush(30), sdk.stats()  # acknowledged by agentreel = stored
    roots = server.get(f"/api/v1/runs/{trace_id}")["spans"]
    return [span for root in roots for span in flatten(root)]
