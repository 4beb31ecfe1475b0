/**
 * Dissemination benchmark (not a test): sandboxes at 100 ms latency per call.
 *  1. activation → 30th post, p50/p95 over 50 alerts activated one after another;
 *  2. 50 simultaneous activations → 1,500 posts drained: time, and its ratio to the bound the
 *     configured per-account rate limits impose;
 *  3. withdrawal time for 30 accounts (deactivation «con vida» → every account confirmed).
 * Run: npm run bench:dissemination
 */
import { TestStack, minimalFicha, sleep, waitFor } from '../support/stack';
import { ACCOUNTS, SandboxPost, bearer, sandboxPosts, setLatency, startDisseminationStack } from '../support/dissemination';

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
      disseminationEnv: { LOG_LEVEL: 'warn', CHANNEL_TIMEOUT_MS: '10000', DATABASE_POOL_SIZE: '10' },
    });
    await setLatency(stack, LATENCY_MS);
    for (const a of ACCOUNTS) {
      const res = await stack.http('dissemination', 'PATCH', `/api/v1/accounts/${a.id}`, { rateLimit: POLICY }, bearer('admin'));
      if (res.status !== 200) throw new Error(`PATCH ${a.id}: ${res.status}`);
    }
    await sleep(500);
    const all = () => sandboxPosts(stack);

    // 1. Sequential activations: activation → 30th post.
    const latencies: number[] = [];
    const sequential: { id: string; folio: string }[] = [];
    for (let i = 0; i < ALERTS; i++) {
      const t0 = Date.now();
      const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 18 + (i % 50) }));
      const { id, folio } = res.body;
      sequential.push({ id, folio });
      const posts = await waitFor(
        async () => {
          const p = (await all()).filter((x) => x.text.includes(marker(folio)));
          return p.length >= 30 ? p : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 25, what: `30 posts of ${folio}` },
      );
      latencies.push(Math.max(...posts.map((p) => Date.parse(p.createdAt))) - t0);
    }
    console.log(`\n[1] activation → 30th post over ${ALERTS} alerts (sandbox latency ${LATENCY_MS} ms/call)`);
    console.log(`    p50 ${pct(latencies, 50)} ms · p95 ${pct(latencies, 95)} ms · max ${Math.max(...latencies)} ms`);

    // 2. Simultaneous activations: drain 50 × 30 posts.
    const t0 = Date.now();
    const burst = await Promise.all(
      Array.from({ length: ALERTS }, (_, i) => stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 20 + (i % 40) }))),
    );
    const folios = new Set(burst.map((r) => r.body.folio as string));
    const expected = folios.size * 30;
    const drained = await waitFor(
      async () => {
        const p = (await all()).filter((x) => folios.has(/Folio (AR-\d{4}-\d+)/.exec(x.text)?.[1] ?? ''));
        return p.length >= expected ? p : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 200, what: `${expected} posts` },
    );
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
    const perAccountCounts = new Map<string, number>();
    for (const p of drained) perAccountCounts.set(p.accountId, (perAccountCounts.get(p.accountId) ?? 0) + 1);
    const dupes = [...perAccountCounts.values()].filter((n) => n !== ALERTS).length;
    console.log(`    accounts with a post count other than ${ALERTS}: ${dupes}`);

    // 3. Withdrawal: deactivation «con vida» → every account confirmed.
    const withdrawals: number[] = [];
    for (const a of sequential.slice(0, WITHDRAWALS)) {
      const start = Date.now();
      const res = await stack.http('intake', 'POST', `/api/v1/alerts/${a.id}/deactivate`, { outcome: 'localizada_con_vida' });
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
      const left = (await all()).filter((p) => p.text.includes(`Folio ${a.folio}`) && p.hasImage && !p.deletedAt);
      if (left.length) throw new Error(`${left.length} posts with the photo remain for ${a.folio}`);
    }
    console.log(`\n[3] withdrawal on 30 accounts (deactivation → last account confirmed) over ${withdrawals.length} alerts`);
    console.log(`    p50 ${pct(withdrawals, 50)} ms · p95 ${pct(withdrawals, 95)} ms · max ${Math.max(...withdrawals)} ms\n`);
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
