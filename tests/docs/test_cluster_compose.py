"""docker-compose.cluster.yml and deploy/cluster/ agree with each other and with agentreel.

Docker cannot run here, so this checks what can be checked without it: the YAML parses,
every file it mounts exists, the cluster of ``remote_servers.xml`` is the one the agentreel
services name, each node's macros match its place in that cluster, nginx balances over the
collectors the compose file runs, and each agentreel service's settings and command are
accepted by agentreel itself.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

import pytest

from agentreel.cli.main import _parser
from agentreel.settings import Settings

from support.paths import ROOT

yaml = pytest.importorskip("yaml")

DEPLOY = ROOT / "deploy" / "cluster"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.cluster.yml").read_text())


def _remote_servers() -> ET.Element:
    return ET.parse(DEPLOY / "remote_servers.xml").getroot()


def _cluster() -> tuple[str, list[list[str]]]:
    servers = _remote_servers().find("remote_servers")
    assert servers is not None
    clusters = list(servers)
    assert len(clusters) == 1
    shards = [
        [replica.findtext("host") or "" for replica in shard.findall("replica")]
        for shard in clusters[0].findall("shard")
    ]
    return clusters[0].tag, shards


def test_single_server_compose_stays() -> None:
    assert "clickhouse" in yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_every_mounted_file_exists(compose: dict[str, Any]) -> None:
    mounted = [
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if volume.startswith("./")
    ]
    assert mounted
    for path in mounted:
        assert (ROOT / path).is_file(), path


def test_two_shards_of_two_replicas_each_with_its_macros(compose: dict[str, Any]) -> None:
    name, shards = _cluster()
    assert [len(replicas) for replicas in shards] == [2, 2]
    services = compose["services"]
    for number, replicas in enumerate(shards, start=1):
        for host in replicas:
            assert services[host]["hostname"] == host
            macros_file = next(v.split(":")[0] for v in services[host]["volumes"] if "macros" in v)
            macros = ET.parse(ROOT / macros_file).getroot().find("macros")
            assert macros is not None
            assert macros.findtext("shard") == str(number)
            assert macros.findtext("replica") == host
    # Every node reaches the keeper service on the port it listens on.
    keeper = _remote_servers().find("zookeeper/node")
    assert keeper is not None and keeper.findtext("host") in services
    keeper_port = ET.parse(DEPLOY / "keeper.xml").getroot().findtext("keeper_server/tcp_port")
    assert keeper.findtext("port") == keeper_port
    assert name == "agentreel"


def _agentreel_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose["services"].items() if s.get("build") == "."}


def test_agentreel_services_name_the_cluster_and_its_nodes(compose: dict[str, Any]) -> None:
    name, shards = _cluster()
    nodes = {host for replicas in shards for host in replicas}
    services = _agentreel_services(compose)
    assert {"migrate", "collector-1", "collector-2", "dashboard"} <= set(services)
    parser = _parser()
    for service_name, service in services.items():
        settings = Settings.load(environ={k: str(v) for k, v in service["environment"].items()})
        args = parser.parse_args(service["command"][1:])
        if service_name == "dashboard":
            assert args.command == "dashboard"
            continue
        cluster = args.clickhouse_cluster or settings.clickhouse_cluster
        assert cluster == name, service_name
        assert urlsplit(settings.clickhouse_url).hostname in nodes, service_name
    assert parser.parse_args(services["migrate"]["command"][1:]).command == "migrate"
    for collector in ("collector-1", "collector-2"):
        assert services[collector]["command"] == ["agentreel", "serve"]
        assert services[collector]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


def test_one_otlp_endpoint_balances_both_collectors(compose: dict[str, Any]) -> None:
    nginx = (DEPLOY / "nginx.conf").read_text()
    upstreams = dict(re.findall(r"upstream (\w+) \{([^}]*)\}", nginx))
    collectors = sorted(n for n in compose["services"] if n.startswith("collector-"))
    for upstream, port in (("otlp_grpc", 4317), ("otlp_http", 4318)):
        assert sorted(re.findall(r"server ([\w-]+):(\d+);", upstreams[upstream])) == [
            (c, str(port)) for c in collectors
        ]
    assert "grpc_pass grpc://otlp_grpc;" in nginx and "listen 4317 http2;" in nginx
    assert "proxy_pass http://otlp_http;" in nginx and "listen 4318;" in nginx
    otlp = compose["services"]["otlp"]
    assert sorted(otlp["ports"]) == ["127.0.0.1:4317:4317", "127.0.0.1:4318:4318"]
    dashboard = compose["services"]["dashboard"]["command"]
    assert dashboard[dashboard.index("--api-url") + 1] == "http://otlp:4318"
