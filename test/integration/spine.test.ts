import { TestStack, minimalFicha, sleep, waitFor } from '../support/stack';

const RECEIPT = 'AlertEventReceived';

describe('event spine: intake → Kafka → dissemination, coordination, tracker', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.create();
    await stack.startAll();
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  it('delivers an activation to all three consumer groups exactly once and shows it on the timeline', async () => {
    const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha());
    expect(res.status).toBe(201);
    expect(res.body.folio).toMatch(/^AR-\d{4}-\d{4}$/);
    const alertId: string = res.body.id;

    const timeline = await stack.timelineWhere(
      alertId,
      (entries) => entries.filter((e) => e.type === RECEIPT).length >= 2,
    );
    await sleep(1_000); // a duplicate delivery would land in this window
    const again = (await stack.http('tracker', 'GET', `/api/v1/alerts/${alertId}/timeline`)).body;

    const activations = again.entries.filter((e: any) => e.type === 'AlertActivated');
    expect(activations).toHaveLength(1);
    expect(activations[0].label).toBe('Alerta activada');
    expect(activations[0].details.folio).toBe(res.body.folio);
    const receipts = again.entries.filter((e: any) => e.type === RECEIPT);
    expect(receipts.map((r: any) => r.details.consumer).sort()).toEqual([
      'alerta-rosa.coordination',
      'alerta-rosa.dissemination',
    ]);
    expect(receipts.every((r: any) => r.details.receivedEventId === activations[0].eventId)).toBe(true);
    expect(timeline.folio).toBe(res.body.folio);

    const eventId = activations[0].eventId;
    for (const schema of ['dissemination', 'coordination', 'tracker']) {
      const rows = await stack.query(`SELECT consumer FROM ${schema}.inbox WHERE event_id = $1`, [eventId]);
      expect({ schema, rows: rows.length }).toEqual({ schema, rows: 1 });
    }
    // Nothing of the ficha's personal data travels to the timeline.
    expect(JSON.stringify(again)).not.toContain('Ana Martínez');
  });

  it('consumes ten updates of one alert in the order they were made', async () => {
    const created = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 30 }));
    expect(created.status).toBe(201);
    const alertId = created.body.id;
    for (let i = 1; i <= 10; i++) {
      const upd = await stack.http('intake', 'PATCH', `/api/v1/alerts/${alertId}`, {
        description: `Actualización número ${i}`,
      });
      expect(upd.status).toBe(200);
      expect(upd.body.version).toBe(i + 1);
    }
    const timeline = await stack.timelineWhere(
      alertId,
      (entries) => entries.filter((e) => e.type === 'AlertUpdated').length === 10,
    );
    const versions = timeline.entries
      .filter((e: any) => e.source === 'intake')
      .map((e: any) => e.alertVersion);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(timeline.version).toBe(11);

    // Each worker saw them in the same order too (its receipts are recorded in consumption order).
    for (const consumer of ['alerta-rosa.dissemination', 'alerta-rosa.coordination']) {
      const done = await stack.timelineWhere(
        alertId,
        (entries) => entries.filter((e) => e.details.consumer === consumer).length === 11,
      );
      const seen = done.entries
        .filter((e: any) => e.details.consumer === consumer)
        .map((e: any) => e.alertVersion);
      expect({ consumer, seen }).toEqual({ consumer, seen: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] });
    }
  });

  it('sends a malformed message to the DLQ with its error and processes the next one on that partition', async () => {
    const good = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 19 }));
    const alertId = good.body.id;
    await stack.timelineWhere(alertId, (e) => e.filter((x) => x.type === RECEIPT).length === 2);

    // Same key as the alert ⇒ same partition as its events.
    const producer = stack.kafka.producer();
    await producer.connect();
    const [garbage] = await producer.send({
      topic: stack.topic('alerts.v1'),
      messages: [{ key: alertId, value: '{"this is": not json' }],
    });
    await sleep(200);
    const upd = await stack.http('intake', 'PATCH', `/api/v1/alerts/${alertId}`, { age: 20 });
    expect(upd.status).toBe(200);
    await producer.disconnect();

    const timeline = await stack.timelineWhere(
      alertId,
      (e) => e.some((x) => x.type === 'AlertUpdated') && e.filter((x) => x.type === RECEIPT).length === 4,
    );
    expect(timeline.version).toBe(2);

    const dead = await stack.readTopic(stack.topic('alerts.v1.dlq'), { expect: 3 });
    // Each of the three consumer groups dead-letters it once.
    expect(dead).toHaveLength(3);
    for (const d of dead) {
      expect(d.partition).toBe(garbage.partition);
      expect(d.message.key?.toString()).toBe(alertId);
      expect(d.message.value?.toString()).toBe('{"this is": not json');
      expect(d.message.headers?.['dlq-error']?.toString()).toMatch(/^not_json: value is not JSON/);
      expect(d.message.headers?.['dlq-original-offset']?.toString()).toBe(garbage.baseOffset);
    }
    expect(dead.map((d) => d.message.headers?.['dlq-consumer']?.toString()).sort()).toEqual([
      'alerta-rosa.coordination',
      'alerta-rosa.dissemination',
      'alerta-rosa.tracker',
    ]);
    const recorded = await stack.query(`SELECT error FROM tracker.dead_letters`);
    expect(recorded).toHaveLength(1);
  });

  it('dead-letters an event whose payload breaks its schema, and keeps nothing of it', async () => {
    const producer = stack.kafka.producer();
    await producer.connect();
    const alertId = '01930000-0000-7000-8000-000000000001';
    await producer.send({
      topic: stack.topic('alerts.v1'),
      messages: [
        {
          key: alertId,
          value: JSON.stringify({
            eventId: '01930000-0000-7000-8000-0000000000aa',
            type: 'AlertActivated',
            schemaVersion: 1,
            occurredAt: new Date().toISOString(),
            alertId,
            correlationId: '01930000-0000-7000-8000-0000000000aa',
            causationId: null,
            producer: 'intake',
            payload: { folio: 'AR-2026-9999', version: 'one' },
          }),
        },
      ],
    });
    await producer.disconnect();
    await waitFor(
      async () =>
        (await stack.query(`SELECT 1 FROM tracker.dead_letters WHERE error LIKE 'bad_payload%'`)).length ===
        1,
      { what: 'bad payload dead-lettered' },
    );
    const res = await stack.http('tracker', 'GET', `/api/v1/alerts/${alertId}/timeline`);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('ALERT_NOT_FOUND');
  });

  it('shows the timeline only to the Unidad de Género, the comité and administration', async () => {
    const created = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 50 }));
    await stack.timelineWhere(created.body.id, (e) => e.length > 0);
    const path = `/api/v1/alerts/${created.body.id}/timeline`;
    expect(await stack.http('tracker', 'GET', path, undefined, { authorization: '' })).toMatchObject({
      status: 401,
      body: { code: 'UNAUTHENTICATED' },
    });
    const area = await stack.http('tracker', 'GET', path, undefined, stack.bearer('area', { areaId: 'c4' }));
    expect(area).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    for (const role of ['operadora', 'comite', 'admin'] as const) {
      expect((await stack.http('tracker', 'GET', path, undefined, stack.bearer(role))).status).toBe(200);
    }
  });

  it('answers health checks of every service', async () => {
    for (const name of ['intake', 'dissemination', 'coordination', 'tracker'] as const) {
      const res = await stack.http(name, 'GET', '/health');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok', service: name, outboxRelayLeader: true });
      // Every service reports its Kafka consumer (intake consumes the tracker's closure decisions).
      expect(res.body.consumer).toMatchObject({ state: 'running' });
    }
  });
});
