"""Runs of two sessions sent over OTLP/HTTP as agents send them: one session named by
``session.id`` on its root spans (two runs, the second failing, the first scored), one by
``gen_ai.conversation.id`` on an LLM span only (the root span does not carry it), and a run of
no session. Times are minutes before now, so every dashboard range holds them."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from support.otlpbuild import new_span_id, new_trace_id, span, traces

MINUTE = 60 * 10**9
#: The two session ids: an OpenInference / plain OTel ``session.id``, and a GenAI conversation
#: id with a slash, spaces and a '#' (a caller's own text).
SESSION_ID = "conv-sessions-a"
CONVERSATION_ID = "support/42 chat #7"


@dataclass(frozen=True)
class SessionRuns:
    #: The session.id session's runs, oldest first: an ok run (scored) and a failed run.
    first: str
    failed: str
    #: The one run of the gen_ai.conversation.id session.
    conversation: str
    #: A run that names no session.
    lone: str


def send_session_runs(base_url: str, headers: dict[str, str] | None = None) -> SessionRuns:
    """Store the runs (200 required) and score the first one; returns their trace ids."""
    now = time.time_ns()
    first = _run(base_url, now - 30 * MINUTE, {"session.id": SESSION_ID}, {}, headers=headers)
    failed = _run(
        base_url, now - 20 * MINUTE, {"session.id": SESSION_ID}, {}, fail=True, headers=headers
    )
    conversation = _run(
        base_url, now - 10 * MINUTE, {}, {"gen_ai.conversation.id": CONVERSATION_ID},
        headers=headers,
    )  # fmt: skip
    lone = _run(base_url, now - 5 * MINUTE, {}, {}, headers=headers)
    deadline = time.monotonic() + 30
    while not all(_stored(base_url, t, headers) for t in (first, failed, conversation, lone)):
        assert time.monotonic() < deadline, "the session runs were not stored within 30 s"
        time.sleep(0.05)
    score = {"trace_id": first, "name": "helpfulness", "value": 0.75, "source": "human"}
    answer = httpx.post(base_url + "/api/v1/scores", json=score, headers=headers, timeout=30)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text
    return SessionRuns(first, failed, conversation, lone)


def _stored(base_url: str, trace_id: str, headers: dict[str, str] | None) -> bool:
    """Whether the run is stored whole (a score needs its run stored)."""
    answer = httpx.get(f"{base_url}/api/v1/runs/{trace_id}", headers=headers, timeout=30)
    return answer.status_code == 200 and answer.json()["run"]["spans"] == 2


def _run(
    base_url: str,
    start_ns: int,
    root_attrs: dict[str, str],
    llm_attrs: dict[str, str],
    *,
    fail: bool = False,
    headers: dict[str, str] | None = None,
) -> str:
    """An agent root span and one priced LLM call under it (failing with ``fail``)."""
    trace, root, call = new_trace_id(), new_span_id(), new_span_id()
    spans = [
        span(
            trace, root, "invoke_agent support",
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support", **root_attrs},
            start_ns=start_ns, duration_ns=2_000_000_000, status=2 if fail else 0,
            message="the tool timed out" if fail else "",
        ),
        span(
            trace, call, "chat gpt-4o",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 1000,
                "gen_ai.usage.output_tokens": 100,
                **llm_attrs,
            },
            parent=root, start_ns=start_ns + 10**8, duration_ns=10**9,
        ),
    ]  # fmt: skip
    body = traces(spans, service="session-agent").SerializeToString()
    answer = httpx.post(
        base_url + "/v1/traces",
        content=body,
        headers={"content-type": "application/x-protobuf", **(headers or {})},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return trace.hex()
