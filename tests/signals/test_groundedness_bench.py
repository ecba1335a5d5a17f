"""``bench/groundedness.py`` on a tiny hand-labelled fixture: the figures it prints and
writes are the ones computed by hand from the labels, and ``--judge`` sends each case to the
judge endpoint (the fake provider: this proves the plumbing, not the judge)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from support.fakeprovider import Answer, FakeProvider

ROOT = Path(__file__).parents[2]
TINY = Path(__file__).parent / "data" / "groundedness_tiny.jsonl"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_groundedness", ROOT / "bench" / "groundedness.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _overall(out: str, title: str) -> list[str]:
    section = out.split(title, 1)[1]
    return re.search(r"OVERALL\s+(.*)", section).group(1).split()  # type: ignore[union-attr]


def test_bench_prints_and_writes_hand_computed_figures(tmp_path: Path, capsys: Any) -> None:
    stored = tmp_path / "quality.json"
    code = _bench().main(
        ["--dev", str(TINY), "--holdout", str(tmp_path / "none.jsonl"), "--write", str(stored)]
    )
    out = capsys.readouterr().out
    # 5 hallucinated (4 with a wrong number, status, name or version; 1 without any claim),
    # 5 grounded: TP 4, FN 1, FP 0, TN 5; the refusal and the claimless one are unchecked.
    assert _overall(out, "model-free check, dev") == [
        "10",
        "100.0%",
        "80.0%",
        "88.9%",
        "90.0%",
        "2",
    ]
    assert "false alarms on restated correct answers:   0.0% (of 3)" in out
    assert "PASS: F1 88.9%" in out and code == 0
    figures = orjson.loads(stored.read_bytes())["sets"]["dev"]
    assert figures["precision"] == 1.0 and figures["recall"] == 0.8
    assert figures["f1"] == pytest.approx(8 / 9) and figures["false_alarms"] == 0.0


def test_bench_judge_plumbing_against_the_fake_provider(tmp_path: Path, capsys: Any) -> None:
    cases = [orjson.loads(line) for line in TINY.read_text().splitlines()]
    flag = {"g-exact", "h-number", "h-status", "h-noclaim"}  # the judge's (scripted) verdicts
    script = [
        Answer(orjson.dumps({"score": 0 if c["id"] in flag else 1, "label": "x"}).decode())
        for c in cases
    ]
    with FakeProvider(script) as fake:
        _bench().main(
            ["--dev", str(TINY), "--holdout", str(tmp_path / "none.jsonl"),
             "--judge", fake.openai_base_url, "--judge-model", "judge-model"]
        )  # fmt: skip
        bodies = [e.body for e in fake.exchanges]
    out = capsys.readouterr().out
    assert [b["model"] for b in bodies] == ["judge-model"] * len(cases)
    for body, case in zip(bodies, cases, strict=True):
        prompt = body["messages"][0]["content"]
        assert case["answer"] in prompt and case["evidence"][0] in prompt
    # TP 3 (number, status, claimless), FN 2, FP 1 (g-exact), TN 4
    assert _overall(out, "LLM judge (judge-model), dev") == [
        "10",
        "75.0%",
        "60.0%",
        "66.7%",
        "70.0%",
        "0",
    ]


def test_a_malformed_case_is_refused_with_its_line(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "dev.jsonl"
    bad.write_text(TINY.read_text().splitlines()[0] + '\n{"id": "x", "kind": "exact"}\n')
    assert _bench().main(["--dev", str(bad), "--holdout", str(tmp_path / "none.jsonl")]) == 2
    assert "dev.jsonl:2: answer: a string is required" in capsys.readouterr().err
