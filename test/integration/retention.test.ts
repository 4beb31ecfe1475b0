import { randomUUID } from 'crypto';
import { scrape, sum } from '../support/metrics';
import { distinctivePrivatePart } from '../support/private-ficha';
import { TestStack, minimalFicha, waitFor } from '../support/stack';

const PRIVATE_PART = distinctivePrivatePart('RET');

const SCHEMAS = ['intake', 'dissemination', 'coordination', 'tracker'] as const;

describe('retention on the real PostgreSQL', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.create({ env: { RETENTION_SWEEP_INTERVAL_SECONDS: '1' } });
    await stack.startAll();
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  it('purges outbox, inbox and dead-letter rows older than their configured ages in every service, never an unpublished outbox row', async () => {
    const parkedTopic = stack.topic('alerts.v1.dlq'); // no consumer reads it; the relay may publish there
    const ids: Record<string, Record<string, string>> = {};
    for (const schema of SCHEMAS) {
      const e = () => randomUUID();
      const rows = {
        outboxOld: e(),
        outboxRecent: e(),
        outboxUnpublished: e(),
        inboxOld: e(),
        inboxRecent: e(),
      };
      ids[schema] = rows;
      const insertOutbox = (eventId: string, createdHoursAgo: number, publishedHoursAgo: number | null) =>
        stack.query(
          `INSERT INTO ${schema}.outbox (event_id, topic, message_key, event_type, payload, created_at, published_at)
           VALUES ($1, $2, $3, 'RetentionProbe', '{}', now() - make_interval(hours => $4),
                   CASE WHEN $5::int IS NULL THEN NULL ELSE now() - make_interval(hours => $5::int) END)`,
          [eventId, parkedTopic, randomUUID(), createdHoursAgo, publishedHoursAgo],
        );
      await insertOutbox(rows.outboxOld, 200, 200); // default RETENTION_OUTBOX_HOURS = 168
      await insertOutbox(rows.outboxRecent, 2, 2);
      await insertOutbox(rows.outboxUnpublished, 1000, null);
      const insertInbox = (eventId: string, hoursAgo: number) =>
        stack.query(
          `INSERT INTO ${schema}.inbox (consumer, event_id, event_type, alert_id, topic, kafka_partition, kafka_offset, processed_at)
           VALUES ('retention-probe', $1, 'RetentionProbe', $2, 'alerts.v1', 0, 0, now() - make_interval(hours => $3))`,
          [eventId, randomUUID(), hoursAgo],
        );
      await insertInbox(rows.inboxOld, 800); // default RETENTION_INBOX_HOURS = 720
      await insertInbox(rows.inboxRecent, 10);
      const insertDeadLetter = (offset: number, hoursAgo: number) =>
        stack.query(
          `INSERT INTO ${schema}.dead_letters (consumer, topic, source_topic, kafka_partition, kafka_offset, error, attempts, dead_lettered_at)
           VALUES ('retention-probe', 'alerts.v1', 'alerts.v1', 0, $1, 'probe', 1, now() - make_interval(hours => $2))`,
          [offset, hoursAgo],
        );
      await insertDeadLetter(1, 3000); // default RETENTION_DEAD_LETTERS_HOURS = 2160
      await insertDeadLetter(2, 100);
    }

    for (const schema of SCHEMAS) {
      const rows = ids[schema];
      await waitFor(
        async () => {
          const [o] = await stack.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${schema}.outbox WHERE event_id = $1`,
            [rows.outboxOld],
          );
          const [i] = await stack.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${schema}.inbox WHERE event_id = $1`,
            [rows.inboxOld],
          );
          const [d] = await stack.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${schema}.dead_letters WHERE consumer = 'retention-probe' AND kafka_offset = 1`,
          );
          return o.n === '0' && i.n === '0' && d.n === '0';
        },
        { what: `old rows of ${schema} purged` },
      );
      const kept = await stack.query<{ what: string }>(
        `SELECT 'outbox:' || event_id AS what FROM ${schema}.outbox WHERE event_id = ANY($1::uuid[])
         UNION ALL SELECT 'inbox:' || event_id FROM ${schema}.inbox WHERE event_id = ANY($1::uuid[])
         UNION ALL SELECT 'dead_letter:' || kafka_offset FROM ${schema}.dead_letters WHERE consumer = 'retention-probe'`,
        [[rows.outboxRecent, rows.outboxUnpublished, rows.inboxRecent]],
      );
      expect({ schema, kept: kept.map((k) => k.what).sort() }).toEqual({
        schema,
        kept: [
          'dead_letter:2',
          `inbox:${rows.inboxRecent}`,
          `outbox:${rows.outboxRecent}`,
          `outbox:${rows.outboxUnpublished}`,
        ].sort(),
      });
      const { samples } = await scrape(stack.url(schema));
      for (const table of ['outbox', 'inbox', 'dead_letters']) {
        expect({
          schema,
          table,
          n: sum(samples, 'alerta_rosa_retention_deleted_rows_total', { table }) >= 1,
        }).toEqual({
          schema,
          table,
          n: true,
        });
      }
    }
  });

  it('empties the private part of an alert closed longer ago than PRIVATE_DATA_RETENTION_DAYS, audited, and keeps its figures', async () => {
    const admin = stack.bearer('admin');
    const create = async (age: number) => {
      const res = await stack.http('intake', 'POST', '/api/v1/alerts', {
        ...minimalFicha({ age }),
        private: PRIVATE_PART,
      });
      expect(res.status).toBe(201);
      return res.body as { id: string; folio: string };
    };
    const closeAlert = async (id: string) => {
      expect(
        (
          await stack.http('intake', 'POST', `/api/v1/alerts/${id}/deactivate`, {
            outcome: 'localizada_con_vida',
          })
        ).status,
      ).toBe(200);
      const closed = await stack.http(
        'intake',
        'POST',
        `/api/v1/alerts/${id}/close`,
        { reason: 'Prueba de retención: cierre administrativo' },
        admin,
      );
      expect(closed.status).toBe(200);
    };
    const old = await create(27);
    const recent = await create(28);
    const active = await create(29);
    await closeAlert(old.id);
    await closeAlert(recent.id);
    await stack.timelineWhere(old.id, (e) => e.some((x) => x.type === 'AlertDeactivated'));
    const timelineBefore = (await stack.http('tracker', 'GET', `/api/v1/alerts/${old.id}/timeline`)).body;

    // 91 days have passed since the first one was closed (default retention: 90 days).
    await stack.query(`UPDATE intake.alerts SET closed_at = closed_at - interval '91 days' WHERE id = $1`, [
      old.id,
    ]);

    const purged = await waitFor(
      async () => {
        const res = await stack.http('intake', 'GET', `/api/v1/alerts/${old.id}/private`, undefined, admin);
        return res.body.purgedAt ? res.body : undefined;
      },
      { what: 'private part purged' },
    );
    expect(purged.private).toEqual({});

    const audit = await stack.query<{ actor_id: string; details: any }>(
      `SELECT actor_id, details FROM intake.audit_log WHERE alert_id = $1 AND action = 'alert.private.purged'`,
      [old.id],
    );
    expect(audit).toHaveLength(1);
    expect(audit[0].actor_id).toBe('retention');
    expect(audit[0].details.fields).toEqual(Object.keys(PRIVATE_PART).sort());
    expect(audit[0].details.retentionDays).toBe(90);
    const stored =
      JSON.stringify(await stack.query(`SELECT * FROM intake.alert_private WHERE alert_id = $1`, [old.id])) +
      JSON.stringify(await stack.query(`SELECT details FROM intake.audit_log WHERE alert_id = $1`, [old.id]));
    for (const value of Object.values(PRIVATE_PART).flat()) expect(stored).not.toContain(value);

    // The figures stay: the public alert, its lifecycle times and outcome, and the tracker's timeline.
    const alert = (await stack.http('intake', 'GET', `/api/v1/alerts/${old.id}`)).body;
    expect(alert).toMatchObject({ folio: old.folio, status: 'closed', outcome: 'localizada_con_vida' });
    expect(alert.activatedAt).toBeTruthy();
    expect(alert.deactivatedAt).toBeTruthy();
    const timelineAfter = (await stack.http('tracker', 'GET', `/api/v1/alerts/${old.id}/timeline`)).body;
    expect(timelineAfter.entries.length).toBeGreaterThanOrEqual(timelineBefore.entries.length);
    expect(timelineAfter.entries.slice(0, timelineBefore.entries.length)).toEqual(timelineBefore.entries);

    // Closed recently, or still active: kept.
    for (const a of [recent, active]) {
      const res = await stack.http('intake', 'GET', `/api/v1/alerts/${a.id}/private`, undefined, admin);
      expect(res.body.purgedAt).toBeNull();
      expect(res.body.private.investigationFolder).toBe(PRIVATE_PART.investigationFolder);
    }
    const { samples } = await scrape(stack.url('intake'));
    expect(sum(samples, 'alerta_rosa_private_parts', { state: 'purged' })).toBe(1);
    expect(sum(samples, 'alerta_rosa_retention_deleted_rows_total', { table: 'alert_private.purged' })).toBe(
      1,
    );
  });
});
