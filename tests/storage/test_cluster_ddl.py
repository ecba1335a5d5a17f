"""The cluster schema: the migrations' statements rewritten ON CLUSTER (storage/cluster.py).

Golden files hold the whole DDL of a fresh store: ``single_node.sql`` was taken from main
before the cluster rewriter existed (chDB and one server must keep running exactly it), and
``cluster.sql`` is the rewrite for a cluster named ``agentreel``. A new migration changes
both: regenerate them with ``AGENTREEL_TEST_UPDATE_GOLDEN=1`` and read the diff.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest

from agentreel.settings import Settings, SettingsError
from agentreel.storage import cluster, schema

GOLDEN = Path(__file__).parent / "golden"
UPDATE = "AGENTREEL_TEST_UPDATE_GOLDEN"


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get(UPDATE) == "1":
        path.write_text(text)
    expected = path.read_text()
    assert text == expected, (
        f"generated DDL differs from tests/storage/golden/{name}. If a migration was added "
        f"or changed on purpose, regenerate with `{UPDATE}=1 .venv/bin/pytest "
        f"tests/storage/test_cluster_ddl.py -n 0` and review the diff in git."
    )


def test_single_node_ddl_matches_golden() -> None:
    _check_golden("single_node.sql", cluster.script())


def test_cluster_ddl_matches_golden() -> None:
    _check_golden("cluster.sql", cluster.script("agentreel"))


class _Spy:
    """Passes every call to a real chDB client and keeps the DDL it sent."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.sent: list[str] = []

    def command(self, statement: str, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(statement)
        return self.client.command(statement, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_script_is_what_a_fresh_chdb_store_runs(store: Any) -> None:
    """The printed DDL (made with no store) is exactly what migrating a real, empty chDB
    database sends, statement by statement."""
    database = f"fresh_{uuid.uuid4().hex[:10]}"
    store.command(f"CREATE DATABASE {database}")
    spy = _Spy(clickhouse_connect.get_client(dsn=f"chdb://{store.path}", database=database))
    applied = schema.migrate(spy)
    assert applied == [m.version for m in schema.MIGRATIONS]
    sent = "".join(s.rstrip() + "\n;\n" for s in spy.sent)
    assert sent == (GOLDEN / "single_node.sql").read_text()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split("\n;\n") if s.strip()]


def test_clickhouse_parses_every_cluster_statement(store: Any) -> None:
    """ClickHouse's own parser (``EXPLAIN AST``, which runs nothing) accepts each statement
    of the cluster DDL. Whether a real cluster runs them is not tested here (no ClickHouse
    server on this machine)."""
    statements = _statements(cluster.script("k1"))
    assert len(statements) > len(_statements(cluster.script()))
    for statement in statements:
        assert store.query("EXPLAIN AST " + statement).result_rows, statement
    with pytest.raises(Exception, match="Syntax error"):
        store.query("EXPLAIN AST ALTER TABLE x ADD COLUMN IF NOT EXISTS ON CLUSTER k y UInt8")


def test_every_cluster_table_is_replicated_and_views_stay_on_their_shard() -> None:
    single = _statements(cluster.script())
    placed = _statements(cluster.script("c1"))
    tables = [re.search(r"CREATE TABLE IF NOT EXISTS (\w+)", s) for s in single]
    made = {m.group(1) for m in tables if m}
    for statement in placed:
        assert "ON CLUSTER c1" in statement or statement.startswith("INSERT INTO"), statement
        if statement.startswith("CREATE TABLE"):
            engine = re.search(r"ENGINE = (\w+)", statement)
            assert engine is not None
            assert engine.group(1).startswith("Replicated") or engine.group(1) == "Distributed"
        if statement.startswith("CREATE MATERIALIZED VIEW"):
            assert re.search(r" TO \w+_local AS", statement), statement
            assert re.findall(r"\bFROM (\w+)", statement) == ["spans_local"], statement
    for table in made:
        if table in cluster.EVERYWHERE:
            continue
        front = (
            f"CREATE TABLE IF NOT EXISTS {table} ON CLUSTER c1 AS {table}_local\n"
            f"ENGINE = Distributed(c1, currentDatabase(), {table}_local, "
            f"{cluster.SHARD_KEYS[table]})"
        )
        assert front in placed, table
    # What a trace is made of lives on one shard: sharded by the same key.
    for table in ("spans", "runs", "message_events", "scores", "escalation_rows"):
        assert cluster.SHARD_KEYS[table] == "cityHash64(trace_id)"


# Hand-written expectations of each form the migrations use.
CASES = [
    (
        "CREATE TABLE IF NOT EXISTS scores (\n  a String\n)\n"
        "ENGINE = ReplacingMergeTree(ingested_at)\nORDER BY a\n",
        [
            "CREATE TABLE IF NOT EXISTS scores_local ON CLUSTER k (\n  a String\n)\n"
            "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/"
            "{table}', '{replica}', ingested_at)\nORDER BY a\n",
            "CREATE TABLE IF NOT EXISTS scores ON CLUSTER k AS scores_local\n"
            "ENGINE = Distributed(k, currentDatabase(), scores_local, cityHash64(trace_id))\n",
        ],
    ),
    (
        "CREATE TABLE IF NOT EXISTS projects (name String) ENGINE = ReplacingMergeTree ORDER BY name",
        [
            "CREATE TABLE IF NOT EXISTS projects ON CLUSTER k (name String) ENGINE = "
            "ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', "
            "'{replica}') ORDER BY name"
        ],
    ),
    (
        "CREATE MATERIALIZED VIEW IF NOT EXISTS runs_mv TO runs AS SELECT a FROM spans GROUP BY a",
        [
            "CREATE MATERIALIZED VIEW IF NOT EXISTS runs_mv ON CLUSTER k TO runs_local AS "
            "SELECT a FROM spans_local GROUP BY a"
        ],
    ),
    (
        "ALTER TABLE runs ADD COLUMN IF NOT EXISTS x UInt8",
        [
            "ALTER TABLE runs_local ON CLUSTER k ADD COLUMN IF NOT EXISTS x UInt8",
            "ALTER TABLE runs ON CLUSTER k ADD COLUMN IF NOT EXISTS x UInt8",
        ],
    ),
    (
        "ALTER TABLE spans UPDATE cost_usd = 1 WHERE 1",
        ["ALTER TABLE spans_local ON CLUSTER k UPDATE cost_usd = 1 WHERE 1"],
    ),
    ("DROP VIEW IF EXISTS runs_mv", ["DROP VIEW IF EXISTS runs_mv ON CLUSTER k"]),
    (
        "DROP TABLE IF EXISTS run_rollup SYNC",
        [
            "DROP TABLE IF EXISTS run_rollup ON CLUSTER k SYNC",
            "DROP TABLE IF EXISTS run_rollup_local ON CLUSTER k SYNC",
        ],
    ),
    (
        "EXCHANGE TABLES runs AND runs_merged",
        [
            "EXCHANGE TABLES runs_local AND runs_merged_local ON CLUSTER k",
            "DROP TABLE IF EXISTS runs ON CLUSTER k SYNC",
            "CREATE TABLE IF NOT EXISTS runs ON CLUSTER k AS runs_local\n"
            "ENGINE = Distributed(k, currentDatabase(), runs_local, cityHash64(trace_id))\n",
            "DROP TABLE IF EXISTS runs_merged ON CLUSTER k SYNC",
            "CREATE TABLE IF NOT EXISTS runs_merged ON CLUSTER k AS runs_merged_local\n"
            "ENGINE = Distributed(k, currentDatabase(), runs_merged_local, cityHash64(trace_id))\n",
        ],
    ),
    (
        "INSERT INTO facet_values SELECT a FROM spans s LEFT JOIN (SELECT b FROM spans) r "
        "ON 1 WHERE a NOT IN (SELECT a FROM facet_values)",
        [
            "INSERT INTO facet_values SELECT a FROM spans s GLOBAL LEFT JOIN (SELECT b FROM "
            "spans) r ON 1 WHERE a GLOBAL NOT IN (SELECT a FROM facet_values)"
        ],
    ),
]


@pytest.mark.parametrize(("statement", "expected"), CASES)
def test_rewrite_forms(statement: str, expected: list[str]) -> None:
    assert cluster.rewrite(statement, "k") == expected


def test_rewrite_refuses_what_it_cannot_place() -> None:
    with pytest.raises(cluster.ClusterDDLError, match="'widgets' has no place on a cluster"):
        cluster.rewrite("CREATE TABLE IF NOT EXISTS widgets (a String) ENGINE = MergeTree", "k")
    with pytest.raises(cluster.ClusterDDLError, match="cannot place"):
        cluster.rewrite("RENAME TABLE spans TO spans_old", "k")


def test_cluster_setting() -> None:
    settings = Settings.load(environ={"AGENTREEL_CLICKHOUSE_CLUSTER": "prod_1"})
    assert settings.clickhouse_cluster == "prod_1"
    assert Settings.load(environ={}).clickhouse_cluster == ""
    with pytest.raises(SettingsError, match="AGENTREEL_CLICKHOUSE_CLUSTER"):
        Settings.load(environ={"AGENTREEL_CLICKHOUSE_CLUSTER": "prod; DROP"})


def test_cli_prints_the_cluster_ddl_without_a_store(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from agentreel.cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main(["migrate", "--cluster", "agentreel", "--print"]) == 0
    assert capsys.readouterr().out == (GOLDEN / "cluster.sql").read_text()
    assert not any(tmp_path.iterdir())  # no store was opened
    assert main(["migrate", "--cluster", "bad name", "--print"]) == 2
    assert "--clickhouse-cluster" in capsys.readouterr().err
