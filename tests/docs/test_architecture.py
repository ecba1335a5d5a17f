"""docs/architecture.md draws what the import contracts check, and the README's layout
table names every part the package maps."""

from __future__ import annotations

import itertools
import re
import tomllib

from support.paths import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DOC = (ROOT / "docs" / "architecture.md").read_text()
README = (ROOT / "README.md").read_text()


def _layers() -> list[list[str]]:
    contracts = PYPROJECT["tool"]["importlinter"]["contracts"]
    layered = [c for c in contracts if c["type"] == "layers"]
    assert len(layered) == 1
    return [[m.strip() for m in re.split(r"[|:]", layer)] for layer in layered[0]["layers"]]


def test_the_diagram_stacks_the_parts_as_the_contract_orders_them() -> None:
    diagram = DOC.split("```")[1].splitlines()

    def row(module: str) -> int:
        rows = [i for i, line in enumerate(diagram) if re.search(rf"\b{module}\b(?!\.)", line)]
        assert rows, f"{module} is not in the diagram"
        return rows[0]

    rows = [[row(m) for m in layer] for layer in _layers()]
    for upper, lower in itertools.pairwise(rows):
        assert max(upper) < min(lower), f"diagram order differs from the contract: {rows}"
    assert row("agentreel.dashboard") > max(rows[-1]), "the dashboard stands apart, below"


def test_every_mapped_part_is_in_the_readme_layout_and_the_contracts() -> None:
    mapped = PYPROJECT["tool"]["setuptools"]["package-dir"]
    parts = {name for name in mapped if name.count(".") == 1}
    layered = {m for layer in _layers() for m in layer}
    layout = README[README.index("## Layout") :]
    for name in parts:
        folder = mapped[name]
        assert f"| `{folder}/` | `{name}` |" in layout, name
        assert name in layered or name == "agentreel.dashboard", name


def test_the_server_image_copies_every_part() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    folders = {
        path.split("/")[0] for path in PYPROJECT["tool"]["setuptools"]["package-dir"].values()
    }
    for folder in folders:
        assert f"COPY {folder} {folder}" in dockerfile, folder
