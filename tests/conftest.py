"""Shared fixtures: one real agentreel server per test session (tests keep to their own
trace ids), and a fresh one for tests that stop or break it."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The shared harness asserts too: pytest rewrites its asserts as it does the tests', so a
# failure in a helper shows the values compared. This has to come before support is imported.
pytest.register_assert_rewrite("support")

from hypothesis import settings  # noqa: E402

from support.liveserver import RunningServer, start_server  # noqa: E402
from support.sessionruns import SessionRuns, send_session_runs  # noqa: E402
from support.store import StorePool  # noqa: E402

# Property and fuzz tests explore new inputs on every local run; in CI (CI=true) they replay
# the same examples each time, so a landing is decided by the change, not by the draw. A
# failure found locally prints its input; add it as a regression case.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("agentreel-session"))
    yield running
    code = running.stop()
    # uvicorn re-raises SIGTERM once it has shut down gracefully.
    assert code in (0, -signal.SIGTERM), f"server exited with {code}:\n{running.log()}"
    assert "Application shutdown complete" in running.log()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path / "data")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real embedded chDB store in this process (one per process: chDB's rule)."""
    from agentreel.storage.client import connect
    from agentreel.storage.schema import migrate

    client = connect(f"chdb://{tmp_path_factory.mktemp('chdb')}")
    migrate(client)
    yield client
    client.close()


@pytest.fixture(scope="session")
def instrumented_runs(server: RunningServer) -> Callable[[str], dict[str, Any]]:
    """Each instrumentor configuration's scenario, run once per session against ``server``
    (gRPC and HTTP alternate by configuration), with what the fake provider received."""
    from support.instrumented import run
    from support.payloads.capture import CONFIGS

    names = sorted(CONFIGS)
    done: dict[str, dict[str, Any]] = {}

    def get(name: str) -> dict[str, Any]:
        if name not in done:
            protocol = "grpc" if names.index(name) % 2 else "http"
            done[name] = {
                "protocol": protocol,
                **run(name, protocol, server.url, server.grpc_endpoint),
            }
        return done[name]

    return get


@pytest.fixture
def replay_api(store: Any) -> Iterator[tuple[Any, str]]:
    """The replay routes (timeline, diffs) in this process over the session's store, with a
    project of the test's own."""
    import uuid

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from agentreel.server.routes.replay import router

    project = f"p-{uuid.uuid4().hex[:8]}"
    app = FastAPI()
    app.include_router(router(StorePool(store), lambda: project))
    with TestClient(app) as client:
        yield client, project


@pytest.fixture(scope="session")
def session_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningServer, SessionRuns]]:
    """A server holding the runs of two sessions (``support.sessionruns``) whose online
    evaluation has not run yet: its first round is an hour away, so every run is still to
    evaluate and the only score is the one the runs were sent with. Tests only read it."""
    settings = {"AGENTREEL_EVAL_SAMPLE_RATE": "1", "AGENTREEL_ALERT_INTERVAL": "3600"}
    running = start_server(tmp_path_factory.mktemp("sessions"), settings)
    try:
        yield running, send_session_runs(running.url)
    finally:
        running.stop()
