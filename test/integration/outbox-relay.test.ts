import { Envelope, TOPICS, createEnvelope, newId, physicalTopic } from '@alerta-rosa/contracts';
import {
  CommitNotifier,
  OutboxRelay,
  OutboxWriter,
  createMessagingTables,
  ensureTopics,
  minInsyncReplicas,
  upgradeMessagingTablesV2,
} from '@alerta-rosa/messaging';
import { createLogger } from '@alerta-rosa/observability';
import { ConfigResourceTypes, KafkaMessage } from 'kafkajs';
import { Server, Socket, createServer, connect } from 'net';
import { DataSource } from 'typeorm';
import { TestStack, freePort, waitFor } from '../support/stack';

/**
 * Issue 8, items 6 and 7: the outbox relay cannot hang or be blocked, events of one alert leave in the
 * order their transactions committed, and topics are kept as durable as the replication factor allows.
 */
const SCHEMA = 'relayprobe';

/** An AlertUpdated whose version is `n`, to tell the events apart on the topic. */
function event(alertId: string, n: number): Envelope {
  return createEnvelope({
    type: 'AlertUpdated',
    alertId,
    producer: 'intake',
    payload: {
      folio: 'AR-2026-0300',
      version: n,
      changedFields: ['age'],
      ficha: {
        fullName: 'Prueba',
        age: 30,
        municipalityCode: '20067',
        municipalityName: 'Oaxaca de Juárez',
        lastSeenAt: new Date().toISOString(),
        lastSeenPlace: null,
        description: null,
      },
    },
  });
}

/** A TCP proxy to PostgreSQL that can go silent without closing anything: a half-open network. */
class BlackholeProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  silent = false;
  port = 0;

  async start(targetPort: number): Promise<void> {
    this.port = await freePort();
    this.server = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      client.on('data', (d) => void (!this.silent && upstream.write(d)));
      upstream.on('data', (d) => void (!this.silent && client.write(d)));
      // Half-open: while silent, one side going away is not seen by the other either.
      const end = () => {
        if (this.silent) return;
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describe('outbox relay on real PostgreSQL and Kafka', () => {
  let stack: TestStack;
  let db: DataSource;
  let writer: OutboxWriter;
  let notifier: CommitNotifier;
  const logger = createLogger('relay-probe', 'silent');
  const relays: OutboxRelay[] = [];
  const seen: { alertId: string; n: number; eventId: string }[] = [];
  let proxy: BlackholeProxy;

  function relay(
    databaseUrl = stack.databaseUrl,
    extra: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {},
  ) {
    const r = new OutboxRelay({
      schema: SCHEMA,
      databaseUrl,
      kafka: stack.kafka,
      logger,
      pollIntervalMs: 200,
      leaderRetryMs: 300,
      queryTimeoutMs: 1_500,
      sessionIdleTimeoutMs: 3_000,
      unknownTopicGraceMs: 1_000,
      ...extra,
    });
    relays.push(r);
    return r;
  }

  async function append(events: Envelope[]): Promise<void> {
    await db.transaction((m) => writer.append(m, TOPICS.alerts, events));
  }

  beforeAll(async () => {
    stack = await TestStack.create();
    // Six at once in the lanes test: five open transactions and the look at pg_stat_activity.
    db = new DataSource({ type: 'postgres', url: stack.databaseUrl, poolSize: 8 });
    await db.initialize();
    await db.query(`CREATE SCHEMA ${SCHEMA}`);
    const runner = db.createQueryRunner();
    await createMessagingTables(runner, SCHEMA);
    await upgradeMessagingTablesV2(runner, SCHEMA);
    await runner.release();
    notifier = new CommitNotifier({ databaseUrl: stack.databaseUrl, logger });
    writer = new OutboxWriter(SCHEMA, stack.topicPrefix, notifier);
    await ensureTopics(stack.kafka, { prefix: stack.topicPrefix, partitions: 3, replicationFactor: 1 });
    const consumer = stack.kafka.consumer({ groupId: `${stack.topicPrefix}-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: stack.topic(TOPICS.alerts), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }: { message: KafkaMessage }) => {
        const e = JSON.parse(message.value!.toString());
        seen.push({ alertId: e.alertId, n: e.payload.version, eventId: e.eventId });
      },
    });
    (stack as unknown as { consumers: unknown[] }).consumers.push(consumer);
    proxy = new BlackholeProxy();
    await proxy.start(5432);
  });

  afterAll(async () => {
    proxy.silent = false;
    await Promise.all(relays.map((r) => r.stop()));
    await proxy.stop();
    await notifier?.close();
    await db?.destroy();
    await stack?.teardown();
  });

  async function stopAll(): Promise<void> {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  }

  it('gives the leader lock to another replica within seconds when the leader’s connection goes half-open', async () => {
    const viaProxy = new URL(stack.databaseUrl);
    viaProxy.port = String(proxy.port);
    const a = relay(viaProxy.toString());
    a.start();
    await waitFor(async () => a.isLeader, { what: 'relay A leading' });
    const b = relay();
    b.start();
    const alertId = newId();
    await append([event(alertId, 1)]);
    await waitFor(async () => seen.some((s) => s.alertId === alertId && s.n === 1), {
      what: 'event 1 via A',
    });
    expect(b.isLeader).toBe(false);

    proxy.silent = true; // the network drops A's packets; no RST, nothing closes
    await append([event(alertId, 2), event(alertId, 3)]);
    await waitFor(async () => [2, 3].every((n) => seen.some((s) => s.alertId === alertId && s.n === n)), {
      timeoutMs: 45_000,
      what: 'events 2 and 3 published by the other replica',
    });
    expect(b.isLeader).toBe(true);
    await waitFor(async () => !a.isLeader, { what: 'A dropping its leadership' });
    proxy.silent = false;
    await stopAll();
  });

  it('parks a row Kafka refuses for good (too large, unknown topic) with its error, and publishes the rows behind it', async () => {
    const r = relay();
    r.start();
    const alertId = newId();
    const big = event(alertId, 10);
    await append([event(alertId, 9)]);
    await db.query(
      `INSERT INTO ${SCHEMA}.outbox (event_id, topic, message_key, event_type, payload) VALUES ($1, $2, $3, $4, $5)`,
      [
        big.eventId,
        stack.topic(TOPICS.alerts),
        alertId,
        'AlertUpdated',
        JSON.stringify({ ...big, pad: 'x'.repeat(2_000_000) }),
      ],
    );
    const lost = event(alertId, 11);
    await db.query(
      `INSERT INTO ${SCHEMA}.outbox (event_id, topic, message_key, event_type, payload) VALUES ($1, $2, $3, $4, $5)`,
      [
        lost.eventId,
        physicalTopic(stack.topicPrefix, 'no-such-topic.v1'),
        alertId,
        'AlertUpdated',
        JSON.stringify(lost),
      ],
    );
    await append([event(alertId, 12), event(alertId, 13)]);

    await waitFor(
      async () => [9, 12, 13].every((n) => seen.some((s) => s.alertId === alertId && s.n === n)),
      {
        timeoutMs: 45_000,
        what: 'the rows around the refused ones',
      },
    );
    const parked = await db.query(
      `SELECT event_id, last_error FROM ${SCHEMA}.outbox WHERE parked_at IS NOT NULL ORDER BY id`,
    );
    expect(parked).toEqual([
      { event_id: big.eventId, last_error: expect.stringMatching(/TOO_LARGE/) },
      { event_id: lost.eventId, last_error: expect.stringMatching(/UNKNOWN_TOPIC/) },
    ]);
    expect(seen.filter((s) => s.alertId === alertId).map((s) => s.n)).toEqual([9, 12, 13]);
    expect(r.parkedCount).toBe(2);
    await stopAll();
  });

  it('publishes the events of one alert in the order their transactions committed, not the order they were written', async () => {
    const r = relay();
    r.start();
    const alertId = newId();
    const first = event(alertId, 21);
    const second = event(alertId, 22);
    const t1 = db.createQueryRunner();
    await t1.connect();
    await t1.startTransaction();
    await writer.append(t1.manager, TOPICS.alerts, [first]); // written first, commits last
    const t2 = db.createQueryRunner();
    await t2.connect();
    const [{ pid }] = await t2.query('SELECT pg_backend_pid() AS pid');
    const t2Done = (async () => {
      await t2.startTransaction();
      await writer.append(t2.manager, TOPICS.alerts, [second]);
      await t2.commitTransaction();
    })();
    // Either the second transaction waits for the first (commit order kept), or it committed and was
    // published ahead of the first (the order a consumer would then see reversed).
    await waitFor(
      async () => {
        const [w] = await db.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [pid]);
        return w?.wait_event_type === 'Lock' || seen.some((s) => s.eventId === second.eventId);
      },
      { what: 'the second transaction blocked or published' },
    );
    await t1.commitTransaction();
    await t2Done;
    await Promise.all([t1.release(), t2.release()]);
    await waitFor(async () => seen.filter((s) => s.alertId === alertId).length >= 2, { what: 'both events' });
    expect(seen.filter((s) => s.alertId === alertId).map((s) => s.n)).toEqual([21, 22]);
    await stopAll();
  });

  it("commits one alert's events of different lanes side by side; a lane's events and the alert's own keep commit order", async () => {
    const r = relay();
    r.start();
    const alertId = newId();
    const open = async () => {
      const t = db.createQueryRunner();
      await t.connect();
      const [{ pid }] = await t.query('SELECT pg_backend_pid() AS pid');
      await t.startTransaction();
      return { t, pid: pid as number };
    };
    const waiting = async (pid: number) => {
      const [w] = await db.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [pid]);
      return w?.wait_event_type === 'Lock';
    };
    // Lane «a» written first and left open.
    const a1 = await open();
    await writer.append(a1.t.manager, TOPICS.alerts, [event(alertId, 31)], { lane: 'a' });
    // Another lane of the same alert does not wait for it: it commits and is published first.
    const b = await open();
    await writer.append(b.t.manager, TOPICS.alerts, [event(alertId, 32)], { lane: 'b' });
    await b.t.commitTransaction();
    await waitFor(async () => seen.some((s) => s.alertId === alertId && s.n === 32), {
      what: "lane b's event published while lane a's transaction is open",
    });
    // The same lane waits for it, and so does an event of the alert itself.
    const a2 = await open();
    const a2Done = (async () => {
      await writer.append(a2.t.manager, TOPICS.alerts, [event(alertId, 33)], { lane: 'a' });
      await a2.t.commitTransaction();
    })();
    await waitFor(() => waiting(a2.pid), { what: "lane a's second transaction waiting" });
    const whole = await open();
    const wholeDone = (async () => {
      await writer.append(whole.t.manager, TOPICS.alerts, [event(alertId, 34)]);
      await whole.t.commitTransaction();
    })();
    await waitFor(() => waiting(whole.pid), { what: "the alert's own event waiting" });
    // While the alert's own event waits, a new lane waits behind it (it is not overtaken).
    const c = await open();
    const cDone = (async () => {
      await writer.append(c.t.manager, TOPICS.alerts, [event(alertId, 35)], { lane: 'c' });
      await c.t.commitTransaction();
    })();
    await waitFor(() => waiting(c.pid), { what: 'lane c waiting behind the alert event' });
    expect(seen.filter((s) => s.alertId === alertId).map((s) => s.n)).toEqual([32]);
    await a1.t.commitTransaction();
    await Promise.all([a2Done, wholeDone, cDone]);
    await Promise.all([a1, b, a2, whole, c].map((x) => x.t.release()));
    await waitFor(async () => seen.filter((s) => s.alertId === alertId).length >= 5, {
      what: 'all five events',
    });
    // Lane a in its commit order; the alert's event after both of its events, and before lane c, which
    // waited for it.
    expect(seen.filter((s) => s.alertId === alertId).map((s) => s.n)).toEqual([32, 31, 33, 34, 35]);
    await stopAll();
  });

  it("appends in the caller's own statement: written only when the gated change happened, under the same lane locks", async () => {
    const r = relay();
    r.start();
    await db.query(`CREATE TABLE ${SCHEMA}.probe (id int PRIMARY KEY, state text NOT NULL)`);
    await db.query(`INSERT INTO ${SCHEMA}.probe VALUES (1, 'pending')`);
    const alertId = newId();
    const events = new Map<number, Envelope>();
    const settle = async (n: number): Promise<{ changed: number; written: number }> => {
      events.set(n, event(alertId, n));
      const part = writer.appendCtes(TOPICS.alerts, [events.get(n)!], {
        lane: 'a',
        gate: 'changed',
        firstParam: 2,
      });
      const [row] = await db.query(
        `WITH changed AS (
           UPDATE ${SCHEMA}.probe SET state = 'done' WHERE id = $1 AND state = 'pending' RETURNING id),
         ${part.sql}
         SELECT (SELECT count(*) FROM changed)::int AS changed, (SELECT count(*) FROM ${part.written})::int AS written`,
        [1, ...part.params],
      );
      return row;
    };
    const probeWaiting = async () => {
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%UPDATE ${SCHEMA}.probe%'`,
      );
      return n === 1;
    };
    // Lane «a» held by an open transaction: the statement waits for it (lane order is commit order).
    const t = db.createQueryRunner();
    await t.connect();
    await t.startTransaction();
    await writer.append(t.manager, TOPICS.alerts, [event(alertId, 41)], { lane: 'a' });
    const first = settle(42);
    await waitFor(probeWaiting, { what: 'the statement waiting for the lane' });
    await t.commitTransaction();
    expect(await first).toEqual({ changed: 1, written: 1 });
    writer.committed();
    // The same change again does not happen: no event, and no lane lock taken (it does not wait on an
    // open transaction of the lane).
    await t.startTransaction();
    await writer.append(t.manager, TOPICS.alerts, [event(alertId, 44)], { lane: 'a' });
    expect(await settle(43)).toEqual({ changed: 0, written: 0 });
    await t.commitTransaction();
    await t.release();
    await waitFor(async () => seen.filter((s) => s.alertId === alertId).length >= 3, {
      what: 'events 41, 42 and 44',
    });
    expect(seen.filter((s) => s.alertId === alertId).map((s) => s.n)).toEqual([41, 42, 44]);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE event_id = $1`, [
      events.get(43)!.eventId,
    ]);
    expect(n).toBe(0);
    await stopAll();
  });

  it('creates topics with min.insync.replicas = RF−1 (at least 1) and retention −1, and corrects an existing topic at start-up', async () => {
    expect([1, 2, 3, 5].map(minInsyncReplicas)).toEqual([1, 1, 2, 4]);
    const prefix = `${stack.topicPrefix}-cfg`;
    const stale = physicalTopic(prefix, TOPICS.tasks);
    // Without waiting for leaders: a busy broker may answer the leader wait with «does not host this
    // topic-partition» for a moment; ensureTopics below waits for them itself.
    await stack.admin((a) =>
      a.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic: stale,
            numPartitions: 3,
            configEntries: [
              { name: 'min.insync.replicas', value: '2' },
              { name: 'retention.ms', value: '3600000' },
              { name: 'max.message.bytes', value: '500000' },
            ],
          },
        ],
      }),
    );
    await waitFor(async () => (await stack.admin((a) => a.listTopics())).includes(stale), {
      what: 'the stale topic listed',
    });
    const corrected: string[] = [];
    await ensureTopics(stack.kafka, { prefix, partitions: 3, replicationFactor: 1 }, 60_000, (_m, d) =>
      corrected.push(String(d.topic)),
    );
    const describe = () =>
      stack.admin((a) =>
        a.describeConfigs({
          includeSynonyms: false,
          resources: [stale, physicalTopic(prefix, TOPICS.alerts)].map((name) => ({
            type: ConfigResourceTypes.TOPIC,
            name,
          })),
        }),
      );
    let configs = await describe();
    const value = (topic: string, key: string) =>
      configs.resources.find((r) => r.resourceName === topic)!.configEntries.find((e) => e.configName === key)
        ?.configValue;
    // (Logged again if a retry of ensureTopics saw the old values before the broker applied them.)
    expect([...new Set(corrected)]).toEqual([stale]);
    // The broker applies an alteration through its controller: it shows in a moment.
    await waitFor(
      async () => {
        configs = await describe();
        return value(stale, 'min.insync.replicas') === '1';
      },
      { what: 'the corrected configuration' },
    );
    for (const t of [stale, physicalTopic(prefix, TOPICS.alerts)]) {
      expect(value(t, 'min.insync.replicas')).toBe('1');
      expect(value(t, 'retention.ms')).toBe('-1');
    }
    expect(value(stale, 'max.message.bytes')).toBe('500000'); // an operator's own setting is kept
    await stack.admin(async (a) => {
      const mine = (await a.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
      await a.deleteTopics({ topics: mine });
    });
  });
});
