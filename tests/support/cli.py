"""Run the ``agentreel`` command as a user does, in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def agentreel(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AGENTREEL_")}
    return subprocess.run(
        [sys.executable, "-m", "agentreel", *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def agentreel_on(data_dir: Path, *args: str) -> str:
    """A command on ``data_dir``'s store itself (projects, keys) that must succeed; its output."""
    done = agentreel(*args, env={"AGENTREEL_DATA_DIR": str(data_dir)}, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout
