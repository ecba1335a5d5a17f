"""Run a TypeScript-world agent (the Vercel AI SDK on Node) against the fake provider and a
live agentreel, for ``tests/frameworks/test_aisdk.py``.

The agents are ``tests/js/aisdk<major>/agent.mjs``, one Node project per AI SDK major (each
pins ``ai`` with the provider packages of the same major; ``make test`` runs ``npm ci`` in
both). Each process runs the agent once, with OpenTelemetry's own environment
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_SERVICE_NAME``) and the providers' (``OPENAI_BASE_URL``,
``ANTHROPIC_BASE_URL``), and its tools append what they did to ``AGENT_TOOL_LOG``.

What comes back is a :class:`~support.frameworks.FrameworkRun`, so the Python frameworks'
ground-truth checks (:mod:`support.groundtruth`) apply as they are.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from support.fakeprovider import FakeProvider
from support.frameworks import (
    AGENT_TIMEOUT,
    STORED_TIMEOUT,
    TURNS,
    FrameworkRun,
    _dump,
    _read_tool_log,
    _stored_spans,
)
from support.liveserver import RunningServer
from support.paths import TESTS

JS = TESTS / "js"
#: Environment the agent must not inherit: its exporter, provider and tracing settings.
_OWN_PREFIXES = ("OTEL_", "OPENAI_", "ANTHROPIC_", "AGENTREEL_", "AGENT_")


def project(major: int) -> Path:
    """``tests/js/aisdk<major>``, installed; skipped without node or ``npm ci``, or fails in
    CI (``CI=true``)."""
    folder = JS / f"aisdk{major}"
    reason = ""
    if shutil.which("node") is None:
        reason = "node is not installed (Debian: apt-get install nodejs npm)"
    elif not (folder / "node_modules" / "ai").exists():
        reason = f"{folder.name}/node_modules is missing: `make test` runs npm ci there"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


def run_js_agent(
    server: RunningServer,
    major: int,
    api: str,
    mode: str,
    exporter: str,
    tmp_path: Path,
) -> FrameworkRun:
    """Run the AI SDK ``major`` agent once on ``api`` (``responses``, ``chat``, ``anthropic``)
    in ``mode`` (``generate``, ``stream``), exporting with the ``proto`` or ``json`` OTLP
    exporter, against a fresh fake provider scripted with :data:`~support.frameworks.TURNS`.

    Returns once every span the agent ended is readable through the REST API.
    """
    folder = project(major)
    label = f"aisdk{major}-{api}-{mode}-{exporter}"
    service = f"js-{label}-{uuid.uuid4().hex[:8]}"
    tool_log = tmp_path / f"{label}.tools.jsonl"
    with FakeProvider(TURNS) as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
        env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=server.url,
            OTEL_SERVICE_NAME=service,
            # NodeSDK also starts a metrics reader when asked to; this run is about traces.
            OTEL_METRICS_EXPORTER="none",
            OTEL_LOGS_EXPORTER="none",
            OPENAI_BASE_URL=fake.openai_base_url,
            OPENAI_API_KEY="sk-fake-aisdk-tests",
            # The AI SDK's Anthropic provider takes the base URL with its /v1.
            ANTHROPIC_BASE_URL=fake.base_url + "/v1",
            ANTHROPIC_API_KEY="sk-ant-fake-aisdk-tests",
            AGENT_TOOL_LOG=str(tool_log),
        )
        started = time.monotonic()
        done = subprocess.run(
            ["node", "agent.mjs", "--exporter", exporter, "--api", api, "--mode", mode],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=AGENT_TIMEOUT,
            check=False,
        )
        seconds = time.monotonic() - started
        exchanges = [e for e in fake.exchanges if not e.path.split("?")[0].endswith("/models")]
    if done.returncode:
        raise AssertionError(
            f"{label} exited with {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
        )
    report = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    assert report["flushed"], f"{label}: an export failed: {report['exports']}\n{done.stderr}"
    run = FrameworkRun(
        label=label,
        service=service,
        trace_ids=list(report["trace_ids"]),
        report=report,
        exchanges=exchanges,
        tools=_read_tool_log(tool_log),
        seconds=seconds,
        server=server,
    )
    server.wait_for(
        lambda s: sum(_stored_spans(s, t) for t in run.trace_ids) >= report["spans"],
        timeout=STORED_TIMEOUT,
        what=f"the {report['spans']} spans of {label} {run.trace_ids} to be stored",
    )
    _dump(run)
    return run
