"""The README's settings table is the settings table: every setting, with its default."""

from __future__ import annotations

from agentreel.settings import SETTINGS

from support.paths import ROOT

README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented_with_its_default() -> None:
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in README.splitlines()
        if line.startswith("| `AGENTREEL_")
    }
    assert set(rows) == {s.env for s in SETTINGS}
    for setting in SETTINGS:
        if setting.name in ("clickhouse_url", "api_url", "spool_dir"):
            continue  # derived defaults, described in words
        if setting.default == "" and "| (none) |" in rows[setting.env]:
            continue  # empty by default, and the table says so
        assert f"`{str(setting.default).lower()}`" in rows[setting.env].lower(), setting.env


def test_readme_gives_the_two_commands() -> None:
    assert "make run" in README and "make test" in README
