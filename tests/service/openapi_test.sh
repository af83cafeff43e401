#!/usr/bin/env bash
# The running server against docs/api/openapi.yaml, with Schemathesis: every
# documented operation, with generated valid and invalid input; no 5xx, every
# status, content type and body as documented, and schema-violating input
# refused. (Schema-valid input may still be refused for what a schema cannot
# say: an at_seq past the head, at_seq with a cursor, an unknown event type;
# that check is left out.)
#   openapi_test.sh TALLY_BINARY SPEC
set -euo pipefail
tally=$1 spec=$2
# Through python3 (the console script may not be on PATH after pip --user).
schemathesis() { python3 -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "schemathesis"; schemathesis()' "$@"; }
if ! python3 -c 'import schemathesis.cli' 2> /dev/null; then
  if [[ "${CI:-}" == "true" ]]; then
    echo "schemathesis is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  fi
  echo "SKIPPED: schemathesis is not installed (scripts/install-deps.sh installs it)"
  exit 0
fi
# shellcheck source=../../scripts/test_server.sh
source "$(dirname "$0")/../../scripts/test_server.sh"
start_test_server "$tally" openapi
curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/x-ndjson' \
  --data-binary @"$(dirname "$spec")/../events/credits_granted.ndjson" \
  "http://127.0.0.1:$port/v1/events" > /dev/null
schemathesis run "$spec" --url "http://127.0.0.1:$port" -H "Authorization: Bearer $token" \
  --checks all --exclude-checks positive_data_acceptance --max-examples 40 --seed 1 \
  --no-color 2>&1 | tail -40
status=${PIPESTATUS[0]}
stop_test_server  # a clean stop (exit 0) is part of the check
exit "$status"
