"""``agentreel test``: each pinned case's agent run in a process of its own under the case;
a table; exit 1 when any case diverged, failed or never turned re-run mode on. Ground truth
is what the fake provider received and what the tools' bodies logged."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from support import caseagent
from support.cli import agentreel
from support.fakeprovider import FakeProvider
from support.pinned import AGENT_COMMAND, agent_env, pin, record


@pytest.fixture(scope="module")
def recorded(store: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The agent's run, recorded against the fake provider and stored: (project, trace id)."""
    with FakeProvider(caseagent.SCRIPT) as fake:
        return record(store, fake, tmp_path_factory.mktemp("recorded"))


def _rows(stdout: str) -> dict[str, list[str]]:
    """The table's rows by case name, cells split on runs of two spaces."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("case "))
    rows = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        cells = [c.strip() for c in line.split("  ") if c.strip()]
        rows[cells[0]] = cells
    return rows


def test_a_passing_and_a_diverging_case(
    store: Any, recorded: tuple[str, str], tmp_path: Path
) -> None:
    cases = tmp_path / "project" / "cases"
    pin(store, *recorded, cases / "refund.json", command=AGENT_COMMAND)
    changed = f"{AGENT_COMMAND} --nudge 'Please hurry.'"
    pin(store, *recorded, cases / "refund-nudged.json", command=changed)
    log = tmp_path / "tools.log"
    with FakeProvider(caseagent.SCRIPT) as fake:
        done = agentreel("test", str(cases), env=agent_env(fake, log), timeout=300)
        sent = fake.exchanges
    assert done.returncode == 1, done.stdout + done.stderr
    rows = _rows(done.stdout)
    assert rows["refund"] == ["refund", "3/0", "2", "none", "0", "PASS"]
    nudged = rows["refund-nudged"]
    assert nudged[:3] + nudged[-2:] == ["refund-nudged", "1/0", "1", "1", "FAIL"]
    assert nudged[3].startswith("call 2: 4 messages sent where the recording has 3")
    progress = done.stdout.splitlines()[:2]  # a line per case as it ends, before the table
    assert progress[0].startswith("FAIL  refund-nudged  (")
    assert "diverged at call 2: 4 messages sent where the recording has 3" in progress[0]
    assert progress[1].startswith("PASS  refund  (")
    assert "2 cases: 1 passed, 1 failed" in done.stdout
    assert sent == []  # nothing reached the provider (nor a collector: the fake is both)
    assert caseagent.tool_log(log) == []  # no tool body ran


def test_live_sends_the_calls_and_serves_the_tools(
    store: Any, recorded: tuple[str, str], tmp_path: Path
) -> None:
    case = tmp_path / "cases" / "refund.json"
    pin(store, *recorded, case, command=AGENT_COMMAND)
    log = tmp_path / "tools.log"
    with FakeProvider(caseagent.SCRIPT) as fake:
        done = agentreel("test", "--live", "--json", str(case), env=agent_env(fake, log))
        sent = fake.exchanges
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert (result["passed"], result["failed"]) == (1, 0)
    (outcome,) = result["cases"]
    assert outcome["calls_live"] == 3 and outcome["calls_served"] == 0
    assert outcome["tools_served"] == 2 and outcome["divergence"] is None
    assert [e.path for e in sent] == ["/v1/chat/completions"] * 3
    assert caseagent.tool_log(log) == []
    assert done.stderr.startswith("PASS  refund  (")  # progress goes apart from the JSON


def test_cases_that_cannot_pass_say_why(
    store: Any, recorded: tuple[str, str], tmp_path: Path
) -> None:
    cases = tmp_path / "cases"
    pin(store, *recorded, cases / "a-no-command.json")
    pin(store, *recorded, cases / "b-no-sdk.json", command=f"{sys.executable} -c pass")
    sleeper = f"{sys.executable} -c 'import time; time.sleep(120)'"
    pin(store, *recorded, cases / "c-slow.json", command=sleeper)
    pin(store, *recorded, cases / "d-missing.json", command="no-such-agent-command")
    done = agentreel("test", "--timeout", "3", str(cases))
    assert done.returncode == 1, done.stdout + done.stderr
    rows = _rows(done.stdout)
    assert {name: row[-2:] for name, row in rows.items()} == {
        "a-no-command": ["-", "FAIL"],
        "b-no-sdk": ["0", "FAIL"],
        "c-slow": ["-", "FAIL"],
        "d-missing": ["-", "FAIL"],
    }
    out = done.stdout
    assert "a-no-command.json has no command: pin it with --command" in out
    assert "the agent wrote no re-run report: it never called sdk.init()" in out
    assert "the agent ran out of time (3 s) and was stopped" in out
    assert "cannot run 'no-such-agent-command'" in out


def test_no_cases_is_an_error(tmp_path: Path) -> None:
    empty = agentreel("test", str(tmp_path))
    assert empty.returncode == 2 and "no case files (*.json)" in empty.stderr
    missing = agentreel("test", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no such case file or folder" in missing.stderr
