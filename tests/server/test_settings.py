"""Settings: defaults with no configuration, env and flags, errors that name the setting."""

from __future__ import annotations

import pytest

from agentreel.core.outbound import OutboundError, Policy
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
        ({"AGENTREEL_OUTBOUND_HOSTS": "https://api.openai.com/v1"}, "AGENTREEL_OUTBOUND_HOSTS"),
        ({"AGENTREEL_OUTBOUND_HOSTS": "api*.openai.com"}, "AGENTREEL_OUTBOUND_HOSTS"),
        ({"AGENTREEL_OUTBOUND_HOSTS": "llm.internal:http"}, "AGENTREEL_OUTBOUND_HOSTS"),
    ],
)
def test_bad_settings_fail_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.load(environ=env)


def test_bad_flag_names_the_flag() -> None:
    with pytest.raises(SettingsError, match="--http-port"):
        Settings.load(environ={}, overrides={"http_port": "x"})


def _allowed(policy: Policy, url: str) -> bool:
    try:
        policy.check(url)
    except OutboundError as exc:
        assert "AGENTREEL_OUTBOUND_HOSTS" in str(exc)
        return False
    return True


def test_outbound_hosts_default_follows_auth() -> None:
    s = Settings.load(environ={"AGENTREEL_OUTBOUND_HOSTS": " api.openai.com , *.slack.com,"})
    assert s.outbound_hosts == "api.openai.com,*.slack.com"
    assert Settings.load(environ={}).outbound_hosts == ""
    anywhere = Policy.from_setting("", auth_on=False)
    assert _allowed(anywhere, "http://169.254.169.254/") and _allowed(anywhere, "http://x:1/")
    providers = Policy.from_setting("", auth_on=True)
    for url in (
        "https://api.openai.com/v1",
        "https://api.anthropic.com",
        "https://hooks.slack.com/s/1",
    ):
        assert _allowed(providers, url), url
    for url in (
        "http://127.0.0.1:8080/v1",
        "https://api.openai.com.evil.io/v1",
        "https://openai.com",
    ):
        assert not _allowed(providers, url), url


def test_outbound_hosts_patterns() -> None:
    policy = Policy.from_setting("*.slack.com,127.0.0.1:8080,LLM.internal", auth_on=True)
    assert _allowed(policy, "https://hooks.slack.com/x")
    assert not _allowed(policy, "https://slack.com/x")  # *.domain is its subdomains
    assert not _allowed(policy, "https://hooks.slack.com.evil.io/x")
    assert _allowed(policy, "http://127.0.0.1:8080/v1")
    assert not _allowed(policy, "http://127.0.0.1:8081/v1")  # the port is part of the entry
    assert _allowed(policy, "http://llm.internal:9000/v1")  # no port: any port
    assert not _allowed(policy, "http://user@evil.io/?x=llm.internal")


def test_metadata_addresses_need_an_exact_entry_when_auth_is_on() -> None:
    metadata = (
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/",  # the same address, as a resolver reads it
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
    )
    for url in metadata:
        assert not _allowed(Policy.from_setting("*", auth_on=True), url), url
        assert _allowed(Policy.from_setting("*", auth_on=False), url), url
    assert _allowed(Policy.from_setting("*,169.254.169.254", auth_on=True), metadata[1])


def test_the_sdks_own_variables_are_not_refused() -> None:
    # An agent's shell exports them beside the server's (re-run mode); the CLI still runs.
    env = {"AGENTREEL_SERVER": "http://127.0.0.1:4318", "AGENTREEL_RERUN_OF": "ab" * 16}
    assert Settings.load(environ=env).http_port == 4318
    with pytest.raises(SettingsError, match="AGENTREEL_RERUN_FRM"):
        Settings.load(environ={"AGENTREEL_RERUN_FRM": "3"})


def test_retention_is_refused_on_a_cluster() -> None:
    """Retention acts on the tables a single store has; a cluster's shards need their own."""
    for env in (
        "AGENTREEL_RETENTION_DAYS",
        "AGENTREEL_ROLLUP_RETENTION_DAYS",
        "AGENTREEL_MAX_DISK_GB",
    ):
        environ = {"AGENTREEL_CLICKHOUSE_CLUSTER": "agentreel", env: "30"}
        with pytest.raises(SettingsError, match=env):
            Settings.load(environ)
    assert Settings.load({"AGENTREEL_RETENTION_DAYS": "30"}).retention_days == 30
