import { MigrationInterface, QueryRunner } from 'typeorm';
import { PHOTO_STILL_UP } from '../projection/projector';

const secs = (from: string, to: string) => `EXTRACT(EPOCH FROM (${to} - ${from}))::float8`;
const LOCATED = `outcome IN ('localizada_con_vida', 'localizada_sin_vida')`;
const publication = (column: string) => secs('activated_at', column);

/**
 * Each alert's durations (seconds) as columns of its row, kept by PostgreSQL whenever the projection
 * changes the row (stored generated columns), so the period's figures read them instead of computing
 * every duration of every alert on each request; and `photo_up`, the alert's posts that carried her photo
 * (or may exist) and are not withdrawn, kept by the projector after each change to her publications. Task
 * durations likewise. NULL means the figure does not apply to the alert; why is told by the conditions in
 * committee.repository.ts (ALERT_DURATION_SQL).
 */
export const ALERT_DURATION_COLUMNS: [column: string, expression: string][] = [
  ['d_reported_to_activated', secs('reported_at', 'activated_at')],
  ['d_activated_to_first_publication', publication('first_post_at')],
  ['d_activated_to_last_publication', publication('last_post_at')],
  ['d_activated_to_first_publication_x', publication('first_post_x')],
  ['d_activated_to_last_publication_x', publication('last_post_x')],
  ['d_activated_to_first_publication_facebook', publication('first_post_facebook')],
  ['d_activated_to_last_publication_facebook', publication('last_post_facebook')],
  ['d_activated_to_first_publication_webhook', publication('first_post_webhook')],
  ['d_activated_to_last_publication_webhook', publication('last_post_webhook')],
  ['d_activated_to_located', `CASE WHEN ${LOCATED} THEN ${secs('activated_at', 'deactivated_at')} END`],
  ['d_reported_to_located', `CASE WHEN ${LOCATED} THEN ${secs('reported_at', 'deactivated_at')} END`],
  [
    'd_located_to_last_photo_withdrawn',
    `CASE WHEN ${LOCATED} AND photo_posts > 0 AND photo_up = 0 AND last_withdrawn_at IS NOT NULL
          THEN ${secs('deactivated_at', 'last_withdrawn_at')} END`,
  ],
  [
    'd_deactivated_to_closed',
    `CASE WHEN closed_at IS NOT NULL AND deactivated_at IS NOT NULL THEN ${secs('deactivated_at', 'closed_at')} END`,
  ],
];

export const TASK_DURATION_COLUMNS: [column: string, expression: string][] = [
  ['d_acknowledgement', secs('assigned_at', 'acknowledged_at')],
  ['d_completion', secs('assigned_at', 'completed_at')],
];

export class TrackerFigureColumns1764700000300 implements MigrationInterface {
  name = 'TrackerFigureColumns1764700000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tracker.alerts ADD COLUMN photo_up integer NOT NULL DEFAULT 0`);
    await q.query(
      `UPDATE tracker.alerts a SET photo_up = c.n
         FROM (SELECT p.alert_id, count(*)::int AS n FROM tracker.publications p WHERE ${PHOTO_STILL_UP}
                GROUP BY p.alert_id) c
        WHERE a.alert_id = c.alert_id`,
    );
    await q.query(
      `ALTER TABLE tracker.alerts ${ALERT_DURATION_COLUMNS.map(
        ([c, e]) => `ADD COLUMN ${c} float8 GENERATED ALWAYS AS (${e}) STORED`,
      ).join(', ')}`,
    );
    await q.query(
      `ALTER TABLE tracker.tasks ${TASK_DURATION_COLUMNS.map(
        ([c, e]) => `ADD COLUMN ${c} float8 GENERATED ALWAYS AS (${e}) STORED`,
      ).join(', ')}`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE tracker.tasks ${TASK_DURATION_COLUMNS.map(([c]) => `DROP COLUMN ${c}`).join(', ')}`,
    );
    await q.query(
      `ALTER TABLE tracker.alerts ${ALERT_DURATION_COLUMNS.map(([c]) => `DROP COLUMN ${c}`).join(', ')}`,
    );
    await q.query(`ALTER TABLE tracker.alerts DROP COLUMN photo_up`);
  }
}
