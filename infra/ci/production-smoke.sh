#!/usr/bin/env bash
# Runs every service once the way the Docker image does — from a production-pruned install
# (`npm ci --omit=dev` in a copy of the built tree, NODE_ENV=production) — and checks that each one
# starts and answers /health. Catches runtime packages declared as devDependencies and settings that
# production requires. Needs `npm run build` first, and PostgreSQL/Redis/Kafka up (CI has them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$(pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/alerta-rosa-prod.XXXXXX")"
id="$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
db="ar_prod_smoke_$id"
prefix="prodsmoke-$id"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  node -e "
    const { Kafka, logLevel } = require('kafkajs');
    const a = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING }).admin();
    a.connect().then(() => a.listTopics()).then((t) => a.deleteTopics({ topics: t.filter((x) => x.startsWith('$prefix.')) }))
      .catch(() => undefined).finally(() => a.disconnect());
  " >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== production smoke: pruned install in $work"
cp package.json package-lock.json "$work/"
cp -r dist config "$work/"
mkdir -p "$work/infra" && cp -r infra/node "$work/infra/"
(cd "$work" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE \"$db\""

export NODE_ENV=production LOG_LEVEL=info
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" KAFKA_TOPIC_PREFIX="$prefix" QUEUE_PREFIX="$prefix"
export AUTH_JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=' | head -c 48)"
export CREDENTIALS_KEYS="prod1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
export PUBLIC_BASE_URL="https://alertarosa.example.gob.mx" PHOTO_DIR="$work/photos"
port=23100
failed=0
for name in intake dissemination coordination tracker gateway; do
  port=$((port + 1))
  log="$work/$name.log"
  # The gateway fronts the four services started before it, on their smoke ports.
  (cd "$work" && INTAKE_URL=http://127.0.0.1:23101 DISSEMINATION_URL=http://127.0.0.1:23102 \
    COORDINATION_URL=http://127.0.0.1:23103 TRACKER_URL=http://127.0.0.1:23104 PORT="$port" exec node -r ./infra/node/register-paths.js "dist/apps/$name/src/main.js") >"$log" 2>&1 &
  pids+=($!)
  ok=0
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      # the gateway also serves the built console
      [ "$name" != gateway ] || curl -fsS "http://127.0.0.1:$port/" | grep -q '<div id="root"' || break
      ok=1; break
    fi
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.5
  done
  if [ "$ok" = 1 ]; then
    echo "   $name: /health 200 (production-pruned install)"
  else
    echo "   $name: FAILED to start from a production-pruned install:"; tail -20 "$log"; failed=1
  fi
done
[ "$failed" = 0 ] || { echo "production smoke: failed"; exit 1; }
echo "production smoke: every service starts from a production-pruned install"
