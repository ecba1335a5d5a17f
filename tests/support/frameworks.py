"""Run a real framework agent against the fake provider and a live agentreel, for the
framework tests (``tests/frameworks/``).

The agent is a script in ``tests/frameworks/agents/``, run by ``.venv-frameworks/bin/python``
(the framework packages live only there: ``make frameworks``) with OpenTelemetry's own
environment: ``OTEL_EXPORTER_OTLP_PROTOCOL`` and ``OTEL_EXPORTER_OTLP_ENDPOINT`` (gRPC or HTTP
to the server), ``OTEL_SERVICE_NAME``; ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL`` and fake
keys for the provider; ``FRAMEWORK_TOOL_LOG``, the JSON-lines file its tools append to when
they actually run. The script flushes its tracer provider before it exits and prints one
JSON line (see ``agents/agentkit.py``).

What a test compares against is ground truth: :attr:`FrameworkRun.exchanges` (what the
provider received and answered) and :attr:`FrameworkRun.tools` (what the tools did).

With ``FRAMEWORK_SPAN_DUMPS=<dir>`` each run also leaves ``<dir>/<label>.json``: the run as
the REST API returns it, its timeline and LLM calls, the provider's exchanges and the tool log.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.fakeprovider import Answer, Exchange, FakeProvider, ToolCall, Turn
from support.liveserver import RunningServer
from support.paths import ROOT, TESTS

#: What the fake provider answers every framework agent: 4 LLM calls, 3 tool calls.
ANSWER = "Paris: 21C (69.8F), Lyon: 18C, both sunny."
TURNS: list[Turn] = [
    ToolCall("get_weather", {"city": "Paris"}),
    ToolCall("get_weather", {"city": "Lyon"}),
    ToolCall("c_to_f", {"c": 21}),
    Answer(ANSWER),
]

#: The framework packages' venv (``make frameworks``).
FRAMEWORKS_VENV = ROOT / ".venv-frameworks"
#: CrewAI's venv: its pins clash with the others' (``tests/frameworks/requirements-crewai.txt``).
CREWAI_VENV = ROOT / ".venv-frameworks-crewai"
AGENTS = TESTS / "frameworks" / "agents"
#: Seconds an agent script may run; they take a few.
AGENT_TIMEOUT = 120.0
#: Seconds to wait for the run's spans to be readable once the script has flushed.
STORED_TIMEOUT = 30.0
#: Environment the agent must not inherit: its exporter, provider and tracing settings.
_OWN_PREFIXES = ("OTEL_", "OPENAI_", "ANTHROPIC_", "AGENTREEL_", "LANGCHAIN_", "LANGSMITH_")


def frameworks_python(venv: Path = FRAMEWORKS_VENV) -> Path:
    """The venv's interpreter; the test is skipped without it, or fails in CI (``CI=true``)."""
    python = venv / "bin" / "python"
    if not python.exists():
        reason = f"{venv.name} is missing: `make frameworks` builds it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return python


@dataclass(frozen=True)
class ToolRun:
    """One execution of a tool, as the tool itself logged it."""

    name: str
    arguments: dict[str, Any]
    result: str


@dataclass(frozen=True)
class FrameworkRun:
    """One invocation of an agent script, with what the provider and the tools saw."""

    label: str
    service: str
    #: The traces the script's tracer provider ended spans in (one, for one invocation).
    trace_ids: list[str]
    #: What the script printed last (see ``agentkit.report``).
    report: dict[str, Any]
    #: Every request to the provider's model APIs (``GET /v1/models`` left out), in order.
    exchanges: list[Exchange]
    tools: list[ToolRun]
    #: Wall time of the agent script, seconds.
    seconds: float
    server: RunningServer

    @property
    def trace_id(self) -> str:
        """The invocation's trace: the only one, or else the one with the most spans (the
        framework's, when something beside it starts traces of its own)."""
        per_trace = self.report["spans_per_trace"]
        return max(self.trace_ids, key=lambda t: per_trace[t])

    def runs(self) -> list[dict[str, Any]]:
        """The runs agentreel lists for this invocation's service."""
        return list(self.server.get("/api/v1/runs", service=self.service)["runs"])

    def detail(self) -> dict[str, Any]:
        return dict(self.server.get(f"/api/v1/runs/{self.trace_id}"))

    def timeline(self) -> dict[str, Any]:
        return dict(self.server.get(f"/api/v1/runs/{self.trace_id}/timeline"))

    def llm_calls(self, format: str = "otel") -> list[dict[str, Any]]:
        path = f"/api/v1/runs/{self.trace_id}/llm-calls"
        return list(self.server.get(path, format=format)["llm_calls"])


def _environment(
    server: RunningServer, fake: FakeProvider, protocol: str, service: str, tool_log: Path
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    if protocol == "grpc":
        otlp = {
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{server.grpc_endpoint}",
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
        }
    else:
        otlp = {
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": server.url,
        }
    return {
        **env,
        **otlp,
        "OTEL_SERVICE_NAME": service,
        "OPENAI_BASE_URL": fake.openai_base_url,
        "OPENAI_API_KEY": "sk-fake-framework-tests",
        "ANTHROPIC_BASE_URL": fake.base_url,
        "ANTHROPIC_API_KEY": "sk-ant-fake-framework-tests",
        "FRAMEWORK_TOOL_LOG": str(tool_log),
        "PYTHONUNBUFFERED": "1",
    }


def _read_tool_log(path: Path) -> list[ToolRun]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ToolRun(**json.loads(line)) for line in lines if line.strip()]


def _count_spans(tree: Iterable[dict[str, Any]]) -> int:
    return sum(1 + _count_spans(node["children"]) for node in tree)


def _stored_spans(server: RunningServer, trace_id: str) -> int:
    """How many of the run's spans the REST API returns now (0 before the run is known)."""
    try:
        return _count_spans(server.get(f"/api/v1/runs/{trace_id}")["spans"])
    except Exception:  # 404 until the first span is stored
        return 0


def run_agent(
    server: RunningServer,
    script: str,
    turns: Sequence[Turn],
    tmp_path: Path,
    *,
    label: str,
    protocol: str = "http",
    args: Sequence[str] = (),
    venv: Path = FRAMEWORKS_VENV,
    env: Mapping[str, str] | None = None,
) -> FrameworkRun:
    """Run ``agents/<script>.py`` once, with ``venv``'s Python, against a fresh fake provider
    scripted with ``turns`` (``env``: more environment for the script).

    Returns once every span the script ended is readable through the REST API (a script that
    starts processes of its own counts their spans in its report).
    """
    python = frameworks_python(venv)
    service = f"fw-{label}-{uuid.uuid4().hex[:8]}"
    tool_log = tmp_path / f"{label}.tools.jsonl"
    with FakeProvider(turns) as fake:
        environment = {**_environment(server, fake, protocol, service, tool_log), **(env or {})}
        started = time.monotonic()
        done = subprocess.run(
            [str(python), str(AGENTS / f"{script}.py"), *args],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=AGENT_TIMEOUT,
            check=False,
        )
        seconds = time.monotonic() - started
        exchanges = [e for e in fake.exchanges if not e.path.split("?")[0].endswith("/models")]
    if done.returncode:
        raise AssertionError(
            f"{script} {' '.join(args)} exited with {done.returncode}:\n"
            f"{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
        )
    report = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    assert report["flushed"], f"{script}: the tracer provider did not flush\n{done.stderr}"
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


def _dump(run: FrameworkRun) -> None:
    """The run as agentreel returns it, beside the ground truth, for people reading span shapes."""
    folder = os.environ.get("FRAMEWORK_SPAN_DUMPS")
    if not folder:
        return
    out: dict[str, Any] = {
        "label": run.label,
        "service": run.service,
        "report": run.report,
        "tool_log": [t.__dict__ for t in run.tools],
        "exchanges": [
            {"path": e.path, "body": e.body, "usage": e.usage, "streamed": e.streamed}
            for e in run.exchanges
        ],
        "runs": run.runs(),
    }
    for trace_id in run.trace_ids:
        base = f"/api/v1/runs/{trace_id}"
        out[trace_id] = {
            "run": run.server.get(base),
            "timeline": run.server.get(base + "/timeline"),
            "llm_calls": run.server.get(base + "/llm-calls")["llm_calls"],
            "llm_calls_openai": run.server.get(base + "/llm-calls", format="openai")["llm_calls"],
            "llm_calls_anthropic": run.server.get(base + "/llm-calls", format="anthropic")[
                "llm_calls"
            ],
        }
    path = Path(folder) / f"{run.label}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, default=str), encoding="utf-8")
