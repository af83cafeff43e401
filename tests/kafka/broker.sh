#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft) on 127.0.0.1 for the end-to-end
# tests. The broker's jars come from Maven Central through Maven (version
# pinned in pom.xml) into a cache outside the repository.
#
#   broker.sh check              exit 77 (skip) when Java or Maven is absent
#   broker.sh fetch              fetch the jars (once; cached)
#   broker.sh start DIR          start a broker in DIR (a new or a stopped one);
#                                prints its bootstrap address, also in DIR/bootstrap
#   broker.sh stop DIR           stop it (SIGTERM, then SIGKILL after 30 s) by its pid
#   broker.sh topic DIR NAME N   create topic NAME with N partitions
#   broker.sh produce DIR TOPIC  produce stdin's lines KEY|VALUE as they are
#                                (what a faulty producer would send)
#   broker.sh consume DIR TOPIC N
#                                print the first N messages (or all there are
#                                after 10 s without one): headers|key|value
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
cache="${TALLY_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tally/kafka-$version}"

check() {
  for tool in java mvn; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "SKIPPED: the Kafka end-to-end tests need $tool (Java 17 and Maven), which is absent" >&2
      exit 77
    fi
  done
}

fetch() {
  check
  if [[ -f "$cache/complete" ]]; then return; fi
  mkdir -p "$cache"
  echo "fetching Apache Kafka $version from Maven Central into $cache ..." >&2
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$cache/libs" >&2
  touch "$cache/complete"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

java_run() {
  java -Xmx512m -Dlog4j.configuration="file:$here/log4j.properties" -cp "$cache/libs/*" "$@"
}

start() {
  local dir="$1"
  fetch
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [[ ! -f "$dir/server.properties" ]]; then
    local port controller
    port="$(free_port)"
    controller="$(free_port)"
    cat >"$dir/server.properties" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
PROPERTIES
    echo "127.0.0.1:$port" >"$dir/bootstrap"
    java_run kafka.tools.StorageTool format -t "$(java_run kafka.tools.StorageTool random-uuid)" \
      -c "$dir/server.properties" >/dev/null
  fi
  # A simple command, not a function: $! is then the JVM's own pid.
  java -Xmx512m -Dlog4j.configuration="file:$here/log4j.properties" -cp "$cache/libs/*" \
    kafka.Kafka "$dir/server.properties" >"$dir/broker.log" 2>&1 &
  echo $! >"$dir/broker.pid"
  local bootstrap
  bootstrap="$(cat "$dir/bootstrap")"
  for _ in $(seq 1 120); do
    if java_run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --list \
        >/dev/null 2>&1; then
      echo "$bootstrap"
      return
    fi
    if ! kill -0 "$(cat "$dir/broker.pid")" 2>/dev/null; then
      echo "the broker exited; see $dir/broker.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "the broker did not answer within 60 s; see $dir/broker.log" >&2
  exit 1
}

stop() {
  local dir="$1" pid
  [[ -f "$dir/broker.pid" ]] || return 0
  pid="$(cat "$dir/broker.pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$dir/broker.pid"; return 0; }
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/broker.pid"
}

topic() {
  java_run org.apache.kafka.tools.TopicCommand --bootstrap-server "$(cat "$1/bootstrap")" \
    --create --if-not-exists --topic "$2" --partitions "$3" --replication-factor 1 >/dev/null
}

produce() {
  java_run kafka.tools.ConsoleProducer --bootstrap-server "$(cat "$1/bootstrap")" --topic "$2" \
    --property parse.key=true --property 'key.separator=|' >/dev/null
}

consume() {
  java_run kafka.tools.ConsoleConsumer --bootstrap-server "$(cat "$1/bootstrap")" --topic "$2" \
    --from-beginning --max-messages "$3" --timeout-ms 10000 \
    --property print.headers=true --property print.key=true \
    --property 'headers.separator=;' --property 'key.separator=|' 2>/dev/null || true
}

case "${1:-}" in
  check) check ;;
  fetch) fetch ;;
  start) start "$2" ;;
  stop) stop "$2" ;;
  topic) topic "$2" "$3" "$4" ;;
  produce) produce "$2" "$3" ;;
  consume) consume "$2" "$3" "$4" ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
