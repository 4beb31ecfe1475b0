#!/usr/bin/env bash
# The whole suite: unit + integration on the real PostgreSQL, Redis and Kafka (started if not running).
# Extra arguments go to Jest (e.g. `npm test -- test/integration/spine.test.ts`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash infra/services.sh start
exec npx jest "$@"
