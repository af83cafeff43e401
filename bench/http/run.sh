#!/usr/bin/env bash
# The HTTP API under load, side by side with the ledger's own append cost
# (docs/performance.md, "HTTP API"). Starts `tally serve --no-kafka` on a
# temporary data directory, funds 1,000 accounts, then runs wrk against
#   POST /v1/holds  at 1, 16 and 64 connections, and
#   POST /v1/events with batches of 1, 100 and 1000 usage events (16 connections),
# and finally append_bench for the same shapes without HTTP.
#   bench/http/run.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$(realpath "${1:-build}")
seconds=${2:-10}
here=$(dirname "$(realpath "$0")")
tally=$build/adapters/cli/tally
# shellcheck source=../../scripts/test_server.sh
source "$here/../../scripts/test_server.sh"
start_test_server "$tally" bench

python3 - "$port" "$token" <<'PY'
import json, sys, urllib.request
port, token = sys.argv[1], sys.argv[2]
lines = [json.dumps({"id": f"fund-{i}", "account": f"acct-{i}", "occurred_at": "2026-11-30T00:00:00Z",
                     "producer": "bench", "type": "credits_granted",
                     "data": {"credits": "1000000000", "kind": "promotional", "reason": "bench"}})
         for i in range(1000)]
request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/events", data="\n".join(lines).encode(),
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/x-ndjson"})
outcomes = json.load(urllib.request.urlopen(request))["outcomes"]
assert all(o["outcome"] in ("appended", "duplicate") for o in outcomes), outcomes[:3]
PY

echo "machine: $(nproc) cores, $(uname -r); wrk and the service share them"
summary() {  # wrk output -> requests/s, p50, p99, errors
  awk -v what="$1" -v batch="$2" '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    /Non-2xx/ {bad=$NF}
    /Socket errors/ {sock=$0}
    END {printf "%-34s %10.0f req/s %10.0f events/s  p50 %8s  p99 %8s  non-2xx %s %s\n",
                what, rps, rps*batch, p50, p99, (bad==""?0:bad), sock}'
}
for connections in 1 16 64; do
  threads=$((connections < 2 ? 1 : 2))
  wrk -t$threads -c$connections -d${seconds}s --latency -s "$here/load.lua" \
    "http://127.0.0.1:$port" -- "$token" "h$connections" holds | summary "POST /v1/holds c=$connections" 1
done
for batch in 1 100 1000; do
  wrk -t2 -c16 -d${seconds}s --latency -s "$here/load.lua" \
    "http://127.0.0.1:$port" -- "$token" "e$batch" events "$batch" | summary "POST /v1/events batch=$batch c=16" "$batch"
done
echo "head seq after the runs: $(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/readyz")"
stop_test_server || true

echo "append_bench (the ledger alone, pre-parsed events, durable):"
"$build/bench/append_bench" \
  --benchmark_filter='BM_AppendBatch/(1|64|512|4096)/|BM_AppendConcurrent/.*threads:(1|16|64)$' 2>/dev/null |
  grep -E '^BM_'
