import { randomUUID } from 'crypto';
import { startDisseminationStack } from '../support/dissemination';
import { scrape, sum } from '../support/metrics';
import { PrivateKafka } from '../support/private-kafka';
import { PrivateRedis } from '../support/private-redis';
import { TestStack, minimalFicha, waitFor } from '../support/stack';

const LAG = 'alerta_rosa_kafka_consumer_lag';

async function health(stack: TestStack, service: 'intake' | 'tracker' | 'coordination', path: string) {
  const res = await fetch(`${stack.url(service)}${path}`);
  return { status: res.status, body: (await res.json()) as any };
}

describe('operations: /metrics on the shared broker', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.create();
    await stack.startAll(['intake', 'tracker']);
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  it("shows the tracker's consumer lag rising while the tracker is stopped and falling to zero after it restarts", async () => {
    const group = `${stack.topicPrefix}.alerta-rosa.tracker`;
    const topic = stack.topic('alerts.v1');
    const warm = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha());
    expect(warm.status).toBe(201);
    await stack.timelineWhere(warm.body.id, (e) => e.some((x) => x.type === 'AlertActivated'));
    await waitFor(
      async () => {
        const { samples } = await scrape(stack.url('intake'));
        return (
          samples.some((s) => s.name === LAG && s.labels.group === group) &&
          sum(samples, LAG, { group, topic }) === 0
        );
      },
      { what: 'tracker lag 0 on intake /metrics' },
    );

    await stack.service('tracker').stop();
    for (let i = 0; i < 3; i++) {
      expect(
        (await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 30 + i }))).status,
      ).toBe(201);
    }
    // Intake's own /metrics reports every consumer group of the deployment, so the stopped service's lag shows.
    const rising = await waitFor(
      async () => {
        const { samples } = await scrape(stack.url('intake'));
        const lag = sum(samples, LAG, { group, topic });
        return lag >= 3 ? lag : undefined;
      },
      { what: 'tracker lag ≥ 3 while stopped' },
    );
    expect(rising).toBeGreaterThanOrEqual(3);

    await stack.start('tracker');
    await waitFor(
      async () => {
        const [fromIntake, fromTracker] = await Promise.all([
          scrape(stack.url('intake')),
          scrape(stack.url('tracker')),
        ]);
        return (
          sum(fromIntake.samples, LAG, { group, topic }) === 0 &&
          sum(fromTracker.samples, LAG, { group, topic }) === 0
        );
      },
      { timeoutMs: 40_000, what: 'tracker lag back to 0 after restart' },
    );
  });

  it('exposes HTTP latency, outbox backlog and dead letters, and /health names the latest dead letter', async () => {
    const created = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 41 }));
    expect(created.status).toBe(201);
    const intake = await waitFor(
      async () => {
        const m = await scrape(stack.url('intake'));
        return sum(m.samples, 'alerta_rosa_outbox_backlog') === 0 ? m : undefined;
      },
      { what: 'intake outbox drained' },
    );
    expect(intake.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(
      sum(intake.samples, 'alerta_rosa_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/v1/alerts',
        status_code: '201',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(sum(intake.samples, 'alerta_rosa_outbox_oldest_unpublished_age_seconds')).toBe(0);
    expect(sum(intake.samples, 'alerta_rosa_alerts', { status: 'active' })).toBeGreaterThanOrEqual(1);
    expect(sum(intake.samples, 'alerta_rosa_dependency_up', { dependency: 'kafka' })).toBe(1);
    expect(sum(intake.samples, 'alerta_rosa_dependency_up', { dependency: 'postgres' })).toBe(1);
    // Ids never become label values: the route pattern is used.
    expect(intake.text).not.toContain(created.body.id);

    const before = (await health(stack, 'tracker', '/health')).body.deadLetters.count as number;
    const producer = stack.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: stack.topic('alerts.v1'),
      messages: [{ key: randomUUID(), value: '{not json' }],
    });
    await producer.disconnect();

    const dead = await waitFor(
      async () => {
        const { samples } = await scrape(stack.url('tracker'));
        const n = sum(samples, 'alerta_rosa_dead_letters', {
          consumer: 'alerta-rosa.tracker',
          topic: 'alerts.v1', // logical topic, as the dead_letters table keeps it
        });
        // Each gauge reads the table on its own during a scrape: wait for a scrape in which both saw it.
        const latest = sum(samples, 'alerta_rosa_dead_letter_last_timestamp_seconds', {
          consumer: 'alerta-rosa.tracker',
        });
        return n >= before + 1 && latest > 0 ? samples : undefined;
      },
      { what: 'dead letter on tracker /metrics' },
    );
    expect(
      sum(dead, 'alerta_rosa_dead_letter_last_timestamp_seconds', { consumer: 'alerta-rosa.tracker' }),
    ).toBeGreaterThan(Date.now() / 1000 - 600);
    const h = await health(stack, 'tracker', '/health');
    expect(h.status).toBe(200);
    expect(h.body.deadLetters.count).toBe(before + 1);
    expect(h.body.deadLetters.latest).toMatchObject({
      consumer: 'alerta-rosa.tracker',
      topic: 'alerts.v1',
    });
    expect(h.body.consumer.state).toBe('running');
  });
});

describe('operations: outcome metrics after an alert life on the sandboxes', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // A loaded machine (other suites running) must not make a collector time out.
    stack = await TestStack.create({ env: { METRICS_COLLECT_TIMEOUT_MS: '20000' } });
    // Sandboxes speaking the platforms' protocols, so dissemination really posts and withdraws.
    await startDisseminationStack(stack, {
      services: ['intake', 'dissemination', 'tracker', 'coordination'],
    });
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  it("every service's /metrics carries its own figures, equal to its tables, and no collector fails", async () => {
    const created = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 52 }));
    expect(created.status).toBe(201);
    const alertId: string = created.body.id;
    const posted = async () =>
      Number(
        (
          await stack.query<{ n: string }>(
            `SELECT count(*) AS n FROM dissemination.publications WHERE alert_id = $1 AND status = 'posted'`,
            [alertId],
          )
        )[0].n,
      );
    await waitFor(async () => (await posted()) === 30, { timeoutMs: 60_000, what: '30 posts' });
    expect(
      (
        await stack.http('intake', 'POST', `/api/v1/alerts/${alertId}/deactivate`, {
          outcome: 'localizada_con_vida',
        })
      ).status,
    ).toBe(200);
    await waitFor(
      async () =>
        (
          await stack.query(
            `SELECT 1 FROM dissemination.alert_withdrawals WHERE alert_id = $1 AND completed_at IS NOT NULL`,
            [alertId],
          )
        ).length === 1,
      { timeoutMs: 60_000, what: 'withdrawal completed' },
    );

    // Each outcome gauge equals its table. Work goes on meanwhile (mails sent, tasks cancelled, the
    // located notice posted), so each comparison waits until a scrape and a query agree.
    const agrees = (
      service: 'dissemination' | 'coordination',
      metric: string,
      sql: string,
      labels: string[],
    ) => {
      let last = '';
      return waitFor(
        async () => {
          const { samples } = await scrape(stack.url(service));
          const rows = await stack.query<Record<string, unknown>>(sql);
          const key = (r: Record<string, unknown>) => labels.map((l) => String(r[l])).join('|');
          const table = Object.fromEntries(rows.map((r) => [key(r), Number(r.n)]));
          const gauge = Object.fromEntries(
            samples.filter((x) => x.name === metric).map((x) => [key(x.labels), x.value]),
          );
          last = JSON.stringify({ table, gauge });
          const same = (a: Record<string, number>, b: Record<string, number>) =>
            JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
          return rows.length > 0 && same(table, gauge) ? samples : undefined;
        },
        { what: `${metric} equal to its table` },
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${last}`);
      });
    };
    const d = await agrees(
      'dissemination',
      'alerta_rosa_publications',
      `SELECT a.platform, p.kind, p.status, count(*)::int AS n FROM dissemination.publications p
       JOIN dissemination.accounts a ON a.id = p.account_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      ['platform', 'kind', 'status'],
    );
    expect(
      sum(d, 'alerta_rosa_publications', { kind: 'activation', status: 'posted' }),
    ).toBeGreaterThanOrEqual(30);
    await agrees(
      'dissemination',
      'alerta_rosa_withdrawals',
      `SELECT a.platform, w.status, count(*)::int AS n FROM dissemination.withdrawals w
       JOIN dissemination.accounts a ON a.id = w.account_id GROUP BY 1, 2 ORDER BY 1, 2`,
      ['platform', 'status'],
    );
    const accounts = new Set(
      d.filter((x) => x.name === 'alerta_rosa_account_queue_jobs').map((x) => x.labels.account),
    );
    expect(accounts.size).toBe(30);

    await waitFor(
      async () =>
        sum((await scrape(stack.url('coordination'))).samples, 'alerta_rosa_mails', { kind: 'stand_down' }) >
        0,
      { what: 'stand-down mails counted' },
    );
    await agrees(
      'coordination',
      'alerta_rosa_mails',
      `SELECT kind, status, count(*)::int AS n FROM coordination.mails GROUP BY 1, 2 ORDER BY 1, 2`,
      ['kind', 'status'],
    );
    const c = await agrees(
      'coordination',
      'alerta_rosa_tasks',
      `SELECT state, count(*)::int AS n FROM coordination.tasks GROUP BY 1 ORDER BY 1`,
      ['state'],
    );
    const queues = new Set(c.filter((s) => s.name === 'alerta_rosa_queue_jobs').map((s) => s.labels.queue));
    expect([...queues].sort()).toEqual([
      'coordination-escalation',
      'coordination-mail',
      'coordination-progress',
    ]);
    expect(sum(c, 'alerta_rosa_dependency_up', { dependency: 'redis' })).toBe(1);

    for (const service of ['intake', 'dissemination', 'coordination', 'tracker'] as const) {
      const { samples } = await scrape(stack.url(service));
      expect({ service, failures: sum(samples, 'alerta_rosa_metric_collect_failures_total') }).toEqual({
        service,
        failures: 0,
      });
      expect({ service, labelled: samples.every((s) => s.labels.service === service) }).toEqual({
        service,
        labelled: true,
      });
    }
  });
});

describe('operations: /health/ready follows Kafka (private broker)', () => {
  let kafka: PrivateKafka;
  let stack: TestStack;

  beforeAll(async () => {
    kafka = await PrivateKafka.create();
    stack = await TestStack.create({ brokers: kafka.brokers });
    await stack.startAll(['intake']);
  });

  afterAll(async () => {
    await stack?.teardown();
    await kafka?.destroy();
  });

  it('turns not-ready when Kafka stops and ready again when it returns, while /health/live stays alive', async () => {
    const ready = await health(stack, 'intake', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ready',
      checks: { postgres: { ok: true }, kafka: { ok: true } },
    });
    expect(ready.body.checks.redis).toBeUndefined(); // intake does not use Redis

    await kafka.stop();
    const down = await waitFor(
      async () => {
        const r = await health(stack, 'intake', '/health/ready');
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'not ready without Kafka' },
    );
    expect(down.body).toMatchObject({
      status: 'not_ready',
      checks: { postgres: { ok: true }, kafka: { ok: false } },
    });
    expect((await health(stack, 'intake', '/health/live')).status).toBe(200);
    expect((await health(stack, 'intake', '/health')).status).toBe(200);
    const m = await scrape(stack.url('intake'));
    expect(sum(m.samples, 'alerta_rosa_dependency_up', { dependency: 'kafka' })).toBe(0);

    await kafka.start();
    const back = await waitFor(
      async () => {
        const r = await health(stack, 'intake', '/health/ready');
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 60_000, what: 'ready again with Kafka back' },
    );
    expect(back.body.checks.kafka.ok).toBe(true);
  });
});

describe('operations: /health/ready follows Redis where the service uses it (private Redis)', () => {
  let redis: PrivateRedis;
  let stack: TestStack;

  beforeAll(async () => {
    redis = await PrivateRedis.create();
    stack = await TestStack.create({ env: { REDIS_URL: redis.url } });
    await stack.startAll(['coordination']);
  });

  afterAll(async () => {
    await stack?.teardown();
    await redis?.stop();
  });

  it('coordination is not ready while its Redis is down and ready again once it answers', async () => {
    const ready = await health(stack, 'coordination', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.redis.ok).toBe(true);
    const m = await scrape(stack.url('coordination'));
    expect(sum(m.samples, 'alerta_rosa_queue_jobs', { queue: 'coordination-mail', state: 'waiting' })).toBe(
      0,
    );

    await redis.stop();
    const down = await waitFor(
      async () => {
        const r = await health(stack, 'coordination', '/health/ready');
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'not ready without Redis' },
    );
    expect(down.body.checks).toMatchObject({
      redis: { ok: false },
      postgres: { ok: true },
      kafka: { ok: true },
    });

    await redis.start();
    await waitFor(async () => (await health(stack, 'coordination', '/health/ready')).status === 200, {
      timeoutMs: 30_000,
      what: 'ready again with Redis back',
    });
  });
});
