import { DelayedError, Queue, UnrecoverableError, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { AlertEventProducer } from '../support/alert-events';
import { PrivateRedis } from '../support/private-redis';
import { SmtpSink } from '../support/smtp-sink';
import { ServiceProcess, TestStack, deleteRedisKeys, freePort, sleep, waitFor } from '../support/stack';

const AUTH_SECRET = 'coordination-reconciler-auth-secret-0123456789';
const TIME_SCALE = 0.005; // 10 min → 3 s
const MINUTE = 60_000 * TIME_SCALE;
/** The longest chain of the default PSO: 30-minute acknowledgement + 20 minutes to the last level. */
const CHAIN_MINUTES = 50;
const SHARED_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Escalation {
  task_id: string;
  step_id: string;
  level: number;
  due_at: Date;
  escalated_at: Date;
}

describe('coordination finds again the timers and mails Redis lost (PostgreSQL is the truth)', () => {
  let stack: TestStack;
  let smtp: SmtpSink;
  let alerts: AlertEventProducer;
  let coordination: ServiceProcess | undefined;

  const env = (extra: Record<string, string> = {}) => ({
    AUTH_JWT_SECRET: AUTH_SECRET,
    SMTP_URL: smtp.url,
    PSO_TIME_SCALE: String(TIME_SCALE),
    MAIL_BACKOFF_MS: '100',
    MAIL_BACKOFF_MAX_MS: '1000',
    QUEUE_LOCK_MS: '2000',
    DISPATCH_POLL_MS: '1000',
    RECONCILE_INTERVAL_MS: '500',
    RECONCILE_GRACE_MS: '500',
    ...extra,
  });

  const stopCoordination = async () => {
    await coordination?.stop('SIGTERM');
    coordination = undefined;
  };
  const startCoordination = async (extra: Record<string, string> = {}) => {
    await stopCoordination();
    try {
      coordination = await stack.start('coordination', env(extra));
    } catch (err) {
      // Not ready in time: never leave it running behind the next test's back.
      await stack
        .service('coordination')
        .stop('SIGKILL')
        .catch(() => undefined);
      throw err;
    }
    return coordination;
  };

  const countBy = <T>(items: T[], key: (t: T) => string) => {
    const m = new Map<string, number>();
    for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
    return m;
  };

  const tasksOf = (alertId: string) =>
    stack.query<{ id: string; step_id: string; area_id: string; ack_due_at: Date }>(
      `SELECT id, step_id, area_id, ack_due_at FROM coordination.tasks WHERE alert_id = $1 ORDER BY step_order`,
      [alertId],
    );

  /** Tasks created and their escalation timers handed to BullMQ. */
  const waitTimersHandedOver = (alertId: string, n: number) =>
    waitFor(
      async () => {
        const r = await stack.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM coordination.tasks WHERE alert_id = $1 AND timers = 'scheduled'`,
          [alertId],
        );
        return r[0].n === n ? tasksOf(alertId) : undefined;
      },
      { what: `${n} tasks with their timers handed to BullMQ` },
    );

  const escalationsOf = (alertId: string) =>
    stack.query<Escalation>(
      `SELECT e.task_id, t.step_id, e.level, e.due_at, e.escalated_at FROM coordination.escalations e
       JOIN coordination.tasks t ON t.id = e.task_id WHERE t.alert_id = $1 ORDER BY e.escalated_at`,
      [alertId],
    );

  const waitEscalations = async (alert: { alertId: string; activatedAt: Date }, n: number) => {
    let seen = 0;
    const chainEnd = alert.activatedAt.getTime() + CHAIN_MINUTES * MINUTE;
    return waitFor(
      async () => {
        const rows = await escalationsOf(alert.alertId);
        seen = rows.length;
        return rows.length >= n ? rows : undefined;
      },
      { timeoutMs: Math.max(0, chainEnd - Date.now()) + 40_000, what: `${n} escalations` },
    ).catch((err: Error) => {
      throw new Error(`${err.message} (got ${seen})`);
    });
  };

  const waitMails = (folio: string, kind: string, n: number, timeoutMs = 40_000) =>
    waitFor(async () => (smtp.forFolio(folio, kind).length >= n ? smtp.forFolio(folio, kind) : undefined), {
      timeoutMs,
      what: `${n} ${kind} mails of ${folio}`,
    }).catch((err: Error) => {
      throw new Error(`${err.message} (got ${smtp.forFolio(folio, kind).length})`);
    });

  /** Each level of each task exactly once, never before its planned deadline; mails and events likewise. */
  const expectEveryLevelOnce = async (
    alert: { alertId: string; folio: string },
    tasks: { id: string; step_id: string }[],
  ) => {
    const escalations = await escalationsOf(alert.alertId);
    expect(escalations).toHaveLength(tasks.length * 3);
    for (const t of tasks) {
      expect({
        step: t.step_id,
        levels: escalations
          .filter((e) => e.task_id === t.id)
          .map((e) => e.level)
          .sort(),
      }).toEqual({ step: t.step_id, levels: [1, 2, 3] });
    }
    for (const e of escalations) {
      expect(new Date(e.escalated_at).getTime()).toBeGreaterThanOrEqual(new Date(e.due_at).getTime());
    }
    const events = await stack.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM coordination.outbox WHERE message_key = $1 AND event_type = 'TaskEscalated'`,
      [alert.alertId],
    );
    expect(events[0].n).toBe(tasks.length * 3);
    const mails = await waitMails(alert.folio, 'escalation', tasks.length * 3);
    await sleep(1_500); // a doubled mail would arrive by now
    expect(smtp.forFolio(alert.folio, 'escalation')).toHaveLength(tasks.length * 3);
    expect([...countBy(mails, (m) => m.mailId).values()].every((n) => n === 1)).toBe(true);
  };

  const jobStates = async (redisUrl: string, queueName: string, jobIds: string[]) => {
    const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(queueName, { connection, prefix: stack.topicPrefix });
    try {
      return await Promise.all(jobIds.map((id) => queue.getJobState(id)));
    } finally {
      await queue.close();
      connection.disconnect();
    }
  };
  /**
   * Redis loses a queue: this test's keys of it are deleted (by its QUEUE_PREFIX), again if a worker
   * moving a job at that moment wrote some back, until none of the given jobs is known any more.
   */
  const loseQueue = (queueName: string, jobIds: string[]) =>
    waitFor(
      async () => {
        await deleteRedisKeys(`${stack.topicPrefix}:${queueName}:*`);
        return (await jobStates(SHARED_REDIS, queueName, jobIds)).every((s) => s === 'unknown');
      },
      { what: `${queueName} emptied` },
    );
  const escalationJobIds = (tasks: { id: string }[]) =>
    tasks.flatMap((t) => [1, 2, 3].map((l) => `esc-${t.id}-l${l}`));

  /** Deactivates the alert and waits for the stand-down mails, so that nothing of it is left in flight. */
  const standDown = async (alert: { alertId: string; folio: string }, areas: number) => {
    await alerts.deactivate(alert.alertId, 'localizada_con_vida');
    await waitMails(alert.folio, 'stand_down', areas);
  };
  let smtpUp = true;
  const stopSmtp = async () => {
    smtpUp = false;
    await smtp.stop();
  };
  const startSmtp = async () => {
    if (!smtpUp) await smtp.start();
    smtpUp = true;
  };

  beforeAll(async () => {
    stack = await TestStack.create();
    // pg_terminate_backend below also ends the test's own idle connections: the pool replaces them.
    stack.pool.on('error', () => undefined);
    smtp = new SmtpSink(await freePort());
    await smtp.start();
    await startCoordination();
    alerts = new AlertEventProducer(stack.kafka, stack.topic('alerts.v1'));
    await alerts.connect();
  });

  afterAll(async () => {
    await alerts?.disconnect();
    await stack?.teardown();
    await smtp?.stop();
  });

  it('fires every escalation of an alert once, at or after its deadline, after its delayed jobs were deleted from Redis', async () => {
    const alert = await alerts.activate({ municipalityCode: '20067', municipalityName: 'Oaxaca de Juárez' });
    const tasks = await waitTimersHandedOver(alert.alertId, 7);
    const ids = escalationJobIds(tasks);
    expect((await jobStates(SHARED_REDIS, 'coordination-escalation', ids)).includes('unknown')).toBe(false);

    // Redis loses the escalation queue (only this test's keys, by its QUEUE_PREFIX).
    await loseQueue('coordination-escalation', ids);

    await waitEscalations(alert, 21);
    await expectEveryLevelOnce(alert, tasks);
    await standDown(alert, 7);
  });

  it('loses and doubles nothing when its Redis dies mid-flight and comes back empty', async () => {
    const redis = await PrivateRedis.create();
    try {
      await startCoordination({ REDIS_URL: redis.url });
      await stopSmtp(); // assignment mails wait in the mail queue, retrying, when Redis dies
      const alert = await alerts.activate({
        municipalityCode: '20067',
        municipalityName: 'Oaxaca de Juárez',
      });
      const tasks = await waitTimersHandedOver(alert.alertId, 7);
      await waitFor(
        async () => {
          const r = await stack.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM coordination.mails
             WHERE alert_id = $1 AND kind = 'assignment' AND enqueued_at IS NOT NULL AND attempts >= 1`,
            [alert.alertId],
          );
          return r[0].n === 7;
        },
        { what: 'assignment mails handed to BullMQ and tried' },
      );

      await redis.stop();
      await startSmtp();
      // While Redis is away the first deadlines pass: the escalations are decided from PostgreSQL alone.
      await waitFor(async () => (await escalationsOf(alert.alertId)).length >= 2, {
        timeoutMs: Math.max(0, alert.activatedAt.getTime() + 10 * MINUTE - Date.now()) + 30_000,
        what: 'the first escalations while Redis is down',
      });

      await redis.start(); // empty: every job it held is gone
      await waitEscalations(alert, 21);
      await expectEveryLevelOnce(alert, tasks);
      const assignments = await waitMails(alert.folio, 'assignment', 7);
      await waitFor(
        async () => {
          const r = await stack.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM coordination.mails WHERE alert_id = $1 AND status <> 'sent'`,
            [alert.alertId],
          );
          return r[0].n === 0;
        },
        { what: 'every mail of the alert sent' },
      );
      await sleep(1_500);
      expect(smtp.forFolio(alert.folio, 'assignment')).toHaveLength(7);
      expect(new Set(assignments.map((m) => m.mailId)).size).toBe(7);
      const received = smtp.forFolio(alert.folio);
      expect([...countBy(received, (m) => m.mailId).values()].every((n) => n === 1)).toBe(true);
      const rows = await stack.query<{ id: string }>(
        `SELECT id FROM coordination.mails WHERE alert_id = $1`,
        [alert.alertId],
      );
      expect(new Set(received.map((m) => m.mailId))).toEqual(new Set(rows.map((r) => r.id)));

      await standDown(alert, 7);
    } finally {
      await stopCoordination();
      await redis.stop();
      await startSmtp();
      await startCoordination();
    }
  });

  it('fires the overdue escalations after the database connections of its sweep are terminated mid-run', async () => {
    const alert = await alerts.activate({ municipalityCode: '20067', municipalityName: 'Oaxaca de Juárez' });
    const tasks = await waitTimersHandedOver(alert.alertId, 7);
    await loseQueue('coordination-escalation', escalationJobIds(tasks)); // only the sweep can fire now
    const first = tasks.find((t) => t.step_id === 'comunicacion-social-publicaciones')!;

    // Hold the first task's row lock, so that the sweep's transaction for it waits; then end the
    // sweep's connection (and every other connection of this test's database) while it waits.
    const lock = new Client({
      connectionString: stack.databaseUrl,
      application_name: 'reconciler-test-lock',
    });
    lock.on('error', () => undefined);
    await lock.connect();
    const lockPid = (await lock.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0].pid;
    try {
      await lock.query('BEGIN');
      await lock.query(`SELECT id FROM coordination.tasks WHERE id = $1 FOR UPDATE`, [first.id]);
      const terminated = new Set<number>();
      for (let round = 0; round < 3; round++) {
        const waiting = await waitFor(
          async () => {
            const r = await stack.query<{ pid: number }>(
              `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                 AND query ILIKE '%FOR UPDATE%' AND pid <> $1 AND NOT (pid = ANY($2))`,
              [lockPid, [...terminated]],
            );
            return r[0]?.pid;
          },
          {
            timeoutMs: Math.max(0, new Date(first.ack_due_at).getTime() - Date.now()) + 30_000,
            what: `the sweep waiting on the task lock (round ${round + 1})`,
          },
        );
        const killed = await stack.query<{ pid: number }>(
          `SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> $2`,
          [stack.database, lockPid],
        );
        expect(killed.map((k) => k.pid)).toContain(waiting);
        terminated.add(waiting);
      }
      expect((await escalationsOf(alert.alertId)).filter((e) => e.task_id === first.id)).toEqual([]);
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      await lock.end().catch(() => undefined);
    }

    await waitEscalations(alert, 21);
    await expectEveryLevelOnce(alert, tasks);
    expect(coordination!.running).toBe(true);
    expect(coordination!.logs().some((l) => l.msg === 'reconciler sweep failed; retrying')).toBe(true);
    await standDown(alert, 7);
  });

  it('sends exactly once the mails whose jobs were removed from Redis or died there', async () => {
    await stopSmtp();
    const alert = await alerts.activate({ municipalityCode: '20067', municipalityName: 'Oaxaca de Juárez' });
    await waitTimersHandedOver(alert.alertId, 7);
    const mails = await waitFor(
      async () => {
        const r = await stack.query<{ id: string }>(
          `SELECT id FROM coordination.mails WHERE alert_id = $1 AND kind = 'assignment'
             AND enqueued_at IS NOT NULL AND attempts >= 1`,
          [alert.alertId],
        );
        return r.length === 7 ? r.map((m) => m.id).sort() : undefined;
      },
      { what: 'assignment mails handed to BullMQ and tried' },
    );
    await stopCoordination();

    // Four jobs vanish; three die (failed for good in BullMQ, as after too many stalls), rows still queued.
    const [removed, dead] = [mails.slice(0, 4), mails.slice(4)];
    const connection = new IORedis(SHARED_REDIS, { maxRetriesPerRequest: null });
    const queue = new Queue('coordination-mail', { connection, prefix: stack.topicPrefix });
    try {
      for (const id of removed) await queue.remove(`mail-${id}`);
      const killerConnection = new IORedis(SHARED_REDIS, { maxRetriesPerRequest: null });
      const killer = new Worker(
        'coordination-mail',
        async (job, token) => {
          if (dead.some((id) => job.id === `mail-${id}`))
            throw new UnrecoverableError('declared dead by the test');
          // Anything else (other mails of this test's queue) is put back untouched.
          await job.moveToDelayed(Date.now() + 1_000, token);
          throw new DelayedError();
        },
        { connection: killerConnection, prefix: stack.topicPrefix },
      );
      try {
        await waitFor(
          async () => {
            const states = await Promise.all(dead.map((id) => queue.getJobState(`mail-${id}`)));
            return states.every((s) => s === 'failed');
          },
          { what: 'three dead mail jobs' },
        );
      } finally {
        await killer.close();
        killerConnection.disconnect();
      }
      const states = await Promise.all(mails.map((id) => queue.getJobState(`mail-${id}`)));
      expect(states).toEqual(['unknown', 'unknown', 'unknown', 'unknown', 'failed', 'failed', 'failed']);
    } finally {
      await queue.close();
      connection.disconnect();
    }
    const queued = await stack.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM coordination.mails WHERE id = ANY($1) AND status = 'queued'`,
      [mails],
    );
    expect(queued[0].n).toBe(7);

    await startSmtp();
    await startCoordination();
    const received = await waitMails(alert.folio, 'assignment', 7);
    await sleep(2_000); // a second copy would arrive by now
    expect(smtp.forFolio(alert.folio, 'assignment')).toHaveLength(7);
    expect(received.map((m) => m.mailId).sort()).toEqual(mails);
    const sent = await stack.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM coordination.mails WHERE id = ANY($1) AND status = 'sent'`,
      [mails],
    );
    expect(sent[0].n).toBe(7);
    await standDown(alert, 7);
  });

  it('sends a mail once when BullMQ runs it twice at the same time (a lapsed lock, replayed commands)', async () => {
    smtp.acceptDelayMs = 3_000; // a slow relay: the first send is still in flight when the second starts
    try {
      const alert = await alerts.activate({
        municipalityCode: '20067',
        municipalityName: 'Oaxaca de Juárez',
      });
      const task = (await waitTimersHandedOver(alert.alertId, 7)).find((t) => t.area_id === 'c4')!;
      const mailId = `escalate-${task.id}-l1`;
      // The mail decided at the first escalation, handed to a second job as BullMQ may do.
      await waitFor(
        async () => {
          const r = await stack.query(`SELECT id FROM coordination.mails WHERE id = $1`, [mailId]);
          return r.length === 1;
        },
        { timeoutMs: 30_000, what: 'the first escalation mail of C4' },
      );
      const connection = new IORedis(SHARED_REDIS, { maxRetriesPerRequest: null });
      const queue = new Queue('coordination-mail', { connection, prefix: stack.topicPrefix });
      try {
        await queue.add('send', { mailId }, { jobId: `mail-${mailId}-again`, attempts: 3 });
      } finally {
        await queue.close();
        connection.disconnect();
      }
      await waitFor(
        async () => {
          const [m] = await stack.query<{ status: string }>(
            `SELECT status FROM coordination.mails WHERE id = $1`,
            [mailId],
          );
          return m?.status === 'sent';
        },
        { what: 'the mail sent' },
      );
      await sleep(3_000); // the second send would have arrived by now
      expect(smtp.received.filter((m) => m.mailId === mailId)).toHaveLength(1);
      smtp.acceptDelayMs = 0;
      await standDown(alert, 7);
    } finally {
      smtp.acceptDelayMs = 0;
    }
  });

  it('delivers every mail once the relay returns after being dead longer than the retry back-off, and gives up only on a permanent refusal', async () => {
    // MAIL_MAX_ATTEMPTS is what made older versions give up on a dead relay after three attempts.
    await startCoordination({ MAIL_DELAYED_AFTER_ATTEMPTS: '3', MAIL_MAX_ATTEMPTS: '3' });
    await stopSmtp();
    smtp.rejectRecipients.add('enlace.fgeo@ssp-oaxaca.example');
    try {
      const alert = await alerts.activate({
        municipalityCode: '20006',
        municipalityName: 'Asunción Nochixtlán',
      });
      const tasks = await waitTimersHandedOver(alert.alertId, 6);
      let last = '';
      await waitFor(
        async () => {
          const r = await stack.query<{ status: string; attempts: number }>(
            `SELECT status, attempts FROM coordination.mails WHERE alert_id = $1 AND kind = 'assignment'`,
            [alert.alertId],
          );
          last = JSON.stringify(Object.fromEntries(countBy(r, (m) => `${m.status}×${m.attempts}`)));
          return r.length === 6 && r.every((m) => m.status === 'queued' && m.attempts >= 6);
        },
        { timeoutMs: 40_000, what: 'every assignment mail still queued after 6 attempts' },
      ).catch((err: Error) => {
        throw new Error(`${err.message}; by status: ${last}`);
      });
      expect(smtp.forFolio(alert.folio)).toHaveLength(0);
      // Reported as delayed (once each), not as failed.
      const delayed = await stack.query<{ payload: string }>(
        `SELECT payload FROM coordination.outbox WHERE message_key = $1 AND event_type = 'TaskMailDelayed'`,
        [alert.alertId],
      );
      const delayedMails = delayed.map((e) => JSON.parse(e.payload).payload);
      expect(delayedMails.filter((p) => p.kind === 'assignment')).toHaveLength(6);
      expect(new Set(delayedMails.map((p) => p.mailId)).size).toBe(delayedMails.length);
      const states = await stack.query<{ mail_status: string }>(
        `SELECT mail_status FROM coordination.tasks WHERE alert_id = $1`,
        [alert.alertId],
      );
      expect(states.every((t) => t.mail_status === 'delayed')).toBe(true);

      await startSmtp();
      const fgeo = tasks.find((t) => t.area_id === 'enlace-fgeo')!;
      const received = await waitMails(alert.folio, 'assignment', 5);
      const failed = await waitFor(
        async () => {
          const [t] = await stack.query<{ mail_status: string; mail_error: string }>(
            `SELECT mail_status, mail_error FROM coordination.tasks WHERE id = $1 AND mail_status = 'failed'`,
            [fgeo.id],
          );
          return t;
        },
        { what: 'the refused mail given up on its task' },
      );
      expect(failed.mail_error).toMatch(/550/);
      await sleep(1_500);
      expect(smtp.forFolio(alert.folio, 'assignment')).toHaveLength(5);
      expect(received.map((m) => m.areaId)).not.toContain('enlace-fgeo');
      expect(new Set(received.map((m) => m.mailId)).size).toBe(5);
      const rows = await stack.query<{ area_id: string; status: string }>(
        `SELECT area_id, status FROM coordination.mails WHERE alert_id = $1 AND kind = 'assignment'`,
        [alert.alertId],
      );
      expect(rows.filter((m) => m.status === 'failed').map((m) => m.area_id)).toEqual(['enlace-fgeo']);
      expect(rows.filter((m) => m.status === 'sent')).toHaveLength(5);
      const failedEvents = await stack.query<{ payload: string }>(
        `SELECT payload FROM coordination.outbox WHERE message_key = $1 AND event_type = 'TaskMailFailed'`,
        [alert.alertId],
      );
      expect(failedEvents.map((e) => JSON.parse(e.payload).payload.taskId)).toEqual([fgeo.id]);
      const taskStates = await stack.query<{ area_id: string; mail_status: string }>(
        `SELECT area_id, mail_status FROM coordination.tasks WHERE alert_id = $1 AND area_id <> 'enlace-fgeo'`,
        [alert.alertId],
      );
      expect(taskStates.every((t) => t.mail_status === 'sent')).toBe(true);
      smtp.rejectRecipients.clear();
      await standDown(alert, 6);
    } finally {
      smtp.rejectRecipients.clear();
      await startSmtp();
    }
  });

  it('sends the progress reminders of an alert whose reminder job was deleted from Redis', async () => {
    // 24 h × 0.00005 ≈ 4.3 s between reminders.
    await startCoordination({ PSO_TIME_SCALE: '0.00005' });
    const alert = await alerts.activate({ municipalityCode: '20067', municipalityName: 'Oaxaca de Juárez' });
    await waitFor(
      async () => {
        const [a] = await stack.query<{ progress_enqueued: boolean }>(
          `SELECT progress_enqueued FROM coordination.alerts WHERE alert_id = $1`,
          [alert.alertId],
        );
        return a?.progress_enqueued;
      },
      { what: 'the first reminder handed to BullMQ' },
    );
    const jobId = `progress-${alert.alertId}-n1`;
    expect(await jobStates(SHARED_REDIS, 'coordination-progress', [jobId])).toEqual(['delayed']);
    await loseQueue('coordination-progress', [jobId]);

    const reminders = (n: number) =>
      smtp.forFolio(alert.folio, 'progress_reminder').filter((m) => m.mailId.endsWith(`-n${n}`));
    await waitFor(async () => reminders(1).length === 7, { timeoutMs: 40_000, what: 'the first reminders' });
    await waitFor(async () => reminders(2).length === 7, { timeoutMs: 40_000, what: 'the second reminders' });
    expect(new Set(reminders(1).map((m) => m.areaId)).size).toBe(7);
    await standDown(alert, 7);
    await sleep(1_000);
    expect(reminders(1)).toHaveLength(7);
  });

  it('after an outage longer than the acknowledgement window fires the levels in order, each no sooner than its planned gap after the previous one', async () => {
    await startCoordination();
    const alert = await alerts.activate({ municipalityCode: '20067', municipalityName: 'Oaxaca de Juárez' });
    const tasks = await waitTimersHandedOver(alert.alertId, 7);
    await stopCoordination();
    // Every level of every task falls due while coordination is away.
    await sleep(Math.max(0, alert.activatedAt.getTime() + CHAIN_MINUTES * MINUTE - Date.now()) + 1_000);
    await startCoordination();

    await waitEscalations(alert, 21);
    await expectEveryLevelOnce(alert, tasks);
    const escalations = await escalationsOf(alert.alertId);
    for (const t of tasks) {
      const chain = escalations.filter((e) => e.task_id === t.id);
      // In order of level, and each level at least the planned gap (10 min, scaled) after the previous.
      expect(chain.map((e) => e.level)).toEqual([1, 2, 3]);
      for (let i = 1; i < chain.length; i++) {
        const gap = new Date(chain[i].due_at).getTime() - new Date(chain[i - 1].due_at).getTime();
        expect({
          step: t.step_id,
          level: chain[i].level,
          notSoonerThanGap:
            new Date(chain[i].escalated_at).getTime() - new Date(chain[i - 1].escalated_at).getTime() >= gap,
        }).toEqual({ step: t.step_id, level: chain[i].level, notSoonerThanGap: true });
      }
    }
    // The mails follow the same order.
    for (const t of tasks) {
      const subjects = smtp
        .forFolio(alert.folio, 'escalation')
        .filter((m) => m.taskId === t.id)
        .map((m) => m.parsed.subject?.match(/nivel (\d)/)?.[1]);
      expect(subjects).toEqual(['1', '2', '3']);
    }
    await standDown(alert, 7);
  });
});
