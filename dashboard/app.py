"""The agentreel dashboard: ``streamlit run`` this file (``agentreel dashboard`` does).

The page, the filters and what is open (a run, a comparison) live in the URL's query
string, so any view can be shared by its link. All data comes from the REST API at
``AGENTREEL_API_URL`` (with ``AGENTREEL_API_KEY`` when the server wants a key).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import streamlit as st

from agentreel.dashboard.client import ApiClient, ApiError, api_settings
from agentreel.dashboard.filters import (
    DEFAULT_RANGE,
    FACETS,
    RANGES,
    parse_filters,
    search_problem,
    unknown_values,
)
from agentreel.dashboard.ui import (
    Context,
    clear_cache,
    empty_state,
    set_param,
    show_api_error,
    sync_param,
)
from agentreel.dashboard.views import PAGES

ALL = "(all)"
#: Query parameters that belong to one page and are dropped when another page is opened.
PAGE_PARAMS = ("run", "against", "session", "q", "status", "sort", "by", "call", "step", "pg")
REFRESH_CHOICES = (10, 30, 60, 300)


def main() -> None:
    st.set_page_config(page_title="agentreel", page_icon="🎞️", layout="wide")
    api_url, env_key = api_settings()
    page = _navigation()
    title, render = PAGES[page]
    if page == "runs" and st.query_params.get("run"):
        title = "Compare runs" if st.query_params.get("against") else "Run replay"
    if page == "sessions" and st.query_params.get("session"):
        title = "Session"
    st.title(title)
    client = ApiClient(api_url, st.session_state.get("api_key") or env_key)
    _connection(api_url, env_key)
    filters, problems = parse_filters(_query())
    search = search_problem(st.query_params.get("q", ""))
    if search:
        problems.append(search)
    ctx = Context(client, filters, datetime.now(UTC))
    if problems:  # a bad time range is never sent, not even to list the filter choices
        _sidebar_filters(ctx, {})
        _refuse(problems)
        return
    try:
        ctx.facets = ctx.get("/facets", _time_only(ctx))
    except ApiError as exc:
        _sidebar_filters(ctx, {})
        show_api_error(exc)
        st.button("Try again", on_click=clear_cache)
        return
    _sidebar_filters(ctx, ctx.facets)
    refresh = _refresh_controls()
    problems = unknown_values(filters, ctx.facets)
    if problems:
        _refuse(problems)
        return
    if not ctx.facets.get("first_time"):
        empty_state(api_url)
        return
    _page_body(ctx, render, refresh)


def _refuse(problems: list[str]) -> None:
    for problem in problems:
        st.error(problem, icon=":material/block:")
    st.caption("Nothing was queried with these filters. Fix them in the sidebar.")


def _page_body(ctx: Context, render: Callable[[Context], None], refresh: int | None) -> None:
    @st.fragment(run_every=timedelta(seconds=refresh) if refresh else None)
    def body() -> None:
        if refresh:
            clear_cache()
            ctx.now = datetime.now(UTC)
            st.caption(f"Auto-refresh every {refresh} s · updated {ctx.now:%H:%M:%S} UTC")
        try:
            render(ctx)
        except ApiError as exc:
            show_api_error(exc)

    body()


def _query() -> dict[str, str]:
    return {k: st.query_params.get(k, "") for k in st.query_params}


def _navigation() -> str:
    labels = {key: title for key, (title, _) in PAGES.items()}
    page = st.query_params.get("page", "overview")
    if page not in PAGES:
        st.warning(f"There is no page {page!r}; showing the overview.")
        page = "overview"
    st.sidebar.title("agentreel")
    st.session_state["nav"] = page

    def switch() -> None:
        for name in PAGE_PARAMS:
            set_param(name, None)
        set_param("page", st.session_state["nav"], "overview")

    st.sidebar.radio(
        "Page", list(PAGES), format_func=labels.__getitem__, key="nav", on_change=switch
    )
    return page


def _connection(api_url: str, env_key: str) -> None:
    needs_key = bool(st.session_state.get("needs_key"))
    with st.sidebar.expander("Connection", expanded=needs_key):
        st.caption(f"Server: `{api_url}`")
        st.text_input(
            "API key",
            type="password",
            key="api_key",
            placeholder="from AGENTREEL_API_KEY" if env_key else "only if the server asks",
            help="Sent as `Authorization: Bearer <key>`; kept in this browser session only.",
            on_change=_key_changed,
        )
        st.caption(
            "Project: the one your API key belongs to."
            if (st.session_state.get("api_key") or env_key)
            else "Project: the server's default project (no key sent)."
        )


def _key_changed() -> None:
    clear_cache()
    st.session_state.pop("needs_key", None)


def _sidebar_filters(ctx: Context, facets: dict[str, Any]) -> None:
    side = st.sidebar
    side.header("Filters")
    f = ctx.filters
    st.session_state["f_range"] = f.range

    def on_range() -> None:
        value = st.session_state["f_range"]
        set_param("range", value, DEFAULT_RANGE)
        if value != "custom":
            set_param("since", None)
            set_param("until", None)
        else:
            today = datetime.now(UTC).date()
            set_param("since", (today - timedelta(days=6)).isoformat())
            set_param("until", today.isoformat())

    side.selectbox(
        "Time range",
        list(RANGES),
        format_func=lambda k: RANGES[k][0],
        key="f_range",
        on_change=on_range,
    )
    if f.range == "custom":
        st.session_state["f_days"] = (f.since, f.until) if f.since and f.until else ()

        def on_days() -> None:
            days = st.session_state["f_days"]
            if len(days) == 2:
                set_param("since", days[0].isoformat())
                set_param("until", days[1].isoformat())

        side.date_input("Dates (UTC)", key="f_days", on_change=on_days, max_value=date(2100, 1, 1))
    for name, (key, label) in FACETS.items():
        known = [str(v) for v in (facets.get(key) or [])]
        current = getattr(f, name)
        widget = f"f_{name}"
        st.session_state[widget] = current if current in known else ALL
        side.selectbox(
            label, [ALL, *known], key=widget, on_change=sync_param, args=(widget, name, ALL)
        )
    if f.query():
        side.button("Clear filters", on_click=_clear_filters)


def _clear_filters() -> None:
    for name in ("range", "since", "until", *FACETS):
        set_param(name, None)


def _refresh_controls() -> int | None:
    side = st.sidebar
    raw = st.query_params.get("refresh", "")
    interval = int(raw) if raw.isdigit() and int(raw) in REFRESH_CHOICES else None
    st.session_state["auto_refresh"] = interval is not None
    st.session_state["refresh_every"] = interval or 30

    def on_change() -> None:
        on = st.session_state["auto_refresh"]
        set_param("refresh", str(st.session_state["refresh_every"]) if on else None)

    side.toggle("Auto-refresh", key="auto_refresh", on_change=on_change)
    if interval is not None:
        side.selectbox(
            "Every",
            REFRESH_CHOICES,
            key="refresh_every",
            format_func=lambda s: f"{s} s",
            on_change=on_change,
        )
    if side.button("Refresh now"):
        clear_cache()
    return interval


def _time_only(ctx: Context) -> dict[str, object]:
    params = ctx.params
    return {"since": params["since"], "until": params["until"]}


main()
