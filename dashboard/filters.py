"""The shared filters every page applies, read from and written to the URL's query string.

Pure functions (no Streamlit): the URL is the source of truth, so a view can be shared by
its link. Bad input never reaches the server: :func:`parse_filters` names what is wrong with
a time range, :func:`unknown_values` a service/agent/model/provider/environment no data has,
:func:`search_problem` a search text with characters a search never needs, and
:func:`trace_id_problem` a run's id that is not one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

__all__ = [
    "DEFAULT_RANGE",
    "FACETS",
    "RANGES",
    "Filters",
    "parse_filters",
    "search_problem",
    "trace_id_problem",
    "unknown_values",
]

#: Time range presets: URL value → (label, length).
RANGES: dict[str, tuple[str, timedelta | None]] = {
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
    "custom": ("Custom dates", None),
}
DEFAULT_RANGE = "7d"
#: Filter name → (key of its list in /facets, label).
FACETS: dict[str, tuple[str, str]] = {
    "service": ("services", "Service"),
    "agent": ("agents", "Agent"),
    "model": ("models", "Model"),
    "provider": ("providers", "Provider"),
    "environment": ("environments", "Environment"),
}
#: What a search may contain: trace ids, run names, sessions and users are made of these.
_SEARCH_OK = re.compile(r"[A-Za-z0-9 _.:@/\-]")
MAX_SEARCH = 200
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_FILTER_VALUE = 300


@dataclass(frozen=True)
class Filters:
    """The filters of a view. ``since``/``until`` are whole UTC days, used with ``custom``."""

    range: str = DEFAULT_RANGE
    since: date | None = None
    until: date | None = None
    service: str | None = None
    agent: str | None = None
    model: str | None = None
    provider: str | None = None
    environment: str | None = None

    def window(self, now: datetime) -> tuple[datetime, datetime | None]:
        """Start and end of the time range; an end of None means "up to now"."""
        length = RANGES[self.range][1]
        if length is not None or self.since is None or self.until is None:
            start = now - (length or RANGES[DEFAULT_RANGE][1] or timedelta(days=7))
            return start.replace(second=0, microsecond=0), None
        start = datetime.combine(self.since, datetime.min.time(), UTC)
        return start, datetime.combine(self.until + timedelta(days=1), datetime.min.time(), UTC)

    def api_params(self, now: datetime) -> dict[str, Any]:
        """The contract's shared filter parameters (``since``, ``until``, exact matches)."""
        start, end = self.window(now)
        params: dict[str, Any] = {"since": _iso(start), "until": _iso(end) if end else None}
        params.update({name: getattr(self, name) for name in FACETS})
        return params

    def runs_params(self, now: datetime) -> dict[str, Any]:
        """The same filters for ``/runs``, which names its time bounds ``start_from``/``start_to``."""
        params = self.api_params(now)
        params["start_from"], params["start_to"] = params.pop("since"), params.pop("until")
        return params

    def query(self) -> dict[str, str]:
        """The filters as URL query parameters (defaults left out)."""
        out: dict[str, str] = {}
        if self.range != DEFAULT_RANGE:
            out["range"] = self.range
        if self.range == "custom":
            if self.since:
                out["since"] = self.since.isoformat()
            if self.until:
                out["until"] = self.until.isoformat()
        for name in FACETS:
            value = getattr(self, name)
            if value:
                out[name] = value
        return out


def parse_filters(query: Mapping[str, str]) -> tuple[Filters, list[str]]:
    """Filters from URL parameters, and a message per problem. With problems, the returned
    filters are the defaults for what was wrong; the page must show the messages and run no
    query with them."""
    problems: list[str] = []
    kind = query.get("range", DEFAULT_RANGE) or DEFAULT_RANGE
    if kind not in RANGES:
        problems.append(
            f"Unknown time range {kind!r}: choose one of {', '.join(RANGES)} "
            "(custom takes since=YYYY-MM-DD and until=YYYY-MM-DD)."
        )
        kind = DEFAULT_RANGE
    since = _day(query.get("since"), "start", problems)
    until = _day(query.get("until"), "end", problems)
    if kind == "custom" and not problems:
        if since is None or until is None:
            problems.append("A custom time range needs both a start and an end date.")
        elif until < since:
            problems.append(
                f"The end date {until.isoformat()} is before the start date "
                f"{since.isoformat()}: pick an end on or after the start."
            )
    values: dict[str, str | None] = {}
    for name, (_, label) in FACETS.items():
        value = query.get(name) or None
        if value is not None and len(value) > MAX_FILTER_VALUE:
            problems.append(f"The {label.lower()} filter is longer than any name agentreel keeps.")
            value = None
        values[name] = value
    return Filters(range=kind, since=since, until=until, **values), problems


def unknown_values(filters: Filters, facets: Mapping[str, Any]) -> list[str]:
    """A message per filter value that no stored data has in the time range."""
    problems = []
    for name, (key, label) in FACETS.items():
        value = getattr(filters, name)
        known = facets.get(key) or []
        if value is not None and value not in known:
            choices = ", ".join(repr(v) for v in known[:8]) or "none in this time range"
            problems.append(
                f"Unknown {label.lower()} {value!r}: no data in this time range has it "
                f"(known: {choices}). Pick one in the sidebar or clear the filter."
            )
    return problems


def search_problem(text: str) -> str | None:
    """Why ``text`` cannot be searched for, or None. A search matches trace ids, run names,
    sessions and users; quotes, semicolons, comment markers and the like never appear in
    those, and are refused rather than sent (they are what injection attempts are made of)."""
    if len(text) > MAX_SEARCH:
        return f"The search is {len(text)} characters long; {MAX_SEARCH} is the most it takes."
    bad = sorted({ch for ch in text if not _SEARCH_OK.fullmatch(ch)})
    if bad:
        shown = " ".join(repr(ch) for ch in bad[:10])
        return (
            f"The search cannot contain {shown}. It matches trace ids, run names, sessions "
            "and users: letters, digits, spaces and - _ . : @ / only. Nothing was searched."
        )
    return None


def trace_id_problem(text: str) -> str | None:
    """Why ``text`` (a run named in the URL) is not a trace id, or None."""
    if _TRACE_ID.match(text):
        return None
    return f"{text!r} is not a trace id (32 hexadecimal characters)."


def _day(raw: str | None, which: str, problems: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"The {which} date {raw!r} is not a date: write it as YYYY-MM-DD.")
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
