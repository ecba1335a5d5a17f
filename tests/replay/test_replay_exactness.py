"""The rendered request of every LLM call equals the body the provider received.

For every instrumentor configuration (real instrumentors, real ``openai``/``anthropic``
clients, the local fake provider recording each request body), the OpenAI or Anthropic
rendering of each stored call is compared field by field with what the provider got: roles,
text, tool calls (id, name, arguments as JSON), tool call ids, Anthropic ``system``,
``tool_use`` and ``tool_result`` blocks, tools offered, model and parameters. A field the
instrumentor did not capture must be listed in ``not_captured``, never invented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from support.exactness import same_anthropic, same_openai_messages, same_parameters, same_tools
from support.liveserver import RunningServer
from support.payloads.capture import CONFIGS

NAMES = sorted(CONFIGS)


@pytest.mark.parametrize("name", NAMES)
def test_rendered_requests_equal_what_the_provider_received(
    server: RunningServer, instrumented_runs: Callable[[str], dict[str, Any]], name: str
) -> None:
    result = instrumented_runs(name)
    api = CONFIGS[name].api
    calls = server.get(f"/api/v1/runs/{result['trace_id']}/llm-calls", format=api)["llm_calls"]
    sent = [e["body"] for e in result["exchanges"]]
    assert len(calls) == len(sent)
    for index, (call, body) in enumerate(zip(calls, sent, strict=True)):
        rendered, missing = call["request"], call["not_captured"]
        where = f"{name} call {index + 1}"
        assert rendered["model"] == body["model"], where
        if api == "openai":
            same_openai_messages(rendered, body, where)
        else:
            same_anthropic(rendered, body, missing, where)
        same_tools(api, rendered, body, missing, where)
        same_parameters(rendered, body, missing, where)
