import { Envelope, TOPICS, createEnvelope, newId } from '@alerta-rosa/contracts';
import {
  InboxContext,
  KafkaInboxServer,
  PreserveRpcErrorFilter,
  createKafka,
  createMessagingTables,
  upgradeMessagingTablesV2,
  ensureTopics,
} from '@alerta-rosa/messaging';
import { createLogger } from '@alerta-rosa/observability';
import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { TestStack, waitFor } from '../support/stack';

/** What the probe handler saw and what it should do, shared with the test. */
const probe = {
  attempts: new Map<string, number>(),
  failAlways: new Set<string>(),
  failOnce: new Set<string>(),
  handled: [] as string[],
};

@Controller()
class ProbeHandler {
  @EventPattern(TOPICS.alerts)
  async handle(@Payload() event: Envelope, @Ctx() ctx: InboxContext): Promise<void> {
    const n = (probe.attempts.get(event.eventId) ?? 0) + 1;
    probe.attempts.set(event.eventId, n);
    // A write inside the inbox transaction: must vanish when the handler fails.
    await ctx.manager.query(`INSERT INTO probe.effects (event_id, attempt) VALUES ($1, $2)`, [
      event.eventId,
      n,
    ]);
    if (probe.failAlways.has(event.eventId)) throw new Error('el servicio externo no responde');
    if (probe.failOnce.has(event.eventId) && n === 1) throw new Error('fallo transitorio');
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

describe('KafkaInboxServer (inbox, bounded retries, DLQ) on real Kafka and PostgreSQL', () => {
  let stack: TestStack;
  let dataSource: DataSource;
  let app: INestMicroservice;
  const logger = createLogger('probe', 'silent');

  beforeAll(async () => {
    stack = await TestStack.create();
    dataSource = new DataSource({ type: 'postgres', url: stack.databaseUrl });
    await dataSource.initialize();
    await dataSource.query(`CREATE SCHEMA probe`);
    await dataSource.query(`CREATE TABLE probe.effects (event_id uuid NOT NULL, attempt int NOT NULL)`);
    const runner = dataSource.createQueryRunner();
    await createMessagingTables(runner, 'probe');
    await upgradeMessagingTablesV2(runner, 'probe');
    await runner.release();
    const kafka = createKafka('probe', stack.brokers, logger);
    await ensureTopics(kafka, { prefix: stack.topicPrefix, partitions: 3, replicationFactor: 1 });
    app = await NestFactory.createMicroservice(ProbeModule, {
      logger: false,
      strategy: new KafkaInboxServer({
        kafka,
        groupId: 'probe',
        topicPrefix: stack.topicPrefix,
        topics: [TOPICS.alerts],
        dataSource,
        schema: 'probe',
        logger,
        maxAttempts: 3,
        retryBackoffMs: 20,
      }),
    });
    app.useGlobalFilters(new PreserveRpcErrorFilter());
    await app.listen();
  });

  afterAll(async () => {
    await app?.close();
    await dataSource?.destroy();
    await stack?.teardown();
  });

  async function publish(events: Envelope[]): Promise<void> {
    const producer = stack.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: stack.topic(TOPICS.alerts),
      messages: events.map((e) => ({ key: e.alertId, value: JSON.stringify(e) })),
    });
    await producer.disconnect();
  }

  it('retries a failing handler a bounded number of times, dead-letters it with the error, and moves on', async () => {
    const alertId = newId();
    const poisoned = activation(alertId, 'AR-2026-0101');
    const next = { ...activation(alertId, 'AR-2026-0101'), type: 'AlertUpdated' } as Envelope;
    next.payload = {
      folio: 'AR-2026-0101',
      version: 2,
      changedFields: ['age'],
      ficha: (poisoned.payload as any).ficha,
    };
    probe.failAlways.add(poisoned.eventId);

    await publish([poisoned, next]);
    await waitFor(async () => probe.handled.includes(next.eventId), {
      what: 'the next event on the partition',
    });

    expect(probe.attempts.get(poisoned.eventId)).toBe(3);
    const [dead] = await stack.readTopic(stack.topic('alerts.v1.dlq'), { expect: 1 });
    expect(dead.message.headers?.['dlq-error']?.toString()).toBe('el servicio externo no responde');
    expect(dead.message.headers?.['dlq-attempts']?.toString()).toBe('3');
    expect(dead.message.headers?.['dlq-consumer']?.toString()).toBe('probe');
    expect(JSON.parse(dead.message.value!.toString()).eventId).toBe(poisoned.eventId);
    // Failed attempts left no effect and no inbox entry; the next event was applied once.
    expect(
      await dataSource.query(`SELECT 1 FROM probe.effects WHERE event_id = $1`, [poisoned.eventId]),
    ).toEqual([]);
    expect(
      await dataSource.query(`SELECT 1 FROM probe.inbox WHERE event_id = $1`, [poisoned.eventId]),
    ).toEqual([]);
    expect(
      await dataSource.query(`SELECT 1 FROM probe.effects WHERE event_id = $1`, [next.eventId]),
    ).toHaveLength(1);
  });

  it('applies a transient failure on the second attempt, exactly once', async () => {
    const event = activation(newId(), 'AR-2026-0102');
    probe.failOnce.add(event.eventId);
    await publish([event]);
    await waitFor(async () => probe.handled.includes(event.eventId), { what: 'the retried event' });
    expect(probe.attempts.get(event.eventId)).toBe(2);
    const effects = await dataSource.query(`SELECT attempt FROM probe.effects WHERE event_id = $1`, [
      event.eventId,
    ]);
    expect(effects).toEqual([{ attempt: 2 }]);
  });

  it('skips an event it has already processed when the same event is delivered again', async () => {
    const event = activation(newId(), 'AR-2026-0103');
    await publish([event]);
    await waitFor(async () => probe.handled.includes(event.eventId), { what: 'first delivery' });
    const marker = activation(event.alertId, 'AR-2026-0103');
    await publish([event, marker]); // a producer retry or relay re-send
    await waitFor(async () => probe.handled.includes(marker.eventId), {
      what: 'the marker after the duplicate',
    });
    expect(probe.handled.filter((id) => id === event.eventId)).toHaveLength(1);
    expect(probe.attempts.get(event.eventId)).toBe(1);
  });

  it('handles a run of one partition in shared transactions; a failing event in it takes none of its neighbours with it', async () => {
    const alertId = newId();
    const before = Array.from({ length: 5 }, () => activation(alertId, 'AR-2026-0104'));
    const poisoned = activation(alertId, 'AR-2026-0104');
    const after = Array.from({ length: 6 }, () => activation(alertId, 'AR-2026-0104'));
    probe.failAlways.add(poisoned.eventId);
    const good = [...before, ...after].map((e) => e.eventId);

    await publish([...before, poisoned, ...after]); // one request: one batch on one partition
    await waitFor(async () => good.every((id) => probe.handled.includes(id)), {
      what: 'every good event of the run',
    });

    const effects = await dataSource.query<{ event_id: string; n: number }[]>(
      `SELECT event_id, count(*)::int AS n FROM probe.effects WHERE event_id = ANY($1) GROUP BY event_id`,
      [[...good, poisoned.eventId]],
    );
    expect(effects.map((e) => e.n)).toEqual(good.map(() => 1));
    expect(effects.map((e) => e.event_id).sort()).toEqual([...good].sort());
    expect(probe.attempts.get(poisoned.eventId)).toBe(3);
    const dead = await stack.readTopic(stack.topic('alerts.v1.dlq'), { expect: 2 });
    const mine = dead.find((d) => JSON.parse(d.message.value!.toString()).eventId === poisoned.eventId);
    expect(mine?.message.headers?.['dlq-attempts']?.toString()).toBe('3');
    // Rows committed by one transaction share its id (xmin): fewer transactions than events.
    const [{ transactions }] = await dataSource.query(
      `SELECT count(DISTINCT xmin::text)::int AS transactions FROM probe.inbox WHERE event_id = ANY($1)`,
      [good],
    );
    expect(transactions).toBeLessThan(good.length);
  });
});
