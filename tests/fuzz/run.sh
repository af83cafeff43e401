#!/usr/bin/env bash
# Runs one fuzz target: first every committed regression input (each must
# pass), then fuzzing for SECONDS from the seeds plus the corpus kept so far.
#   run.sh FUZZER SECONDS SEED_DIR REGRESSION_DIR CORPUS_DIR
# A crash leaves its input in CORPUS_DIR/../../crashes/TARGET and fails the run.
set -euo pipefail
fuzzer=$1 seconds=$2 seeds=$3 regressions=$4 corpus=$5
crashes="$(dirname "$(dirname "$corpus")")/crashes/$(basename "$corpus")"
mkdir -p "$corpus" "$crashes"
if compgen -G "$regressions/*" > /dev/null; then
  "$fuzzer" "$regressions"/*
fi
# One job on a 2-core machine; rss limit well above a ledger's working set.
# Seed 1: a run of the same length on the same code explores the same inputs.
"$fuzzer" -seed=1 -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
  -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" "$seeds"
