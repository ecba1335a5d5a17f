"""``agentreel repair`` on a store damaged the old way: spans stored, their derived rows not.

The damage is made as releases before recovery made it: a real server killed right after the
spans insert, with its spool then lost (so no start re-derives anything), and for half of
the runs the per-run rows gone too (a kill inside the spans insert, between the spans part
and the views' parts). Repair refuses while the server holds the store, then rebuilds; the
runs, lists and totals then say what was acknowledged (tests/support/crashrun.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from support.cli import agentreel
from support.crashrun import Truth, check, restart, send_and_die

_DAMAGE = """
import sys
from agentreel.storage.client import connect
client = connect(sys.argv[1])
client.command("DELETE FROM runs WHERE trace_id IN {t:Array(String)}",
               parameters={"t": sys.argv[2:]})
"""


def test_repair_rebuilds_runs_and_rollups_of_a_damaged_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    truth = Truth()
    send_and_die(data, truth, "spans")
    shutil.rmtree(data / "spool")
    lost = sorted(truth.runs)[::2]
    store = f"chdb://{(data / 'clickhouse').absolute()}"
    subprocess.run([sys.executable, "-c", _DAMAGE, store, *lost], check=True, timeout=120)
    env = {"AGENTREEL_DATA_DIR": str(data)}

    server = restart(data)
    try:
        missing = httpx.get(f"{server.url}/api/v1/runs/{lost[0]}", timeout=30)
        assert missing.status_code == 404
        assert server.get("/api/v1/cost/daily")["rows"] == []
        refused = agentreel("repair", env=env, timeout=120)
        assert refused.returncode == 1
        assert "stop the server, run `agentreel repair`" in refused.stderr
    finally:
        server.stop()

    done = agentreel("repair", env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "rebuilding runs and rollups from the spans, a month at a time"
    assert lines[1].endswith(f"spans of {len(truth.runs)} runs")
    assert lines[-1].startswith(f"rebuilt {len(truth.runs)} runs over ")

    server = restart(data)
    try:
        check(server, truth)
    finally:
        server.stop()
