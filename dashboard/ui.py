"""What every page shares: the request context, number formats, links, error banners and
the empty state that explains how to send data."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlparse

import streamlit as st

from .client import ApiClient, ApiError, NeedsKey, Refused, ServerDown
from .filters import Filters

#: Seconds an API answer is reused (widget clicks rerun the whole script).
CACHE_SECONDS = 5
#: Seconds one run's replay answers (timeline, diffs, a call's window) are reused: a click on
#: a step of a 2,000-span run must not rebuild its timeline. "Refresh now" and auto-refresh
#: drop them sooner.
RUN_CACHE_SECONDS = 60


@dataclass
class Context:
    """One page render: the client, the filters and when "now" is for this render."""

    client: ApiClient
    filters: Filters
    now: datetime
    facets: dict[str, Any] = field(default_factory=dict)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``/api/v1`` + ``path`` (answers reused for a few seconds)."""
        items = tuple(sorted((k, str(v)) for k, v in (params or {}).items() if v is not None))
        return _cached_get(self.client.base_url, self.client.api_key, path, items)

    def get_run(self, path: str) -> Any:
        """GET a run's replay answer (``/runs/{trace_id}/...``), reused for a minute."""
        return _cached_run_get(self.client.base_url, self.client.api_key, path)

    @property
    def params(self) -> dict[str, Any]:
        """The shared filters as the aggregate endpoints take them."""
        return self.filters.api_params(self.now)

    @property
    def runs_params(self) -> dict[str, Any]:
        return self.filters.runs_params(self.now)

    def link(self, **extra: str) -> str:
        """A link to a view of this dashboard with the current filters kept."""
        return "?" + urlencode({**self.filters.query(), **extra})


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False, max_entries=500)
def _cached_get(base_url: str, api_key: str, path: str, params: tuple[tuple[str, str], ...]) -> Any:
    return ApiClient(base_url, api_key).get(path, dict(params))


@st.cache_data(ttl=RUN_CACHE_SECONDS, show_spinner=False, max_entries=100)
def _cached_run_get(base_url: str, api_key: str, path: str) -> Any:
    return ApiClient(base_url, api_key).get(path)


def clear_cache() -> None:
    _cached_get.clear()
    _cached_run_get.clear()


def set_param(param: str, value: object, default: object = None) -> None:
    """Put ``value`` in the URL's ``param``; None, "" or ``default`` takes it out."""
    if value in (None, "", default):
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = str(value)


def sync_param(widget: str, param: str, default: str) -> None:
    """Widget callback: put the widget's value in the URL (its default leaves the URL)."""
    set_param(param, st.session_state[widget], default)


def url_pick(
    widget: Callable[..., Any], label: str, param: str, choices: dict[str, str], key: str
) -> str:
    """A choice widget (``st.segmented_control``, ``st.selectbox``…) whose value lives in the
    URL's ``param``; the first choice is the default. A value the URL names that is not a
    choice is said, and the default shown."""
    default = next(iter(choices))
    value = st.query_params.get(param, default)
    if value not in choices:
        shown = choices[default].lower() or "the default"
        st.warning(f"{label} cannot be {value!r}; showing {shown}.")
        value = default
    st.session_state[key] = value
    widget(
        label,
        list(choices),
        format_func=choices.__getitem__,
        key=key,
        on_change=sync_param,
        args=(key, param, default),
    )
    return value


def page_number() -> int:
    """The page of a paged table the URL asks for (``pg``, from 1); anything else is page 1."""
    raw = str(st.query_params.get("pg", "1"))
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


def pager(page: int, total: int, size: int, key: str) -> None:
    """Page through ``total`` rows ``size`` at a time; the page lives in the URL (``pg``)."""
    pages = max(1, -(-total // size))
    if pages == 1:
        return
    st.session_state[key] = min(page, pages)
    st.number_input(
        f"Page (of {pages:,})",
        min_value=1,
        max_value=pages,
        step=1,
        key=key,
        on_change=sync_param,
        args=(key, "pg", 1),
    )


def show_api_error(exc: ApiError) -> None:
    """The banner for a failed request: where it went and what to do, never a traceback."""
    if isinstance(exc, ServerDown):
        st.error(
            f"**Server unreachable.** {exc} Tried `{exc.url}`.\n\n"
            "Start it with `agentreel up` (or `agentreel serve`), or point the dashboard "
            "elsewhere with `AGENTREEL_API_URL` / `agentreel dashboard --api-url URL`.",
            icon=":material/cloud_off:",
        )
    elif isinstance(exc, NeedsKey):
        st.session_state["needs_key"] = True
        st.warning(
            f"**API key needed.** {exc} Enter a key of this project under **Connection** in "
            "the sidebar, or start the dashboard with `AGENTREEL_API_KEY` set "
            "(`agentreel keys create --project NAME` makes one).",
            icon=":material/key:",
        )
    elif isinstance(exc, Refused):
        st.error(
            f"**The server refused this view** ({exc.status}): {exc.detail}",
            icon=":material/error:",
        )
    else:
        st.error(str(exc))


def empty_state(api_url: str, what: str = "No runs yet") -> None:
    """How to send data: the OTLP endpoint, a five-line snippet, and the demo."""
    host = urlparse(api_url).hostname or "127.0.0.1"
    st.info(
        f"**{what}.** Point any OpenTelemetry-instrumented agent at this server.",
        icon=":material/inbox:",
    )
    st.markdown(
        f"OTLP/HTTP: `{api_url}/v1/traces` · OTLP/gRPC: `{host}:4317` (default port). "
        "Spans in the OpenTelemetry GenAI, OpenInference or OpenLLMetry conventions work "
        "unchanged. In Python:"
    )
    st.code(
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider, export\n"
        "from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter\n"
        "trace.set_tracer_provider(provider := TracerProvider())\n"
        "provider.add_span_processor(export.BatchSpanProcessor("
        f'OTLPSpanExporter("{api_url}/v1/traces")))',
        language="python",
    )
    st.markdown(
        "Then instrument your LLM client (e.g. `OpenAIInstrumentor().instrument()` from "
        "`openinference-instrumentation-openai`). To look around first, load a week of "
        f"sample runs: `agentreel demo --api-url {api_url}`."
    )


def money(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"${value:,.0f}"
    if abs(value) >= 1 or value == 0:
        return f"${value:,.2f}"
    return f"${value:.{_cent_digits(value)}f}"


def money_column(values: Any) -> str:
    """A printf format for a table column of amounts: as many decimals as its smallest
    non-zero amount needs for two significant digits (at least 4, as :func:`money`), so no
    row of a sub-cent model reads "$0.0000"."""
    small = [abs(float(v)) for v in values if v]
    return f"$%.{max(_cent_digits(min(small)) if small else 4, 4)}f"


def _cent_digits(value: float) -> int:
    """Decimals that show two significant digits of an amount under a dollar (at least 4):
    a call of $0.000042 is not "$0.0000"."""
    return min(10, max(4, 1 - math.floor(math.log10(abs(value)))))


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def millis(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def count(value: int | float | None) -> str:
    return "—" if value is None else f"{int(value):,}"


def table_time(iso: str) -> str:
    """``2026-11-21T10:00:00.123Z`` → ``2026-11-21 10:00``: a time for a table cell."""
    return iso[:16].replace("T", " ")


def short_time(iso: str) -> str:
    """``2026-11-21T10:00:00.123Z`` → ``2026-11-21 10:00:00``."""
    return iso[:19].replace("T", " ")
