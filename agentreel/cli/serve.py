"""``agentreel serve``: the collector and the REST API, until stopped."""

from __future__ import annotations

import argparse
import sys

from agentreel.settings import Settings, SettingsError


def serve_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run the server in this process; 1 when it cannot start, 2 for a bad alerts file."""
    from agentreel.server import serve
    from agentreel.signals.rules import RuleError
    from agentreel.storage.client import StoreUnavailable

    try:
        serve(settings)
    except (StoreUnavailable, SettingsError) as exc:
        print(f"agentreel: {exc}", file=sys.stderr)
        return 1
    except RuleError as exc:  # a bad alerts file
        print(f"agentreel: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"agentreel: {exc}", file=sys.stderr)
        return 1
    return 0
