"""A LangGraph ReAct agent (model node + tools node) traced as OpenInference's docs say.

``python langgraph_agent.py [--stream]``: one invocation of the graph ``weather_agent``.
"""

from __future__ import annotations

import argparse

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from openinference.instrumentation.langchain import LangChainInstrumentor

import agentkit

GRAPH_NAME = "weather_agent"
MODEL = "gpt-4o-mini"


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return agentkit.get_weather(city)


@tool
def c_to_f(c: float) -> str:
    """Celsius to Fahrenheit."""
    return agentkit.c_to_f(c)


def build(stream: bool) -> object:
    tools = [get_weather, c_to_f]
    model = ChatOpenAI(model=MODEL, temperature=0, streaming=stream).bind_tools(tools)

    def agent(state: MessagesState) -> dict[str, list[object]]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(name=GRAPH_NAME)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--with-sdk", action="store_true", help="agentreel.sdk.init() too")
    args = parser.parse_args()

    tracer_provider = agentkit.tracing(with_sdk=args.with_sdk)
    LangChainInstrumentor().instrument(tracer_provider=tracer_provider)

    graph = build(args.stream)
    messages = [SystemMessage(agentkit.SYSTEM), HumanMessage(agentkit.QUESTION)]
    state = graph.invoke({"messages": messages})  # type: ignore[attr-defined]
    agentkit.report(tracer_provider, str(state["messages"][-1].content))


if __name__ == "__main__":
    main()
