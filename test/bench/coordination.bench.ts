/**
 * Benchmark of coordination (not a test): `npm run bench:coordination`.
 * 1. Activation → every area's assignment mail accepted by a real SMTP server: p50/p95 over 50 alerts
 *    (one activation every 200 ms, real Kafka/PostgreSQL/Redis, coordination as a real process).
 * 2. Escalation timer accuracy: escalation committed minus its deadline, p50/p95/max, with deadlines
 *    shortened by PSO_TIME_SCALE so that hundreds of timers fall due within a minute.
 */
import { AlertEventProducer } from '../support/alert-events';
import { SmtpSink } from '../support/smtp-sink';
import { TestStack, freePort, sleep, waitFor } from '../support/stack';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 50);
const ESCALATION_ALERTS = Number(process.env.BENCH_ESCALATION_ALERTS ?? 20);
const SPACING_MS = 200;
const MUNICIPALITIES = [
  ['20067', 'Oaxaca de Juárez'],
  ['20184', 'San Juan Bautista Tuxtepec'],
  ['20079', 'Salina Cruz'],
  ['20039', 'Heroica Ciudad de Huajuapan de León'],
  ['20413', 'Santa María Huatulco'],
];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const fmt = (ms: number) => `${Math.round(ms)} ms`;

async function main(): Promise<void> {
  const stack = await TestStack.create();
  const smtp = new SmtpSink(await freePort());
  await smtp.start();
  const env = {
    LOG_LEVEL: 'info', // the harness waits for the info-level «ready» line
    AUTH_JWT_SECRET: 'benchmark-auth-secret-0123456789abcdefghij',
    SMTP_URL: smtp.url,
    DISPATCH_POLL_MS: '1000',
    DATABASE_POOL_SIZE: '10', // the service's default (the test harness lowers it to 5)
  };
  let alerts: AlertEventProducer | undefined;
  try {
    // ---- 1. activation → mails ----
    await stack.start('coordination', { ...env, PSO_TIME_SCALE: '1' });
    alerts = new AlertEventProducer(stack.kafka, stack.topic('alerts.v1'));
    await alerts.connect();
    await alerts.activate(); // warm-up (connections, JIT), not measured
    await sleep(2_000);

    const sent: { folio: string; alertId: string; at: number }[] = [];
    for (let i = 0; i < ALERTS; i++) {
      const [code, name] = MUNICIPALITIES[i % MUNICIPALITIES.length];
      const at = Date.now();
      const a = await alerts.activate({ municipalityCode: code, municipalityName: name });
      sent.push({ folio: a.folio, alertId: a.alertId, at });
      await sleep(Math.max(0, SPACING_MS - (Date.now() - at)));
    }
    const expected = new Map<string, number>();
    await waitFor(
      async () => {
        for (const s of sent) {
          if (!expected.has(s.folio)) {
            const r = await stack.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM coordination.tasks WHERE alert_id = $1`,
              [s.alertId],
            );
            if (r[0].n > 0) expected.set(s.folio, r[0].n);
          }
        }
        return sent.every(
          (s) =>
            expected.has(s.folio) && smtp.forFolio(s.folio, 'assignment').length >= expected.get(s.folio)!,
        );
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'all assignment mails' },
    );
    const latencies = sent.map(
      (s) => Math.max(...smtp.forFolio(s.folio, 'assignment').map((m) => m.receivedAt)) - s.at,
    );
    const mails = sent.reduce((n, s) => n + expected.get(s.folio)!, 0);
    const created: number[] = [];
    for (const s of sent) {
      const r = await stack.query<{ t: Date }>(
        `SELECT min(created_at) AS t FROM coordination.tasks WHERE alert_id = $1`,
        [s.alertId],
      );
      created.push(new Date(r[0].t).getTime() - s.at);
    }

    // ---- 2. escalation timer accuracy ----
    await stack.service('coordination').stop('SIGTERM');
    await stack.start('coordination', { ...env, PSO_TIME_SCALE: '0.005' }); // 10 min → 3 s
    const escalated: string[] = [];
    for (let i = 0; i < ESCALATION_ALERTS; i++) {
      const [code, name] = MUNICIPALITIES[i % MUNICIPALITIES.length];
      escalated.push((await alerts.activate({ municipalityCode: code, municipalityName: name })).alertId);
      await sleep(100);
    }
    const rows = await waitFor(
      async () => {
        const r = await stack.query<{ late_ms: number; fired_ms: number; level: number }>(
          `SELECT EXTRACT(EPOCH FROM (e.escalated_at - e.due_at)) * 1000 AS late_ms,
                  EXTRACT(EPOCH FROM (e.fired_at - e.due_at)) * 1000 AS fired_ms, e.level
           FROM coordination.escalations e JOIN coordination.tasks t ON t.id = e.task_id WHERE t.alert_id = ANY($1)`,
          [escalated],
        );
        const tasks = (
          await stack.query(`SELECT count(*)::int AS n FROM coordination.tasks WHERE alert_id = ANY($1)`, [
            escalated,
          ])
        )[0].n as number;
        return tasks > 0 && r.length === tasks * 3 ? r : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: 'every escalation level' },
    );
    const late = rows.map((r) => Number(r.late_ms));
    const fired = rows.map((r) => Number(r.fired_ms));

    console.log('');
    console.log('coordination benchmark (real Kafka, PostgreSQL, Redis, SMTP; 2-core machine)');
    console.log(
      `activation → every area mail accepted by SMTP, ${ALERTS} alerts (${mails} mails), one activation every ${SPACING_MS} ms:`,
    );
    console.log(
      `  p50 ${fmt(percentile(latencies, 50))}   p95 ${fmt(percentile(latencies, 95))}   max ${fmt(Math.max(...latencies))}`,
    );
    console.log(
      `  of which activation → tasks created (Kafka + inbox transaction): p50 ${fmt(percentile(created, 50))}   p95 ${fmt(percentile(created, 95))}`,
    );
    console.log(
      `escalation timers, ${late.length} escalations of ${ESCALATION_ALERTS} alerts (${late.length / 3} tasks, 3 levels each):`,
    );
    console.log(
      `  timer fired minus deadline:        p50 ${fmt(percentile(fired, 50))}   p95 ${fmt(percentile(fired, 95))}   max ${fmt(Math.max(...fired))}`,
    );
    console.log(
      `  escalation recorded minus deadline: p50 ${fmt(percentile(late, 50))}   p95 ${fmt(percentile(late, 95))}   max ${fmt(Math.max(...late))}`,
    );
  } finally {
    await alerts?.disconnect();
    await stack.teardown();
    await smtp.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
