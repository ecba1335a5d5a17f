"""Routing choices counted per time window, agent and step position: the input of drift.

A choice is the tool a tool call used, the model an LLM call used, or a decision's name and
chosen option. Each span counts once (``counted``: two spans of one call are one choice);
the agent is the run's. The position is the choice's order among the run's choices of that
dimension (1 = first tool call of the run), capped at ``max_position``."""

from __future__ import annotations

from typing import Any

from .runtable import AGENT_GROUPED

#: Dimension → (span filter, choice expression).
DIMENSIONS = {
    "tool": (
        "kind = 'tool' AND counted = 1",
        "if(tool_name != '', toString(tool_name), toString(name))",
    ),
    "model": (
        "kind = 'llm' AND counted = 1",
        "if(model != '', toString(model), toString(request_model))",
    ),
    "decision": (
        "kind = 'decision'",
        "concat(attributes['agentreel.decision.name'], ': ', "
        "attributes['agentreel.decision.chosen'])",
    ),
}


def choice_counts(
    client: Any,
    project: str,
    by: str,
    since_ns: int,
    until_ns: int,
    window_seconds: int,
    agent: str | None = None,
    max_position: int = 5,
) -> list[tuple[int, str, int, str, int]]:
    """``(window start epoch s, agent, position, choice, count)`` rows for the range."""
    where, choice = DIMENSIONS[by]
    params: dict[str, Any] = {
        "p": project,
        "since": since_ns,
        "until": until_ns,
        "w": window_seconds,
        "cap": max_position,
    }
    agent_filter = ""
    if agent is not None:
        agent_filter = "WHERE agent = {agent:String}"
        params["agent"] = agent
    sql = f"""
        SELECT toUnixTimestamp(toStartOfInterval(start, INTERVAL {{w:UInt32}} SECOND)) AS bucket,
               agent, least(position, {{cap:UInt32}}) AS pos, choice, count()
        FROM (
            SELECT s.start AS start, r.agent_ AS agent, s.choice AS choice,
                   row_number() OVER (PARTITION BY s.trace_id ORDER BY s.start, s.span_id)
                       AS position
            FROM (
                SELECT trace_id, span_id, any(start_time) AS start, any({choice}) AS choice
                FROM spans
                WHERE project = {{p:String}} AND {where}
                  AND start_time >= fromUnixTimestamp64Nano({{since:Int64}}, 'UTC')
                  AND start_time < fromUnixTimestamp64Nano({{until:Int64}}, 'UTC')
                GROUP BY trace_id, span_id
            ) AS s
            LEFT JOIN (
                SELECT trace_id, {AGENT_GROUPED} AS agent_ FROM runs
                WHERE project = {{p:String}} GROUP BY trace_id
            ) AS r USING trace_id
        )
        {agent_filter}
        GROUP BY bucket, agent, pos, choice
        ORDER BY bucket, agent, pos, choice
    """
    rows = client.query(sql, parameters=params).result_rows
    return [(int(b), str(a), int(p), str(c), int(n)) for b, a, p, c, n in rows]
