import { AccessTokenVerifier } from '@alerta-rosa/auth';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { AckLinkSigner } from '../../apps/coordination/src/ack/ack-link.signer';
import { AlertEventProducer } from '../support/alert-events';
import { SmtpSink } from '../support/smtp-sink';
import { TestStack, freePort, sleep, waitFor } from '../support/stack';

const AUTH_SECRET = 'coordination-test-auth-secret-0123456789abcdef';
const ACK_SECRET = 'coordination-test-ack-link-secret-0123456789ab';
// 0.005: a 10-minute acknowledgement deadline becomes 3 s, the chain's +10/+20 min become +3/+6 s.
const TIME_SCALE = 0.005;
const MINUTE = 60_000 * TIME_SCALE;

const MS_OAXACA = '20067'; // Oaxaca de Juárez: has a «Mujer Segura» unit, Valles Centrales
const NO_MS_MIXTECA = '20006'; // Asunción Nochixtlán: no unit, Mixteca

interface TaskRecord {
  id: string;
  step_id: string;
  area_id: string;
  state: string;
  pso_version: string;
  ack_due_at: Date;
}

describe('coordination: PSO tasks, e-mail, acknowledgement and escalation', () => {
  let stack: TestStack;
  let smtp: SmtpSink;
  let alerts: AlertEventProducer;
  const tokens = new AccessTokenVerifier(AUTH_SECRET);
  const bearer = (claims: Parameters<AccessTokenVerifier['sign']>[0]) => ({
    authorization: `Bearer ${tokens.sign(claims, 3_600)}`,
  });
  const areaUser = (areaId: string) => bearer({ sub: `user-${areaId}`, role: 'area', areaId });

  const tasksOf = (alertId: string) =>
    stack.query<TaskRecord>(`SELECT * FROM coordination.tasks WHERE alert_id = $1 ORDER BY step_order`, [
      alertId,
    ]);
  const waitTasks = (alertId: string, n: number) =>
    waitFor(
      async () => {
        const t = await tasksOf(alertId);
        return t.length === n ? t : undefined;
      },
      { what: `${n} tasks of ${alertId}` },
    );
  const waitMails = (folio: string, kind: string, n: number, timeoutMs = 20_000) =>
    waitFor(async () => (smtp.forFolio(folio, kind).length >= n ? smtp.forFolio(folio, kind) : undefined), {
      timeoutMs,
      what: `${n} ${kind} mails of ${folio} (got ${smtp.forFolio(folio, kind).length})`,
    });

  beforeAll(async () => {
    stack = await TestStack.create();
    smtp = new SmtpSink(await freePort());
    await smtp.start();
    await stack.start('coordination', {
      AUTH_JWT_SECRET: AUTH_SECRET,
      ACK_LINK_SECRET: ACK_SECRET,
      SMTP_URL: smtp.url,
      PSO_TIME_SCALE: String(TIME_SCALE),
      MAIL_BACKOFF_MS: '200',
      QUEUE_LOCK_MS: '3000',
      DISPATCH_POLL_MS: '1000',
    });
    await stack.start('tracker');
    alerts = new AlertEventProducer(stack.kafka, stack.topic('alerts.v1'));
    await alerts.connect();
  });

  afterAll(async () => {
    await alerts?.disconnect();
    await stack?.teardown();
    await smtp?.stop();
  });

  it('creates the PSO tasks and mails of a «Mujer Segura» municipality, and no step 6 where there is no unit', async () => {
    const withUnit = await alerts.activate({
      municipalityCode: MS_OAXACA,
      municipalityName: 'Oaxaca de Juárez',
    });
    const withoutUnit = await alerts.activate({
      municipalityCode: NO_MS_MIXTECA,
      municipalityName: 'Asunción Nochixtlán',
      age: 15,
    });

    const a = await waitTasks(withUnit.alertId, 7);
    expect(a.map((t) => [t.step_id, t.area_id])).toEqual([
      ['comunicacion-social-publicaciones', 'comunicacion-social'],
      ['c4-difusion-radio-camaras', 'c4'],
      ['policia-estatal-operativo-busqueda', 'policia-estatal-valles-centrales'],
      ['policia-vial-puntos-control', 'policia-vial'],
      ['policia-auxiliar-sitios-comerciales', 'policia-auxiliar'],
      ['mujer-segura-busqueda-local', 'mujer-segura-oaxaca-de-juarez'],
      ['enlace-fgeo-ministerio-publico', 'enlace-fgeo'],
    ]);
    expect(new Set(a.map((t) => t.pso_version))).toEqual(new Set(['2018.1']));
    expect(a.every((t) => t.state === 'assigned')).toBe(true);
    // Deadlines are relative to activation (10 min for step 1, scaled).
    expect(new Date(a[0].ack_due_at).getTime()).toBe(withUnit.activatedAt.getTime() + 10 * MINUTE);

    const b = await waitTasks(withoutUnit.alertId, 6);
    expect(b.map((t) => t.step_id)).not.toContain('mujer-segura-busqueda-local');
    expect(b.find((t) => t.step_id === 'policia-estatal-operativo-busqueda')!.area_id).toBe(
      'policia-estatal-mixteca',
    );

    const mailsA = await waitMails(withUnit.folio, 'assignment', 7);
    const mailsB = await waitMails(withoutUnit.folio, 'assignment', 6);
    expect(mailsA).toHaveLength(7);
    expect(mailsB).toHaveLength(6);
    expect(mailsB.flatMap((m) => m.envelopeTo).some((to) => to.startsWith('mujersegura.'))).toBe(false);

    const unitMail = mailsA.find((m) => m.areaId === 'mujer-segura-oaxaca-de-juarez')!;
    expect(unitMail.envelopeTo).toEqual(['mujersegura.oaxacadejuarez@ssp-oaxaca.example']);
    expect(unitMail.parsed.subject).toBe(
      `[Alerta Rosa ${withUnit.folio}] Tarea asignada: Búsqueda local y contacto con la familia`,
    );
    const text = unitMail.parsed.text!;
    expect(text).toContain('Daniela Ruiz Santiago');
    expect(text).toContain('Oaxaca de Juárez (región Valles Centrales)');
    expect(text).toContain('establezca contacto con la familia');
    // The deadline is shown in Oaxaca time.
    const due = a.find((t) => t.area_id === 'mujer-segura-oaxaca-de-juarez')!.ack_due_at;
    const hhmm = new Intl.DateTimeFormat('es-MX', {
      timeZone: 'America/Mexico_City',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(due));
    expect(text).toMatch(new RegExp(`Confirme la recepción antes de: .*${hhmm} h \\(hora de Oaxaca\\)`));
    expect(unitMail.parsed.html).toContain('Confirmar recepción');
    expect(unitMail.parsed.html).toMatch(
      /href="http:\/\/127\.0\.0\.1:\d+\/api\/v1\/task-links\/acknowledge\?token=[\w-]+\.[\w-]+"/,
    );
    // The minor is flagged in the mails of the other alert.
    expect(mailsB[0].parsed.text).toContain('15 años (menor de edad: también Alerta Amber)');

    const assigned = await stack.query(
      `SELECT count(*)::int AS n FROM coordination.outbox WHERE message_key = $1 AND event_type = 'TaskAssigned'`,
      [withUnit.alertId],
    );
    expect(assigned[0].n).toBe(7);
  });

  it('does not escalate a task acknowledged in time, and escalates an unacknowledged one through the whole chain once, in order', async () => {
    const alert = await alerts.activate({
      municipalityCode: MS_OAXACA,
      municipalityName: 'Oaxaca de Juárez',
    });
    const tasks = await waitTasks(alert.alertId, 7);
    const acked = tasks.find((t) => t.area_id === 'policia-estatal-valles-centrales')!;
    const silent = tasks.find((t) => t.area_id === 'policia-vial')!; // same 20-minute deadline
    const ack = await stack.http(
      'coordination',
      'POST',
      `/api/v1/tasks/${acked.id}/acknowledge`,
      undefined,
      areaUser(acked.area_id),
    );
    expect(ack.status).toBe(200);
    expect(ack.body.state).toBe('acknowledged');
    expect(Date.parse(ack.body.acknowledgedAt)).toBeLessThan(new Date(acked.ack_due_at).getTime());

    const chain = await waitFor(
      async () => {
        const rows = await stack.query(
          `SELECT * FROM coordination.escalations WHERE task_id = $1 ORDER BY level`,
          [silent.id],
        );
        return rows.length === 3 ? rows : undefined;
      },
      { timeoutMs: 30_000, what: 'three escalations of the silent task' },
    );
    await waitFor(
      async () => smtp.received.filter((m) => m.taskId === silent.id && m.kind === 'escalation').length === 3,
      {
        what: 'three escalation mails',
      },
    );
    await sleep(1_500); // a doubled level would show up now

    expect(chain.map((e: any) => [e.level, e.target])).toEqual([
      [1, 'area_supervisor'],
      [2, 'duty_officer'],
      [3, 'direccion'],
    ]);
    const times = chain.map((e: any) => new Date(e.escalated_at).getTime());
    expect(times).toEqual([...times].sort((x, y) => x - y));
    chain.forEach((e: any, i: number) => {
      expect(new Date(e.escalated_at).getTime()).toBeGreaterThanOrEqual(
        new Date(silent.ack_due_at).getTime() + i * 10 * MINUTE,
      );
    });
    const mails = smtp.received.filter((m) => m.taskId === silent.id && m.kind === 'escalation');
    expect(mails.map((m) => m.envelopeTo)).toEqual([
      ['comandancia.vial@ssp-oaxaca.example'],
      ['guardia.unidadgenero@ssp-oaxaca.example'],
      ['direccion.unidadgenero@ssp-oaxaca.example'],
    ]);
    expect(mails[0].parsed.subject).toContain('ESCALAMIENTO nivel 1');
    const events = await stack.query(
      `SELECT payload FROM coordination.outbox WHERE event_type = 'TaskEscalated' AND payload::jsonb -> 'payload' ->> 'taskId' = $1`,
      [silent.id],
    );
    expect(events.map((e: any) => JSON.parse(e.payload).payload.level).sort()).toEqual([1, 2, 3]);

    expect(
      await stack.query(`SELECT * FROM coordination.escalations WHERE task_id = $1`, [acked.id]),
    ).toHaveLength(0);
    expect(smtp.received.filter((m) => m.taskId === acked.id && m.kind === 'escalation')).toHaveLength(0);

    // Each escalation step is an event on the alert's timeline (outbox → tasks.v1 → tracker).
    const eventIds = (
      await stack.query(
        `SELECT event_id FROM coordination.outbox WHERE event_type IN ('TaskEscalated', 'TaskAcknowledged')
         AND payload::jsonb -> 'payload' ->> 'taskId' = ANY($1)`,
        [[silent.id, acked.id]],
      )
    ).map((r: any) => r.event_id);
    expect(eventIds).toHaveLength(4);
    const timeline = await stack.timelineWhere(alert.alertId, (entries) =>
      eventIds.every((id: string) => entries.some((e) => e.eventId === id)),
    );
    // The committee reads them in Spanish, in the order of the chain.
    const escalations = timeline.entries
      .filter((e: any) => e.type === 'TaskEscalated' && e.details.taskId === silent.id)
      .map((e: any) => e.label);
    expect(escalations).toEqual([
      expect.stringMatching(/^Escalamiento nivel 1 a supervisión del área/),
      expect.stringMatching(/^Escalamiento nivel 2 a oficial de guardia de la Unidad de Género/),
      expect.stringMatching(/^Escalamiento nivel 3 a Dirección/),
    ]);
  });

  it('accepts the acknowledge link once, and refuses it reused, forged or expired', async () => {
    const alert = await alerts.activate({
      municipalityCode: NO_MS_MIXTECA,
      municipalityName: 'Asunción Nochixtlán',
    });
    const [mail] = await waitFor(
      async () => {
        const m = smtp.forFolio(alert.folio, 'assignment').filter((x) => x.areaId === 'comunicacion-social');
        return m.length ? m : undefined;
      },
      { what: 'assignment mail of comunicación social' },
    );
    const link = mail.parsed.text!.match(/(http:\/\/\S+\/api\/v1\/task-links\/acknowledge\?token=\S+)/)![1];
    const path = link.replace(/^http:\/\/[^/]+/, '');
    const token = new URL(link).searchParams.get('token')!;

    // Opening the link (a phone, a mail scanner) shows the task and a button; it does not acknowledge.
    const page = await stack.http('coordination', 'GET', path, undefined, { accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('Confirmar recepción');
    expect(page.body).toContain('<form method="post"');
    const [before] = await stack.query(`SELECT state FROM coordination.tasks WHERE id = $1`, [mail.taskId]);
    expect(before.state).toBe('assigned');

    const first = await stack.http('coordination', 'POST', path, undefined, { accept: 'application/json' });
    expect(first.status).toBe(200);
    expect(first.body.state).toBe('acknowledged');
    const [after] = await stack.query(
      `SELECT state, acknowledged_via FROM coordination.tasks WHERE id = $1`,
      [mail.taskId],
    );
    expect(after).toEqual({ state: 'acknowledged', acknowledged_via: 'link' });

    const again = await stack.http('coordination', 'POST', path, undefined, { accept: 'application/json' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ACK_LINK_USED');

    // A second task of the same alert, to try the refused links against.
    const tasks = await tasksOf(alert.alertId);
    const other = tasks.find((t) => t.area_id === 'c4')!;
    const [body, sig] = token.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const swapped = Buffer.from(JSON.stringify({ ...claims, t: other.id })).toString('base64url');
    const forged = await stack.http(
      'coordination',
      'POST',
      `/api/v1/task-links/acknowledge?token=${swapped}.${sig}`,
    );
    expect(forged.status).toBe(400);
    expect(forged.body.code).toBe('ACK_LINK_INVALID');
    const foreignKey = new AckLinkSigner('some-other-secret-that-is-long-enough-0000').issue(other.id, 3_600);
    expect(
      (await stack.http('coordination', 'POST', `/api/v1/task-links/acknowledge?token=${foreignKey}`)).body
        .code,
    ).toBe('ACK_LINK_INVALID');
    const expired = new AckLinkSigner(ACK_SECRET).issue(other.id, 60, Date.now() - 120_000);
    const late = await stack.http(
      'coordination',
      'POST',
      `/api/v1/task-links/acknowledge?token=${expired}`,
      undefined,
      {
        accept: 'text/html',
      },
    );
    expect(late.status).toBe(410);
    expect(late.body).toContain('El enlace venció');
    expect(
      (await stack.http('coordination', 'POST', '/api/v1/task-links/acknowledge?token=garbage')).body.code,
    ).toBe('ACK_LINK_INVALID');
    const [untouched] = await stack.query(`SELECT state FROM coordination.tasks WHERE id = $1`, [other.id]);
    expect(untouched.state).toBe('assigned');

    // A valid link for that task still works (the refusals consumed nothing).
    const valid = new AckLinkSigner(ACK_SECRET).issue(other.id, 60);
    expect(
      (await stack.http('coordination', 'POST', `/api/v1/task-links/acknowledge?token=${valid}`)).status,
    ).toBe(200);
  });

  it('on update mails the areas with open tasks; on deactivation cancels tasks and pending escalations and sends one stand-down per area', async () => {
    const alert = await alerts.activate({
      municipalityCode: MS_OAXACA,
      municipalityName: 'Oaxaca de Juárez',
    });
    const tasks = await waitTasks(alert.alertId, 7);
    const c4 = tasks.find((t) => t.area_id === 'c4')!;
    const user = areaUser('c4');
    expect(
      (await stack.http('coordination', 'POST', `/api/v1/tasks/${c4.id}/acknowledge`, undefined, user))
        .status,
    ).toBe(200);
    expect(
      (await stack.http('coordination', 'POST', `/api/v1/tasks/${c4.id}/complete`, undefined, user)).status,
    ).toBe(200);

    await alerts.update(alert.alertId, { description: 'Se le vio por última vez con una mochila roja.' });
    const updates = await waitMails(alert.folio, 'update', 6);
    expect(updates.map((m) => m.areaId).sort()).toEqual(
      tasks
        .filter((t) => t.area_id !== 'c4')
        .map((t) => t.area_id)
        .sort(),
    );
    expect(updates[0].parsed.text).toContain('mochila roja');

    await alerts.deactivate(alert.alertId, 'localizada_con_vida');
    await waitFor(
      async () => (await tasksOf(alert.alertId)).filter((t) => t.state === 'cancelled').length === 6,
      {
        what: 'six cancelled tasks',
      },
    );
    const final = await tasksOf(alert.alertId);
    expect(final.find((t) => t.id === c4.id)!.state).toBe('done');
    // Timers of cancelled tasks are removed from the queue.
    await waitFor(
      async () => {
        const r = await stack.query(
          `SELECT count(*)::int AS n FROM coordination.tasks WHERE alert_id = $1 AND timers <> 'cleared'`,
          [alert.alertId],
        );
        return r[0].n === 0;
      },
      { what: 'timers cleared' },
    );
    const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
      maxRetriesPerRequest: null,
    });
    const queue = new Queue('coordination-escalation', { connection: redis, prefix: stack.topicPrefix });
    try {
      for (const t of final) {
        for (const level of [1, 2, 3]) {
          const job = await queue.getJob(`esc-${t.id}-l${level}`);
          const state = job ? await job.getState() : 'absent';
          expect({
            task: t.step_id,
            level,
            state: ['absent', 'completed', 'unknown'].includes(state) ? 'not pending' : state,
          }).toEqual({
            task: t.step_id,
            level,
            state: 'not pending',
          });
        }
      }
    } finally {
      await queue.close();
      redis.disconnect();
    }
    const escalationsAtStandDown = (
      await stack.query(
        `SELECT count(*)::int AS n FROM coordination.escalations e JOIN coordination.tasks t ON t.id = e.task_id WHERE t.alert_id = $1`,
        [alert.alertId],
      )
    )[0].n;

    const standDowns = await waitMails(alert.folio, 'stand_down', 7);
    // Past the end of every escalation chain of this alert: nothing more fires, nothing is repeated.
    const chainEnd = alert.activatedAt.getTime() + (30 + 20) * MINUTE;
    await sleep(Math.max(0, chainEnd - Date.now()) + 1_500);
    const escalationsAfter = (
      await stack.query(
        `SELECT count(*)::int AS n FROM coordination.escalations e JOIN coordination.tasks t ON t.id = e.task_id WHERE t.alert_id = $1`,
        [alert.alertId],
      )
    )[0].n;
    expect(escalationsAfter).toBe(escalationsAtStandDown);
    expect(smtp.forFolio(alert.folio, 'stand_down')).toHaveLength(7);
    expect(new Set(standDowns.map((m) => m.areaId)).size).toBe(7);
    expect(standDowns[0].parsed.subject).toBe(
      `[Alerta Rosa ${alert.folio}] Alerta desactivada: suspender acciones`,
    );
    expect(standDowns[0].parsed.text).toContain('localizada con vida');
    const cancelledEvents = await stack.query(
      `SELECT count(*)::int AS n FROM coordination.outbox WHERE message_key = $1 AND event_type = 'TaskCancelled'`,
      [alert.alertId],
    );
    expect(cancelledEvents[0].n).toBe(6);
  });

  it('lets an area user see and change only its own area’s tasks', async () => {
    const alert = await alerts.activate({
      municipalityCode: NO_MS_MIXTECA,
      municipalityName: 'Asunción Nochixtlán',
    });
    const tasks = await waitTasks(alert.alertId, 6);
    const mine = tasks.find((t) => t.area_id === 'policia-auxiliar')!;
    const theirs = tasks.find((t) => t.area_id === 'enlace-fgeo')!;
    const me = areaUser('policia-auxiliar');

    const list = await stack.http(
      'coordination',
      'GET',
      `/api/v1/tasks?alertId=${alert.alertId}`,
      undefined,
      me,
    );
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: any) => t.id)).toEqual([mine.id]);
    const all = await stack.http('coordination', 'GET', '/api/v1/tasks', undefined, me);
    expect(all.body.items.every((t: any) => t.areaId === 'policia-auxiliar')).toBe(true);

    for (const [method, suffix] of [
      ['GET', ''],
      ['POST', '/acknowledge'],
      ['POST', '/complete'],
    ] as const) {
      const res = await stack.http(
        'coordination',
        method,
        `/api/v1/tasks/${theirs.id}${suffix}`,
        undefined,
        me,
      );
      expect({ method, suffix, status: res.status, code: res.body.code }).toEqual({
        method,
        suffix,
        status: 404,
        code: 'TASK_NOT_FOUND',
      });
    }
    const note = await stack.http(
      'coordination',
      'POST',
      `/api/v1/tasks/${theirs.id}/notes`,
      { text: 'intento' },
      me,
    );
    expect([note.status, note.body.code]).toEqual([404, 'TASK_NOT_FOUND']);
    const [still] = await stack.query(`SELECT state FROM coordination.tasks WHERE id = $1`, [theirs.id]);
    expect(still.state).toBe('assigned');
    expect(
      await stack.query(`SELECT * FROM coordination.task_notes WHERE task_id = $1`, [theirs.id]),
    ).toHaveLength(0);

    // Committee and operadora read every area's tasks but cannot act on them.
    const comite = bearer({ sub: 'comite-1', role: 'comite' });
    const seen = await stack.http(
      'coordination',
      'GET',
      `/api/v1/tasks?alertId=${alert.alertId}`,
      undefined,
      comite,
    );
    expect(seen.body.items).toHaveLength(6);
    const refused = await stack.http(
      'coordination',
      'POST',
      `/api/v1/tasks/${theirs.id}/acknowledge`,
      undefined,
      comite,
    );
    expect([refused.status, refused.body.code]).toEqual([403, 'FORBIDDEN']);
    expect((await stack.http('coordination', 'GET', '/api/v1/tasks')).status).toBe(401);

    // The own task goes through its states.
    const notYet = await stack.http(
      'coordination',
      'POST',
      `/api/v1/tasks/${mine.id}/complete`,
      undefined,
      me,
    );
    expect([notYet.status, notYet.body.code]).toEqual([409, 'TASK_NOT_ACKNOWLEDGED']);
    expect(
      (await stack.http('coordination', 'POST', `/api/v1/tasks/${mine.id}/acknowledge`, undefined, me)).body
        .state,
    ).toBe('acknowledged');
    const added = await stack.http(
      'coordination',
      'POST',
      `/api/v1/tasks/${mine.id}/notes`,
      { text: 'Guardias alertados en 12 sucursales.' },
      me,
    );
    expect(added.status).toBe(201);
    expect(added.body.task.state).toBe('in_progress');
    expect(
      (await stack.http('coordination', 'POST', `/api/v1/tasks/${mine.id}/complete`, undefined, me)).body
        .state,
    ).toBe('done');
    const closed = await stack.http(
      'coordination',
      'POST',
      `/api/v1/tasks/${mine.id}/complete`,
      undefined,
      me,
    );
    expect([closed.status, closed.body.code]).toEqual([409, 'TASK_CLOSED']);
    const detail = await stack.http('coordination', 'GET', `/api/v1/tasks/${mine.id}`, undefined, me);
    expect(detail.body.notes.map((n: any) => n.text)).toEqual(['Guardias alertados en 12 sucursales.']);
    const types = await stack.query(
      `SELECT event_type FROM coordination.outbox WHERE payload::jsonb -> 'payload' ->> 'taskId' = $1 ORDER BY id`,
      [mine.id],
    );
    expect(types.map((t: any) => t.event_type).filter((t: string) => !t.startsWith('TaskMail'))).toEqual([
      'TaskAssigned',
      'TaskAcknowledged',
      'TaskProgressReported',
      'TaskCompleted',
    ]);
  });

  it('lets the administrator change an area’s mailbox and the duty officer of the shift: the next mails and escalations go to them, and each change is kept', async () => {
    const admin = bearer({ sub: 'admin-1', role: 'admin' });
    const original = await stack.http('coordination', 'GET', '/api/v1/areas', undefined, admin);
    const vial = original.body.areas.find((a: any) => a.id === 'policia-vial');
    const duty = original.body.dutyOfficer;

    // Refused: other roles, bad addresses, unknown areas and entries.
    const asOperator = bearer({ sub: 'op-1', role: 'operadora' });
    expect(
      (
        await stack.http(
          'coordination',
          'PUT',
          '/api/v1/areas/policia-vial/contacts',
          { emails: ['x@ssp-oaxaca.example'] },
          asOperator,
        )
      ).status,
    ).toBe(403);
    const bad = await stack.http(
      'coordination',
      'PUT',
      '/api/v1/areas/policia-vial/contacts',
      { emails: ['no es un correo'] },
      admin,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect(bad.body.fields.map((f: any) => f.path)).toEqual(['emails.0']);
    expect(
      (
        await stack.http(
          'coordination',
          'PUT',
          '/api/v1/areas/no-existe/contacts',
          { emails: ['x@ssp-oaxaca.example'] },
          admin,
        )
      ).body.code,
    ).toBe('AREA_NOT_FOUND');
    expect(
      (
        await stack.http(
          'coordination',
          'PUT',
          '/api/v1/directory/otra-cosa',
          { name: 'X', emails: ['x@ssp-oaxaca.example'] },
          admin,
        )
      ).body.code,
    ).toBe('DIRECTORY_ENTRY_NOT_FOUND');

    const changed = await stack.http(
      'coordination',
      'PUT',
      '/api/v1/areas/policia-vial/contacts',
      { emails: ['Guardia.Vial@ssp-oaxaca.example'] },
      admin,
    );
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id: 'policia-vial', emails: ['guardia.vial@ssp-oaxaca.example'] });
    expect(changed.body.supervisor).toEqual(vial.supervisor);
    const shift = await stack.http(
      'coordination',
      'PUT',
      '/api/v1/directory/duty-officer',
      { name: 'Oficial de guardia, turno nocturno', emails: ['guardia.nocturna@ssp-oaxaca.example'] },
      admin,
    );
    expect(shift.status).toBe(200);

    const alert = await alerts.activate({
      municipalityCode: NO_MS_MIXTECA,
      municipalityName: 'Asunción Nochixtlán',
    });
    const [assigned] = await waitFor(
      async () => {
        const m = smtp.forFolio(alert.folio, 'assignment').filter((x) => x.areaId === 'policia-vial');
        return m.length ? m : undefined;
      },
      { what: 'the assignment mail of policía vial' },
    );
    expect(assigned.envelopeTo).toEqual(['guardia.vial@ssp-oaxaca.example']);
    // Nobody acknowledges: the second level of the chain reaches the duty officer now on shift.
    const toDuty = await waitFor(
      async () => {
        const m = smtp
          .forFolio(alert.folio, 'escalation')
          .filter((x) => x.envelopeTo.includes('guardia.nocturna@ssp-oaxaca.example'));
        return m.length ? m : undefined;
      },
      { timeoutMs: 60_000, what: 'an escalation to the new duty officer' },
    );
    expect(toDuty[0].parsed.text).toContain('Oficial de guardia, turno nocturno');
    expect(smtp.forFolio(alert.folio, 'escalation').some((x) => x.envelopeTo.includes(duty.emails[0]))).toBe(
      false,
    );

    const log = await stack.http(
      'coordination',
      'GET',
      '/api/v1/directory/changes',
      undefined,
      bearer({ sub: 'comite-1', role: 'comite' }),
    );
    expect(log.status).toBe(200);
    expect(log.body.changes.slice(0, 2).map((c: any) => [c.entry, c.changedBy])).toEqual([
      ['@duty-officer', 'admin-1'],
      ['policia-vial', 'admin-1'],
    ]);
    expect(log.body.changes[1].before.emails).toEqual(vial.emails);
    expect(log.body.changes[1].after.emails).toEqual(['guardia.vial@ssp-oaxaca.example']);

    // Restored for whatever runs next.
    await stack.http(
      'coordination',
      'PUT',
      '/api/v1/areas/policia-vial/contacts',
      { emails: vial.emails },
      admin,
    );
    await stack.http('coordination', 'PUT', '/api/v1/directory/duty-officer', duty, admin);
    await alerts.deactivate(alert.alertId, 'cancelada');
  });
});
