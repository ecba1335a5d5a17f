"""Routing drift: how far the distribution of an agent's choices (tools, models, decision
outcomes) in a window moved from a baseline, as PSI and Jensen–Shannon divergence.

Both need every category on both sides: additive (Laplace) smoothing gives a category seen on
one side only a small share on the other, so a new tool shows as a large but finite shift.
A window is flagged when its PSI is above the threshold (0.2 by convention: "significant
shift"), both sides have at least ``min_count`` choices, and the change is beyond chance:
Pearson's chi-square test of the two windows' counts at the 1% level. A day of 30 choices
moves by chance more than PSI 0.2 now and then; the test keeps such days from being flags."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DEFAULT_THRESHOLD = 0.2
DEFAULT_MIN_COUNT = 30
SMOOTHING = 0.5
TOP_MOVERS = 3


#: Standard normal quantile of the chi-square test's level (1%, one-sided).
Z_LEVEL = 2.3263


@dataclass(frozen=True)
class Shift:
    psi: float
    js: float
    baseline_n: int
    current_n: int
    movers: list[dict[str, Any]]
    #: The counts differ beyond chance (chi-square test at the 1% level).
    significant: bool = False


def chi_square(baseline: Mapping[str, int], current: Mapping[str, int]) -> tuple[float, int]:
    """Pearson's chi-square statistic of the 2×K table of counts, and its degrees of freedom."""
    cats = [c for c in set(baseline) | set(current) if baseline.get(c, 0) + current.get(c, 0)]
    nb, nc = sum(baseline.values()), sum(current.values())
    if len(cats) < 2 or not nb or not nc:
        return 0.0, 0
    total = nb + nc
    stat = 0.0
    for c in cats:
        column = baseline.get(c, 0) + current.get(c, 0)
        for observed, n in ((baseline.get(c, 0), nb), (current.get(c, 0), nc)):
            expected = column * n / total
            stat += (observed - expected) ** 2 / expected
    return stat, len(cats) - 1


def chi_square_critical(df: int, z: float = Z_LEVEL) -> float:
    """The chi-square quantile for ``df`` degrees of freedom (Wilson–Hilferty: within 1% of
    the exact value at the 1% level, from df = 1)."""
    k = 2 / (9 * df)
    return float(df * (1 - k + z * math.sqrt(k)) ** 3)


def shares(counts: Mapping[str, int], categories: Iterable[str]) -> dict[str, float]:
    """Smoothed shares of ``categories`` (every one gets ``SMOOTHING`` extra counts)."""
    cats = list(categories)
    total = sum(counts.values()) + SMOOTHING * len(cats)
    return {c: (counts.get(c, 0) + SMOOTHING) / total for c in cats}


def compare(baseline: Mapping[str, int], current: Mapping[str, int]) -> Shift:
    """PSI, Jensen–Shannon divergence (base 2, 0..1) and the categories that moved most."""
    cats = sorted(set(baseline) | set(current))
    if not cats:
        return Shift(0.0, 0.0, 0, 0, [])
    p, q = shares(baseline, cats), shares(current, cats)
    psi = sum((q[c] - p[c]) * math.log(q[c] / p[c]) for c in cats)
    mid = {c: (p[c] + q[c]) / 2 for c in cats}
    js = 0.5 * sum(p[c] * math.log2(p[c] / mid[c]) for c in cats)
    js += 0.5 * sum(q[c] * math.log2(q[c] / mid[c]) for c in cats)
    nb, nc = sum(baseline.values()), sum(current.values())
    raw_p = {c: baseline.get(c, 0) / nb if nb else 0.0 for c in cats}
    raw_q = {c: current.get(c, 0) / nc if nc else 0.0 for c in cats}
    movers = sorted(cats, key=lambda c: abs(raw_q[c] - raw_p[c]), reverse=True)[:TOP_MOVERS]
    stat, df = chi_square(baseline, current)
    return Shift(
        psi,
        js,
        nb,
        nc,
        significant=df > 0 and stat > chi_square_critical(df),
        movers=[
            {
                "choice": c,
                "baseline_share": raw_p[c],
                "current_share": raw_q[c],
                "change": raw_q[c] - raw_p[c],
                "psi_contribution": (q[c] - p[c]) * math.log(q[c] / p[c]),
            }
            for c in movers
            if raw_q[c] != raw_p[c]
        ],
    )


def series(
    rows: Iterable[tuple[int, str, int, str, int]],
    windows: list[int],
    window_seconds: int,
    *,
    positions: bool = False,
    pinned: Mapping[tuple[str, int], Mapping[str, int]] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    min_count: int = DEFAULT_MIN_COUNT,
) -> list[dict[str, Any]]:
    """The drift time series: for each window in ``windows`` (epoch s starts) and each group
    (agent, or agent and position), the shift from the previous window or, with ``pinned``,
    from the pinned baseline's counts per group. ``rows`` come from
    :func:`agentreel.storage.drift.choice_counts`."""
    counts: dict[tuple[str, int], dict[int, Counter[str]]] = {}
    for bucket, agent, position, choice, n in rows:
        group = (agent, position if positions else 0)
        counts.setdefault(group, {}).setdefault(bucket, Counter())[choice] += n
    out = []
    for group in sorted(counts):
        by_window = counts[group]
        for start in windows:
            current = by_window.get(start, Counter())
            if pinned is not None:
                baseline: Mapping[str, int] = pinned.get(group, Counter())
            else:
                baseline = by_window.get(start - window_seconds, Counter())
            if not current and not baseline:
                continue
            shift = compare(baseline, current)
            enough = shift.baseline_n >= min_count and shift.current_n >= min_count
            row: dict[str, Any] = {
                "window_start": _iso(start),
                "window_end": _iso(start + window_seconds),
                "agent": group[0],
                "psi": round(shift.psi, 6),
                "js": round(shift.js, 6),
                "baseline_n": shift.baseline_n,
                "current_n": shift.current_n,
                "enough_data": enough,
                "significant": shift.significant,
                "flagged": enough and shift.significant and shift.psi > threshold,
                "top_movers": shift.movers,
            }
            if positions:
                row["position"] = group[1]
            out.append(row)
    return out


def pinned_counts(
    rows: Iterable[tuple[int, str, int, str, int]], positions: bool = False
) -> dict[tuple[str, int], Counter[str]]:
    """A pinned baseline's counts per group, all its windows together."""
    out: dict[tuple[str, int], Counter[str]] = {}
    for _, agent, position, choice, n in rows:
        out.setdefault((agent, position if positions else 0), Counter())[choice] += n
    return out


def window_starts(since_s: int, until_s: int, window_seconds: int) -> list[int]:
    """Starts of the windows (aligned to epoch multiples, as the store buckets) that overlap
    ``[since, until)``."""
    first = since_s - since_s % window_seconds
    return list(range(first, until_s, window_seconds))


def report(
    client: Any,
    project: str,
    by: str,
    window_seconds: int,
    since_ns: int,
    until_ns: int,
    *,
    agent: str | None = None,
    pinned_ns: tuple[int, int] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    min_count: int = DEFAULT_MIN_COUNT,
    positions: bool = False,
) -> dict[str, Any]:
    """The drift series of the windows overlapping ``[since, until)``, its flags and the
    latest window per group; the baseline is the previous window, or ``pinned_ns``."""
    from agentreel.storage.drift import choice_counts

    starts = window_starts(since_ns // 10**9, -(-until_ns // 10**9), window_seconds)
    pinned = None
    if pinned_ns is not None:
        rows = choice_counts(client, project, by, *pinned_ns, window_seconds, agent)
        pinned = pinned_counts(rows, positions)
    # From one window before the first: the first window's "previous" baseline.
    first_ns = (starts[0] - window_seconds) * 10**9 if starts else since_ns
    rows = choice_counts(client, project, by, first_ns, until_ns, window_seconds, agent)
    found = series(
        rows,
        starts,
        window_seconds,
        positions=positions,
        pinned=pinned,
        threshold=threshold,
        min_count=min_count,
    )
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for row in found:
        latest[(row["agent"], row.get("position", 0))] = row
    return {
        "by": by,
        "window_seconds": window_seconds,
        "threshold": threshold,
        "min_count": min_count,
        "series": found,
        "flags": [r for r in found if r["flagged"]],
        "latest": list(latest.values()),
    }


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
