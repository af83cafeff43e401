#!/usr/bin/env bash
# The service under the demo's workload (docs/performance.md, "A platform's
# workload"): starts `tally serve --no-kafka` on a temporary data directory
# and runs `tally load` at rising rates, each with new accounts, printing
# its summary line; the achieved rate stops rising where the service does.
#   bench/load/run.sh BUILD_DIR [SECONDS] [RATES...]
set -euo pipefail
build=$(realpath "${1:-build}")
seconds=${2:-10}
shift $(($# < 2 ? $# : 2))
rates=("${@:-500 1000 2000 4000}")
here=$(dirname "$(realpath "$0")")
tally=$build/adapters/cli/tally
# shellcheck source=../../scripts/test_server.sh
source "$here/../../scripts/test_server.sh"
start_test_server "$tally" bench with-key
echo "machine: $(nproc) cores, $(uname -r); tally load and the service share them"
seed=1
for rate in ${rates[@]}; do
  printf 'rate %6s/s, 16 connections: ' "$rate"
  "$tally" load --url "http://127.0.0.1:$port" --token "$token" --rate "$rate" \
    --duration "$seconds" --seed "$seed" | tail -1
  seed=$((seed + 1))
done
echo "readyz after the runs: $(curl -s "http://127.0.0.1:$port/readyz")"
stop_test_server || true
