/**
 * Dissemination benchmark (not a test): sandboxes at 100 ms latency per call.
 *  1. activation → 30th post, p50/p95 over 50 alerts activated one after another;
 *  2. 50 simultaneous activations → 1,500 posts drained: time, and its ratio to the bound the
 *     configured per-account rate limits impose;
 *  3. withdrawal time for 30 accounts (deactivation «con vida» → every account confirmed).
 * Run: npm run bench:dissemination
 */
import { TestStack, minimalFicha, sleep, waitFor } from '../support/stack';
import {
  ACCOUNTS,
  SandboxPost,
  bearer,
  sandboxPosts,
  setLatency,
  startDisseminationStack,
} from '../support/dissemination';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 50);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 100);
const WITHDRAWALS = Number(process.env.BENCH_WITHDRAWALS ?? 10);
/** Per-account policy for the run (set through the admin API, as an administrator would). */
const POLICY = {
  max: Number(process.env.BENCH_RATE_MAX ?? 20),
  durationMs: Number(process.env.BENCH_RATE_WINDOW_MS ?? 1000),
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4),
};

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const marker = (folio: string) => `Folio ${folio} (v1)`;

async function main(): Promise<void> {
  const stack = await TestStack.create();
  try {
    await startDisseminationStack(stack, {
      sandboxEnv: { SANDBOX_LATENCY_MS: String(LATENCY_MS) },
      // Locks, lease and session timeout as deployed.
      serviceDefaults: true,
      disseminationEnv: {
        // Production-like settings (the test helper shortens them for crash tests).
        CHANNEL_TIMEOUT_MS: '10000',
        DATABASE_POOL_SIZE: '30',
        SWEEP_INTERVAL_MS: '10000',
        REENQUEUE_AFTER_MS: '120000',
        LOG_LEVEL: 'info',
      },
    });
    await setLatency(stack, LATENCY_MS);
    for (const a of ACCOUNTS) {
      const res = await stack.http(
        'dissemination',
        'PATCH',
        `/api/v1/accounts/${a.id}`,
        { rateLimit: POLICY },
        bearer('admin'),
      );
      if (res.status !== 200) throw new Error(`PATCH ${a.id}: ${res.status}`);
    }
    await sleep(500);
    const all = () => sandboxPosts(stack);
    const postedCount = async (alertIds: string[]) =>
      (
        await stack.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM dissemination.publications WHERE alert_id = ANY($1) AND status = 'posted'`,
          [alertIds],
        )
      )[0].n;

    // 1. Sequential activations: activation → 30th post.
    const latencies: number[] = [];
    const sequential: { id: string; folio: string }[] = [];
    for (let i = 0; i < (process.env.BENCH_ONLY_BURST ? 0 : ALERTS); i++) {
      const t0 = Date.now();
      const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 18 + (i % 50) }));
      const { id, folio } = res.body;
      sequential.push({ id, folio });
      // Poll the cheap side (the service's rows), then read the platform's own timestamps once.
      await waitFor(async () => (await postedCount([id])) >= 30, {
        timeoutMs: 60_000,
        intervalMs: 20,
        what: `30 posts of ${folio}`,
      });
      const posts = await sandboxPosts(stack, marker(folio));
      if (posts.length !== 30) throw new Error(`${posts.length} posts for ${folio}`);
      latencies.push(Math.max(...posts.map((p) => Date.parse(p.createdAt))) - t0);
    }
    if (latencies.length)
      console.log(
        `\n[1] activation → 30th post over ${ALERTS} alerts (sandbox latency ${LATENCY_MS} ms/call)`,
      );
    if (latencies.length)
      console.log(
        `    p50 ${pct(latencies, 50)} ms · p95 ${pct(latencies, 95)} ms · max ${Math.max(...latencies)} ms`,
      );

    // 2. Simultaneous activations: drain 50 × 30 posts.
    const t0 = Date.now();
    const burst = await Promise.all(
      Array.from({ length: ALERTS }, (_, i) =>
        stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 20 + (i % 40) })),
      ),
    );
    const folios = new Set(burst.map((r) => r.body.folio as string));
    const expected = folios.size * 30;
    const ids = burst.map((r) => r.body.id as string);
    await waitFor(async () => (await postedCount(ids)) >= expected, {
      timeoutMs: 600_000,
      intervalMs: 100,
      what: `${expected} posts`,
    });
    const drained = (await all()).filter((x) => folios.has(/Folio (AR-\d{4}-\d+)/.exec(x.text)?.[1] ?? ''));
    if (drained.length !== expected) throw new Error(`${drained.length} posts drained, expected ${expected}`);
    const drainMs = Math.max(...drained.map((p: SandboxPost) => Date.parse(p.createdAt))) - t0;
    const perAccount = ALERTS;
    // The limiter lets `max` jobs start per window: n posts need at least ceil(n/max) - 1 full windows.
    const rateBoundMs = (Math.ceil(perAccount / POLICY.max) - 1) * POLICY.durationMs;
    // The slowest platform (X: initialize, append, finalize, metadata, post = 5 calls) at the sandbox latency.
    const latencyBoundMs = Math.ceil(perAccount / POLICY.concurrency) * 5 * LATENCY_MS;
    console.log(`\n[2] ${ALERTS} simultaneous activations → ${expected} posts drained in ${drainMs} ms`);
    console.log(
      `    rate-limit bound (${POLICY.max}/${POLICY.durationMs} ms per account, ${perAccount} posts each): ${rateBoundMs} ms → ratio ${(drainMs / Math.max(1, rateBoundMs)).toFixed(2)}`,
    );
    console.log(
      `    latency bound (X: 5 calls × ${LATENCY_MS} ms, concurrency ${POLICY.concurrency}): ${latencyBoundMs} ms → ratio ${(drainMs / latencyBoundMs).toFixed(2)}`,
    );
    const [stages] = await stack.query<Record<string, number>>(
      `SELECT extract(epoch FROM max(p.created_at))*1000 - $2 AS last_row_ms,
              extract(epoch FROM max(p.enqueued_at))*1000 - $2 AS last_enqueued_ms,
              extract(epoch FROM max(p.posted_at) FILTER (WHERE a.platform = 'x'))*1000 - $2 AS x_done_ms,
              extract(epoch FROM max(p.posted_at) FILTER (WHERE a.platform = 'facebook'))*1000 - $2 AS facebook_done_ms,
              extract(epoch FROM max(p.posted_at) FILTER (WHERE a.platform = 'webhook'))*1000 - $2 AS webhook_done_ms
         FROM dissemination.publications p JOIN dissemination.accounts a ON a.id = p.account_id WHERE p.alert_id = ANY($1)`,
      [ids, t0],
    );
    console.log(
      `    stages after t0: rows written ${Math.round(stages.last_row_ms)} ms · all enqueued ${Math.round(stages.last_enqueued_ms)} ms · ` +
        `X done ${Math.round(stages.x_done_ms)} ms · Facebook done ${Math.round(stages.facebook_done_ms)} ms · webhooks done ${Math.round(stages.webhook_done_ms)} ms`,
    );
    const [upstream] = await stack.query<Record<string, number>>(
      `SELECT extract(epoch FROM max(a.created_at))*1000 - $2 AS intake_committed_ms,
              extract(epoch FROM max(o.published_at))*1000 - $2 AS intake_relayed_ms,
              (SELECT extract(epoch FROM max(i.processed_at))*1000 - $2 FROM dissemination.inbox i WHERE i.alert_id = ANY($1)) AS inboxed_ms
         FROM intake.alerts a JOIN intake.outbox o ON o.message_key = a.id::text WHERE a.id = ANY($1)`,
      [ids, t0],
    );
    console.log(
      `    upstream: intake committed ${Math.round(upstream.intake_committed_ms)} ms · relayed to Kafka ${Math.round(upstream.intake_relayed_ms)} ms · ` +
        `taken in by dissemination ${Math.round(upstream.inboxed_ms)} ms`,
    );
    const perAccountCounts = new Map<string, number>();
    for (const p of drained) perAccountCounts.set(p.accountId, (perAccountCounts.get(p.accountId) ?? 0) + 1);
    const dupes = [...perAccountCounts.values()].filter((n) => n !== ALERTS).length;
    console.log(`    accounts with a post count other than ${ALERTS}: ${dupes}`);

    // 3. Withdrawal: deactivation «con vida» → every account confirmed.
    const withdrawals: number[] = [];
    for (const a of sequential.slice(0, WITHDRAWALS)) {
      const start = Date.now();
      const res = await stack.http('intake', 'POST', `/api/v1/alerts/${a.id}/deactivate`, {
        outcome: 'localizada_con_vida',
      });
      if (res.status !== 200) throw new Error(`deactivate: ${res.status}`);
      const [row] = await waitFor(
        async () => {
          const r = await stack.query<{ completed_at: Date }>(
            `SELECT completed_at FROM dissemination.alert_withdrawals WHERE alert_id = $1 AND completed_at IS NOT NULL`,
            [a.id],
          );
          return r.length ? r : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 25, what: `withdrawal of ${a.folio}` },
      );
      withdrawals.push(new Date(row.completed_at).getTime() - start);
      const left = (await sandboxPosts(stack, `Folio ${a.folio}`)).filter((p) => p.hasImage && !p.deletedAt);
      if (left.length) throw new Error(`${left.length} posts with the photo remain for ${a.folio}`);
    }
    if (withdrawals.length)
      console.log(
        `\n[3] withdrawal on 30 accounts (deactivation → last account confirmed) over ${withdrawals.length} alerts`,
      );
    if (withdrawals.length)
      console.log(
        `    p50 ${pct(withdrawals, 50)} ms · p95 ${pct(withdrawals, 95)} ms · max ${Math.max(...withdrawals)} ms\n`,
      );
  } finally {
    await stack.teardown();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
