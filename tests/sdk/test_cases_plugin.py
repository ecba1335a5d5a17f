"""The pytest plugin (``agentreel_case``): a pinned case runs the agent offline, in a fresh
pytest process as a user runs it, and fails naming the call when the agent's code changes
its second request. Ground truth is what the fake provider received and what the tools'
bodies logged, not agentreel's report."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace

from agentreel.sdk import _config, _rerun
from agentreel.sdk.pytest_plugin import CaseRunner

from support import caseagent
from support.fakeprovider import FakeProvider
from support.pinned import agent_env, pin, record

USER_TEST = """
import os

from support import caseagent

BASE_URL = os.environ["CASE_AGENT_BASE_URL"]


def test_as_recorded(agentreel_case):
    result = agentreel_case("cases/refund.json", caseagent.answer, BASE_URL)
    result.assert_tools(["lookup_order", "refund"])
    result.assert_decisions({"route": "refund"})
    result.assert_output(equals=caseagent.ANSWER)
    result.assert_steps(max=6)
    result.assert_cost(max_usd=0)
    result.assert_no_divergence()
    assert result.report.calls_served == [1, 2, 3]


def test_second_request_changed(agentreel_case):
    agentreel_case("cases/refund.json", caseagent.answer, BASE_URL, nudge="Please hurry.")
"""


@pytest.fixture(scope="module")
def case_file(store: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The agent's run, recorded against the fake provider and pinned."""
    work = tmp_path_factory.mktemp("pinned")
    with FakeProvider(caseagent.SCRIPT) as fake:
        project, trace_id = record(store, fake, work)
    path = work / "cases" / "refund.json"
    pin(store, project, trace_id, path)
    return path


@pytest.fixture
def tool_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "tools.log"
    monkeypatch.setenv("CASE_AGENT_TOOL_LOG", str(log))
    return log


@pytest.fixture
def offline() -> Iterator[FakeProvider]:
    """The provider the agent is pointed at; a re-run served offline sends it nothing."""
    with FakeProvider(caseagent.SCRIPT) as fake:
        yield fake


def _outcomes(junit: Path) -> dict[str, str]:
    """Each test's outcome in a JUnit report: ``passed``, or its failure message."""
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        failure = case.find("failure")
        out[case.attrib["name"]] = "passed" if failure is None else failure.attrib["message"]
    return out


def test_a_pinned_case_passes_offline_in_a_fresh_process_and_fails_naming_a_changed_call(
    case_file: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / "cases").mkdir(parents=True)
    (project / "cases" / "refund.json").write_bytes(case_file.read_bytes())
    (project / "test_refund.py").write_text(textwrap.dedent(USER_TEST))
    junit = tmp_path / "junit.xml"
    log = tmp_path / "tools.log"
    pytest_cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error"]
    with FakeProvider(caseagent.SCRIPT) as fake:
        # The fake is the agent's provider and any collector's endpoint alike.
        done = subprocess.run(
            [*pytest_cmd, "--junitxml", str(junit), "test_refund.py"],
            cwd=project,
            env=agent_env(fake, log),
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        sent = fake.exchanges
    assert done.returncode == 1, done.stdout + done.stderr
    outcomes = _outcomes(junit)
    assert outcomes["test_as_recorded"] == "passed", done.stdout
    assert outcomes["test_second_request_changed"].startswith(
        "Failed: agentreel case cases/refund.json: the re-run diverged at call 2: "
    ), done.stdout
    assert "4 messages sent where the recording has 3" in outcomes["test_second_request_changed"]
    assert "During handling" not in done.stdout and "direct cause" not in done.stdout
    assert sent == []  # no model call, no span export: nothing left the process
    assert caseagent.tool_log(log) == []  # no tool body ran


def test_the_result_says_what_the_agent_did(
    agentreel_case: CaseRunner, case_file: Path, offline: FakeProvider, tool_log: Path
) -> None:
    result = agentreel_case(case_file, caseagent.answer, offline.openai_base_url)
    assert result.output == caseagent.ANSWER
    assert result.tools == ["lookup_order", "refund"]
    assert [(d.name, d.chosen, d.options) for d in result.decisions] == [
        ("route", "refund", ("refund", "faq"))
    ]
    assert (result.llm_calls, result.steps, result.cost_usd) == (3, 6, 0.0)
    assert result.divergence is None and result.report.calls_live == []
    result.assert_decisions([("route", "refund")])
    result.assert_decisions(["route"])
    result.assert_output(contains="A-7")
    result.assert_steps(min=6, max=6)
    assert offline.exchanges == [] and caseagent.tool_log(tool_log) == []


def test_an_async_agent_is_served_too(
    agentreel_case: CaseRunner, case_file: Path, offline: FakeProvider, tool_log: Path
) -> None:
    result = agentreel_case(case_file, caseagent.answer_async, offline.openai_base_url)
    result.assert_output(equals=caseagent.ANSWER)
    result.assert_tools(["lookup_order", "refund"])
    assert result.report.calls_served == [1, 2, 3]
    assert offline.exchanges == [] and caseagent.tool_log(tool_log) == []


def test_the_helpers_fail_saying_what_differs(
    agentreel_case: CaseRunner, case_file: Path, offline: FakeProvider, tool_log: Path
) -> None:
    result = agentreel_case(case_file, caseagent.answer, offline.openai_base_url)
    failures: list[tuple[Callable[..., None], dict[str, Any], str]] = [
        (result.assert_tools, {"expected": ["refund"]}, "tools called: ['lookup_order', 'refund']; expected ['refund']"),
        (result.assert_decisions, {"expected": {"route": "faq"}}, "decision 'route' chose ['refund']; expected 'faq'"),
        (result.assert_decisions, {"expected": {"escalate": "human"}}, "decision 'escalate' was not taken (taken: [route=refund])"),
        (result.assert_decisions, {"expected": [("route", "refund"), "escalate"]}, "decisions taken: [route=refund]; expected [route=refund, escalate]"),
        (result.assert_output, {"contains": "B-9"}, "does not contain 'B-9'"),
        (result.assert_output, {"equals": "no"}, "expected 'no'"),
        (result.assert_steps, {"max": 5}, "6 steps (3 LLM calls + 2 tool calls + 1 decision), over the maximum of 5"),
    ]  # fmt: skip
    for check, arguments, message in failures:
        with pytest.raises(AssertionError) as failed:
            check(**arguments)
        assert str(failed.value).startswith(f"agentreel case {case_file}: "), message
        assert message in str(failed.value)


def test_a_tolerated_divergence_is_in_the_result(
    agentreel_case: CaseRunner, case_file: Path, offline: FakeProvider, tool_log: Path
) -> None:
    result = agentreel_case(
        case_file, caseagent.answer, offline.openai_base_url, nudge="Hurry.", allow_divergence=True
    )
    assert result.divergence is not None and result.divergence.call == 2
    assert result.output is None and "diverged at call 2" in str(result.error)
    assert result.report.calls_served == [1] and result.llm_calls == 2
    result.assert_no_divergence(before=2)
    with pytest.raises(AssertionError, match="diverged at call 2 \\(before call 3\\): 4 messages"):
        result.assert_no_divergence(before=3)
    # The changed call was refused, not sent; the tool before it was served.
    assert offline.exchanges == [] and caseagent.tool_log(tool_log) == []
    assert result.tools == ["lookup_order"]


def test_live_calls_the_model_compares_each_request_and_serves_the_tools(
    agentreel_case: CaseRunner, case_file: Path, offline: FakeProvider, tool_log: Path
) -> None:
    result = agentreel_case(case_file, caseagent.answer, offline.openai_base_url, live=True)
    assert result.report.calls_live == [1, 2, 3] and result.divergence is None
    assert [e.path for e in offline.exchanges] == ["/v1/chat/completions"] * 3
    assert caseagent.tool_log(tool_log) == []
    assert result.cost_usd > 0  # gpt-4o-mini is priced; the fake reports usage
    with pytest.raises(AssertionError, match="over \\$0"):
        result.assert_cost(max_usd=0)


def test_an_error_of_the_agent_is_its_own_and_state_is_restored(
    agentreel_case: CaseRunner, case_file: Path
) -> None:
    provider, setup = trace.get_tracer_provider(), _config._setup

    def broken() -> None:
        raise KeyError("not a divergence")

    with pytest.raises(KeyError, match="not a divergence"):
        agentreel_case(case_file, broken)
    assert _rerun.active() is None
    assert trace.get_tracer_provider() is provider and _config._setup is setup
    with pytest.raises(pytest.fail.Exception, match="cannot read the case"):
        agentreel_case(case_file.parent / "missing.json", broken)
