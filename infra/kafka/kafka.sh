#!/usr/bin/env bash
# Local Apache Kafka (KRaft, single node) without Docker.
#   infra/kafka/kafka.sh fetch   – resolve kafka_2.13 + deps from Maven Central (cached in ~/.m2) into .runtime/libs
#   infra/kafka/kafka.sh start   – fetch if needed, format storage once, start on $KAFKA_HOST:$KAFKA_PORT, wait until it answers
#   infra/kafka/kafka.sh stop    – stop the broker started by this script (SIGTERM, then SIGKILL after a grace period)
#   infra/kafka/kafka.sh status  – exit 0 when a broker answers on the port
# Reuses a broker that already answers on the port instead of starting a second one.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-${TMPDIR:-/tmp}/alerta-rosa-kafka}"
runtime="$here/.runtime"
libs="$runtime/libs"
pidfile="$KAFKA_DATA_DIR/kafka.pid"
logs="$KAFKA_DATA_DIR/logs"

answers() { (exec 3<>"/dev/tcp/$KAFKA_HOST/$KAFKA_PORT") 2>/dev/null; }

pick_java() {
  if [ -n "${KAFKA_JAVA:-}" ]; then echo "$KAFKA_JAVA"; return; fi
  if [ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]; then echo /usr/lib/jvm/java-17-openjdk-amd64/bin/java; return; fi
  command -v java
}

fetch() {
  local stamp="$libs/.pom.sha"
  local want
  want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  echo "kafka: resolving broker jars from Maven Central (cached in ~/.m2)…"
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs"
  echo "$want" > "$stamp"
}

run_class() {
  local cls="$1"; shift
  "$(pick_java)" -Xms256m -Xmx${KAFKA_HEAP:-768m} -Dlog4j2.configurationFile="$here/log4j2.properties" \
    -Dkafka.logs.dir="$logs" -cp "$libs/*" "$cls" "$@"
}

write_config() {
  mkdir -p "$KAFKA_DATA_DIR" "$logs"
  cat > "$KAFKA_DATA_DIR/server.properties" <<CFG
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DATA_DIR/data
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
CFG
}

start() {
  if answers; then echo "kafka: already answering on $KAFKA_HOST:$KAFKA_PORT (reused)"; return; fi
  fetch
  write_config
  if [ ! -f "$KAFKA_DATA_DIR/data/meta.properties" ]; then
    local cluster_id
    cluster_id="$(run_class kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    run_class kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DATA_DIR/server.properties" >"$logs/format.log" 2>&1 || {
      echo "kafka: storage format failed:" >&2; cat "$logs/format.log" >&2; exit 1; }
  fi
  nohup "$(pick_java)" -Xms256m -Xmx${KAFKA_HEAP:-768m} -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$here/log4j2.properties" -Dkafka.logs.dir="$logs" \
    -cp "$libs/*" kafka.Kafka "$KAFKA_DATA_DIR/server.properties" >"$logs/stdout.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 120); do
    if answers; then echo "kafka: up on $KAFKA_HOST:$KAFKA_PORT (pid $(cat "$pidfile"), data $KAFKA_DATA_DIR)"; return; fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "kafka: broker exited; last log lines:" >&2; tail -30 "$logs/stdout.log" "$logs/server.log" >&2 2>/dev/null || true; exit 1
    fi
    sleep 0.5
  done
  echo "kafka: did not answer within 60 s" >&2; exit 1
}

stop() {
  [ -f "$pidfile" ] || { echo "kafka: not started by this script"; return; }
  local pid; pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
  fi
  rm -f "$pidfile"
  echo "kafka: stopped"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
