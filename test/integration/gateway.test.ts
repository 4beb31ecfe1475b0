import { physicalTopic } from '@alerta-rosa/contracts';
import { createEnvelope } from '@alerta-rosa/contracts';
import { SseClient } from '../support/sse';
import { TestStack, minimalFicha, waitFor } from '../support/stack';

/**
 * The console's one origin (apps/gateway) on the real stack: API paths reach the service that owns
 * them, events committed in a service reach an open stream, streams need a single-use ticket and end
 * with the session, tracking.v1 is joined once it exists.
 */
describe('gateway: one origin for the console, its APIs and live events', () => {
  let stack: TestStack;
  let gw: string;

  beforeAll(async () => {
    stack = await TestStack.create();
    await stack.startAll(['intake', 'tracker']);
    await stack.startGateway({ SSE_PING_MS: '1000', TOPIC_RECHECK_MS: '1000' });
    gw = stack.url('gateway');
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  const bearer = (role: Parameters<TestStack['token']>[0], ttlSeconds?: number) => ({
    authorization: `Bearer ${stack.token(role, { ttlSeconds })}`,
  });

  async function ticket(headers: Record<string, string>, body: unknown = {}) {
    const res = await fetch(`${gw}/api/v1/stream-tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  it('serves the console with an index fallback and proxies each API to its service', async () => {
    const page = await fetch(`${gw}/alertas/nueva`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<div id="root">');
    expect((await fetch(`${gw}/assets/missing-chunk.js`)).status).toBe(404);

    const created = await stack.http(
      'gateway',
      'POST',
      '/api/v1/alerts',
      minimalFicha(),
      bearer('operadora'),
    );
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const read = await stack.http('gateway', 'GET', `/api/v1/alerts/${id}`, undefined, bearer('comite'));
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toMatch(/^"r\d+"$/);
    const timeline = await waitFor(
      async () => {
        const r = await stack.http(
          'gateway',
          'GET',
          `/api/v1/alerts/${id}/timeline`,
          undefined,
          bearer('comite'),
        );
        return r.status === 200 ? r : undefined;
      },
      { what: 'the timeline through the gateway' },
    );
    expect(timeline.body.entries[0].type).toBe('AlertActivated');
    const found = await stack.http(
      'gateway',
      'GET',
      '/api/v1/municipalities?q=huajuapan',
      undefined,
      bearer('operadora'),
    );
    expect(found.body.items[0].name).toContain('Huajuapan');
    expect((await stack.http('gateway', 'GET', '/api/v1/municipalities?q=oaxaca')).status).toBe(401);
    expect(
      (await stack.http('gateway', 'GET', '/api/v1/municipalities?q=', undefined, bearer('operadora'))).body
        .code,
    ).toBe('VALIDATION_FAILED');
    // The API refuses what the role may not do, through the gateway as directly.
    expect((await stack.http('gateway', 'GET', '/api/v1/users', undefined, bearer('operadora'))).status).toBe(
      403,
    );
    expect(
      (await stack.http('gateway', 'GET', '/api/v1/dead-letters/intake', undefined, bearer('admin'))).body,
    ).toMatchObject({
      service: 'intake',
      total: 0,
    });
    expect(
      (await stack.http('gateway', 'GET', '/api/v1/dead-letters/tracker', undefined, bearer('operadora')))
        .status,
    ).toBe(403);
    // A service that is down: a clear 502 in Spanish, not a hang.
    const down = await stack.http('gateway', 'GET', '/api/v1/tasks', undefined, bearer('operadora'));
    expect(down.status).toBe(502);
    expect(down.body).toEqual({
      code: 'UPSTREAM_UNAVAILABLE',
      message: 'El servicio de coordinación no está disponible.',
    });
  });

  it('pushes an event committed in intake to an open stream, uncompressed, with pings', async () => {
    const created = await stack.http(
      'gateway',
      'POST',
      '/api/v1/alerts',
      { ...minimalFicha(), activate: false },
      bearer('operadora'),
    );
    const id = created.body.id as string;
    const t = await ticket(bearer('operadora'), { alertId: id });
    expect(t.status).toBe(201);
    const stream = await SseClient.open(`${gw}${t.body.url}`, { 'accept-encoding': 'gzip, br' });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    expect(stream.headers.get('x-accel-buffering')).toBe('no');
    expect(stream.headers.get('content-encoding')).toBeNull();
    await waitFor(async () => stream.frames.some((f) => f.event === 'ready'), { what: 'ready' });
    // Another alert's events do not reach this alert's stream.
    await stack.http('gateway', 'POST', '/api/v1/alerts', minimalFicha({ age: 40 }), bearer('operadora'));
    const activated = await stack.http(
      'gateway',
      'POST',
      `/api/v1/alerts/${id}/activate`,
      undefined,
      bearer('operadora'),
    );
    expect(activated.status).toBe(200);
    const [event] = await waitFor(async () => (stream.messages().length ? stream.messages() : undefined), {
      what: 'AlertActivated on the stream',
    });
    expect(event).toMatchObject({
      type: 'AlertActivated',
      topic: 'alerts.v1',
      alertId: id,
      data: { folio: activated.body.folio },
    });
    expect(JSON.stringify(event)).not.toContain('Ana Martínez');
    await waitFor(async () => stream.comments.includes('ping'), { what: 'a ping comment' });
    expect(stream.messages().every((m) => m.alertId === id)).toBe(true);
    stream.close();
  });

  it('opens a stream only with a fresh, single-use ticket for the right alert and role', async () => {
    const id = (
      await stack.http('gateway', 'POST', '/api/v1/alerts', minimalFicha({ age: 33 }), bearer('operadora'))
    ).body.id;
    expect((await ticket({})).status).toBe(401);
    expect((await ticket(bearer('area'), { alertId: id })).status).toBe(403);
    expect((await ticket(bearer('operadora'), { alertId: 'nope' })).body.code).toBe('VALIDATION_FAILED');
    const none = await SseClient.open(`${gw}/api/v1/alerts/${id}/stream`);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).code).toBe('STREAM_TICKET_INVALID');
    const t = (await ticket(bearer('comite'), { alertId: id })).body;
    const first = await SseClient.open(`${gw}${t.url}`);
    expect(first.status).toBe(200);
    const again = await SseClient.open(`${gw}${t.url}`);
    expect(again.status).toBe(401);
    expect(JSON.parse(again.body).code).toBe('STREAM_TICKET_USED');
    first.close();
    const other = (await ticket(bearer('comite'), { alertId: id })).body.ticket as string;
    const wrong = await SseClient.open(`${gw}/api/v1/stream?ticket=${encodeURIComponent(other)}`);
    expect(wrong.status).toBe(403);
    expect(JSON.parse(wrong.body).code).toBe('STREAM_SCOPE_MISMATCH');
  });

  it('ends a stream when the access token it was opened with expires', async () => {
    const t = (await ticket(bearer('operadora', 3))).body;
    const stream = await SseClient.open(`${gw}${t.url}`);
    expect(stream.status).toBe(200);
    await waitFor(async () => stream.ended, { timeoutMs: 15_000, what: 'the stream to end' });
    const events = stream.frames.map((f) => f.event);
    expect(events[0]).toBe('ready');
    expect(events[events.length - 1]).toBe('expired');
  });

  it('shows an area user only its own tasks on the live list, and joins tracking.v1 once it exists', async () => {
    const area = await SseClient.open(`${gw}${(await ticket(bearer('area'))).body.url}`);
    const ops = await SseClient.open(`${gw}${(await ticket(bearer('operadora'))).body.url}`);
    await waitFor(async () => area.frames.length > 0 && ops.frames.length > 0, {
      what: 'both streams ready',
    });
    const alertId = (
      await stack.http('gateway', 'POST', '/api/v1/alerts', minimalFicha({ age: 29 }), bearer('operadora'))
    ).body.id;
    // The tracker's topic, created later (as the tracker will), carries an AlertClosed.
    const topic = physicalTopic(stack.topicPrefix, 'tracking.v1');
    await stack.admin((a) => a.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }));
    const producer = stack.kafka.producer();
    await producer.connect();
    const closed = createEnvelope({
      type: 'AlertClosed',
      alertId,
      producer: 'tracker',
      payload: {
        folio: 'AR-2026-0099',
        outcome: 'localizada_con_vida',
        deactivatedAt: new Date().toISOString(),
        closedAt: new Date().toISOString(),
      },
    });
    const foreign = createEnvelope({
      type: 'TaskAssigned',
      alertId,
      producer: 'coordination',
      payload: { taskId: closed.eventId, areaId: 'policia-vial', folio: 'AR-2026-0099', stepId: 's' },
    });
    await producer.send({
      topic: physicalTopic(stack.topicPrefix, 'tasks.v1'),
      messages: [{ key: alertId, value: JSON.stringify(foreign) }],
    });
    // Produce until the gateway has joined the new topic (it looks every TOPIC_RECHECK_MS).
    await waitFor(
      async () => {
        await producer.send({ topic, messages: [{ key: alertId, value: JSON.stringify({ ...closed }) }] });
        return ops.messages().some((m) => m.type === 'AlertClosed');
      },
      { timeoutMs: 30_000, intervalMs: 1_000, what: 'AlertClosed from tracking.v1' },
    );
    await waitFor(async () => area.messages().some((m) => m.type === 'AlertClosed'), {
      what: 'AlertClosed for the area user',
    });
    await producer.disconnect();
    expect(ops.messages().some((m) => m.type === 'TaskAssigned' && m.data.areaId === 'policia-vial')).toBe(
      true,
    );
    // The area user (c4) never sees another area's task, nor an alert's publications.
    expect(area.messages().some((m) => m.type === 'TaskAssigned')).toBe(false);
    area.close();
    ops.close();
  });
});
