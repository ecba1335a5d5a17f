"""Retention: delete what is older than a project keeps, and cap the store's bytes on disk.

ClickHouse TTL cannot read a per-project setting, so a pass run by the server's background
loop (and by tests directly) does the work with lightweight ``DELETE``s:

* A run goes as a whole once its last span ended before its project's cutoff: its spans,
  message events, scores, escalation rows and its ``runs`` row. A run is never cut in two,
  so a retained run's page and totals stay what they were.
* Content is deduplicated by hash per project, so a message stays while any stored span or
  message event of the project refers to it. Content nobody refers to is deleted only when
  it was written more than ``grace`` seconds ago: the writer stores content just before the
  spans that refer to it, and an in-flight batch must not lose its messages.
* The daily rollups (``step_daily``, ``user_daily``) have their own, usually longer,
  retention: the dashboard's trends outlive the raw spans.

The disk cap drops whole partitions of ``spans`` (a month each), oldest first, never the
newest one, until the store's active parts fit; each drop is logged and counted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .schema import TABLES
from .writer import forget_content

log = logging.getLogger("agentreel.retention")

#: Seconds unreferenced content must have been stored before a pass deletes it.
CONTENT_GRACE = 3600.0

#: Tables whose rows belong to one run (deleted with it).
_RUN_TABLES = ("spans", "message_events", "scores", "escalation_rows")

#: Daily rollups, kept ``rollup_days``.
_DAILY_TABLES = ("step_daily", "user_daily")

_DAY_NS = 86_400 * 10**9


class RetentionError(ValueError):
    """A retention setting the store refuses; the message says why."""


def check_days(days: Any) -> int | None:
    """``days`` as a whole number of days above 0, or None (keep forever)."""
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise RetentionError(
            f"retention days must be a whole number of days above 0 (or null: keep forever), "
            f"not {days!r}"
        )
    return days


def overrides(client: Any) -> dict[str, int]:
    """Each project's own retention in days, for projects that set one."""
    rows = client.query(
        "SELECT project, argMax(days, version) AS d FROM retention GROUP BY project HAVING d > 0"
    ).result_rows
    return {str(p): int(d) for p, d in rows}


def set_project_days(client: Any, project: str, days: int | None) -> None:
    """Set ``project``'s retention; None removes its override (the server default applies)."""
    check_days(days)
    client.insert(
        "retention",
        [[project, days or 0, time.time_ns()]],
        column_names=["project", "days", "version"],
    )


def effective(client: Any, project: str, default: int | None) -> dict[str, Any]:
    """What ``GET /retention`` shows: the project's override, the default, and which applies."""
    own = overrides(client).get(project)
    return {
        "project": project,
        "days": own if own is not None else default,
        "project_days": own,
        "default_days": default,
    }


@dataclass
class PassResult:
    """What one pass deleted or dropped."""

    runs_deleted: dict[str, int] = field(default_factory=dict)
    content_deleted: int = 0
    #: ``(table, partition, bytes)`` of each partition the disk cap dropped, in order.
    dropped: list[tuple[str, str, int]] = field(default_factory=list)


def run_pass(
    client: Any,
    default_days: int | None,
    rollup_days: int | None = None,
    max_disk_bytes: int | None = None,
    *,
    now_ns: int | None = None,
    grace: float = CONTENT_GRACE,
    only: Iterable[str] | None = None,
) -> PassResult:
    """One retention pass: per-project deletes, then the disk cap. ``only`` limits the
    per-project deletes to these projects (the disk cap is store-wide)."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    result = PassResult()
    own = overrides(client)
    projects = [str(r[0]) for r in client.query("SELECT DISTINCT project FROM runs").result_rows]
    if only is not None:
        projects = [p for p in projects if p in set(only)]
    touched: set[str] = set()
    for project in projects:
        days = own.get(project, default_days)
        if days is None:
            continue
        touched.add(project)
        done = delete_runs_before(client, project, now_ns - int(days) * _DAY_NS)
        if done:
            result.runs_deleted[project] = done
    if rollup_days is not None:
        cutoff = datetime.fromtimestamp((now_ns - rollup_days * _DAY_NS) / 1e9, UTC)
        for table in _DAILY_TABLES:
            client.command(
                f"DELETE FROM {table} WHERE project IN {{ps:Array(String)}} "
                "AND day < toDate32({d:String})",
                parameters={"d": cutoff.date().isoformat(), "ps": projects},
            )
    if max_disk_bytes is not None:
        result.dropped = cap_disk(client, max_disk_bytes)
        if result.dropped:
            # Runs whose spans went with a partition go too, with their other rows.
            for table in ("runs", *_RUN_TABLES[1:]):
                client.command(
                    f"DELETE FROM {table} WHERE (project, trace_id) NOT IN "
                    "(SELECT DISTINCT project, trace_id FROM spans)"
                )
            touched.update(projects)
    if touched:
        result.content_deleted = delete_unreferenced_content(client, touched, now_ns, grace)
    return result


def delete_runs_before(client: Any, project: str, cutoff_ns: int) -> int:
    """Delete ``project``'s runs whose last span ended before ``cutoff_ns``; how many."""
    params = {"p": project, "cutoff": cutoff_ns}
    old = [
        str(r[0])
        for r in client.query(
            "SELECT trace_id FROM runs WHERE project = {p:String} GROUP BY trace_id "
            "HAVING toUnixTimestamp64Nano(max(end_time)) < {cutoff:Int64}",
            parameters=params,
        ).result_rows
    ]
    if not old:
        return 0
    for table in (*_RUN_TABLES, "runs"):
        client.command(
            f"DELETE FROM {table} WHERE project = {{p:String}} "
            "AND trace_id IN {traces:Array(String)}",
            parameters={"p": project, "traces": old},
        )
    return len(old)


def delete_unreferenced_content(
    client: Any, projects: Iterable[str], now_ns: int, grace: float
) -> int:
    """Delete content of these projects that no stored span or message event refers to and
    that was written more than ``grace`` seconds before ``now_ns``; how many rows."""
    deleted = 0
    written_before = (now_ns - int(grace * 1e9)) // 10**9
    for project in sorted(projects):
        params = {"p": project, "before": written_before}
        where = (
            "project = {p:String} AND written_at < toDateTime({before:Int64}) AND hash NOT IN ("
            "SELECT arrayJoin(arrayConcat(input_refs, output_refs, mapValues(attribute_refs))) "
            "FROM spans WHERE project = {p:String}) AND hash NOT IN ("
            "SELECT ref FROM message_events WHERE project = {p:String})"
        )
        count = int(
            client.query(
                f"SELECT count() FROM content WHERE {where}", parameters=params
            ).result_rows[0][0]
        )
        if count:
            client.command(f"DELETE FROM content WHERE {where}", parameters=params)
            deleted += count
    if deleted:
        # The writer remembers content it stored; what was deleted must be written again.
        forget_content()
    return deleted


def store_bytes(client: Any) -> int:
    """Bytes on disk of agentreel's tables (active parts)."""
    rows = client.query(
        "SELECT sum(bytes_on_disk) FROM system.parts WHERE active "
        "AND database = currentDatabase() AND table IN {tables:Array(String)}",
        parameters={"tables": list(TABLES)},
    ).result_rows
    return int(rows[0][0] or 0)


def cap_disk(client: Any, max_bytes: int) -> list[tuple[str, str, int]]:
    """Drop the oldest partitions of ``spans`` until the store fits ``max_bytes`` (the
    newest partition is never dropped); each drop logged. Returns ``(table, partition,
    bytes)`` of each drop, oldest first."""
    dropped: list[tuple[str, str, int]] = []
    while store_bytes(client) > max_bytes:
        parts = client.query(
            "SELECT partition_id, partition, sum(bytes_on_disk) FROM system.parts "
            "WHERE active AND database = currentDatabase() AND table = 'spans' "
            "GROUP BY partition_id, partition ORDER BY partition_id"
        ).result_rows
        if len(parts) <= 1:
            break
        partition_id, partition, size = parts[0]
        client.command(
            "ALTER TABLE spans DROP PARTITION ID {pid:String}",
            parameters={"pid": str(partition_id)},
        )
        log.warning(
            "disk cap: dropped partition table=spans partition=%s bytes=%d", partition, size
        )
        dropped.append(("spans", str(partition), int(size)))
    return dropped
