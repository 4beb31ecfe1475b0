/**
 * Dissemination start-up benchmark (not a test): SIGKILL the worker mid-fan-out and restart it at once,
 * BENCH_RESTARTS times (default 5), with the service's own lock, lease and session settings.
 *
 * Per restart it prints the load average before it, then
 *  - spawn → /health/ready 200 (polled every 10 ms from the spawn), and the CPU the process used by then
 *    (the figure to compare when the machine is busy),
 *  - the phases the `dissemination ready` log reports (ms from process start),
 *  - spawn → the last of the alert's 30 posts (the dead worker's jobs taken over and finished).
 * BENCH_LATENCY (default 300 ms per sandbox call) keeps sends in flight when the kill lands.
 * Run: npm run bench:dissemination:start
 */
import { readFileSync } from 'fs';
import { loadavg } from 'os';
import { TestStack, minimalFicha, sleep, waitFor } from '../support/stack';
import { sandboxPosts, setLatency, startDisseminationStack } from '../support/dissemination';

const RESTARTS = Number(process.env.BENCH_RESTARTS ?? 5);
const LATENCY = Number(process.env.BENCH_LATENCY ?? 300);

const loadLine = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/**
 * CPU (user + system, all threads) the service process has used so far, from /proc (Linux): unlike the
 * wall-clock times, it barely depends on what else the machine runs.
 */
async function processCpuMs(port: number): Promise<number> {
  const live = (await (await fetch(`http://127.0.0.1:${port}/health/live`)).json()) as { pid: number };
  const stat = readFileSync(`/proc/${live.pid}/stat`, 'utf8');
  const [utime, stime] = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .slice(11, 13)
    .map(Number);
  return ((utime + stime) * 1000) / 100; // USER_HZ is 100 on Linux
}

async function main(): Promise<void> {
  console.log(`load average at start: ${loadLine()}`);
  const stack = await TestStack.create();
  try {
    const { disseminationEnv: env } = await startDisseminationStack(stack, {
      serviceDefaults: true,
      services: ['intake', 'dissemination'],
      disseminationEnv: { LOG_LEVEL: 'info' },
    });
    await setLatency(stack, LATENCY);
    const port = await stack.portOf('dissemination');
    const runs: { readyMs: number; cpuMs: number; lastPostMs: number; load: string; phases: unknown }[] = [];
    for (let i = 0; i < RESTARTS; i++) {
      const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 20 + i }));
      if (res.status !== 201) throw new Error(`activation: ${res.status}`);
      const { id, folio } = res.body as { id: string; folio: string };
      await waitFor(
        async () => {
          const [s] = await stack.query<{ posted: number; in_flight: number }>(
            `SELECT count(*) FILTER (WHERE status = 'posted')::int AS posted,
                    count(*) FILTER (WHERE status = 'pending' AND claim_expires_at > clock_timestamp())::int AS in_flight
               FROM dissemination.publications WHERE alert_id = $1`,
            [id],
          );
          return s && s.in_flight > 0 && s.posted < 30;
        },
        { timeoutMs: 30_000, intervalMs: 5, what: 'sends in flight' },
      );
      const load = loadLine();
      await stack.service('dissemination').stop('SIGKILL');
      const t = Date.now();
      let readyAt = 0;
      let cpuMs = 0;
      const poll = (async () => {
        while (!readyAt) {
          const r = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
          if (r?.status === 200) {
            readyAt = Date.now();
            cpuMs = await processCpuMs(port);
          } else await sleep(10);
        }
      })();
      const svc = await stack.start('dissemination', env);
      await poll;
      const ready = svc.logs().find((l) => l.msg === 'dissemination ready');
      await waitFor(
        async () =>
          (await sandboxPosts(stack, `Folio ${folio} (v1)`)).filter((p) => !p.deletedAt).length >= 30,
        { timeoutMs: 120_000, intervalMs: 50, what: 'posts after the crash' },
      );
      const posts = (await sandboxPosts(stack, `Folio ${folio} (v1)`)).filter((p) => !p.deletedAt);
      if (posts.length !== 30) throw new Error(`${posts.length} posts after the crash`);
      const lastPostMs = Math.max(...posts.map((p) => Date.parse(p.createdAt))) - t;
      const run = { readyMs: readyAt - t, cpuMs, lastPostMs, load, phases: ready?.startupMs };
      runs.push(run);
      console.log(
        `restart ${i + 1}: load ${load}; restart → /health/ready ${run.readyMs} ms (${cpuMs} ms of CPU); restart → last post ${lastPostMs} ms; phases ${JSON.stringify(run.phases)}`,
      );
      await sleep(1_000);
    }
    const ready = runs.map((r) => r.readyMs);
    const cpu = runs.map((r) => r.cpuMs);
    const last = runs.map((r) => r.lastPostMs);
    console.log(
      `\nrestart → ready: ${ready.join(', ')} ms (p50 ${pct(ready, 50)}, max ${Math.max(...ready)}); CPU used by then: ${cpu.join(', ')} ms (p50 ${pct(cpu, 50)}); restart → last post: ${last.join(', ')} ms (p50 ${pct(last, 50)}, max ${Math.max(...last)})`,
    );
  } finally {
    await stack.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
