"""Split the labelled answers into a development set and a held-out set.

The parts (``part-*.jsonl``) are written by hand, each by someone who had not read the
checker. This script only shuffles each kind with a fixed seed and puts about 30% of it
in ``holdout.jsonl``: the checker is tuned on ``dev.jsonl`` only, and the held-out figure
says whether that tuning carried over.

Parts added after the first split form their own batch (``BATCHES``), split on its own with
the same seed: shuffling them in with the first batch would move cases the checker's author
had already read in ``dev.jsonl`` into ``holdout.jsonl``.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent
HOLDOUT_SHARE = 0.3
REQUIRED = ("id", "kind", "question", "evidence", "answer", "label", "checkable", "note")
# Split batch by batch, in this order; a part not listed here is refused.
BATCHES = (
    ("part-grounded.jsonl", "part-hallucinated.jsonl"),
    ("part-gset.jsonl",),
)


def load(names: tuple[str, ...]) -> list[dict]:
    cases: list[dict] = []
    for part in (HERE / name for name in names):
        for number, line in enumerate(part.read_text().splitlines(), 1):
            if not line.strip():
                continue
            case = json.loads(line)
            missing = [key for key in REQUIRED if key not in case]
            if missing or case["label"] not in ("grounded", "hallucinated"):
                raise SystemExit(f"{part.name}:{number}: missing {missing} or bad label")
            cases.append(case)
    return cases


def split(cases: list[dict]) -> tuple[list[dict], list[dict]]:
    by_group: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for case in cases:
        by_group[(case["label"], case["kind"])].append(case)
    rng = random.Random(21)
    dev: list[dict] = []
    holdout: list[dict] = []
    for group in sorted(by_group):
        members = sorted(by_group[group], key=lambda case: case["id"])
        rng.shuffle(members)
        cut = round(len(members) * HOLDOUT_SHARE)
        holdout += members[:cut]
        dev += members[cut:]
    return dev, holdout


def main() -> None:
    listed = {name for batch in BATCHES for name in batch}
    unlisted = sorted(p.name for p in HERE.glob("part-*.jsonl") if p.name not in listed)
    if unlisted:
        raise SystemExit(f"not in BATCHES: {unlisted}")
    cases: list[dict] = []
    dev: list[dict] = []
    holdout: list[dict] = []
    for batch in BATCHES:
        batch_cases = load(batch)
        cases += batch_cases
        batch_dev, batch_holdout = split(batch_cases)
        dev += batch_dev
        holdout += batch_holdout
    ids = [case["id"] for case in cases]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate ids")
    by_group: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for case in cases:
        by_group[(case["label"], case["kind"])].append(case)
    for name, rows in (("dev.jsonl", dev), ("holdout.jsonl", holdout)):
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        (HERE / name).write_text(text)
    print(f"{len(cases)} cases: {len(dev)} dev, {len(holdout)} held out")
    for (label, kind), members in sorted(by_group.items()):
        print(f"  {label:<13} {kind:<20} {len(members)}")


if __name__ == "__main__":
    main()
