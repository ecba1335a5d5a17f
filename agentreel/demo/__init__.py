"""``agentreel demo``: a week of sample agent runs sent over real OTLP."""

from agentreel.demo.week import DemoResult, generate, send_demo

__all__ = ["DemoResult", "generate", "send_demo"]
