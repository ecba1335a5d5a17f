"""Regression cases made as a user makes them: the agent of :mod:`support.caseagent` run in a
fresh process against the fake provider, its spans stored in a real store, the run pinned
with :func:`agentreel.replay.cases.build_case`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from agentreel.collector.decode import decode_traces_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.replay.cases import build_case
from agentreel.storage.writer import Writer

from support.fakeprovider import FakeProvider
from support.paths import TESTS

#: How the tests start the agent: this interpreter, the ``support`` package importable.
AGENT_COMMAND = f"{sys.executable} -m support.caseagent"


def agent_env(fake: FakeProvider, tool_log: Path, **extra: str) -> dict[str, str]:
    """The environment the agent runs in: the fake provider as its model and as any OTLP
    endpoint (so a span sent anywhere is counted there), no ``AGENTREEL_*`` of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTREEL_", "OTEL_"))}
    env.update(
        {
            "PYTHONPATH": str(TESTS),
            "CASE_AGENT_BASE_URL": fake.openai_base_url,
            "CASE_AGENT_TOOL_LOG": str(tool_log),
            "OTEL_EXPORTER_OTLP_ENDPOINT": fake.base_url,
        }
    )
    env.update(extra)
    return env


def record(store: Any, fake: FakeProvider, work: Path) -> tuple[str, str]:
    """Run the agent once (``fake`` scripted for it) and store its spans in a project of
    their own: ``(project, trace_id)``."""
    spans_file = work / "recorded.pb"
    done = subprocess.run(
        AGENT_COMMAND.split(),
        env=agent_env(fake, work / "recording-tools.log", CASE_AGENT_SPANS=str(spans_file)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    project = f"case-{uuid.uuid4().hex[:8]}"
    batch = normalize_spans(decode_traces_proto(spans_file.read_bytes()), project)
    Writer(store).write(batch.spans, [])
    (trace_id,) = {span.trace_id for span in batch.spans}
    return project, trace_id


def pin(
    store: Any, project: str, trace_id: str, path: Path, *, command: str | None = None
) -> dict[str, Any]:
    """Write the run's case to ``path`` (named after the file, as ``agentreel pin`` names
    it); the case document."""
    document = build_case(store, project, trace_id, name=path.stem, command=command)
    assert document is not None, f"run {trace_id} is not stored"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))
    return document
