#!/usr/bin/env bash
# `npm run up`: install what is missing, start PostgreSQL/Redis (reused if running) and Kafka, build,
# start every service and the gateway, print the one URL (console + every API); Ctrl-C stops everything
# this script started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

# Development secrets live outside the repository, generated once per checkout.
envfile="$root/.env"
if [ ! -f "$envfile" ]; then
  echo "== creating .env with fresh development secrets (not committed)"
  {
    echo "AUTH_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=' | head -c 48)"
    echo "DEV_ADMIN_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=' | head -c 20)"
  } > "$envfile"
fi
grep -q '^DEV_ADMIN_PASSWORD=' "$envfile" || \
  echo "DEV_ADMIN_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=' | head -c 20)" >> "$envfile"
set -a; . "$envfile"; set +a
export NODE_ENV="${NODE_ENV:-development}" LOG_LEVEL="${LOG_LEVEL:-info}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/alerta_rosa}"
# Everything a browser reaches goes through the gateway's one origin: photo URLs in the ficha, the
# acknowledge links in mails (to the console's confirmation page); intake audits the client's address.
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:3000}" ACK_LINK_PAGE_URL="${ACK_LINK_PAGE_URL:-http://127.0.0.1:3000/acuse}"
export TRUST_PROXY="${TRUST_PROXY:-1}"

echo "== building"
npm run --silent build

echo "== infrastructure"
kafka_was_running=0
bash infra/kafka/kafka.sh status && kafka_was_running=1
bash infra/services.sh start

# Stand-ins for X, Facebook and partner webhooks, with development credentials generated once per
# checkout (not committed); dissemination imports the same file encrypted and posts to the sandboxes.
export SANDBOX_CREDENTIALS_FILE="$root/.sandbox-credentials.json" ACCOUNT_CREDENTIALS_FILE="$root/.sandbox-credentials.json"
node -r ./infra/node/register-paths.js dist/apps/sandbox-kit/src/dev-credentials.cli.js "$SANDBOX_CREDENTIALS_FILE"

# name:port of every service, in start order (the sandboxes first; then intake, which creates the topics).
# A development mailbox takes coordination's mail (smtp://127.0.0.1:1025) unless something already listens there.
services=()
(exec 3<>/dev/tcp/127.0.0.1/1025) 2>/dev/null || services+=(dev-mailbox:8025)
services+=(x-sandbox:4100 facebook-sandbox:4200 partner-sandbox:4300 intake:3001 dissemination:3002 coordination:3003 tracker:3004 gateway:3000)
logdir="${TMPDIR:-/tmp}/alerta-rosa-logs"; mkdir -p "$logdir"
pids=()

stopping=0
stop_all() {
  trap - INT TERM EXIT
  stopping=1
  echo; echo "== stopping services"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$kafka_was_running" = 0 ]; then bash infra/kafka/kafka.sh stop; fi
  echo "== stopped"
}
trap stop_all INT TERM EXIT

for entry in "${services[@]}"; do
  name="${entry%%:*}"; port="${entry##*:}"
  script="dist/apps/$name/src/main.js"
  [ "$name" = dev-mailbox ] && script="dist/test/support/dev-mailbox.main.js"
  PORT="$port" node -r ./infra/node/register-paths.js "$script" >"$logdir/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    if grep -q "\"msg\":\"$name ready\"" "$logdir/$name.log" 2>/dev/null; then break; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then echo "$name failed to start:"; tail -20 "$logdir/$name.log"; exit 1; fi
    sleep 0.5
  done
done

# The first administrator, once (the CLI refuses an existing username; that is fine here).
ADMIN_PASSWORD="$DEV_ADMIN_PASSWORD" node -r ./infra/node/register-paths.js dist/apps/intake/src/cli/create-admin.cli.js \
  --username admin --name "Administración (desarrollo)" >"$logdir/create-admin.log" 2>&1 || true

# What DATABASE_URL names (host:port/database), not a fixed name.
db_location="$(node -e "const u = new URL(process.argv[1]); console.log(u.host + ' (database ' + u.pathname.slice(1) + ')')" "$DATABASE_URL")"
cat <<MSG

Alerta Rosa is running:  http://127.0.0.1:3000   (the console, and every API under /api/v1)
  sign in as admin / $DEV_ADMIN_PASSWORD   (create the other users in Administración → Usuarios)
  logs in $logdir · mail caught by http://127.0.0.1:8025 when started here · sandboxes' posts: GET http://127.0.0.1:4100|4200|4300/_control/posts
  Kafka ${KAFKA_BROKERS:-127.0.0.1:9092} · PostgreSQL ${db_location} · Redis ${REDIS_URL:-redis://127.0.0.1:6379}
Press Ctrl-C to stop everything.
MSG
wait -n "${pids[@]}" || true
[ "$stopping" = 1 ] || echo "a service exited; see $logdir"
