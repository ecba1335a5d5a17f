#!/usr/bin/env bash
# mypy --strict on the package as installed (see package_tree.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(tools/package_tree.sh)
exec "${MYPY:-.venv/bin/mypy}" "$tree/agentreel" "$@"
