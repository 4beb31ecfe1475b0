#!/usr/bin/env bash
# Local infrastructure without Docker: reuse (or start) PostgreSQL and Redis, start Kafka, create the
# project's database. `stop` stops only what this project started (Kafka).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PGOPTIONS="-c client_min_messages=warning"
PGHOST="${PGHOST:-127.0.0.1}"; PGPORT="${PGPORT:-5432}"; PGUSER="${PGUSER:-postgres}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"; REDIS_PORT="${REDIS_PORT:-6379}"
# The database DATABASE_URL names (default alerta_rosa).
if [ -z "${DB_NAME:-}" ] && [ -n "${DATABASE_URL:-}" ]; then
  DB_NAME="$(node -e "console.log(decodeURIComponent(new URL(process.argv[1]).pathname.slice(1)))" "$DATABASE_URL")"
fi
DB_NAME="${DB_NAME:-alerta_rosa}"

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

start_postgres() {
  if port_open "$PGHOST" "$PGPORT"; then echo "postgres: reusing $PGHOST:$PGPORT"; return; fi
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "postgres: starting local cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  else
    echo "postgres: not reachable on $PGHOST:$PGPORT and no local cluster to start" >&2; exit 1
  fi
  for _ in $(seq 1 40); do port_open "$PGHOST" "$PGPORT" && return; sleep 0.5; done
  echo "postgres: did not come up" >&2; exit 1
}

start_redis() {
  if port_open "$REDIS_HOST" "$REDIS_PORT"; then echo "redis: reusing $REDIS_HOST:$REDIS_PORT"; return; fi
  if command -v redis-server >/dev/null; then
    echo "redis: starting"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir "${TMPDIR:-/tmp}" --logfile "${TMPDIR:-/tmp}/alerta-rosa-redis.log"
  else
    echo "redis: not reachable on $REDIS_HOST:$REDIS_PORT and redis-server is not installed" >&2; exit 1
  fi
  for _ in $(seq 1 40); do port_open "$REDIS_HOST" "$REDIS_PORT" && return; sleep 0.25; done
  echo "redis: did not come up" >&2; exit 1
}

create_database() {
  if ! psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
    psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -qc "CREATE DATABASE \"$DB_NAME\"" && echo "postgres: created database $DB_NAME"
  fi
  # Each service creates and migrates its own schema at start-up; create them here too so that
  # tools (psql, reports) find them before the first start.
  for schema in intake dissemination coordination tracker; do
    psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$DB_NAME" -qc "CREATE SCHEMA IF NOT EXISTS $schema"
  done
}

case "${1:-start}" in
  start)
    start_postgres
    start_redis
    create_database
    bash "$here/kafka/kafka.sh" start
    ;;
  stop)
    bash "$here/kafka/kafka.sh" stop
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
