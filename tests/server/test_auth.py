"""Projects and API keys: when auth is on, the key store, the key ring, the auth layer, the CLI."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from google.rpc import code_pb2, status_pb2

from agentreel.server import auth
from agentreel.settings import Settings, SettingsError
from agentreel.storage import projects

from support.cli import agentreel


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("", False),
        ("agentreel.internal", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert auth.is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("mode", "host", "enabled"),
    [
        ("auto", "127.0.0.1", False),
        ("auto", "0.0.0.0", True),
        ("on", "127.0.0.1", True),
        ("off", "127.0.0.1", False),
    ],
)
def test_auth_mode(mode: str, host: str, enabled: bool) -> None:
    settings = Settings.load(environ={"AGENTREEL_AUTH": mode, "AGENTREEL_HOST": host})
    assert auth.auth_enabled(settings) is enabled


def test_auth_off_beyond_loopback_is_refused() -> None:
    settings = Settings.load(environ={"AGENTREEL_AUTH": "off", "AGENTREEL_HOST": "0.0.0.0"})
    with pytest.raises(SettingsError, match="AGENTREEL_AUTH=off"):
        auth.auth_enabled(settings)
    with pytest.raises(SettingsError, match="AGENTREEL_AUTH"):
        Settings.load(environ={"AGENTREEL_AUTH": "maybe"})


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ({"authorization": "Bearer ar_x"}, "ar_x"),
        ({"authorization": "bearer   ar_x "}, "ar_x"),
        ({"x-agentreel-api-key": "ar_y"}, "ar_y"),
        ({"x-api-key": "ar_z"}, "ar_z"),
        ({"authorization": "Basic dXNlcjpwYXNz", "x-api-key": "ar_z"}, "ar_z"),
        ({"authorization": "Bearer "}, None),
        ({}, None),
    ],
)
def test_presented_key(headers: dict[str, str], key: str | None) -> None:
    assert auth.presented_key(headers) == key


def _key(key_id: str = "0123abcd") -> str:
    return f"ar_{key_id}_" + "A" * 43


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_key_ring_sees_new_keys_at_once_and_drops_revoked_ones() -> None:
    clock, table, loads = _Clock(), {}, []

    def load() -> dict[str, str]:
        loads.append(clock.now)
        return dict(table)

    ring = auth.KeyRing(load, clock)
    assert ring.project_for(_key()) is None
    table[projects.hash_key(_key())] = "alpha"
    clock.now += auth.MISS_REFRESH_SECONDS + 0.1  # a new key works on the next miss refresh
    assert ring.project_for(_key()) == "alpha"
    assert ring.cached(_key()) == "alpha"
    table.clear()  # revoked
    assert ring.project_for(_key()) == "alpha"  # still within the refresh interval
    clock.now += auth.REFRESH_SECONDS + 0.1
    assert ring.cached(_key()) is None  # stale: must ask the store again
    assert ring.project_for(_key()) is None
    before = len(loads)
    for _ in range(50):  # a flood of unknown or malformed keys is not a flood of queries
        assert ring.project_for(_key("ffffffff")) is None
        assert ring.project_for("' OR 1=1 --") is None
    assert len(loads) == before


def test_key_ring_keeps_known_keys_when_the_store_fails() -> None:
    clock, fail = _Clock(), [False]

    def load() -> dict[str, str]:
        if fail[0]:
            raise ConnectionError("store down")
        return {projects.hash_key(_key()): "alpha"}

    ring = auth.KeyRing(load, clock)
    assert ring.project_for(_key()) == "alpha"
    fail[0] = True
    clock.now += auth.REFRESH_SECONDS + 1
    assert ring.project_for(_key()) == "alpha"
    with pytest.raises(ConnectionError):
        auth.KeyRing(load, clock).project_for(_key())  # never loaded: cannot vouch for a key


def test_key_store(store: Any) -> None:
    name = f"p-{uuid.uuid4().hex[:8]}"
    made = projects.create_project(store, name)
    assert made.name == name and made.active_keys == 0
    with pytest.raises(projects.ProjectError, match="already exists"):
        projects.create_project(store, name)
    for bad in ("", "a b", "-x", "x" * 65, "a'; DROP TABLE spans; --"):
        with pytest.raises(projects.ProjectError, match="invalid project name"):
            projects.create_project(store, bad)
    with pytest.raises(projects.ProjectError, match="no project"):
        projects.create_key(store, name + "-missing")

    record, key = projects.create_key(store, name, "ci")
    assert key.startswith(f"ar_{record.id}_") and projects.looks_like_key(key)
    assert len(key) == len("ar_") + 8 + 1 + 43
    stored = store.query(
        "SELECT hash FROM api_keys WHERE id = {id:String}", parameters={"id": record.id}
    ).result_rows
    assert stored == [(projects.hash_key(key),)]  # the hash, never the key
    assert key not in str(store.query("SELECT * FROM api_keys").result_rows)
    assert projects.active_keys(store)[projects.hash_key(key)] == name
    assert [p.active_keys for p in projects.list_projects(store) if p.name == name] == [1]

    revoked = projects.revoke_key(store, record.id)
    assert revoked.revoked_at is not None and not revoked.active
    assert projects.revoke_key(store, record.id) == revoked  # again: nothing changes
    assert projects.hash_key(key) not in projects.active_keys(store)
    assert [k.active for k in projects.list_keys(store, name)] == [False]
    with pytest.raises(projects.ProjectError, match="no key"):
        projects.revoke_key(store, "nokey000")


def _app(enabled: bool = True) -> tuple[TestClient, str]:
    key = _key()
    ring = auth.KeyRing(lambda: {projects.hash_key(key): "alpha"})
    app = FastAPI()

    @app.get("/api/v1/whoami")
    def whoami() -> dict[str, str]:  # sync: served on a worker thread
        return {"project": auth.current_project()}

    @app.post("/v1/traces")
    async def traces() -> dict[str, str]:
        return {"project": auth.current_project()}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(auth.AuthMiddleware, auth=auth.Auth(enabled, "default", ring))
    return TestClient(app, raise_server_exceptions=False), key


def test_auth_layer_sets_the_project_or_refuses() -> None:
    client, key = _app()
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {key}"}).json() == {
        "project": "alpha"
    }
    assert client.post("/v1/traces", headers={"x-agentreel-api-key": key}).json() == {
        "project": "alpha"
    }
    missing = client.get("/api/v1/whoami")
    assert missing.status_code == 401 and "API key is required" in missing.json()["detail"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {_key('99999999')}"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "unknown or revoked API key"
    # OTLP clients get the status in their own encoding.
    proto = client.post("/v1/traces", headers={"content-type": "application/x-protobuf"})
    assert proto.status_code == 401
    status = status_pb2.Status.FromString(proto.content)
    assert status.code == code_pb2.UNAUTHENTICATED
    as_json = client.post("/v1/traces", headers={"content-type": "application/json"})
    assert as_json.json()["code"] == code_pb2.UNAUTHENTICATED


def test_auth_off_uses_the_default_project_and_nothing_escapes_the_layer() -> None:
    client, _ = _app(enabled=False)
    assert client.get("/api/v1/whoami").json() == {"project": "default"}
    # A route the layer did not run for has no project: it fails, it does not guess.
    with pytest.raises(LookupError):
        auth.current_project()


def _cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return agentreel(*args, env={"AGENTREEL_DATA_DIR": str(data_dir), **env}, timeout=120)


def test_cli_manages_projects_and_keys(tmp_path: Path) -> None:
    assert _cli(tmp_path, "projects", "create", "shop").returncode == 0
    made = _cli(tmp_path, "keys", "create", "--project", "shop", "--label", "ci", "--json")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert key["project"] == "shop" and key["key"].startswith("ar_")
    listed = _cli(tmp_path, "keys", "list")
    assert key["id"] in listed.stdout and "active" in listed.stdout
    assert key["key"] not in listed.stdout  # shown once, never again
    assert _cli(tmp_path, "keys", "revoke", key["id"]).returncode == 0
    assert "revoked" in _cli(tmp_path, "keys", "list", "--project", "shop").stdout
    unknown = _cli(tmp_path, "keys", "create", "--project", "nope")
    assert unknown.returncode == 1 and "projects create nope" in unknown.stderr
    refused = _cli(tmp_path, "serve", AGENTREEL_HOST="0.0.0.0", AGENTREEL_AUTH="off")
    assert refused.returncode == 1 and "refusing to serve on '0.0.0.0'" in refused.stderr
