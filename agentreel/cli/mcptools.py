"""What ``agentreel mcp``'s tools answer, read from the REST API and cut to a model's size.

Each function takes ``get(path, params)`` (decoded JSON of a 200 answer; it raises
:class:`~agentreel.cli.client.ApiError` otherwise) and returns a dict; :mod:`.mcpserve` turns
it into the tool's answer. A request the tool can refuse before asking the server (a call
number out of range) raises :class:`ToolFailure` with the sentence to show.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from agentreel.cli import reruns
from agentreel.cli.mcpshape import as_text, clip, clipped, page

Get = Callable[[str, dict[str, Any] | None], Any]

#: What the compact step shows of a tool's arguments and result, of an LLM call's text.
STEP_CHARS = 500
#: Changes of the context window shown per call (the rest are counted).
MAX_CHANGES = 12
#: Rows of a run diff shown besides the first divergence.
MAX_DIFF_ROWS = 20
#: Keys a cost or failures breakdown shows (the most expensive or most failing first).
MAX_KEYS = 30
#: Failed runs the failures answer lists with where each failed.
LATEST_FAILED = 5

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class ToolFailure(Exception):
    """A request a tool refuses; the message is what the model reads."""


def when(name: str, value: str | None) -> str | None:
    """Time argument ``name`` as the API takes it: ISO 8601 or epoch seconds pass through, and
    a span back from now (``30m``, ``24h``, ``7d``, ``2w``) becomes the ISO time it names."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    found = _RELATIVE.match(value.lower())
    if found is not None:
        delta = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
        return (datetime.now(UTC) - delta).isoformat(timespec="seconds").replace("+00:00", "Z")
    try:
        float(value)
    except ValueError:
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ToolFailure(
                f"bad argument: {name} must be ISO 8601 (2026-11-21 or 2026-11-21T10:00:00Z), "
                "epoch seconds, or a span back from now (30m, 24h, 7d, 2w)"
            ) from None
    return value


def _filters(**values: Any) -> dict[str, Any]:
    """The filters given, ``since`` and ``until`` read as :func:`when` reads them."""
    for name in ("since", "until"):
        if name in values:
            values[name] = when(name, values[name])
    return {k: v for k, v in values.items() if v not in (None, "")}


def _run_row(run: dict[str, Any]) -> dict[str, Any]:
    usage = run.get("usage") or {}
    row = {
        "trace_id": run["trace_id"],
        "start_time": str(run["start_time"])[:19] + "Z",
        "agent": run.get("agent") or run.get("name") or run.get("service"),
        "status": run["status"],
        "cost_usd": round(float(run.get("cost_usd") or 0.0), 6),
        "llm_calls": run.get("llm_calls"),
        "tool_calls": run.get("tool_calls"),
        "tokens": usage.get("total_tokens"),
        "duration_ms": run.get("duration_ms"),
        "models": run.get("models"),
        "session": run.get("session") or None,
        "user": run.get("user") or None,
    }
    if run["status"] == "error":
        row["errors"] = run.get("errors")
    return {k: v for k, v in row.items() if v is not None}


def _failure_line(failure: dict[str, Any] | None) -> str | None:
    if not failure:
        return None
    where = f"step {failure['step']}" if failure.get("step") else "outside the steps"
    return clip(f"{where}, {failure['kind']} {failure['name']}: {failure['error']}", 300)


def list_runs(get: Get, *, limit: int, offset: int, **filters: Any) -> dict[str, Any]:
    params = _filters(**filters) | {"limit": limit, "offset": offset}
    # /runs names the range by start time.
    params |= {"start_from": params.pop("since", None), "start_to": params.pop("until", None)}
    params = {k: v for k, v in params.items() if v is not None}
    data = get("/api/v1/runs", params)
    rows = []
    for run in data["runs"]:
        row = _run_row(run)
        if run["status"] == "error":
            timeline = get(f"/api/v1/runs/{run['trace_id']}/timeline", None)
            row["error"] = _failure_line(timeline.get("first_failure"))
        rows.append(row)
    out = {"total": data["total"], "runs": rows}
    out.update(page(data["total"], offset + 1, len(rows), "runs"))
    if "next_first_run" in out:
        out["next_offset"] = out.pop("next_first_run") - 1
    return out


def compact_step(step: dict[str, Any], chars: int = STEP_CHARS) -> dict[str, Any]:
    """One timeline step in the few fields a debugging reader needs."""
    out: dict[str, Any] = {"step": step["index"], "kind": step["kind"], "name": step["name"]}
    if step.get("status") == "error":
        out["status"] = "error"
        out["error"] = clip(str(step.get("error") or ""), chars)
    if step.get("duration_ms") is not None:
        out["duration_ms"] = step["duration_ms"]
    llm = step.get("llm")
    if llm is not None:
        usage = step.get("usage") or {}
        out["call"] = llm["call"]
        out["model"] = llm.get("model") or llm.get("request_model")
        out["tokens"] = {"in": usage.get("input_tokens"), "out": usage.get("output_tokens")}
        if llm.get("output_text"):
            out["output_text"] = clip(llm["output_text"], chars)
        if llm.get("tool_calls"):
            out["tool_calls"] = [
                {
                    "name": c.get("name"),
                    "arguments": clip(as_text(c.get("arguments")), chars),
                    "step": c.get("step"),
                }
                for c in llm["tool_calls"]
            ]
    tool = step.get("tool")
    if tool is not None:
        out["call_id"] = tool.get("call_id") or None
        out["arguments"] = (
            None if tool.get("arguments") is None else clip(as_text(tool["arguments"]), chars)
        )
        out["result"] = None if tool.get("result") is None else clip(as_text(tool["result"]), chars)
        out["requested_by_step"] = tool.get("requested_by")
        if not tool.get("recorded", True):
            out["recorded"] = False
    if "decision" in step:
        out["decision"] = clipped(step["decision"], chars)
    if "escalation" in step:
        out["escalation"] = clipped(step["escalation"], chars)
    if step.get("missing"):
        out["not_captured"] = step["missing"]
    return {k: v for k, v in out.items() if v is not None}


def get_run(get: Get, trace_id: str, *, first_step: int, max_steps: int) -> dict[str, Any]:
    trace_id = trace_id.strip().lower()
    run = _run_row(get(f"/api/v1/runs/{trace_id}", None)["run"])
    timeline = get(f"/api/v1/runs/{trace_id}/timeline", None)
    steps = timeline["steps"]
    out: dict[str, Any] = {"run": run, "step_count": timeline["step_count"]}
    failure = timeline.get("first_failure")
    if failure:
        out["first_failure"] = _failure_detail(failure, steps)
    if timeline.get("escalations"):
        out["escalation_steps"] = timeline["escalations"]
    chosen = steps[first_step - 1 : first_step - 1 + max_steps]
    out["steps"] = [compact_step(s) for s in chosen]
    out.update(page(len(steps), first_step, len(chosen), "steps"))
    if timeline.get("missing"):
        out["not_captured"] = timeline["missing"]
    return out


def _failure_detail(failure: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The first failure, the step it happened at and, for context, the steps that led to it:
    the LLM call that asked for a failing tool, the tool results a failing call was sent."""
    out = {k: failure.get(k) for k in ("step", "kind", "name", "error")}
    if not failure.get("step"):
        return out
    by_index = {s["index"]: s for s in steps}
    failed = by_index[failure["step"]]
    out["detail"] = compact_step(failed, 2 * STEP_CHARS)
    requester = (failed.get("tool") or {}).get("requested_by")
    if requester in by_index:
        out["requested_by"] = compact_step(by_index[requester])
    if failed["kind"] == "llm":
        before = [s for s in steps if s["index"] < failed["index"] and s["kind"] == "tool"]
        if before:
            out["last_tool_result_before"] = compact_step(before[-1])
    return out


def get_llm_call(
    get: Get,
    trace_id: str,
    *,
    call: int,
    format: str,
    first_message: int,
    max_messages: int,
    max_chars: int,
    include_tool_schemas: bool,
) -> dict[str, Any]:
    trace_id = trace_id.strip().lower()
    # Only this call's window is read (a long run's windows together run to 100 MB); the
    # server answers 404 naming the calls the run has when it has no call ``call``.
    found = get(f"/api/v1/runs/{trace_id}/llm-calls/{call}", {"format": format})
    out: dict[str, Any] = {"trace_id": trace_id, "call": call, "of": found["of"], "format": format}
    for key in ("name", "model", "request_model", "provider", "status", "error", "finish_reasons"):
        if found.get(key) not in (None, "", []):
            out[key] = found[key]
    out["usage"] = found.get("usage")
    out["cost_usd"] = found.get("cost_usd")
    if format == "otel":
        window: dict[str, Any] = {
            "parameters": found.get("parameters"),
            "system_instructions": found.get("system_instructions"),
            "tool_definitions": _tools(found.get("tool_definitions"), include_tool_schemas),
        }
        messages = found.get("input_messages")
        out["window"] = clipped(window, max_chars)
    else:
        # The request body as the provider's API takes it, its messages paged below.
        window = dict(found.get("request") or {})
        messages = window.pop("messages", None)
        if "tools" in window:
            window["tools"] = _tools(window["tools"], include_tool_schemas)
        if found.get("not_captured"):
            out["not_captured"] = found["not_captured"]
        out["request"] = clipped(window, max_chars)
    out["output_messages"] = clipped(found.get("output_messages"), max_chars)
    if messages is None:
        out["input_messages"] = None
        out["input_note"] = "the instrumentor did not capture the input messages"
    else:
        chosen = messages[first_message - 1 : first_message - 1 + max_messages]
        out["input_messages"] = [
            {"n": first_message + i, **clipped(m, max_chars)} for i, m in enumerate(chosen)
        ]
        out.update(page(len(messages), first_message, len(chosen), "messages"))
    if found.get("missing_content"):
        out["missing_content"] = found["missing_content"]
    out["changed_since_previous_call"] = _changes(get, trace_id, call, max_chars)
    return out


def _tools(definitions: Any, schemas: bool) -> Any:
    """Tool definitions whole, or (by default) each one's name and description only."""
    if schemas or not isinstance(definitions, list):
        return definitions
    out = []
    for tool in definitions:
        if not isinstance(tool, dict):
            out.append(tool)
            continue
        function = tool.get("function")
        inner: dict[str, Any] = function if isinstance(function, dict) else tool
        out.append(
            {
                "name": inner.get("name"),
                "description": clip(str(inner.get("description") or ""), 200),
            }
        )
    return out


def _changes(get: Get, trace_id: str, call: int, max_chars: int) -> dict[str, Any]:
    if call == 1:
        return {"summary": "the first LLM call of the run: nothing before it"}
    diff = get(f"/api/v1/runs/{trace_id}/llm-calls/{call}/diff", None)
    out = {k: diff.get(k) for k in ("summary", "labels", "messages", "model")}
    for slot in ("system_instructions", "tool_definitions"):
        if (diff.get(slot) or {}).get("changed"):
            out[slot] = clipped(diff[slot], max_chars)
    changes = diff.get("changes") or []
    out["changes"] = clipped(changes[:MAX_CHANGES], max_chars)
    if len(changes) > MAX_CHANGES:
        out["more_changes"] = len(changes) - MAX_CHANGES
    if diff.get("missing"):
        out["not_compared"] = diff["missing"]
    return out


def diff_runs(get: Get, trace_id: str, against: str) -> dict[str, Any]:
    trace_id, against = trace_id.strip().lower(), against.strip().lower()
    diff = get(f"/api/v1/runs/{trace_id}/diff", {"against": against})
    rows = [r for r in diff["alignment"] if r["match"] != "same"]
    out = {
        "summary": diff["summary"],
        "identical": diff["identical"],
        "first_divergence": clipped(diff["first_divergence"], STEP_CHARS),
        "divergences": diff["divergences"],
        "run": diff["run"],
        "against": diff["against"],
        "aligned_steps": len(diff["alignment"]),
        "differing_steps": [
            clipped({k: v for k, v in r.items() if k != "divergence"}, 200)
            for r in rows[:MAX_DIFF_ROWS]
        ],
    }
    if len(rows) > MAX_DIFF_ROWS:
        out["more_differing_steps"] = len(rows) - MAX_DIFF_ROWS
    if diff.get("not_compared"):
        out["not_compared"] = clipped(diff["not_compared"][:10], 200)
    return out


def failures(get: Get, **filters: Any) -> dict[str, Any]:
    if not filters.get("since") and not filters.get("until"):
        filters["since"] = "7d"  # the aggregates' default, named so the run list keeps to it
    scope = _filters(**filters)
    daily = get("/api/v1/failures/daily", scope)["rows"]
    runs = sum(r["runs"] for r in daily)
    failed = sum(r["failed_runs"] for r in daily)
    out: dict[str, Any] = {
        "runs": runs,
        "failed_runs": failed,
        "error_rate": round(failed / runs, 4) if runs else 0.0,
        "llm_errors": sum(r["llm_errors"] for r in daily),
        "tool_errors": sum(r["tool_errors"] for r in daily),
        "by_day": [{k: r[k] for k in ("day", "runs", "failed_runs")} for r in daily],
    }
    for by in ("error_type", "tool", "agent"):
        rows = get("/api/v1/failures/by", scope | {"by": by})["rows"]
        out[f"by_{by}"] = rows[:MAX_KEYS]
    latest = list_runs(get, limit=LATEST_FAILED, offset=0, status="error", **scope)
    out["latest_failed_runs"] = [
        {k: r.get(k) for k in ("trace_id", "start_time", "agent", "error")} for r in latest["runs"]
    ]
    return out


def cost(get: Get, *, by: str, **filters: Any) -> dict[str, Any]:
    scope = _filters(**filters)
    rows = get("/api/v1/cost/daily", scope | {"by": "none" if by == "day" else by})["rows"]
    keys: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = row["day"] if by == "day" else row["key"]
        into = keys.setdefault(key, {by: key, "cost_usd": 0.0, "llm_calls": 0, "tokens": 0})
        into["cost_usd"] += row["cost_usd"]
        into["llm_calls"] += row["llm_calls"]
        into["tokens"] += row["input_tokens"] + row["output_tokens"]
    ordered = sorted(
        keys.values(), key=(lambda r: r[by]) if by == "day" else (lambda r: -r["cost_usd"])
    )
    for row in ordered:
        row["cost_usd"] = round(row["cost_usd"], 6)
    out: dict[str, Any] = {
        "total_usd": round(sum(r["cost_usd"] for r in rows), 6),
        "llm_calls": sum(r["llm_calls"] for r in rows),
        "days": len({r["day"] for r in rows}),
        "rows": ordered[:MAX_KEYS],
    }
    if len(ordered) > MAX_KEYS:
        out["more_rows"] = len(ordered) - MAX_KEYS
    return out


def rerun_command(
    get: Get, trace_id: str, from_call: int, command: str | None = None
) -> dict[str, Any]:
    """The commands that re-run the run from LLM call ``from_call`` (earlier calls and tool
    results served from the recording) and pin it, once the run and call are known to exist."""
    trace_id = trace_id.strip().lower()
    run = get(f"/api/v1/runs/{trace_id}", None)["run"]
    calls = int(run.get("llm_calls") or 0)
    if calls == 0:
        raise ToolFailure(f"run {trace_id} has no LLM calls to re-run from")
    if not 1 <= from_call <= calls:
        raise ToolFailure(f"run {trace_id} has {calls} LLM calls: from_call takes 1 to {calls}")
    before = "call 1" if from_call == 2 else f"calls 1 to {from_call - 1}"
    served = "nothing is served from the recording"
    if from_call > 1:
        served = f"{before} and the tool results before call {from_call} are served from the "
        served += "recording (no cost, tools do not run)"
    out: dict[str, Any] = {
        "trace_id": trace_id,
        "from_call": from_call,
        "llm_calls": calls,
        "command": reruns.rerun_env(trace_id, from_call, command),
        "python": reruns.rerun_python(trace_id, from_call)
        + "  # with `from agentreel import sdk`, around the code that runs the agent",
        "what_happens": f"{served}; from call {from_call} on, the agent runs live. A request "
        "that differs from the recording's is reported as a divergence, and runs live.",
        "offline": reruns.rerun_env(trace_id, 0, command)
        + "  # every call and tool served from the recording",
        "pin": reruns.pin_command(trace_id, command=command),
    }
    if not command:
        out["note"] = (
            f"replace `{reruns.AGENT_PLACEHOLDER}` with the command that runs the agent "
            "(the agent must call agentreel.sdk.init())"
        )
    return out
