"""The schema on a ClickHouse cluster: the single-node DDL of :mod:`.schema`, rewritten.

There is one definition of the schema: the statements of the migrations (and of their
Python steps). On a cluster each statement is rewritten as it is sent (:class:`ClusterClient`
wraps the client, so a migration's ``apply`` step is rewritten too, with nothing passed to
it), by :func:`rewrite`:

* a table holding a trace's rows (``spans``, ``runs``, ``message_events``, ``scores`` ...)
  becomes ``<table>_local`` with the ``Replicated`` form of its engine, one copy per shard,
  and a ``Distributed`` table under the name the code uses, sharded by
  ``cityHash64(trace_id)``: a trace's spans, its ``runs`` row, its scores and events live on
  one shard, so the views that fold a trace (``runs_mv``) see all of its spans locally;
* ``content`` is sharded by ``cityHash64(hash)``: every writer's copy of one message lands on
  one shard, where ``ReplacingMergeTree`` folds them;
* rollups without a trace id (``facet_values``, ``step_daily``, ``user_daily``) are filled
  by views on each shard's spans; their ``Distributed`` table (key ``rand()``, for the rare
  direct insert of a backfill or reprice) adds the shards' partial aggregates at read time,
  which the dashboard's ``GROUP BY`` reads do anyway;
* small tables read whole and written rarely (projects, API keys, price overrides, alert
  rules and history, the migrations ledger) are not sharded: one replica on every node
  (a replication path without ``{shard}``), so any node answers from its own copy;
* a materialized view is created on every node and reads and writes the local tables;
* ``ALTER``, ``DROP`` and ``EXCHANGE`` go ``ON CLUSTER``, to the local table and (for a
  column change or a drop) to the ``Distributed`` table in front of it;
* in a backfill (``INSERT ... SELECT``), ``NOT IN (SELECT ...)`` and ``JOIN (SELECT ...)``
  become ``GLOBAL``: a subquery on a ``Distributed`` table inside a distributed query is
  refused otherwise (``distributed_product_mode = 'deny'``).

Without a cluster nothing is rewritten: chDB and a single server run the statements as they
are. A table the maps below do not know is refused, so a new migration has to choose.
"""

from __future__ import annotations

import re
from typing import Any

#: Tables sharded across the cluster, and the sharding key of each.
SHARD_KEYS: dict[str, str] = {
    "spans": "cityHash64(trace_id)",
    "runs": "cityHash64(trace_id)",
    "runs_merged": "cityHash64(trace_id)",
    "run_rollup": "cityHash64(trace_id)",
    "message_events": "cityHash64(trace_id)",
    "scores": "cityHash64(trace_id)",
    "escalation_rows": "cityHash64(trace_id)",
    "content": "cityHash64(hash)",
    "facet_values": "rand()",
    "step_daily": "rand()",
    "user_daily": "rand()",
    # A metric point's copies (an exporter's retry, a spool replay) must meet on one shard for
    # FINAL to fold them: the key is made of the point's own identity, never rand().
    "genai_metric_points": "cityHash64(project, metric, service, start_time)",
}

#: Tables with a full replica on every node (not sharded).
EVERYWHERE = frozenset(
    {
        "agentreel_migrations",
        "projects",
        "api_keys",
        "price_overrides",
        "alert_rules",
        "alert_history",
        "retention",
    }
)

#: Where a sharded table's replicas meet in Keeper (macros filled in by each node).
SHARD_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
#: Where the replicas of a table kept on every node meet: one path for the whole cluster.
EVERYWHERE_PATH = "/clickhouse/tables/all/{database}/{table}"

LOCAL = "_local"


class ClusterDDLError(ValueError):
    """A statement the rewriter does not know how to place on a cluster."""


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_CREATE_TABLE = re.compile(rf"^(\s*CREATE TABLE IF NOT EXISTS )({_NAME})(\s*\()", re.S)
_ENGINE = re.compile(r"ENGINE = (\w*MergeTree)(?:\(([^()]*)\))?")
_CREATE_VIEW = re.compile(
    rf"^(\s*CREATE MATERIALIZED VIEW IF NOT EXISTS )({_NAME}) TO ({_NAME})( AS)", re.S
)
_ALTER = re.compile(rf"^(\s*ALTER TABLE )({_NAME})( .*)$", re.S)
_DROP_VIEW = re.compile(rf"^(\s*DROP VIEW IF EXISTS )({_NAME})(\s*)$", re.S)
_DROP_TABLE = re.compile(rf"^(\s*DROP TABLE IF EXISTS )({_NAME})((?: SYNC)?\s*)$", re.S)
_EXCHANGE = re.compile(rf"^(\s*EXCHANGE TABLES )({_NAME}) AND ({_NAME})(\s*)$", re.S)
_INSERT = re.compile(r"^\s*INSERT INTO ", re.S)
_NOT_IN = re.compile(r"\bNOT IN \(SELECT\b")
_JOIN = re.compile(r"(?<!GLOBAL )\b((?:LEFT |INNER )?JOIN \()")


def _placed(table: str) -> str:
    if table in SHARD_KEYS:
        return "sharded"
    if table in EVERYWHERE:
        return "everywhere"
    raise ClusterDDLError(
        f"table {table!r} has no place on a cluster: add it to SHARD_KEYS or EVERYWHERE "
        "in storage/cluster.py"
    )


def _replicated(statement: str, path: str) -> str:
    match = _ENGINE.search(statement)
    if match is None:
        raise ClusterDDLError(f"no MergeTree engine in: {statement.strip()[:80]}")
    engine, args = match.group(1), match.group(2)
    replica = f"'{path}', '{{replica}}'" + (f", {args}" if args else "")
    return (
        statement[: match.start()]
        + f"ENGINE = Replicated{engine}({replica})"
        + statement[match.end() :]
    )


def _local_sources(select: str) -> str:
    """``FROM``/``JOIN`` of a sharded table read its local table instead."""

    def local(match: re.Match[str]) -> str:
        name = match.group(2)
        return match.group(1) + (name + LOCAL if name in SHARD_KEYS else name)

    return re.sub(rf"\b(FROM |JOIN )({_NAME})\b", local, select)


def rewrite(statement: str, cluster: str) -> list[str]:
    """The statements that do on ``cluster`` what ``statement`` does on one node."""
    on = f" ON CLUSTER {cluster}"
    if match := _CREATE_TABLE.match(statement):
        head, table, paren = match.groups()
        rest = statement[match.end() :]
        if _placed(table) == "everywhere":
            return [_replicated(head + table + on + paren + rest, EVERYWHERE_PATH)]
        local = table + LOCAL
        front = (
            f"{head}{table}{on} AS {local}\n"
            f"ENGINE = Distributed({cluster}, currentDatabase(), {local}, {SHARD_KEYS[table]})\n"
        )
        return [_replicated(head + local + on + paren + rest, SHARD_PATH), front]
    if match := _CREATE_VIEW.match(statement):
        head, view, target, as_ = match.groups()
        target = target + LOCAL if _placed(target) == "sharded" else target
        rest = _local_sources(statement[match.end() :])
        return [f"{head}{view}{on} TO {target}{as_}{rest}"]
    if match := _ALTER.match(statement):
        head, table, rest = match.groups()
        if _placed(table) == "everywhere":
            return [f"{head}{table}{on}{rest}"]
        altered = [f"{head}{table}{LOCAL}{on}{rest}"]
        # The Distributed table shows the local table's columns: a change of columns goes to
        # it too; work on the data (MATERIALIZE, UPDATE, DELETE) only where the data is.
        if re.search(r"\b(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b", rest):
            altered.append(f"{head}{table}{on}{rest}")
        return altered
    if match := _DROP_VIEW.match(statement):
        head, view, tail = match.groups()
        return [f"{head}{view}{on}{tail}"]
    if match := _DROP_TABLE.match(statement):
        head, table, tail = match.groups()
        if _placed(table) == "everywhere":
            return [f"{head}{table}{on}{tail}"]
        return [f"{head}{table}{on}{tail}", f"{head}{table}{LOCAL}{on}{tail}"]
    if match := _EXCHANGE.match(statement):
        head, first, second, tail = match.groups()
        if _placed(first) == "everywhere" or _placed(second) == "everywhere":
            return [f"{head}{first} AND {second}{on}{tail}"]
        # The data swaps between the local tables; each Distributed table in front is
        # made again from its local table's new columns (it holds no data of its own).
        swapped = [f"{head}{first}{LOCAL} AND {second}{LOCAL}{on}{tail}"]
        for table in (first, second):
            swapped.append(f"DROP TABLE IF EXISTS {table}{on} SYNC")
            swapped.append(
                f"CREATE TABLE IF NOT EXISTS {table}{on} AS {table}{LOCAL}\n"
                f"ENGINE = Distributed({cluster}, currentDatabase(), {table}{LOCAL}, "
                f"{SHARD_KEYS[table]})\n"
            )
        return swapped
    if _INSERT.match(statement):
        return [_JOIN.sub(r"GLOBAL \1", _NOT_IN.sub("GLOBAL NOT IN (SELECT", statement))]
    raise ClusterDDLError(f"cannot place this statement on a cluster: {statement.strip()[:80]}")


class ClusterClient:
    """A store client whose ``command`` runs each statement as :func:`rewrite` places it on
    ``cluster``; everything else goes to the wrapped client as it is."""

    def __init__(self, client: Any, cluster: str) -> None:
        self._client = client
        self.cluster = cluster

    def command(self, statement: str, *args: Any, **kwargs: Any) -> Any:
        result = None
        for placed in rewrite(statement, self.cluster):
            result = self._client.command(placed, *args, **kwargs)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class _Result:
    def __init__(self) -> None:
        self.result_rows = [[0]]


class Recorder:
    """A client with no store behind it that keeps what it is told to run: the DDL a fresh
    store receives. Every query answers 0 (nothing there yet, as in a fresh store)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def command(self, statement: str, *args: Any, **kwargs: Any) -> None:
        self.statements.append(statement)

    def query(self, *args: Any, **kwargs: Any) -> _Result:
        return _Result()

    def insert(self, *args: Any, **kwargs: Any) -> None:
        """The ledger's rows are not DDL."""


def script(cluster: str | None = None) -> str:
    """The whole DDL a fresh store runs, in order, ``;``-terminated; ``cluster`` rewrites it
    for that cluster (``agentreel migrate --print``)."""
    from .schema import migrate

    recorder = Recorder()
    migrate(recorder, cluster or "")
    return "".join(statement.rstrip() + "\n;\n" for statement in recorder.statements)
