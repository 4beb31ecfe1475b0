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
  /** Events whose handler also leaves deferred work; the flushes seen, each with its events in order. */
  deferring: new Set<string>(),
  flushes: [] as string[][],
  /** A flush that holds this event fails. */
  failFlush: new Set<string>(),
  /** Events whose handler takes longer than a group may last. */
  slow: new Set<string>(),
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
    if (probe.slow.has(event.eventId)) await new Promise((r) => setTimeout(r, 30));
    if (probe.deferring.has(event.eventId)) {
      const m = ctx.manager;
      ctx.defer('probe.deferred', event.eventId, async (ids: string[]) => {
        probe.flushes.push(ids);
        await m.query(
          `INSERT INTO probe.deferred (event_id, pos, flush) SELECT id, pos, $2 FROM unnest($1::uuid[]) WITH ORDINALITY AS x(id, pos)`,
          [ids, probe.flushes.length],
        );
        if (ids.some((id) => probe.failFlush.has(id))) throw new Error('el trabajo diferido falló');
      });
    }
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
    await dataSource.query(
      `CREATE TABLE probe.deferred (event_id uuid NOT NULL, pos int NOT NULL, flush int NOT NULL)`,
    );
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

  /** Waits until the deferred work of `ids` has committed; its rows grouped by flush, in order. */
  async function deferredCommitted(ids: string[]): Promise<string[][]> {
    await waitFor(
      async () => {
        const [{ n }] = await dataSource.query(
          `SELECT count(*)::int AS n FROM probe.deferred WHERE event_id = ANY($1)`,
          [ids],
        );
        return n === ids.length;
      },
      { what: 'the deferred work of every event' },
    );
    const rows = await dataSource.query<{ event_id: string; flush: number }[]>(
      `SELECT event_id, flush FROM probe.deferred WHERE event_id = ANY($1) ORDER BY flush, pos`,
      [ids],
    );
    const flushes = new Map<number, string[]>();
    for (const r of rows) flushes.set(r.flush, [...(flushes.get(r.flush) ?? []), r.event_id]);
    return [...flushes.values()];
  }

  it('does the work handlers defer once per shared transaction, with its events in the order consumed', async () => {
    const alertId = newId();
    const events = Array.from({ length: 10 }, () => activation(alertId, 'AR-2026-0105'));
    const ids = events.map((e) => e.eventId);
    for (const id of ids) probe.deferring.add(id);

    await publish(events); // one request: one batch on one partition
    const flushes = await deferredCommitted(ids);
    expect(flushes.flat()).toEqual(ids); // each once, in order
    expect(flushes.length).toBeLessThan(ids.length);
    const effects = await dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM probe.effects WHERE event_id = ANY($1) GROUP BY event_id`,
      [ids],
    );
    expect(effects.map((e) => e.n)).toEqual(ids.map(() => 1));
  });

  it('rolls back a group whose deferred work fails; its events are handled again alone and only the one at fault is dead-lettered', async () => {
    const alertId = newId();
    const events = Array.from({ length: 6 }, () => activation(alertId, 'AR-2026-0106'));
    const ids = events.map((e) => e.eventId);
    for (const id of ids) probe.deferring.add(id);
    const bad = ids[3];
    probe.failFlush.add(bad);
    const good = ids.filter((id) => id !== bad);

    await publish(events);
    const flushes = await deferredCommitted(good);
    await waitFor(
      async () =>
        (await dataSource.query(`SELECT 1 FROM probe.dead_letters WHERE event_id = $1`, [bad])).length === 1,
      { what: 'the event at fault dead-lettered' },
    );
    // Each good event's deferred work and its handler's own write committed once; none of the bad one's.
    expect(flushes.flat()).toEqual(good);
    expect(await dataSource.query(`SELECT 1 FROM probe.deferred WHERE event_id = $1`, [bad])).toEqual([]);
    const effects = await dataSource.query<{ event_id: string; n: number }[]>(
      `SELECT event_id, count(*)::int AS n FROM probe.effects WHERE event_id = ANY($1) GROUP BY event_id`,
      [ids],
    );
    expect(effects.map((e) => e.event_id).sort()).toEqual([...good].sort());
    expect(effects.map((e) => e.n)).toEqual(good.map(() => 1));
    // Alone, it was tried the configured number of times, and the dead letter names the deferred work's error.
    expect(probe.flushes.filter((f) => f.length === 1 && f[0] === bad)).toHaveLength(3);
    const [dead] = await dataSource.query(
      `SELECT error, attempts FROM probe.dead_letters WHERE event_id = $1`,
      [bad],
    );
    expect(dead).toEqual({ error: 'el trabajo diferido falló', attempts: 3 });
  });

  it('handles an event delivered twice within one batch once', async () => {
    const event = activation(newId(), 'AR-2026-0107');
    const marker = activation(event.alertId, 'AR-2026-0107');
    await publish([event, event, marker]);
    await waitFor(async () => probe.handled.includes(marker.eventId), { what: 'the marker' });
    expect(probe.handled.filter((id) => id === event.eventId)).toHaveLength(1);
    expect(
      await dataSource.query(`SELECT attempt FROM probe.effects WHERE event_id = $1`, [event.eventId]),
    ).toEqual([{ attempt: 1 }]);
  });

  it('handles every event of a run whose handlers outlast a group (each group closes after one): none is taken for a redelivery', async () => {
    const alertId = newId();
    const events = Array.from({ length: 8 }, () => activation(alertId, 'AR-2026-0108'));
    const ids = events.map((e) => e.eventId);
    for (const id of ids) probe.slow.add(id);
    await publish(events);
    await waitFor(async () => ids.every((id) => probe.handled.includes(id)), {
      what: 'every slow event',
    });
    expect(probe.handled.filter((id) => ids.includes(id))).toEqual(ids);
    const effects = await dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM probe.effects WHERE event_id = ANY($1) GROUP BY event_id`,
      [ids],
    );
    expect(effects.map((e) => e.n)).toEqual(ids.map(() => 1));
    const [{ rows }] = await dataSource.query(
      `SELECT count(*)::int AS rows FROM probe.inbox WHERE event_id = ANY($1)`,
      [ids],
    );
    expect(rows).toBe(ids.length);
  });
});
