import { PrivateKafka } from '../support/private-kafka';
import { TestStack, minimalFicha } from '../support/stack';

/** Kafka goes away while the Unidad de Género keeps activating alerts: nothing may be lost. */
describe('outbox while Kafka is down', () => {
  let kafka: PrivateKafka;
  let stack: TestStack;

  beforeAll(async () => {
    kafka = await PrivateKafka.create();
    stack = await TestStack.create({ brokers: kafka.brokers });
    await stack.startAll();
  });

  afterAll(async () => {
    await stack?.teardown();
    await kafka?.destroy();
  });

  it('accepts activations with the broker stopped and delivers them once each, in order, when it returns', async () => {
    const warm = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha());
    await stack.timelineWhere(
      warm.body.id,
      (e) => e.filter((x) => x.type === 'AlertEventReceived').length === 2,
    );

    await kafka.stop();

    const created: { id: string; folio: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 20 + i }));
      expect(res.status).toBe(201);
      created.push(res.body);
    }
    const update = await stack.http('intake', 'PATCH', `/api/v1/alerts/${created[0].id}`, {
      description: 'Vestía sudadera gris',
    });
    expect(update.status).toBe(200);

    const waiting = await stack.query<{ n: string }>(
      `SELECT count(*) AS n FROM intake.outbox WHERE published_at IS NULL`,
    );
    expect(Number(waiting[0].n)).toBe(4);

    await kafka.start();

    for (const alert of created) {
      await stack.timelineWhere(
        alert.id,
        (e) => e.filter((x) => x.type === 'AlertEventReceived').length >= 2,
        60_000,
      );
    }
    const first = await stack.timelineWhere(
      created[0].id,
      (e) => e.filter((x) => x.type === 'AlertEventReceived').length >= 4,
      60_000,
    );

    // Once each: one tracker inbox row per event, one timeline entry per event.
    const perEvent = await stack.query<{ event_id: string; n: string }>(
      `SELECT event_id, count(*) AS n FROM tracker.inbox GROUP BY event_id HAVING count(*) > 1`,
    );
    expect(perEvent).toEqual([]);
    for (const alert of created) {
      const t = (await stack.http('tracker', 'GET', `/api/v1/alerts/${alert.id}/timeline`)).body;
      expect(t.entries.filter((e: any) => e.type === 'AlertActivated')).toHaveLength(1);
      expect(t.folio).toBe(alert.folio);
    }
    // In order: the alert's activation before its update, at the tracker and at both workers.
    const versions = first.entries.filter((e: any) => e.source === 'intake').map((e: any) => e.alertVersion);
    expect(versions).toEqual([1, 2]);
    for (const consumer of ['alerta-rosa.dissemination', 'alerta-rosa.coordination']) {
      const seen = first.entries
        .filter((e: any) => e.details.consumer === consumer)
        .map((e: any) => e.alertVersion);
      expect({ consumer, seen }).toEqual({ consumer, seen: [1, 2] });
    }
    // And the relay published the outbox in the order it was written.
    const published = await stack.query<{ id: string; published_at: Date }>(
      `SELECT id, published_at FROM intake.outbox ORDER BY id`,
    );
    expect(published.every((r) => r.published_at !== null)).toBe(true);
    const times = published.map((r) => r.published_at.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});
