/**
 * Dissemination benchmark (not a test): what users wait for, next to the floor the platforms impose.
 *
 * For each sandbox latency in BENCH_LATENCIES (default 0 and 100 ms per call):
 *  - floor: the minimal chain of platform calls per account (X: chunked upload, alt text, post;
 *    Facebook: one photo post; webhook: one POST), all 30 accounts in parallel, straight from this
 *    process through the same adapters to the same sandboxes; one parallel round of deletes; and, the
 *    floor of five alerts withdrawn together, five posts' deletes on every account (150) at once;
 *  - first alert after a (re)start of dissemination, first alert after BENCH_IDLE_MS idle (default
 *    10 minutes), and the warm loop (BENCH_ALERTS alerts one after another): activation → 30th post,
 *    each alert with a realistic phone photo (3–6 MB noisy JPEG with EXIF, made with sharp here);
 *  - withdrawal: deactivation «con vida» → last photo post deleted, one alert at a time (BENCH_WITHDRAWALS)
 *    and five together (BENCH_TOGETHER groups of five, default 1; BENCH_ALERTS must cover them all),
 *    with outcome BENCH_OUTCOME (default localizada_con_vida: a «LOCALIZADA» notice per account; cancelada: none);
 *  - crash: SIGKILL mid-fan-out and restart at once: restart → ready, and restart → last post.
 * Every case prints pipeline ÷ floor and pipeline − floor. BENCH_BURST=1 adds the 1,500-post burst.
 * The services log at info (BENCH_LOG_LEVEL sets dissemination's); BENCH_PREPARED=false runs every
 * statement unnamed (DATABASE_PREPARED_STATEMENTS=false) for a comparison within one build.
 * BENCH_PROF_DIR=<dir> writes a V8 CPU profile of each dissemination process there (where the time goes).
 * Five deactivations together print each alert's stages (intake committed → published → dissemination
 * handled → rounds enqueued); BENCH_STAGES=1 prints them for the single withdrawals too. The idle spell
 * prints what each process costs the machine while nothing happens (CPU ms per second).
 * Run: npm run bench:dissemination
 */
import { randomBytes } from 'crypto';
import { readFileSync, readdirSync } from 'fs';
import { cpus, loadavg } from 'os';
import { ChannelAccount, ChannelAdapter } from '../../apps/dissemination/src/channels/channel.adapter';
import { FacebookAdapter } from '../../apps/dissemination/src/channels/facebook.adapter';
import { WebhookAdapter } from '../../apps/dissemination/src/channels/webhook.adapter';
import { XAdapter } from '../../apps/dissemination/src/channels/x.adapter';
import { FichaCardRenderer } from '../../apps/dissemination/src/content/ficha-card.renderer';
import { phonePhoto } from '../support/images';
import { uploadPhoto } from '../support/intake';
import { TestStack, minimalFicha, sleep, waitFor } from '../support/stack';
import {
  ACCOUNTS,
  SandboxPost,
  bearer,
  fanOutProgress,
  sandboxPosts,
  setLatency,
  startDisseminationStack,
} from '../support/dissemination';

// BENCH_LATENCIES= (empty) skips the latency cases (with BENCH_BURST=1: the burst alone).
const LATENCIES = (process.env.BENCH_LATENCIES ?? '0,100').split(',').filter(Boolean).map(Number);
const WARM_ALERTS = Number(process.env.BENCH_ALERTS ?? 20);
const WITHDRAWALS = Number(process.env.BENCH_WITHDRAWALS ?? 10);
/** Groups of five alerts deactivated together (each group takes five alerts of the warm loop). */
const TOGETHER = Number(process.env.BENCH_TOGETHER ?? 1);
/** The deactivations' outcome: «con vida» posts a «LOCALIZADA» notice on every account; `cancelada` none. */
const OUTCOME = process.env.BENCH_OUTCOME ?? 'localizada_con_vida';
if (WITHDRAWALS + 5 * TOGETHER > WARM_ALERTS)
  throw new Error(`BENCH_ALERTS (${WARM_ALERTS}) must be at least BENCH_WITHDRAWALS + 5 × BENCH_TOGETHER`);
const FLOOR_RUNS = Number(process.env.BENCH_FLOOR_RUNS ?? 10);
const CRASHES = Number(process.env.BENCH_CRASHES ?? 3);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 600_000);
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
const lastAt = (posts: SandboxPost[], field: 'createdAt' | 'deletedAt') =>
  Math.max(...posts.map((p) => Date.parse(p[field]!)));

interface Line {
  name: string;
  values: number[];
  floor: number;
  aim?: { limit: number; what: string };
}

function report(latency: number, lines: Line[]): void {
  console.log(`\n  sandbox latency ${latency} ms/call`);
  console.log(
    `  ${'case'.padEnd(56)} ${'n'.padStart(3)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'floor'.padStart(7)} ${'÷ floor'.padStart(8)} ${'− floor'.padStart(8)}  aim`,
  );
  for (const l of lines) {
    if (!l.values.length) continue;
    const p95 = pct(l.values, 95);
    const aim = l.aim ? `${p95 <= l.aim.limit ? 'met' : 'MISSED'} (${l.aim.what} ≤ ${l.aim.limit} ms)` : '';
    console.log(
      `  ${l.name.padEnd(56)} ${String(l.values.length).padStart(3)} ${String(pct(l.values, 50)).padStart(7)} ${String(p95).padStart(7)} ${String(l.floor).padStart(7)} ${(p95 / Math.max(1, l.floor)).toFixed(2).padStart(8)} ${String(p95 - l.floor).padStart(8)}  ${aim}`,
    );
  }
}

const loadLine = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

async function main(): Promise<void> {
  console.log(`load average at start: ${loadLine()}`);
  // The services log at info, as in production (the test stack's default is debug); BENCH_LOG_LEVEL sets
  // dissemination's. BENCH_PREPARED=false: every service runs its statements unnamed (the code before
  // PreparingClient), for a comparison within one build.
  const stack = await TestStack.create({
    env: {
      LOG_LEVEL: 'info',
      ...(process.env.BENCH_PREPARED === 'false' ? { DATABASE_PREPARED_STATEMENTS: 'false' } : {}),
    },
  });
  const photos = await Promise.all([0, 1, 2].map(phonePhoto));
  console.log(
    `phone photos: ${photos.map((p) => `${(p.length / 1e6).toFixed(1)} MB`).join(', ')} (JPEG with EXIF)`,
  );
  try {
    const { credentials, disseminationEnv: env } = await startDisseminationStack(stack, {
      // Locks, lease and session timeout as deployed.
      serviceDefaults: true,
      disseminationEnv: {
        // Production-like settings (the test helper shortens them for crash tests).
        CHANNEL_TIMEOUT_MS: '10000',
        DATABASE_POOL_SIZE: '30',
        SWEEP_INTERVAL_MS: '10000',
        REENQUEUE_AFTER_MS: '120000',
        // BENCH_LOG_LEVEL=debug: the hand-over and each event's handling in the service's log.
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
        ...(process.env.BENCH_PROF_DIR
          ? { NODE_ARGS_FOR_BENCH: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROF_DIR}` }
          : {}),
      },
    });
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

    const postedCount = async (alertId: string) =>
      (
        await stack.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM dissemination.publications WHERE alert_id = $1 AND status = 'posted' AND kind = 'activation'`,
          [alertId],
        )
      )[0].n;
    let photoTurn = 0;
    /** A draft with her phone photo (consented), ready to activate. */
    const draftWithPhoto = async (age: number) => {
      const draft = await stack.http(
        'intake',
        'POST',
        '/api/v1/alerts',
        minimalFicha({ age, activate: false, photoConsent: true }),
      );
      const up = await uploadPhoto(stack, draft.body.id, photos[photoTurn++ % photos.length]);
      if (up.status !== 201) throw new Error(`photo upload: ${up.status}`);
      return draft.body.id as string;
    };
    /** Activates a draft; returns activation → 30th post (platform timestamps) and the alert. */
    const activateAndWait = async (id: string, from = Date.now()) => {
      const t0 = Date.now();
      const res = await stack.http('intake', 'POST', `/api/v1/alerts/${id}/activate`);
      if (res.status !== 200) throw new Error(`activate: ${res.status}`);
      const folio: string = res.body.folio;
      await waitFor(async () => (await postedCount(id)) >= 30, {
        timeoutMs: 120_000,
        intervalMs: 20,
        what: `30 posts of ${folio}`,
      });
      const posts = (await sandboxPosts(stack, `Folio ${folio} (v1)`)).filter((p) => !p.deletedAt);
      if (posts.length !== 30) throw new Error(`${posts.length} posts for ${folio}`);
      if (!posts.every((p) => p.hasImage)) throw new Error(`posts of ${folio} without the card`);
      return { id, folio, ms: lastAt(posts, 'createdAt') - t0, fromMs: lastAt(posts, 'createdAt') - from };
    };
    /**
     * Deactivates alerts together; returns deactivation → last photo post deleted. The CPU each stack
     * process spent from the requests to the last deletion is added to `cpu` (ms by process).
     */
    const withdraw = async (alerts: { id: string; folio: string }[], cpu?: Map<string, number>) => {
      const names = serviceNames(stack);
      const cpuBefore = cpuSnapshot(names);
      const t0 = Date.now();
      await Promise.all(
        alerts.map(async (a) => {
          const res = await stack.http('intake', 'POST', `/api/v1/alerts/${a.id}/deactivate`, {
            outcome: OUTCOME,
          });
          if (res.status !== 200) throw new Error(`deactivate: ${res.status}`);
        }),
      );
      const ids = alerts.map((a) => a.id);
      await waitFor(
        async () =>
          (
            await stack.query(
              `SELECT 1 FROM dissemination.alert_withdrawals WHERE alert_id = ANY($1) AND completed_at IS NOT NULL`,
              [ids],
            )
          ).length === alerts.length,
        { timeoutMs: 120_000, intervalMs: 20, what: 'withdrawals' },
      );
      const cpuAfter = cpuSnapshot(names);
      for (const label of new Set([...names.values(), 'postgres', 'java', 'redis-server']))
        cpu?.set(
          label,
          (cpu.get(label) ?? 0) + (cpuAfter.groups.get(label) ?? 0) - (cpuBefore.groups.get(label) ?? 0),
        );
      const posts = (await sandboxPosts(stack)).filter(
        (p) => p.hasImage && alerts.some((a) => p.text.includes(`Folio ${a.folio} `)),
      );
      if (posts.some((p) => !p.deletedAt)) throw new Error('photo posts left after the withdrawal');
      if (alerts.length > 1) {
        // Where the time goes when several alerts are withdrawn at once: each alert's first and last deletion.
        const spans = alerts.map((a) => {
          const ts = posts
            .filter((p) => p.text.includes(`Folio ${a.folio} `))
            .map((p) => Date.parse(p.deletedAt!) - t0);
          return `${Math.min(...ts)}–${Math.max(...ts)}`;
        });
        console.log(`  (${alerts.length} together: deletions of each alert at ${spans.join(', ')} ms)`);
        if (process.env.BENCH_LOG_LEVEL === 'debug') {
          // The hand-over as dissemination logged it: each alert's inbox commit, each dispatcher run.
          const shown = new Set([
            'event processed',
            'dispatch run',
            'withdrawals enqueued',
            'publications enqueued',
            'batch done',
          ]);
          const steps = stack
            .service('dissemination')
            .logs()
            .filter((l) => shown.has(String(l.msg)) && Date.parse(String(l.time)) >= t0)
            .map((l) => {
              const alert = alerts.findIndex((a) => a.id === l.alertId);
              const what =
                l.msg === 'event processed'
                  ? `alert ${alert + 1} committed`
                  : l.msg === 'dispatch run'
                    ? 'dispatch'
                    : l.msg === 'batch done'
                      ? `batch of ${String(l.messages)} (waited ${String(l.waitedMs)}, handled ${String(l.handledMs)}, commit ${String(l.commitMs)})`
                      : `${String(l.msg).split(' ')[0]} ${String(l.count)}`;
              return `${Date.parse(String(l.time)) - t0} ${what}`;
            });
          console.log(`  (hand-over, ms: ${steps.join('; ')})`);
        }
      }
      if (alerts.length > 1 || process.env.BENCH_STAGES === '1') {
        // Each alert's way to its deletions, ms after the request: intake committed → published →
        // dissemination handled it → first and last round handed to the queues.
        const stages: { committed: number; published: number; handled: number; q0: number; q1: number }[] =
          await stack.query(
            `SELECT extract(epoch FROM o.created_at) * 1000 AS committed, extract(epoch FROM o.published_at) * 1000 AS published,
                    extract(epoch FROM aw.requested_at) * 1000 AS handled,
                    (SELECT extract(epoch FROM min(w.enqueued_at)) * 1000 FROM dissemination.withdrawals w WHERE w.alert_id = aw.alert_id) AS q0,
                    (SELECT extract(epoch FROM max(w.enqueued_at)) * 1000 FROM dissemination.withdrawals w WHERE w.alert_id = aw.alert_id) AS q1
               FROM dissemination.alert_withdrawals aw
               JOIN intake.outbox o ON o.event_id = aw.cause_event_id
              WHERE aw.alert_id = ANY($1) ORDER BY aw.requested_at`,
            [ids],
          );
        const f = (v: number) => String(Math.round(Number(v) - t0));
        console.log(
          `  (stages: ${stages.map((s) => `${f(s.committed)}/${f(s.published)}/${f(s.handled)}/${f(s.q0)}–${f(s.q1)}`).join(', ')} ms: committed/published/handled/enqueued)`,
        );
      }
      return lastAt(posts, 'deletedAt') - t0;
    };

    // The floor: the same adapters, called straight from here, all accounts in parallel.
    const adapters: Record<string, ChannelAdapter> = {
      x: new XAdapter({
        apiBaseUrl: stack.url('x-sandbox'),
        uploadBaseUrl: stack.url('x-sandbox'),
        timeoutMs: 10_000,
      }),
      facebook: new FacebookAdapter({
        graphBaseUrl: stack.url('facebook-sandbox'),
        graphVersion: 'v21.0',
        timeoutMs: 10_000,
      }),
      webhook: new WebhookAdapter({ timeoutMs: 10_000 }),
    };
    const channelAccounts: ChannelAccount[] = ACCOUNTS.map((a) => ({
      id: a.id,
      platform: a.platform,
      handle: a.handle,
      credentials: credentials[a.id],
    }));
    const floorAlert = await activateAndWait(await draftWithPhoto(30));
    const [photoUrl] = (
      await stack.query<{ url: string }>(
        `SELECT ficha->>'photoUrl' AS url FROM dissemination.alerts WHERE alert_id = $1`,
        [floorAlert.id],
      )
    ).map((r) => r.url);
    const card = await new FichaCardRenderer(5_000).renderNow({
      folio: floorAlert.folio,
      ficha: { ...minimalFicha(), municipalityName: 'Oaxaca de Juárez', photoUrl } as never,
      phones: [{ label: 'Emergencias', number: '911' }],
    });
    console.log(`ficha card: ${(card.length / 1024).toFixed(0)} KB (JPEG, 1000×1250)`);
    let floorRun = 0;
    /** The floor calls the platforms straight: nothing to record before or after a create. */
    const noHooks = {
      beforeCreate: async () => undefined,
      onRemoteId: async () => undefined,
      refused: async () => undefined,
    };
    const floorRound = async () => {
      const tag = `Piso-${++floorRun}-${randomBytes(3).toString('hex')}`;
      const t0 = Date.now();
      const made = await Promise.all(
        channelAccounts.map(async (a) => ({
          a,
          remote: await adapters[a.platform].post(
            a,
            {
              text: `Alerta Rosa ${tag} ${a.id}`,
              // Its own alt text each round: the adapter reuses an upload of the same image and alt
              // text, and the floor is the whole chain (upload, alt text, post) on every account.
              image: { data: card, contentType: 'image/jpeg', altText: `Ficha de búsqueda ${tag}` },
              marker: tag,
              idempotencyKey: `${tag}-${a.id}`,
            },
            noHooks,
          ),
        })),
      );
      const postMs = lastAt(await sandboxPosts(stack, tag), 'createdAt') - t0;
      const t1 = Date.now();
      await Promise.all(made.map(({ a, remote }) => adapters[a.platform].delete(a, remote.remoteId)));
      const deleteMs = lastAt(await sandboxPosts(stack, tag), 'deletedAt') - t1;
      return { postMs, deleteMs };
    };

    /**
     * The floor of five alerts withdrawn together: five posts on every account (text only: the delete
     * is the same call), then all 150 deletes at once — one parallel round for five alerts.
     */
    const floorFiveDeletes = async () => {
      const tag = `Piso5-${++floorRun}-${randomBytes(3).toString('hex')}`;
      const made = await Promise.all(
        channelAccounts.flatMap((a) =>
          [1, 2, 3, 4, 5].map(async (k) => ({
            a,
            remote: await adapters[a.platform].post(
              a,
              { text: `Alerta Rosa ${tag} ${a.id} ${k}`, marker: tag, idempotencyKey: `${tag}-${a.id}-${k}` },
              noHooks,
            ),
          })),
        ),
      );
      const t1 = Date.now();
      await Promise.all(made.map(({ a, remote }) => adapters[a.platform].delete(a, remote.remoteId)));
      return lastAt(await sandboxPosts(stack, tag), 'deletedAt') - t1;
    };

    const restartDissemination = async (signal: NodeJS.Signals) => {
      await stack.service('dissemination').stop(signal);
      const t = Date.now();
      await stack.start('dissemination', env);
      return { at: t, readyMs: Date.now() - t };
    };

    for (const latency of LATENCIES) {
      console.log(`\nload average before latency ${latency} ms: ${loadLine()}`);
      await setLatency(stack, latency);
      const floors = [];
      for (let i = 0; i < FLOOR_RUNS; i++) floors.push(await floorRound());
      const floorPost = pct(
        floors.map((f) => f.postMs),
        50,
      );
      const floorDelete = pct(
        floors.map((f) => f.deleteMs),
        50,
      );
      const fives = [];
      for (let i = 0; i < Math.min(3, FLOOR_RUNS); i++) fives.push(await floorFiveDeletes());
      const floorFive = pct(fives, 50);

      // First alert after a start (the photo uploaded before, as an operator would while it starts).
      const firstDraft = await draftWithPhoto(31);
      const started = await restartDissemination('SIGTERM');
      const first = await activateAndWait(firstDraft, started.at);

      // First alert after idling.
      const idleDraft = await draftWithPhoto(32);
      const names = serviceNames(stack);
      const idleBefore = cpuSnapshot(names);
      await sleep(IDLE_MS);
      const idleAfter = cpuSnapshot(names);
      // What the idle services cost the machine (pollers, stalled checks, heartbeats), per second idle.
      const perSecond = [...idleAfter.groups.entries()]
        .map(([k, v]) => [k, (v - (idleBefore.groups.get(k) ?? 0)) / (IDLE_MS / 1000)] as const)
        .filter(([, v]) => v >= 0.5)
        .sort((a, b) => b[1] - a[1]);
      console.log(
        `  idle CPU, ms per second: ${perSecond.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`,
      );
      const idle = await activateAndWait(idleDraft);

      // The warm loop.
      const warm: { id: string; folio: string; ms: number }[] = [];
      for (let i = 0; i < WARM_ALERTS; i++) warm.push(await activateAndWait(await draftWithPhoto(20 + i)));

      // Withdrawals: one at a time, then five together.
      const single: number[] = [];
      const singleCpu = new Map<string, number>();
      for (const a of warm.slice(0, WITHDRAWALS)) single.push(await withdraw([a], singleCpu));
      const together: number[] = [];
      const togetherCpu = new Map<string, number>();
      for (let g = 0; g < TOGETHER; g++)
        together.push(await withdraw(warm.slice(WITHDRAWALS + 5 * g, WITHDRAWALS + 5 * g + 5), togetherCpu));
      // CPU per alert withdrawn (the stack's processes, from the requests to the last deletion; 10 ms ticks).
      const perAlert = (cpu: Map<string, number>, alerts: number) =>
        [...cpu.entries()]
          .filter(([, v]) => v > 0)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${(v / alerts).toFixed(0)}`)
          .join(', ');
      console.log(
        `  CPU ms per alert withdrawn: alone ${perAlert(singleCpu, single.length)}; five together ${perAlert(togetherCpu, 5 * together.length)}`,
      );

      // Crash: SIGKILL mid-fan-out (sends in flight), restart at once.
      const crashes: { readyMs: number; lastPostMs: number }[] = [];
      for (let i = 0; i < CRASHES; i++) {
        const id = await draftWithPhoto(40 + i);
        const res = await stack.http('intake', 'POST', `/api/v1/alerts/${id}/activate`);
        await waitFor(
          async () => {
            const s = await fanOutProgress(stack, id);
            return s.in_flight > 0 && s.posted < 30;
          },
          { timeoutMs: 30_000, intervalMs: 5, what: 'sends in flight' },
        );
        const restarted = await restartDissemination('SIGKILL');
        await waitFor(async () => (await postedCount(id)) >= 30, {
          timeoutMs: 120_000,
          intervalMs: 20,
          what: 'posts after the crash',
        });
        const posts = (await sandboxPosts(stack, `Folio ${res.body.folio} (v1)`)).filter((p) => !p.deletedAt);
        if (posts.length !== 30) throw new Error(`${posts.length} posts after the crash`);
        crashes.push({ readyMs: restarted.readyMs, lastPostMs: lastAt(posts, 'createdAt') - restarted.at });
      }

      console.log(
        `\n[latency ${latency} ms] floor over ${FLOOR_RUNS} rounds: 30 posts p50 ${floorPost} ms (p95 ${pct(
          floors.map((f) => f.postMs),
          95,
        )}), 30 deletes p50 ${floorDelete} ms (p95 ${pct(
          floors.map((f) => f.deleteMs),
          95,
        )}), 150 deletes (five alerts) p50 ${floorFive} ms; restart → ready ${crashes.map((c) => c.readyMs).join(', ')} ms (SIGKILL), ${started.readyMs} ms (SIGTERM)`,
      );
      report(latency, [
        { name: 'first alert after start: activation → 30th post', values: [first.ms], floor: floorPost },
        { name: '… start of the process → 30th post', values: [first.fromMs], floor: floorPost },
        {
          name: `first alert after ${Math.round(IDLE_MS / 1000)} s idle: activation → 30th post`,
          values: [idle.ms],
          floor: floorPost,
        },
        {
          name: 'warm loop: activation → 30th post',
          values: warm.map((w) => w.ms),
          floor: floorPost,
          aim: { limit: floorPost + 250, what: 'p95 floor + 250' },
        },
        {
          name: 'withdrawal: deactivation → last photo deleted',
          values: single,
          floor: floorDelete,
          aim: { limit: floorDelete + 250, what: 'p95 floor + 250' },
        },
        {
          // Its floor: five posts' deletes on every account at once (the 30-delete floor is printed above).
          name: '… five alerts deactivated together',
          values: together,
          floor: floorFive,
          aim: { limit: floorFive + 250, what: 'p95 floor + 250' },
        },
        {
          name: 'crash: restart → last post',
          values: crashes.map((c) => c.lastPostMs),
          floor: floorPost,
          aim: { limit: 5_000 + floorPost, what: '5 s + floor' },
        },
      ]);
    }

    if (process.env.BENCH_BURST === '1') await burst(stack);
  } finally {
    await stack.teardown();
  }
}

/** The stack's processes by pid, to name them in CPU figures. */
function serviceNames(stack: TestStack): Map<number, string> {
  const names = new Map<number, string>();
  for (const n of [
    'intake',
    'dissemination',
    'tracker',
    'x-sandbox',
    'facebook-sandbox',
    'partner-sandbox',
  ]) {
    try {
      names.set(stack.service(n as never).child.pid!, n);
    } catch {
      // not started in this stack
    }
  }
  return names;
}

/** Busy CPU time (ms) of the whole machine and of each process group, from /proc. */
function cpuSnapshot(names: Map<number, string>): { machine: number; groups: Map<string, number> } {
  const tick = 10; // USER_HZ is 100 on Linux
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = fields.map(Number);
  const machine = (n.reduce((a, b) => a + b, 0) - n[3] - n[4]) * tick;
  const groups = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(rest[11]) + Number(rest[12])) * tick; // utime + stime
    const label = names.get(Number(pid)) ?? (comm === 'node' ? 'other node' : comm.replace(/[^a-z-]/gi, ''));
    groups.set(label, (groups.get(label) ?? 0) + ms);
  }
  return { machine, groups };
}

/**
 * 50 simultaneous activations (no photo) → 1,500 posts drained, at 100 ms per call, next to the bound
 * the rate limits and call chains set (each account's 50 posts: rate windows, and posts in flight ×
 * one call each), with the CPU the machine and each process spent on it.
 */
async function burst(stack: TestStack): Promise<void> {
  const LATENCY = 100;
  const PER_ACCOUNT = 50;
  await setLatency(stack, LATENCY);
  const bound = Math.max(
    (Math.ceil(PER_ACCOUNT / POLICY.max) - 1) * POLICY.durationMs + LATENCY,
    Math.ceil(PER_ACCOUNT / POLICY.concurrency) * LATENCY,
  );
  const names = serviceNames(stack);
  console.log(`\nload average before the burst: ${loadLine()}`);
  const dbBefore = await dbActivity(stack);
  const kafkaBefore = await topicOffsets(stack);
  const before = cpuSnapshot(names);
  const t0 = Date.now();
  const res = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 20 + (i % 40) })),
    ),
  );
  const ids = res.map((r) => r.body.id as string);
  await waitFor(
    async () =>
      (
        await stack.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM dissemination.publications WHERE alert_id = ANY($1) AND status = 'posted'`,
          [ids],
        )
      )[0].n >= 1_500,
    { timeoutMs: 600_000, intervalMs: 100, what: '1,500 posts' },
  );
  const after = cpuSnapshot(names);
  const dbAfter = await dbActivity(stack);
  const kafkaAfter = await topicOffsets(stack);
  const [row] = await stack.query<{ ms: number; first_ms: number; last_row_ms: number }>(
    `SELECT extract(epoch FROM max(posted_at))*1000 - $2 AS ms, extract(epoch FROM min(created_at))*1000 - $2 AS first_ms,
            extract(epoch FROM max(created_at))*1000 - $2 AS last_row_ms
       FROM dissemination.publications WHERE alert_id = ANY($1)`,
    [ids, t0],
  );
  const wall = Date.now() - t0;
  const busy = after.machine - before.machine;
  const cores = cpus().length;
  console.log(
    `[burst] 50 simultaneous activations → 1,500 posts drained in ${Math.round(row.ms)} ms ` +
      `(bound ${bound} ms: ×${(row.ms / bound).toFixed(1)}, aim ≤ ×1.1: ${row.ms <= bound * 1.1 ? 'met' : 'not met'}); ` +
      `publication rows written ${Math.round(row.first_ms)}–${Math.round(row.last_row_ms)} ms after the first request`,
  );
  const spent = [...after.groups.entries()]
    .map(([k, v]) => [k, v - (before.groups.get(k) ?? 0)] as const)
    .filter(([, v]) => v >= 100)
    .sort((a, b) => b[1] - a[1]);
  console.log(
    `[burst] CPU: machine busy ${(busy / 1000).toFixed(1)} s of ${((wall * cores) / 1000).toFixed(1)} s on ${cores} cores ` +
      `(${((100 * busy) / (wall * cores)).toFixed(0)} %), ${(busy / 1500).toFixed(1)} ms per post; by process: ` +
      spent.map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', '),
  );
  const db = Object.entries(dbAfter).map(([k, v]) => `${k} ${((v - dbBefore[k]) / 1500).toFixed(1)}`);
  const topics = [...kafkaAfter]
    .map(([t, n]) => [t, n - (kafkaBefore.get(t) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${t.slice(stack.topicPrefix.length + 1)} ${n}`);
  console.log(
    `[burst] PostgreSQL per post (the stack's database): ${db.join(', ')}; Kafka messages: ${topics.join(', ')}`,
  );
}

/** Commits and rows written in the stack's database so far (pg_stat_database). */
async function dbActivity(stack: TestStack): Promise<Record<string, number>> {
  await stack.query(`SELECT pg_stat_clear_snapshot()`);
  const [row] = await stack.query<Record<string, string>>(
    `SELECT xact_commit AS commits, tup_inserted AS inserted, tup_updated AS updated, tup_deleted AS deleted
       FROM pg_stat_database WHERE datname = current_database()`,
  );
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
}

/** Messages written so far to each of the stack's topics. */
async function topicOffsets(stack: TestStack): Promise<Map<string, number>> {
  return stack.admin(async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${stack.topicPrefix}.`));
    const out = new Map<string, number>();
    for (const t of topics) {
      const parts = await admin.fetchTopicOffsets(t);
      out.set(
        t,
        parts.reduce((a, p) => a + Number(p.high), 0),
      );
    }
    return out;
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
