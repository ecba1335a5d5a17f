"""The shared filters of the dashboard's aggregate queries, checked before any query runs.

Every aggregate endpoint takes a time range (UTC; default the last 7 days up to now) and
exact-match filters on service, agent, model, provider and environment. A filter value must
be one the project has stored (checked against ``facet_values`` without the value ever
reaching SQL); every value that does reach a query is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .queries import BadQuery
from .rollups import SEP

#: Filters that are checked against stored values, in the order errors mention them.
FACETS = ("service", "agent", "model", "provider", "environment")

DEFAULT_RANGE = timedelta(days=7)
_LATEST_NS = int(1e11 * 1e9)


@dataclass(frozen=True)
class Scope:
    """What one aggregate request looks at: a project, ``[since, until)`` and filters."""

    project: str
    since_ns: int
    until_ns: int
    filters: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.filters.get(name)


def parse_time(name: str, raw: str | None, *, end: bool = False) -> int | None:
    """Nanoseconds since the epoch from ISO 8601 (date or datetime; naive is UTC) or epoch
    seconds. A bare date given as ``end`` means the end of that day (``until=2026-11-20``
    includes the 20th). Raises :class:`BadQuery` naming ``name``."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
                if end:
                    moment += timedelta(days=1)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise BadQuery(
                f"{name} must be an ISO 8601 date or time (2026-11-21, 2026-11-21T10:00:00Z) "
                "or epoch seconds"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp()
    if not 0 <= seconds < 1e11 or seconds != seconds:
        raise BadQuery(f"{name} is out of range")
    return int(seconds * 1e9)


def make_scope(
    project: str,
    since: str | None,
    until: str | None,
    filters: dict[str, str | None],
    now: datetime | None = None,
) -> Scope:
    """Parse and check the time range; keep the filters that were given (not yet checked
    against stored values: see :func:`check_values`)."""
    now_ns = int((now or datetime.now(UTC)).timestamp() * 1e9)
    until_ns = parse_time("until", until, end=True)
    since_ns = parse_time("since", since)
    if until_ns is None:
        until_ns = now_ns if since_ns is None or since_ns < now_ns else _LATEST_NS
    if since_ns is None:
        since_ns = max(0, until_ns - int(DEFAULT_RANGE.total_seconds() * 1e9))
    if until_ns <= since_ns:
        raise BadQuery("until must be after since")
    given = {k: v for k, v in filters.items() if v is not None and v != ""}
    for name, value in given.items():
        if name not in FACETS:
            raise BadQuery(f"unknown filter {name!r}")
        if len(value) > 512 or any(ord(c) < 32 for c in value) or SEP in value:
            raise BadQuery(f"{name} is not a valid {name} name")
    return Scope(project, since_ns, until_ns, given)


def stored_values(client: Any, project: str) -> dict[str, set[str]]:
    """Every service, agent, model, provider and environment the project has stored."""
    result = client.query(
        "SELECT toString(field), value FROM facet_values WHERE project = {project:String} "
        "GROUP BY field, value",
        parameters={"project": project},
    )
    values: dict[str, set[str]] = {name: set() for name in FACETS}
    for name, value in result.result_rows:
        values.setdefault(name, set()).add(value)
    return values


def check_values(client: Any, scope: Scope) -> None:
    """Reject a filter value the project never stored ("unknown model 'x'"), before any
    query runs with it."""
    if not scope.filters:
        return
    known = stored_values(client, scope.project)
    for name in FACETS:
        value = scope.get(name)
        if value is not None and value not in known[name]:
            raise BadQuery(f"unknown {name} {value!r}")
