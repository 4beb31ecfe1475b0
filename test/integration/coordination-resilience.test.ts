import { AccessTokenVerifier } from '@alerta-rosa/auth';
import { AlertEventProducer } from '../support/alert-events';
import { SmtpSink } from '../support/smtp-sink';
import { TestStack, freePort, sleep, waitFor } from '../support/stack';

const AUTH_SECRET = 'coordination-resilience-auth-secret-0123456789';
const TIME_SCALE = 0.005; // 10 min → 3 s
const MINUTE = 60_000 * TIME_SCALE;

describe('coordination under failure: worker killed mid-escalation, SMTP relay down', () => {
  let stack: TestStack;
  let smtp: SmtpSink;
  let alerts: AlertEventProducer;
  const env = () => ({
    AUTH_JWT_SECRET: AUTH_SECRET,
    SMTP_URL: smtp.url,
    PSO_TIME_SCALE: String(TIME_SCALE),
    MAIL_BACKOFF_MS: '200',
    QUEUE_LOCK_MS: '2000',
    DISPATCH_POLL_MS: '1000',
  });

  const countBy = <T>(items: T[], key: (t: T) => string) => {
    const m = new Map<string, number>();
    for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
    return m;
  };

  const waitMailsOfKind = (folio: string, kind: string, n: number) =>
    waitFor(async () => smtp.forFolio(folio, kind).length >= n, { what: `${n} ${kind} mails` });

  beforeAll(async () => {
    stack = await TestStack.create();
    smtp = new SmtpSink(await freePort());
    await smtp.start();
  });

  afterAll(async () => {
    await alerts?.disconnect();
    await stack?.teardown();
    await smtp?.stop();
  });

  it('loses and doubles no escalation step when the worker is SIGKILLed right after an escalation commit and restarted', async () => {
    const first = await stack.start('coordination', { ...env(), FAULT_KILL_AFTER_ESCALATION_COMMIT: '1' });
    alerts = new AlertEventProducer(stack.kafka, stack.topic('alerts.v1'));
    await alerts.connect();
    const alert = await alerts.activate({ municipalityCode: '20067', municipalityName: 'Oaxaca de Juárez' });

    await first.waitExit(); // killed by the fault injection at the first escalation (≈ 3 s after activation)
    expect(first.exitCode).toBe(-1); // by a signal
    const atKill = await stack.query(
      `SELECT e.task_id, e.level FROM coordination.escalations e JOIN coordination.tasks t ON t.id = e.task_id WHERE t.alert_id = $1`,
      [alert.alertId],
    );
    expect(atKill.length).toBeGreaterThanOrEqual(1);

    await sleep(1_000); // timers fall due while no worker runs
    await stack.start('coordination', env());

    const tasks = await stack.query<{ id: string; step_id: string }>(
      `SELECT id, step_id FROM coordination.tasks WHERE alert_id = $1`,
      [alert.alertId],
    );
    expect(tasks).toHaveLength(7);
    // Longest chain: 30-minute acknowledgement + 20 minutes to the last level.
    const chainEnd = alert.activatedAt.getTime() + 50 * MINUTE;
    await waitFor(
      async () => {
        const r = await stack.query(
          `SELECT count(*)::int AS n FROM coordination.escalations e JOIN coordination.tasks t ON t.id = e.task_id WHERE t.alert_id = $1`,
          [alert.alertId],
        );
        return r[0].n === 21;
      },
      { timeoutMs: Math.max(0, chainEnd - Date.now()) + 30_000, what: '21 escalations' },
    );
    await waitFor(async () => smtp.forFolio(alert.folio, 'escalation').length >= 21, {
      timeoutMs: 30_000,
      what: '21 escalation mails',
    });
    await sleep(2_000); // stalled jobs re-run by now; a double would show

    const escalations = await stack.query<{ task_id: string; level: number }>(
      `SELECT e.task_id, e.level FROM coordination.escalations e JOIN coordination.tasks t ON t.id = e.task_id WHERE t.alert_id = $1`,
      [alert.alertId],
    );
    for (const t of tasks) {
      expect({
        step: t.step_id,
        levels: escalations
          .filter((e) => e.task_id === t.id)
          .map((e) => e.level)
          .sort(),
      }).toEqual({
        step: t.step_id,
        levels: [1, 2, 3],
      });
    }
    const mails = smtp.forFolio(alert.folio, 'escalation');
    expect(mails).toHaveLength(21);
    expect([...countBy(mails, (m) => m.mailId).values()].every((n) => n === 1)).toBe(true);
    const events = await stack.query(
      `SELECT count(*)::int AS n FROM coordination.outbox WHERE message_key = $1 AND event_type = 'TaskEscalated'`,
      [alert.alertId],
    );
    expect(events[0].n).toBe(21);
    // Assignment mails went out exactly once as well.
    const assignments = smtp.forFolio(alert.folio, 'assignment');
    expect(assignments).toHaveLength(7);
  });

  it('delivers every mail once when the SMTP relay was down for a while and comes back', async () => {
    await smtp.stop();
    const a = await alerts.activate({ municipalityCode: '20067', municipalityName: 'Oaxaca de Juárez' });
    const b = await alerts.activate({
      municipalityCode: '20184',
      municipalityName: 'San Juan Bautista Tuxtepec',
    });

    // The relay refuses connections: every assignment mail is retried, none is given up.
    await waitFor(
      async () => {
        const r = await stack.query<{ n: number; retried: number }>(
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE attempts >= 2)::int AS retried FROM coordination.mails
           WHERE alert_id = ANY($1) AND kind = 'assignment'`,
          [[a.alertId, b.alertId]],
        );
        return r[0].n === 13 && r[0].retried === 13;
      },
      { timeoutMs: 20_000, what: 'every assignment mail retried while the relay is down' },
    );
    expect(smtp.forFolio(a.folio)).toHaveLength(0);
    const failed = await stack.query(
      `SELECT count(*)::int AS n FROM coordination.mails WHERE status = 'failed'`,
    );
    expect(failed[0].n).toBe(0);

    await smtp.start();
    await waitFor(
      async () =>
        smtp.forFolio(a.folio, 'assignment').length === 7 &&
        smtp.forFolio(b.folio, 'assignment').length === 6,
      { timeoutMs: 60_000, what: 'assignment mails after the relay is back' },
    );
    await waitFor(
      async () => {
        const r = await stack.query(
          `SELECT count(*)::int AS n FROM coordination.mails WHERE alert_id = ANY($1) AND status <> 'sent'`,
          [[a.alertId, b.alertId]],
        );
        return r[0].n === 0;
      },
      { timeoutMs: 60_000, what: 'all mails of both alerts sent' },
    );
    // Nobody acknowledges, so escalation mails keep being decided meanwhile: compare what was recorded
    // as sent (read first) with what arrived (read after), not every row, some of which are brand new.
    const sentRows = await stack.query<{ id: string; kind: string }>(
      `SELECT id, kind FROM coordination.mails WHERE alert_id = ANY($1) AND status = 'sent'`,
      [[a.alertId, b.alertId]],
    );
    await sleep(1_500);
    const received = [...smtp.forFolio(a.folio), ...smtp.forFolio(b.folio)];
    const allRows = await stack.query<{ id: string }>(
      `SELECT id FROM coordination.mails WHERE alert_id = ANY($1)`,
      [[a.alertId, b.alertId]],
    );
    // Every mail recorded as sent arrived; nothing arrived that was not recorded; each arrived once.
    expect(sentRows.filter((r) => r.kind === 'assignment')).toHaveLength(13);
    const arrived = new Set(received.map((m) => m.mailId));
    expect(sentRows.filter((r) => !arrived.has(r.id))).toEqual([]);
    const recorded = new Set(allRows.map((r) => r.id));
    expect(received.filter((m) => !recorded.has(m.mailId)).map((m) => m.mailId)).toEqual([]);
    expect([...countBy(received, (m) => m.mailId).values()].every((n) => n === 1)).toBe(true);
    const tasks = await stack.query(`SELECT mail_status FROM coordination.tasks WHERE alert_id = ANY($1)`, [
      [a.alertId, b.alertId],
    ]);
    expect(tasks.every((t: any) => t.mail_status === 'sent')).toBe(true);
  });

  it('shows a mail the relay refuses permanently as failed on its task, without retrying it', async () => {
    smtp.rejectRecipients.add('enlace.fgeo@ssp-oaxaca.example');
    try {
      const alert = await alerts.activate({
        municipalityCode: '20006',
        municipalityName: 'Asunción Nochixtlán',
      });
      const task = await waitFor(
        async () => {
          const [t] = await stack.query(
            `SELECT * FROM coordination.tasks WHERE alert_id = $1 AND area_id = 'enlace-fgeo' AND mail_status = 'failed'`,
            [alert.alertId],
          );
          return t;
        },
        { what: 'failed mail on the FGEO task' },
      );
      expect(task.mail_error).toMatch(/550/);
      const [mail] = await stack.query(`SELECT status, attempts FROM coordination.mails WHERE id = $1`, [
        `assign-${task.id}`,
      ]);
      expect(mail).toEqual({ status: 'failed', attempts: 1 });
      const events = await stack.query(
        `SELECT payload FROM coordination.outbox WHERE message_key = $1 AND event_type = 'TaskMailFailed'`,
        [alert.alertId],
      );
      expect(events).toHaveLength(1);
      expect(JSON.parse(events[0].payload as string).payload.taskId).toBe(task.id);
    } finally {
      smtp.rejectRecipients.clear();
    }
  });

  it('reminds every area with an open task to report progress every 24 h (scaled) until the alert is deactivated', async () => {
    // 24 h × 0.00005 ≈ 4.3 s between reminders.
    const scale = 0.00005;
    const interval = 24 * 3_600_000 * scale;
    await stack.service('coordination').stop('SIGTERM');
    await stack.start('coordination', { ...env(), PSO_TIME_SCALE: String(scale) });
    const alert = await alerts.activate({ municipalityCode: '20067', municipalityName: 'Oaxaca de Juárez' });
    const reminders = (n: number) =>
      smtp.forFolio(alert.folio, 'progress_reminder').filter((m) => m.mailId.endsWith(`-n${n}`));

    await waitFor(async () => reminders(1).length === 7, {
      timeoutMs: interval + 20_000,
      what: 'first reminders',
    });
    expect(new Set(reminders(1).map((m) => m.areaId)).size).toBe(7);
    expect(reminders(1)[0].parsed.subject).toBe(`[Alerta Rosa ${alert.folio}] Informe de avance requerido`);

    // C4 finishes its task: it is not reminded any more.
    const [c4] = await stack.query(
      `SELECT id FROM coordination.tasks WHERE alert_id = $1 AND area_id = 'c4'`,
      [alert.alertId],
    );
    const user = {
      authorization: `Bearer ${new AccessTokenVerifier(AUTH_SECRET).sign({ sub: 'c4-1', role: 'area', areaId: 'c4' }, 600)}`,
    };
    expect(
      (await stack.http('coordination', 'POST', `/api/v1/tasks/${c4.id}/acknowledge`, undefined, user))
        .status,
    ).toBe(200);
    expect(
      (await stack.http('coordination', 'POST', `/api/v1/tasks/${c4.id}/complete`, undefined, user)).status,
    ).toBe(200);

    await waitFor(async () => reminders(2).length === 6, {
      timeoutMs: interval + 20_000,
      what: 'second reminders',
    });
    expect(reminders(2).map((m) => m.areaId)).not.toContain('c4');

    await alerts.deactivate(alert.alertId, 'localizada_con_vida');
    await waitMailsOfKind(alert.folio, 'stand_down', 7);
    await sleep(interval * 1.5);
    expect(reminders(3)).toHaveLength(0);
    const n3 = await stack.query(`SELECT count(*)::int AS n FROM coordination.mails WHERE id LIKE $1`, [
      `progress-${alert.alertId}-%-n3`,
    ]);
    expect(n3[0].n).toBe(0);
  });
});
