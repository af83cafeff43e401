#!/usr/bin/env bash
# Runs clang-format (check only; --fix to rewrite) and clang-tidy over our sources.
# Usage: scripts/lint.sh [BUILD_DIR] [--fix]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
fix=${2:-}
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [[ "$fix" == "--fix" ]]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
fi
mapfile -t sources < <(git ls-files '*.cc')
clang-tidy -p "$build_dir" --quiet "${sources[@]}"
