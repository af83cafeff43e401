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
# One file per clang-tidy process, two at a time: faster on two cores, and a
# failure names its file.
git ls-files '*.cc' | xargs -P 2 -I{} sh -c \
  'clang-tidy -p "$0" --quiet "{}" 2>/dev/null || { echo "clang-tidy failed on {}"; exit 1; }' \
  "$build_dir"
