/**
 * bench:spine — 1,000 activations through the real stack (HTTP → PostgreSQL outbox → Kafka → tracker),
 * measured from "POST accepted" to "tracker recorded", next to the raw kafkajs produce → consume round
 * trip on the same broker at the same arrival rate. Not a test: it prints figures.
 */
import { randomBytes } from 'crypto';
import { Client } from 'pg';
import { TestStack, minimalFicha, sleep, waitFor } from '../support/stack';

const COUNT = Number(process.env.BENCH_COUNT ?? 1000);
const RATE_PER_S = Number(process.env.BENCH_RATE ?? 10);
/** Which services run (default all four); e.g. `intake,tracker` isolates the spine from the workers' load. */
const SERVICES = (process.env.BENCH_SERVICES ?? 'intake,dissemination,coordination,tracker').split(',') as (
  'intake' | 'dissemination' | 'coordination' | 'tracker'
)[];

function percentile(sorted: number[], p: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

function summary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] };
}

/** Open-loop arrivals at a fixed rate, so queueing shows up in the latency rather than being hidden. */
async function paced(count: number, ratePerS: number, fn: (i: number) => Promise<void>): Promise<void> {
  const start = Date.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / ratePerS;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    inflight.push(fn(i));
  }
  await Promise.all(inflight);
}

async function rawRoundTrip(stack: TestStack): Promise<number[]> {
  const topic = `${stack.topicPrefix}.bench-raw-${randomBytes(3).toString('hex')}`;
  await stack.admin((a) =>
    a.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: true }),
  );
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const consumer = stack.kafka.consumer({ groupId: `${topic}-g`, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const t0 = sentAt.get(message.key!.toString());
      if (t0 !== undefined) latencies.push(Date.now() - t0);
    },
  });
  const producer = stack.kafka.producer({ maxInFlightRequests: 1 });
  await producer.connect();
  await sleep(3_000); // group joined
  await paced(COUNT, RATE_PER_S, async (i) => {
    const key = `k${i}`;
    sentAt.set(key, Date.now());
    await producer.send({ topic, acks: -1, messages: [{ key, value: JSON.stringify({ i }) }] });
  });
  await waitFor(async () => latencies.length >= COUNT, { timeoutMs: 60_000, what: 'raw messages' });
  await producer.disconnect();
  await consumer.disconnect();
  return latencies;
}

/**
 * "Tracker recorded" is when the tracker's transaction committed: a bench-only trigger NOTIFYs on each
 * AlertActivated row, and PostgreSQL delivers a notification only on commit, so this counts the time a
 * row written early in a grouped transaction waits for the rest of its group.
 */
async function pipeline(stack: TestStack): Promise<number[]> {
  await stack.query(`
    CREATE OR REPLACE FUNCTION tracker.bench_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.event_type = 'AlertActivated' THEN PERFORM pg_notify('bench_recorded', NEW.alert_id::text); END IF;
      RETURN NEW;
    END $$`);
  await stack.query(
    `CREATE TRIGGER bench_recorded AFTER INSERT ON tracker.timeline_entries FOR EACH ROW EXECUTE FUNCTION tracker.bench_recorded()`,
  );
  const committedAt = new Map<string, number>();
  const listener = new Client({ connectionString: stack.databaseUrl });
  await listener.connect();
  listener.on('notification', (n) => committedAt.set(n.payload!, Date.now()));
  await listener.query('LISTEN bench_recorded');

  const acceptedAt = new Map<string, number>();
  let failures = 0;
  try {
    await paced(COUNT, RATE_PER_S, async (i) => {
      const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 10 + (i % 80) }));
      if (res.status !== 201) {
        failures++;
        return;
      }
      acceptedAt.set(res.body.id, Date.now());
    });
    if (failures) throw new Error(`${failures} activations failed`);
    await waitFor(async () => [...acceptedAt.keys()].every((id) => committedAt.has(id)), {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'all activations recorded by the tracker',
    });
  } finally {
    await listener.end();
  }
  return [...acceptedAt].map(([id, at]) => committedAt.get(id)! - at);
}

async function main() {
  const stack = await TestStack.create({ env: { LOG_LEVEL: 'warn', DATABASE_POOL_SIZE: '10' } });
  try {
    await stack.startAll(SERVICES);
    // Warm-up: connections, JIT, group assignment.
    for (let i = 0; i < 20; i++) await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha());
    await sleep(3_000);
    await stack.query(`DELETE FROM tracker.timeline_entries`);

    const raw = summary(await rawRoundTrip(stack));
    const pipe = summary(await pipeline(stack));
    // Where the time goes: commit → relay published (acks=all) → tracker recorded.
    const stages = await stack.query<{ relay_ms: number; consume_ms: number }>(
      `SELECT extract(epoch FROM (o.published_at - o.created_at)) * 1000 AS relay_ms,
              extract(epoch FROM (t.recorded_at - o.published_at)) * 1000 AS consume_ms
         FROM intake.outbox o JOIN tracker.timeline_entries t ON t.event_id = o.event_id
        WHERE o.event_type = 'AlertActivated'`,
    );
    const relay = summary(stages.map((r) => Math.round(Number(r.relay_ms))));
    const consume = summary(stages.map((r) => Math.round(Number(r.consume_ms))));
    const budget = 2 * raw.p95 + 25;
    const fmt = (s: ReturnType<typeof summary>) =>
      `p50 ${s.p50} ms · p95 ${s.p95} ms · p99 ${s.p99} ms · max ${s.max} ms`;
    console.log(
      `bench:spine — ${COUNT} activations at ${RATE_PER_S}/s on ${stack.brokers.join(',')} (services: ${SERVICES.join(', ')})`,
    );
    console.log(`  raw kafkajs produce→consume : ${fmt(raw)}`);
    console.log(`  POST accepted→tracker       : ${fmt(pipe)}`);
    console.log(`    of which commit→published  : ${fmt(relay)}`);
    console.log(`    of which published→tracker : ${fmt(consume)}`);
    console.log(
      `  ratio p50 ${(pipe.p50 / Math.max(1, raw.p50)).toFixed(2)}× · p95 ${(pipe.p95 / Math.max(1, raw.p95)).toFixed(2)}×`,
    );
    console.log(`  aim p95 ≤ 2×raw p95 + 25 ms = ${budget} ms → ${pipe.p95 <= budget ? 'met' : 'NOT met'}`);
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
