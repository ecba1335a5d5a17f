#!/usr/bin/env bash
# The layering contracts in pyproject.toml ([tool.importlinter]), checked on the package as
# installed (see package_tree.sh). import-linter puts the working directory first on the path,
# so it runs from the tree's folder.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tool=${LINT_IMPORTS:-.venv/bin/lint-imports}
case "$tool" in /*) ;; *) tool="$root/$tool" ;; esac
tree=$(tools/package_tree.sh)
cd "$tree"
exec "$tool" "$root/pyproject.toml" --no-cache "$@"
