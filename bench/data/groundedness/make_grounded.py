"""Writes part-grounded.jsonl from the hand-written cases in grounded_src/ (a.py … e.py).

Each case there is written out by hand; this script only numbers them and writes JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
CASES: list[dict] = []


def g(kind: str, q: str, ev: list[str], a: str, note: str, checkable: bool = True) -> None:
    CASES.append(
        {"kind": kind, "question": q, "evidence": ev, "answer": a, "note": note, "checkable": checkable}
    )


def main() -> None:
    for name in "abcde":
        exec((HERE / "grounded_src" / f"{name}.py").read_text(), {"g": g})
    numbers: Counter[str] = Counter()
    lines = []
    for case in CASES:
        numbers[case["kind"]] += 1
        row = {
            "id": f"g-{case['kind']}-{numbers[case['kind']]:02d}",
            "kind": case["kind"],
            "question": case["question"],
            "evidence": case["evidence"],
            "answer": case["answer"],
            "label": "grounded",
            "checkable": case["checkable"],
            "note": case["note"],
        }
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
    (HERE / "part-grounded.jsonl").write_text("".join(lines))
    print(f"{len(lines)} grounded cases")


if __name__ == "__main__":
    main()
