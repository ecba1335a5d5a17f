"""``agentreel report --daily``: the day's summary as text or Markdown, printed or sent to a
webhook — once, or every day at a given UTC time (``--at 08:00``)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from agentreel.cli.client import request
from agentreel.settings import Settings


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--daily", action="store_true", required=True, help="The daily report")
    cmd.add_argument("--day", help="YYYY-MM-DD, today or yesterday (UTC); default today, "
                     "or yesterday with --at")  # fmt: skip
    cmd.add_argument("--format", choices=("text", "markdown"), default="text")
    cmd.add_argument("--webhook", help="Also POST the report here (Slack-compatible {text})")
    cmd.add_argument("--at", metavar="HH:MM", help="Keep running; send every day at this UTC time")


def report_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.at is None:
        return 0 if _once(settings, args, args.day or "today") else 1
    try:
        hour, minute = (int(x) for x in args.at.split(":"))
        at = datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    except ValueError:
        print("agentreel: --at must be HH:MM (UTC)", file=sys.stderr)
        return 2
    print(f"sending the daily report every day at {args.at} UTC; Ctrl-C stops", file=sys.stderr)
    while True:
        now = datetime.now(UTC)
        while at <= now:
            at += timedelta(days=1)
        time.sleep((at - now).total_seconds())
        _once(settings, args, args.day or "yesterday")  # a failure waits for the next day


def _once(settings: Settings, args: argparse.Namespace, day: str) -> bool:
    today = datetime.now(UTC).date()
    named = {"today": today, "yesterday": today - timedelta(days=1)}
    params: dict[str, Any] = {"format": "json" if args.json else args.format}
    params["day"] = named[day].isoformat() if day in named else day
    response = request(settings, "GET", "/api/v1/report/daily", params=params)
    if response is None:
        return False
    text = response.text
    print(text, end="" if text.endswith("\n") else "\n")
    if args.webhook:
        return _send(args.webhook, text)
    return True


def _send(url: str, text: str) -> bool:
    from agentreel.signals.notify import send
    from agentreel.signals.rules import Webhook

    result = send(Webhook(url, "slack", timeout=10.0), {"text": text})
    if not result.ok:
        print(f"agentreel: webhook {url} failed: {result.error}", file=sys.stderr)
    return result.ok
