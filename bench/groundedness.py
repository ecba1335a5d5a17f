"""How well the hallucination detectors agree with hand labels: the model-free groundedness
check (and, with ``--judge``, the LLM judge) over the labelled set in
``bench/data/groundedness/`` — precision, recall, F1 and accuracy per case kind and overall
(hallucinated is the positive class), the false-alarm rate on correct answers that restate
their evidence, and PASS/FAIL against the targets of issue 21.

    .venv/bin/python bench/groundedness.py                 # dev and holdout
    .venv/bin/python bench/groundedness.py --write         # also store the figures the
                                                           # Quality page shows
    .venv/bin/python bench/groundedness.py --judge https://api.openai.com/v1 \\
        --judge-model gpt-4o-mini                          # key in AGENTREEL_JUDGE_API_KEY

An answer the check finds nothing to check in (``unchecked``) counts as not flagged: that is
what it costs the detector's recall, and the share of such cases is printed beside it."""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from agentreel.signals.groundedness import check
from agentreel.signals.judge import Judge, JudgeError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "groundedness"
QUALITY_FILE = ROOT / "signals" / "groundedness_quality.json"
TARGET_F1 = 0.80
TARGET_FALSE_ALARMS = 0.05
#: Correct answers that restate the evidence in other words or notation: where false alarms
#: are measured.
RESTATED = ("paraphrase", "reformat", "date_format", "unit_conversion", "arithmetic", "derived")
LABELS = ("grounded", "hallucinated")


class CaseError(ValueError):
    """A line of the labelled set is malformed; the message names the file, line and field."""


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    question: str
    evidence: list[str]
    answer: str
    hallucinated: bool


def load(path: Path) -> list[Case]:
    """The cases of one JSONL file; raises :class:`CaseError` on the first bad line."""
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            raw = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise CaseError(f"{where}: not JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise CaseError(f"{where}: a case is a JSON object")
        for name in ("id", "kind", "answer", "label"):
            if not isinstance(raw.get(name), str):
                raise CaseError(f"{where}: {name}: a string is required")
        if raw["label"] not in LABELS:
            raise CaseError(f"{where}: label: must be grounded or hallucinated")
        evidence = raw.get("evidence", [])
        if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
            raise CaseError(f"{where}: evidence: a list of strings is required")
        question = raw.get("question") or ""
        if not isinstance(question, str):
            raise CaseError(f"{where}: question: must be a string")
        cases.append(
            Case(raw["id"], raw["kind"], question, evidence, raw["answer"],
                 raw["label"] == "hallucinated")
        )  # fmt: skip
    return cases


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    unchecked: int = 0
    errors: int = 0

    def add(self, truth: bool, flagged: bool, unchecked: bool = False) -> None:
        self.unchecked += unchecked
        if truth:
            self.tp += flagged
            self.fn += not flagged
        else:
            self.fp += flagged
            self.tn += not flagged

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def figures(self) -> dict[str, Any]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall
            else (0.0 if precision is not None or recall is not None else None)
        )
        return {
            "n": self.n,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "accuracy": (self.tp + self.tn) / self.n if self.n else None,
            "unchecked": self.unchecked,
            "errors": self.errors,
        }


@dataclass
class Result:
    overall: Tally = field(default_factory=Tally)
    kinds: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    restated: Tally = field(default_factory=Tally)

    def add(self, case: Case, flagged: bool, unchecked: bool = False) -> None:
        self.overall.add(case.hallucinated, flagged, unchecked)
        self.kinds[case.kind].add(case.hallucinated, flagged, unchecked)
        if not case.hallucinated and any(r in case.kind for r in RESTATED):
            self.restated.add(False, flagged, unchecked)

    def summary(self) -> dict[str, Any]:
        out = self.overall.figures()
        out["false_alarms"] = self.restated.fp / self.restated.n if self.restated.n else None
        out["restated_n"] = self.restated.n
        return out


def model_free(cases: list[Case]) -> Result:
    result = Result()
    for case in cases:
        verdict = check(case.answer, case.evidence, case.question)
        result.add(case, verdict.status == "unsupported", verdict.status == "unchecked")
    return result


def judged(cases: list[Case], judge: Judge) -> Result:
    """The LLM judge on each case; a case it fails to answer counts as an error, not flagged."""
    result = Result()
    for case in cases:
        try:
            verdict = judge.judge(case.question, case.evidence, case.answer)
        except JudgeError as exc:
            print(f"  judge error on {case.id}: {exc}", file=sys.stderr)
            result.overall.errors += 1
            result.add(case, False)
            continue
        result.add(case, verdict.score < 0.5)
    return result


def _pct(value: float | None) -> str:
    return "   —  " if value is None else f"{value:6.1%}"


def report(name: str, result: Result) -> bool:
    """Print one detector's figures on one set; True when it meets the targets."""
    s = result.summary()
    print(f"\n{name}: {s['n']} cases, {s['unchecked']} unchecked (counted as not flagged)")
    print(f"  {'kind':<22} {'n':>4} {'prec':>7} {'recall':>7} {'F1':>7} {'acc':>7} {'uncheck':>7}")
    for kind in sorted(result.kinds):
        f = result.kinds[kind].figures()
        print(
            f"  {kind:<22} {f['n']:>4} {_pct(f['precision'])} {_pct(f['recall'])} "
            f"{_pct(f['f1'])} {_pct(f['accuracy'])} {f['unchecked']:>7}"
        )
    print(
        f"  {'OVERALL':<22} {s['n']:>4} {_pct(s['precision'])} {_pct(s['recall'])} "
        f"{_pct(s['f1'])} {_pct(s['accuracy'])} {s['unchecked']:>7}"
    )
    print(f"  false alarms on restated correct answers: {_pct(s['false_alarms'])} "
          f"(of {s['restated_n']})")  # fmt: skip
    ok_f1 = (s["f1"] or 0) >= TARGET_F1
    ok_fa = s["false_alarms"] is None or s["false_alarms"] <= TARGET_FALSE_ALARMS
    verdict = "PASS" if ok_f1 and ok_fa else "FAIL"
    print(
        f"  {verdict}: F1 {_pct(s['f1']).strip()} (target ≥ {TARGET_F1:.0%}), false alarms "
        f"{_pct(s['false_alarms']).strip()} (target ≤ {TARGET_FALSE_ALARMS:.0%})"
    )
    return ok_f1 and ok_fa


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dev", type=Path, default=DATA / "dev.jsonl")
    parser.add_argument("--holdout", type=Path, default=DATA / "holdout.jsonl")
    parser.add_argument("--judge", metavar="URL", help="also run the LLM judge (API base …/v1)")
    parser.add_argument(
        "--judge-model", default=os.environ.get("AGENTREEL_JUDGE_MODEL", "gpt-4o-mini")
    )
    parser.add_argument("--write", nargs="?", type=Path, const=QUALITY_FILE, default=None,
                        help="store the model-free figures for the Quality page")  # fmt: skip
    args = parser.parse_args(argv)
    sets = {name: path for name, path in (("dev", args.dev), ("holdout", args.holdout))}
    try:
        cases = {name: load(path) for name, path in sets.items() if path.exists()}
    except CaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not cases:
        print(f"error: no labelled set at {args.dev} or {args.holdout}", file=sys.stderr)
        return 2
    ok, figures = True, {}
    for name, found in cases.items():
        result = model_free(found)
        ok &= report(f"model-free check, {name}", result)
        figures[name] = result.summary()
    if args.judge:
        key = os.environ.get("AGENTREEL_JUDGE_API_KEY", "")
        judge = Judge(args.judge, args.judge_model, api_key=key)
        for name, found in cases.items():
            report(f"LLM judge ({args.judge_model}), {name}", judged(found, judge))
    if args.write:
        stored = {
            "detector": "groundedness (model-free)",
            "measured": datetime.now(UTC).date().isoformat(),
            "positive": "hallucinated",
            "sets": figures,
        }
        args.write.write_bytes(orjson.dumps(stored, option=orjson.OPT_INDENT_2) + b"\n")
        print(f"\nwrote {args.write}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
