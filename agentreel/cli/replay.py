"""``agentreel replay TRACE``: a run's LLM calls with their exact context windows, in a terminal.

A *call* is one LLM call, numbered from 1 (``--call N``); a *step* is a row of the timeline
(LLM call, tool call, decision, escalation). ``--step N`` is the old name of ``--call N``: it
still works, with a note on stderr.

Reads through the REST API (the embedded store belongs to the server). Colour only on a
terminal, and never when ``NO_COLOR`` is set.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from agentreel.cli.reruns import rerun_env
from agentreel.cli.words import count, dollars

#: Longest text shown per message unless ``--full``.
PREVIEW_CHARS = 400

_ROLE_COLOURS = {"system": "2", "user": "32", "assistant": "36", "tool": "33"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trace_id", metavar="TRACE", help="the run's trace id (32 hex digits)")
    parser.add_argument(
        "--call",
        type=int,
        metavar="N",
        help="show only LLM call N (calls are numbered from 1; the timeline's steps are "
        "LLM and tool calls together)",
    )
    parser.add_argument("--step", type=int, metavar="N", help="deprecated: use --call N")
    parser.add_argument(
        "--format",
        choices=("otel", "openai", "anthropic"),
        default="otel",
        help="otel: the canonical window; openai/anthropic: the request body to re-send",
    )
    parser.add_argument(
        "--diff",
        metavar="OTHER",
        help="compare with another run: the run's summary, then where the two diverge "
        "(add --call N to see call N's window too)",
    )
    parser.add_argument("--full", action="store_true", help="show long messages in full")
    parser.add_argument(
        "--command",
        dest="agent_command",
        metavar="CMD",
        help="the command that runs the agent, for the re-run line under each call "
        '(e.g. "python agent.py")',
    )


#: What ``--step`` says: it used to mean what ``--call`` means now.
STEP_NOTE = (
    "agentreel: --step is deprecated and means --call (the Nth LLM call); a step is a row of "
    "the timeline (LLM and tool calls together). Use --call N."
)


def replay_command(get: Callable[..., Any], args: argparse.Namespace) -> int:
    """``get(path, params)`` returns decoded JSON from the API, or None after printing why."""
    trace_id = args.trace_id.strip().lower()
    number = args.call
    if args.step is not None:
        print(STEP_NOTE, file=sys.stderr)
        number = args.step if number is None else number
    base = f"/api/v1/runs/{trace_id}"
    detail = get(base)
    if detail is None:
        return 1
    timeline = get(f"{base}/timeline")
    if timeline is None:
        return 1
    total = timeline["counts"]["llm_calls"]
    if number is not None and not 1 <= number <= total:
        print(
            f"agentreel: run {trace_id} has {count(total, 'LLM call')}; --call takes 1 to {total}",
            file=sys.stderr,
        )
        return 2
    windows = not (args.diff and number is None and not args.json)
    # Only the windows shown are fetched: one call's, or the run's (a comparison shows none).
    chosen: list[dict[str, Any]] = []
    if windows and number is not None:
        one = get(f"{base}/llm-calls/{number}", {"format": args.format})
        if one is None:
            return 1
        chosen = [one]
    elif windows:
        every = get(f"{base}/llm-calls", {"format": args.format})
        if every is None:
            return 1
        chosen = every["llm_calls"]
    first = number or 1
    changes = (
        _changes(get, base, first, len(chosen)) if args.format == "otel" and not args.json else {}
    )
    diff = None
    if args.diff:
        diff = get(f"{base}/diff", {"against": args.diff.strip().lower()})
        if diff is None:
            return 1
    if args.json:
        out = {"run": detail["run"], "timeline": timeline, "llm_calls": chosen}
        if diff is not None:
            out["diff"] = diff
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    paint = _painter(sys.stdout)
    _print_run(detail["run"], paint)
    _print_reruns(detail, paint)
    if chosen:
        _print_timeline(timeline, paint)
    for offset, call in enumerate(chosen):
        at = first + offset
        _print_call(at, total, call, args, paint, changes.get(at))
    if diff is not None:
        _print_diff(diff, paint)
    return 0


def _changes(
    get: Callable[..., Any], base: str, first: int, shown: int
) -> dict[int, dict[str, Any]]:
    """What changed at each call shown since the call before it: one request for one call,
    one for the whole run (never one per call)."""
    if shown == 1 and first > 1:
        one = get(f"{base}/llm-calls/{first}/diff")
        return {} if one is None else {first: one}
    if shown > 1:
        every = get(f"{base}/llm-calls/diffs")
        return {} if every is None else {d["call"]: d for d in every["diffs"] if d["call"] > 1}
    return {}


def _painter(stream: Any) -> Callable[[str, str], str]:
    colour = stream.isatty() and "NO_COLOR" not in os.environ

    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    return paint


def _print_run(run: dict[str, Any], paint: Callable[[str, str], str]) -> None:
    status = paint(run["status"], "31" if run["status"] == "error" else "32")
    usage = run["usage"]
    print(paint(f"run {run['trace_id']}", "1") + f"  {run['agent'] or run['name']}  {status}")
    print(
        f"  {run['start_time']}  {run['duration_ms']:.0f} ms  {count(run['spans'], 'span')}  "
        f"{count(run['llm_calls'], 'LLM call')}  {count(run['tool_calls'], 'tool call')}  "
        f"tokens in {usage['input_tokens']} / out {usage['output_tokens']}  "
        f"{dollars(run['cost_usd'])}"
    )


def _divergence(at: Any, what: Any) -> str:
    return f"diverged at call {at}: {what}" if at is not None else "no divergence"


def _print_reruns(detail: dict[str, Any], paint: Callable[[str, str], str]) -> None:
    """Where a re-run came from, and the re-runs of an original, each with its divergence."""
    run = detail["run"]
    if run.get("rerun_of"):
        start = run["rerun_from_call"]
        origin = "fully offline" if start == 0 else f"live from call {start}"
        print(
            f"  re-run of {run['rerun_of']} ({origin}); "
            f"{_divergence(run.get('rerun_diverged_at'), run.get('rerun_divergence'))}"
        )
        print(paint(f"  compare: agentreel replay {run['trace_id']} --diff {run['rerun_of']}", "2"))
    reruns = detail.get("reruns") or []
    if reruns:
        total = detail.get("reruns_total", len(reruns))
        print(f"  {count(total, 're-run')}:")
        for rerun in reruns:
            start = rerun["from_call"]
            origin = "offline" if start == 0 else f"from call {start}"
            print(
                f"    {rerun['trace_id']}  {rerun['status']}  {origin}  "
                f"{_divergence(rerun.get('diverged_at'), rerun.get('divergence'))}"
            )


def _print_timeline(timeline: dict[str, Any], paint: Any) -> None:
    print()
    steps, calls = len(timeline["steps"]), timeline["counts"]["llm_calls"]
    print(paint(f"timeline · {count(steps, 'step')} · {count(calls, 'LLM call')}", "1"))
    for step in timeline["steps"]:
        duration = step.get("duration_ms")
        took = f"{duration:.0f} ms" if isinstance(duration, int | float) else "—"
        status = step.get("status") or ""
        mark = paint("✗", "31") if status == "error" else " "
        call = f"call {step['llm']['call']}" if step.get("llm") else ""
        line = (
            f"  {mark} {step['index']:>3} {step['kind']:<10} {call:<9} "
            f"{step.get('name') or '':<32} {took:>9}"
        )
        tool = step.get("tool") or {}
        if tool.get("call_id"):
            line += f"  [{tool['call_id']}]"
        if step.get("missing"):
            line += paint(f"  missing: {', '.join(step['missing'])}", "33")
        print(line)
    failure = timeline.get("first_failure")
    if failure:
        where = f"step {failure['step']}" if failure.get("step") else failure.get("name", "")
        print(paint(f"  first failure: {where} ({failure['kind']}): {failure['error']}", "31"))


def _print_call(
    number: int,
    total: int,
    call: dict[str, Any],
    args: argparse.Namespace,
    paint: Any,
    change: dict[str, Any] | None = None,
) -> None:
    usage = call["usage"]
    header = f"── LLM call {number}/{total} · {call['name']} · {call['model'] or '?'}"
    print()
    print(paint(header, "1"))
    print(
        f"   {call['duration_ms']:.0f} ms · tokens in {usage['input_tokens']} "
        f"(cached {usage['cache_read_tokens']}) / out {usage['output_tokens']} · "
        f"{call['status']}" + (f" · {call['error']}" if call["error"] else "")
    )
    if change is not None:
        print(paint(f"   since call {number - 1}: {change['summary']}", "35"))
    trace_id = args.trace_id.strip().lower()
    command = getattr(args, "agent_command", None)
    print(paint(f"   re-run from here: {rerun_env(trace_id, number, command)}", "2"))
    if args.format != "otel":
        if call["not_captured"]:
            note = ", ".join(call["not_captured"])
            print(paint(f"   not captured by the instrumentor: {note}", "33"))
        if call.get("not_rendered"):
            note = ", ".join(call["not_rendered"])
            print(paint(f"   recorded but not expressible in {args.format}: {note}", "33"))
        print(json.dumps(call["request"], indent=2, ensure_ascii=False))
        return
    if call["system_instructions"]:
        text = " ".join(_part_text(p, args.full) for p in call["system_instructions"])
        print(paint("   [system] ", "2") + text)
    if call["input_messages"] is None:
        print(paint("   input messages were not captured by the instrumentor", "33"))
    for message in call["input_messages"] or []:
        _print_message(message, args.full, paint)
    if call["output_messages"]:
        print(paint("   ⇒ output", "1"))
        for message in call["output_messages"]:
            _print_message(message, args.full, paint)
    if call["missing_content"]:
        print(paint(f"   {len(call['missing_content'])} content item(s) never arrived", "31"))


def _print_message(message: dict[str, Any], full: bool, paint: Any) -> None:
    role = message.get("role", "?")
    label = paint(f"   [{role}]", _ROLE_COLOURS.get(role, "0"))
    parts = message.get("parts") or []
    texts = [_part_text(p, full) for p in parts if isinstance(p, dict)]
    print(label + " " + (" ".join(texts) if texts else "(empty)"))


def _part_text(part: dict[str, Any], full: bool) -> str:
    kind = part.get("type")
    if kind == "text":
        return _clip(_as_text(part.get("content")), full)
    if kind == "tool_call":
        arguments = _as_text(part.get("arguments"))
        return f"→ {part.get('name')}({_clip(arguments, full)}) [{part.get('id', '')}]"
    if kind == "tool_call_response":
        response = _as_text(part.get("response", part.get("result")))
        return f"← [{part.get('id', '')}] {_clip(response, full)}"
    if kind == "reasoning":
        return "(reasoning) " + _clip(_as_text(part.get("content")), full)
    return _clip(json.dumps(part, ensure_ascii=False), full)


def _print_diff(diff: dict[str, Any], paint: Any) -> None:
    print()
    summary = diff.get("summary") or json.dumps(diff.get("first_divergence"))
    print(paint("── diff: ", "1") + str(summary))


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _clip(text: str, full: bool) -> str:
    text = text.replace("\n", "⏎ ")
    if full or len(text) <= PREVIEW_CHARS:
        return text
    return f"{text[:PREVIEW_CHARS]}… ({len(text) - PREVIEW_CHARS} more chars; --full shows all)"
