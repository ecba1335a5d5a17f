#!/usr/bin/env bash
# Lay the sources out the way the package is installed (core/ is agentreel.core, ...), in
# build/pkg/agentreel, for the tools that cannot follow setuptools' package-dir mapping
# (mypy, import-linter). A copy, not symlinks: import-linter does not walk symlinked folders.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=build/pkg
rm -rf "$tree"
mkdir -p "$tree/agentreel"
cp -R agentreel/. "$tree/agentreel/"
for part in core sdk collector storage replay signals dashboard; do cp -R "$part" "$tree/agentreel/$part"; done
find "$tree" -name __pycache__ -prune -exec rm -rf {} +
echo "$tree"
