import { execFile } from 'child_process';
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { promisify } from 'util';
import {
  ACCOUNTS,
  bearer,
  livePostsByAccount,
  sandboxPosts,
  setFaults,
  startDisseminationStack,
  waitForPosts,
} from '../support/dissemination';
import { smallJpeg } from '../support/images';
import { uploadPhoto } from '../support/intake';
import { SmtpSink } from '../support/smtp-sink';
import { TestStack, freePort, minimalFicha, waitFor } from '../support/stack';

const run = promisify(execFile);
// 0.05: a 10-minute acknowledgement deadline becomes 30 s, the next escalation level 30 s later.
const TIME_SCALE = 0.05;
const OVERDUE_AFTER_SECONDS = 25;
const marker = (folio: string, version: number) => `Folio ${folio} (v${version})`;

/** Private fields with values found nowhere else, to prove none leaves intake. */
const PRIVATE = {
  reporterName: 'Zacarías Quetzalli Xicoténcatl',
  reporterPhone: '+52 951 777 0042',
  relationship: 'tía materna Q7',
  investigationFolder: 'FGEO/CI/XQZ-98121/2026',
  healthConditions: 'síndrome Qwertz-raro',
  medication: 'Zyloxetina 40 mg',
  internalNotes: 'nota interna PRIVADA-7731',
};
const PUBLIC_NAME = 'Yolotzin Ixchel Pérez Quiroz';

const ms = (iso: string) => Date.parse(iso);
const secs = (from: string, to: string) => (ms(to) - ms(from)) / 1000;

/**
 * Closure decided by the tracker, end to end on the real services: intake, dissemination (with the
 * three platform sandboxes), coordination (with a real SMTP server) and the tracker.
 */
describe('closure decided by the tracker (intake → dissemination, coordination → tracker → intake)', () => {
  let stack: TestStack;
  let smtp: SmtpSink;
  let credentials: Record<string, Record<string, string>>;
  const ENABLED = ACCOUNTS.filter((a) => a.enabled).length;

  beforeAll(async () => {
    stack = await TestStack.create();
    smtp = new SmtpSink(await freePort());
    await smtp.start();
    credentials = (await startDisseminationStack(stack, { services: ['intake', 'dissemination'] }))
      .credentials;
    await stack.start('coordination', {
      SMTP_URL: smtp.url,
      PSO_TIME_SCALE: String(TIME_SCALE),
      MAIL_BACKOFF_MS: '200',
      DISPATCH_POLL_MS: '1000',
    });
    await stack.start('tracker', {
      CLOSURE_OVERDUE_AFTER_SECONDS: String(OVERDUE_AFTER_SECONDS),
      CLOSURE_CHECK_INTERVAL_MS: '500',
    });
  });

  afterAll(async () => {
    await stack?.teardown();
    await smtp?.stop();
  });

  async function activateWithPhoto(age: number, extra: Record<string, unknown> = {}) {
    const draft = await stack.http(
      'intake',
      'POST',
      '/api/v1/alerts',
      minimalFicha({ age, activate: false, photoConsent: true, ...extra }),
    );
    expect(draft.status).toBe(201);
    expect((await uploadPhoto(stack, draft.body.id, await smallJpeg(300, 400))).status).toBe(201);
    const activated = await stack.http('intake', 'POST', `/api/v1/alerts/${draft.body.id}/activate`);
    expect(activated.status).toBe(200);
    return { id: draft.body.id as string, folio: activated.body.folio as string };
  }

  const tasksOf = async (alertId: string) =>
    waitFor(
      async () => {
        const res = await stack.http('coordination', 'GET', `/api/v1/tasks?alertId=${alertId}`, undefined, {
          authorization: `Bearer ${stack.token('admin')}`,
        });
        return res.body.items?.length === 7
          ? (res.body.items as { id: string; areaId: string }[])
          : undefined;
      },
      { timeoutMs: 30_000, what: 'the 7 PSO tasks' },
    );
  const acknowledge = (task: { id: string; areaId: string }) =>
    stack.http('coordination', 'POST', `/api/v1/tasks/${task.id}/acknowledge`, undefined, {
      authorization: `Bearer ${stack.token('area', { areaId: task.areaId })}`,
    });
  const closure = async (id: string) =>
    (await stack.http('tracker', 'GET', `/api/v1/alerts/${id}/closure`)).body;

  let life: { id: string; folio: string };

  it('gives exactly the expected timeline, durations and closure moment for a scripted alert life', async () => {
    // Activate (with photo); every area acknowledges at once but C4, which will be late: one escalation.
    life = await activateWithPhoto(23, { fullName: PUBLIC_NAME, private: PRIVATE });
    const tasks = await tasksOf(life.id);
    const c4 = tasks.find((t) => t.areaId === 'c4')!;
    for (const t of tasks.filter((x) => x !== c4)) expect((await acknowledge(t)).status).toBe(200);
    // Two updates.
    await waitForPosts(stack, marker(life.folio, 1), ENABLED);
    for (const description of ['Vestía sudadera gris.', 'Vestía sudadera gris y tenis blancos.']) {
      const res = await stack.http('intake', 'PATCH', `/api/v1/alerts/${life.id}`, { description });
      expect(res.status).toBe(200);
    }
    await stack.timelineWhere(life.id, (e) => e.some((x) => x.type === 'TaskEscalated'), 60_000);
    expect((await acknowledge(c4)).status).toBe(200);
    await waitForPosts(stack, marker(life.folio, 3), ENABLED);

    // Located alive: withdrawal everywhere, stand-down, then the tracker closes the alert.
    const res = await stack.http('intake', 'POST', `/api/v1/alerts/${life.id}/deactivate`, {
      outcome: 'localizada_con_vida',
    });
    expect(res.status).toBe(200);
    const mails = () => smtp.forFolio(life.folio).filter((m) => m.kind !== 'progress_reminder');
    const timeline = await stack.timelineWhere(
      life.id,
      (e) =>
        e.some((x) => x.type === 'AlertClosed') &&
        e.filter((x) => x.type === 'TaskMailSent' && x.details.kind === 'stand_down').length === 7 &&
        e.filter((x) => x.type === 'PublicationSucceeded' && x.details.kind === 'located_notice').length ===
          ENABLED,
      90_000,
    );
    const entries: any[] = timeline.entries;
    const count = (type: string, pred: (e: any) => boolean = () => true) =>
      entries.filter((e) => e.type === type && pred(e)).length;

    // Exactly: 4 alert events, each taken in by both workers; 30 accounts × (ficha + 2 updates + notice);
    // the 90 posts that carried her photo withdrawn; 7 tasks, one escalation; one closure.
    expect(entries.filter((e) => e.source === 'intake').map((e) => e.type)).toEqual([
      'AlertActivated',
      'AlertUpdated',
      'AlertUpdated',
      'AlertDeactivated',
    ]);
    expect(count('AlertEventReceived')).toBe(8);
    for (const kind of ['activation', 'update', 'located_notice'])
      expect({ kind, n: count('PublicationSucceeded', (e) => e.details.kind === kind) }).toEqual({
        kind,
        n: kind === 'update' ? 2 * ENABLED : ENABLED,
      });
    expect(count('PublicationFailed')).toBe(0);
    expect(count('PublicationWithdrawn')).toBe(3 * ENABLED);
    expect(count('AlertWithdrawalCompleted')).toBe(1);
    expect(count('TaskAssigned')).toBe(7);
    expect(count('TaskAcknowledged')).toBe(7);
    expect(count('TaskEscalated')).toBe(1);
    expect(count('TaskCancelled')).toBe(7);
    expect(count('TaskCompleted')).toBe(0);
    for (const [kind, n] of [
      ['assignment', 7],
      ['update', 14],
      ['escalation', 1],
      ['stand_down', 7],
    ] as const)
      expect({ kind, n: count('TaskMailSent', (e) => e.details.kind === kind) }).toEqual({ kind, n });
    expect(count('AlertClosed')).toBe(1);
    expect(count('AlertClosureOverdue')).toBe(0);
    expect(entries.filter((e) => e.source === 'tracker').map((e) => e.type)).toEqual(['AlertClosed']);
    const escalation = entries.find((e) => e.type === 'TaskEscalated');
    expect(escalation.details).toMatchObject({ areaId: 'c4', level: 1, target: 'area_supervisor' });
    const c4Ack = entries.find((e) => e.type === 'TaskAcknowledged' && e.details.areaId === 'c4');
    expect(escalation.seq).toBeLessThan(c4Ack.seq);
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));
    expect(new Set(entries.map((e) => e.eventId)).size).toBe(entries.length);

    // The closure moment is when the last condition became true, and intake shows that moment.
    const activated = entries.find((e) => e.type === 'AlertActivated').details;
    const deactivatedAt = entries.find((e) => e.type === 'AlertDeactivated').details.deactivatedAt;
    const completedAt = entries.find((e) => e.type === 'AlertWithdrawalCompleted').details.completedAt;
    const coordinationReceipt = entries.find(
      (e) =>
        e.type === 'AlertEventReceived' &&
        e.details.consumer === 'alerta-rosa.coordination' &&
        e.details.receivedType === 'AlertDeactivated',
    ).occurredAt;
    const withdrawn = entries
      .filter((e) => e.type === 'PublicationWithdrawn')
      .map((e) => e.details.withdrawnAt);
    const cancelled = entries.filter((e) => e.type === 'TaskCancelled').map((e) => e.details.cancelledAt);
    const closedAt = new Date(
      Math.max(...[deactivatedAt, completedAt, coordinationReceipt, ...withdrawn, ...cancelled].map(ms)),
    ).toISOString();
    const closed = entries.find((e) => e.type === 'AlertClosed').details;
    expect(closed).toEqual({ folio: life.folio, outcome: 'localizada_con_vida', deactivatedAt, closedAt });
    const intake = await waitFor(
      async () => {
        const a = (await stack.http('intake', 'GET', `/api/v1/alerts/${life.id}`)).body;
        return a.status === 'closed' ? a : undefined;
      },
      { what: 'intake to show the alert closed' },
    );
    expect(intake.closedAt).toBe(closedAt);
    const audit = await stack.query<{ actor_id: string; details: any }>(
      `SELECT actor_id, details FROM intake.audit_log WHERE alert_id = $1 AND action = 'alert.closed'`,
      [life.id],
    );
    expect(audit).toEqual([
      { actor_id: 'tracker', details: expect.objectContaining({ by: 'tracker', closedAt }) },
    ]);
    expect(await closure(life.id)).toMatchObject({
      status: 'closed',
      closedAt,
      closedBy: 'tracker',
      overdue: false,
      withdrawalCompleted: true,
      missing: { photoPosts: [], tasks: [] },
    });

    // Per-alert durations, computed here from the timeline.
    const posted = entries.filter(
      (e) => e.type === 'PublicationSucceeded' && e.details.kind === 'activation',
    );
    const postTimes = (platform?: string) =>
      posted.filter((e) => !platform || e.details.platform === platform).map((e) => ms(e.details.postedAt));
    const fromActivation = (t: number) => (t - ms(activated.activatedAt)) / 1000;
    const figures = (await stack.http('tracker', 'GET', `/api/v1/committee/alerts/${life.id}`)).body;
    const close = (a: number | null, b: number) => expect(a).toBeCloseTo(b, 2);
    close(figures.durations.reportedToActivated, secs(activated.reportedAt, activated.activatedAt));
    close(figures.durations.activatedToFirstPublication, fromActivation(Math.min(...postTimes())));
    close(figures.durations.activatedToLastPublication, fromActivation(Math.max(...postTimes())));
    for (const p of ['x', 'facebook', 'webhook'])
      close(figures.publicationsByPlatform[p].activatedToLast, fromActivation(Math.max(...postTimes(p))));
    close(figures.durations.activatedToLocated, secs(activated.activatedAt, deactivatedAt));
    close(
      figures.durations.locatedToLastPhotoWithdrawn,
      (Math.max(...withdrawn.map(ms)) - ms(deactivatedAt)) / 1000,
    );
    close(figures.durations.deactivatedToClosed, secs(deactivatedAt, closedAt));
    expect(figures).toMatchObject({
      updates: 2,
      escalations: { count: 1, highestLevel: 1 },
      status: 'closed',
    });
    const assigned = entries.find((e) => e.type === 'TaskAssigned' && e.details.areaId === 'c4');
    const c4Figures = figures.areas.find((a: any) => a.areaId === 'c4');
    close(c4Figures.acknowledgementSeconds, secs(assigned.occurredAt, c4Ack.details.acknowledgedAt));
    expect(c4Figures).toMatchObject({ acknowledgedOnTime: false, escalations: 1 });
    expect(figures.areas.filter((a: any) => a.acknowledgedOnTime)).toHaveLength(6);
    expect(mails().filter((m) => m.kind === 'closure_overdue')).toHaveLength(0);
  });

  it('keeps an alert deactivated while an account keeps refusing to delete her photo, names it, mails the duty officer once, and closes when it deletes', async () => {
    const alert = await activateWithPhoto(29);
    await waitForPosts(stack, marker(alert.folio, 1), ENABLED);
    for (const t of await tasksOf(alert.id)) expect((await acknowledge(t)).status).toBe(200);
    // The platform refuses C4's X credentials: the post with her photo cannot be deleted there.
    await setFaults(stack, 'c4-x', { revoked: true });
    expect(
      (
        await stack.http('intake', 'POST', `/api/v1/alerts/${alert.id}/deactivate`, {
          outcome: 'localizada_con_vida',
        })
      ).status,
    ).toBe(200);
    // Every other account withdraws; C4's X account refuses: the alert stays deactivated, not closed.
    await waitFor(
      async () => {
        const live = livePostsByAccount(await sandboxPosts(stack), marker(alert.folio, 1));
        return live.size === 1 && live.has('c4-x');
      },
      { timeoutMs: 60_000, what: 'every account but c4-x to withdraw' },
    );
    const pending = await waitFor(
      async () => {
        const c = await closure(alert.id);
        const accounts = [...new Set(c.missing.photoPosts.map((p: any) => p.accountId))];
        return c.coordinationConfirmed && accounts.length === 1 && accounts[0] === 'c4-x' ? c : undefined;
      },
      { timeoutMs: 30_000, what: '/closure to name what is missing' },
    );
    expect(pending).toMatchObject({
      status: 'deactivated',
      closedAt: null,
      withdrawalCompleted: false,
      missing: { tasks: [] },
    });
    expect([...new Set(pending.missing.photoPosts.map((p: any) => p.accountId))]).toEqual(['c4-x']);
    expect(pending.missing.photoPosts[0]).toMatchObject({
      platform: 'x',
      handle: '@C4Oaxaca',
      state: 'posted',
    });
    expect(pending.missing.photoPosts[0].ageSeconds).toBeGreaterThanOrEqual(0);
    expect((await stack.http('intake', 'GET', `/api/v1/alerts/${alert.id}`)).body.status).toBe('deactivated');

    // Past CLOSURE_OVERDUE_AFTER_SECONDS: flagged on the timeline, the duty officer mailed once.
    const overdueMails = () => smtp.forFolio(alert.folio, 'closure_overdue');
    const [mail] = await waitFor(async () => (overdueMails().length ? overdueMails() : undefined), {
      timeoutMs: 90_000,
      what: 'the mail to the duty officer',
    });
    expect(mail.envelopeTo).toEqual(['guardia.unidadgenero@ssp-oaxaca.example']);
    expect(mail.parsed.subject).toBe(
      `[Alerta Rosa ${alert.folio}] Cierre vencido: la alerta desactivada sigue sin cerrarse`,
    );
    expect(mail.parsed.text).toContain('@C4Oaxaca');
    const flagged = await stack.timelineWhere(alert.id, (e) =>
      e.some((x) => x.type === 'AlertClosureOverdue'),
    );
    const flag = flagged.entries.find((e: any) => e.type === 'AlertClosureOverdue');
    expect(flag.details).toMatchObject({ missingAccounts: ['c4-x'], openTasks: 0 });
    expect((await closure(alert.id)).overdue).toBe(true);

    // Access restored (new credentials loaded): withdrawal completes, the tracker closes, intake shows closed.
    await setFaults(stack, 'c4-x', { revoked: false });
    const rotated = await stack.http(
      'dissemination',
      'PUT',
      '/api/v1/accounts/c4-x/credentials',
      { credentials: credentials['c4-x'] },
      bearer('admin'),
    );
    expect(rotated.body).toMatchObject({ status: 'ok' });
    await waitFor(
      async () => (await stack.http('intake', 'GET', `/api/v1/alerts/${alert.id}`)).body.status === 'closed',
      { timeoutMs: 60_000, what: 'intake to show the alert closed' },
    );
    expect(await closure(alert.id)).toMatchObject({
      status: 'closed',
      closedBy: 'tracker',
      missing: { photoPosts: [] },
    });
    expect(overdueMails()).toHaveLength(1);
  });

  it('changes nothing anywhere when every event of both alerts is delivered again; tracker:rebuild gives equal digests', async () => {
    const state = async () => ({
      entries: (await stack.query(`SELECT count(*)::int AS n FROM tracker.timeline_entries`))[0],
      decisions: await stack.query(
        `SELECT alert_id, kind FROM tracker.closure_decisions ORDER BY alert_id, kind`,
      ),
      audit: await stack.query(
        `SELECT count(*)::int AS n FROM intake.audit_log WHERE action = 'alert.closed'`,
      ),
      mails: await stack.query(
        `SELECT kind, count(*)::int AS n FROM coordination.mails GROUP BY kind ORDER BY kind`,
      ),
      publications: (await stack.query(`SELECT count(*)::int AS n FROM dissemination.publications`))[0],
      intake: await stack.query(`SELECT id, status, closed_at, revision FROM intake.alerts ORDER BY id`),
    });
    const before = await state();
    const topics = ['alerts.v1', 'publications.v1', 'tasks.v1', 'tracking.v1'];
    const ends = await stack.admin(async (a) => {
      let n = 0;
      for (const t of topics) for (const p of await a.fetchTopicOffsets(stack.topic(t))) n += Number(p.high);
      return n;
    });
    const producer = stack.kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (const t of topics) {
      const current = await stack.admin(async (a) =>
        (await a.fetchTopicOffsets(stack.topic(t))).reduce((n, p) => n + Number(p.high), 0),
      );
      const messages = await stack.readTopic(stack.topic(t), { expect: current });
      await producer.send({
        topic: stack.topic(t),
        acks: -1,
        messages: messages.map(({ message }) => ({
          key: message.key,
          value: message.value,
          headers: message.headers,
        })),
      });
    }
    await producer.disconnect();
    // Every consumer group has taken in the duplicates (its inbox recognised each one).
    const groups: [string, string[]][] = [
      ['alerta-rosa.tracker', topics],
      ['alerta-rosa.intake', ['tracking.v1']],
      ['alerta-rosa.coordination', ['alerts.v1', 'publications.v1', 'tracking.v1']],
      ['alerta-rosa.dissemination', ['alerts.v1']],
    ];
    await waitFor(
      async () =>
        stack.admin(async (a) => {
          for (const [group, ts] of groups) {
            for (const o of await a.fetchOffsets({
              groupId: `${stack.topicPrefix}.${group}`,
              topics: ts.map((t) => stack.topic(t)),
            })) {
              const high = await a.fetchTopicOffsets(o.topic);
              for (const p of o.partitions)
                if (
                  Math.max(0, Number(p.offset)) < Number(high.find((h) => h.partition === p.partition)!.high)
                )
                  return false;
            }
          }
          return true;
        }),
      { timeoutMs: 90_000, what: `every consumer past the ${ends} redelivered messages` },
    );
    expect(await state()).toEqual(before);

    const { stdout } = await run(
      process.execPath,
      [
        '-r',
        join(__dirname, '../../infra/node/register-paths.js'),
        join(__dirname, '../../dist/apps/tracker/src/rebuild/rebuild.cli.js'),
      ],
      {
        cwd: join(__dirname, '../..'),
        env: {
          ...process.env,
          DATABASE_URL: stack.databaseUrl,
          KAFKA_TOPIC_PREFIX: stack.topicPrefix,
          KAFKA_BROKERS: stack.brokers.join(','),
          LOG_LEVEL: 'warn',
        },
      },
    );
    expect(stdout).toContain('REBUILD EQUAL');
  });

  it('lets no private field of the ficha (nor her name) into the CSV or PDF exports', async () => {
    const year = new Date().getUTCFullYear();
    const q = `from=${year - 1}-01-01&to=${year + 1}-01-01`;
    const get = async (path: string) => {
      const res = await fetch(`${stack.url('tracker')}/api/v1/committee/export/${path}?${q}`, {
        headers: stack.bearer('comite'),
      });
      expect(res.status).toBe(200);
      return Buffer.from(await res.arrayBuffer());
    };
    const alerts = (await get('alerts.csv')).toString('utf8');
    expect(alerts).toContain(life.folio);
    const tasks = (await get('tasks.csv')).toString('utf8');
    const dir = mkdtempSync(join(tmpdir(), 'ar-pdf-'));
    writeFileSync(join(dir, 'r.pdf'), await get('report.pdf'));
    const { stdout: pdf } = await run('pdftotext', [join(dir, 'r.pdf'), '-']);
    expect(pdf).toContain('Informe del periodo');
    const committee = JSON.stringify(
      (await stack.http('tracker', 'GET', `/api/v1/committee/alerts?${q}`)).body,
    );
    for (const [name, text] of Object.entries({ alerts, tasks, pdf, committee })) {
      for (const value of [...Object.values(PRIVATE), PUBLIC_NAME]) {
        expect({ name, leaked: text.includes(value) ? value : null }).toEqual({ name, leaked: null });
      }
    }
  });
});
