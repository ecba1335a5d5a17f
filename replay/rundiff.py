"""Where two runs part ways.

:func:`run_diff` aligns the steps of two timelines (:mod:`agentreel.replay.timeline`) by
longest common subsequence of their signatures (kind + tool name, model or decision name)
and compares aligned steps: inputs and outputs of LLM calls, arguments and results of tool
calls, the choice of decisions. Tool-call ids are left out of every comparison (providers
make them up per run) and JSON arguments compare by value. Divergence types:

* where the signatures differ: ``different_model``, ``different_tool``,
  ``different_decision``, ``different_step`` (steps of different kinds in one place),
  ``missing_step`` (the ``against`` run has a step this run lacks), ``extra_step`` (this run
  has a step ``against`` lacks);
* within aligned steps: ``different_input`` (system instructions, tool definitions or
  messages sent to the model), ``different_output`` (text, or an error on one side only),
  ``different_tool`` / ``different_arguments`` (same text, but the model asked for another
  tool or other arguments; a tool span run with other arguments), ``different_tool_result``,
  ``different_decision`` (another option chosen).

What one side did not capture is not compared, and is listed in ``not_compared``.
"""

from __future__ import annotations

import difflib
from typing import Any

import orjson

from .diff import SUMMARY_VALUE_CHARS, canonical_json, json_or_text
from .model import Fingerprint, LLMStep, Step, Timeline, ToolStep

__all__ = ["run_diff"]


def run_diff(run: Timeline, against: Timeline) -> dict[str, Any]:
    """Align the steps of two timelines and name the first place they diverge."""
    mine, theirs = run.steps, against.steps
    matcher = difflib.SequenceMatcher(
        None, [_signature(s) for s in mine], [_signature(s) for s in theirs], autojunk=False
    )
    rows: list[dict[str, Any]] = []
    not_compared: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        paired = min(i2 - i1, j2 - j1) if tag in ("equal", "replace") else 0
        for k in range(paired):
            a, b = mine[i1 + k], theirs[j1 + k]
            found = _compare(a, b, not_compared) if tag == "equal" else _replaced(a, b)
            rows.append(_row(a, b, found))
        rows += [_row(s, None, _alone(s, "extra_step")) for s in mine[i1 + paired : i2]]
        rows += [_row(None, s, _alone(s, "missing_step")) for s in theirs[j1 + paired : j2]]
    first = next((r["divergence"] for r in rows if r["divergence"]), None)
    if first is None:
        skipped = (
            f"; {len(not_compared)} comparison(s) skipped, content missing" if not_compared else ""
        )
        summary = f"the runs match step for step ({len(mine)} steps{skipped})"
    else:
        summary = f"the runs diverge first at {first['summary']}"
    return {
        "run": _side(run),
        "against": _side(against),
        "identical": first is None and not not_compared,
        "first_divergence": first,
        "divergences": sum(1 for r in rows if r["divergence"]),
        "alignment": rows,
        "not_compared": not_compared,
        "summary": summary,
    }


def _side(timeline: Timeline) -> dict[str, Any]:
    return {
        "trace_id": timeline.trace_id,
        "name": timeline.name,
        "status": timeline.status,
        "step_count": timeline.step_count,
        "start_time": timeline.start_time,
        "duration_ms": timeline.duration_ms,
        "cost_usd": timeline.cost_usd,
        "steps": len(timeline.steps),
    }


def _subject(step: Step) -> str:
    if step.llm is not None:
        return str(step.llm.request_model or step.llm.model)
    if step.decision is not None:
        return str(step.decision.name)
    return str(step.name)


def _signature(step: Step) -> tuple[str, str]:
    return step.kind, _subject(step)


def _row(a: Step | None, b: Step | None, found: dict[str, Any] | None) -> dict[str, Any]:
    one = a if a is not None else b
    assert one is not None  # a row has a step on one side at least
    return {
        "run_step": a.index if a else None,
        "against_step": b.index if b else None,
        "kind": one.kind,
        "name": _subject(one),
        "match": _match(a, b, found),
        "divergence": found,
    }


def _match(a: Step | None, b: Step | None, found: Any) -> str:
    if a is None:
        return "missing"
    if b is None:
        return "extra"
    return "different" if found else "same"


def _divergence(
    kind: str, a: Step | None, b: Step | None, what: str, mine: Any, theirs: Any
) -> dict[str, Any]:
    run_step = a.index if a is not None else None
    against_step = b.index if b is not None else None
    if run_step is None:
        where = f"against step {against_step}"
    elif against_step is None:
        where = f"step {run_step} (not in against)"
    else:
        where = f"step {run_step} (against step {against_step})"
    return {
        "type": kind,
        "run_step": run_step,
        "against_step": against_step,
        "summary": f"{where}: {what}",
        "run": mine,
        "against": theirs,
    }


def _alone(step: Step, kind: str) -> dict[str, Any]:
    label = f"{step.kind} {_subject(step)}"
    if kind == "extra_step":
        return _divergence(kind, step, None, f"{label} only in this run", label, None)
    return _divergence(kind, None, step, f"{label} missing from this run", None, label)


def _replaced(a: Step, b: Step) -> dict[str, Any]:
    mine, theirs = _subject(a), _subject(b)
    if a.kind != b.kind:
        return _divergence(
            "different_step",
            a,
            b,
            f"{a.kind} {mine} where against has {b.kind} {theirs}",
            a.kind,
            b.kind,
        )
    kind = {
        "llm": "different_model",
        "tool": "different_tool",
        "decision": "different_decision",
    }.get(a.kind, "different_step")
    noun = {"llm": "model", "tool": "tool"}.get(a.kind, a.kind)
    return _divergence(kind, a, b, f"{noun} {_short(mine)} vs {_short(theirs)}", mine, theirs)


def _compare(a: Step, b: Step, skipped: list[str]) -> dict[str, Any] | None:
    """The first difference between two steps of one signature (so of one kind), in the order
    things happened: what went in, then what came out, then how it ended."""
    label = f"{a.kind} {_subject(a)}"
    checks: list[tuple[str, str, Any, Any]]
    if a.llm is not None and b.llm is not None:
        fa, fb = _slots(a.llm.fingerprint), _slots(b.llm.fingerprint)
        if not (fa["input"] and fb["input"]):
            skipped.append(f"step {a.index} ({label}): input {_absent(fa['input'], fb['input'])}")
        changed = [p for p in ("system", "tools", "input") if fa[p] and fb[p] and fa[p] != fb[p]]
        if changed:
            what = "different input: " + ", ".join(_PARTS[p] for p in changed)
            mine, theirs = {p: fa[p] for p in changed}, {p: fb[p] for p in changed}
            return _divergence("different_input", a, b, f"{label}: {what}", mine, theirs)
        out_a, out_b = _output(a.llm), _output(b.llm)
        kind = _output_kind(out_a, out_b)
        if kind == "different_output":
            checks = [(kind, "output", out_a, out_b)]
        else:  # name what differs: the tool calls the model asked for
            checks = [(kind, "tool calls", out_a["tool_calls"], out_b["tool_calls"])]
    elif a.tool is not None and b.tool is not None:
        args = json_or_text(a.tool.arguments), json_or_text(b.tool.arguments)
        checks = [
            ("different_arguments", "arguments", *args),
            ("different_tool_result", "result", _result(a.tool), _result(b.tool)),
        ]
    elif a.decision is not None and b.decision is not None:
        checks = [("different_decision", "choice", a.decision.chosen, b.decision.chosen)]
    else:
        checks = []
    failed = "error" in (a.status, b.status)
    for kind, what, mine, theirs in checks:
        if mine is None or theirs is None:
            if not failed:  # a failed step has no output: the status check below says it
                skipped.append(f"step {a.index} ({label}): {what} {_absent(mine, theirs)}")
        elif canonical_json(mine) != canonical_json(theirs):
            detail = f"different {what}: {_short(mine)} vs {_short(theirs)}"
            return _divergence(kind, a, b, f"{label}: {detail}", mine, theirs)
    if failed and a.status != b.status:
        kind = "different_tool_result" if a.kind == "tool" else "different_output"
        what = f"status {a.status} ({a.error or '-'}) vs {b.status} ({b.error or '-'})"
        return _divergence(kind, a, b, f"{label}: {what}", a.status, b.status)
    return None


def _slots(found: Fingerprint) -> dict[str, str | None]:
    return {"system": found.system, "tools": found.tools, "input": found.input}


def _absent(mine: Any, theirs: Any) -> str:
    if mine is None and theirs is None:
        return "not captured in either run"
    return f"not captured in {'this run' if mine is None else 'the against run'}"


_PARTS = {"system": "system instructions", "tools": "tool definitions", "input": "messages"}


def _output_kind(a: Any, b: Any) -> str:
    """Same text, different tool calls: the model asked for another tool or other arguments."""
    if a is None or b is None or a["text"] != b["text"]:
        return "different_output"
    names = [c["name"] for c in a["tool_calls"]], [c["name"] for c in b["tool_calls"]]
    return "different_tool" if names[0] != names[1] else "different_arguments"


def _output(llm: LLMStep) -> Any:
    if llm.output_text is None:
        return None
    calls = [{"name": c.name, "arguments": json_or_text(c.arguments)} for c in llm.tool_calls]
    return {"text": llm.output_text, "tool_calls": calls}


def _result(tool: ToolStep) -> Any:
    return None if tool.sources.result is None else json_or_text(tool.result)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return text if len(text) <= SUMMARY_VALUE_CHARS else text[: SUMMARY_VALUE_CHARS - 1] + "…"
