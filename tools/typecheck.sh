#!/usr/bin/env bash
# mypy cannot follow setuptools' package-dir mapping (collector/ is agentreel.collector), so
# check a tree of symlinks laid out the way the package is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=build/typecheck
rm -rf "$tree"
mkdir -p "$tree"
mkdir -p "$tree/agentreel"
for f in agentreel/*; do ln -s "../../../$f" "$tree/agentreel/$(basename "$f")"; done
for pkg in core collector storage replay dashboard sdk signals; do ln -s "../../../$pkg" "$tree/agentreel/$pkg"; done
exec "${MYPY:-.venv/bin/mypy}" "$tree/agentreel" "$@"
