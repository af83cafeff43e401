# Sourced by scripts that drive a real `tally serve --no-kafka` over HTTP
# (bench/http/run.sh, tests/service/openapi_test.sh):
#   start_test_server TALLY TOKEN_NAME [with-key]
# makes a temporary data directory with an operator token (and, with
# `with-key`, a master key beside it for personal fields), starts the
# server on a random loopback port and waits for /healthz. Sets $data,
# $port, $token and $serve_pid; the EXIT trap stops the server and removes
# the directory. stop_test_server stops it cleanly (SIGTERM) and returns its
# exit status.
start_test_server() {
  local tally=$1 name=$2 key_flags=()
  data=$(mktemp -d)
  port=$((20000 + RANDOM % 20000))
  trap 'kill $serve_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data" "$data.key"' EXIT
  if [ "${3:-}" = with-key ]; then
    "$tally" master-key new --out "$data.key" > /dev/null
    key_flags=(--master-key-file "$data.key")
  fi
  token=$("$tally" token create --data "$data" --role operator --name "$name" 2>/dev/null)
  "$tally" serve --data "$data" --listen "127.0.0.1:$port" --no-kafka --rate-limit 0 \
    "${key_flags[@]}" 2> "$data/serve.log" &
  serve_pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && return 0
    sleep 0.1
  done
  echo "tally serve did not answer /healthz in 10 s; its log:" >&2
  cat "$data/serve.log" >&2
  return 1
}

stop_test_server() {
  kill -TERM "$serve_pid"
  wait "$serve_pid"
}
