"""How the CLI and ``agentreel mcp`` say the commands that re-run a recorded run from one of
its LLM calls (the SDK's re-run mode) and pin it as a regression case."""

from __future__ import annotations

import shlex

#: Stands for the agent's own command when it is not known.
AGENT_PLACEHOLDER = "python your_agent.py"


def rerun_env(trace_id: str, from_call: int, command: str | None = None) -> str:
    """The shell command that re-runs ``trace_id``: calls before ``from_call`` (and the tool
    results before it) answered from the recording, everything from it on live."""
    return (
        f"AGENTREEL_RERUN_OF={trace_id} AGENTREEL_RERUN_FROM={from_call} "
        f"{command or AGENT_PLACEHOLDER}"
    )


def rerun_python(trace_id: str, from_call: int) -> str:
    """The same, in Python, around the code that runs the agent."""
    return f'with sdk.rerun("{trace_id}", from_call={from_call}):'


def pin_command(trace_id: str, name: str | None = None, command: str | None = None) -> str:
    """The command that keeps ``trace_id`` as the case file ``cases/<name>.json``."""
    out = f"agentreel pin {trace_id} -o cases/{name or 'run-' + trace_id[:12]}.json"
    return out + (f" --command {shlex.quote(command)}" if command else "")
