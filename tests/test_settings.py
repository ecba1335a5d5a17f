"""Settings: defaults with no configuration, env and flags, errors that name the setting."""

from __future__ import annotations

import pytest

from agentreel.settings import Settings, SettingsError


def test_defaults_need_no_configuration() -> None:
    s = Settings.load(environ={})
    assert (s.grpc_port, s.http_port, s.dashboard_port) == (4317, 4318, 8501)
    assert s.host == "127.0.0.1"
    assert s.clickhouse_url.startswith("chdb://") and s.clickhouse_url.endswith(
        ".agentreel/clickhouse"
    )
    assert s.api_url == "http://127.0.0.1:4318"
    assert s.embedded


def test_environment_and_flags() -> None:
    env = {"AGENTREEL_HTTP_PORT": "9000", "AGENTREEL_DATA_DIR": "/srv/reel"}
    s = Settings.load(environ=env, overrides={"grpc_port": "9001", "host": "0.0.0.0"})
    assert (s.http_port, s.grpc_port) == (9000, 9001)
    assert s.clickhouse_url == "chdb:///srv/reel/clickhouse"
    # A wildcard bind is reached through loopback by local clients.
    assert s.api_url == "http://127.0.0.1:9000"


def test_server_url_is_kept() -> None:
    s = Settings.load(environ={"AGENTREEL_CLICKHOUSE_URL": "http://u:p@db:8123/reel"})
    assert s.clickhouse_url == "http://u:p@db:8123/reel"
    assert not s.embedded


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AGENTREEL_HTTP_PORT": "http"}, "AGENTREEL_HTTP_PORT"),
        ({"AGENTREEL_GRPC_PORT": "70000"}, "AGENTREEL_GRPC_PORT"),
        ({"AGENTREEL_CLICKHOUSE_URL": "localhost:8123"}, "AGENTREEL_CLICKHOUSE_URL"),
        ({"AGENTREEL_LOG_LEVEL": "loud"}, "AGENTREEL_LOG_LEVEL"),
        ({"AGENTREEL_QUEUE_SPANS": "0"}, "AGENTREEL_QUEUE_SPANS"),
        ({"AGENTREEL_HTTPPORT": "1"}, "AGENTREEL_HTTPPORT"),
    ],
)
def test_bad_settings_fail_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.load(environ=env)


def test_bad_flag_names_the_flag() -> None:
    with pytest.raises(SettingsError, match="--http-port"):
        Settings.load(environ={}, overrides={"http_port": "x"})
