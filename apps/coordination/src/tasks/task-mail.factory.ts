import { MailKind } from '@alerta-rosa/contracts';
import { EntityManager } from 'typeorm';
import { AreaDirectory } from '../areas/area-directory';
import { AlertView, RenderedMail, TaskView } from '../mail/mail.templates';
import { rows } from './sql';
import { AlertRow, TaskRow } from './task.types';

export interface NewMail {
  id: string;
  kind: MailKind;
  alertId: string;
  taskId: string | null;
  areaId: string;
  recipients: string[];
  rendered: RenderedMail;
  photoUrl: string | null;
}

/** Records a mail to send (idempotent on its deterministic id); true when it is new. */
export async function insertMail(manager: EntityManager, mail: NewMail): Promise<boolean> {
  const inserted = await rows(
    manager,
    `INSERT INTO coordination.mails (id, kind, alert_id, task_id, area_id, recipients, subject, text_body, html_body, photo_url)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [
      mail.id,
      mail.kind,
      mail.alertId,
      mail.taskId,
      mail.areaId,
      mail.recipients,
      mail.rendered.subject,
      mail.rendered.text,
      mail.rendered.html,
      mail.photoUrl,
    ],
  );
  return inserted.length === 1;
}

/** Records several mails in one statement (idempotent on their ids). */
export async function insertMails(manager: EntityManager, mails: NewMail[]): Promise<void> {
  if (mails.length === 0) return;
  await manager.query(
    `INSERT INTO coordination.mails (id, kind, alert_id, task_id, area_id, recipients, subject, text_body, html_body, photo_url)
     SELECT id, kind, alert_id, task_id, area_id, ARRAY(SELECT jsonb_array_elements_text(recipients)), subject, text_body,
            html_body, photo_url
     FROM jsonb_to_recordset($1::jsonb) AS x(id text, kind text, alert_id uuid, task_id uuid, area_id text, recipients jsonb,
          subject text, text_body text, html_body text, photo_url text)
     ON CONFLICT (id) DO NOTHING`,
    [
      JSON.stringify(
        mails.map((mail) => ({
          id: mail.id,
          kind: mail.kind,
          alert_id: mail.alertId,
          task_id: mail.taskId,
          area_id: mail.areaId,
          recipients: mail.recipients,
          subject: mail.rendered.subject,
          text_body: mail.rendered.text,
          html_body: mail.rendered.html,
          photo_url: mail.photoUrl,
        })),
      ),
    ],
  );
}

export function alertView(alert: AlertRow, directory: AreaDirectory): AlertView {
  const f = alert.ficha;
  return {
    folio: alert.folio,
    version: alert.version,
    regionName: directory.regionName(alert.region_id),
    minor: alert.minor,
    ficha: {
      fullName: f.fullName,
      age: f.age,
      municipalityName: f.municipalityName,
      lastSeenAt: f.lastSeenAt,
      lastSeenPlace: f.lastSeenPlace ?? null,
      description: f.description ?? null,
      photoUrl: f.photoUrl ?? null,
      photoAltText: f.photoAltText ?? null,
    },
  };
}

export function taskView(task: TaskRow, ackUrl?: string): TaskView {
  return {
    title: task.title,
    instructions: task.instructions,
    areaName: task.area_name,
    ackDueAt: new Date(task.ack_due_at),
    completeDueAt: new Date(task.complete_due_at),
    ackUrl,
  };
}

/** Tasks by area, in the order given. */
export function groupByArea(tasks: TaskRow[]): Map<string, TaskRow[]> {
  const byArea = new Map<string, TaskRow[]>();
  for (const t of tasks) byArea.set(t.area_id, [...(byArea.get(t.area_id) ?? []), t]);
  return byArea;
}
