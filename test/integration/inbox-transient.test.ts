import { Envelope, TOPICS, createEnvelope, newId, redriveTopic } from '@alerta-rosa/contracts';
import {
  InboxContext,
  KafkaInboxServer,
  PreserveRpcErrorFilter,
  createKafka,
  createMessagingTables,
  ensureTopics,
  redriveDeadLetters,
  upgradeMessagingTablesV2,
} from '@alerta-rosa/messaging';
import { createLogger } from '@alerta-rosa/observability';
import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { PG_ADMIN_URL, TestStack, sleep, waitFor } from '../support/stack';

/**
 * Issue 8, item 5: an infrastructure error is never the event's fault. Today's transport retried a
 * handler CONSUMER_MAX_ATTEMPTS times whatever the error and then dead-lettered it, so a PostgreSQL
 * restart or a few terminated connections threw good alerts into the DLQ.
 */
const probe = {
  attempts: new Map<string, number>(),
  /** Events whose handler kills its own database connection this many times first. */
  killConnection: new Map<string, number>(),
  failAlways: new Set<string>(),
  handled: [] as string[],
};

@Controller()
class ProbeHandler {
  @EventPattern(TOPICS.alerts)
  async handle(@Payload() event: Envelope, @Ctx() ctx: InboxContext): Promise<void> {
    const n = (probe.attempts.get(event.eventId) ?? 0) + 1;
    probe.attempts.set(event.eventId, n);
    await ctx.manager.query(`INSERT INTO probe.effects (event_id, attempt) VALUES ($1, $2)`, [
      event.eventId,
      n,
    ]);
    const kills = probe.killConnection.get(event.eventId) ?? 0;
    if (n <= kills) {
      // A real connection loss: the server ends this backend (57P01) in the middle of the transaction.
      await ctx.manager.query('SELECT pg_terminate_backend(pg_backend_pid())');
    }
    if (probe.failAlways.has(event.eventId)) throw new Error('la ficha no cumple una regla de negocio');
    probe.handled.push(event.eventId);
  }
}

@Module({ controllers: [ProbeHandler] })
class ProbeModule {}

function activation(alertId: string, folio: string): Envelope {
  return createEnvelope({
    type: 'AlertActivated',
    alertId,
    producer: 'intake',
    payload: {
      folio,
      version: 1,
      reportedAt: new Date().toISOString(),
      activatedAt: new Date().toISOString(),
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

describe('Kafka inbox transport: infrastructure errors are retried without limit, never dead-lettered', () => {
  let stack: TestStack;
  let dataSource: DataSource;
  let server: KafkaInboxServer;
  let app: INestMicroservice;
  const logger = createLogger('probe', 'silent');
  const retryingSeen: string[] = [];
  let sampler: NodeJS.Timeout;

  beforeAll(async () => {
    stack = await TestStack.create();
    dataSource = new DataSource({ type: 'postgres', url: stack.databaseUrl, poolSize: 4 });
    await dataSource.initialize();
    await dataSource.query(`CREATE SCHEMA probe`);
    await dataSource.query(`CREATE TABLE probe.effects (event_id uuid NOT NULL, attempt int NOT NULL)`);
    const runner = dataSource.createQueryRunner();
    await createMessagingTables(runner, 'probe');
    await upgradeMessagingTablesV2(runner, 'probe');
    await runner.release();
    const kafka = createKafka('probe', stack.brokers, logger);
    await ensureTopics(kafka, {
      prefix: stack.topicPrefix,
      partitions: 3,
      replicationFactor: 1,
      extraTopics: [redriveTopic('probe')],
    });
    server = new KafkaInboxServer({
      kafka,
      groupId: 'probe',
      topicPrefix: stack.topicPrefix,
      topics: [TOPICS.alerts],
      dataSource,
      schema: 'probe',
      logger,
      maxAttempts: 3,
      retryBackoffMs: 20,
      transientBackoffMs: 100,
      transientBackoffMaxMs: 800,
      redrive: true,
    });
    app = await NestFactory.createMicroservice(ProbeModule, { logger: false, strategy: server });
    app.useGlobalFilters(new PreserveRpcErrorFilter());
    await app.listen();
    // What /health would show: partitions paused while the infrastructure is away.
    sampler = setInterval(() => {
      for (const r of server.consumerStatus().retrying) retryingSeen.push(r.lastError);
    }, 20);
  });

  afterAll(async () => {
    clearInterval(sampler);
    await app?.close();
    await dataSource?.destroy();
    await stack?.teardown();
  });

  async function publish(events: Envelope[], topic: string = stack.topic(TOPICS.alerts)): Promise<void> {
    const producer = stack.kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: events.map((e) => ({ key: e.alertId, value: JSON.stringify(e) })),
    });
    await producer.disconnect();
  }

  async function effectsOf(ids: string[]): Promise<{ event_id: string; n: number }[]> {
    return dataSource.query(
      `SELECT event_id, count(*)::int AS n FROM probe.effects WHERE event_id = ANY($1) GROUP BY event_id`,
      [ids],
    );
  }

  it('applies once, and never dead-letters, an event whose database connection is terminated more times than its retry budget', async () => {
    const alertId = newId();
    const event = activation(alertId, 'AR-2026-0201');
    const next = activation(alertId, 'AR-2026-0201');
    probe.killConnection.set(event.eventId, 6); // twice CONSUMER_MAX_ATTEMPTS
    retryingSeen.length = 0;

    await publish([event, next]);
    await waitFor(async () => probe.handled.includes(next.eventId), {
      timeoutMs: 60_000,
      what: 'the event after the one whose connection kept dying',
    });

    expect(probe.attempts.get(event.eventId)).toBe(7);
    expect(probe.handled.filter((id) => id === event.eventId)).toHaveLength(1);
    expect(await effectsOf([event.eventId, next.eventId])).toEqual(
      expect.arrayContaining([
        { event_id: event.eventId, n: 1 },
        { event_id: next.eventId, n: 1 },
      ]),
    );
    // In order: the next event of the partition waited for it.
    expect(probe.handled.indexOf(event.eventId)).toBeLessThan(probe.handled.indexOf(next.eventId));
    expect(await dataSource.query(`SELECT * FROM probe.dead_letters`)).toEqual([]);
    // While it was failing, the partition showed as paused for the infrastructure, with the error.
    expect(retryingSeen.some((e) => /terminat/i.test(e))).toBe(true);
    await waitFor(async () => server.consumerStatus().retrying.length === 0, {
      what: 'the partition consuming again',
    });
  });

  it('keeps every event published while the database refuses all connections, and applies each once, in order, when it returns', async () => {
    const admin = new Pool({ connectionString: PG_ADMIN_URL, max: 1 });
    const alertId = newId();
    const events = Array.from({ length: 5 }, () => activation(alertId, 'AR-2026-0202'));
    retryingSeen.length = 0;
    try {
      await admin.query(`ALTER DATABASE "${stack.database}" ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [
        stack.database,
      ]);
      await publish(events);
      // Longer than the whole retry budget of today's transport (3 attempts, 20 ms backoff).
      await waitFor(async () => retryingSeen.length > 0, { what: 'the consumer waiting for the database' });
      await sleep(3_000);
      expect(probe.handled.filter((id) => events.some((e) => e.eventId === id))).toEqual([]);
    } finally {
      await admin.query(`ALTER DATABASE "${stack.database}" ALLOW_CONNECTIONS true`);
      await admin.end();
    }

    await waitFor(async () => events.every((e) => probe.handled.includes(e.eventId)), {
      timeoutMs: 60_000,
      what: 'every event after the database came back',
    });
    const order = probe.handled.filter((id) => events.some((e) => e.eventId === id));
    expect(order).toEqual(events.map((e) => e.eventId));
    expect((await effectsOf(events.map((e) => e.eventId))).map((e) => e.n)).toEqual(events.map(() => 1));
    expect(await dataSource.query(`SELECT * FROM probe.dead_letters`)).toEqual([]);
  });

  it('still dead-letters an event its handler refuses, keeps the message, and puts it back for this consumer only, once', async () => {
    const alertId = newId();
    const poisoned = activation(alertId, 'AR-2026-0203');
    probe.failAlways.add(poisoned.eventId);
    await publish([poisoned]);
    await waitFor(
      async () =>
        (await dataSource.query(`SELECT 1 FROM probe.dead_letters WHERE event_id = $1`, [poisoned.eventId]))
          .length === 1,
      { what: 'the dead letter row' },
    );
    expect(probe.attempts.get(poisoned.eventId)).toBe(3);
    const [row] = await dataSource.query(`SELECT * FROM probe.dead_letters WHERE event_id = $1`, [
      poisoned.eventId,
    ]);
    expect(row).toMatchObject({ topic: TOPICS.alerts, attempts: 3, redriven_at: null });
    expect(JSON.parse(row.message_value.toString()).eventId).toBe(poisoned.eventId);

    // The cause is fixed; the operator puts it back (npm run dlq:redrive does this).
    probe.failAlways.delete(poisoned.eventId);
    const options = {
      databaseUrl: stack.databaseUrl,
      kafka: stack.kafka,
      topicPrefix: stack.topicPrefix,
      schema: 'probe',
      consumer: 'probe',
    };
    const first = await redriveDeadLetters({ ...options, eventId: poisoned.eventId });
    expect(first.redriven.map((r) => r.eventId)).toEqual([poisoned.eventId]);
    await waitFor(async () => probe.handled.includes(poisoned.eventId), { what: 'the redriven event' });
    // A second run finds nothing left; forcing it again changes nothing (the inbox has it).
    expect((await redriveDeadLetters(options)).redriven).toEqual([]);
    await redriveDeadLetters({ ...options, eventId: poisoned.eventId, again: true });
    // Both redriven copies consumed (the group's committed offset on the redrive topic passed them).
    await waitFor(
      async () =>
        stack.admin(async (a) => {
          const [t] = await a.fetchOffsets({
            groupId: stack.topic('probe'),
            topics: [stack.topic(redriveTopic('probe'))],
          });
          return t.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) >= 2;
        }),
      { what: 'the second redrive consumed' },
    );
    expect(probe.handled.filter((id) => id === poisoned.eventId)).toHaveLength(1);
    expect(await effectsOf([poisoned.eventId])).toEqual([{ event_id: poisoned.eventId, n: 1 }]);
    const [after] = await dataSource.query(
      `SELECT redrive_count FROM probe.dead_letters WHERE event_id = $1`,
      [poisoned.eventId],
    );
    expect(after.redrive_count).toBe(2);
  });
});
