"""What redaction at ingestion costs: the ingest thread's work per request (decode +
normalize) with no redaction, the four ready rules, and a rules file with per-attribute rules.

In process, on the ingest benchmark's workload (bench/_otlpgen.py: tool-loop agent runs whose
LLM spans carry the whole conversation so far), so the figures are CPU time of the one ingest
thread, the collector's bottleneck, without network or store noise.

Run: ``.venv/bin/python bench/redact.py [--spans 20000]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _otlpgen import GenConfig, generate

from agentreel.collector.decode import decode_traces_proto
from agentreel.collector.normalize import normalize_spans
from agentreel.collector.redact import IngestRedactor, from_setting
from agentreel.core.content import ContentCache

RULES_FILE = """
patterns = ["api_key", "email", "card", "phone"]
[[custom]]
name = "employee_id"
regex = 'EMP-\\d{6}'
[[attribute]]
key = "user.id"
mask = true
[[attribute]]
key = "gen_ai.tool.call.arguments"
patterns = ["card"]
"""


def run(bodies: list[bytes], setting: str) -> tuple[float, dict[str, int]]:
    """Seconds for decode (+ redact) + normalize of every body, and replacements per rule,
    with a new redactor (its memo starts empty, as in a server just started)."""
    redactor: IngestRedactor | None = from_setting(setting)
    cache, counts = ContentCache(), {}
    started = time.perf_counter()
    for body in bodies:
        decoded = decode_traces_proto(body)
        if redactor is not None:
            for rule, n in redactor.apply(decoded).items():
                counts[rule] = counts.get(rule, 0) + n
        normalize_spans(decoded, "bench", cache)
    return time.perf_counter() - started, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--spans", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N passes")
    args = ap.parse_args()
    workload = generate(GenConfig(spans=args.spans))
    bodies = [p.body for p in workload.payloads]
    mb = workload.otlp_bytes / 1e6
    print(f"workload: {workload.spans:,} spans in {len(bodies)} requests, {mb:,.1f} MB OTLP")
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.toml"
        rules.write_text(RULES_FILE)
        setups = {
            "no redaction": "",
            "email,card": "email,card",
            "ready rules (api_key,email,card,phone)": "api_key,email,card,phone",
            "rules file (+custom, per-attribute)": str(rules),
        }
        base = 0.0
        print(f"{'setup':<42} {'seconds':>8} {'spans/s':>9} {'MB/s':>7} {'vs none':>8}  counts")
        for name, setting in setups.items():
            best, counts = min(run(bodies, setting) for _ in range(args.repeat))
            base = base or best
            print(
                f"{name:<42} {best:>8.2f} {workload.spans / best:>9,.0f} {mb / best:>7.1f} "
                f"{best / base:>7.2f}x  {counts or ''}"
            )


if __name__ == "__main__":
    main()
