/**
 * bench:tracker — the tracker on a year of synthetic alerts (BENCH_ALERTS, default 10,000, about 60 events
 * each: ≈ 600,000 events on alerts.v1, publications.v1 and tasks.v1, plus the tracker's own closures):
 *  - the year's period figures (GET /api/v1/committee/period): p50 / p95 / max over BENCH_REQUESTS requests;
 *  - the PDF report for the year: generation time;
 *  - tracker:rebuild throughput next to the raw kafkajs consume rate of the same topics, in the same run.
 * Prints the load average before each measurement. Not a test: figures only.
 */
import { ALL_TOPICS } from '@alerta-rosa/contracts';
import { createKafka } from '@alerta-rosa/messaging';
import { createLogger } from '@alerta-rosa/observability';
import { writeFileSync } from 'fs';
import { loadavg } from 'os';
import { GeographyCatalog } from '../../apps/tracker/src/committee/geography.catalog';
import {
  REPLAY_FETCH,
  REPLAY_PARTITIONS_AT_ONCE,
  rebuildProjection,
} from '../../apps/tracker/src/rebuild/projection.rebuild';
import { TestStack, waitFor } from '../support/stack';
import {
  AccountScript,
  AlertScript,
  ScriptedEventProducer,
  TaskScript,
  scriptAlert,
} from '../support/tracker-events';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 10_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const YEAR = 2025;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
const pct = (v: number[], p: number) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
};

/** Deterministic pseudo-random numbers (mulberry32), so every run generates the same year. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const PLATFORMS: AccountScript['platform'][] = ['x', 'facebook', 'webhook'];
const AREAS = [
  ['comunicacion-social', 'Comunicación Social', 10],
  ['c4', 'C4', 10],
  ['policia-vial', 'Policía Vial Estatal', 20],
  ['enlace-fgeo', 'Enlace con la FGEO', 30],
] as const;

function syntheticYear(municipalities: { code: string; name: string }[]): AlertScript[] {
  const rnd = random(42);
  const yearStart = Date.parse(`${YEAR}-01-01T06:00:00Z`);
  const scripts: AlertScript[] = [];
  for (let i = 0; i < ALERTS; i++) {
    const r = rnd();
    const outcome: AlertScript['outcome'] =
      r < 0.72 ? 'localizada_con_vida' : r < 0.78 ? 'localizada_sin_vida' : r < 0.84 ? 'cancelada' : null;
    const stuck = outcome !== null && rnd() < 0.02;
    const after = Math.round(30 + rnd() ** 2 * 8_000);
    const m = municipalities[Math.floor(rnd() * municipalities.length)];
    scripts.push({
      folio: `AR-${YEAR}-${String(i + 1).padStart(5, '0')}`,
      activatedAt: new Date(yearStart + Math.floor((i / ALERTS) * 360 * 86_400_000)),
      reportedBeforeMin: Math.round(20 + rnd() * 400),
      municipalityCode: m.code,
      municipalityName: m.name,
      age: 12 + Math.floor(rnd() * 50),
      activatingBody: rnd() < 0.1 ? 'FGEO' : 'SSP',
      photo: rnd() < 0.9,
      updates: Math.floor(rnd() * 3),
      outcome,
      deactivatedAfterMin: outcome ? after : undefined,
      accounts: Array.from({ length: 15 }, (_, a) => ({
        accountId: `acct-${a}`,
        platform: PLATFORMS[a % 3],
        handle: `@cuenta${a}`,
        postedAfterMin: rnd() < 0.01 ? null : 1 + Math.floor(rnd() * 4),
        withdrawnAfterMin: stuck && a === 0 ? null : 1 + Math.floor(rnd() * 3),
      })),
      tasks: AREAS.map(([areaId, areaName, due]): TaskScript => ({
        areaId,
        areaName,
        stepId: `step-${areaId}`,
        ackDueMin: due,
        ackAfterMin: rnd() < 0.08 ? due + 5 : Math.floor(rnd() * due),
        escalations: 0,
        completedAfterMin: rnd() < 0.3 ? Math.min(after - 1, 60 + Math.floor(rnd() * 60)) : null,
      })).map((t) => ({ ...t, escalations: t.ackAfterMin! > t.ackDueMin ? 1 : 0 })),
      withdrawalCompletedAfterMin: stuck ? null : 5,
      coordinationReceiptAfterMin: 0,
    });
  }
  return scripts;
}

async function main(): Promise<void> {
  const geography = GeographyCatalog.load();
  const municipalities = [
    '20067',
    '20079',
    '20043',
    '20039',
    '20413',
    '20184',
    '20397',
    '20551',
    '20124',
    '20057',
  ].map((code) => ({ code, name: geography.municipality(code)!.name }));
  const stack = await TestStack.create();
  console.log(`bench:tracker — ${ALERTS} synthetic alerts in ${YEAR}; stack ${stack.id}`);
  try {
    await stack.start('tracker', { LOG_LEVEL: 'warn', CLOSURE_CHECK_INTERVAL_MS: '600000' });
    const producer = new ScriptedEventProducer(stack.kafka, (t) => stack.topic(t));
    await producer.connect();
    const scripts = syntheticYear(municipalities);
    let events = 0;
    const produced = performance.now();
    for (let i = 0; i < scripts.length; i += 500)
      events += await producer.send(scripts.slice(i, i + 500).map(scriptAlert));
    await producer.disconnect();
    console.log(`produced ${events} events in ${((performance.now() - produced) / 1000).toFixed(1)} s`);

    const consumed = performance.now();
    const expectedClosures = scripts.filter(
      (s) => s.outcome && s.withdrawalCompletedAfterMin !== null,
    ).length;
    await waitFor(
      async () => {
        const [r] = await stack.query<{ n: number; closed: number }>(
          `SELECT (SELECT count(*)::int FROM tracker.timeline_entries) AS n,
                  (SELECT count(*)::int FROM tracker.alerts WHERE closed_at IS NOT NULL) AS closed`,
        );
        return r.n >= events + expectedClosures && r.closed === expectedClosures;
      },
      { timeoutMs: 3_600_000, intervalMs: 2_000, what: 'the tracker to take in the year' },
    );
    const liveSeconds = (performance.now() - consumed) / 1000;
    console.log(
      `live tracker took in ${events} events (+${expectedClosures} closures it decided) in ${liveSeconds.toFixed(1)} s: ${Math.round(events / liveSeconds)} events/s`,
    );
    await stack.query('VACUUM ANALYZE tracker.alerts, tracker.publications, tracker.tasks');
    if (process.env.BENCH_LOAD_ONLY === 'true') return;

    const q = `from=${YEAR}-01-01&to=${YEAR + 1}-01-01`;
    const auth = stack.bearer('comite');
    for (let run = 1; run <= RUNS; run++) {
      console.log(`\n— run ${run} of ${RUNS}`);
      console.log(`load average before the period figures: ${load()}`);
      const fresh = { ...auth, 'cache-control': 'no-cache' };
      for (let w = 0; w < 3; w++)
        await fetch(`${stack.url('tracker')}/api/v1/committee/period?${q}`, { headers: fresh });
      for (const [what, headers] of [
        ['computed (Cache-Control: no-cache)', fresh],
        ['served again while nothing changed', auth],
      ] as const) {
        const times: number[] = [];
        let total = 0;
        for (let r = 0; r < REQUESTS; r++) {
          const t0 = performance.now();
          const res = await fetch(`${stack.url('tracker')}/api/v1/committee/period?${q}`, { headers });
          const body = (await res.json()) as { counts: { total: number } };
          times.push(performance.now() - t0);
          total = body.counts.total;
        }
        console.log(
          `period figures for the year (${total} alerts), ${what}: p50 ${pct(times, 0.5).toFixed(0)} ms, p95 ${pct(times, 0.95).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms over ${REQUESTS} requests (aim p95 ≤ 300 ms)`,
        );
      }

      console.log(`load average before the PDF: ${load()}`);
      // The same year under a key not asked before (an equal instant written otherwise): the PDF computes
      // the figures; then twice for the year the API just answered: it takes the figures the API computed.
      const sameYear = `from=${YEAR}-01-01&to=${YEAR + 1}-01-01T06:00:00.${'0'.repeat(run)}Z`;
      const pdfTimes: string[] = [];
      let size = 0;
      for (const [what, query] of [
        ['figures computed', sameYear],
        ["the API's figures", q],
        ["the API's figures", q],
      ]) {
        const t0 = performance.now();
        const res = await fetch(`${stack.url('tracker')}/api/v1/committee/export/report.pdf?${query}`, {
          headers: auth,
        });
        const pdf = Buffer.from(await res.arrayBuffer());
        size = pdf.byteLength;
        if (process.env.BENCH_PDF_OUT) writeFileSync(process.env.BENCH_PDF_OUT, pdf);
        pdfTimes.push(`${((performance.now() - t0) / 1000).toFixed(2)} s (${what})`);
      }
      console.log(`PDF report for the year: ${pdfTimes.join(', ')} (${Math.round(size / 1024)} KiB)`);

      console.log(`load average before the raw consume: ${load()}`);
      const raw = await rawConsume(stack, true);
      console.log(
        `raw kafkajs consume of the same topics, rebuild's fetch settings (16 MB a partition, 4 partitions at once): ${raw.messages} messages in ${raw.seconds.toFixed(2)} s: ${Math.round(raw.messages / raw.seconds)} msg/s`,
      );
      console.log(`load average before the raw consume (kafkajs defaults): ${load()}`);
      const rawDefault = await rawConsume(stack, false);
      console.log(
        `raw kafkajs consume of the same topics, kafkajs' default fetch (1 MB a partition, one at once; the figure earlier runs compared with): ${rawDefault.messages} messages in ${rawDefault.seconds.toFixed(2)} s: ${Math.round(rawDefault.messages / rawDefault.seconds)} msg/s`,
      );

      console.log(`load average before tracker:rebuild: ${load()}`);
      const logger = createLogger('bench-rebuild', 'warn');
      const report = await rebuildProjection({
        pool: stack.pool,
        kafka: createKafka('bench-rebuild', stack.brokers, logger),
        topicPrefix: stack.topicPrefix,
        geography,
        schema: 'tracker_rebuild',
        log: (line) => console.log(`  ${line}`),
      });
      console.log(
        `tracker:rebuild: ${report.messages} messages in ${report.consumeSeconds.toFixed(2)} s: ${Math.round(report.eventsPerSecond)} events/s = ${((100 * report.eventsPerSecond) / (raw.messages / raw.seconds)).toFixed(0)} % of raw with the same fetch settings, ${((100 * report.eventsPerSecond) / (rawDefault.messages / rawDefault.seconds)).toFixed(0)} % of raw with kafkajs' defaults (aim ≥ 50 %); digests ${report.equal ? 'equal' : 'DIFFERENT'}`,
      );
      for (const t of report.tables)
        console.log(
          `  ${t.table.padEnd(18)} ${String(t.live.rows).padStart(8)} rows  ${t.live.digest}  ${t.equal ? 'equal' : 'DIFFERENT'}`,
        );
      console.log(
        `  figures ${report.figures.live.slice(0, 32)}  ${report.figures.equal ? 'equal' : 'DIFFERENT'}`,
      );
    }
  } finally {
    if (process.env.BENCH_KEEP === 'true') {
      await stack.stopServices();
      console.log(`kept: DATABASE_URL=${stack.databaseUrl} KAFKA_TOPIC_PREFIX=${stack.topicPrefix}`);
    } else await stack.teardown();
  }
}

/**
 * Every message of the four event topics, from the beginning, with a fresh group and nothing done with them:
 * read with the fetch settings tracker:rebuild reads with (`replayFetch`), or with kafkajs' defaults.
 */
async function rawConsume(
  stack: TestStack,
  replayFetch: boolean,
): Promise<{ messages: number; seconds: number }> {
  const topics = ALL_TOPICS.map((t) => stack.topic(t));
  const ends = await stack.admin(async (a) => {
    let n = 0;
    for (const t of topics) for (const p of await a.fetchTopicOffsets(t)) n += Number(p.high);
    return n;
  });
  const consumer = stack.kafka.consumer({
    groupId: `bench-raw-${Date.now()}`,
    ...(replayFetch ? REPLAY_FETCH : { maxBytes: 50 * 1024 * 1024, maxWaitTimeInMs: 100 }),
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let messages = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  const started = performance.now();
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: true, // a batch not resolved would be fetched again
    partitionsConsumedConcurrently: replayFetch ? REPLAY_PARTITIONS_AT_ONCE : 1,
    eachBatch: async ({ batch }) => {
      messages += batch.messages.length;
      if (messages >= ends) finish();
    },
  });
  await done;
  const seconds = (performance.now() - started) / 1000;
  await consumer.disconnect();
  return { messages, seconds };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
